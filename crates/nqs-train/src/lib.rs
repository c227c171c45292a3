//! Variational Monte Carlo training of neural-network quantum states: the covariance-gradient
//! loss, stochastic reconfiguration, statistics, the training loop and run files. Systems,
//! Hamiltonians and local energies come from `nqs-physics`.

pub mod allocator;
pub mod backend;
pub mod bench;
pub mod checkpoint;
pub mod compare;
pub mod config;
pub mod distributed;
pub mod driver;
pub mod emulate;
mod error;
pub mod generative;
pub mod gradient;
pub mod loss;
pub mod memory;
pub mod observables;
pub mod params;
pub mod plots;
pub mod run_dir;
pub mod session;
pub mod sr;
pub mod stats;
pub mod trainer;

pub use backend::{Backend, Precision};
pub use config::Config;
pub use error::TrainError;
pub use stats::Stats;
pub use trainer::{Evaluation, StepMetrics, Trainer};

use burn::tensor::Tensor;

/// A 1-D tensor read back to the host as f64 values (one device synchronisation).
pub fn to_host(t: Tensor<1>) -> Vec<f64> {
    t.into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .expect("converted tensor data is f64")
}
