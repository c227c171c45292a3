//! Criterion micro-benchmarks of the pieces of an optimisation step, flex f64:
//! log|ψ| (the sampler's value pass), the forward Laplacian, one all-walker Metropolis move
//! and the surrogate-loss gradient, for the shipped N = 6 Slater–Jastrow and Slater × FFNN
//! configs at 1024 and 4096 walkers.
//!
//! `cargo bench --profile release -p nqs-train --bench micro` (add `-- log_psi` to run one
//! group). `--profile release` reuses the release build of burn; the default bench profile
//! would compile burn again (about 25 minutes on 2 cores).

use std::path::Path;
use std::time::Duration;

use burn::tensor::Tensor;
use criterion::{Criterion, criterion_group, criterion_main};
use nqs_model::Order;
use nqs_sampler::SamplerState;
use nqs_train::gradient::{Split, surrogate_gradient};
use nqs_train::{Backend, Config, Precision, Trainer, backend};

#[global_allocator]
static GLOBAL: nqs_train::allocator::Hybrid = nqs_train::allocator::Hybrid;

const CONFIGS: [&str; 2] = ["qd2d_n6_sj", "qd2d_n6_slater_ffnn"];
const WALKERS: [usize; 2] = [1024, 4096];

/// A trainer for a shipped config with `walkers` walkers, after burn-in.
fn trainer(name: &str, walkers: usize) -> Trainer {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../configs")
        .join(format!("{name}.toml"));
    let config =
        Config::load(&path, &[format!("sampler.walkers={walkers}")]).expect("shipped config loads");
    let device = backend::device(Backend::Flex, Precision::F64).expect("flex f64");
    let mut trainer = Trainer::new(config, device).expect("trainer builds");
    trainer.train_step().expect("one step (burn-in included)");
    trainer
}

fn host(t: Tensor<1>) {
    let _ = t.into_data();
}

fn benches(c: &mut Criterion) {
    nqs_train::allocator::configure();
    for name in CONFIGS {
        for walkers in WALKERS {
            let trainer = trainer(name, walkers);
            let psi = trainer.frozen();
            let x = trainer.sampler.x.clone();
            let id = |what: &str| format!("{what}/{name}/W={walkers}");

            c.bench_function(&id("log_psi"), |b| b.iter(|| host(psi.log_psi(&x))));
            c.bench_function(&id("forward_laplacian"), |b| {
                b.iter(|| host(psi.forward(&x, Order::Laplacian).value))
            });
            let one_thread = nqs_sampler::SamplerConfig {
                threads: 1,
                ..trainer.config.sampler.clone()
            };
            let mut state: SamplerState = trainer.sampler.clone();
            c.bench_function(&id("metropolis_move_1_thread"), |b| {
                b.iter(|| {
                    nqs_sampler::advance(&one_thread, &mut state, &psi, 1).expect("move");
                    host(state.x.clone().sum_dim(1).reshape([walkers]));
                })
            });
            let centred: Vec<f64> = (0..walkers).map(|k| (k % 7) as f64 - 3.0).collect();
            c.bench_function(&id("gradient_1_thread"), |b| {
                b.iter(|| {
                    surrogate_gradient(&trainer.model, &x, &centred, None, Split::unchunked(1))
                })
            });
        }
    }
}

criterion_group! {
    name = micro;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(micro);
