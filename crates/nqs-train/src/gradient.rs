//! The parameter gradient of the surrogate loss, with the walkers split over threads.
//!
//! L = 2·mean_w(ΔE_w log|ψ(x_w)|) is a sum over walkers, so its gradient is the sum of the
//! gradients of the block losses L_b = 2·Σ_{w∈b} ΔE_w log|ψ(x_w)| / W. With spin-isospin
//! amplitudes χ (summed, not sampled) the exact gradient has one more term,
//! 2·mean_w Σ_s (r_s/q)_w ∂χ_s(x_w) ([`nqs_physics::LocalEnergy::spin_residual`]), added to
//! the same loss with the constant weights r/q. burn's CPU backends
//! run each op on one core; each block's forward and backward pass runs on its own thread
//! (`threads::run_blocks`) with its own copy of the parameters as fresh autodiff leaves
//! (same parameter ids), so the blocks share no autodiff graph. Within a block the walkers
//! go through in chunks ([`Split::chunk`]), each its own forward and backward pass, so that a
//! chunk's tensors stay near the caches (`docs/performance.md`: N = 30 with 4096 walkers,
//! gradient phase 23–29 → 17 ms and peak memory 189 → 59 MiB in chunks of 256).

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};
use nqs_model::{Order, WaveFunction};

/// Smallest walker block, in coordinates, whose backward pass gets a thread of its own.
/// Two concurrent backward passes pay more fixed cost than two sampler blocks: measured
/// (2D Slater–Jastrow, gradient phase): N = 2 with 4096 walkers (8192 coordinates per
/// block) 0.4 ms on one thread, 0.6 ms on two; N = 12 with 1024 walkers (12288 per block)
/// 5.6 → 4.1 ms; N = 12 with 4096 walkers 22.3 → 12.6 ms.
pub const MIN_GRADIENT_BLOCK_COORDS: usize = 12288;

/// Parameters that add as much backward work per walker as one coordinate of a
/// Slater–Jastrow state, in the work estimate of [`gradient_threads`].
const PARAMETERS_PER_COORDINATE: f64 = 100.0;

/// Threads for a backward pass over `walkers` walkers of `coords` coordinates: blocks of at
/// least [`MIN_GRADIENT_BLOCK_COORDS`] in work units of coordinates × (1 + P/100), so that a
/// network with hundreds of parameters P splits where Slater–Jastrow (P ≈ 3) would not
/// (`docs/performance.md`: the 645-parameter backflow at N = 6 with 1024 walkers).
fn gradient_threads(model: &WaveFunction, threads: usize, walkers: usize, coords: usize) -> usize {
    let weight = 1.0 + model.num_params() as f64 / PARAMETERS_PER_COORDINATE;
    let work = (coords as f64 * weight).ceil() as usize;
    nqs_sampler::worker_threads_min(threads, walkers, work, MIN_GRADIENT_BLOCK_COORDS)
        .min(nqs_model::threads::concurrent_blocks())
}

/// How a gradient pass splits its walkers: over at most `threads` threads, and within a
/// thread into chunks of at most `chunk` walkers, each its own forward and backward pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    /// Threads at most (fewer for small batches: [`MIN_GRADIENT_BLOCK_COORDS`]).
    pub threads: usize,
    /// Walkers per forward and backward pass at most.
    pub chunk: usize,
}

impl Split {
    /// All walkers in one pass on `threads` threads at most.
    pub fn unchunked(threads: usize) -> Self {
        Self {
            threads,
            chunk: usize::MAX,
        }
    }
}

/// Constant per-walker weights on the spin-isospin amplitudes: Σ_w Σ_s b_ws χ_s(x_w) joins
/// the loss.
#[derive(Debug, Clone, PartialEq)]
pub struct AmplitudeWeights {
    /// b, `[walkers, S]` row-major.
    pub values: Vec<f64>,
    /// Number of basis states S.
    pub states: usize,
}

impl AmplitudeWeights {
    /// `[walkers, S]` from a device tensor.
    pub fn from_tensor(t: Tensor<2>) -> Self {
        let [w, s] = t.dims();
        Self {
            values: crate::to_host(t.reshape([w * s])),
            states: s,
        }
    }

    /// Every weight times `factor`.
    pub fn scaled(&self, factor: f64) -> Self {
        Self {
            values: self.values.iter().map(|v| v * factor).collect(),
            states: self.states,
        }
    }

    /// The rows of walkers `start..start + len`.
    fn block(&self, start: usize, len: usize) -> &[f64] {
        &self.values[start * self.states..(start + len) * self.states]
    }
}

