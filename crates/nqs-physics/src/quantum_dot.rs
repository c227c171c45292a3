//! The quantum dot of PHYSICS.md §1: N electrons (half spin up, half down) in an isotropic
//! d-dimensional harmonic trap of frequency ω, Hartree units (ħ = m = e = 1):
//! H = Σ_i (−½∇_i² + ½ω² r_i²) + Σ_{i<j} 1/r_ij.

use nqs_model::Geometry;
use serde::{Deserialize, Serialize};

use crate::PhysicsError;
use crate::hamiltonian::Hamiltonian;
use crate::reference::{Reference, quantum_dots};

/// Interaction between the electrons.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Interaction {
    /// Σ_{i<j} 1/r_ij.
    Coulomb,
    /// Non-interacting.
    None,
}

/// `[system] kind = "quantum_dot"`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QuantumDotConfig {
    /// Spatial dimension d: 1, 2 or 3.
    pub dimensions: usize,
    /// Number of electrons N (half spin up, half spin down).
    pub particles: usize,
    /// Trap frequency ω > 0.
    pub omega: f64,
    /// `"coulomb"` or `"none"`.
    #[serde(default = "default_interaction")]
    pub interaction: Interaction,
}

fn default_interaction() -> Interaction {
    Interaction::Coulomb
}

impl QuantumDotConfig {
    /// Field checks, each error naming its field.
    pub fn validate(&self) -> Result<(), PhysicsError> {
        if !(1..=3).contains(&self.dimensions) {
            return Err(PhysicsError::invalid(
                "system.dimensions",
                self.dimensions,
                "1, 2 or 3",
            ));
        }
        if self.particles == 0 {
            return Err(PhysicsError::invalid("system.particles", 0, "at least 1"));
        }
        if !(self.omega > 0.0 && self.omega.is_finite()) {
            return Err(PhysicsError::invalid(
                "system.omega",
                self.omega,
                "a positive number",
            ));
        }
        if self.dimensions == 1 && self.particles > 1 && self.interaction == Interaction::Coulomb {
            // Opposite spins meet with a finite pair density (only equal spins have nodes
            // there, and a Jastrow factor e^u never vanishes), and ∫ρ₂(x)/|x| dx diverges
            // logarithmically at contact: the energy is infinite and any estimate of it noise.
            return Err(PhysicsError::invalid(
                "system.interaction",
                "\"coulomb\" in 1D",
                "\"none\" in 1D (1/|x| between opposite spins makes the energy infinite), or dimensions 2 or 3",
            ));
        }
        Ok(())
    }

    /// N/2 spin up then N/2 spin down (one more up for odd N).
    pub fn geometry(&self) -> Geometry {
        Geometry::balanced(self.particles, self.dimensions)
    }

    /// Trap plus (optionally) Coulomb, ħ²/2m = ½.
    pub fn hamiltonian(&self) -> Hamiltonian {
        Hamiltonian::quantum_dot(
            self.geometry(),
            self.omega,
            self.interaction == Interaction::Coulomb,
        )
    }

    /// Exact or fixed-node DMC value for the interacting dot (none for `interaction = "none"`,
    /// whose energy is the closed-shell sum of ω(n + d/2)).
    pub fn reference(&self) -> Option<Reference> {
        match self.interaction {
            Interaction::Coulomb => quantum_dots::best(self.particles, self.dimensions, self.omega),
            Interaction::None => None,
        }
    }

    /// E.g. "2D quantum dot, N = 6, ω = 1".
    pub fn title(&self) -> String {
        format!(
            "{}D quantum dot, N = {}, ω = {}",
            self.dimensions, self.particles, self.omega
        )
    }
}
