//! The VMC training loop: sample, local energies, covariance-gradient step.
//!
//! One optimisation step: `sampler.moves_per_sample` Markov moves of every walker; E_L at
//! the new walkers by the forward Laplacian (no tape); the surrogate loss
//! 2·mean(stop_grad(E_L − Ē)·log|ψ|) differentiated by burn autodiff; one optimiser update.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, ModuleOptimizer, SgdConfig};
use burn::tensor::Device;
use nqs_model::WaveFunction;
use nqs_sampler::SamplerState;
use serde::{Deserialize, Serialize};

use nqs_physics::{Hamiltonian, local_energy_parallel};

use crate::config::{Config, OptimizerKind};
use crate::distributed::Comm;
use crate::distributed::chains::chain_seed;
use crate::gradient::{AmplitudeWeights, Split, surrogate_gradient};
use crate::loss::centred_clipped;
use crate::observables::{
    self, Density, DensityResult, PairDistribution, PairDistributionResult, StructureFactor,
    StructureFactorResult,
};
use crate::params::{grads_to_vec, vec_to_grads};
use crate::sr::Ranks;
use crate::stats::Stats;
use crate::{TrainError, to_host};

/// One row of `metrics.csv`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StepMetrics {
    /// Optimisation step (1-based).
    pub step: usize,
    /// Mean local energy of this step's batch.
    pub energy: f64,
    /// √(variance / walkers).
    pub energy_error: f64,
    /// Variance of the local energy.
    pub variance: f64,
    /// Acceptance of this step's moves.
    pub acceptance: f64,
    /// Learning rate used for the update.
    pub learning_rate: f64,
    /// Wall time of the step.
    pub seconds: f64,
    /// Wall time of the Markov moves.
    pub sampling_seconds: f64,
    /// Wall time of the local energies (forward Laplacian).
    pub local_energy_seconds: f64,
    /// Wall time of the loss, its backward pass and the optimiser update.
    pub gradient_seconds: f64,
    /// Rollbacks after non-finite steps so far.
    pub rollbacks: usize,
    /// Conjugate-gradient iterations of the SR solve (0 for other optimisers).
    #[serde(default)]
    pub cg_iterations: usize,
    /// Final relative CG residual of the SR solve (0 for other optimisers).
    #[serde(default)]
    pub cg_residual: f64,
    /// Wall time spent in collectives between ranks (0 for one process).
    #[serde(default)]
    pub communication_seconds: f64,
}

/// Final evaluation at frozen parameters.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// Total energy with blocking error.
    pub energy: Stats,
    /// Kinetic energy.
    pub kinetic: Stats,
    /// Potential energy.
    pub potential: Stats,
    /// Each potential term by name (`trap`, `coulomb`, `v2`, `v3`).
    pub terms: Vec<(String, Stats)>,
    /// ⟨r²⟩ per particle (about the centre of mass for a self-bound system).
    pub r2: Stats,
    /// One-body density, when measured.
    pub density: Option<DensityResult>,
    /// Spin-resolved pair distribution, when measured.
    pub pair_distribution: Option<PairDistributionResult>,
    /// Static structure factor S(k) (periodic systems).
    pub structure_factor: Option<StructureFactorResult>,
    /// Acceptance during the evaluation.
    pub acceptance: f64,
    /// Wall time of the evaluation.
    pub seconds: f64,
}

/// Everything a training run holds.
pub struct Trainer {
    /// Resolved configuration.
    pub config: Config,
    /// The plain device (sampling, local energies).
    pub device: Device,
    /// The wave function on the autodiff device.
    pub model: WaveFunction,
    /// Optimiser with its state.
    pub optimizer: ModuleOptimizer,
    /// Walkers and chain state.
    pub sampler: SamplerState,
    /// The Hamiltonian.
    pub hamiltonian: Hamiltonian,
    /// Completed optimisation steps.
    pub step: usize,
    /// Whether the burn-in has been done.
    pub burned_in: bool,
    /// Metrics of every completed step.
    pub history: Vec<StepMetrics>,
    /// Factor on the scheduled learning rate (halved at every rollback).
    pub learning_rate_scale: f64,
    /// Rollbacks after non-finite steps.
    pub rollbacks: usize,
    /// The last SR solution δ, the warm start of the next solve.
    pub sr_delta: Option<Vec<f64>>,
    /// Wait for the device at the end of every step, so that step times are device times
    /// (benchmarks; CPU backends are synchronous anyway).
    pub profile: bool,
    /// The ranks of the run; this process owns the walkers `comm.walkers(sampler.walkers)`.
    pub comm: Comm,
    /// Raised by Ctrl-C or SIGTERM: burn-ins and evaluations end with [`TrainError::Stopped`]
    /// (a step in progress finishes; the training loop checks between steps).
    pub stop: Option<Arc<AtomicBool>>,
}

