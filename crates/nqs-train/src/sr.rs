//! Stochastic reconfiguration (Sorella 1998; the natural gradient of VMC).
//!
//! Solve (S + λ I) δ = F by conjugate gradients and move θ ← θ − η δ, with
//! O_w = ∂ log|ψ(x_w)|/∂θ, S = mean_w (O_w − Ō)(O_w − Ō)ᵀ and the force
//! F = mean_w (E_L,w − Ē) O_w (half the energy gradient). S is never formed: burn has
//! first-order autodiff only, so S v is built from two products it can make,
//!
//! - O v by a central difference of log|ψ| in parameter space, (log|ψ_{θ+εv}| −
//!   log|ψ_{θ−εv}|)/2ε, two value passes (f64; ε‖v‖ = 10⁻⁵ (1 + ‖θ‖));
//! - Oᵀu by one backward pass of Σ_w u_w log|ψ(x_w)|, with u = (Ov − mean Ov)/W,
//!
//! so S v = Oᵀu (optionally on the first `s_walkers` walkers only). CG starts from the previous step's δ (warm start), stops at a relative
//! residual `cg_tolerance` or after `cg_max_iterations`, and the update η δ is scaled down to
//! at most `max_update_norm` (a trust region).

use burn::module::Module;
use burn::tensor::{Tensor, TensorData};
use nqs_model::WaveFunction;
use serde::{Deserialize, Serialize};

use crate::distributed::Comm;
use crate::gradient::{AmplitudeWeights, Split, weighted_gradient};
use crate::params::{dot, grads_to_vec, norm, to_vec, with_values};

/// `[optimizer.sr]`: settings of stochastic reconfiguration (`optimizer.kind = "sr"`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SrConfig {
    /// Diagonal shift λ₀ added to S.
    #[serde(default = "default_shift")]
    pub diag_shift: f64,
    /// λ_t = max(λ_min, λ₀ / (1 + t / decay)); 0 keeps λ constant.
    #[serde(default)]
    pub diag_shift_decay_steps: f64,
    /// Floor λ_min of the decaying shift.
    #[serde(default = "default_shift_min")]
    pub diag_shift_min: f64,
    /// Relative residual ‖(S + λ) δ − F‖ / ‖F‖ at which CG stops.
    #[serde(default = "default_tolerance")]
    pub cg_tolerance: f64,
    /// Most CG iterations per step (each costs two value passes and one backward pass).
    #[serde(default = "default_iterations")]
    pub cg_max_iterations: usize,
    /// Largest Euclidean norm of a parameter update η δ.
    #[serde(default = "default_max_norm")]
    pub max_update_norm: f64,
    /// Walkers used to estimate S (the first ones of the batch); 0: all. The force F always
    /// uses every walker. Fewer make each CG iteration proportionally cheaper.
    #[serde(default)]
    pub s_walkers: usize,
}

fn default_shift() -> f64 {
    0.01
}
fn default_shift_min() -> f64 {
    1e-4
}
fn default_tolerance() -> f64 {
    1e-3
}
fn default_iterations() -> usize {
    50
}
fn default_max_norm() -> f64 {
    0.5
}

impl Default for SrConfig {
    fn default() -> Self {
        Self {
            diag_shift: default_shift(),
            diag_shift_decay_steps: 0.0,
            diag_shift_min: default_shift_min(),
            cg_tolerance: default_tolerance(),
            cg_max_iterations: default_iterations(),
            max_update_norm: default_max_norm(),
            s_walkers: 0,
        }
    }
}

impl SrConfig {
    /// The diagonal shift at optimisation step t (0-based).
    pub fn shift_at(&self, t: usize) -> f64 {
        if self.diag_shift_decay_steps > 0.0 {
            (self.diag_shift / (1.0 + t as f64 / self.diag_shift_decay_steps))
                .max(self.diag_shift_min)
        } else {
            self.diag_shift
        }
    }
}

/// How this process's walkers sit among all ranks' (one process: all of them).
#[derive(Debug, Clone, Copy)]
pub struct Ranks {
    /// The communicator.
    pub comm: Comm,
    /// Walkers over all ranks.
    pub walkers: usize,
}

/// The products with the SR matrix at fixed walkers and parameters.
pub struct SrMatrix<'a> {
    model: &'a WaveFunction,
    frozen: WaveFunction,
    theta: Vec<f64>,
    x: &'a Tensor<2>,
    split: Split,
    comm: Comm,
    /// Seconds spent in collectives so far.
    communication: std::cell::Cell<f64>,
}

impl<'a> SrMatrix<'a> {
    /// S at the parameters of the autodiff `model` and the walkers `x` (`[walkers, N·d]`).
    pub fn new(model: &'a WaveFunction, x: &'a Tensor<2>, split: Split) -> Self {
        Self::distributed(model, x, split, Comm::single())
    }

