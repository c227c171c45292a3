//! The covariance gradient estimator 2⟨(E_L − Ē) ∂_θ log|ψ|⟩, obtained by burn autodiff of the
//! surrogate loss, against the analytic derivative of the exact variational energy.
//!
//! Two non-interacting electrons in 2D (ω = 1) with the Gaussian trial state
//! ψ_α = exp(−αω Σ r²/2): E(α) = (dNω/4)(α + 1/α) = α + 1/α, so dE/dα = 1 − 1/α².
//! Samples are drawn exactly from |ψ_α|² (each coordinate ~ N(0, 1/(2αω))), independent of the
//! project's samplers.

mod common;

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};
use common::*;
use nqs_model::factors::Factor;
use nqs_model::{Geometry, ParamRng};
use nqs_physics::Hamiltonian;
use nqs_physics::local_energy::local_energy;
use nqs_train::loss::{centred_clipped, surrogate_loss};

/// Compares two gradients parameter by parameter (relative 1e-12), counting the entries.
struct Compare<'a> {
    one: &'a GradientsParams,
    two: &'a GradientsParams,
    checked: usize,
}

impl ModuleVisitor for Compare<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let flat = |g: Option<Tensor<D>>| -> Vec<f64> {
            let g = g.expect("every parameter has a gradient");
            let n = g.shape().num_elements();
            host1(g.reshape([n]))
        };
        let (a, b) = (
            flat(self.one.get::<D>(param.id)),
            flat(self.two.get::<D>(param.id)),
        );
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= 1e-12 * (1.0 + x.abs()), "{x} vs {y}");
        }
        self.checked += a.len();
    }
}

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

/// The gradient with the walkers split over two threads (block losses, fresh autodiff leaves
/// per block) and within each thread into chunks of unequal size equals the one-pass
/// gradient for every parameter of a Slater × FFNN × Padé product, up to the order of the
/// sums.
#[test]
fn split_gradient_equals_one_thread_gradient() {
    use nqs_train::gradient::{Split, surrogate_gradient};

    let device = device();
    let autodiff = device.clone().autodiff();
    let geometry = Geometry::balanced(6, 2);
    let model = wave_function(
        "[[factors]]\nkind = \"slater\"\n[[factors]]\nkind = \"ffnn\"\nhidden = [8]\n[[factors]]\nkind = \"pade_jastrow\"\n",
        geometry,
        1.0,
        3,
        &autodiff,
    );
    let walkers = 2048;
    let mut rng = ParamRng::new(7);
    let x: Vec<f64> = (0..walkers * 12).map(|_| rng.normal()).collect();
    let x = tensor2(x, walkers, 12, &device);
    let centred: Vec<f64> = (0..walkers).map(|_| rng.normal()).collect();
    let one = surrogate_gradient(&model, &x, &centred, None, Split::unchunked(1));
    // 1024 walkers per thread in chunks of 342, 341 and 341.
    let split = Split {
        threads: 2,
        chunk: 350,
    };
    let two = surrogate_gradient(&model, &x, &centred, None, split);
    assert_eq!(
        nqs_sampler::worker_threads(2, walkers, 12),
        2,
        "the test must split"
    );
    let mut compare = Compare {
        one: &one,
        two: &two,
        checked: 0,
    };
    model.visit(&mut compare);
    assert!(
        compare.checked > 50,
        "only {} gradient entries",
        compare.checked
    );
}

/// Walkers without an autodiff graph (the gradient passes) run their ops on the plain
/// backend and meet the parameters as constants; the parameter gradient of Σ_w u_w log|ψ(x_w)|
/// is the one taken with walkers that are tracked (every op recorded) for every parameter of
/// a Slater × FFNN × Padé × RBM product and of a pair-MLP backflow × Padé product (2D, N = 6).
#[test]
fn untracked_walkers_give_the_tracked_walkers_gradient() {
    let device = device();
    let autodiff = device.clone().autodiff();
    let geometry = Geometry::balanced(6, 2);
    for (k, factors) in [
        "[[factors]]\nkind = \"slater\"\n[[factors]]\nkind = \"ffnn\"\nhidden = [8]\n[[factors]]\nkind = \"pade_jastrow\"\n[[factors]]\nkind = \"rbm\"\nn_hidden = 4\nper_particle = true\n",
        "[[factors]]\nkind = \"backflow\"\nhidden = [8]\noutput_gain = 0.3\n[[factors]]\nkind = \"pade_jastrow\"\n",
    ]
    .into_iter()
    .enumerate()
    {
        let model = wave_function(factors, geometry, 1.0, 5 + k as u64, &autodiff);
        let walkers = 256;
        let mut rng = ParamRng::new(11);
        let x: Vec<f64> = (0..walkers * 12).map(|_| rng.normal()).collect();
        let x = tensor2(x, walkers, 12, &device);
        let u: Vec<f64> = (0..walkers).map(|_| rng.normal()).collect();
        let gradient = |x: Tensor<2>| {
            let u = Tensor::<1>::from_data(TensorData::new(u.clone(), [walkers]), &autodiff);
            let loss = (u * model.forward(&x, nqs_model::Order::Value).value).sum();
            GradientsParams::from_grads(loss.backward(), &model)
        };
        let untracked = x.clone().autodiff();
        let tracked = x.autodiff().require_grad();
        assert!(!untracked.is_tracked() && tracked.is_tracked());
        let (one, two) = (gradient(untracked), gradient(tracked));
        let mut compare = Compare {
            one: &one,
            two: &two,
            checked: 0,
        };
        model.visit(&mut compare);
        assert!(compare.checked > 20, "only {} entries", compare.checked);
    }
}

