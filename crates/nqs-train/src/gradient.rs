//! The parameter gradient of the surrogate loss, with the walkers split over threads.
//!
//! L = 2·mean_w(ΔE_w log|ψ(x_w)|) is a sum over walkers, so its gradient is the sum of the
//! gradients of the block losses L_b = 2·Σ_{w∈b} ΔE_w log|ψ(x_w)| / W. burn's CPU backends
//! run each op on one core; each block's forward and backward pass runs on its own thread
//! with its own copy of the parameters as fresh autodiff leaves (same parameter ids), so the
//! blocks share no autodiff graph.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};
use nqs_model::WaveFunction;

use crate::loss::surrogate_loss;

/// Smallest walker block, in coordinates, whose backward pass gets a thread of its own.
/// Two concurrent backward passes pay more fixed cost than two sampler blocks: measured
/// (2D Slater–Jastrow, gradient phase): N = 2 with 4096 walkers (8192 coordinates per
/// block) 0.4 ms on one thread, 0.6 ms on two; N = 12 with 1024 walkers (12288 per block)
/// 5.6 → 4.1 ms; N = 12 with 4096 walkers 22.3 → 12.6 ms.
pub const MIN_GRADIENT_BLOCK_COORDS: usize = 12288;

/// ∂L/∂θ for the autodiff `model` at walkers `x` (plain device, `[walkers, N·d]`) with
/// centred local energies `centred`, on at most `threads` threads, none with a block below
/// [`MIN_GRADIENT_BLOCK_COORDS`] coordinates.
pub fn surrogate_gradient(
    model: &WaveFunction,
    x: &Tensor<2>,
    centred: &[f64],
    threads: usize,
) -> GradientsParams {
    let [w, coords] = x.dims();
    let threads = nqs_sampler::worker_threads_min(threads, w, coords, MIN_GRADIENT_BLOCK_COORDS);
    if threads == 1 {
        let loss = surrogate_loss(centred, model.log_psi(&x.clone().autodiff()));
        return GradientsParams::from_grads(loss.backward(), model);
    }
    let weights: Vec<f64> = centred.iter().map(|c| 2.0 * c / w as f64).collect();
    weighted_gradient(model, x, &weights, threads)
}

/// ∇_θ Σ_w u_w log|ψ(x_w)| = Oᵀu for host weights `u` (`[walkers]`): one backward pass,
/// with the walkers split over at most `threads` threads as in [`surrogate_gradient`].
pub fn weighted_gradient(
    model: &WaveFunction,
    x: &Tensor<2>,
    weights: &[f64],
    threads: usize,
) -> GradientsParams {
    let [w, coords] = x.dims();
    let threads = nqs_sampler::worker_threads_min(threads, w, coords, MIN_GRADIENT_BLOCK_COORDS);
    let block_loss = |model: &WaveFunction, block: Tensor<2>, u: &[f64]| {
        let log_psi = model.log_psi(&block.autodiff());
        let u = Tensor::<1>::from_data(TensorData::new(u.to_vec(), [u.len()]), &log_psi.device());
        (u * log_psi).sum()
    };
    if threads == 1 {
        let loss = block_loss(model, x.clone(), weights);
        return GradientsParams::from_grads(loss.backward(), model);
    }
    let parts: Vec<GradientsParams> = std::thread::scope(|scope| {
        let handles: Vec<_> = nqs_sampler::blocks(w, threads)
            .into_iter()
            .map(|(start, len)| {
                let block = x.clone().narrow(0, start, len);
                let model = model.clone().map(&mut FreshLeaves);
                let u = &weights[start..start + len];
                let block_loss = &block_loss;
                scope.spawn(move || {
                    let loss = block_loss(&model, block, u);
                    GradientsParams::from_grads(loss.backward(), &model)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a gradient thread panicked"))
            .collect()
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
