//! The homogeneous electron gas: N electrons (half spin up, half down) in a periodic cube of
//! side L with a uniform neutralising background, Hartree units (ħ = m = e = 1), density
//! set by the Wigner–Seitz radius r_s: L³ = (4π/3) r_s³ N.
//!
//! H = −½ Σ_i ∇_i² + E_Ewald(x), the Coulomb energy of the electrons, their images and the
//! background by the Ewald sum ([`crate::hamiltonian::Ewald`]), including each electron's
//! interaction with its own images (the Madelung term).

use std::f64::consts::PI;

use nqs_model::Geometry;
use serde::{Deserialize, Serialize};

use crate::PhysicsError;
use crate::hamiltonian::{Ewald, Hamiltonian};
use crate::reference::{Reference, electron_gas};

/// Relative tolerance of the Ewald sum (real- and reciprocal-space cutoffs).
const EWALD_TOLERANCE: f64 = 1e-10;

/// `[system] kind = "electron_gas"`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ElectronGasConfig {
    /// Number of electrons N (half spin up, half down; a closed plane-wave shell per spin
    /// for a Slater determinant: 2, 14, 38, 54, 66, …).
    pub particles: usize,
    /// Wigner–Seitz radius r_s > 0 (bohr).
    pub rs: f64,
    /// Spatial dimension: 3 (the 2D gas, with its own Ewald sum, is not built).
    #[serde(default = "three")]
    pub dimensions: usize,
}

fn three() -> usize {
    3
}

impl ElectronGasConfig {
    /// Field checks, each error naming its field.
    pub fn validate(&self) -> Result<(), PhysicsError> {
        if self.dimensions != 3 {
            return Err(PhysicsError::invalid(
                "system.dimensions",
                self.dimensions,
                "3 (the 2D electron gas is not built)",
            ));
        }
        if self.particles < 2 {
            return Err(PhysicsError::invalid(
                "system.particles",
                self.particles,
                "at least 2",
            ));
        }
        if !(self.rs > 0.0 && self.rs.is_finite()) {
            return Err(PhysicsError::invalid(
                "system.rs",
                self.rs,
                "a positive number (the Wigner–Seitz radius in bohr)",
            ));
        }
        Ok(())
    }

    /// Side L of the cube, from L³ = (4π/3) r_s³ N.
    pub fn length(&self) -> f64 {
        (4.0 * PI / 3.0 * self.rs.powi(3) * self.particles as f64).cbrt()
    }

    /// N/2 up, N/2 down, in the periodic cube.
    pub fn geometry(&self) -> Geometry {
        Geometry::periodic(self.particles, self.dimensions, self.length())
    }

    /// Kinetic energy plus the Ewald energy.
    pub fn hamiltonian(&self) -> Hamiltonian {
        let ewald = Ewald::new(self.geometry(), self.length(), EWALD_TOLERANCE);
        Hamiltonian::new(0.5, vec![Box::new(ewald)])
    }

    /// Fixed-node DMC where known, else the analytic Hartree–Fock energy.
    pub fn reference(&self) -> Option<Reference> {
        electron_gas::best(self.particles, self.rs)
    }

    /// E.g. "3D electron gas, N = 14, r_s = 5".
    pub fn title(&self) -> String {
        format!(
            "{}D electron gas, N = {}, r_s = {}",
            self.dimensions, self.particles, self.rs
        )
    }
}
