use thiserror::Error;

/// Errors of the emulator.
#[derive(Debug, Error)]
pub enum EmulateError {
    /// Too few or inconsistent data points.
    #[error("{0}")]
    Data(String),
    /// A setting out of range, naming the field.
    #[error("invalid {field} = {value}: {allowed}")]
    Invalid {
        /// The setting.
        field: &'static str,
        /// Its value.
        value: String,
        /// What is allowed.
        allowed: String,
    },
}
