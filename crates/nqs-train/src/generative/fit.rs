//! Maximum-likelihood training of an RBM on data.
//!
//! The gradient of the average log-likelihood ⟨log p(x)⟩_data = −⟨F⟩_data − log Z is
//! −⟨∂F/∂θ⟩_data + ⟨∂F/∂θ⟩_model (the positive and negative phases). Autodiff of the loss
//! L = mean F(x_data) − mean F(x̃) with the model samples x̃ held constant gives exactly
//! −(that gradient), so the optimiser descends L; with the exact negative phase the second
//! term is Σ_x p(x) F(x) with p(x) held constant.

use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::{Device, Tensor, TensorData};
use nqs_boltzmann::exact::{self, HostRbm};
use nqs_boltzmann::{AisSettings, Dataset, Rbm, TransverseIsing, ais_log_partition};
use nqs_sampler::gibbs_sweep;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::config::{FitConfig, FitOptimizer, LogZMethod, NegativePhase, Target};
use crate::TrainError;

/// Smaller-layer size up to which `log_z = "auto"` enumerates exactly.
pub const AUTO_EXACT_UNITS: usize = 20;

/// Metrics of one epoch (likelihoods only at evaluation epochs).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EpochMetrics {
    /// Epochs completed.
    pub epoch: usize,
    /// Wall seconds of this epoch's training (not its evaluation).
    pub seconds: f64,
    /// The evaluation, when this epoch had one.
    pub evaluation: Option<Likelihood>,
}

/// Likelihoods of the machine at one point of training.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Likelihood {
    /// log Z.
    pub log_z: f64,
    /// Its standard error (0 when exact).
    pub log_z_error: f64,
    /// Average log-likelihood per sample of the training data.
    pub train: f64,
    /// Of the validation data (NaN without a validation split; JSON writes NaN as null).
    #[serde(deserialize_with = "null_as_nan")]
    pub valid: f64,
    /// KL(p_target ‖ p_model) in nats, when the target distribution is known.
    pub kl: Option<f64>,
    /// |⟨ψ_target|√p_model⟩|² for a tomography target.
    pub fidelity: Option<f64>,
}

/// An f64 that JSON may hold as null (serde_json writes NaN as null).
fn null_as_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// The exact target distribution over every visible state.
#[derive(Debug, Clone)]
pub struct ExactTarget {
    /// p(x) by state index.
    pub probabilities: Vec<f64>,
    /// ψ(x) = √p(x) for a quantum ground state.
    pub amplitudes: Option<Vec<f64>>,
}

/// A generative training in progress.
pub struct Fitter {
    /// Resolved configuration.
    pub config: FitConfig,
    /// Plain device.
    pub device: Device,
    /// The machine, on the autodiff device.
    pub model: Rbm,
    /// Optimiser.
    pub optimizer: ModuleOptimizer,
    /// Shuffles and Gibbs noise.
    pub rng: ChaCha8Rng,
    /// Persistent chains (PCD), `[chains, n_visible]`.
    pub chains: Option<Tensor<2>>,
    /// Completed epochs.
    pub epoch: usize,
    /// Metrics of every epoch.
    pub history: Vec<EpochMetrics>,
    /// Training samples.
    pub train: Dataset,
    /// Validation samples.
    pub valid: Dataset,
    /// The exact distribution of the data, when known.
    pub exact: Option<ExactTarget>,
    /// Whether an AIS estimate below the data's lower bound, and one whose weight sits on
    /// few chains, were already reported (each once per fit).
    ais_warned: [std::sync::atomic::AtomicBool; 2],
}

/// Split `data` into training and validation parts by a shuffle seeded with `seed`.
pub fn split(data: &Dataset, fraction: f64, seed: u64) -> (Dataset, Dataset) {
    let mut order: Vec<usize> = (0..data.rows).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed ^ 0x5EED_5B11));
    let n_valid = ((data.rows as f64) * fraction).round() as usize;
    let (valid, train) = order.split_at(n_valid);
    (data.subset(train), data.subset(valid))
}

/// Rows of `data` as a `[rows, columns]` tensor.
pub fn tensor(data: &Dataset, device: &Device) -> Tensor<2> {
    Tensor::from_data(
        TensorData::new(data.values.clone(), [data.rows, data.columns]),
        device,
    )
}

