//! The moves' host value pass (or the Slater factor's local-energy jet) of a 2D closed-shell
//! dot, repeated on the same seeded walkers, on one thread: for timing and for `perf`.
//!
//! `cargo run --release -p nqs-train --example host_pass -- W N [REPS] [MODE]` (defaults
//! 4096, 30, 200, 0); MODE 0 times `HostLogPsi::log_psi`, MODE 1 the Slater factor's
//! `Order::Laplacian` pass, MODE 2 the whole local energy of the dot (ω = 1, Coulomb), MODE 3
//! the Padé–Jastrow's `Order::Laplacian` pass (MODE 2 and 3 with `PADE=1`). Environment:
//! `PADE=1` adds the Padé–Jastrow factor; `WALKERS=F` writes the walkers' coordinates to F
//! (one number per line, `[W, N·d]` row-major); `OUT=F` writes log|ψ| per walker (MODE 0) or
//! "∇² |∇|²" of the factor's log|ψ| (MODE 1 and 3). `scripts/exact_slater_log_det.py`
//! compares the MODE 0 output of the Slater factor with exact rational determinants,
//! `scripts/exact_slater_jet.py` the MODE 1 output with exact jets.

use std::time::Instant;

use burn::tensor::{Tensor, TensorData};
use nqs_model::{Geometry, HostLogPsi, Order, WaveFunctionConfig};
use nqs_train::{Backend, Precision, backend};

#[path = "shared/probe.rs"]
mod probe;
use probe::arg;

/// W·N·d normals of standard deviation 1.5 from a fixed linear congruential generator, the
/// same on every run and machine.
fn seeded_walkers(count: usize) -> Vec<f64> {
    let mut state = 12345_u64;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 11) as f64 + 0.5) / (1_u64 << 53) as f64
    };
    (0..count)
        .map(|_| {
            let (u, v) = (uniform(), uniform());
            1.5 * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        })
        .collect()
}

/// `rows` written to the file named by environment variable `name`, if set.
fn write_if_asked(name: &str, rows: impl Iterator<Item = String>) {
    if let Some(path) = std::env::var_os(name) {
        let text: String = rows.map(|r| r + "\n").collect();
        std::fs::write(&path, text).expect("writable output file");
    }
}

/// Milliseconds per call of `call`, averaged over `reps` calls.
fn per_call_ms(reps: usize, mut call: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..reps {
        call();
    }
    start.elapsed().as_secs_f64() * 1e3 / reps as f64
}

fn main() {
    let device = backend::device(Backend::Flex, Precision::F64).expect("flex f64");
    let (w, n, reps, mode) = (arg(1, 4096), arg(2, 30), arg(3, 200), arg(4, 0));
    let factors = if std::env::var_os("PADE").is_some() {
        "[[factors]]\nkind=\"slater\"\n[[factors]]\nkind=\"pade_jastrow\"\n"
    } else {
        "[[factors]]\nkind=\"slater\"\n"
    };
    let config: WaveFunctionConfig = toml::from_str(factors).expect("valid factors");
    let psi = config
        .init(Geometry::balanced(n, 2), 1.0, 1, &device)
        .expect("a closed shell");
    let xs = seeded_walkers(w * 2 * n);
    write_if_asked("WALKERS", xs.iter().map(|v| format!("{v:e}")));
    let x = Tensor::<2>::from_data(TensorData::new(xs.clone(), [w, 2 * n]), &device);
    if mode == 2 {
        let dot: nqs_physics::quantum_dot::QuantumDotConfig = toml::from_str(&format!(
            "dimensions = 2\nparticles = {n}\nomega = 1.0\ninteraction = \"coulomb\"\n"
        ))
        .expect("a dot");
        let h = dot.hamiltonian();
        let per_call = per_call_ms(reps, || {
            let _ = nqs_physics::local_energy::local_energy(&psi, &h, &x)
                .total()
                .into_data();
        });
        println!("{per_call:.3} ms per local energy (W = {w}, N = {n})");
        return;
    }
    if mode == 1 || mode == 3 {
        // The Slater factor's jet (MODE 1) or the Padé–Jastrow's (MODE 3, with PADE=1).
        let factor = psi
            .factors
            .get(if mode == 1 { 0 } else { 1 })
            .expect("MODE 3 times the Padé–Jastrow: set PADE=1");
        let per_call = per_call_ms(reps, || {
            let _ = factor.forward(&x, Order::Laplacian).0.value.into_data();
        });
        let what = if mode == 1 { "jet" } else { "pade jet" };
        println!("{per_call:.3} ms per {what} (W = {w}, N = {n})");
        let jet = factor.forward(&x, Order::Laplacian).0;
        let host = |t: Tensor<1>| t.into_data().try_to_vec::<f64>().expect("f64");
        let lap = host(jet.lap.expect("asked"));
        let grad = host(jet.grad.expect("asked").reshape([w * 2 * n]));
        write_if_asked(
            "OUT",
            lap.iter().zip(grad.chunks(2 * n)).map(|(l, g)| {
                let squared: f64 = g.iter().map(|v| v * v).sum();
                format!("{l:e} {squared:e}")
            }),
        );
        return;
    }
    let host = HostLogPsi::new(&psi).expect("a host pass on flex f64");
    let mut out = vec![0.0; w];
    let per_call = per_call_ms(reps, || host.log_psi(&xs, &mut out));
    println!("{per_call:.3} ms per pass (W = {w}, N = {n})");
    write_if_asked("OUT", out.iter().map(|v| format!("{v:e}")));
}
