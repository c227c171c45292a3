//! Sampler configuration (`[sampler]` section).

use serde::{Deserialize, Serialize};

/// Markov-chain kind.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SamplerKind {
    /// Gaussian proposals x' = x + s·χ, accepted with min(1, |ψ(x')/ψ(x)|²).
    Metropolis,
    /// Metropolis–Hastings with Langevin drift (importance sampling), time step s.
    Langevin,
    /// Exact Gibbs sampling of a pure Gaussian-binary RBM.
    Gibbs,
}

/// `[sampler]` section.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SamplerConfig {
    /// `"metropolis"`, `"langevin"` or `"gibbs"`.
    #[serde(default = "default_kind")]
    pub kind: SamplerKind,
    /// Number of walkers advanced together.
    #[serde(default = "default_walkers")]
    pub walkers: usize,
    /// Initial step size (Metropolis: proposal width; Langevin: time step δt).
    #[serde(default = "default_step")]
    pub step_size: f64,
    /// Moves before the first measurement (step size adapted during these only).
    #[serde(default = "default_burn_in")]
    pub burn_in: usize,
    /// Moves between two measurements.
    #[serde(default = "default_moves")]
    pub moves_per_sample: usize,
    /// Adapt the step size during burn-in.
    #[serde(default = "default_true")]
    pub adapt_step: bool,
    /// Keep adapting the step size after the burn-in, once per optimisation step from that
    /// step's acceptance (for trial states whose length scale changes while they train, such
    /// as nuclei). The frozen evaluation never adapts.
    #[serde(default)]
    pub adapt_during_training: bool,
    /// Acceptance the adaptation aims at.
    #[serde(default = "default_target")]
    pub target_acceptance: f64,
    /// Standard deviation of the initial walker positions, in units of 1/√ω.
    #[serde(default = "default_init_width")]
    pub init_width: f64,
    /// Most threads that move disjoint blocks of walkers in parallel (CPU backends; a GPU
    /// run uses one). Blocks are never smaller than [`crate::MIN_BLOCK_COORDS`] coordinates.
    #[serde(default = "default_threads")]
    pub threads: usize,
}

fn default_threads() -> usize {
    2
}

fn default_kind() -> SamplerKind {
    SamplerKind::Metropolis
}
fn default_walkers() -> usize {
    1024
}
fn default_step() -> f64 {
    0.5
}
fn default_burn_in() -> usize {
    200
}
fn default_moves() -> usize {
    5
}
fn default_true() -> bool {
    true
}
fn default_target() -> f64 {
    0.5
}
fn default_init_width() -> f64 {
    1.0
}

impl Default for SamplerConfig {
    fn default() -> Self {
        Self {
            kind: default_kind(),
            walkers: default_walkers(),
            step_size: default_step(),
            burn_in: default_burn_in(),
            moves_per_sample: default_moves(),
            adapt_step: true,
            adapt_during_training: false,
            target_acceptance: default_target(),
            init_width: default_init_width(),
            threads: default_threads(),
        }
    }
}
