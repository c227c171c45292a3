//! The parametric matrix model against independent truth: Hellmann–Feynman gradients
//! against finite differences, exact recovery of a family that is itself affine, and
//! extrapolation of the anharmonic oscillator's ground state, whose energies are computed
//! here by diagonalising H in a large harmonic-oscillator basis.

use nalgebra::{DMatrix, SymmetricEigen};
use nqs_emulate::{
    Emulator, EmulatorSettings, FitOptions, Observation, Pmm, Polynomial, Sample, fit, n_params,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn random_symmetric(n: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let mut m = vec![0.0; n * n];
    for a in 0..n {
        for b in a..n {
            let v: f64 = StandardNormal.sample(rng);
            m[a * n + b] = v;
            m[b * n + a] = v;
        }
    }
    m
}

#[test]
fn hellmann_feynman_gradients_equal_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for (size, inputs) in [(2, 1), (4, 1), (3, 2)] {
        let theta: Vec<f64> = (0..n_params(size, inputs))
            .map(|_| StandardNormal.sample(&mut rng))
            .collect();
        let pmm = Pmm::from_params(size, inputs, &theta);
        assert_eq!(pmm.params(), theta);
        let c: Vec<f64> = (0..inputs).map(|i| 0.3 + 0.4 * i as f64).collect();
        let levels = size.min(3);
        let analytic = pmm.levels_with_gradients(&c, levels);
        let h = 1e-6;
        for k in 0..theta.len() {
            let shifted = |s: f64| {
                let mut t = theta.clone();
                t[k] += s * h;
                Pmm::from_params(size, inputs, &t).eigenvalues(&c)
            };
            let (plus, minus) = (shifted(1.0), shifted(-1.0));
            for level in 0..levels {
                let fd = (plus[level] - minus[level]) / (2.0 * h);
                let hf = analytic.gradients[level][k];
                assert!(
                    (fd - hf).abs() < 1e-7,
                    "n = {size}, inputs = {inputs}, parameter {k}, level {level}: {hf} vs {fd}"
                );
            }
        }
    }
}

#[test]
fn a_family_that_is_an_affine_matrix_is_recovered_exactly() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let n = 3;
    let truth = Pmm {
        size: n,
        matrices: vec![random_symmetric(n, &mut rng), random_symmetric(n, &mut rng)],
    };
    let train: Vec<f64> = (0..8).map(|i| -1.0 + 2.0 * i as f64 / 7.0).collect();
    let data: Vec<Observation> = train
        .iter()
        .flat_map(|&c| {
            let values = truth.eigenvalues(&[c]);
            (0..n).map(move |level| Observation {
                c: vec![c],
                level,
                value: values[level],
                sigma: 1.0,
            })
        })
        .collect();
    let fitted = fit(
        &data,
        1,
        &FitOptions {
            size: n,
            starts: 16,
            iterations: 2000,
            seed: 5,
            ridge: 0.0,
        },
        None,
    );
    // The whole spectrum, at the training points and between and beyond them.
    for c in [-1.5, -0.77, 0.0, 0.31, 1.0, 2.0] {
        let (ours, exact) = (fitted.pmm.eigenvalues(&[c]), truth.eigenvalues(&[c]));
        for level in 0..n {
            assert!(
                (ours[level] - exact[level]).abs() < 1e-10,
                "c = {c}, level {level}: {} vs {} (χ² {})",
                ours[level],
                exact[level],
                fitted.chi2
            );
        }
    }
}

/// E₀(g) of H = p²/2 + x²/2 + g x⁴ in the lowest `basis` harmonic-oscillator states:
/// x = (a + a†)/√2, x⁴ as the product of truncated x matrices of a larger basis.
fn anharmonic_ground_state(g: f64, basis: usize) -> f64 {
    let big = basis + 4; // x⁴ couples states four apart: compute it exactly inside `basis`
    let mut x = DMatrix::<f64>::zeros(big, big);
    for n in 0..big - 1 {
        let v = ((n + 1) as f64 / 2.0).sqrt();
        x[(n, n + 1)] = v;
        x[(n + 1, n)] = v;
    }
    let x2 = &x * &x;
    let x4 = &x2 * &x2;
    let h = DMatrix::<f64>::from_fn(basis, basis, |i, j| {
        let diagonal = if i == j { i as f64 + 0.5 } else { 0.0 };
        diagonal + g * x4[(i, j)]
    });
    SymmetricEigen::new(h).eigenvalues.min()
}

#[test]
fn anharmonic_oscillator_basis_is_converged() {
    for g in [0.0, 0.1, 1.0, 2.0] {
        let (a, b) = (
            anharmonic_ground_state(g, 120),
            anharmonic_ground_state(g, 160),
        );
        assert!((a - b).abs() < 1e-10, "g = {g}: {a} vs {b}");
    }
    // Known values (Hioe and Montroll 1975): E₀(1) = 0.803770651…, E₀(0.1) = 0.559146327…
    assert!((anharmonic_ground_state(1.0, 160) - 0.803_770_651).abs() < 1e-8);
    assert!((anharmonic_ground_state(0.1, 160) - 0.559_146_327).abs() < 1e-8);
}

