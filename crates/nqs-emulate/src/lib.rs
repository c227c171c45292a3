//! Parametric matrix models (PMMs) that emulate energies across a parameter from a few
//! trained runs (the seed talk's second part; Cook, Jammooa, Hjorth-Jensen, Lee, Lee,
//! arXiv:2401.11694, Nat. Commun. 16, 5929 (2025)).
//!
//! - [`Pmm`]: the affine-eigenvalue model M(c) = M₀ + Σ_i c_i M_i, outputs its lowest
//!   eigenvalues, with Hellmann–Feynman gradients;
//! - [`fit()`]: weighted least squares by Levenberg–Marquardt from seeded starts;
//! - [`Emulator`]: E(c) from samples E_j ± σ_j, size by leave-one-out error, uncertainty
//!   from bootstrap and jackknife refits, a polynomial baseline beside it;
//! - [`read_samples`]: a sweep's `sweep.csv` or a c, E, σ CSV.

mod data;
mod eigen;
pub mod emulator;
mod error;
pub mod fit;
pub mod pmm;
pub mod polynomial;

pub use data::read_samples;
pub use eigen::symmetric_eigen;
pub use emulator::{Emulator, EmulatorSettings, Prediction, Sample, Score};
pub use error::EmulateError;
pub use fit::{Fit, FitOptions, Observation, fit};
pub use pmm::{Pmm, n_params};
pub use polynomial::Polynomial;