/// ∂L/∂θ for the autodiff `model` at walkers `x` (plain device, `[walkers, N·d]`) with
/// centred local energies `centred` and, for spin-isospin amplitudes, the residuals r/q
/// (`spin_residual`), split as `split` says, no thread with a block below
/// [`MIN_GRADIENT_BLOCK_COORDS`] coordinates.
pub fn surrogate_gradient(
    model: &WaveFunction,
    x: &Tensor<2>,
    centred: &[f64],
    spin_residual: Option<&AmplitudeWeights>,
    split: Split,
) -> GradientsParams {
    let w = centred.len() as f64;
    let weights: Vec<f64> = centred.iter().map(|c| 2.0 * c / w).collect();
    let spin = spin_residual.map(|r| r.scaled(2.0 / w));
    weighted_gradient(model, x, &weights, spin.as_ref(), split)
}

/// ∇_θ [Σ_w u_w log|ψ(x_w)| + Σ_w Σ_s b_ws χ_s(x_w)] for host weights `u` (`[walkers]`)
/// and optional amplitude weights b: a backward pass per chunk of walkers, the walkers split
/// as in [`surrogate_gradient`]. Without b it is Oᵀu.
pub fn weighted_gradient(
    model: &WaveFunction,
    x: &Tensor<2>,
    weights: &[f64],
    amplitude_weights: Option<&AmplitudeWeights>,
    split: Split,
) -> GradientsParams {
    let [w, coords] = x.dims();
    let threads = gradient_threads(model, split.threads, w, coords);
    let block_loss =
        |model: &WaveFunction, block: Tensor<2>, u: &[f64], b: Option<(&[f64], usize)>| {
            // The walkers are constants: plain, so that only ops on parameters are recorded.
            let (log_psi, spin) = model.forward_with_spin(&block, Order::Value);
            let device = log_psi.value.device();
            let u = Tensor::<1>::from_data(TensorData::new(u.to_vec(), [u.len()]), &device);
            let loss = (u * log_psi.value).sum();
            match (b, spin) {
                (Some((b, states)), Some(spin)) => {
                    let shape = [b.len() / states, states];
                    let b = Tensor::<2>::from_data(TensorData::new(b.to_vec(), shape), &device);
                    loss + (b * spin.chi).sum()
                }
                _ => loss,
            }
        };
    // The walkers start..start + len in chunks of at most `split.chunk`, the chunks'
    // gradients summed.
    let block_gradient = |model: &WaveFunction, start: usize, len: usize| -> GradientsParams {
        let chunks = nqs_sampler::blocks(len, len.div_ceil(split.chunk.max(1)).max(1));
        let mut total: Option<GradientsParams> = None;
        for (offset, part) in chunks {
            let s = start + offset;
            let block = if part == w {
                x.clone()
            } else {
                x.clone().narrow(0, s, part)
            };
            let b = amplitude_weights.map(|b| (b.block(s, part), b.states));
            let loss = block_loss(model, block, &weights[s..s + part], b);
            let mut grads = GradientsParams::from_grads(loss.backward(), model);
            total = Some(match total {
                None => grads,
                Some(mut total) => {
                    model.visit(&mut AddInto {
                        total: &mut total,
                        part: &mut grads,
                    });
                    total
                }
            });
        }
        total.unwrap_or_else(GradientsParams::new)
    };
    if threads == 1 {
        return block_gradient(model, 0, w);
    }
    let parts = nqs_model::threads::run_blocks(nqs_sampler::blocks(w, threads), |(start, len)| {
        let model = model.clone().map(&mut FreshLeaves);
        block_gradient(&model, start, len)
    });
    let mut total = GradientsParams::new();
    for mut part in parts {
        model.visit(&mut AddInto {
            total: &mut total,
            part: &mut part,
        });
    }
    total
}

/// Replaces every float parameter by a detached copy that requires a gradient: a new autodiff
/// leaf with the same parameter id.
struct FreshLeaves;

impl ModuleMapper for FreshLeaves {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.map(|t| t.detach().require_grad())
    }
}

/// Adds the gradients of `part` into `total`, parameter by parameter.
struct AddInto<'a> {
    total: &'a mut GradientsParams,
    part: &'a mut GradientsParams,
}

impl ModuleVisitor for AddInto<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.part.remove::<D>(param.id) {
            let sum = match self.total.remove::<D>(param.id) {
                Some(t) => t + g,
                None => g,
            };
            self.total.register(param.id, sum);
        }
    }
}
