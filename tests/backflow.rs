//! The backflow determinant against what it must reduce to and the symmetry it must keep.

mod common;

use common::*;
use nqs_model::{Factor, Geometry, Order};
use nqs_physics::Hamiltonian;
use nqs_physics::local_energy::local_energy;

const PADE: &str =
    "[[factors]]\nkind = \"pade_jastrow\"\nbeta_parallel = 0.31\nbeta_antiparallel = 0.74\n";

fn max_rel(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / x.abs().max(1.0))
        .fold(0.0, f64::max)
}

/// With η ≡ 0 (the default zero output layer) backflow × Padé is Slater × Padé.
#[test]
fn zero_backflow_is_slater_jastrow() {
    let device = device();
    for (n, d, omega) in [(6, 2, 1.0), (12, 2, 0.5), (8, 3, 1.0)] {
        let geometry = Geometry::balanced(n, d);
        let bf = wave_function(
            &format!("[[factors]]\nkind = \"backflow\"\nalpha = 0.9\n{PADE}"),
            geometry,
            omega,
            3,
            &device,
        );
        let sj = wave_function(
            &format!("[[factors]]\nkind = \"slater\"\nalpha = 0.9\n{PADE}"),
            geometry,
            omega,
            3,
            &device,
        );
        let x = positions(16, geometry.n_coords(), 1.1 / omega.sqrt(), 9, &device);
        let h = Hamiltonian::quantum_dot(geometry, omega, true);
        let (a, b) = (
            bf.forward(&x, Order::Laplacian),
            sj.forward(&x, Order::Laplacian),
        );
        let label = format!("N = {n}, d = {d}");
        assert!(
            max_rel(&host1(a.value), &host1(b.value)) < 1e-12,
            "{label}: log|ψ|"
        );
        assert!(
            max_rel(&host1(bf.sign(&x)), &host1(sj.sign(&x))) == 0.0,
            "{label}: sign"
        );
        let (ea, eb) = (
            host1(local_energy(&bf, &h, &x).total()),
            host1(local_energy(&sj, &h, &x).total()),
        );
        assert!(max_rel(&ea, &eb) < 1e-10, "{label}: E_L {ea:?} vs {eb:?}");
    }
}

/// Exchanging two same-spin electrons exchanges their quasi-particle coordinates and flips
/// the sign of ψ, keeping |ψ|; exchanging them with their spins (up ↔ down blocks) too.
#[test]
fn same_spin_exchange_flips_the_sign() {
    exchange_check("[[factors]]\nkind = \"backflow\"\nhidden = [8, 8]\noutput_gain = 0.8\n");
    exchange_check(
        "[[factors]]\nkind = \"backflow\"\nhidden = [8]\noutput_gain = 0.8\n\
         message_passing = { width = 6, layers = 2 }\n",
    );
}

fn exchange_check(factor: &str) {
    let device = device();
    let geometry = Geometry::balanced(6, 2);
    let psi = factors_unchecked(factor, geometry, 1.0, 5, &device);
    let x = host2(positions(8, 12, 1.0, 2, &device));
    let swap = |x: &[f64], i: usize, j: usize| -> Vec<f64> {
        let mut out = x.to_vec();
        for row in out.chunks_mut(12) {
            for a in 0..2 {
                row.swap(i * 2 + a, j * 2 + a);
            }
        }
        out
    };
    let Factor::Backflow(bf) = &psi.factors[0] else {
        panic!("backflow factor")
    };
    let t = |v: Vec<f64>| tensor2(v, 8, 12, &device);
    let y = host2(bf.quasi_particles(&t(x.clone())));
    let moved = (0..x.len())
        .map(|k| (y[k] - x[k]).abs())
        .fold(0.0, f64::max);
    assert!(
        moved > 0.05,
        "the backflow must move the coordinates ({moved})"
    );
    for (i, j) in [(0, 2), (3, 5)] {
        let xs = swap(&x, i, j);
        let ys = host2(bf.quasi_particles(&t(xs.clone())));
        assert!(max_rel(&ys, &swap(&y, i, j)) < 1e-12, "y_{i} ↔ y_{j}");
        let (v0, v1) = (
            host1(psi.log_psi(&t(x.clone()))),
            host1(psi.log_psi(&t(xs.clone()))),
        );
        assert!(max_rel(&v0, &v1) < 1e-12, "|ψ| kept under {i} ↔ {j}");
        let (s0, s1) = (host1(psi.sign(&t(x.clone()))), host1(psi.sign(&t(xs))));
        assert!(
            s0.iter().zip(&s1).all(|(a, b)| *a == -*b),
            "sign flips under {i} ↔ {j}"
        );
    }
}

/// Variational check with an exact answer: six non-interacting electrons (exact E = 10ω).
/// Started away from it (α = 0.8, a random backflow), SR training must come back to 10 and
/// the frozen evaluation must not lie below it beyond its error bar.
#[test]
fn non_interacting_dot_returns_to_the_exact_energy_from_above() {
    use nqs_train::{Config, Trainer};
    let text = "[system]\ndimensions = 2\nparticles = 6\nomega = 1.0\ninteraction = \"none\"\n\
                [[model.factors]]\nkind = \"backflow\"\nalpha = 0.8\nhidden = [8]\noutput_gain = 0.3\n\
                [sampler]\nwalkers = 256\nburn_in = 100\n\
                [optimizer]\nkind = \"sr\"\nlearning_rate = 0.1\n\
                [run]\nsteps = 60\nseed = 4\n";
    let config = Config::parse(text, &[], "non-interacting").expect("config");
    let mut trainer = Trainer::new(config, device()).expect("trainer");
    let first = trainer.train_step().expect("step").energy;
    for _ in 1..60 {
        trainer.train_step().expect("step");
    }
    let eval = trainer.evaluate(60).expect("evaluation");
    let (e, err) = (eval.energy.mean, eval.energy.error);
    eprintln!(
        "first step {first}, final {e} ± {err}, variance {}",
        eval.energy.variance
    );
    assert!(
        first > 10.05,
        "the start must be away from the ground state: {first}"
    );
    assert!(
        e > 10.0 - 3.0 * err - 1e-9,
        "E = {e} ± {err} below the exact 10"
    );
    assert!(e < 10.01, "E = {e} ± {err}: did not come back to 10");
}

/// The local energy evaluated in chunks of walkers (as the trainer does for large jets)
/// equals the one-batch local energy walker by walker.
#[test]
fn chunked_local_energies_equal_one_batch() {
    let device = device();
    let geometry = Geometry::balanced(6, 2);
    let psi = wave_function(
        &format!("[[factors]]\nkind = \"backflow\"\nhidden = [8, 8]\noutput_gain = 0.5\n{PADE}"),
        geometry,
        1.0,
        4,
        &device,
    );
    let x = positions(101, geometry.n_coords(), 1.1, 5, &device);
    let h = Hamiltonian::quantum_dot(geometry, 1.0, true);
    let one = host1(local_energy(&psi, &h, &x).total());
    let chunked =
        host1(nqs_physics::local_energy::local_energy_parallel(&psi, &h, &x, 2, 7).total());
    assert_eq!(one.len(), chunked.len());
    assert!(max_rel(&one, &chunked) < 1e-12, "{one:?} vs {chunked:?}");
}
