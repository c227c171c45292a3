//! Light nuclei (A = 2, 3, 4 in 3D) with the leading-order pionless-EFT Hamiltonian of
//! Adams, Carleo, Lovato and Rocco (PRL 127, 022502 (2021)), in MeV and fm:
//!
//! H = −(ħ²/2M) Σ_i ∇_i² + Σ_{i<j} (C1 + C2 σ_i·σ_j) e^{−Λ² r_ij²/4}
//!     + D0 Σ_{i<j<k} Σ_cyc e^{−Λ²(r_ik² + r_jk²)/4} [+ Σ_{i<j∈p} e²/r_ij].
//!
//! Trial states come in two kinds. Without spin-isospin amplitudes they live in the sector
//! of Adams et al.'s correlator: a spatially symmetric function times the fully
//! antisymmetric spin-isospin state of the nucleus ([`spin_isospin`]). There every
//! spin-isospin operator of the Hamiltonian enters through its expectation value in that
//! state, computed here exactly in the 4^A basis: ⟨σ_i·σ_j⟩ per pair (the deuteron's
//! S = 1, T = 0 gives +1; every pair of a fully antisymmetric A = 3, 4 state −1) and the
//! probability that a pair is two protons (for the Coulomb term); the energy is a
//! variational upper bound in that sector. With amplitudes (the `spin_correlator` factor)
//! the pair terms carry their operators ([`crate::hamiltonian::SpinCoupling`]) and the local
//! energy applies them exactly: the full problem. The trial states are translation
//! invariant, so the kinetic energy is the intrinsic one: the centre of mass carries none.

mod lecs;
pub use nqs_model::spin_isospin;

pub use lecs::{Lecs, published, published_cutoffs};

use nqs_model::Geometry;
use serde::{Deserialize, Serialize};

use crate::PhysicsError;
use crate::hamiltonian::{
    Coulomb, GaussianPair, GaussianThreeBody, Hamiltonian, PairOperator, PotentialTerm,
    SpinCoupling,
};
use crate::reference::Reference;
use crate::reference::nuclei::{self, NuclearReference, Sector};
use spin_isospin::SpinIsospinState;

/// Fine-structure constant (CODATA 2018).
pub const FINE_STRUCTURE: f64 = 1.0 / 137.035_999_084;

/// The nuclei the system supports.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum Nucleus {
    /// Deuteron, S = 1, T = 0.
    #[serde(rename = "2H")]
    H2,
    /// Triton.
    #[serde(rename = "3H")]
    H3,
    /// Helion.
    #[serde(rename = "3He")]
    He3,
    /// Alpha particle.
    #[serde(rename = "4He")]
    He4,
}

impl Nucleus {
    /// Mass number A.
    pub fn mass_number(self) -> usize {
        match self {
            Nucleus::H2 => 2,
            Nucleus::H3 | Nucleus::He3 => 3,
            Nucleus::He4 => 4,
        }
    }

    /// Charge Z.
    pub fn protons(self) -> usize {
        match self {
            Nucleus::H2 | Nucleus::H3 => 1,
            Nucleus::He3 | Nucleus::He4 => 2,
        }
    }

    /// The config name, e.g. "3He".
    pub fn name(self) -> &'static str {
        match self {
            Nucleus::H2 => "2H",
            Nucleus::H3 => "3H",
            Nucleus::He3 => "3He",
            Nucleus::He4 => "4He",
        }
    }

    /// The printed name, e.g. "³He".
    pub fn symbol(self) -> &'static str {
        match self {
            Nucleus::H2 => "²H",
            Nucleus::H3 => "³H",
            Nucleus::He3 => "³He",
            Nucleus::He4 => "⁴He",
        }
    }

    /// Occupied single-nucleon spin-isospin states (0 = p↑, 1 = p↓, 2 = n↑, 3 = n↓) of the
    /// fully antisymmetric spin-isospin state with the largest M_S (²H: spin ↑↑ times the
    /// isospin singlet, S = 1, T = 0).
    pub fn occupied(self) -> Vec<usize> {
        spin_isospin::occupied(self.mass_number(), self.protons())
            .expect("A ≤ 4 with at most two protons and two neutrons")
    }

    /// Its fully antisymmetric spin-isospin state.
    pub fn spin_isospin_state(self) -> SpinIsospinState {
        SpinIsospinState::antisymmetric(&self.occupied())
    }
}