/// Every rank must train the same resolved config: a stale copy of the file on one node,
/// or a `--set` that reached one rank only, broke the collectives (a panic slicing another
/// rank's walker count, a hang) or was caught only by the parameter checksum after a
/// checkpoint had been written. Every rank compares every rank's config with rank 0's, so
/// all reach the same decision. Threads per rank may differ.
fn check_same_config(config: &Config, comm: Comm) -> Result<(), TrainError> {
    if comm.size() == 1 {
        return Ok(());
    }
    let all = comm.gather_bytes(config.to_toml().as_bytes());
    let parse = |rank: usize| {
        Config::parse(
            &String::from_utf8_lossy(&all[rank]),
            &[],
            &format!("the config of rank {rank}"),
        )
    };
    let first = parse(0)?;
    for rank in 1..all.len() {
        if let Some((key, on_root, there)) =
            first.first_difference(&parse(rank)?, &["sampler.threads"])
        {
            return Err(TrainError::Distributed(format!(
                "rank {rank} resolved another config than rank 0: {key} = {there} there, {on_root} on rank 0 (every rank must read the same config file and flags)"
            )));
        }
    }
    Ok(())
}

impl Trainer {
    /// Build model, optimiser and walkers for `config` on the plain `device` (one process).
    pub fn new(config: Config, device: Device) -> Result<Self, TrainError> {
        Self::distributed(config, device, Comm::single())
    }

    /// [`Trainer::new`] for `nqs-train eval`: the parameters are only evaluated, so a run
    /// trained by SR (f64 only) may be evaluated in f32, e.g. on a GPU.
    pub fn for_evaluation(mut config: Config, device: Device) -> Result<Self, TrainError> {
        let kind = config.optimizer.kind;
        config.optimizer.kind = OptimizerKind::Sgd;
        let mut trainer = Self::new(config, device)?;
        trainer.config.optimizer.kind = kind;
        Ok(trainer)
    }