/// Exact E₀(g) of the anharmonic oscillator at six couplings g ≤ 0.4, error bars 1e-8.
const TRAIN: [f64; 6] = [0.0, 0.08, 0.16, 0.24, 0.32, 0.4];
const SIGMA: f64 = 1e-8;

fn anharmonic_samples() -> Vec<Sample> {
    TRAIN
        .iter()
        .map(|&g| Sample {
            c: g,
            energy: anharmonic_ground_state(g, 160),
            error: SIGMA,
        })
        .collect()
}

#[test]
fn pmm_extrapolates_the_anharmonic_oscillator_far_better_than_polynomials() {
    let exact = |g: f64| anharmonic_ground_state(g, 160);
    let train = TRAIN;
    let sigma = SIGMA;
    let samples = anharmonic_samples();
    let emulator = Emulator::fit(&samples, &EmulatorSettings::default()).expect("fit");
    // Close to the data (the size chosen is the smallest through the points within their
    // error bars: 3 × 3, nine parameters).
    for s in &samples {
        let p = emulator.predict(s.c);
        assert!(
            (p.energy - s.energy).abs() < 2e-4,
            "at g = {}: {}",
            s.c,
            p.energy
        );
    }
    let c: Vec<f64> = train.to_vec();
    let y: Vec<f64> = samples.iter().map(|s| s.energy).collect();
    let s: Vec<f64> = vec![sigma; train.len()];
    for g in [1.0, 2.0] {
        let truth = exact(g);
        let p = emulator.predict(g);
        let pmm_error = (p.energy - truth).abs() / truth;
        // The polynomial the tool reports beside the PMM (degree by leave-one-out error), and
        // the best degree judged by its actual error at g (which needs the answer).
        let chosen_error = (p.polynomial - truth).abs() / truth;
        let oracle_error = (1..train.len())
            .map(|d| (Polynomial::fit(&c, &y, &s, d).eval(g) - truth).abs() / truth)
            .fold(f64::INFINITY, f64::min);
        eprintln!(
            "g = {g}: exact {truth:.8}, PMM (n = {}) {:.6} ± {:.6} (relative error {pmm_error:.2e}), polynomial of degree {} {chosen_error:.2e}, best degree by its actual error {oracle_error:.2e}",
            emulator.size(),
            p.energy,
            p.uncertainty,
            emulator.polynomial.degree()
        );
        assert!(
            5.0 * pmm_error < chosen_error,
            "g = {g}: PMM {pmm_error} vs polynomial {chosen_error}"
        );
        // This build: 6.80e-3 against 7.52e-1 (degree 4) and 1.52e-1 (best, linear) at g = 1;
        // 4.90e-2 against 2.10e1 and 4.09e-1 at g = 2.
        assert!(pmm_error < 0.02 + 0.07 * (g - 1.0), "g = {g}: {pmm_error}");
        assert!(
            3.0 * pmm_error < oracle_error,
            "g = {g}: PMM {pmm_error} vs best polynomial {oracle_error}"
        );
        // The reported uncertainty (bootstrap and jackknife spreads) need not cover the
        // model's bias this far out (a forced 2 × 2 model's does not, docs/results.md).
        // Asserted: it is at least a third of the error (this build, 3 × 3: ±0.204 against
        // 0.0055 at g = 1, ±0.527 against 0.047 at g = 2).
        assert!(
            3.0 * p.uncertainty > (p.energy - truth).abs(),
            "g = {g}: uncertainty {} vs error {}",
            p.uncertainty,
            (p.energy - truth).abs()
        );
    }
}

#[test]
fn the_uncertainty_does_not_hang_on_the_seed() {
    // Nine parameters, five points left in each leave-one-out refit: the refits are not
    // determined, and one fit per left-out point landed on an arbitrary member of the family
    // through them. Over seeds 1–4 the uncertainty at g = 1 ranged 0.12–7.93 (68-fold) with
    // one fit; with the median of 11 it ranges 0.137–0.204 (this build).
    let samples = anharmonic_samples();
    let spread: Vec<f64> = (1..=4)
        .map(|seed| {
            let settings = EmulatorSettings {
                seed,
                ..Default::default()
            };
            let emulator = Emulator::fit(&samples, &settings).expect("fit");
            assert_eq!(emulator.size(), 3);
            emulator.predict(1.0).uncertainty
        })
        .collect();
    let (lo, hi) = spread
        .iter()
        .fold((f64::INFINITY, 0.0_f64), |(a, b), &u| (a.min(u), b.max(u)));
    eprintln!("uncertainty at g = 1 over seeds 1–4: {spread:?}");
    assert!(hi < 5.0 * lo, "{spread:?}");
    // And it still covers the truth there (exact 0.80377, the fits 0.809–0.821).
    assert!(lo > 0.02, "{spread:?}");
}
