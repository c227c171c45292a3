//! The product wave function ψ = Π_f ψ_f, carried as log|ψ| = Σ_f log|ψ_f|.

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::derivatives::LogPsi;
use crate::factors::{SpinAmplitudes, SpinCorrelator};
use crate::{Factor, FactorConfig, Geometry, HostLogPsi, ModelError, Order, ParamRng};

/// `[model]` section: the list of factors, multiplied together.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WaveFunctionConfig {
    /// Factors of the product, e.g. `[[model.factors]] kind = "slater"`.
    pub factors: Vec<FactorConfig>,
}

/// A product of factors.
#[derive(Module, Debug)]
pub struct WaveFunction {
    /// The factors.
    pub factors: Vec<Factor>,
    #[module(skip)]
    geometry: Geometry,
}

impl WaveFunctionConfig {
    /// Check that the product is a valid trial state for `geometry`.
    ///
    /// It must be normalisable (a Slater determinant, an RBM or a plain FFNN with its
    /// envelope supplies the Gaussian decay), and, when a Slater determinant makes it
    /// antisymmetric, every other factor must be symmetric under exchange of same-spin
    /// particles (otherwise the product is no longer a fermion state and VMC can fall below
    /// the fermionic ground state).
    pub fn validate(&self, geometry: &Geometry) -> Result<(), ModelError> {
        if self.factors.is_empty() {
            return Err(ModelError::InvalidModel(
                "model.factors is empty: give at least one factor (slater, backflow, plane_wave_slater, pade_jastrow, rbm, ffnn, envelope, pair_jastrow, deep_sets, spin_correlator)"
                    .into(),
            ));
        }
        for (index, f) in self.factors.iter().enumerate() {
            // α ≤ 0 leaves the Gaussian unbounded: non-finite energies at the first step.
            if let FactorConfig::Slater(c) = f
                && !(c.alpha > 0.0 && c.alpha.is_finite())
            {
                return Err(ModelError::InvalidFactor {
                    index,
                    field: "alpha",
                    value: c.alpha.to_string(),
                    reason: "must be a positive number".into(),
                });
            }
        }
        let slaters = self
            .factors
            .iter()
            .filter(|f| {
                matches!(
                    f,
                    FactorConfig::Slater(_)
                        | FactorConfig::Backflow(_)
                        | FactorConfig::PlaneWaveSlater(_)
                )
            })
            .count();
        if slaters > 1 {
            return Err(ModelError::InvalidModel(
                "more than one determinant (slater, backflow, plane_wave_slater): a product of determinants is not supported".into(),
            ));
        }
        // Every bounded function on a periodic cell is normalisable.
        let normalisable = geometry.cell.is_some()
            || self.factors.iter().any(|f| match f {
                FactorConfig::Slater(_)
                | FactorConfig::Backflow(_)
                | FactorConfig::PlaneWaveSlater(_)
                | FactorConfig::Rbm(_)
                | FactorConfig::Envelope(_) => true,
                FactorConfig::Ffnn(c) => !c.symmetric,
                FactorConfig::PadeJastrow(_)
                | FactorConfig::PairJastrow(_)
                | FactorConfig::DeepSets(_)
                | FactorConfig::SpinCorrelator(_) => false,
            });
        if geometry.cell.is_some() {
            // Backflow names its own fix (orbitals = "plane_waves") when it is built.
            let open = self
                .factors
                .iter()
                .enumerate()
                .find(|(_, f)| !f.periodic() && !matches!(f, FactorConfig::Backflow(_)));
            if let Some((index, f)) = open {
                return Err(ModelError::InvalidFactor {
                    index,
                    field: "kind",
                    value: format!("\"{}\"", f.kind()),
                    reason: "an open-space factor (Hermite orbitals, trap envelope, network of absolute positions) in a periodic system; use plane_wave_slater, backflow with orbitals = \"plane_waves\", pade_jastrow or pair_jastrow".into(),
                });
            }
        }
        if !normalisable {
            return Err(ModelError::InvalidModel(
                "the product is not normalisable: add a slater, a backflow, an rbm, an ffnn with symmetric = false (which has a Gaussian envelope) or an envelope".into(),
            ));
        }
        let spin_correlators = self
            .factors
            .iter()
            .filter(|f| matches!(f, FactorConfig::SpinCorrelator(_)))
            .count();
        if spin_correlators > 1 {
            return Err(ModelError::InvalidModel(
                "more than one spin_correlator: the spin-isospin amplitudes come from one factor"
                    .into(),
            ));
        }
        if slaters == 1 {
            geometry.check_closed_shell()?;
        }
        let same_spin_pairs = geometry.n_up > 1 || geometry.n_down() > 1;
        if slaters == 1 && same_spin_pairs {
            for (index, f) in self.factors.iter().enumerate() {
                let (field, bad) = match f {
                    FactorConfig::Rbm(c) => ("per_particle", !c.per_particle),
                    FactorConfig::Ffnn(c) => ("symmetric", !c.symmetric),
                    _ => continue,
                };
                if bad {
                    return Err(ModelError::InvalidFactor {
                        index,
                        field,
                        value: "false".into(),
                        reason: "a factor multiplying a Slater determinant must be symmetric under exchange of same-spin particles; set it to true".into(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Validate and build the wave function with parameters seeded by `seed`.
    pub fn init(
        &self,
        geometry: Geometry,
        omega: f64,
        seed: u64,
        device: &Device,
    ) -> Result<WaveFunction, ModelError> {
        self.validate(&geometry)?;
        let mut rng = ParamRng::new(seed);
        let factors = self
            .factors
            .iter()
            .enumerate()
            .map(|(i, f)| f.init(geometry, omega, i, &mut rng, device))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(WaveFunction { factors, geometry })
    }
}

impl WaveFunction {
    /// A product of built factors, without the product-level checks of
    /// [`WaveFunctionConfig::validate`] (used to test single factors).
    pub fn from_factors(factors: Vec<Factor>, geometry: Geometry) -> Self {
        Self { factors, geometry }
    }

    /// Particle layout.
    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// The Hermite Slater factors' kept blocks ([`crate::LogDetCache`]), shared with every
    /// copy of this wave function.
    pub fn log_det_caches(&self) -> Vec<crate::LogDetCache> {
        self.factors
            .iter()
            .filter_map(|f| match f {
                Factor::Slater(s) => Some(s.log_dets().clone()),
                _ => None,
            })
            .collect()
    }

    /// log|ψ| with derivatives up to `order`.
    ///
    /// # Shapes
    /// - x: `[walkers, N·d]`
    pub fn forward(&self, x: &Tensor<2>, order: Order) -> LogPsi {
        self.forward_with_spin(x, order).0
    }

    /// log|ψ| with derivatives up to `order` and, when the product has a spin-isospin
    /// correlator, its amplitudes with the same derivatives (log|ψ| then includes log|χ|).
    ///
    /// # Shapes
    /// - x: `[walkers, N·d]`
    pub fn forward_with_spin(
        &self,
        x: &Tensor<2>,
        order: Order,
    ) -> (LogPsi, Option<SpinAmplitudes>) {
        let (log_psi, spin, _) = self.forward_parts(x, order, false);
        (log_psi, spin)
    }

    /// [`Self::forward_with_spin`] and, where a Padé–Jastrow factor's host jet computed it on
    /// the way, Σ_{i<j} 1/r_ij per walker (`[walkers]`): the local energies hand it to the
    /// Coulomb term, which then needs no pair pass of its own.
    ///
    /// # Shapes
    /// - x: `[walkers, N·d]`
    pub fn forward_with_inverse_distance_sum(
        &self,
        x: &Tensor<2>,
        order: Order,
    ) -> (LogPsi, Option<SpinAmplitudes>, Option<Tensor<1>>) {
        self.forward_parts(x, order, true)
    }

    /// The factors' sum with the spin amplitudes and, when `inverse_sum`, the first
    /// Padé–Jastrow host jet's Σ 1/r.
    fn forward_parts(
        &self,
        x: &Tensor<2>,
        order: Order,
        inverse_sum: bool,
    ) -> (LogPsi, Option<SpinAmplitudes>, Option<Tensor<1>>) {
        // Walkers on an autodiff device that carry no graph are constants: the ops on them
        // alone run on the plain backend, without autodiff's bookkeeping, and meet the
        // tracked parameters as constants (the trainer's gradient passes hand over plain
        // walkers directly).
        let plain;
        let x = if x.is_autodiff() && !x.is_tracked() {
            plain = x.clone().without_autodiff();
            &plain
        } else {
            x
        };
        let (mut spin, mut sum) = (None, None);
        let log_psi = self
            .factors
            .iter()
            .map(|f| match f {
                Factor::SpinCorrelator(c) => {
                    let amplitudes = c.amplitudes(x, order);
                    let log_norm = SpinCorrelator::log_norm(&amplitudes, order);
                    spin = Some(amplitudes);
                    log_norm
                }
                Factor::Pade(p) if inverse_sum && sum.is_none() => {
                    match p.forward_with_inverse_distance_sum(x, order) {
                        Some((jet, s)) => {
                            sum = Some(s);
                            jet
                        }
                        None => f.forward(x, order).0,
                    }
                }
                other => other.forward(x, order).0,
            })
            .reduce(LogPsi::add)
            .expect("a validated wave function has at least one factor");
        (log_psi, spin, sum)
    }

    /// log|ψ| only, `[walkers]`: differentiable in the parameters when the module lives on
    /// an autodiff device. Untracked Slater–Jastrow products on flex f64 take the host pass
    /// ([`HostLogPsi`]).
    pub fn log_psi(&self, x: &Tensor<2>) -> Tensor<1> {
        match HostLogPsi::for_walkers(self, x) {
            Some(host) => host.log_psi_tensor(x),
            None => self.forward(x, Order::Value).value,
        }
    }

    /// The spin-isospin correlator, when the product has one.
    pub fn spin_correlator(&self) -> Option<&SpinCorrelator> {
        self.factors.iter().find_map(|f| match f {
            Factor::SpinCorrelator(c) => Some(c),
            _ => None,
        })
    }

    /// sign(ψ), `[walkers]` (+1 for factors without a sign).
    pub fn sign(&self, x: &Tensor<2>) -> Tensor<1> {
        let [w, _] = x.dims();
        let mut sign: Tensor<1> = Tensor::ones([w], &x.device());
        for f in &self.factors {
            if let (_, Some(s)) = f.forward(x, Order::Value) {
                sign = sign * s;
            }
        }
        sign
    }

    /// The RBM, when the wave function is a single full (not per-particle) RBM: the case in
    /// which Gibbs sampling of |ψ|² is exact.
    pub fn pure_rbm(&self) -> Option<&crate::factors::Rbm> {
        match self.factors.as_slice() {
            [Factor::Rbm(rbm)] if !rbm.per_particle => Some(rbm),
            _ => None,
        }
    }
}