    /// [`Trainer::new`] for rank `comm.rank()` of a run over `comm.size()` ranks: the same
    /// model on every rank, this rank's block of the walkers with its own generator.
    pub fn distributed(mut config: Config, device: Device, comm: Comm) -> Result<Self, TrainError> {
        if !crate::backend::is_cpu(&device) {
            // Walker blocks on threads help only backends that run each op on one core.
            config.sampler.threads = 1;
        }
        let float_bytes = match device.settings().float_dtype {
            burn::tensor::FloatDType::F64 => 8,
            _ => 4,
        };
        check_same_config(&config, comm)?;
        // The same decision on every rank (the config is the same), before any file is written.
        if config.sampler.walkers < comm.size() {
            return Err(TrainError::InvalidValue {
                field: "sampler.walkers".into(),
                value: config.sampler.walkers.to_string(),
                allowed: format!("at least one per rank ({} ranks)", comm.size()),
            });
        }
        let (_, local_walkers) = comm.walkers(config.sampler.walkers);
        let geometry = config.geometry();
        let autodiff = device.clone().autodiff();
        let scale = config.system.trial_scale();
        let model = config
            .model
            .init(geometry, scale, config.run.seed, &autodiff)?;
        if let nqs_physics::SystemConfig::QuantumDot(dot) = &config.system
            && dot.interaction == nqs_physics::quantum_dot::Interaction::None
            && config
                .model
                .factors
                .iter()
                .any(|f| matches!(f, nqs_model::FactorConfig::PadeJastrow(_)))
            && comm.is_root()
        {
            tracing::warn!(
                "a pade_jastrow factor with system.interaction = \"none\": its fixed cusp is the Coulomb one, so the local energy keeps a −a/r term with no potential to cancel it (in 2D its variance diverges logarithmically and the error bars are not reliable); leave the factor out"
            );
        }
        // Electrons (spins tied to particles: every system but a nucleus) with two or more of
        // one spin need a factor that is antisymmetric in them; without one the state is
        // bosonic and its energy lies below the fermion ground state, not above it.
        let same_spin = geometry.n_up.max(geometry.n_particles - geometry.n_up);
        if geometry.protons.is_none()
            && same_spin >= 2
            && !config.model.factors.iter().any(|f| {
                matches!(
                    f,
                    nqs_model::FactorConfig::Slater(_)
                        | nqs_model::FactorConfig::Backflow(_)
                        | nqs_model::FactorConfig::PlaneWaveSlater(_)
                )
            })
            && comm.is_root()
        {
            tracing::warn!(
                "no slater, backflow or plane_wave_slater factor for {same_spin} electrons of one spin: the state is symmetric in them (bosons), so its energy is no upper bound on the electrons' ground state"
            );
        }
        if model.num_params() == 0 && config.run.steps > 0 {
            // e.g. a plane-wave determinant alone (Hartree–Fock by VMC): nothing to optimise.
            return Err(TrainError::InvalidValue {
                field: "run.steps".into(),
                value: config.run.steps.to_string(),
                allowed: "0 for a model without parameters (it is only evaluated)".into(),
            });
        }
        let layout = crate::memory::Layout {
            float_bytes,
            cpu: crate::backend::is_cpu(&device),
            host_moves: config.sampler.kind == nqs_sampler::SamplerKind::Metropolis
                && nqs_model::HostLogPsi::new(&model.valid()).is_some(),
            processes: 1,
        };
        if comm.size() == 1 {
            crate::memory::check(&config, layout)?;
        } else {
            // The ranks of one node share its memory: check this rank's block times their
            // count; nodes may differ, so every rank learns whether any refused.
            let mut per_node = config.clone();
            let on_node = crate::distributed::ranks_on_this_node();
            per_node.sampler.walkers = local_walkers * on_node;
            // Each rank holds its own chunks and kept log|det|: the node's jets are bounded
            // by all their threads, its kept blocks by all their caps.
            per_node.sampler.threads = config.sampler.threads * on_node;
            let node = crate::memory::Layout {
                processes: on_node,
                ..layout
            };
            let refusal = match crate::memory::check(&per_node, node) {
                Ok(()) => String::new(),
                Err(e) => format!(
                    "{e} (for the {on_node} ranks on its node with {local_walkers} walkers each)"
                ),
            };
            let refusals = comm.gather_bytes(refusal.as_bytes());
            if let Some((rank, why)) = refusals.iter().enumerate().find(|(_, m)| !m.is_empty()) {
                return Err(TrainError::Distributed(format!(
                    "rank {rank}: {}",
                    String::from_utf8_lossy(why)
                )));
            }
        }
        let optimizer = match config.optimizer.kind {
            OptimizerKind::Adam => AdamConfig::new().init(),
            // SR updates the parameters itself; the (stateless) SGD optimiser stands in.
            OptimizerKind::Sgd | OptimizerKind::Sr => SgdConfig::new().init(),
        };
        if config.optimizer.kind == OptimizerKind::Sr
            && device.settings().float_dtype != burn::tensor::FloatDType::F64
        {
            return Err(TrainError::InvalidValue {
                field: "optimizer.kind".into(),
                value: "\"sr\"".into(),
                allowed: "adam or sgd at this precision: sr needs --precision f64 (its O·v products are finite differences)".into(),
            });
        }
        let mut sampler = SamplerState::new(
            local_walkers,
            geometry.n_coords(),
            config.sampler.init_width / scale.sqrt(),
            config.sampler.step_size,
            chain_seed(config.run.seed, comm.rank()),
            &device,
        );
        if let Some(length) = geometry.cell {
            sampler.spread_uniformly(length);
        }
        let hamiltonian = config.system.hamiltonian();
        Ok(Self {
            config,
            device,
            model,
            optimizer,
            sampler,
            hamiltonian,
            step: 0,
            burned_in: false,
            history: Vec::new(),
            learning_rate_scale: 1.0,
            rollbacks: 0,
            sr_delta: None,
            profile: false,
            comm,
            stop: None,
        })
    }

