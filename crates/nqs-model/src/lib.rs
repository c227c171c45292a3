//! Wave functions for neural-network quantum states.
//!
//! A wave function is a product of factors, ψ(x) = Π_f ψ_f(x), carried in log space:
//! log|ψ| = Σ_f log|ψ_f|. Every factor evaluates a batch of walkers `x: [walkers, N·d]`
//! (particle-major: `x[w, i·d + a]` is coordinate `a` of particle `i`) and returns
//!
//! - log|ψ_f| as a burn tensor, differentiable in the parameters through burn autodiff, and
//! - ∇ log|ψ_f| and ∇² log|ψ_f| with respect to the positions, by forward-Laplacian
//!   propagation ([`Jet`]): value, gradient and Laplacian carried through every operation, one
//!   pass, no tape (PHYSICS.md §3; Li et al., Nat. Mach. Intell. 2024).
//!
//! A new factor is one new file in `factors/` plus one variant in [`Factor`].

mod dense_det;
mod derivatives;
mod dual;
mod error;
pub mod factors;
mod geometry;
mod host_backflow;
mod host_det;
mod host_eta_table;
mod host_pade;
mod host_pade_tangent;
mod host_pair_sum;
mod host_slater;
mod host_softplus;
mod host_tanh;
mod host_value;
mod init;
mod jet;
mod lanes;
mod linalg;
mod log_det_cache;
pub mod pairs;
pub mod plane_waves;
mod reduce;
pub mod relative;
pub mod spin_isospin;
pub mod threads;
mod wavefunction;

pub use dense_det::{LogDetJet, log_det_jet};
pub use derivatives::{LogPsi, Order};
pub use error::ModelError;
pub use factors::{Factor, FactorConfig};
pub use geometry::{Geometry, closed_shell_sizes, shell_quantum_numbers};
pub use host_pair_sum::host_inverse_distance_sum;
pub use host_tanh::{HostView, host_values};
pub use host_value::HostLogPsi;
pub use init::ParamRng;
pub use jet::{Dense, Jet, Mlp, sigmoid, softplus};
pub use lanes::ln_normal;
pub use linalg::{LogDet, gauss_jordan, log_det, lu_log_det};
pub use log_det_cache::LogDetCache;
pub use reduce::{row_sum, rows_of};
pub use wavefunction::{WaveFunction, WaveFunctionConfig};
