//! Forward-Laplacian gradient and Laplacian of log|ψ| against central finite differences
//! (f64), for every factor and for products, at random positions and random parameters.

mod common;

use common::*;
use nqs_model::{Geometry, Order};

fn check(name: &str, factors: &str, geometry: Geometry, omega: f64) {
    check_at(name, factors, geometry, omega, 1.2);
}

/// `width`: positions ~ N(0, (width/√ω)²) in every coordinate.
fn check_at(name: &str, factors: &str, geometry: Geometry, omega: f64, width: f64) {
    let device = device();
    let psi = factors_unchecked(factors, geometry, omega, 11, &device);
    let x = positions(6, geometry.n_coords(), width / omega.sqrt(), 5, &device);
    check_points(name, &psi, x);
}

const SLATER: &str = "[[factors]]\nkind = \"slater\"\nalpha = 0.83\n";
const PADE: &str =
    "[[factors]]\nkind = \"pade_jastrow\"\nbeta_parallel = 0.31\nbeta_antiparallel = 0.74\n";
const RBM_FULL: &str = "[[factors]]\nkind = \"rbm\"\nn_hidden = 5\ninit_std = 0.4\n";
const RBM_PARTICLE: &str =
    "[[factors]]\nkind = \"rbm\"\nn_hidden = 5\nper_particle = true\ninit_std = 0.4\n";
const FFNN_SYM: &str = "[[factors]]\nkind = \"ffnn\"\nhidden = [8, 6]\noutput_gain = 1.0\n";
const BACKFLOW: &str =
    "[[factors]]\nkind = \"backflow\"\nalpha = 0.83\nhidden = [6, 5]\noutput_gain = 0.7\n";
const BACKFLOW_MP: &str = "[[factors]]\nkind = \"backflow\"\nalpha = 0.9\nhidden = [5]\n\
     output_gain = 0.6\nmessage_passing = { width = 5, layers = 2 }\n";
const FFNN_PLAIN: &str =
    "[[factors]]\nkind = \"ffnn\"\nhidden = [8, 6]\nsymmetric = false\noutput_gain = 1.0\n";
const ENVELOPE: &str =
    "[[factors]]\nkind = \"envelope\"\nbeta = 0.7\na = 0.6\ngamma = 0.4\nkappa = 0.3\n";
const PAIR_JASTROW: &str =
    "[[factors]]\nkind = \"pair_jastrow\"\nhidden = [7, 5]\noutput_gain = 1.0\n";
const DEEP_SETS: &str = "[[factors]]\nkind = \"deep_sets\"\nhidden = [6]\nlatent = 4\n\
     readout = [5]\noutput_gain = 1.0\n";
const SPIN_CORRELATOR: &str =
    "[[factors]]\nkind = \"spin_correlator\"\nhidden = [6, 5]\noutput_gain = 1.0\n";
/// For A = 2 every operator acts on the deuteron's state as a number, so χ is a scalar
/// function that large random weights drive through zero, where log|χ| is singular and
/// finite differences lose their accuracy: smaller weights keep it away.
const SPIN_CORRELATOR_MILD: &str =
    "[[factors]]\nkind = \"spin_correlator\"\nhidden = [6, 5]\noutput_gain = 0.2\n";

/// A nucleus layout: A particles in 3D, one spatial species.
fn nucleus(a: usize) -> Geometry {
    Geometry::nucleus(a, a / 2)
}

#[test]
fn translation_invariant_factors_for_nuclei() {
    for a in [2, 3, 4] {
        check(&format!("envelope A={a}"), ENVELOPE, nucleus(a), 0.8);
        check(
            &format!("pair_jastrow A={a}"),
            PAIR_JASTROW,
            nucleus(a),
            0.8,
        );
        check(&format!("deep_sets A={a}"), DEEP_SETS, nucleus(a), 0.8);
        check(
            &format!("spin_correlator A={a}"),
            if a == 2 {
                SPIN_CORRELATOR_MILD
            } else {
                SPIN_CORRELATOR
            },
            nucleus(a),
            0.8,
        );
    }
    // ³He: two protons and one neutron.
    check(
        "spin_correlator 3He",
        SPIN_CORRELATOR,
        Geometry::nucleus(3, 2),
        0.8,
    );
    check(
        "envelope*pair_jastrow*deep_sets*spin_correlator A=4",
        &format!("{ENVELOPE}{PAIR_JASTROW}{DEEP_SETS}{SPIN_CORRELATOR}"),
        nucleus(4),
        1.0,
    );
    // Also in 2D, next to a Slater determinant of a quantum dot.
    check("deep_sets 2D N=6", DEEP_SETS, Geometry::balanced(6, 2), 1.0);
}