    /// Walkers per local-energy chunk: on a CPU small enough for a core's caches
    /// ([`crate::memory::local_energy_chunk`]); a GPU takes all walkers at once.
    fn local_energy_chunk(&self) -> usize {
        if crate::backend::is_cpu(&self.device) {
            crate::memory::local_energy_chunk(
                &self.config,
                crate::backend::runs_host_passes(&self.device),
            )
        } else {
            usize::MAX
        }
    }

    /// Walkers per gradient chunk, as [`Self::local_energy_chunk`]
    /// ([`crate::memory::gradient_chunk`] on a CPU).
    fn gradient_chunk(&self) -> usize {
        if crate::backend::is_cpu(&self.device) {
            crate::memory::gradient_chunk(
                &self.config,
                crate::backend::runs_host_passes(&self.device),
            )
        } else {
            usize::MAX
        }
    }

    /// Walkers of `walkers` whose Slater log|det| a step keeps for its gradient pass
    /// ([`crate::memory::kept_log_det_walkers`]): on flex in f64, where the host jet files
    /// them; none elsewhere.
    fn kept_log_det_walkers(&self, walkers: usize) -> usize {
        if crate::backend::runs_host_passes(&self.device) {
            crate::memory::kept_log_det_walkers(&self.config, walkers)
        } else {
            0
        }
    }

    /// This rank's walkers `(start, len)` in the global walker order.
    pub fn local_walkers(&self) -> (usize, usize) {
        self.comm.walkers(self.config.sampler.walkers)
    }

    /// The acceptance of every rank's moves since the last reset (one process: its own).
    fn global_acceptance(&self, communication: &mut f64) -> f64 {
        let local = self.sampler.acceptance();
        if self.comm.size() == 1 {
            return local;
        }
        let start = Instant::now();
        let (_, len) = self.local_walkers();
        let mut v = [local * len as f64];
        self.comm.sum(&mut v);
        *communication += start.elapsed().as_secs_f64();
        v[0] / self.config.sampler.walkers as f64
    }

    /// Number of variational parameters.
    pub fn n_parameters(&self) -> usize {
        self.model.num_params()
    }

    /// The wave function without autodiff (for sampling and local energies).
    pub fn frozen(&self) -> WaveFunction {
        self.model.valid()
    }

    fn ensure_burned_in(&mut self, psi: &WaveFunction) -> Result<(), TrainError> {
        if !self.burned_in {
            let mut progress = Progress::new("burn-in", "moves");
            let (stop, comm) = (self.stop.clone(), self.comm);
            let finished = nqs_sampler::burn_in_reporting(
                &self.config.sampler,
                &mut self.sampler,
                psi,
                &mut |done, total| {
                    progress.report(done, total);
                    !stop_raised(stop.as_deref(), comm)
                },
            )?;
            if !finished {
                return Err(TrainError::Stopped);
            }
            tracing::info!(
                step_size = self.sampler.step_size,
                "burn-in done ({} moves)",
                self.config.sampler.burn_in
            );
            self.burned_in = true;
        }
        Ok(())
    }

