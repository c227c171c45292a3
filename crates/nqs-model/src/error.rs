use thiserror::Error;

/// Errors raised while building a wave function from its configuration.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ModelError {
    /// The particle count does not fill closed shells, so a Slater determinant is ambiguous.
    #[error(
        "system.particles = {particles} is not a closed {orbitals} shell in {dimensions}D for a spin-balanced Slater determinant (allowed: {allowed})"
    )]
    NotClosedShell {
        particles: usize,
        dimensions: usize,
        orbitals: &'static str,
        allowed: String,
    },
    /// A factor was configured with a value outside its domain.
    #[error("model.factors[{index}].{field} = {value}: {reason}")]
    InvalidFactor {
        index: usize,
        field: &'static str,
        value: String,
        reason: String,
    },
    /// The product of factors is not a valid trial state (not normalisable, wrong symmetry).
    #[error("model: {0}")]
    InvalidModel(String),
}
