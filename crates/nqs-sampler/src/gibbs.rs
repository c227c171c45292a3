//! Block Gibbs sampling of two-layer models whose conditionals factorise (restricted
//! Boltzmann machines): h | x, then x | h, every move accepted.
//!
//! One implementation serves the Gaussian-binary RBM wave function (PHYSICS.md §4:
//! h | x ~ Bernoulli(sigmoid(b + xW/σ²)), x | h ~ N(a + Wh, σ²), whose marginal P(x) is
//! |ψ|²) and the generative RBMs of `nqs-boltzmann` (binary or Gaussian visible units,
//! at an annealing temperature for AIS).

use burn::tensor::Tensor;
use nqs_model::factors::Rbm;

use crate::Noise;
use crate::state::SamplerState;

/// A two-layer model with factorising conditionals p(h | x) and p(x | h).
pub trait BlockGibbs {
    /// p(h_j = 1 | x), `[rows, n_hidden]`.
    fn hidden_probabilities(&self, x: &Tensor<2>) -> Tensor<2>;
    /// One draw of x | h, `[rows, n_visible]`.
    fn sample_visible(&self, h: &Tensor<2>, noise: &mut dyn Noise) -> Tensor<2>;
}

/// Independent Bernoulli draws (1.0 or 0.0) with probabilities `p`.
pub fn bernoulli(p: Tensor<2>, noise: &mut dyn Noise) -> Tensor<2> {
    let [rows, cols] = p.dims();
    let u = noise.uniform(rows, cols, &p.device());
    u.lower(p).float()
}

/// One block-Gibbs sweep x → h → x′; returns (h, x′).
pub fn gibbs_sweep<M: BlockGibbs + ?Sized>(
    model: &M,
    x: &Tensor<2>,
    noise: &mut dyn Noise,
) -> (Tensor<2>, Tensor<2>) {
    let h = bernoulli(model.hidden_probabilities(x), noise);
    let x = model.sample_visible(&h, noise);
    (h, x)
}

impl BlockGibbs for Rbm {
    fn hidden_probabilities(&self, x: &Tensor<2>) -> Tensor<2> {
        Rbm::hidden_probabilities(self, x)
    }

    fn sample_visible(&self, h: &Tensor<2>, noise: &mut dyn Noise) -> Tensor<2> {
        let mean = self.visible_mean(h);
        let [rows, cols] = mean.dims();
        mean + noise.normal(rows, cols, &h.device()) * self.sigma2.sqrt()
    }
}

/// One Gibbs sweep of every walker of the wave-function RBM.
pub(crate) fn step(state: &mut SamplerState, rbm: &Rbm) {
    let [w, _] = state.x.dims();
    let device = state.x.device();
    let (_, x) = gibbs_sweep(rbm, &state.x, &mut state.rng);
    state.x = x;
    state.cache = None;
    state.count(Tensor::ones([w], &device));
}
