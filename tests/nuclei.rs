//! Light nuclei against independent truth: the deuteron's exact energy from a radial solver
//! written here, an exactly solvable harmonic "nucleus" (zero variance), translation
//! invariance of ψ and E_L, and trained energies of the shipped configs against the
//! correlated-Gaussian values of their sector.

mod common;

use std::path::Path;

use burn::tensor::Tensor;
use common::*;
use nqs_model::pairs::Pairs;
use nqs_model::{Geometry, row_sum};
use nqs_physics::hamiltonian::PotentialTerm;
use nqs_physics::local_energy::local_energy;
use nqs_physics::{Hamiltonian, SystemConfig};
use nqs_train::{Config, Trainer};

/// A nucleus layout: A nucleons in 3D, one spatial species.
fn nucleus(a: usize) -> Geometry {
    Geometry::nucleus(a, a / 2)
}

fn shipped(name: &str, overrides: &[&str]) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../configs/{name}.toml"));
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    Config::load(&path, &overrides).expect("shipped config")
}

/// Lowest eigenvalue of −(ħ²/M) u'' + c e^{−Λ²r²/4} u = E u on (0, R) with u(0) = u(R) = 0
/// (the deuteron's relative S-wave; ħ²/M = ħ²/2μ with μ = M/2), by second-order finite
/// differences on `n` interior points: Sturm-sequence bisection of the tridiagonal matrix.
fn radial_ground_state(c: f64, cutoff: f64, hbar2_over_m: f64, r_max: f64, n: usize) -> f64 {
    let h = r_max / (n + 1) as f64;
    let off = -hbar2_over_m / (h * h);
    let diag: Vec<f64> = (1..=n)
        .map(|i| {
            let r = i as f64 * h;
            2.0 * hbar2_over_m / (h * h) + c * (-0.25 * cutoff * cutoff * r * r).exp()
        })
        .collect();
    // Number of eigenvalues below x.
    let below = |x: f64| {
        let mut count = 0;
        let mut q = 1.0;
        for (i, d) in diag.iter().enumerate() {
            q = d - x - if i == 0 { 0.0 } else { off * off / q };
            if q == 0.0 {
                q = 1e-300;
            }
            if q < 0.0 {
                count += 1;
            }
        }
        count
    };
    let (mut lo, mut hi) = (c.min(0.0) - 1.0, 0.0);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if below(mid) >= 1 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The deuteron energy of `config`'s Hamiltonian, Richardson-extrapolated in the mesh.
fn deuteron_exact(config: &Config) -> f64 {
    let SystemConfig::Nucleus(n) = &config.system else {
        panic!("a nucleus config")
    };
    let lecs = n.lecs();
    // S = 1: σ₁·σ₂ = +1.
    let c = lecs.c1 + lecs.c2;
    let hbar2_over_m = n.hbar_c * n.hbar_c / n.nucleon_mass;
    let e = |points| radial_ground_state(c, n.cutoff, hbar2_over_m, 60.0, points);
    let (coarse, fine) = (e(3000), e(6000));
    (4.0 * fine - coarse) / 3.0
}

#[test]
fn deuteron_radial_solver_agrees_with_the_shipped_reference() {
    let config = shipped("nuc_h2_lo4", &[]);
    let exact = deuteron_exact(&config);
    let shipped = config.reference().expect("ECG reference").energy;
    assert!((exact - shipped).abs() < 2e-5, "{exact} vs {shipped}");
}

/// Train `config` for its steps and return the frozen evaluation's energy and error.
fn train_and_evaluate(config: Config) -> (f64, f64) {
    let samples = config.eval.samples_per_walker;
    let mut trainer = Trainer::new(config, device()).expect("trainer");
    for _ in 0..trainer.config.run.steps {
        trainer.train_step().expect("training step");
    }
    let eval = trainer.evaluate(samples).expect("evaluation");
    (eval.energy.mean, eval.energy.error)
}

#[test]
fn deuteron_trains_to_the_exact_energy() {
    let config = shipped("nuc_h2_lo4", &[]);
    let exact = deuteron_exact(&config);
    let (e, err) = train_and_evaluate(config);
    eprintln!("2H Λ=4: E = {e:.5} ± {err:.5} (exact {exact:.5})");
    assert!(
        e > exact - 3.0 * err,
        "E = {e} ± {err} below the exact {exact}"
    );
    assert!(
        (e - exact).abs() < 0.005,
        "E = {e} ± {err} vs exact {exact}"
    );
}

/// k Σ_{i<j} r_ij²: harmonic pair forces.
#[derive(Debug)]
struct HarmonicPairs {
    geometry: Geometry,
    k: f64,
}

impl PotentialTerm for HarmonicPairs {
    fn name(&self) -> &'static str {
        "harmonic_pairs"
    }

    fn potential(&self, x: &Tensor<2>) -> Tensor<1> {
        row_sum(Pairs::new(x, &self.geometry).r2) * self.k
    }
}