/// `[system] kind = "nucleus"`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NucleusConfig {
    /// `"2H"`, `"3H"`, `"3He"` or `"4He"`.
    pub nucleus: Nucleus,
    /// Cutoff Λ (fm⁻¹); the shipped constants cover 2, 4 and 6.
    pub cutoff: f64,
    /// C1, C2, D0 (MeV) instead of the published ones for this cutoff.
    #[serde(default)]
    pub lecs: Option<Lecs>,
    /// ħc (MeV fm).
    #[serde(default = "default_hbar_c")]
    pub hbar_c: f64,
    /// Nucleon mass M_N (MeV).
    #[serde(default = "default_nucleon_mass")]
    pub nucleon_mass: f64,
    /// Add the Coulomb repulsion between protons.
    #[serde(default)]
    pub coulomb: bool,
    /// Length (fm) that the trial states' inputs are measured in (their ω = 1/length²) and
    /// that the walkers start from.
    #[serde(default = "default_trial_length")]
    pub trial_length: f64,
}

fn default_hbar_c() -> f64 {
    197.327
}
fn default_nucleon_mass() -> f64 {
    938.95
}
fn default_trial_length() -> f64 {
    1.0
}

impl NucleusConfig {
    /// Field checks, each error naming its field.
    pub fn validate(&self) -> Result<(), PhysicsError> {
        for (field, value, unit) in [
            ("system.cutoff", self.cutoff, "fm⁻¹"),
            ("system.hbar_c", self.hbar_c, "MeV fm"),
            ("system.nucleon_mass", self.nucleon_mass, "MeV"),
            ("system.trial_length", self.trial_length, "fm"),
        ] {
            if !(value > 0.0 && value.is_finite()) {
                return Err(PhysicsError::invalid(
                    field,
                    value,
                    &format!("a positive number ({unit})"),
                ));
            }
        }
        if let Some(l) = &self.lecs {
            if [l.c1, l.c2, l.d0].iter().any(|v| !v.is_finite()) {
                return Err(PhysicsError::invalid(
                    "system.lecs",
                    format!("{{ c1 = {}, c2 = {}, d0 = {} }}", l.c1, l.c2, l.d0),
                    "finite numbers (MeV)",
                ));
            }
        } else if published(self.cutoff).is_none() {
            return Err(PhysicsError::invalid(
                "system.cutoff",
                self.cutoff,
                &format!(
                    "{} (published constants), or give system.lecs = {{ c1, c2, d0 }} in MeV",
                    published_cutoffs()
                ),
            ));
        }
        Ok(())
    }

    /// The constants in use.
    pub fn lecs(&self) -> Lecs {
        self.lecs
            .or_else(|| published(self.cutoff))
            .expect("validated: constants given or published")
    }

    /// A nucleons with Z protons in 3D, one spatial species (spin and isospin live in the
    /// spin-isospin state, not in the particle index).
    pub fn geometry(&self) -> Geometry {
        Geometry::nucleus(self.nucleus.mass_number(), self.nucleus.protons())
    }

    /// ħ²/2M (MeV fm²).
    pub fn kinetic_prefactor(&self) -> f64 {
        self.hbar_c * self.hbar_c / (2.0 * self.nucleon_mass)
    }

    /// Per pair i < j: ⟨σ_i·σ_j⟩ and the probability that both are protons, in the
    /// nucleus's spin-isospin state.
    pub fn pair_expectations(&self) -> Vec<(f64, f64)> {
        let chi = self.nucleus.spin_isospin_state();
        let a = self.nucleus.mass_number();
        nqs_model::pairs::pair_indices(a)
            .into_iter()
            .map(|(i, j)| {
                (
                    chi.sigma_dot_sigma_expectation(i, j),
                    chi.proton_pair_probability(i, j),
                )
            })
            .collect()
    }

    /// The Hamiltonian. Its pair terms carry their spin-isospin operators: a trial state
    /// without spin-isospin amplitudes gets their expectation values in the nucleus's
    /// antisymmetric state, one with amplitudes (a `spin_correlator` factor) gets them
    /// applied exactly.
    pub fn hamiltonian(&self) -> Hamiltonian {
        let geometry = self.geometry();
        let lecs = self.lecs();
        let pairs = self.pair_expectations();
        let mut terms: Vec<Box<dyn PotentialTerm>> = vec![Box::new(GaussianPair {
            geometry,
            strengths: pairs
                .iter()
                .map(|&(sigma, _)| lecs.c1 + lecs.c2 * sigma)
                .collect(),
            cutoff: self.cutoff,
            spin: Some(SpinCoupling {
                operator: PairOperator::SigmaDotSigma,
                strength: lecs.c2,
                expectation: pairs.iter().map(|p| p.0).collect(),
            }),
        })];
        if geometry.n_particles >= 3 {
            terms.push(Box::new(GaussianThreeBody {
                geometry,
                d0: lecs.d0,
                cutoff: self.cutoff,
            }));
        }
        if self.coulomb {
            let e2 = FINE_STRUCTURE * self.hbar_c;
            terms.push(Box::new(Coulomb {
                geometry,
                couplings: pairs.iter().map(|&(_, pp)| e2 * pp).collect(),
                spin: Some(SpinCoupling {
                    operator: PairOperator::ProtonPair,
                    strength: e2,
                    expectation: pairs.iter().map(|p| p.1).collect(),
                }),
            }));
        }
        Hamiltonian::new(self.kinetic_prefactor(), terms)
    }

