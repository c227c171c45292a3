//! The gradient pass of a Slater–Jastrow dot (autodiff forward at `Order::Value`, the
//! surrogate loss, backward, gradients collected) and one Adam step, on one thread.
//!
//! `cargo run --release -p nqs-train --example gradient_costs -- N W [P] [REPS]` (default
//! N = 2, W = 1024; P = 0 without the Padé–Jastrow); prints
//! microseconds per call, averaged over REPS calls (default: enough to take about a second).

use std::time::Instant;

use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Distribution, Tensor, TensorData};
use nqs_model::factors::{PadeJastrowConfig, SlaterConfig};
use nqs_model::{FactorConfig, Geometry, Order, WaveFunctionConfig};
use nqs_train::backend::{self, Backend, Precision};

/// As in the binary: every op allocates its output (`nqs_train::allocator`).
#[global_allocator]
static GLOBAL: nqs_train::allocator::Hybrid = nqs_train::allocator::Hybrid;

fn arg(k: usize, default: usize) -> usize {
    std::env::args()
        .nth(k)
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() {
    nqs_train::allocator::configure();
    let (n, w) = (arg(1, 2), arg(2, 1024));
    let device = backend::device(Backend::Flex, Precision::F64).expect("flex f64");
    let autodiff = device.clone().autodiff();
    // A third argument 0 leaves the Padé–Jastrow out (the Slater part alone).
    let mut factors = vec![FactorConfig::Slater(SlaterConfig { alpha: 1.0 })];
    if arg(3, 1) != 0 {
        factors.push(FactorConfig::PadeJastrow(PadeJastrowConfig::default()));
    }
    let mut psi = WaveFunctionConfig { factors }
        .init(Geometry::balanced(n, 2), 1.0, 1, &autodiff)
        .expect("closed shell");
    let x = Tensor::<2>::random([w, 2 * n], Distribution::Normal(0.0, 1.0), &device);
    let u: Vec<f64> = (0..w).map(|i| 1e-3 * (i as f64).sin()).collect();
    let mut adam = AdamConfig::new().init();
    let reps = arg(4, (2_000_000 / (w * n * n)).clamp(20, 5000));
    let (mut gradient, mut step) = (0.0, 0.0);
    for r in 0..reps + reps / 10 {
        let t0 = Instant::now();
        // The walkers as constants without autodiff, as the trainer passes them.
        let log_psi = psi.forward(&x, Order::Value).value;
        let weights = Tensor::<1>::from_data(TensorData::new(u.clone(), [w]), &autodiff);
        let grads = GradientsParams::from_grads((weights * log_psi).sum().backward(), &psi);
        let t1 = Instant::now();
        psi = adam.step(1e-4, psi, grads);
        if r >= reps / 10 {
            gradient += (t1 - t0).as_secs_f64();
            step += t1.elapsed().as_secs_f64();
        }
    }
    let per = |t: f64| t / reps as f64 * 1e6;
    println!(
        "N = {n}, W = {w}: gradient pass {:.1} µs, Adam step {:.1} µs",
        per(gradient),
        per(step)
    );
}
