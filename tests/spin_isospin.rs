//! Nuclei with spin-isospin amplitudes (the `spin_correlator` factor) against independent
//! truth: the local energy against the components ψ_s(x) differentiated by finite
//! differences with the Hamiltonian's operators applied in the full 4^A basis, antisymmetry
//! under exchange of nucleons, the parameter gradient against finite differences of
//! ⟨∂ψ|Hψ⟩, and trained energies against the unrestricted correlated-Gaussian value.

mod common;

use std::path::Path;

use burn::module::Module;

use common::*;
use nqs_model::pairs::pair_indices;
use nqs_model::spin_isospin::Basis;
use nqs_model::{Geometry, Order, WaveFunction};
use nqs_physics::local_energy::local_energy;
use nqs_physics::nucleus::FINE_STRUCTURE;
use nqs_physics::{NucleusConfig, SystemConfig};
use nqs_train::{Config, Trainer};

const FACTORS: &str = "[[factors]]\nkind = \"envelope\"\nbeta = 0.7\na = 0.6\ngamma = 0.4\n\
     [[factors]]\nkind = \"pair_jastrow\"\nhidden = [7, 5]\noutput_gain = 1.0\n\
     [[factors]]\nkind = \"spin_correlator\"\nhidden = [6, 5]\noutput_gain = 1.0\n";

fn nucleus(toml_text: &str) -> NucleusConfig {
    match toml::from_str::<SystemConfig>(toml_text).expect("system TOML") {
        SystemConfig::Nucleus(c) => c,
        other => panic!("not a nucleus: {other:?}"),
    }
}

/// ψ_s(x) = e^{log|ψ|} χ_s/|χ| of every row of `x` (`[rows][S]`).
fn components(psi: &WaveFunction, x: &[f64], coords: usize) -> Vec<Vec<f64>> {
    let device = device();
    let rows = x.len() / coords;
    let (log_psi, spin) =
        psi.forward_with_spin(&tensor2(x.to_vec(), rows, coords, &device), Order::Value);
    let log_psi = host1(log_psi.value);
    let chi = host2(spin.expect("spin amplitudes").chi);
    let s = chi.len() / rows;
    (0..rows)
        .map(|r| {
            let row = &chi[r * s..(r + 1) * s];
            let norm = row.iter().map(|c| c * c).sum::<f64>().sqrt();
            row.iter().map(|c| log_psi[r].exp() * c / norm).collect()
        })
        .collect()
}

/// ∇²ψ_s at one point by central differences at h and h/2, Richardson-extrapolated.
fn laplacians(psi: &WaveFunction, point: &[f64], h: f64) -> Vec<f64> {
    let coords = point.len();
    let at = |h: f64| {
        let mut batch = point.to_vec();
        for k in 0..coords {
            for sign in [1.0, -1.0] {
                let mut p = point.to_vec();
                p[k] += sign * h;
                batch.extend(p);
            }
        }
        let c = components(psi, &batch, coords);
        (0..c[0].len())
            .map(|s| {
                (0..coords)
                    .map(|k| (c[1 + 2 * k][s] - 2.0 * c[0][s] + c[2 + 2 * k][s]) / (h * h))
                    .sum::<f64>()
            })
            .collect::<Vec<f64>>()
    };
    let (l1, l2) = (at(h), at(h / 2.0));
    l1.iter()
        .zip(&l2)
        .map(|(a, b)| (4.0 * b - a) / 3.0)
        .collect()
}

/// What the Hamiltonian does to ψ at one point, computed independently of the trainer: the
/// kinetic part from finite differences of every component, the potential with σ_i·σ_j and
/// the proton projectors applied in the full 4^A basis by loops over pairs and triples.
struct Applied {
    /// ψ_s.
    psi: Vec<f64>,
    /// (Hψ)_s.
    h_psi: Vec<f64>,
    /// ⟨ψ|T|ψ⟩/⟨ψ|ψ⟩, ⟨V2⟩, ⟨V3⟩, ⟨V_C⟩ at the point.
    kinetic: f64,
    v2: f64,
    v3: f64,
    coulomb: f64,
}

