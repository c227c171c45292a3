use thiserror::Error;

/// Errors of the Boltzmann-machine library: one line naming the problem.
#[derive(Debug, Error)]
pub enum BoltzmannError {
    /// A setting outside its allowed range.
    #[error("invalid value {field} = {value} (allowed: {allowed})")]
    InvalidValue {
        /// The field, as named in the config file or on the command line.
        field: String,
        /// The value given.
        value: String,
        /// What is allowed.
        allowed: String,
    },
    /// A data file that cannot be read or parsed.
    #[error("{path}: {reason}")]
    Data {
        /// The file.
        path: String,
        /// What is wrong, with the line number where there is one.
        reason: String,
    },
    /// An exact sum that is too large to enumerate.
    #[error("{0}")]
    TooLarge(String),
}

impl BoltzmannError {
    /// An [`BoltzmannError::InvalidValue`].
    pub fn invalid(field: &str, value: impl std::fmt::Display, allowed: &str) -> Self {
        BoltzmannError::InvalidValue {
            field: field.into(),
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }

    /// A [`BoltzmannError::Data`] error on `path`.
    pub fn data(path: &std::path::Path, reason: impl Into<String>) -> Self {
        BoltzmannError::Data {
            path: path.display().to_string(),
            reason: reason.into(),
        }
    }
}