    /// S over the walkers of every rank of `comm`, `x` being this rank's: every product is
    /// summed over ranks, and the result is the same on every rank.
    pub fn distributed(
        model: &'a WaveFunction,
        x: &'a Tensor<2>,
        split: Split,
        comm: Comm,
    ) -> Self {
        let frozen = model.valid();
        let theta = to_vec(&frozen);
        Self {
            model,
            frozen,
            theta,
            x,
            split,
            comm,
            communication: std::cell::Cell::new(0.0),
        }
    }

    /// Sum over ranks, timed.
    fn sum(&self, values: &mut [f64]) {
        if self.comm.size() > 1 {
            let start = std::time::Instant::now();
            self.comm.sum(values);
            self.communication
                .set(self.communication.get() + start.elapsed().as_secs_f64());
        }
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.theta.len()
    }

    /// Whether the model has no parameters.
    pub fn is_empty(&self) -> bool {
        self.theta.is_empty()
    }

    /// O v = (∂ log|ψ(x_w)|/∂θ)·v for every walker, by a central difference.
    pub fn o_times(&self, v: &[f64]) -> Vec<f64> {
        let v_norm = norm(v);
        if v_norm == 0.0 {
            return vec![0.0; self.x.dims()[0]];
        }
        let eps = 1e-5 * (1.0 + norm(&self.theta)) / v_norm;
        let shifted = |sign: f64| {
            let values: Vec<f64> = self
                .theta
                .iter()
                .zip(v)
                .map(|(t, v)| t + sign * eps * v)
                .collect();
            let psi = with_values(self.frozen.clone(), &values);
            crate::to_host(log_psi_parallel(&psi, self.x, self.split))
        };
        let (plus, minus) = (shifted(1.0), shifted(-1.0));
        plus.iter()
            .zip(&minus)
            .map(|(p, m)| (p - m) / (2.0 * eps))
            .collect()
    }

    /// Oᵀ u = Σ_w u_w ∂ log|ψ(x_w)|/∂θ, one backward pass.
    pub fn o_transpose_times(&self, u: &[f64]) -> Vec<f64> {
        let grads = weighted_gradient(self.model, self.x, u, None, self.split);
        grads_to_vec(self.model, &grads)
    }

    /// S v = mean_w (O_w − Ō)((O_w − Ō)·v), the mean over the walkers of every rank.
    pub fn times(&self, v: &[f64]) -> Vec<f64> {
        let ov = self.o_times(v);
        let mut total = [ov.iter().sum::<f64>(), ov.len() as f64];
        self.sum(&mut total);
        let [sum, w] = total;
        let mean = sum / w;
        let u: Vec<f64> = ov.iter().map(|o| (o - mean) / w).collect();
        let mut sv = self.o_transpose_times(&u);
        self.sum(&mut sv);
        sv
    }
}

/// log|ψ| of a batch with the walkers split over threads (as the local energies are), and
/// within a thread into chunks of at most `split.chunk` walkers where there is no host pass.
fn log_psi_parallel(psi: &WaveFunction, x: &Tensor<2>, split: Split) -> Tensor<1> {
    let [w, coords] = x.dims();
    let threads = nqs_sampler::worker_threads(split.threads, w, coords);
    if threads == 1 {
        return log_psi_block(psi, x, split.chunk);
    }
    let parts = nqs_model::threads::run_blocks(nqs_sampler::blocks(w, threads), |(start, len)| {
        log_psi_block(psi, &x.clone().narrow(0, start, len), split.chunk)
    });
    Tensor::cat(parts, 0)
}

/// log|ψ| of one block for the central difference: the host value pass where there is one,
/// with backflow networks through their tables (`HostLogPsi::with_eta_tables`: within 10⁻¹⁴ of
/// the networks relative to 1 + max|η|, log|ψ| within 10⁻¹¹) where building a table costs
/// fewer network evaluations than the pass would make. In O v that error is divided by
/// 2ε ≈ 2·10⁻⁵ (1 + ‖θ‖)/‖v‖: below 10⁻⁶ of O v, the scale of the difference's own O(ε²)
/// error. Burn's ops where there is no host pass, in chunks of at most `chunk` walkers.
fn log_psi_block(psi: &WaveFunction, x: &Tensor<2>, chunk: usize) -> Tensor<1> {
    let Some(host) = nqs_model::HostLogPsi::for_walkers(psi, x) else {
        let w = x.dims()[0];
        if w <= chunk {
            return psi.log_psi(x);
        }
        let parts = nqs_sampler::blocks(w, w.div_ceil(chunk.max(1)))
            .into_iter()
            .map(|(start, len)| psi.log_psi(&x.clone().narrow(0, start, len)))
            .collect();
        return Tensor::cat(parts, 0);
    };
    let [w, coords] = x.dims();
    let xs: Vec<f64> = crate::to_host(x.clone().reshape([w * coords]));
    let mut out = vec![0.0; w];
    // One pass evaluates every pair once per walker: a table pays only where building it
    // takes fewer evaluations (wide walker spreads, e.g. ω = 0.1, need more segments).
    host.with_eta_tables_for(&xs, w).log_psi(&xs, &mut out);
    Tensor::from_data(TensorData::new(out, [w]), &x.device())
}