/// L = Σ_w c_w log|ψ(x_w)| from the plain value pass (the host pass) of `psi`.
fn weighted(psi: &nqs_model::WaveFunction, x: &Tensor<2>, c: &[f64]) -> f64 {
    let log_psi = host1(psi.log_psi(x));
    log_psi.iter().zip(c).map(|(l, c)| l * c).sum()
}

/// ∇_θ L through autodiff: `tracked` on an autodiff device, the walkers `x` (plain) as
/// constants, as in the gradient passes.
fn weighted_gradient(
    tracked: &nqs_model::WaveFunction,
    x: &Tensor<2>,
    c: &[f64],
) -> GradientsParams {
    let device = x.device().autodiff();
    let weights = Tensor::<1>::from_data(TensorData::new(c.to_vec(), [c.len()]), &device);
    let loss = (tracked.log_psi(&x.clone().autodiff()) * weights).sum();
    GradientsParams::from_grads(loss.backward(), tracked)
}

/// The autodiff derivative of L = Σ_w c_w log|ψ(x_w)| in the Slater exponent α (the tracked
/// burn ops of the gradient passes) equals central finite differences of L from the plain
/// value pass (the host pass), for closed shells in 2D and 3D beside a Padé factor.
#[test]
fn slater_exponent_gradient_equals_finite_differences() {
    let device = device();
    let autodiff = device.clone().autodiff();
    let model = |alpha: f64, geometry: Geometry, device: &burn::tensor::Device| {
        wave_function(
            &format!(
                "[[factors]]\nkind = \"slater\"\nalpha = {alpha}\n\
                 [[factors]]\nkind = \"pade_jastrow\"\nbeta_parallel = 0.4\n\
                 beta_antiparallel = 0.7\n"
            ),
            geometry,
            0.8,
            1,
            device,
        )
    };
    let (alpha, h, walkers) = (0.83, 1e-5, 64);
    let weights: Vec<f64> = (0..walkers)
        .map(|k| ((k * 7 % 11) as f64 - 5.0) / 5.0)
        .collect();
    let mut rng = ParamRng::new(31);
    // Hermite polynomials up to degree 1, 2, 3 (the last through the host pass with its
    // derivative attached) and 2 in 3D.
    for (n, d) in [(6, 2), (12, 2), (20, 2), (8, 3)] {
        let geometry = Geometry::balanced(n, d);
        let x: Vec<f64> = (0..walkers * n * d).map(|_| 1.2 * rng.normal()).collect();
        let x = tensor2(x, walkers, n * d, &device);
        let value = |alpha: f64| weighted(&model(alpha, geometry, &device), &x, &weights);
        let fd = (value(alpha + h) - value(alpha - h)) / (2.0 * h);

        let tracked = model(alpha, geometry, &autodiff);
        let grads = weighted_gradient(&tracked, &x, &weights);
        let Factor::Slater(slater) = &tracked.factors[0] else {
            panic!("first factor is the Slater determinant")
        };
        let g = host1(grads.get::<1>(slater.alpha.id).expect("gradient of α"))[0];
        assert!(
            (g - fd).abs() < 1e-6 * (1.0 + fd.abs()),
            "N = {n}, d = {d}: autodiff {g} against finite differences {fd}"
        );
    }
}

/// The autodiff derivative of L = Σ_w c_w log|ψ(x_w)| in the Padé–Jastrow's β∥ and β⊥ (the
/// gradient pass's tracked u = a/(1/r + β) on host inverse distances, through β = softplus(b))
/// equals central finite differences of L in β from the plain value pass (the host pass),
/// 2D N = 6, 20 and 56 and 3D N = 8.
#[test]
fn pade_beta_gradient_equals_finite_differences() {
    let device = device();
    let autodiff = device.clone().autodiff();
    let model = |betas: [f64; 2], geometry: Geometry, device: &burn::tensor::Device| {
        wave_function(
            &format!(
                "[[factors]]\nkind = \"slater\"\nalpha = 0.9\n\
                 [[factors]]\nkind = \"pade_jastrow\"\nbeta_parallel = {}\n\
                 beta_antiparallel = {}\n",
                betas[0], betas[1]
            ),
            geometry,
            0.8,
            1,
            device,
        )
    };
    let (betas, h, walkers) = ([0.4, 0.7], 1e-5, 40);
    let weights: Vec<f64> = (0..walkers)
        .map(|k| ((k * 5 % 9) as f64 - 4.0) / 4.0)
        .collect();
    let mut rng = ParamRng::new(43);
    for (n, d) in [(6, 2), (20, 2), (56, 2), (8, 3)] {
        let geometry = Geometry::balanced(n, d);
        let x: Vec<f64> = (0..walkers * n * d).map(|_| 1.3 * rng.normal()).collect();
        let x = tensor2(x, walkers, n * d, &device);
        let value = |betas: [f64; 2]| weighted(&model(betas, geometry, &device), &x, &weights);

        let tracked = model(betas, geometry, &autodiff);
        let grads = weighted_gradient(&tracked, &x, &weights);
        let Factor::Pade(pade) = &tracked.factors[1] else {
            panic!("second factor is the Padé–Jastrow")
        };
        // ∂L/∂b = ∂L/∂β · softplus′(b), softplus′(b) = 1 − e^(−β).
        let g_b = host1(grads.get::<1>(pade.beta_raw.id).expect("gradient of b"));
        for kind in 0..2 {
            let shifted = |s: f64| {
                let mut b = betas;
                b[kind] += s;
                value(b)
            };
            let fd = (shifted(h) - shifted(-h)) / (2.0 * h);
            let g = g_b[kind] / (1.0 - (-betas[kind]).exp());
            assert!(
                (g - fd).abs() < 1e-6 * (1.0 + fd.abs()),
                "N = {n}, d = {d}, β kind {kind}: autodiff {g} against finite differences {fd}"
            );
        }
    }
}
