use thiserror::Error;

/// Errors of system configurations. Every message is one line naming the field.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum PhysicsError {
    /// A field has a value outside its allowed range.
    #[error("invalid value {field} = {value} (allowed: {allowed})")]
    InvalidValue {
        field: String,
        value: String,
        allowed: String,
    },
}

impl PhysicsError {
    /// `field = value` is not one of `allowed`.
    pub fn invalid(field: &str, value: impl ToString, allowed: &str) -> Self {
        PhysicsError::InvalidValue {
            field: field.to_string(),
            value: value.to_string(),
            allowed: allowed.to_string(),
        }
    }
}
