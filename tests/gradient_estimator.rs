//! The covariance gradient estimator 2⟨(E_L − Ē) ∂_θ log|ψ|⟩, obtained by burn autodiff of the
//! surrogate loss, against the analytic derivative of the exact variational energy.
//!
//! Two non-interacting electrons in 2D (ω = 1) with the Gaussian trial state
//! ψ_α = exp(−αω Σ r²/2): E(α) = (dNω/4)(α + 1/α) = α + 1/α, so dE/dα = 1 − 1/α².
//! Samples are drawn exactly from |ψ_α|² (each coordinate ~ N(0, 1/(2αω))), independent of the
//! project's samplers.

mod common;

use burn::module::Module;
use burn::optim::GradientsParams;
use common::*;
use nqs_model::factors::Factor;
use nqs_model::{Geometry, ParamRng};
use nqs_train::hamiltonian::Hamiltonian;
use nqs_train::local_energy::local_energy;
use nqs_train::loss::{centred_clipped, surrogate_loss};

#[test]
fn estimator_matches_the_exact_energy_derivative() {
    let device = device();
    let autodiff = device.clone().autodiff();
    let geometry = Geometry::balanced(2, 2);
    let alpha: f64 = 0.7;
    let model = wave_function(
        &format!("[[factors]]\nkind = \"slater\"\nalpha = {alpha}\n"),
        geometry,
        1.0,
        1,
        &autodiff,
    );
    let hamiltonian = Hamiltonian::quantum_dot(geometry, 1.0, false);
    let (batches, walkers) = (24, 4096);
    let mut rng = ParamRng::new(2024);
    let std = (1.0 / (2.0 * alpha)).sqrt();
    let mut estimates = Vec::with_capacity(batches);
    for _ in 0..batches {
        let x: Vec<f64> = (0..walkers * 4).map(|_| std * rng.normal()).collect();
        let x = tensor2(x, walkers, 4, &device);
        let e_local = host1(local_energy(&model.valid(), &hamiltonian, &x).total());
        let centred = centred_clipped(&e_local, 0.0);
        let loss = surrogate_loss(&centred, model.log_psi(&x.autodiff()));
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let Factor::Slater(slater) = &model.factors[0] else {
            panic!("first factor is the Slater determinant")
        };
        let g = grads.get::<1>(slater.alpha.id).expect("gradient of alpha");
        estimates.push(host1(g)[0]);
    }
    let mean = estimates.iter().sum::<f64>() / batches as f64;
    let var = estimates.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / (batches - 1) as f64;
    let error = (var / batches as f64).sqrt();
    let exact = 1.0 - 1.0 / (alpha * alpha);
    assert!(
        (mean - exact).abs() < 3.0 * error,
        "estimator {mean} ± {error}, exact dE/dα = {exact}"
    );
    assert!(error < 0.01, "error bar {error} too large to mean anything");
}
