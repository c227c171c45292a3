//! The Ewald sum of the electron gas against independent truth: the Madelung energies of
//! the simple-cubic, body-centred and face-centred cubic Wigner crystals (published
//! constants), independence of the splitting parameter, and periodicity.

mod common;

use common::*;
use nqs_model::Geometry;
use nqs_physics::hamiltonian::{Ewald, PotentialTerm};

fn energy(ewald: &Ewald, positions: &[f64]) -> f64 {
    let n = positions.len() / 3;
    host1(ewald.potential(&tensor2(positions.to_vec(), 1, 3 * n, &device())))[0]
}

fn r_s(n: usize, length: f64) -> f64 {
    (3.0 * length.powi(3) / (4.0 * std::f64::consts::PI * n as f64)).cbrt()
}

#[test]
fn wigner_crystals_have_their_madelung_energies() {
    let l = 3.7;
    // Energy per electron times r_s (Hartree): sc −0.8800594421 (from the simple-cubic
    // Madelung constant ξL = −2.837297479480620), bcc −0.895929255682, fcc −0.895873615195
    // (the Wigner-crystal Madelung energies, e.g. Fuchs, Proc. R. Soc. A 151, 585 (1935);
    // Coldwell-Horsfall and Maradudin, J. Math. Phys. 1, 395 (1960)).
    let cubic = [0.0, 0.0, 0.0];
    let body = [0.0, 0.0, 0.0, 0.5, 0.5, 0.5];
    let face = [0.0, 0.0, 0.0, 0.5, 0.5, 0.0, 0.5, 0.0, 0.5, 0.0, 0.5, 0.5];
    for (name, cell, expected) in [
        ("sc", &cubic[..], -0.880_059_442_1),
        ("bcc", &body[..], -0.895_929_255_682),
        ("fcc", &face[..], -0.895_873_615_195),
    ] {
        let n = cell.len() / 3;
        let ewald = Ewald::new(Geometry::balanced(n, 3), l, 1e-12);
        let positions: Vec<f64> = cell.iter().map(|v| v * l).collect();
        let per_electron = energy(&ewald, &positions) / n as f64 * r_s(n, l);
        assert!(
            (per_electron - expected).abs() < 1e-9,
            "{name}: {per_electron} vs {expected}"
        );
    }
    // The Madelung term of the simple-cubic lattice: ξ L = −2.837297479.
    let ewald = Ewald::new(Geometry::balanced(1, 3), l, 1e-12);
    assert!((ewald.madelung() * l + 2.837_297_479_480_62).abs() < 1e-9);
}

#[test]
fn the_energy_does_not_depend_on_the_splitting_and_is_periodic() {
    let l = 2.9;
    let geometry = Geometry::balanced(5, 3);
    let x = host2(positions(3, 15, 1.3, 17, &device()));
    let sums: Vec<Ewald> = [2.5, 3.5, 5.0]
        .iter()
        .map(|a| Ewald::with_alpha(geometry, l, a / l, 1e-12))
        .collect();
    for w in 0..3 {
        let point = &x[w * 15..(w + 1) * 15];
        let e: Vec<f64> = sums.iter().map(|s| energy(s, point)).collect();
        for v in &e[1..] {
            assert!((v - e[0]).abs() < 1e-9 * e[0].abs().max(1.0), "{e:?}");
        }
        // Moving one electron by lattice vectors changes nothing.
        let mut shifted = point.to_vec();
        shifted[0] += l;
        shifted[4] -= 2.0 * l;
        shifted[14] += 3.0 * l;
        let moved = energy(&sums[1], &shifted);
        assert!(
            (moved - e[1]).abs() < 1e-9 * e[1].abs().max(1.0),
            "{moved} vs {}",
            e[1]
        );
    }
}

