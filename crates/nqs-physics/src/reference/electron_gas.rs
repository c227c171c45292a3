//! Reference energies of the 3D electron gas in a periodic cube (total energies in Hartree,
//! `data/electron_gas.csv`, copied from the project's reference collection with the source
//! of every value): the analytic Hartree–Fock energies of the 7 + 7 closed shell at
//! r_s = 1, 2, 5, and QMCPACK's N = 14, r_s = 5 test-suite values (HF, Slater–Jastrow and
//! backflow VMC, fixed-node DMC).

use super::{Reference, split_csv};

const TABLE: &str = include_str!("../../data/electron_gas.csv");

fn rows(n_electrons: usize, rs: f64) -> impl Iterator<Item = Reference> {
    TABLE.lines().skip(1).filter_map(move |line| {
        let f = split_csv(line);
        let n: usize = f.first()?.parse().ok()?;
        let r: f64 = f.get(1)?.parse().ok()?;
        if n != n_electrons || (r - rs).abs() > 1e-9 {
            return None;
        }
        Some(Reference {
            energy: f.get(3)?.parse().ok()?,
            uncertainty: f.get(4)?.parse().unwrap_or(0.0),
            method: f[2].clone(),
            source: f.get(5)?.clone(),
        })
    })
}

fn with_method(n_electrons: usize, rs: f64, prefix: &str) -> Option<Reference> {
    rows(n_electrons, rs).find(|r| r.method.starts_with(prefix))
}

/// The recommended comparison for (N, r_s): fixed-node DMC where known, else the analytic
/// Hartree–Fock energy (an upper bound that any Jastrow factor must beat).
pub fn best(n_electrons: usize, rs: f64) -> Option<Reference> {
    with_method(n_electrons, rs, "DMC").or_else(|| hartree_fock(n_electrons, rs))
}

/// The analytic Hartree–Fock energy (the plane-wave determinant alone).
pub fn hartree_fock(n_electrons: usize, rs: f64) -> Option<Reference> {
    with_method(
        n_electrons,
        rs,
        "Hartree-Fock (plane-wave determinant; analytic)",
    )
}

/// Slater–Jastrow VMC (QMCPACK), where known.
pub fn slater_jastrow_vmc(n_electrons: usize, rs: f64) -> Option<Reference> {
    with_method(n_electrons, rs, "Slater-Jastrow VMC")
}

/// Slater–Jastrow–backflow VMC (QMCPACK), where known.
pub fn backflow_vmc(n_electrons: usize, rs: f64) -> Option<Reference> {
    with_method(n_electrons, rs, "Slater-Jastrow-backflow VMC")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_the_benchmark_values() {
        assert_eq!(best(14, 5.0).unwrap().energy, -1.110199);
        assert_eq!(best(14, 2.0).unwrap().energy, 0.322546);
        assert_eq!(hartree_fock(14, 1.0).unwrap().energy, 8.491476);
        assert_eq!(slater_jastrow_vmc(14, 5.0).unwrap().energy, -1.073323);
        assert_eq!(backflow_vmc(14, 5.0).unwrap().uncertainty, 0.000025);
        assert!(best(14, 3.0).is_none());
    }
}