    /// The correlated-Gaussian value of this Hamiltonian in the symmetric sector, when it was
    /// computed (shipped constants, convention A or B, no Coulomb between protons).
    pub fn ecg_reference(&self, sector: Sector) -> Option<NuclearReference> {
        let convention = if self.hbar_c == 197.327 && self.nucleon_mass == 938.95 {
            'A'
        } else if self.hbar_c == 197.32697 && self.nucleon_mass == 938.91858 {
            'B'
        } else {
            return None;
        };
        if self.lecs.is_some_and(|l| Some(l) != published(self.cutoff)) {
            return None;
        }
        let protons_interact = self.coulomb && self.pair_expectations().iter().any(|p| p.1 > 0.0);
        if protons_interact {
            return None;
        }
        // Without Coulomb ³He and ³H have the same energy.
        let name = match self.nucleus {
            Nucleus::He3 => "3H",
            other => other.name(),
        };
        nuclei::lookup(name, self.cutoff, convention, sector)
    }

    /// The reference energy of the sector the trial states live in: the spatially
    /// symmetric one, or with spin-isospin amplitudes the unrestricted one.
    pub fn reference(&self, spin_amplitudes: bool) -> Option<Reference> {
        let sector = if spin_amplitudes {
            Sector::Full
        } else {
            Sector::Symmetric
        };
        self.ecg_reference(sector).map(|r| r.reference)
    }

    /// E.g. "³H, pionless LO, Λ = 4 fm⁻¹".
    pub fn title(&self) -> String {
        format!(
            "{}, pionless LO, Λ = {} fm⁻¹",
            self.nucleus.symbol(),
            self.cutoff
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(nucleus: Nucleus) -> NucleusConfig {
        NucleusConfig {
            nucleus,
            cutoff: 4.0,
            lecs: None,
            hbar_c: default_hbar_c(),
            nucleon_mass: default_nucleon_mass(),
            coulomb: true,
            trial_length: default_trial_length(),
        }
    }

    #[test]
    fn spin_isospin_expectations_equal_the_algebraic_values() {
        // Deuteron S = 1: σ₁·σ₂ = 2S(S + 1) − 3 = 1; no proton pair.
        assert_eq!(config(Nucleus::H2).pair_expectations().len(), 1);
        let (s, pp) = config(Nucleus::H2).pair_expectations()[0];
        assert!((s - 1.0).abs() < 1e-12 && pp == 0.0);
        // Fully antisymmetric A = 3, 4: every pair −1. Proton pairs: Z(Z − 1)/2 of A(A − 1)/2.
        for (nucleus, pp_expected) in [
            (Nucleus::H3, 0.0),
            (Nucleus::He3, 1.0 / 3.0),
            (Nucleus::He4, 1.0 / 6.0),
        ] {
            for (s, pp) in config(nucleus).pair_expectations() {
                assert!((s + 1.0).abs() < 1e-12, "{nucleus:?}: {s}");
                assert!((pp - pp_expected).abs() < 1e-12, "{nucleus:?}: {pp}");
            }
        }
        assert!((Nucleus::He3.spin_isospin_state().protons() - 2.0).abs() < 1e-12);
    }

    #[test]
    fn kinetic_prefactor_and_references() {
        let c = config(Nucleus::H3);
        assert!((c.kinetic_prefactor() - 20.7348).abs() < 1e-4);
        // ³H has no proton pair: Coulomb changes nothing and the reference stands.
        assert_eq!(c.reference(false).unwrap().energy, -7.8297050);
        assert!(
            config(Nucleus::He3).reference(false).is_none(),
            "³He with Coulomb"
        );
        let c = NucleusConfig {
            coulomb: false,
            ..config(Nucleus::He3)
        };
        assert_eq!(c.reference(false).unwrap().energy, -7.8297050);
        let c = NucleusConfig {
            nucleon_mass: 939.0,
            ..config(Nucleus::H2)
        };
        assert!(c.reference(false).is_none());
        assert_eq!(
            config(Nucleus::H3).reference(true).unwrap().energy,
            -8.48167
        );
    }

    #[test]
    fn bad_values_name_the_field() {
        let mut c = config(Nucleus::H2);
        c.cutoff = 3.0;
        let msg = c.validate().unwrap_err().to_string();
        assert!(
            msg.contains("system.cutoff") && msg.contains("2, 4, 6"),
            "{msg}"
        );
        c.lecs = Some(Lecs {
            c1: -400.0,
            c2: 0.0,
            d0: 0.0,
        });
        assert!(c.validate().is_ok());
        c.nucleon_mass = 0.0;
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("system.nucleon_mass")
        );
    }
}
