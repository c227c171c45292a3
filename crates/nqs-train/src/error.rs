use thiserror::Error;

/// Errors of the training library. Every message is one line naming the problem.
#[derive(Debug, Error)]
pub enum TrainError {
    /// The config file could not be read.
    #[error("cannot read config {path}: {reason}")]
    ConfigRead { path: String, reason: String },
    /// The config is not valid TOML or does not match the schema (unknown key, wrong type).
    #[error("invalid config {path}: {reason}")]
    ConfigParse { path: String, reason: String },
    /// A field has a value outside its allowed range.
    #[error("invalid value {field} = {value} (allowed: {allowed})")]
    InvalidValue {
        field: String,
        value: String,
        allowed: String,
    },
    /// A `--set` override could not be applied.
    #[error("bad --set '{assignment}': {reason}")]
    BadOverride { assignment: String, reason: String },
    /// The system is misconfigured.
    #[error(transparent)]
    Physics(#[from] nqs_physics::PhysicsError),
    /// The model could not be built.
    #[error(transparent)]
    Model(#[from] nqs_model::ModelError),
    /// The sampler could not run.
    #[error(transparent)]
    Sampler(#[from] nqs_sampler::SamplerError),
    /// A backend/precision combination that cannot work.
    #[error("{0}")]
    Unsupported(String),
    /// Local energies or parameters became NaN or infinite.
    #[error("non-finite {what} at step {step}")]
    NonFinite { what: &'static str, step: usize },
    /// A checkpoint could not be written, read or applied.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// The config given on resume does not describe the checkpointed model.
    #[error("cannot resume: {0}")]
    ResumeMismatch(String),
    /// A stop request (Ctrl-C, SIGTERM) during a burn-in or an evaluation.
    #[error("stopped on request")]
    Stopped,
    /// Ranks of a distributed run disagree or cannot work together.
    #[error("distributed run: {0}")]
    Distributed(String),
    /// Reading or writing run files.
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
}

impl TrainError {
    /// An I/O error on `path`.
    pub fn io(path: &std::path::Path, err: impl std::fmt::Display) -> Self {
        TrainError::Io {
            path: path.display().to_string(),
            reason: err.to_string(),
        }
    }
}
