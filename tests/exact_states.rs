//! Exact eigenstates give a constant local energy (zero variance): the kinetic-energy
//! machinery checked with no sampling noise to hide behind (PHYSICS.md §1).

mod common;

use common::*;
use nqs_model::pairs::Pairs;
use nqs_model::{Geometry, LogPsi, Order};
use nqs_train::hamiltonian::Hamiltonian;
use nqs_train::local_energy::local_energy;

fn assert_constant(name: &str, e: &[f64], exact: f64) {
    let mean = e.iter().sum::<f64>() / e.len() as f64;
    let var = e.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / e.len() as f64;
    assert!(var < 1e-10, "{name}: variance {var:e} (mean {mean})");
    assert!(
        (mean - exact).abs() < 1e-8,
        "{name}: E_L = {mean}, exact {exact}"
    );
}

/// Non-interacting closed shells: the Hermite Slater determinant at α = 1 is exact.
#[test]
fn non_interacting_closed_shells() {
    let device = device();
    // (d, N, ω, E): 2D N=6 → 10ω; 3D N=8 → 18ω; 2D N=12 → 28ω; 1D N=6 → 9ω (2·(½+3/2+5/2)).
    for (d, n, omega, exact) in [
        (2, 6, 1.0, 10.0),
        (3, 8, 1.0, 18.0),
        (3, 8, 0.5, 9.0),
        (2, 12, 0.28, 28.0 * 0.28),
        (1, 6, 1.0, 9.0),
    ] {
        let geometry = Geometry::balanced(n, d);
        let psi = wave_function(
            "[[factors]]\nkind = \"slater\"\n",
            geometry,
            omega,
            1,
            &device,
        );
        let h = Hamiltonian::quantum_dot(geometry, omega, false);
        let x = positions(64, geometry.n_coords(), 1.5 / omega.sqrt(), 3, &device);
        let e = host1(local_energy(&psi, &h, &x).total());
        assert_constant(&format!("{d}D N={n} ω={omega}"), &e, exact);
    }
}

/// Taut's exact two-electron states: ψ = (1 + r12/(d−1)) exp(−ω(r1² + r2²)/2) with
/// ω = 1 in 2D (E = 3) and ω = ½ in 3D (E = 2). The Slater factor gives the Gaussian; the
/// pair factor u(r) = ln(1 + a r), a = 1/(d−1), goes through the same pair chain rule as the
/// Jastrow factors.
#[test]
fn taut_two_electron_states() {
    let device = device();
    for (d, omega, exact) in [(2usize, 1.0, 3.0), (3, 0.5, 2.0)] {
        let geometry = Geometry::balanced(2, d);
        let psi = wave_function(
            "[[factors]]\nkind = \"slater\"\n",
            geometry,
            omega,
            1,
            &device,
        );
        let x = positions(128, geometry.n_coords(), 1.5 / omega.sqrt(), 4, &device);
        let a = 1.0 / (d as f64 - 1.0);
        let pairs = Pairs::new(&x, &geometry);
        let r = pairs.r();
        let denom = (r.clone() * a).add_scalar(1.0);
        let u = denom.clone().log();
        let du = denom.clone().recip() * a; // u' = a/(1 + a r)
        let d2u = denom.powi_scalar(2).recip() * (-a * a); // u'' = −a²/(1 + a r)²
        let c = du.clone() / r.clone();
        let lap = d2u + c.clone() * (d as f64 - 1.0);
        let jastrow = pairs.aggregate(u, Some(c), Some(lap), Order::Laplacian);
        let total: LogPsi = psi.forward(&x, Order::Laplacian).add(jastrow);
        let [w, _] = x.dims();
        let kinetic =
            (total.expect_lap() + total.expect_grad().square().sum_dim(1).reshape([w])) * -0.5;
        let v = Hamiltonian::quantum_dot(geometry, omega, true).potential(&x);
        let e = host1(kinetic + v);
        assert_constant(&format!("Taut {d}D ω={omega}"), &e, exact);
    }
}
