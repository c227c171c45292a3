//! Low-energy constants of the leading-order pionless Hamiltonian of Adams, Carleo, Lovato
//! and Rocco (PRL 127, 022502 (2021)) for Λ = 2, 4, 6 fm⁻¹, shipped with their sources in
//! `data/nuclear_pionless_lo.csv` (copied from the project's reference collection).

use serde::{Deserialize, Serialize};

use crate::reference::split_csv;

const TABLE: &str = include_str!("../../data/nuclear_pionless_lo.csv");

/// C1, C2, D0 in MeV.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Lecs {
    /// Central two-body strength C1.
    pub c1: f64,
    /// Spin-spin two-body strength C2 (of σ_i·σ_j).
    pub c2: f64,
    /// Three-body strength D0.
    pub d0: f64,
}

/// The published constants for cutoff Λ (fm⁻¹), if the table has them.
pub fn published(cutoff: f64) -> Option<Lecs> {
    let value = |prefix: &str| {
        TABLE.lines().skip(1).find_map(|line| {
            let f = split_csv(line);
            let lambda = f.get(1)?.parse::<f64>().ok()?;
            (f[0].starts_with(prefix) && (lambda - cutoff).abs() < 1e-9)
                .then(|| f.get(2)?.parse::<f64>().ok())
                .flatten()
        })
    };
    Some(Lecs {
        c1: value("C1 ")?,
        c2: value("C2 ")?,
        d0: value("D0 ")?,
    })
}

/// The cutoffs with published constants, e.g. "2, 4, 6".
pub fn published_cutoffs() -> String {
    [2.0, 4.0, 6.0]
        .into_iter()
        .filter(|&l| published(l).is_some())
        .map(|l| l.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_gives_the_constants() {
        let l4 = published(4.0).unwrap();
        assert_eq!((l4.c1, l4.c2, l4.d0), (-487.6128, -17.5515, 677.79890));
        // Channel check from an independent code: C(3S1) = C1 + C2.
        assert!((l4.c1 + l4.c2 - (-505.1643)).abs() < 1e-9);
        assert_eq!(published(2.0).unwrap().c1, -133.3431);
        assert!(published(3.0).is_none());
        assert_eq!(published_cutoffs(), "2, 4, 6");
    }
}