fn host(t: Tensor<1>) -> Vec<f64> {
    crate::to_host(t)
}

impl Fitter {
    /// A fresh training of `config` on `data` (its samples, already read), validated on
    /// `validation` when given, else on the configured fraction of `data`.
    pub fn new(
        config: FitConfig,
        data: &Dataset,
        validation: Option<&Dataset>,
        device: Device,
    ) -> Result<Self, TrainError> {
        if let Some(sites) = config.target_sites()
            && sites != data.columns
        {
            return Err(TrainError::InvalidValue {
                field: "target".into(),
                value: format!("{sites} spins"),
                allowed: format!("the data's {} visible units per sample", data.columns),
            });
        }
        let (train, valid) = match validation {
            Some(v) if v.columns != data.columns => {
                return Err(TrainError::InvalidValue {
                    field: "data.validation_path".into(),
                    value: format!("{} values per sample", v.columns),
                    allowed: format!("the training data's {}", data.columns),
                });
            }
            Some(v) => (data.clone(), v.clone()),
            None => split(data, config.data.validation_fraction, config.training.seed),
        };
        if train.rows == 0 {
            return Err(TrainError::InvalidValue {
                field: "data.validation_fraction".into(),
                value: config.data.validation_fraction.to_string(),
                allowed: format!(
                    "a fraction that leaves training samples ({} in all)",
                    data.rows
                ),
            });
        }
        let autodiff = device.clone().autodiff();
        let mean: Vec<f64> = (0..train.columns)
            .map(|k| (0..train.rows).map(|i| train.row(i)[k]).sum::<f64>() / train.rows as f64)
            .collect();
        let model = config
            .model
            .init(&mean, config.training.seed, &autodiff)
            .map_err(|e| TrainError::Unsupported(e.to_string()))?;
        let t = &config.training;
        let decay = (t.weight_decay > 0.0).then(|| WeightDecayConfig::new(t.weight_decay as f32));
        let optimizer = match t.optimizer {
            FitOptimizer::Adam => AdamConfig::new().with_weight_decay(decay).init(),
            FitOptimizer::Sgd => SgdConfig::new()
                .with_weight_decay(decay)
                .with_momentum((t.momentum > 0.0).then(|| {
                    MomentumConfig::new()
                        .with_momentum(t.momentum)
                        .with_dampening(0.0)
                }))
                .init(),
        };
        if t.negative_phase == NegativePhase::Exact && data.columns > AUTO_EXACT_UNITS {
            return Err(TrainError::InvalidValue {
                field: "training.negative_phase.kind".into(),
                value: "\"exact\"".into(),
                allowed: format!(
                    "cd, pcd or pt for {} visible units (exact enumerates at most 2^{AUTO_EXACT_UNITS} states)",
                    data.columns
                ),
            });
        }
        // The smaller layer is enumerated (the hidden one for Gaussian visible units), as in
        // `HostRbm::log_partition`: refused here, before the run directory is made.
        let hidden = config.model.hidden;
        let layer = if model.is_binary() {
            data.columns.min(hidden)
        } else {
            hidden
        };
        if config.evaluation.log_z == LogZMethod::Exact && layer > exact::MAX_ENUMERATED_UNITS {
            return Err(TrainError::InvalidValue {
                field: "evaluation.log_z".into(),
                value: "\"exact\"".into(),
                allowed: format!(
                    "\"ais\" or \"auto\" for this machine (exact log Z enumerates 2^{layer} states of its smaller layer, at most 2^{})",
                    exact::MAX_ENUMERATED_UNITS
                ),
            });
        }
        let mut rng = ChaCha8Rng::seed_from_u64(config.training.seed.wrapping_add(0xC4A1));
        let chains = match t.negative_phase {
            NegativePhase::Pcd { chains, .. } | NegativePhase::Pt { chains, .. } => {
                // Chains (every replica's) start at random training samples.
                let replicas = match t.negative_phase {
                    NegativePhase::Pt { replicas, .. } => replicas,
                    _ => 1,
                };
                let n = chains.unwrap_or(t.batch_size) * replicas;
                let picks: Vec<usize> = (0..n)
                    .map(|_| rand::Rng::random_range(&mut rng, 0..train.rows))
                    .collect();
                Some(tensor(&train.subset(&picks), &device))
            }
            _ => None,
        };
        let exact = exact_target(&config)?;
        Ok(Self {
            config,
            device,
            model,
            optimizer,
            rng,
            chains,
            epoch: 0,
            history: Vec::new(),
            train,
            valid,
            exact,
            ais_warned: Default::default(),
        })
    }