#[test]
fn slater_2d_3d_1d() {
    check("slater 2D N=6", SLATER, Geometry::balanced(6, 2), 1.0);
    check(
        "slater 2D N=12 ω=0.5",
        SLATER,
        Geometry::balanced(12, 2),
        0.5,
    );
    check("slater 3D N=8", SLATER, Geometry::balanced(8, 3), 1.0);
    check("slater 1D N=6", SLATER, Geometry::balanced(6, 1), 1.0);
}

#[test]
fn backflow_with_random_networks() {
    check("backflow 2D N=2", BACKFLOW, Geometry::balanced(2, 2), 1.0);
    check("backflow 2D N=6", BACKFLOW, Geometry::balanced(6, 2), 1.0);
    check(
        "backflow 2D N=6 ω=0.1",
        BACKFLOW,
        Geometry::balanced(6, 2),
        0.1,
    );
    check("backflow 3D N=8", BACKFLOW, Geometry::balanced(8, 3), 1.0);
    check(
        "backflow*pade 2D N=12",
        &format!("{BACKFLOW}{PADE}"),
        Geometry::balanced(12, 2),
        1.0,
    );
}

#[test]
fn message_passing_backflow() {
    check(
        "backflow+mp 2D N=2",
        BACKFLOW_MP,
        Geometry::balanced(2, 2),
        1.0,
    );
    check(
        "backflow+mp 2D N=6",
        BACKFLOW_MP,
        Geometry::balanced(6, 2),
        1.0,
    );
    check(
        "backflow+mp 2D N=6 ω=0.1",
        BACKFLOW_MP,
        Geometry::balanced(6, 2),
        0.1,
    );
    check(
        "backflow+mp 3D N=8",
        BACKFLOW_MP,
        Geometry::balanced(8, 3),
        1.0,
    );
}

#[test]
fn pade_jastrow() {
    check("pade 2D N=6", PADE, Geometry::balanced(6, 2), 1.0);
    check("pade 3D N=8", PADE, Geometry::balanced(8, 3), 0.5);
}

#[test]
fn rbm_full_and_per_particle() {
    check("rbm full 2D N=2", RBM_FULL, Geometry::balanced(2, 2), 1.0);
    check(
        "rbm per particle 2D N=6",
        RBM_PARTICLE,
        Geometry::balanced(6, 2),
        1.0,
    );
    check(
        "rbm per particle 3D N=8",
        RBM_PARTICLE,
        Geometry::balanced(8, 3),
        1.0,
    );
}

#[test]
fn ffnn_symmetric_and_plain() {
    check(
        "ffnn symmetric 2D N=6",
        FFNN_SYM,
        Geometry::balanced(6, 2),
        1.0,
    );
    check(
        "ffnn symmetric 3D N=8",
        FFNN_SYM,
        Geometry::balanced(8, 3),
        0.7,
    );
    check(
        "ffnn plain 2D N=2",
        FFNN_PLAIN,
        Geometry::balanced(2, 2),
        1.0,
    );
}