#[test]
fn harmonic_pair_forces_have_an_exact_zero_variance_state() {
    // Jacobi coordinates ξ (A − 1 of them, normalised so that Σ_i |x_i − X|² = Σ |ξ|²) turn
    // H_int = −h Σ ∇² + k Σ_{i<j} r_ij² = −h Σ ∇² + kA Σ_i |x_i − X|² into d(A − 1)
    // oscillators −h ∂² + kA ξ², each with ground energy √(h k A); the ground state is
    // exp(−½ κ Σ_i |x_i − X|²) with κ = √(kA/h).
    let (h, k) = (20.7348, 3.0);
    let device = device();
    for a in [2, 3, 4] {
        let geometry = nucleus(a);
        let kappa = (k * a as f64 / h).sqrt();
        let exact = 3.0 * (a - 1) as f64 * (h * k * a as f64).sqrt();
        let factors = format!(
            "[[factors]]\nkind = \"envelope\"\nbeta = 0.0\ngamma = 0.0\nkappa = {kappa}\n\
             [[factors]]\nkind = \"pair_jastrow\"\noutput_gain = 0.0\n"
        );
        let psi = wave_function(&factors, geometry, 1.0, 3, &device);
        let hamiltonian = Hamiltonian::new(h, vec![Box::new(HarmonicPairs { geometry, k })]);
        let x = positions(16, geometry.n_coords(), 1.3, 7, &device);
        let e = host1(local_energy(&psi, &hamiltonian, &x).total());
        for value in e {
            assert!(
                (value - exact).abs() < 1e-9 * exact,
                "A = {a}: E_L = {value}, exact {exact}"
            );
        }
    }
}

#[test]
fn nuclear_states_and_local_energies_are_translation_invariant() {
    let config = shipped("nuc_he4_lo4", &[]);
    let geometry = config.geometry();
    let device = device();
    // Random, non-trivial parameters: every factor's output layer at full gain.
    let factors = "[[factors]]\nkind = \"envelope\"\nbeta = 0.6\na = 0.8\ngamma = 0.3\nkappa = 0.2\n\
                   [[factors]]\nkind = \"pair_jastrow\"\noutput_gain = 1.0\n\
                   [[factors]]\nkind = \"deep_sets\"\noutput_gain = 1.0\n";
    let psi = wave_function(factors, geometry, config.system.trial_scale(), 5, &device);
    let hamiltonian = config.system.hamiltonian();
    let walkers = 8;
    let x = positions(walkers, geometry.n_coords(), 1.2, 9, &device);
    // One translation a per walker, the same for all its particles.
    let shift: Vec<f64> = (0..walkers)
        .flat_map(|w| {
            let a = [3.7 - 0.3 * w as f64, -11.2, 0.9 * w as f64];
            std::iter::repeat_n(a, geometry.n_particles).flatten()
        })
        .collect();
    let moved = x.clone() + tensor2(shift, walkers, geometry.n_coords(), &device);
    let (before, after) = (host1(psi.log_psi(&x)), host1(psi.log_psi(&moved)));
    let e_before = host1(local_energy(&psi, &hamiltonian, &x).total());
    let e_after = host1(local_energy(&psi, &hamiltonian, &moved).total());
    for w in 0..walkers {
        assert!(
            (before[w] - after[w]).abs() < 1e-10,
            "log ψ: {} vs {}",
            before[w],
            after[w]
        );
        assert!(
            (e_before[w] - e_after[w]).abs() < 1e-8 * e_before[w].abs().max(1.0),
            "E_L: {} vs {}",
            e_before[w],
            e_after[w]
        );
    }
}