    /// One optimisation step.
    pub fn train_step(&mut self) -> Result<StepMetrics, TrainError> {
        let start = Instant::now();
        let psi = self.frozen();
        self.ensure_burned_in(&psi)?;
        self.sampler.reset_counters();
        nqs_sampler::advance(
            &self.config.sampler,
            &mut self.sampler,
            &psi,
            self.config.sampler.moves_per_sample,
        )?;
        let mut communication = 0.0;
        let own_acceptance = self.sampler.acceptance(); // reads the device: sampling is done
        if self.config.sampler.adapt_during_training {
            // Each rank tunes its own chains, as in the burn-in.
            nqs_sampler::adapt_step_size(&self.config.sampler, &mut self.sampler, own_acceptance);
        }
        let acceptance = if self.comm.size() == 1 {
            own_acceptance
        } else {
            self.global_acceptance(&mut communication)
        };
        let sampled = Instant::now();
        let x = self.sampler.x.clone();
        // The local energies' Slater log|det|, kept for this step's gradient pass.
        let _kept = KeptLogDets::new(&psi, self.kept_log_det_walkers(x.dims()[0]));
        let energies = local_energy_parallel(
            &psi,
            &self.hamiltonian,
            &x,
            self.config.sampler.threads,
            self.local_energy_chunk(),
        );
        let own_e_local = to_host(energies.total());
        let spin_residual = energies.spin_residual.map(AmplitudeWeights::from_tensor);
        let measured = Instant::now();
        // Every rank sees every walker's local energy: the same statistics, clipping and
        // centring as one process with all the walkers.
        let e_local = if self.comm.size() == 1 {
            own_e_local
        } else {
            let gathered = self.comm.gather(&own_e_local);
            communication += measured.elapsed().as_secs_f64();
            gathered
        };
        if e_local.iter().any(|e| !e.is_finite()) {
            return Err(TrainError::NonFinite {
                what: "local energy",
                step: self.step + 1,
            });
        }
        let stats = Stats::independent(&e_local);
        if !stats.variance.is_finite() {
            // Finite local energies whose squares overflow (|E_L| beyond 1e154): no step.
            return Err(TrainError::NonFinite {
                what: "local-energy variance",
                step: self.step + 1,
            });
        }
        let (start_w, len_w) = self.local_walkers();
        let centred_all = centred_clipped(&e_local, self.config.run.clip_width);
        let centred = &centred_all[start_w..start_w + len_w];

        let lr = self.config.optimizer.learning_rate_at(self.step) * self.learning_rate_scale;
        let split = Split {
            threads: self.config.sampler.threads,
            chunk: self.gradient_chunk(),
        };
        let (mut cg_iterations, mut cg_residual) = (0, 0.0);
        if self.config.optimizer.kind == OptimizerKind::Sr {
            let sr = &self.config.optimizer.sr;
            let (model, solution) = crate::sr::step(
                self.model.clone(),
                &x,
                centred,
                spin_residual.as_ref(),
                lr,
                sr.shift_at(self.step),
                sr,
                self.sr_delta.as_deref(),
                split,
                &Ranks {
                    comm: self.comm,
                    walkers: self.config.sampler.walkers,
                },
            );
            communication += solution.communication_seconds;
            self.model = model;
            (cg_iterations, cg_residual) = (solution.iterations, solution.residual);
            self.sr_delta = Some(solution.delta);
        } else {
            let mut grads =
                surrogate_gradient(&self.model, &x, centred, spin_residual.as_ref(), split);
            if self.comm.size() > 1 {
                let start = Instant::now();
                // This rank's share of the mean over all walkers, then the sum over ranks.
                let share = len_w as f64 / e_local.len() as f64;
                let mut g = grads_to_vec(&self.model, &grads);
                g.iter_mut().for_each(|v| *v *= share);
                self.comm.sum(&mut g);
                grads = vec_to_grads(&self.model, &g, &grads);
                communication += start.elapsed().as_secs_f64();
            }
            self.model = self.optimizer.step(lr, self.model.clone(), grads);
        }
        self.sampler.invalidate();
        self.step += 1;
        if self.profile {
            self.device
                .sync()
                .map_err(|e| TrainError::Unsupported(format!("device failed: {e}")))?;
        }
        let end = Instant::now();

        let metrics = StepMetrics {
            step: self.step,
            energy: stats.mean,
            energy_error: stats.error,
            variance: stats.variance,
            acceptance,
            learning_rate: lr,
            seconds: (end - start).as_secs_f64(),
            sampling_seconds: (sampled - start).as_secs_f64(),
            local_energy_seconds: (measured - sampled).as_secs_f64(),
            gradient_seconds: (end - measured).as_secs_f64(),
            rollbacks: self.rollbacks,
            cg_iterations,
            cg_residual,
            communication_seconds: communication,
        };
        self.history.push(metrics.clone());
        tracing::debug!(
            step = metrics.step,
            energy = metrics.energy,
            error = metrics.energy_error,
            variance = metrics.variance,
            acceptance = metrics.acceptance,
            "step"
        );
        Ok(metrics)
    }