#[test]
fn products_of_factors() {
    let sj = format!("{SLATER}{PADE}");
    check("slater*pade 2D N=6", &sj, Geometry::balanced(6, 2), 1.0);
    check(
        "slater*ffnn*pade 2D N=6",
        &format!("{SLATER}{FFNN_SYM}{PADE}"),
        Geometry::balanced(6, 2),
        1.0,
    );
    check(
        "slater*rbm*pade 3D N=8",
        &format!("{SLATER}{RBM_PARTICLE}{PADE}"),
        Geometry::balanced(8, 3),
        1.0,
    );
    check(
        "ffnn*pade 2D N=2",
        &format!("{FFNN_PLAIN}{PADE}"),
        Geometry::balanced(2, 2),
        1.0,
    );
    check(
        "rbm*pade 2D N=2",
        &format!("{RBM_FULL}{PADE}"),
        Geometry::balanced(2, 2),
        1.0,
    );
}

#[test]
fn log_determinant_is_stable_for_thirty_electrons() {
    let device = device();
    let geometry = Geometry::balanced(30, 2);
    let psi = wave_function(SLATER, geometry, 1.0, 1, &device);
    // Spread-out electrons: the orbital matrix has entries up to ~H_4(ξ) with |ξ| ≫ 1.
    let x = positions(4, geometry.n_coords(), 3.0, 9, &device);
    let out = psi.forward(&x, Order::Laplacian);
    let lap = host1(out.expect_lap());
    for v in host1(out.value).into_iter().chain(lap) {
        assert!(
            v.is_finite(),
            "non-finite log|ψ| or Laplacian for N=30: {v}"
        );
    }
    // Derivatives at configurations drawn from |ψ|² (random points put some of the 15
    // same-spin electrons next to a node, where finite differences lose their accuracy).
    let config = nqs_sampler::SamplerConfig {
        walkers: 6,
        burn_in: 400,
        ..Default::default()
    };
    let mut state = nqs_sampler::SamplerState::new(6, geometry.n_coords(), 1.5, 0.3, 4, &device);
    nqs_sampler::burn_in(&config, &mut state, &psi).expect("burn-in");
    check_points("slater 2D N=30", &psi, state.x);
}

#[test]
fn gradient_order_matches_laplacian_order() {
    let device = device();
    let geometry = Geometry::balanced(6, 2);
    let psi = factors_unchecked(&format!("{SLATER}{PADE}"), geometry, 1.0, 3, &device);
    let x = positions(5, geometry.n_coords(), 1.2, 8, &device);
    let g1 = host2(psi.forward(&x, Order::Gradient).expect_grad());
    let g2 = host2(psi.forward(&x, Order::Laplacian).expect_grad());
    assert_eq!(g1, g2);
}

/// Exchanging two same-spin electrons flips the sign of the Slater × neural Jastrow × Padé
/// product and keeps |ψ|; exchanging electrons of opposite spin is no symmetry of the
/// spin-assigned state, so |ψ| changes.
#[test]
fn product_is_antisymmetric_under_same_spin_exchange() {
    let device = device();
    let geometry = Geometry::balanced(6, 2);
    let psi = wave_function(
        &format!("{SLATER}{FFNN_SYM}{PADE}"),
        geometry,
        1.0,
        2,
        &device,
    );
    let x = host2(positions(4, 12, 1.2, 6, &device));
    let swap = |i: usize, j: usize| {
        let mut y = x.clone();
        for w in 0..4 {
            for a in 0..2 {
                y.swap(w * 12 + 2 * i + a, w * 12 + 2 * j + a);
            }
        }
        common::tensor2(y, 4, 12, &device)
    };
    let x0 = common::tensor2(x.clone(), 4, 12, &device);
    let (lp, sign) = (host1(psi.log_psi(&x0)), host1(psi.sign(&x0)));
    let same = swap(0, 2); // both spin up
    let (lp_s, sign_s) = (host1(psi.log_psi(&same)), host1(psi.sign(&same)));
    for w in 0..4 {
        assert!(
            (lp[w] - lp_s[w]).abs() < 1e-10 * lp[w].abs().max(1.0),
            "{} vs {}",
            lp[w],
            lp_s[w]
        );
        assert_eq!(sign[w], -sign_s[w]);
    }
    let mixed = host1(psi.log_psi(&swap(0, 3))); // up with down
    assert!((0..4).any(|w| (lp[w] - mixed[w]).abs() > 1e-6));
}