fn apply_hamiltonian(psi: &WaveFunction, system: &NucleusConfig, point: &[f64]) -> Applied {
    let basis: &Basis = psi.spin_correlator().expect("spin correlator").basis();
    let a = system.nucleus.mass_number();
    let lecs = system.lecs();
    let d = system.kinetic_prefactor();
    let value = components(psi, point, point.len()).remove(0);
    let lap = laplacians(psi, point, 1e-3);
    let norm2: f64 = value.iter().map(|c| c * c).sum();
    let state = basis.embed(&value);
    let r2 = |i: usize, j: usize| -> f64 {
        (0..3)
            .map(|k| (point[3 * i + k] - point[3 * j + k]).powi(2))
            .sum()
    };
    let smear = |r2: f64| (-0.25 * system.cutoff * system.cutoff * r2).exp();
    let kinetic_vec: Vec<f64> = lap.iter().map(|l| -d * l).collect();
    let mut v2_vec = vec![0.0; basis.len()];
    let mut coulomb_vec = vec![0.0; basis.len()];
    for (i, j) in pair_indices(a) {
        let g = smear(r2(i, j));
        let sigma = basis.restrict(&state.sigma_dot_sigma(i, j));
        let protons = basis.restrict(&state.proton_pair(i, j));
        for s in 0..basis.len() {
            v2_vec[s] += g * (lecs.c1 * value[s] + lecs.c2 * sigma[s]);
            if system.coulomb {
                coulomb_vec[s] += FINE_STRUCTURE * system.hbar_c / r2(i, j).sqrt() * protons[s];
            }
        }
    }
    let mut v3 = 0.0;
    for i in 0..a {
        for j in i + 1..a {
            for k in j + 1..a {
                let (ij, ik, jk) = (r2(i, j), r2(i, k), r2(j, k));
                v3 += lecs.d0 * (smear(ij + ik) + smear(ij + jk) + smear(ik + jk));
            }
        }
    }
    let expect = |v: &[f64]| v.iter().zip(&value).map(|(a, b)| a * b).sum::<f64>() / norm2;
    let h_psi = (0..basis.len())
        .map(|s| kinetic_vec[s] + v2_vec[s] + coulomb_vec[s] + v3 * value[s])
        .collect();
    Applied {
        kinetic: expect(&kinetic_vec),
        v2: expect(&v2_vec),
        v3,
        coulomb: expect(&coulomb_vec),
        psi: value,
        h_psi,
    }
}

fn points(a: usize, walkers: usize, seed: u64) -> Vec<f64> {
    host2(positions(walkers, 3 * a, 0.9, seed, &device()))
}

#[test]
fn local_energy_equals_the_hamiltonian_applied_to_the_components() {
    let device = device();
    for (toml_text, protons) in [
        (
            "kind = \"nucleus\"\nnucleus = \"3He\"\ncutoff = 4.0\ncoulomb = true",
            2,
        ),
        ("kind = \"nucleus\"\nnucleus = \"3H\"\ncutoff = 2.0", 1),
        (
            "kind = \"nucleus\"\nnucleus = \"4He\"\ncutoff = 4.0\ncoulomb = true",
            2,
        ),
    ] {
        let system = nucleus(toml_text);
        let a = system.nucleus.mass_number();
        let geometry = Geometry::nucleus(a, protons);
        assert_eq!(geometry, system.geometry());
        let psi = factors_unchecked(FACTORS, geometry, 1.0, 3, &device);
        let hamiltonian = system.hamiltonian();
        let names = hamiltonian.term_names();
        let x = points(a, 3, 7);
        let e = local_energy(&psi, &hamiltonian, &tensor2(x.clone(), 3, 3 * a, &device));
        let kinetic = host1(e.kinetic.clone());
        let terms: Vec<Vec<f64>> = e.terms.iter().cloned().map(host1).collect();
        for w in 0..3 {
            let applied = apply_hamiltonian(&psi, &system, &x[w * 3 * a..(w + 1) * 3 * a]);
            let scale = applied.kinetic.abs() + applied.v2.abs() + 1.0;
            let close = |what: &str, ours: f64, theirs: f64| {
                assert!(
                    (ours - theirs).abs() < 1e-6 * scale,
                    "{toml_text}, walker {w}, {what}: {ours} vs {theirs}"
                );
            };
            close("kinetic", kinetic[w], applied.kinetic);
            for (name, values) in names.iter().zip(&terms) {
                let theirs = match *name {
                    "v2" => applied.v2,
                    "v3" => applied.v3,
                    "coulomb" => applied.coulomb,
                    other => panic!("unexpected term {other}"),
                };
                close(name, values[w], theirs);
            }
            // The spin operators do something here: the expectation differs from the
            // reference state's.
            assert!(applied.psi.iter().filter(|c| c.abs() > 1e-8).count() > 1);
        }
    }
}