/// Σ_n e^{−ε|r + nL|²}/|r + nL| − 2π/(εV): the Gaussian-damped direct sum over images with
/// the damped background. By Poisson summation it equals the zero-mean periodic potential
/// (4π/V) Σ_{k≠0} e^{ik·r}/k² plus (8πε/V) Σ_{k≠0} e^{ik·r}/k⁴ + O(ε²), so it converges to
/// the Ewald pair potential as ε → 0. `skip_origin` drops n = 0 (for the self term ξ).
fn damped_direct_sum(r: [f64; 3], l: f64, eps: f64, skip_origin: bool) -> f64 {
    let reach = (6.2 / eps.sqrt() / l).ceil() as i64 + 1;
    let mut sum = 0.0;
    for a in -reach..=reach {
        for b in -reach..=reach {
            for c in -reach..=reach {
                if skip_origin && a == 0 && b == 0 && c == 0 {
                    continue;
                }
                let s2 = (r[0] + a as f64 * l).powi(2)
                    + (r[1] + b as f64 * l).powi(2)
                    + (r[2] + c as f64 * l).powi(2);
                let s = s2.sqrt();
                sum += (-eps * s2).exp() / s;
            }
        }
    }
    sum - 2.0 * std::f64::consts::PI / (eps * l.powi(3))
}

/// The limit ε → 0 of the damped sum by quadratic (three-point Richardson) extrapolation
/// from εL² = 0.04, 0.02, 0.01.
fn extrapolated(r: [f64; 3], l: f64, skip_origin: bool) -> f64 {
    let f: Vec<f64> = [0.04, 0.02, 0.01]
        .iter()
        .map(|e| damped_direct_sum(r, l, e / (l * l), skip_origin))
        .collect();
    // f(ε) = f0 + aε + bε² at ε, ε/2, ε/4: f0 = (f(ε) − 6 f(ε/2) + 8 f(ε/4)) / 3.
    (f[0] - 6.0 * f[1] + 8.0 * f[2]) / 3.0
}

#[test]
fn the_pair_energy_matches_a_brute_force_sum_over_images() {
    let l = 2.3;
    let ewald = Ewald::new(Geometry::balanced(2, 3), l, 1e-12);
    let xi = extrapolated([0.0; 3], l, true);
    assert!(
        (xi - ewald.madelung()).abs() < 1e-6,
        "ξ: direct {xi} vs Ewald {}",
        ewald.madelung()
    );
    for r in [[0.3, -0.4, 0.9], [1.1, 0.2, -0.05], [0.05, 0.1, 0.0]] {
        let direct = extrapolated(r, l, false) + xi;
        let e = energy(&ewald, &[0.0, 0.0, 0.0, -r[0], -r[1], -r[2]]);
        assert!(
            (direct - e).abs() < 1e-6,
            "r = {r:?}: direct {direct} vs Ewald {e}"
        );
    }
}

/// The host pass (walkers on flex f64 without a graph: every local energy) and the burn-op
/// sum (the same walkers with an autodiff graph) agree for N = 14 at r_s = 1 and 5, within
/// ten times the tolerance τ the sums are built for: the host pass leaves out the images
/// beyond r_c (erfc(α r_c) ≈ τ), the burn ops keep them (1.2–1.6e-10 apart at τ = 1e-10,
/// 1.7e-7 at τ = 1e-7).
#[test]
fn host_sum_equals_the_burn_op_sum() {
    let geometry = Geometry::balanced(14, 3);
    let device = device();
    for (l, spread, tolerance) in [(3.9, 2.0, 1e-10), (19.5, 9.0, 1e-10), (3.9, 2.0, 1e-7)] {
        let ewald = Ewald::new(geometry, l, tolerance);
        let x = positions(16, 42, spread, 23, &device);
        let host = host1(ewald.potential(&x));
        let ops = host1(ewald.potential(&x.clone().autodiff()).inner());
        for (h, o) in host.iter().zip(&ops) {
            assert!(
                (h - o).abs() < 10.0 * tolerance * o.abs().max(1.0),
                "L = {l}, τ = {tolerance}: host {h} against ops {o}"
            );
        }
    }
}