/// Train `name` for `steps` (shorter than the shipped config where it is long) and return
/// the frozen evaluation's energy and error, checked against the sector's reference: never
/// more than 3σ below it.
fn train_nucleus(name: &str, overrides: &[&str]) -> (f64, f64, f64) {
    let config = shipped(name, overrides);
    let reference = config.reference().expect("ECG reference").energy;
    let (e, err) = train_and_evaluate(config);
    eprintln!("{name}: E = {e:.5} ± {err:.5} (reference {reference})");
    assert!(
        e > reference - 3.0 * err,
        "{name}: E = {e} ± {err} below {reference}"
    );
    (e, err, reference)
}

// The shipped A = 3, 4 configs train for 4000 steps (about 5 and 7 minutes on 2 cores; their
// energies, within 0.5 % of the references, are in docs/results.md from
// `nqs-train bench --full`). The tests train the same configs for a quarter and a seventh of
// that and assert looser bounds.

#[test]
fn triton_in_the_symmetric_sector() {
    let (e, _, reference) = train_nucleus(
        "nuc_h3_lo4",
        &["run.steps=1000", "eval.samples_per_walker=100"],
    );
    // This build: −7.7918(242) against −7.82971.
    assert!((e - reference).abs() < 0.015 * reference.abs(), "E = {e}");
}

#[test]
fn alpha_particle_in_the_symmetric_sector() {
    let (e, _, reference) = train_nucleus(
        "nuc_he4_lo4",
        &["run.steps=600", "eval.samples_per_walker=100"],
    );
    // This build: −22.367(73) against −22.77975.
    assert!((e - reference).abs() < 0.03 * reference.abs(), "E = {e}");
}

#[test]
fn potential_terms_agree_with_loops_over_pairs_and_triples() {
    // The three-body term's closed form against the sum over triples and corners, and the
    // two-body term against the sum over pairs with ⟨σ_i·σ_j⟩ = −1 (⁴He).
    let config = shipped("nuc_he4_lo4", &[]);
    let SystemConfig::Nucleus(n) = &config.system else {
        panic!("a nucleus config")
    };
    let lecs = n.lecs();
    let geometry = config.geometry();
    let device = device();
    let walkers = 5;
    let x = positions(walkers, geometry.n_coords(), 0.8, 13, &device);
    let hamiltonian = config.system.hamiltonian();
    assert_eq!(hamiltonian.term_names(), vec!["v2", "v3"]);
    let terms: Vec<Vec<f64>> = hamiltonian
        .potential_terms(&x)
        .into_iter()
        .map(host1)
        .collect();
    let xs = host2(x);
    let g = |p: &[f64], i: usize, j: usize| {
        let r2: f64 = (0..3).map(|a| (p[3 * i + a] - p[3 * j + a]).powi(2)).sum();
        (-0.25 * n.cutoff * n.cutoff * r2).exp()
    };
    for w in 0..walkers {
        let p = &xs[w * 12..(w + 1) * 12];
        let mut v2 = 0.0;
        let mut v3 = 0.0;
        for i in 0..4 {
            for j in (i + 1)..4 {
                v2 += (lecs.c1 - lecs.c2) * g(p, i, j);
                for k in (j + 1)..4 {
                    // Σ_cyc: the corner at k, at j and at i.
                    v3 += lecs.d0
                        * (g(p, i, k) * g(p, j, k)
                            + g(p, i, j) * g(p, k, j)
                            + g(p, j, i) * g(p, k, i));
                }
            }
        }
        assert!(
            (terms[0][w] - v2).abs() < 1e-9 * v2.abs().max(1.0),
            "v2 {} vs {v2}",
            terms[0][w]
        );
        assert!(
            (terms[1][w] - v3).abs() < 1e-9 * v3.abs().max(1.0),
            "v3 {} vs {v3}",
            terms[1][w]
        );
    }
}
