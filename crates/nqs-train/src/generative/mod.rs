//! `nqs-train fit-rbm`: restricted Boltzmann machines trained on data (the generative half
//! of the seed talk), with exact or AIS likelihoods, KL divergences and fidelities against
//! known distributions, and the Ising and transverse-field Ising data generators.

pub mod config;
pub mod fit;
pub mod run;
pub mod thermo;
pub mod thermo_plot;

pub use config::FitConfig;
pub use fit::{EpochMetrics, Fitter, Likelihood};
pub use run::{FitSummary, resume, start};
