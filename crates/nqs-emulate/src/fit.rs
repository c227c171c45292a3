//! Weighted least-squares fits of a PMM by Levenberg–Marquardt with Hellmann–Feynman
//! Jacobians, from several seeded random starts.
//!
//! The optimiser is a small host Levenberg–Marquardt rather than burn's Adam: the problems
//! have a handful of parameters and points, the residuals are smooth away from level
//! crossings, and LM converges quadratically where Adam crawls (a family that is itself a
//! PMM is recovered to 1e-10, which Adam does not reach).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::eigen::solve_least_squares;
use crate::pmm::{Pmm, n_params};

/// One observation: level `level` of M(c) should be `value` ± `sigma`.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// The inputs c.
    pub c: Vec<f64>,
    /// Which level (0 = ground state).
    pub level: usize,
    /// Observed value.
    pub value: f64,
    /// Its standard error (> 0): residuals are weighted by 1/σ.
    pub sigma: f64,
}

/// Settings of one fit.
#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    /// Matrix size n.
    pub size: usize,
    /// Random starts (the best is kept).
    pub starts: usize,
    /// Levenberg–Marquardt iterations per start.
    pub iterations: usize,
    /// Seed of the starts.
    pub seed: u64,
    /// Ridge penalty λ Σ θ² added to χ² (0: none), which picks the smallest matrices among
    /// fits that the data cannot tell apart.
    pub ridge: f64,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            size: 2,
            starts: 8,
            iterations: 400,
            seed: 1,
            ridge: 0.0,
        }
    }
}

/// A fitted model with its χ² = Σ ((λ − value)/σ)².
#[derive(Debug, Clone)]
pub struct Fit {
    /// The model.
    pub pmm: Pmm,
    /// Weighted sum of squared residuals.
    pub chi2: f64,
    /// Smallest gap above the highest fitted level over the observations.
    pub min_gap: f64,
}

fn residuals(pmm: &Pmm, data: &[Observation], ridge: f64) -> (Vec<f64>, Vec<Vec<f64>>, f64) {
    let mut r = Vec::with_capacity(data.len());
    let mut jac = Vec::with_capacity(data.len());
    let mut min_gap = f64::INFINITY;
    for o in data {
        let l = pmm.levels_with_gradients(&o.c, o.level + 1);
        r.push((l.values[o.level] - o.value) / o.sigma);
        jac.push(l.gradients[o.level].iter().map(|g| g / o.sigma).collect());
        min_gap = min_gap.min(l.gap);
    }
    if ridge > 0.0 {
        let theta = pmm.params();
        let p = theta.len();
        for (k, t) in theta.iter().enumerate() {
            r.push(ridge.sqrt() * t);
            let mut row = vec![0.0; p];
            row[k] = ridge.sqrt();
            jac.push(row);
        }
    }
    (r, jac, min_gap)
}

fn chi2(r: &[f64]) -> f64 {
    r.iter().map(|x| x * x).sum()
}

/// Levenberg–Marquardt from θ₀.
fn levenberg_marquardt(
    size: usize,
    inputs: usize,
    theta0: Vec<f64>,
    data: &[Observation],
    iterations: usize,
    ridge: f64,
) -> Fit {
    let p = theta0.len();
    let mut theta = theta0;
    let mut pmm = Pmm::from_params(size, inputs, &theta);
    let (mut r, mut jac, mut gap) = residuals(&pmm, data, ridge);
    let mut current = chi2(&r);
    let mut mu = 1e-3;
    for _ in 0..iterations {
        // Normal equations (JᵀJ + μ diag(JᵀJ) + μ·1e-9) δ = −Jᵀr.
        let mut a = vec![0.0; p * p];
        let mut g = vec![0.0; p];
        for (ri, row) in r.iter().zip(&jac) {
            for i in 0..p {
                g[i] -= row[i] * ri;
                for j in 0..p {
                    a[i * p + j] += row[i] * row[j];
                }
            }
        }
        let mut improved = false;
        while mu < 1e12 {
            let mut damped = a.clone();
            for i in 0..p {
                damped[i * p + i] += mu * (a[i * p + i] + 1e-9);
            }
            let delta = solve_least_squares(&damped, p, p, &g);
            let trial: Vec<f64> = theta.iter().zip(&delta).map(|(t, d)| t + d).collect();
            let trial_pmm = Pmm::from_params(size, inputs, &trial);
            let (tr, tj, tg) = residuals(&trial_pmm, data, ridge);
            let value = chi2(&tr);
            if value.is_finite() && value < current {
                let relative = (current - value) / current.max(1e-300);
                (theta, pmm, r, jac, gap, current) = (trial, trial_pmm, tr, tj, tg, value);
                mu = (mu / 3.0).max(1e-15);
                improved = relative > 1e-15;
                break;
            }
            mu *= 4.0;
        }
        if !improved || current < 1e-28 {
            break;
        }
    }
    Fit {
        pmm,
        chi2: current,
        min_gap: gap,
    }
}

/// Fit a PMM of `options.size` with `inputs` inputs to the observations: the best of
/// `options.starts` seeded random starts, plus a start at `warm` when given.
pub fn fit(data: &[Observation], inputs: usize, options: &FitOptions, warm: Option<&Pmm>) -> Fit {
    let p = n_params(options.size, inputs);
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut starts: Vec<Vec<f64>> = warm
        .filter(|w| w.size == options.size && w.inputs() == inputs)
        .map(|w| vec![w.params()])
        .unwrap_or_default();
    for _ in 0..options.starts {
        starts.push(
            (0..p)
                .map(|_| StandardNormal.sample(&mut rng))
                .collect::<Vec<f64>>(),
        );
    }
    starts
        .into_iter()
        .map(|theta| {
            levenberg_marquardt(
                options.size,
                inputs,
                theta,
                data,
                options.iterations,
                options.ridge,
            )
        })
        .min_by(|a, b| a.chi2.total_cmp(&b.chi2))
        .expect("at least one start")
}
