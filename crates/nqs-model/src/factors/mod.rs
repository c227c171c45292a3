//! Wave-function factors. One file per factor; [`Factor`] and [`FactorConfig`] list them.

mod backflow;
mod deep_sets;
mod envelope;
mod ffnn;
mod message_passing;
mod pade;
mod pair_jastrow;
mod plane_wave_slater;
mod rbm;
mod slater;
mod slater_monomials;
mod spin_correlator;

pub use backflow::{Backflow, BackflowConfig, BackflowOrbitalKind};
pub use deep_sets::{DeepSets, DeepSetsConfig};
pub use envelope::{Envelope, EnvelopeConfig};
pub use ffnn::{Ffnn, FfnnConfig};
pub use message_passing::{MessagePassing, MessagePassingConfig};
pub use pade::{PadeJastrow, PadeJastrowConfig};
pub(crate) use pade::{pade_u, pade_u4};
pub use pair_jastrow::{PairJastrow, PairJastrowConfig};
pub use plane_wave_slater::{PlaneWaveSlater, PlaneWaveSlaterConfig};
pub use rbm::{Rbm, RbmConfig};
pub use slater::{SlaterConfig, SlaterDeterminant};
pub use spin_correlator::{CHANNELS, SpinAmplitudes, SpinCorrelator, SpinCorrelatorConfig};

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::derivatives::LogPsi;
use crate::{Geometry, ModelError, Order, ParamRng};

/// One factor of the product wave function, as written in the config
/// (`[[model.factors]]` with `kind = "slater" | "backflow" | "pade_jastrow" | "rbm" | "ffnn" |
/// "envelope" | "pair_jastrow" | "deep_sets" | "spin_correlator" | "plane_wave_slater"`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FactorConfig {
    /// Slater determinant of Hermite-function orbitals.
    Slater(SlaterConfig),
    /// Slater determinant of Hermite orbitals at backflow coordinates.
    Backflow(BackflowConfig),
    /// Padé–Jastrow with the Coulomb cusp.
    PadeJastrow(PadeJastrowConfig),
    /// Gaussian-binary restricted Boltzmann machine.
    Rbm(RbmConfig),
    /// Feed-forward network.
    Ffnn(FfnnConfig),
    /// Confining envelope about the centre of mass.
    Envelope(EnvelopeConfig),
    /// Neural pair Jastrow Π f(r_ij).
    PairJastrow(PairJastrowConfig),
    /// Permutation-invariant DeepSets correlator.
    DeepSets(DeepSetsConfig),
    /// Spin-isospin pair correlator of nucleons.
    SpinCorrelator(SpinCorrelatorConfig),
    /// Slater determinant of plane waves in a periodic cell.
    PlaneWaveSlater(PlaneWaveSlaterConfig),
}

impl FactorConfig {
    /// The `kind` name as written in configs.
    pub fn kind(&self) -> &'static str {
        match self {
            FactorConfig::Slater(_) => "slater",
            FactorConfig::Backflow(_) => "backflow",
            FactorConfig::PadeJastrow(_) => "pade_jastrow",
            FactorConfig::Rbm(_) => "rbm",
            FactorConfig::Ffnn(_) => "ffnn",
            FactorConfig::Envelope(_) => "envelope",
            FactorConfig::PairJastrow(_) => "pair_jastrow",
            FactorConfig::DeepSets(_) => "deep_sets",
            FactorConfig::SpinCorrelator(_) => "spin_correlator",
            FactorConfig::PlaneWaveSlater(_) => "plane_wave_slater",
        }
    }

    /// Widest layer of the factor's networks (0 for a factor without one): with the particle
    /// layout it sets the size of the factor's jets (see [`FactorConfig::jet_elements`]).
    pub fn widest_layer(&self) -> usize {
        let max = |v: &[usize]| v.iter().copied().max().unwrap_or(0);
        match self {
            FactorConfig::Slater(_)
            | FactorConfig::PadeJastrow(_)
            | FactorConfig::Envelope(_)
            | FactorConfig::PlaneWaveSlater(_) => 0,
            FactorConfig::Backflow(c) => {
                max(&c.hidden).max(c.message_passing.as_ref().map_or(0, |m| m.width))
            }
            FactorConfig::Rbm(c) => c.n_hidden,
            FactorConfig::Ffnn(c) => max(&c.hidden),
            FactorConfig::PairJastrow(c) => max(&c.hidden),
            FactorConfig::DeepSets(c) => max(&c.hidden).max(c.latent).max(max(&c.readout)),
            FactorConfig::SpinCorrelator(c) => max(&c.hidden),
        }
    }

    /// Floats per walker in the factor's widest jets during a Laplacian pass, a model of its
    /// working set: N·d coordinates times (N + width) for the per-particle and orbital
    /// tables, P = N(N − 1)/2 pairs times (width + d) for the pair tables, and for
    /// message-passing backflow its pair stream, N²·width per layer. Calibrated against peak
    /// memory in docs/performance.md.
    pub fn jet_elements(&self, geometry: &Geometry) -> usize {
        let (n, d) = (geometry.n_particles, geometry.dimensions);
        let (coords, pairs, width) = (n * d, n * n.saturating_sub(1) / 2, self.widest_layer());
        let stream = match self {
            FactorConfig::Backflow(c) => c
                .message_passing
                .as_ref()
                .map_or(0, |m| n * n * m.width * m.layers),
            _ => 0,
        };
        coords * (n + width) + pairs * (width + d) + stream
    }

    /// Whether the factor depends on relative positions only (x_i − x_j, x_i − X), so that
    /// it suits a self-bound system whose centre of mass is free.
    pub fn translation_invariant(&self) -> bool {
        matches!(
            self,
            FactorConfig::Envelope(_)
                | FactorConfig::PairJastrow(_)
                | FactorConfig::DeepSets(_)
                | FactorConfig::SpinCorrelator(_)
        )
    }

    /// Whether the factor can live in a periodic cell: plane waves, backflow of plane
    /// waves, and pair functions (which see minimum-image separations, cut off smoothly at
    /// L/2). Hermite orbitals, envelopes and networks of absolute positions cannot.
    pub fn periodic(&self) -> bool {
        match self {
            FactorConfig::PlaneWaveSlater(_)
            | FactorConfig::PadeJastrow(_)
            | FactorConfig::PairJastrow(_) => true,
            FactorConfig::Backflow(c) => c.orbitals == BackflowOrbitalKind::PlaneWaves,
            _ => false,
        }
    }

    /// Build the factor; `index` is its position in the list (for error messages).
    pub fn init(
        &self,
        geometry: Geometry,
        omega: f64,
        index: usize,
        rng: &mut ParamRng,
        device: &Device,
    ) -> Result<Factor, ModelError> {
        Ok(match self {
            FactorConfig::Slater(c) => Factor::Slater(c.init(geometry, omega, device)?),
            FactorConfig::Backflow(c) => {
                Factor::Backflow(c.init(geometry, omega, index, rng, device)?)
            }
            FactorConfig::PadeJastrow(c) => Factor::Pade(c.init(geometry, index, device)?),
            FactorConfig::Rbm(c) => Factor::Rbm(c.init(geometry, omega, index, rng, device)?),
            FactorConfig::Ffnn(c) => Factor::Ffnn(c.init(geometry, omega, index, rng, device)?),
            FactorConfig::Envelope(c) => Factor::Envelope(c.init(geometry, omega, index, device)?),
            FactorConfig::PairJastrow(c) => {
                Factor::PairJastrow(c.init(geometry, omega, index, rng, device)?)
            }
            FactorConfig::DeepSets(c) => {
                Factor::DeepSets(c.init(geometry, omega, index, rng, device)?)
            }
            FactorConfig::SpinCorrelator(c) => {
                Factor::SpinCorrelator(c.init(geometry, omega, index, rng, device)?)
            }
            FactorConfig::PlaneWaveSlater(c) => Factor::PlaneWaveSlater(c.init(geometry, index)?),
        })
    }
}

