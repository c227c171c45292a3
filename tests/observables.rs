//! Observables of the frozen evaluation against exact results: the density integrates to N,
//! the non-interacting two-electron density and pair distribution are the analytic
//! Gaussians, the pair distribution counts the pairs, and kinetic + potential = energy.

mod common;

use common::device;
use nqs_train::{Config, Trainer};

fn non_interacting(particles: usize, extra: &[&str]) -> nqs_train::Evaluation {
    let base = format!(
        r#"
[system]
dimensions = 2
particles = {particles}
omega = 1.0
interaction = "none"

[[model.factors]]
kind = "slater"

[sampler]
walkers = 1024
burn_in = 300
moves_per_sample = 4

[eval.observables]
bins = 40
extent = 4.5
"#
    );
    let overrides: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    let config = Config::parse(&base, &overrides, "test").expect("config");
    let mut trainer = Trainer::new(config, device()).expect("trainer");
    trainer.evaluate(200).expect("evaluation")
}

/// χ²/dof of measured values with error bars against exact values (bins with data only).
fn reduced_chi2(measured: &[f64], errors: &[f64], exact: &[f64]) -> f64 {
    let terms: Vec<f64> = measured
        .iter()
        .zip(errors)
        .zip(exact)
        .filter(|((_, e), _)| **e > 0.0)
        .map(|((m, e), x)| ((m - x) / e).powi(2))
        .collect();
    terms.iter().sum::<f64>() / terms.len() as f64
}

#[test]
fn density_integrates_to_n_and_pairs_are_counted() {
    let eval = non_interacting(6, &[]);
    let d = eval.density.expect("density");
    // Radius 4.5: the Gaussian tail outside is below 1e-6 of N.
    assert!((d.integral - 6.0).abs() < 1e-3, "∫ρ = {}", d.integral);
    let cell = (d.axis[1] - d.axis[0]).powi(2);
    let grid_integral: f64 = d.grid.iter().sum::<f64>() * cell;
    assert!(
        (grid_integral - 6.0).abs() < 1e-3,
        "grid ∫ρ = {grid_integral}"
    );
    let p = eval.pair_distribution.expect("pair distribution");
    // 3 up and 3 down: 3 + 3 parallel pairs, 9 antiparallel.
    assert!((p.integrals.0 - 6.0).abs() < 1e-3, "{:?}", p.integrals);
    assert!((p.integrals.1 - 9.0).abs() < 1e-3, "{:?}", p.integrals);
    // The Pauli hole: parallel spins avoid each other at short range.
    assert!(
        p.parallel[0] < 0.2 * p.antiparallel[0],
        "{} vs {}",
        p.parallel[0],
        p.antiparallel[0]
    );
}

/// Two non-interacting electrons in the 2D ground state: each has density (ω/π)e^{−ωr²};
/// r₁ − r₂ is Gaussian with variance 1/ω per axis, so the (one) antiparallel pair has
/// P(r) = (ω/2π) e^{−ωr²/2}.
#[test]
fn non_interacting_two_electron_density_is_the_analytic_gaussian() {
    let eval = non_interacting(2, &[]);
    let d = eval.density.expect("density");
    let exact: Vec<f64> =
        d.r.iter()
            .map(|r| 2.0 / std::f64::consts::PI * (-r * r).exp())
            .collect();
    let chi2 = reduced_chi2(&d.radial, &d.radial_error, &exact);
    assert!(chi2 < 2.0, "density χ²/dof = {chi2}");
    let p = eval.pair_distribution.expect("pair distribution");
    let exact: Vec<f64> =
        p.r.iter()
            .map(|r| (-r * r / 2.0).exp() / (2.0 * std::f64::consts::PI))
            .collect();
    let chi2 = reduced_chi2(&p.antiparallel, &p.antiparallel_error, &exact);
    assert!(chi2 < 2.0, "pair distribution χ²/dof = {chi2}");
    // ⟨r²⟩ per particle = 1/ω exactly for the 2D ground state.
    assert!(
        (eval.r2.mean - 1.0).abs() < 4.0 * eval.r2.error,
        "{:?}",
        eval.r2
    );
}

#[test]
fn kinetic_plus_potential_is_the_energy() {
    let eval = non_interacting(6, &["model.factors.0.alpha=0.9"]);
    let sum = eval.kinetic.mean + eval.potential.mean;
    assert!(
        (sum - eval.energy.mean).abs() < 1e-9 * eval.energy.mean.abs(),
        "{sum} vs {}",
        eval.energy.mean
    );
    // At α ≠ 1 the virial split is not the eigenstate's: kinetic = 10·α/2, potential = 10/(2α).
    assert!(
        (eval.kinetic.mean - 4.5).abs() < 4.0 * eval.kinetic.error,
        "{:?}",
        eval.kinetic
    );
}

/// The default histogram range reaches a weakly bound state's tail: the deuteron (about its
/// centre of mass) is widened past the shell rule's 3 fm, so its density holds both
/// nucleons and its pair density the one pair (1.84 and 0.92 with the shell rule alone);
/// its nucleons have no spin classes, so the pair file's one column is all pairs.
#[test]
fn the_deuteron_fits_in_the_default_histograms() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/nuc_h2_lo4.toml");
    let overrides: Vec<String> = ["run.steps=0", "sampler.walkers=512", "sampler.burn_in=400"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let config = Config::load(&path, &overrides).expect("config");
    let mut trainer = Trainer::new(config, device()).expect("trainer");
    let eval = trainer.evaluate(60).expect("evaluation");
    let d = eval.density.expect("density");
    assert!((d.integral - 2.0).abs() < 2e-3, "∫ρ = {}", d.integral);
    let p = eval.pair_distribution.expect("pairs");
    assert!(!p.species);
    assert!((p.integrals.0 - 1.0).abs() < 1e-3, "∫P = {}", p.integrals.0);
}
