//! Exact Gibbs sampling of a Gaussian-binary RBM (PHYSICS.md §4):
//! h | x ~ Bernoulli(sigmoid(b + xW/σ²)), x | h ~ N(a + Wh, σ²).
//! The marginal of x is P(x) = |ψ|², so every move is accepted.

use nqs_model::factors::Rbm;

use crate::Noise;
use crate::state::SamplerState;

/// One Gibbs sweep of every walker.
pub(crate) fn step(state: &mut SamplerState, rbm: &Rbm) {
    let [w, n_coords] = state.x.dims();
    let device = state.x.device();
    let p = rbm.hidden_probabilities(&state.x); // [w, n_hidden]
    let n_hidden = p.dims()[1];
    let u = state.rng.uniform(w, n_hidden, &device);
    let h = u.lower(p).float();
    let z = state.rng.normal(w, n_coords, &device);
    state.x = rbm.visible_mean(&h) + z * rbm.sigma2.sqrt();
    state.cache = None;
    state.count(burn::tensor::Tensor::ones([w], &device));
}
