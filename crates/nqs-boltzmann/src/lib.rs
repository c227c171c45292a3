//! Restricted Boltzmann machines as generative models (the first half of the seed talk):
//! binary-binary and Gaussian-binary machines as burn modules ([`Rbm`]), their free energy
//! and conditionals, block Gibbs sampling through `nqs_sampler::BlockGibbs` (the one Gibbs
//! implementation, shared with the RBM wave function), exact partition functions and
//! likelihoods by enumeration ([`exact`]), annealed importance sampling ([`ais`]), and the
//! data the tool ships: the 2D Ising model ([`ising`]) and the ground state of the
//! transverse-field Ising chain ([`tfim`]). Training on data lives in `nqs-train`
//! (`nqs-train fit-rbm`).

pub mod ais;
pub mod data;
mod error;
pub mod exact;
pub mod ising;
mod rbm;
pub mod tfim;

pub use ais::{AisEstimate, AisSettings, ais_log_partition};
pub use data::{Dataset, Encoding};
pub use error::BoltzmannError;
pub use exact::HostRbm;
pub use ising::{Ising, Thermodynamics};
pub use rbm::{Annealed, Rbm, RbmConfig, VisibleUnits};
pub use tfim::TransverseIsing;
