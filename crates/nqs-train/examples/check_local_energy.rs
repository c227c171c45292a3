//! Cross-check of a trained run's local energies: the forward-Laplacian E_L at the run's own
//! walkers (samples of |ψ|² at the trained parameters) against E_L from central finite
//! differences of log|ψ| (f64, Richardson-extrapolated), walker by walker.
//!
//! `cargo run --release -p nqs-train --example check_local_energy -- RUN_DIR [WALKERS]`

use std::path::PathBuf;

use burn::tensor::{Tensor, TensorData};
use nqs_physics::local_energy::local_energy;
use nqs_train::run_dir::RunDir;
use nqs_train::{Backend, Config, Precision, Trainer, backend, to_host};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .expect("usage: check_local_energy RUN_DIR [WALKERS]"),
    );
    let count: usize = args.next().map_or(Ok(64), |s| s.parse())?;
    let run = RunDir::open(&dir)?;
    let config = Config::load(&run.file("config.toml"), &[])?;
    let device = backend::device(Backend::Flex, Precision::F64)?;
    let mut trainer = Trainer::new(config, device.clone())?;
    run.load_state(&mut trainer)?;
    let psi = trainer.frozen();
    let [w, coords] = trainer.sampler.x.dims();
    let count = count.min(w);
    let x = trainer.sampler.x.clone().narrow(0, 0, count);
    let forward = to_host(local_energy(&psi, &trainer.hamiltonian, &x).total());
    let potential = to_host(trainer.hamiltonian.potential(&x));
    let xs: Vec<f64> = x
        .into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .expect("f64");
    // −(ħ²/2m) Σ_k [∂_k² log|ψ| + (∂_k log|ψ|)²] by central differences at h, Richardson
    // with h/2.
    let prefactor = trainer.hamiltonian.kinetic_prefactor();
    let kinetic = |h: f64| -> Vec<f64> {
        let rows = count * (2 * coords + 1);
        let mut batch = Vec::with_capacity(rows * coords);
        for c in 0..count {
            let base = &xs[c * coords..(c + 1) * coords];
            batch.extend_from_slice(base);
            for k in 0..coords {
                for sign in [1.0, -1.0] {
                    let mut p = base.to_vec();
                    p[k] += sign * h;
                    batch.extend(p);
                }
            }
        }
        let t = Tensor::<2>::from_data(TensorData::new(batch, [rows, coords]), &device);
        let v = to_host(psi.log_psi(&t));
        (0..count)
            .map(|c| {
                let v = &v[c * (2 * coords + 1)..(c + 1) * (2 * coords + 1)];
                let mut sum = 0.0;
                for k in 0..coords {
                    let (p, m) = (v[1 + 2 * k], v[2 + 2 * k]);
                    let g = (p - m) / (2.0 * h);
                    sum += (p - 2.0 * v[0] + m) / (h * h) + g * g;
                }
                -prefactor * sum
            })
            .collect()
    };
    let (k1, k2) = (kinetic(2e-3), kinetic(1e-3));
    let mut worst: f64 = 0.0;
    let (mut mean_forward, mut mean_fd) = (0.0, 0.0);
    for c in 0..count {
        let fd = (4.0 * k2[c] - k1[c]) / 3.0 + potential[c];
        worst = worst.max((forward[c] - fd).abs() / fd.abs().max(1.0));
        mean_forward += forward[c] / count as f64;
        mean_fd += fd / count as f64;
    }
    let mut sorted = forward.clone();
    sorted.sort_by(f64::total_cmp);
    let q = |p: f64| sorted[((count - 1) as f64 * p) as usize];
    println!(
        "E_L quantiles 0/1/10/50/90/99/100 %: {:.4} {:.4} {:.4} {:.4} {:.4} {:.4} {:.4}",
        q(0.0),
        q(0.01),
        q(0.1),
        q(0.5),
        q(0.9),
        q(0.99),
        q(1.0)
    );
    println!(
        "{count} walkers of {}: mean E_L forward {mean_forward:.8}, finite differences {mean_fd:.8}; largest relative difference {worst:.2e}",
        dir.display()
    );
    Ok(())
}