/// Result of one SR solve.
#[derive(Debug, Clone)]
pub struct SrSolution {
    /// δ with (S + λ) δ ≈ F.
    pub delta: Vec<f64>,
    /// CG iterations used.
    pub iterations: usize,
    /// Final relative residual ‖(S + λ) δ − F‖ / ‖F‖.
    pub residual: f64,
    /// Wall time spent in collectives between ranks.
    pub communication_seconds: f64,
}

/// Solve (S + λ I) δ = F by conjugate gradients from `start` (zeros when absent).
pub fn solve(
    s: &SrMatrix,
    force: &[f64],
    shift: f64,
    start: Option<&[f64]>,
    tolerance: f64,
    max_iterations: usize,
) -> SrSolution {
    let apply = |v: &[f64]| -> Vec<f64> {
        s.times(v)
            .iter()
            .zip(v)
            .map(|(sv, v)| sv + shift * v)
            .collect()
    };
    let b_norm = norm(force);
    let n = force.len();
    if b_norm == 0.0 {
        return SrSolution {
            delta: vec![0.0; n],
            iterations: 0,
            residual: 0.0,
            communication_seconds: s.communication.get(),
        };
    }
    let mut delta: Vec<f64> = match start {
        Some(s) if s.len() == n && s.iter().all(|v| v.is_finite()) => s.to_vec(),
        _ => vec![0.0; n],
    };
    let mut r: Vec<f64> = if norm(&delta) > 0.0 {
        let a_delta = apply(&delta);
        force.iter().zip(&a_delta).map(|(b, a)| b - a).collect()
    } else {
        force.to_vec()
    };
    let mut p = r.clone();
    let mut rs = dot(&r, &r);
    let mut iterations = 0;
    while iterations < max_iterations && rs.sqrt() > tolerance * b_norm {
        let ap = apply(&p);
        let p_ap = dot(&p, &ap);
        if p_ap.is_nan() || p_ap <= 0.0 {
            break; // S + λ is positive definite; anything else is round-off
        }
        let alpha = rs / p_ap;
        for i in 0..n {
            delta[i] += alpha * p[i];
            r[i] -= alpha * ap[i];
        }
        let rs_new = dot(&r, &r);
        let beta = rs_new / rs;
        for i in 0..n {
            p[i] = r[i] + beta * p[i];
        }
        rs = rs_new;
        iterations += 1;
    }
    SrSolution {
        delta,
        iterations,
        residual: rs.sqrt() / b_norm,
        communication_seconds: s.communication.get(),
    }
}

/// The SR step at the walkers `x` with centred local energies (and, for spin-isospin
/// amplitudes, the residuals r/q of the force): returns the updated autodiff model and the
/// solution (δ, to warm-start the next solve). With several ranks, `x` and `centred` are
/// this rank's walkers and `ranks` places them among all.
#[allow(clippy::too_many_arguments)]
pub fn step(
    model: WaveFunction,
    x: &Tensor<2>,
    centred: &[f64],
    spin_residual: Option<&AmplitudeWeights>,
    learning_rate: f64,
    shift: f64,
    config: &SrConfig,
    start: Option<&[f64]>,
    split: Split,
    ranks: &Ranks,
) -> (WaveFunction, SrSolution) {
    // Weights of a mean over all ranks' walkers: each rank's sums then add up to it.
    let per_walker = 1.0 / ranks.walkers as f64;
    let weights: Vec<f64> = centred.iter().map(|c| c * per_walker).collect();
    let walkers = x.dims()[0];
    // s_walkers counts all ranks' walkers: each rank uses its share of them.
    let s_walkers = match config.s_walkers {
        0 => walkers,
        m if ranks.comm.size() == 1 => m.min(walkers),
        m => (m * walkers).div_ceil(ranks.walkers).clamp(1, walkers),
    };
    let x_s = x.clone().narrow(0, 0, s_walkers);
    let mut communication = 0.0;
    let (mut solution, theta) = {
        let spin = spin_residual.map(|r| r.scaled(per_walker));
        let mut force = grads_to_vec(
            &model,
            &weighted_gradient(&model, x, &weights, spin.as_ref(), split),
        );
        if ranks.comm.size() > 1 {
            let start = std::time::Instant::now();
            ranks.comm.sum(&mut force);
            communication = start.elapsed().as_secs_f64();
        }
        let s = SrMatrix::distributed(&model, &x_s, split, ranks.comm);
        let solution = solve(
            &s,
            &force,
            shift,
            start,
            config.cg_tolerance,
            config.cg_max_iterations,
        );
        (solution, s.theta.clone())
    };
    solution.communication_seconds += communication;
    let step_norm = learning_rate * norm(&solution.delta);
    let scale = if step_norm > config.max_update_norm {
        config.max_update_norm / step_norm
    } else {
        1.0
    };
    let updated: Vec<f64> = theta
        .iter()
        .zip(&solution.delta)
        .map(|(t, d)| t - scale * learning_rate * d)
        .collect();
    (with_values(model, &updated), solution)
}
