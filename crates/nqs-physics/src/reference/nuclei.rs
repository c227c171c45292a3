//! Energies of ²H, ³H and ⁴He for the leading-order pionless Hamiltonian (Λ = 2, 4, 6 fm⁻¹),
//! computed for nqs with explicitly correlated Gaussians (`data/nuclear_ecg.csv`, copied
//! from the project's reference collection with its notes): exact for ²H, converged in the
//! spatially symmetric sector for ³H and ⁴He, and the unrestricted (full spin-isospin) ³H.
//! Convention A is ħc = 197.327 MeV fm, M_N = 938.95 MeV; B is ħc = 197.32697, M_N = 938.91858.

use super::{Reference, split_csv};

const TABLE: &str = include_str!("../../data/nuclear_ecg.csv");

/// Which spin-isospin sector a value belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sector {
    /// Spatially symmetric function times a fully antisymmetric spin-isospin state.
    Symmetric,
    /// No restriction.
    Full,
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct NuclearReference {
    /// The energy with its method and provenance.
    pub reference: Reference,
    /// ⟨T⟩ (MeV), where given.
    pub kinetic: Option<f64>,
    /// ⟨V2⟩ (MeV), where given.
    pub v2: Option<f64>,
    /// ⟨V3⟩ (MeV), where given.
    pub v3: Option<f64>,
    /// Point-nucleon rms radius about the centre of mass (fm), where given.
    pub rms_point: Option<f64>,
}

/// The value for `nucleus` ("2H", "3H", "4He"), cutoff Λ, convention 'A' or 'B' and sector.
/// ²H has no restriction, so its exact value answers both sectors.
pub fn lookup(
    nucleus: &str,
    cutoff: f64,
    convention: char,
    sector: Sector,
) -> Option<NuclearReference> {
    TABLE.lines().skip(1).find_map(|line| {
        let f = split_csv(line);
        if f.len() < 14 {
            return None;
        }
        let sector_ok = f[4].starts_with("exact")
            || match sector {
                Sector::Symmetric => f[4].starts_with("spatially symmetric"),
                Sector::Full => f[4].starts_with("full"),
            };
        let wanted = f[0] == nucleus
            && (f[2].parse::<f64>().ok()? - cutoff).abs() < 1e-9
            && f[3] == convention.to_string()
            && sector_ok;
        if !wanted {
            return None;
        }
        let number = |s: &str| s.parse::<f64>().ok();
        Some(NuclearReference {
            reference: Reference {
                energy: number(&f[5])?,
                uncertainty: number(&f[6]).unwrap_or(0.0),
                method: format!("{}, {}", f[12], f[4]),
                source: f[13].clone(),
            },
            kinetic: number(&f[7]),
            v2: number(&f[8]),
            v3: number(&f[9]),
            rms_point: number(&f[10]),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_the_values_the_tests_use() {
        let d = lookup("2H", 4.0, 'A', Sector::Symmetric).unwrap();
        assert_eq!(d.reference.energy, -2.2251550);
        assert_eq!(
            lookup("3H", 4.0, 'A', Sector::Symmetric)
                .unwrap()
                .reference
                .energy,
            -7.8297050
        );
        assert_eq!(
            lookup("4He", 4.0, 'A', Sector::Symmetric)
                .unwrap()
                .reference
                .energy,
            -22.77975
        );
        assert_eq!(
            lookup("3H", 4.0, 'A', Sector::Full)
                .unwrap()
                .reference
                .energy,
            -8.48167
        );
        assert!(lookup("4He", 4.0, 'A', Sector::Full).is_none());
        assert!(lookup("3H", 3.0, 'A', Sector::Symmetric).is_none());
    }
}