    /// This rank's walkers on the host, `[walkers, particles, d]`, about each walker's centre
    /// of mass for a self-bound system (the frame of the observables).
    fn positions(&self) -> Vec<f64> {
        let geometry = self.config.geometry();
        let walkers = self.local_walkers().1;
        let mut x = to_host(
            self.sampler
                .x
                .clone()
                .reshape([walkers * geometry.n_coords()]),
        );
        if self.config.system.self_bound() {
            observables::subtract_centre_of_mass(&mut x, geometry.n_particles, geometry.dimensions);
        }
        x
    }

    /// Evaluate at frozen parameters with `samples_per_walker` measurements per walker.
    pub fn evaluate(&mut self, samples_per_walker: usize) -> Result<Evaluation, TrainError> {
        let start = Instant::now();
        let psi = self.frozen();
        self.ensure_burned_in(&psi)?;
        // This rank's walkers: every rank measures its own, and the sums meet at the end.
        let (_, walkers) = self.local_walkers();
        let comm = self.comm;
        let sampler_config = &self.config.sampler;
        nqs_sampler::advance(
            sampler_config,
            &mut self.sampler,
            &psi,
            self.config.eval.burn_in,
        )?;
        self.sampler.reset_counters();
        let n_samples = walkers * samples_per_walker;
        let mut kinetic = Vec::with_capacity(n_samples);
        let mut potential = Vec::with_capacity(n_samples);
        let term_names = self.hamiltonian.term_names();
        let mut terms: Vec<Vec<f64>> = vec![Vec::with_capacity(n_samples); term_names.len()];
        let mut r2 = Vec::with_capacity(n_samples);
        let obs = &self.config.eval.observables;
        let system = &self.config.system;
        let geometry = self.config.geometry();
        let (n, d) = (geometry.n_particles, geometry.dimensions);
        let mut extent = obs.extent_for(n, d, system.trial_scale());
        if obs.extent == 0.0 && geometry.cell.is_none() {
            extent = observables::extent_covering(extent, &self.positions(), d, &comm);
        }
        let blocks = obs.blocks.clamp(1, samples_per_walker);
        let cell = geometry.cell;
        let mut density =
            (obs.density && cell.is_none()).then(|| Density::new(d, obs.bins, extent, blocks));
        let mut pairs = (obs.pair_distribution && n > 1).then(|| match cell {
            Some(l) => PairDistribution::periodic(d, geometry.n_up, obs.bins, l, blocks),
            None => PairDistribution::new(d, geometry.n_up, obs.bins, 2.0 * extent, blocks),
        });
        let mut structure = cell.map(|l| StructureFactor::new(d, l, blocks));
        let mut progress = Progress::new("evaluation", "samples per walker");
        for t in 0..samples_per_walker {
            progress.report(t, samples_per_walker);
            if stop_raised(self.stop.as_deref(), comm) {
                return Err(TrainError::Stopped);
            }
            nqs_sampler::advance(
                sampler_config,
                &mut self.sampler,
                &psi,
                sampler_config.moves_per_sample,
            )?;
            let e = local_energy_parallel(
                &psi,
                &self.hamiltonian,
                &self.sampler.x,
                self.config.sampler.threads,
                self.local_energy_chunk(),
            );
            kinetic.extend(to_host(e.kinetic));
            potential.extend(to_host(e.potential));
            for (values, term) in terms.iter_mut().zip(e.terms) {
                values.extend(to_host(term));
            }
            let x = self.positions();
            r2.extend(match cell {
                Some(l) => observables::mean_pair_r2_periodic(&x, walkers, d, l),
                None => observables::mean_r2_per_particle(&x, walkers, n),
            });
            let block = t * blocks / samples_per_walker;
            if let Some(d) = density.as_mut() {
                d.add(&x, walkers, block);
            }
            if let Some(p) = pairs.as_mut() {
                p.add(&x, walkers, block);
            }
            if let Some(s) = structure.as_mut() {
                s.add(&x, walkers, block);
            }
        }
        let total: Vec<f64> = kinetic.iter().zip(&potential).map(|(k, v)| k + v).collect();
        if comm.any(total.iter().any(|e| !e.is_finite())) {
            return Err(TrainError::NonFinite {
                what: "local energy in the evaluation",
                step: self.step,
            });
        }
        let mut quantities: Vec<&[f64]> = vec![&total, &kinetic, &potential, &r2];
        quantities.extend(terms.iter().map(|t| t.as_slice()));
        let stats = crate::stats::chains_over_ranks(&comm, &quantities, walkers);
        if !(stats[0].variance.is_finite() && stats[0].error.is_finite()) {
            // Finite local energies whose squares overflow: no estimate to report.
            return Err(TrainError::NonFinite {
                what: "local-energy variance in the evaluation",
                step: self.step,
            });
        }
        for d in density.iter_mut() {
            d.sum_over_ranks(&comm);
        }
        for p in pairs.iter_mut() {
            p.sum_over_ranks(&comm);
        }
        for s in structure.iter_mut() {
            s.sum_over_ranks(&comm);
        }
        let acceptance = self.global_acceptance(&mut 0.0);
        if acceptance < 0.05 && comm.is_root() {
            tracing::warn!(
                "acceptance {acceptance:.3} in the evaluation: the walkers barely move, so the energy and its error describe where they stand, not |ψ|²; lower sampler.step_size (or keep sampler.adapt_step on)"
            );
        }
        Ok(Evaluation {
            energy: stats[0],
            kinetic: stats[1],
            potential: stats[2],
            terms: term_names
                .iter()
                .zip(&stats[4..])
                .map(|(name, stats)| (name.to_string(), *stats))
                .collect(),
            r2: stats[3],
            density: density.map(|d| d.result()),
            pair_distribution: pairs.map(|p| p.result()),
            structure_factor: structure.map(|s| s.result()),
            acceptance,
            seconds: start.elapsed().as_secs_f64(),
        })
    }
}

