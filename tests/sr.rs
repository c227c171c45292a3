//! Stochastic reconfiguration: the matrix-free S·v against S built densely from per-walker
//! gradients, and the natural gradient's convergence on a one-parameter Gaussian.

mod common;

use burn::module::Module;
use burn::optim::GradientsParams;
use common::*;
use nqs_model::{Factor, Geometry};
use nqs_train::gradient::Split;
use nqs_train::params::{grads_to_vec, norm};
use nqs_train::sr::SrMatrix;
use nqs_train::{Config, Trainer};

/// S v from the matrix-free products (finite-difference O·v, backward-pass Oᵀu) equals
/// (1/W) Σ_w (O_w − Ō)((O_w − Ō)·v) with O_w from one backward pass per walker.
#[test]
fn matrix_free_product_equals_dense_s() {
    let device = device();
    let autodiff = device.clone().autodiff();
    let geometry = Geometry::balanced(6, 2);
    let model = wave_function(
        "[[factors]]\nkind = \"backflow\"\nalpha = 0.9\nhidden = [4]\noutput_gain = 0.5\n\
         [[factors]]\nkind = \"pade_jastrow\"\nbeta_parallel = 0.4\nbeta_antiparallel = 0.6\n",
        geometry,
        1.0,
        4,
        &autodiff,
    );
    let walkers = 24;
    let x = positions(walkers, 12, 1.0, 8, &device);
    let xs = host2(x.clone());
    // Dense O: one backward pass per walker.
    let o: Vec<Vec<f64>> = (0..walkers)
        .map(|w| {
            let xw = tensor2(xs[w * 12..(w + 1) * 12].to_vec(), 1, 12, &device);
            let grads =
                GradientsParams::from_grads(model.log_psi(&xw.autodiff()).sum().backward(), &model);
            grads_to_vec(&model, &grads)
        })
        .collect();
    let p = o[0].len();
    assert_eq!(p, model.num_params());
    let mean: Vec<f64> = (0..p)
        .map(|k| o.iter().map(|ow| ow[k]).sum::<f64>() / walkers as f64)
        .collect();
    // Its gradient passes in three chunks of 8 walkers.
    let s = SrMatrix::new(
        &model,
        &x,
        Split {
            threads: 1,
            chunk: 8,
        },
    );
    let mut rng = nqs_model::ParamRng::new(12);
    for trial in 0..3 {
        let v: Vec<f64> = (0..p).map(|_| rng.normal()).collect();
        let mut dense = vec![0.0; p];
        for ow in &o {
            let c: f64 = (0..p).map(|k| (ow[k] - mean[k]) * v[k]).sum();
            for k in 0..p {
                dense[k] += (ow[k] - mean[k]) * c / walkers as f64;
            }
        }
        let free = s.times(&v);
        let diff: Vec<f64> = free.iter().zip(&dense).map(|(a, b)| a - b).collect();
        let rel = norm(&diff) / norm(&dense);
        assert!(
            rel < 1e-6,
            "trial {trial}: |Sv − S_dense v| / |S_dense v| = {rel:e}"
        );
    }
}

/// α of the Gaussian ψ = exp(−αω Σ r²/2) after each step of a run with `optimizer`.
fn alpha_trajectory(optimizer: &str, learning_rate: f64, steps: usize) -> Vec<f64> {
    let text = format!(
        "[system]\ndimensions = 2\nparticles = 2\nomega = 1.0\ninteraction = \"none\"\n\
         [[model.factors]]\nkind = \"slater\"\nalpha = 0.4\n\
         [sampler]\nwalkers = 512\n\
         [optimizer]\nkind = \"{optimizer}\"\nlearning_rate = {learning_rate}\n\
         [run]\nsteps = {steps}\nseed = 3\n"
    );
    let config = Config::parse(&text, &[], "gaussian").expect("config");
    let mut trainer = Trainer::new(config, device()).expect("trainer");
    (0..steps)
        .map(|_| {
            trainer.train_step().expect("step");
            let Factor::Slater(s) = &trainer.model.factors[0] else {
                panic!("slater")
            };
            host1(s.alpha.val())[0]
        })
        .collect()
}

