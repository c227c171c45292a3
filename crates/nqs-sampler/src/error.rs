use thiserror::Error;

/// Errors of the samplers.
#[derive(Debug, Error)]
pub enum SamplerError {
    /// Gibbs sampling is exact only for a wave function that is one full RBM.
    #[error(
        "sampler.kind = \"gibbs\" needs a model that is a single rbm factor with per_particle = false (allowed otherwise: \"metropolis\", \"langevin\")"
    )]
    GibbsNeedsPureRbm,
    /// A snapshot does not fit the system it is restored into.
    #[error(
        "sampler snapshot has shape [{walkers}, {coords}], expected [{expected_walkers}, {expected_coords}]"
    )]
    SnapshotShape {
        walkers: usize,
        coords: usize,
        expected_walkers: usize,
        expected_coords: usize,
    },
}