#[test]
fn exchanging_two_nucleons_flips_the_sign() {
    let device = device();
    for (a, protons) in [(3, 1), (3, 2), (4, 2)] {
        let geometry = Geometry::nucleus(a, protons);
        let psi = factors_unchecked(FACTORS, geometry, 1.0, 5, &device);
        let basis = psi.spin_correlator().unwrap().basis().clone();
        let x = points(a, 4, 11);
        for w in 0..4 {
            let point = &x[w * 3 * a..(w + 1) * 3 * a];
            let before = components(&psi, point, 3 * a).remove(0);
            for (i, j) in pair_indices(a) {
                let mut swapped = point.to_vec();
                for k in 0..3 {
                    swapped.swap(3 * i + k, 3 * j + k);
                }
                let after = components(&psi, &swapped, 3 * a).remove(0);
                let map = basis.exchange_map(i, j);
                for s in 0..basis.len() {
                    assert!(
                        (after[map[s]] + before[s]).abs() < 1e-10 * before[s].abs().max(1e-3),
                        "A = {a}, Z = {protons}, pair ({i}, {j}), state {s}: {} vs {}",
                        after[map[s]],
                        before[s]
                    );
                }
            }
        }
    }
}

#[test]
fn parameter_gradient_equals_finite_differences_of_the_energy_functional() {
    // At fixed walkers, the estimator 2·mean[(E_L − Ē) ∂ log|ψ| + Σ_s (r_s/q) ∂χ_s] equals
    // 2·mean[Σ_s ∂ψ_s (Hψ)_s/|ψ|² − Ē ∂ log|ψ|] pointwise; the derivatives along a random
    // parameter direction come here from finite differences and (Hψ)_s from
    // [`apply_hamiltonian`]. The usual covariance estimator alone misses the second term.
    let device = device();
    let system = nucleus("kind = \"nucleus\"\nnucleus = \"3He\"\ncutoff = 4.0\ncoulomb = true");
    let geometry = system.geometry();
    let model = factors_unchecked(FACTORS, geometry, 1.0, 9, &device.clone().autodiff());
    let frozen = model.valid();
    let hamiltonian = system.hamiltonian();
    let (walkers, coords) = (4, geometry.n_coords());
    let x = points(3, walkers, 13);
    let xt = tensor2(x.clone(), walkers, coords, &device);
    let e = local_energy(&frozen, &hamiltonian, &xt);
    let e_local = host1(e.total());
    let mean = e_local.iter().sum::<f64>() / walkers as f64;
    let centred: Vec<f64> = e_local.iter().map(|v| v - mean).collect();
    let weights = nqs_train::gradient::AmplitudeWeights::from_tensor(
        e.spin_residual.clone().expect("spin residual"),
    );
    let states = weights.states;
    let theta = nqs_train::params::to_vec(&frozen);
    let direction: Vec<f64> = (0..theta.len())
        .map(|k| ((k * 7919 % 101) as f64 - 50.0) / 50.0)
        .collect();
    let along = |g: &[f64]| g.iter().zip(&direction).map(|(a, b)| a * b).sum::<f64>();
    let split = nqs_train::gradient::Split {
        threads: 1,
        chunk: 2,
    };
    let ours_full = nqs_train::params::grads_to_vec(
        &model,
        // In two chunks of two walkers: the amplitude weights follow their walkers.
        &nqs_train::gradient::surrogate_gradient(&model, &xt, &centred, Some(&weights), split),
    );
    let ours_plain = nqs_train::params::grads_to_vec(
        &model,
        &nqs_train::gradient::surrogate_gradient(&model, &xt, &centred, None, split),
    );
    // Finite differences of ψ_s along the direction.
    let eps = 1e-5;
    let shifted = |sign: f64| {
        let values: Vec<f64> = theta
            .iter()
            .zip(&direction)
            .map(|(t, v)| t + sign * eps * v)
            .collect();
        components(
            &nqs_train::params::with_values(frozen.clone(), &values),
            &x,
            coords,
        )
    };
    let (plus, minus) = (shifted(1.0), shifted(-1.0));
    let mut expected = 0.0;
    for w in 0..walkers {
        let applied = apply_hamiltonian(&frozen, &system, &x[w * coords..(w + 1) * coords]);
        let norm2: f64 = applied.psi.iter().map(|c| c * c).sum();
        let d_psi: Vec<f64> = (0..states)
            .map(|s| (plus[w][s] - minus[w][s]) / (2.0 * eps))
            .collect();
        let d_log = d_psi
            .iter()
            .zip(&applied.psi)
            .map(|(d, p)| d * p)
            .sum::<f64>()
            / norm2;
        let d_h = d_psi
            .iter()
            .zip(&applied.h_psi)
            .map(|(d, h)| d * h)
            .sum::<f64>()
            / norm2;
        expected += 2.0 * (d_h - mean * d_log) / walkers as f64;
    }
    let (full, plain) = (along(&ours_full), along(&ours_plain));
    assert!(
        (full - expected).abs() < 1e-5 * expected.abs().max(1.0),
        "gradient along v: {full} vs finite differences {expected}"
    );
    assert!(
        (plain - expected).abs() > 1e-3 * expected.abs().max(1.0),
        "the correction matters here: covariance term alone {plain} vs {expected}"
    );
}