/// A built factor.
#[derive(Module, Debug)]
pub enum Factor {
    /// Slater determinant.
    Slater(SlaterDeterminant),
    /// Backflow Slater determinant.
    Backflow(Backflow),
    /// Padé–Jastrow.
    Pade(PadeJastrow),
    /// Gaussian-binary RBM.
    Rbm(Rbm),
    /// Feed-forward network.
    Ffnn(Ffnn),
    /// Confining envelope about the centre of mass.
    Envelope(Envelope),
    /// Neural pair Jastrow.
    PairJastrow(PairJastrow),
    /// DeepSets correlator.
    DeepSets(DeepSets),
    /// Spin-isospin correlator (contributes log|χ|).
    SpinCorrelator(SpinCorrelator),
    /// Plane-wave Slater determinant.
    PlaneWaveSlater(PlaneWaveSlater),
}

impl Factor {
    /// log|ψ_f| with its position derivatives up to `order`, and the factor's sign when it
    /// can be negative.
    ///
    /// # Shapes
    /// - x: `[walkers, N·d]`
    pub fn forward(&self, x: &Tensor<2>, order: Order) -> (LogPsi, Option<Tensor<1>>) {
        match self {
            Factor::Slater(f) => {
                let (log_psi, sign) = f.forward(x, order);
                (log_psi, Some(sign))
            }
            Factor::Backflow(f) => {
                let (log_psi, sign) = f.forward(x, order);
                (log_psi, Some(sign))
            }
            Factor::PlaneWaveSlater(f) => {
                let (log_psi, sign) = f.forward(x, order);
                (log_psi, Some(sign))
            }
            Factor::Pade(f) => (f.forward(x, order), None),
            Factor::Rbm(f) => (f.forward(x, order), None),
            Factor::Ffnn(f) => (f.forward(x, order), None),
            Factor::Envelope(f) => (f.forward(x, order), None),
            Factor::PairJastrow(f) => (f.forward(x, order), None),
            Factor::DeepSets(f) => (f.forward(x, order), None),
            Factor::SpinCorrelator(f) => (f.forward(x, order), None),
        }
    }
}

/// Hidden widths of a factor's network: at least one layer, none of width 0.
pub(crate) fn check_hidden(hidden: &[usize], index: usize) -> Result<(), ModelError> {
    check_widths("hidden", hidden, index)
}

/// The widths in `field` of factor `index`: at least one layer, none of width 0.
pub(crate) fn check_widths(
    field: &'static str,
    hidden: &[usize],
    index: usize,
) -> Result<(), ModelError> {
    if hidden.is_empty() || hidden.contains(&0) {
        return Err(ModelError::InvalidFactor {
            index,
            field,
            value: format!("{hidden:?}"),
            reason: "needs at least one hidden layer, each of width ≥ 1".into(),
        });
    }
    Ok(())
}