    /// The machine on the plain device.
    pub fn frozen(&self) -> Rbm {
        self.model.valid()
    }

    /// One pass over the training data in shuffled mini-batches; returns its wall seconds.
    pub fn train_epoch(&mut self) -> Result<f64, TrainError> {
        let start = std::time::Instant::now();
        let mut order: Vec<usize> = (0..self.train.rows).collect();
        order.shuffle(&mut self.rng);
        let batch = self.config.training.batch_size;
        let lr = self.config.learning_rate(self.epoch);
        let all_states = match self.config.training.negative_phase {
            NegativePhase::Exact => Some(all_states(self.train.columns, &self.device)),
            _ => None,
        };
        for rows in order.chunks(batch) {
            let x = tensor(&self.train.subset(rows), &self.device);
            let frozen = self.frozen();
            let positive = self.model.free_energy(&x.clone().autodiff()).mean();
            let negative = match self.config.training.negative_phase {
                NegativePhase::Cd { k } => {
                    let mut v = x;
                    for _ in 0..k {
                        v = gibbs_sweep(&frozen, &v, &mut self.rng).1;
                    }
                    self.model.free_energy(&v.autodiff()).mean()
                }
                NegativePhase::Pcd { k, .. } => {
                    let mut v = self.chains.take().expect("PCD keeps chains");
                    for _ in 0..k {
                        v = gibbs_sweep(&frozen, &v, &mut self.rng).1;
                    }
                    self.chains = Some(v.clone());
                    self.model.free_energy(&v.autodiff()).mean()
                }
                NegativePhase::Pt { k, replicas, .. } => {
                    let v = self.chains.take().expect("PT keeps chains");
                    let v = tempered_sweeps(&frozen, v, replicas, k, &mut self.rng);
                    self.chains = Some(v.clone());
                    let n = v.dims()[0] / replicas;
                    let top = v.slice([(replicas - 1) * n..replicas * n]);
                    self.model.free_energy(&top.autodiff()).mean()
                }
                NegativePhase::Exact => {
                    let states = all_states.clone().expect("built above");
                    exact_negative_phase(&self.model, &states)?
                }
            };
            let loss = positive - negative;
            let grads = GradientsParams::from_grads(loss.backward(), &self.model);
            self.model = self.optimizer.step(lr, self.model.clone(), grads);
        }
        if !crate::checkpoint::parameters_finite(&self.model) {
            return Err(TrainError::NonFinite {
                what: "RBM parameter (lower training.learning_rate)",
                step: self.epoch + 1,
            });
        }
        self.epoch += 1;
        Ok(start.elapsed().as_secs_f64())
    }

    /// A strict lower bound on log Z of a binary machine: log Σ e^(−F(x)) over the distinct
    /// samples x of the data (Z sums e^(−F) over every visible state, these among them).
    fn data_log_z_bound(&self, rbm: &Rbm) -> Option<f64> {
        if !rbm.is_binary() {
            return None;
        }
        let mut seen = std::collections::HashSet::new();
        let mut acc = exact::LogSumExp::default();
        for data in [&self.train, &self.valid] {
            let distinct: Vec<usize> = (0..data.rows)
                .filter(|&i| seen.insert(data.row(i).iter().map(|&v| v > 0.5).collect::<Vec<_>>()))
                .collect();
            if distinct.is_empty() {
                continue;
            }
            let f = host(rbm.free_energy(&tensor(&data.subset(&distinct), &self.device)));
            for v in f {
                acc.add(-v);
            }
        }
        Some(acc.value())
    }