/// First step after which |α − 1| stays below `tol` until the end.
fn settled(trajectory: &[f64], tol: f64) -> Option<usize> {
    let last_out = trajectory.iter().rposition(|a| (a - 1.0).abs() >= tol);
    match last_out {
        None => Some(1),
        Some(k) if k + 1 < trajectory.len() => Some(k + 2),
        Some(_) => None,
    }
}

/// E(α) = α + 1/α has its exact minimum at α = 1 (zero variance there). SR's update is the
/// imaginary-time step, δα = α² − 1 per unit learning rate here, so at learning rate 0.3 it
/// settles in a few steps; Adam at the same rate moves α by about the learning rate per step
/// whatever the gradient and keeps circling the minimum.
#[test]
fn sr_reaches_the_exact_minimum_far_sooner_than_adam() {
    let steps = 150;
    let sr = alpha_trajectory("sr", 0.3, steps);
    let adam = alpha_trajectory("adam", 0.3, steps);
    let tol = 1e-3;
    let sr_steps = settled(&sr, tol);
    let adam_steps = settled(&adam, tol);
    eprintln!("SR settles (|α − 1| < {tol}) after {sr_steps:?} steps, Adam after {adam_steps:?}");
    eprintln!("SR α: {:?}", &sr[..12]);
    eprintln!("Adam α: {:?}", &adam[..12]);
    let sr_steps = sr_steps.expect("SR settles");
    assert!(sr_steps <= 20, "SR needed {sr_steps} steps");
    assert!(
        adam_steps.is_none_or(|a| a >= 4 * sr_steps),
        "Adam settled after {adam_steps:?} steps, SR after {sr_steps}"
    );
}

/// SR runs with every factor kind: a few steps of small products, finite energies, a CG solve
/// that did something, and parameters that moved.
#[test]
fn sr_trains_every_factor() {
    let pade = "[[model.factors]]\nkind = \"pade_jastrow\"\n";
    let cases = [
        (
            2,
            format!("[[model.factors]]\nkind = \"rbm\"\nn_hidden = 3\n{pade}"),
        ),
        (
            2,
            format!("[[model.factors]]\nkind = \"ffnn\"\nhidden = [4]\nsymmetric = false\n{pade}"),
        ),
        (
            6,
            format!(
                "[[model.factors]]\nkind = \"slater\"\n[[model.factors]]\nkind = \"rbm\"\n\
                 n_hidden = 3\nper_particle = true\n[[model.factors]]\nkind = \"ffnn\"\n\
                 hidden = [4]\n{pade}"
            ),
        ),
        (
            6,
            format!(
                "[[model.factors]]\nkind = \"backflow\"\nhidden = [4]\n\
                 message_passing = {{ width = 4, layers = 1 }}\n{pade}"
            ),
        ),
    ];
    for (n, factors) in cases {
        let text = format!(
            "[system]\ndimensions = 2\nparticles = {n}\nomega = 1.0\n{factors}\
             [sampler]\nwalkers = 128\nburn_in = 50\n\
             [optimizer]\nkind = \"sr\"\nlearning_rate = 0.05\n[run]\nsteps = 4\n"
        );
        let config = Config::parse(&text, &[], "case").expect("config");
        let mut trainer = Trainer::new(config, device()).expect("trainer");
        let before = nqs_train::params::to_vec(&trainer.frozen());
        for _ in 0..4 {
            let m = trainer.train_step().expect("SR step");
            assert!(
                m.energy.is_finite() && m.cg_residual.is_finite(),
                "{factors}: {m:?}"
            );
            assert!(m.cg_iterations >= 1, "{factors}: no CG iteration");
        }
        let after = nqs_train::params::to_vec(&trainer.frozen());
        let moved: f64 = before.iter().zip(&after).map(|(a, b)| (a - b).abs()).sum();
        assert!(moved > 0.0, "{factors}: parameters did not move");
    }
}