/// Whether `stop` (Ctrl-C, SIGTERM) was raised on any rank. Collective where a flag is given
/// (every rank passes one or none).
pub(crate) fn stop_raised(stop: Option<&AtomicBool>, comm: Comm) -> bool {
    stop.is_some_and(|s| comm.any(s.load(Ordering::SeqCst)))
}

/// Log lines for long phases without a progress bar (burn-in, evaluation): one every
/// [`Progress::EVERY`] seconds, none for a phase that ends sooner.
struct Progress {
    what: &'static str,
    unit: &'static str,
    start: Instant,
    last: Instant,
}

impl Progress {
    const EVERY: f64 = 5.0;

    fn new(what: &'static str, unit: &'static str) -> Self {
        let now = Instant::now();
        Self {
            what,
            unit,
            start: now,
            last: now,
        }
    }

    fn report(&mut self, done: usize, total: usize) {
        if self.last.elapsed().as_secs_f64() < Self::EVERY || done == 0 {
            return;
        }
        self.last = Instant::now();
        let elapsed = self.start.elapsed().as_secs_f64();
        let left = elapsed * (total - done.min(total)) as f64 / done as f64;
        tracing::info!(
            "{} {done}/{total} {}, {elapsed:.0} s so far, about {left:.0} s left",
            self.what,
            self.unit
        );
    }
}

/// Keeps the Slater blocks of `walkers` walkers' local energies for the gradient pass of the
/// same step ([`nqs_model::LogDetCache`]); dropped, releases them (at the end of the step,
/// or on an error in between).
struct KeptLogDets(Vec<nqs_model::LogDetCache>);

impl KeptLogDets {
    fn new(psi: &WaveFunction, walkers: usize) -> Self {
        let caches = if walkers > 0 {
            psi.log_det_caches()
        } else {
            Vec::new()
        };
        for cache in &caches {
            cache.keep(walkers);
        }
        Self(caches)
    }
}

impl Drop for KeptLogDets {
    fn drop(&mut self) {
        for cache in &self.0 {
            cache.release();
        }
    }
}