fn shipped(name: &str, overrides: &[&str]) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../configs/{name}.toml"));
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    Config::load(&path, &overrides).expect("shipped config")
}

/// Train and evaluate a shipped config (f64 CPU) with overrides: (energy, error).
fn train(config: Config) -> (f64, f64) {
    let steps = config.run.steps;
    let samples = config.eval.samples_per_walker;
    let mut trainer = Trainer::new(config, device()).expect("trainer");
    for _ in 0..steps {
        trainer.train_step().expect("step");
    }
    let eval = trainer.evaluate(samples).expect("evaluation");
    (eval.energy.mean, eval.energy.error)
}

// The shipped spin configs train for 4000 steps (their energies are in docs/results.md from
// `nqs-train bench --full`); the tests train the same configs for fewer steps and assert
// looser bounds.

#[test]
fn triton_with_spin_isospin_amplitudes_goes_below_the_symmetric_sector() {
    let config = shipped(
        "nuc_h3_lo4_spin",
        &["run.steps=1000", "eval.samples_per_walker=100"],
    );
    let reference = config.reference().expect("unrestricted reference");
    assert_eq!(reference.energy, -8.48167);
    let (e, err) = train(config);
    eprintln!("nuc_h3_lo4_spin, 1000 steps: E = {e:.5} ± {err:.5}");
    // Variational: never below the unrestricted value beyond 3σ (and its own 1e-3 MeV).
    assert!(
        e > reference.energy - 3.0 * err - 1e-3,
        "E = {e} ± {err} below {}",
        reference.energy
    );
    // Far below the best symmetric-sector state (−7.82971): this build −8.3875(179).
    assert!(e < -8.3, "E = {e} ± {err}");
}

#[test]
fn alpha_particle_with_spin_isospin_amplitudes_goes_below_the_symmetric_sector() {
    let config = shipped(
        "nuc_he4_lo4_spin",
        &["run.steps=600", "eval.samples_per_walker=100"],
    );
    let (e, err) = train(config);
    eprintln!("nuc_he4_lo4_spin, 600 steps: E = {e:.5} ± {err:.5}");
    // Below the converged symmetric-sector value −22.77975, a bound for every spatially
    // symmetric state: this build −23.235(94).
    assert!(e < -22.77975 - 3.0 * err, "E = {e} ± {err}");
}
