//! Positions relative to the centre of mass, v_i = x_i − X with X = (1/N) Σ_j x_j, and the
//! chain rule of one-body functions of them (translation-invariant factors).
//!
//! For F = Σ_i f(v_i): ∂F/∂x_k = Σ_i ∇f(v_i)(δ_ik − 1/N) = ∇f(v_k) − (1/N) Σ_i ∇f(v_i), and
//! ∇²F = Σ_k Σ_i ∇²f(v_i)(δ_ik − 1/N)² = (1 − 1/N) Σ_i ∇²f(v_i).

use burn::tensor::Tensor;

use crate::Geometry;

/// v_i = x_i − X, `[walkers, N, d]`.
///
/// # Shapes
/// - x: `[walkers, N·d]`
pub fn relative_positions(x: &Tensor<2>, geometry: &Geometry) -> Tensor<3> {
    let [w, _] = x.dims();
    let p = x
        .clone()
        .reshape([w, geometry.n_particles, geometry.dimensions]);
    let centre = p.clone().mean_dim(1); // [w, 1, d]
    p - centre
}

/// Walker gradients of Σ_i f_l(v_i) from the per-particle gradients ∇f_l(v_i):
/// `[walkers, N, d, L]` → `[walkers, N·d, L]`.
pub fn lift_relative_grad(per_particle: Tensor<4>) -> Tensor<3> {
    let [w, n, d, l] = per_particle.dims();
    let mean = per_particle.clone().mean_dim(1); // [w, 1, d, L]
    (per_particle - mean).reshape([w, n * d, l])
}

/// The factor (1 − 1/N) that turns Σ_i ∇²f(v_i) into the walker Laplacian.
pub fn laplacian_factor(geometry: &Geometry) -> f64 {
    1.0 - 1.0 / geometry.n_particles as f64
}