    /// log Z, exact or by AIS as configured, with its error.
    pub fn log_partition(&self, rbm: &Rbm) -> Result<(f64, f64), TrainError> {
        let smaller = if rbm.is_binary() {
            rbm.n_visible().min(rbm.n_hidden())
        } else {
            rbm.n_hidden()
        };
        let e = &self.config.evaluation;
        let exact = match e.log_z {
            LogZMethod::Exact => true,
            LogZMethod::Ais => false,
            LogZMethod::Auto => smaller <= AUTO_EXACT_UNITS,
        };
        if exact {
            let log_z = HostRbm::from_rbm(rbm)
                .log_partition()
                .map_err(|e| TrainError::Unsupported(e.to_string()))?;
            Ok((log_z, 0.0))
        } else {
            let estimate = ais_log_partition(
                rbm,
                &AisSettings {
                    chains: e.ais_chains,
                    steps: e.ais_steps,
                    seed: self.config.training.seed.wrapping_add(self.epoch as u64),
                },
                &self.device,
            );
            let bound = self
                .data_log_z_bound(rbm)
                .filter(|&b| estimate.log_z + 3.0 * estimate.error < b);
            let kind = if bound.is_some() { 0 } else { 1 };
            let unreliable = bound.is_some() || !estimate.error_is_reliable(e.ais_chains);
            if unreliable && !self.ais_warned[kind].swap(true, std::sync::atomic::Ordering::Relaxed)
            {
                let why = match bound {
                    Some(b) => format!(
                        "log Z = {:.4} ± {:.4} is below log Σ e^(−F) over the data's distinct samples, {b:.4}, a strict lower bound (the chains missed the machine's modes)",
                        estimate.log_z, estimate.error
                    ),
                    None => format!(
                        "{:.1} of {} chains carry the weight, so log Z (biased low) and its error are unreliable",
                        estimate.effective_chains, e.ais_chains
                    ),
                };
                tracing::warn!(
                    "AIS at epoch {}: {why}; raise evaluation.ais_steps (now {})",
                    self.epoch,
                    e.ais_steps
                );
            }
            Ok((estimate.log_z, estimate.error))
        }
    }

    /// Likelihoods (and KL, fidelity against a known target) of the current machine.
    pub fn evaluate(&self) -> Result<Likelihood, TrainError> {
        let rbm = self.frozen();
        let (log_z, log_z_error) = self.log_partition(&rbm)?;
        let mean_ll = |data: &Dataset| {
            if data.rows == 0 {
                return f64::NAN;
            }
            let f = host(rbm.free_energy(&tensor(data, &self.device)));
            -f.iter().sum::<f64>() / f.len() as f64 - log_z
        };
        let (mut kl, mut fidelity) = (None, None);
        if let Some(target) = &self.exact {
            let log_q = HostRbm::from_rbm(&rbm)
                .log_probabilities()
                .map_err(|e| TrainError::Unsupported(e.to_string()))?;
            kl = Some(exact::kl_divergence(&target.probabilities, &log_q));
            fidelity = target
                .amplitudes
                .as_ref()
                .map(|psi| exact::fidelity(psi, &log_q));
        }
        Ok(Likelihood {
            log_z,
            log_z_error,
            train: mean_ll(&self.train),
            valid: mean_ll(&self.valid),
            kl,
            fidelity,
        })
    }

    /// Whether epoch `epoch` (1-based) is evaluated.
    pub fn evaluates(&self, epoch: usize) -> bool {
        epoch % self.config.evaluation.every == 0 || epoch == self.config.training.epochs
    }

    /// Gibbs samples of the trained machine: `chains` chains after `burn_in` sweeps, one
    /// sample every `thinning` sweeps; rows `[samples_per_chain · chains, n_visible]`,
    /// time-major (all chains at the first time, then the second, …).
    pub fn sample(&self, seed: u64) -> Vec<Vec<f64>> {
        let e = &self.config.evaluation;
        let rbm = self.frozen();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let picks: Vec<usize> = (0..e.chains)
            .map(|_| rand::Rng::random_range(&mut rng, 0..self.train.rows))
            .collect();
        let mut x = tensor(&self.train.subset(&picks), &self.device);
        for _ in 0..e.burn_in {
            x = gibbs_sweep(&rbm, &x, &mut rng).1;
        }
        let mut rows = Vec::with_capacity(e.chains * e.samples_per_chain);
        for _ in 0..e.samples_per_chain {
            for _ in 0..e.thinning {
                x = gibbs_sweep(&rbm, &x, &mut rng).1;
            }
            let [c, m] = x.dims();
            let flat = host(x.clone().reshape([c * m]));
            rows.extend(flat.chunks(m).map(<[f64]>::to_vec));
        }
        rows
    }
}

