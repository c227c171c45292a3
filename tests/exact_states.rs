//! Exact eigenstates give a constant local energy (zero variance): the kinetic-energy
//! machinery checked with no sampling noise to hide behind (PHYSICS.md §1).

mod common;

use common::*;
use nqs_model::pairs::Pairs;
use nqs_model::{Geometry, LogPsi, Order};
use nqs_physics::Hamiltonian;
use nqs_physics::local_energy::local_energy;

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

/// One particle in a 2D trap has no pairs: the Padé factor is exactly 1 (log ψ = 0 with zero
/// derivatives), the neural Jastrow evaluates its one-body part alone, and the Coulomb term
/// is zero, so E_L of the trap ground state e^{−ωr²/2} is ω·d/2 = 1.
#[test]
fn one_particle_has_no_pair_terms() {
    let device = device();
    let geometry = Geometry::balanced(1, 2);
    let x = positions(64, 2, 1.0, 5, &device);
    let rbm = "[[factors]]\nkind = \"rbm\"\n";
    let psi =
        |text: &str| wave_function(text, geometry, 1.0, 1, &device).forward(&x, Order::Laplacian);
    let same = |a: Vec<f64>, b: Vec<f64>| {
        a.iter()
            .zip(&b)
            .all(|(p, q)| p.is_finite() && (p - q).abs() < 1e-12)
    };
    // No pairs: the Padé factor is exactly 1.
    let alone = psi(rbm);
    let with_pade = psi(&format!("{rbm}[[factors]]\nkind = \"pade_jastrow\"\n"));
    assert!(same(
        host1(with_pade.value.clone()),
        host1(alone.value.clone())
    ));
    assert!(same(
        host1(with_pade.expect_lap()),
        host1(alone.expect_lap())
    ));
    // The neural Jastrow keeps its one-body part: finite values and derivatives.
    let with_ffnn = psi(&format!(
        "{rbm}[[factors]]\nkind = \"ffnn\"\nhidden = [4]\n"
    ));
    let lap = host1(with_ffnn.expect_lap());
    assert!(same(lap.clone(), lap));
    // ψ = e^{−ωr²/2}: log ψ = −r²/2, ∇ = −x, ∇² = −d; E_L = ½(d − r²) + ½ r² = 1.
    let [w, _] = x.dims();
    let grad_sq = host1(x.clone().square().sum_dim(1).reshape([w]));
    let v = host1(Hamiltonian::quantum_dot(geometry, 1.0, true).potential(&x));
    let e: Vec<f64> = grad_sq
        .iter()
        .zip(&v)
        .map(|(g2, v)| -0.5 * (-2.0 + g2) + v)
        .collect();
    assert_constant("one particle, Coulomb on", &e, 1.0);
}

/// The local energies take the Coulomb sum Σ 1/r that a Padé–Jastrow's jet computes on the
/// way (no pair pass of the Coulomb term's own); it equals the Coulomb term's own pass to
/// 1e-14 relative and the kinetic part is untouched, 2D N = 6 and 20 and 3D N = 8 (unit
/// charges), and a term with unequal charges computes its own sum.
#[test]
fn coulomb_from_the_pade_jet_equals_its_own_pass() {
    let device = device();
    for (n, d) in [(6, 2), (20, 2), (8, 3)] {
        let geometry = Geometry::balanced(n, d);
        let psi = wave_function(
            "[[factors]]\nkind = \"slater\"\n[[factors]]\nkind = \"pade_jastrow\"\n",
            geometry,
            1.0,
            3,
            &device,
        );
        let x = positions(70, geometry.n_coords(), 1.3, 9, &device);
        let (_, _, sum) = psi.forward_with_inverse_distance_sum(&x, Order::Laplacian);
        assert!(sum.is_some(), "N = {n}, d = {d}: the jet gave its Σ 1/r");
        let h = Hamiltonian::quantum_dot(geometry, 1.0, true);
        let coulomb = h
            .term_names()
            .iter()
            .position(|&t| t == "coulomb")
            .expect("a Coulomb term");
        let e = local_energy(&psi, &h, &x);
        let own = host1(h.potential_terms(&x)[coulomb].clone());
        let fused = host1(e.terms[coulomb].clone());
        for (f, o) in fused.iter().zip(&own) {
            assert!(
                (f - o).abs() < 1e-14 * o,
                "N = {n}, d = {d}: {f} against {o}"
            );
        }
        let jet = psi.forward(&x, Order::Laplacian);
        let kinetic = (jet.expect_lap() + nqs_model::row_sum(jet.expect_grad().square())) * -0.5;
        assert_eq!(host1(e.kinetic), host1(kinetic), "N = {n}, d = {d}");
    }
    // Unequal charges: the term's own pass, whatever sum it is given.
    let geometry = Geometry::balanced(4, 2);
    let x = positions(9, geometry.n_coords(), 1.0, 2, &device);
    let term = nqs_physics::hamiltonian::Coulomb {
        geometry,
        couplings: vec![1.0, 2.0, 1.0, 1.0, 0.5, 1.0],
        spin: None,
    };
    use nqs_physics::hamiltonian::PotentialTerm;
    let wrong = burn::tensor::Tensor::<1>::zeros([9], &device);
    assert_eq!(
        host1(term.potential_given_inverse_distance_sum(&x, &wrong)),
        host1(term.potential(&x))
    );
}