/// Parallel tempering: `k` Gibbs sweeps of every replica at its β_r = r/(R − 1), then swap
/// attempts between neighbouring replicas (pairs (0,1), (2,3), … then (1,2), (3,4), …).
/// `chains` is `[R · C, n_visible]`, replica r in rows r·C..(r + 1)·C.
pub fn tempered_sweeps(
    rbm: &Rbm,
    chains: Tensor<2>,
    replicas: usize,
    k: usize,
    rng: &mut ChaCha8Rng,
) -> Tensor<2> {
    let [rows, _] = chains.dims();
    let c = rows / replicas;
    let beta = |r: usize| r as f64 / (replicas - 1) as f64;
    let mut x: Vec<Tensor<2>> = (0..replicas)
        .map(|r| chains.clone().slice([r * c..(r + 1) * c]))
        .collect();
    for (r, xr) in x.iter_mut().enumerate() {
        for _ in 0..k {
            *xr = gibbs_sweep(&rbm.at(beta(r)), xr, rng).1;
        }
    }
    for parity in 0..2 {
        for r in (parity..replicas - 1).step_by(2) {
            let (lo, hi) = (x[r].clone(), x[r + 1].clone());
            let log_accept = rbm.free_energy_at(&lo, beta(r))
                + rbm.free_energy_at(&hi, beta(r + 1))
                - rbm.free_energy_at(&hi, beta(r))
                - rbm.free_energy_at(&lo, beta(r + 1));
            let u = nqs_sampler::Noise::uniform(rng, c, 1, &lo.device());
            let swap = u.log().lower(log_accept.unsqueeze_dim::<2>(1)).float();
            let delta = (hi.clone() - lo.clone()) * swap;
            x[r] = lo + delta.clone();
            x[r + 1] = hi - delta;
        }
    }
    Tensor::cat(x, 0)
}

/// The exact negative phase Σ_x p(x) F(x) over `states` (every visible state), with p
/// held constant: its gradient is ⟨∂F/∂θ⟩_model. `model` is on the autodiff device.
pub fn exact_negative_phase(model: &Rbm, states: &Tensor<2>) -> Result<Tensor<1>, TrainError> {
    let log_p = HostRbm::from_rbm(&model.valid())
        .log_probabilities()
        .map_err(|e| TrainError::Unsupported(e.to_string()))?;
    let p: Vec<f64> = log_p.into_iter().map(f64::exp).collect();
    let n = p.len();
    let device = states.device();
    let weights = Tensor::<1>::from_data(TensorData::new(p, [n]), &device);
    Ok((model.free_energy(&states.clone().autodiff()) * weights.autodiff()).sum())
}

/// Every binary state of `n` units as rows (unit k is bit k), `[2ⁿ, n]`.
pub fn all_states(n: usize, device: &Device) -> Tensor<2> {
    let values: Vec<f64> = (0..1usize << n)
        .flat_map(|s| exact::state_bits(s, n))
        .collect();
    Tensor::from_data(TensorData::new(values, [1 << n, n]), device)
}

/// The exact distribution of the configured target, when it can be enumerated.
pub fn exact_target(config: &FitConfig) -> Result<Option<ExactTarget>, TrainError> {
    let unsupported = |e: nqs_boltzmann::BoltzmannError| TrainError::Unsupported(e.to_string());
    Ok(match &config.target {
        Some(Target::Ising(ising)) if ising.side <= nqs_boltzmann::ising::MAX_EXACT_SIDE => {
            Some(ExactTarget {
                probabilities: ising.exact_distribution().map_err(unsupported)?,
                amplitudes: None,
            })
        }
        Some(Target::Tfim(chain)) => {
            let gs = TransverseIsing::ground_state(chain).map_err(unsupported)?;
            Some(ExactTarget {
                probabilities: gs.amplitudes.iter().map(|a| a * a).collect(),
                amplitudes: Some(gs.amplitudes),
            })
        }
        _ => None,
    })
}
