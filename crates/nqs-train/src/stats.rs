//! One `Stats` type for every Monte Carlo estimate: mean, error of the mean, variance and
//! integrated autocorrelation time (PHYSICS.md §6).
//!
//! The error of correlated chains comes from automatic blocking (Flyvbjerg & Petersen,
//! J. Chem. Phys. 91, 461 (1989); Jonsson, Phys. Rev. E 98, 043304 (2018)): the walker
//! average m_t is blocked in time until the lag-one correlations are consistent with zero
//! by a χ² test at 99 %. Blocking needs many times: on a short series the test cannot see the
//! correlation (64 walkers × 10 samples of an N = 2 dot after 5 steps: blocking 0.0022, the
//! spread of 40 evaluations with other generator states 0.0040). The walkers are independent
//! chains, so the spread of their time averages gives the error of the mean at any length,
//! √(s²_w / W) with s²_w the variance of the W chain averages (0.0039 there); the larger of
//! the two is reported.

use serde::{Deserialize, Serialize};

use crate::distributed::Comm;

/// A Monte Carlo estimate.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Stats {
    /// Sample mean.
    pub mean: f64,
    /// Error of the mean (one standard deviation).
    pub error: f64,
    /// Sample variance of the individual values.
    pub variance: f64,
    /// Integrated autocorrelation time τ, with error² = variance·(1 + 2τ)/n.
    pub tau_corr: f64,
    /// Number of values.
    pub n: usize,
}

impl Stats {
    /// Independent values (one per walker at one time): error = √(variance/n).
    pub fn independent(values: &[f64]) -> Stats {
        let n = values.len();
        let (mean, variance) = mean_variance(values);
        Stats {
            mean,
            error: (variance / n as f64).sqrt(),
            variance,
            tau_corr: 0.0,
            n,
        }
    }

    /// Values of `walkers` independent chains recorded at successive times, row-major
    /// `[times, walkers]`. The error is the blocking error of the per-time walker mean.
    pub fn chains(values: &[f64], walkers: usize) -> Stats {
        let n = values.len();
        assert!(
            walkers > 0 && n.is_multiple_of(walkers),
            "values must be [times, walkers]"
        );
        let (mean, variance) = mean_variance(values);
        let series: Vec<f64> = values
            .chunks(walkers)
            .map(|row| row.iter().sum::<f64>() / walkers as f64)
            .collect();
        let between = chain_average_deviations(values, walkers, mean);
        Self::blocked(
            mean,
            variance,
            &series,
            n,
            between_chains_error(between, walkers),
        )
    }

    /// Mean and variance of `n` values whose per-time walker means are `series`: the error is
    /// the larger of the blocking error of the series and `chains_error` (from the spread of
    /// the chains' averages); τ follows from it.
    fn blocked(mean: f64, variance: f64, series: &[f64], n: usize, chains_error: f64) -> Stats {
        let error = blocking_error(series).max(chains_error);
        let tau_corr = if variance > 0.0 {
            ((error * error * n as f64 / variance) - 1.0).max(0.0) / 2.0
        } else {
            0.0
        };
        Stats {
            mean,
            error,
            variance,
            tau_corr,
            n,
        }
    }
}

/// Σ_w (a_w − `mean`)² over the time averages a_w of the chains of `values` (`[times,
/// walkers]`).
fn chain_average_deviations(values: &[f64], walkers: usize, mean: f64) -> f64 {
    let times = values.len() / walkers;
    let mut sums = vec![0.0; walkers];
    for row in values.chunks(walkers) {
        for (s, v) in sums.iter_mut().zip(row) {
            *s += v;
        }
    }
    sums.iter().map(|s| (s / times as f64 - mean).powi(2)).sum()
}

/// The error of the mean of `walkers` independent chains from Σ_w (a_w − ā)² of their time
/// averages: √(s²_w / W), s²_w = Σ/(W − 1); 0 for one chain.
fn between_chains_error(deviations: f64, walkers: usize) -> f64 {
    if walkers < 2 {
        return 0.0;
    }
    (deviations / (walkers as f64 - 1.0) / walkers as f64).sqrt()
}

/// [`Stats::chains`] of each quantity in `quantities` (each row-major `[times, walkers]` over
/// this rank's `walkers`) over the walkers of every rank of `comm`. Two collectives of
/// size times × quantities and 2 × quantities: the per-time sums, then the squared
/// deviations from each time's mean (a numerically safe variance) and those of the chains'
/// time averages from the grand mean. One rank: [`Stats::chains`].
pub fn chains_over_ranks(comm: &Comm, quantities: &[&[f64]], walkers: usize) -> Vec<Stats> {
    if comm.size() == 1 {
        return quantities
            .iter()
            .map(|q| Stats::chains(q, walkers))
            .collect();
    }
    let times = quantities.first().map_or(0, |q| q.len() / walkers.max(1));
    let mut sums: Vec<f64> = quantities
        .iter()
        .flat_map(|q| q.chunks(walkers).map(|row| row.iter().sum::<f64>()))
        .collect();
    sums.push(walkers as f64);
    comm.sum(&mut sums);
    let all_walkers = sums.pop().expect("walker count") as usize;
    let means: Vec<f64> = sums.iter().map(|s| s / all_walkers as f64).collect();
    let q_count = quantities.len();
    // Per quantity: the squared deviations from each time's mean, then those of the chains'
    // time averages from the grand mean.
    let mut deviations: Vec<f64> = quantities
        .iter()
        .enumerate()
        .flat_map(|(k, q)| {
            let row_means = &means[k * times..(k + 1) * times];
            let within = q
                .chunks(walkers)
                .zip(row_means)
                .map(|(row, m)| row.iter().map(|v| (v - m).powi(2)).sum::<f64>())
                .sum();
            let grand = row_means.iter().sum::<f64>() / times as f64;
            [within, chain_average_deviations(q, walkers, grand)]
        })
        .collect();
    comm.sum(&mut deviations);
    (0..q_count)
        .map(|k| {
            chains_from_row_means(
                &means[k * times..(k + 1) * times],
                deviations[2 * k],
                deviations[2 * k + 1],
                all_walkers,
            )
        })
        .collect()
}

/// [`Stats::chains`] from the per-time walker means, the sum of squared deviations of every
/// value from its time's mean and that of the chains' time averages from the grand mean
/// (the pieces that ranks add up).
pub fn chains_from_row_means(
    series: &[f64],
    within: f64,
    chain_deviations: f64,
    walkers: usize,
) -> Stats {
    let times = series.len();
    let n = times * walkers;
    let mean = series.iter().sum::<f64>() / times as f64;
    let between = walkers as f64 * series.iter().map(|m| (m - mean).powi(2)).sum::<f64>();
    let variance = if n > 1 {
        (within + between) / (n as f64 - 1.0)
    } else {
        0.0
    };
    let chains_error = between_chains_error(chain_deviations, walkers);
    Stats::blocked(mean, variance, series, n, chains_error)
}

/// Mean and (unbiased) variance.
pub fn mean_variance(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = if values.len() > 1 {
        values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var)
}

/// Error of the mean of a correlated series by Jonsson's automatic blocking. The series is
/// truncated to its last 2^k values. Series shorter than 4 fall back to the naive error.
pub fn blocking_error(series: &[f64]) -> f64 {
    let levels = (series.len() as f64).log2().floor() as usize;
    if levels < 2 {
        let (_, var) = mean_variance(series);
        return (var / series.len().max(1) as f64).sqrt();
    }
    let mut x: Vec<f64> = series[series.len() - (1 << levels)..].to_vec();
    let mu = x.iter().sum::<f64>() / x.len() as f64;
    let mut gamma = Vec::with_capacity(levels);
    let mut s = Vec::with_capacity(levels);
    let mut lengths = Vec::with_capacity(levels);
    for _ in 0..levels {
        let n = x.len() as f64;
        let g = x.windows(2).map(|w| (w[0] - mu) * (w[1] - mu)).sum::<f64>() / n;
        let var = x.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / n;
        gamma.push(g);
        s.push(var);
        lengths.push(n);
        x = x.chunks(2).map(|c| 0.5 * (c[0] + c[1])).collect();
    }
    // M_j = Σ_{i ≥ j} n_i (γ_i / s_i)²
    let mut m = vec![0.0; levels];
    let mut acc = 0.0;
    for i in (0..levels).rev() {
        if s[i] > 0.0 {
            acc += lengths[i] * (gamma[i] / s[i]).powi(2);
        }
        m[i] = acc;
    }
    let k = (0..levels)
        .find(|&k| m[k] < chi2_quantile_99(k + 1))
        .unwrap_or(levels - 1);
    (s[k] / lengths[k]).sqrt()
}

/// 99 % quantile of χ² with `df` degrees of freedom (table, then Wilson–Hilferty).
fn chi2_quantile_99(df: usize) -> f64 {
    const TABLE: [f64; 10] = [
        6.634897, 9.210340, 11.344867, 13.276704, 15.086272, 16.811894, 18.475307, 20.090235,
        21.665994, 23.209251,
    ];
    if df <= TABLE.len() {
        return TABLE[df - 1];
    }
    let k = df as f64;
    let z = 2.326_347_874;
    k * (1.0 - 2.0 / (9.0 * k) + z * (2.0 / (9.0 * k)).sqrt()).powi(3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// What the ranks add up gives the one-process statistics: the per-time means, the
    /// within-time squared deviations and the chain averages' deviations of walkers split
    /// over two "ranks".
    #[test]
    fn statistics_from_the_ranks_sums_equal_the_one_process_ones() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (times, walkers, split) = (64, 10, 4);
        let values: Vec<f64> = (0..times * walkers)
            .map(|i| 20.0 + (i / walkers) as f64 * 1e-3 + rng.random::<f64>())
            .collect();
        let whole = Stats::chains(&values, walkers);
        let rows: Vec<&[f64]> = values.chunks(walkers).collect();
        let sums: Vec<f64> = rows.iter().map(|r| r.iter().sum::<f64>()).collect();
        let means: Vec<f64> = sums.iter().map(|s| s / walkers as f64).collect();
        let within: f64 = [(0, split), (split, walkers)]
            .iter()
            .map(|&(a, b)| {
                rows.iter()
                    .zip(&means)
                    .map(|(r, m)| r[a..b].iter().map(|v| (v - m).powi(2)).sum::<f64>())
                    .sum::<f64>()
            })
            .sum();
        let grand = means.iter().sum::<f64>() / times as f64;
        let chains: f64 = [(0, split), (split, walkers)]
            .iter()
            .map(|&(a, b)| {
                (a..b)
                    .map(|w| {
                        let average = rows.iter().map(|r| r[w]).sum::<f64>() / times as f64;
                        (average - grand).powi(2)
                    })
                    .sum::<f64>()
            })
            .sum();
        let parts = chains_from_row_means(&means, within, chains, walkers);
        assert!((parts.mean - whole.mean).abs() < 1e-12);
        assert!((parts.variance / whole.variance - 1.0).abs() < 1e-10);
        assert!((parts.error / whole.error - 1.0).abs() < 1e-10);
        assert_eq!(parts.n, whole.n);
    }

    /// AR(1) chain x_t = φ x_{t−1} + ε: the exact error of the mean of n values is
    /// √(σ²_x (1+φ)/(1−φ) / n) for large n, with σ²_x = 1/(1−φ²).
    #[test]
    fn blocking_recovers_the_ar1_error() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let phi: f64 = 0.9;
        let n = 1 << 18;
        let mut x = 0.0;
        let series: Vec<f64> = (0..n)
            .map(|_| {
                let e: f64 = rng.sample(rand_distr::StandardNormal);
                x = phi * x + e;
                x
            })
            .collect();
        let var_x = 1.0 / (1.0 - phi * phi);
        let exact = (var_x * (1.0 + phi) / (1.0 - phi) / n as f64).sqrt();
        let naive = (var_x / n as f64).sqrt();
        let err = blocking_error(&series);
        assert!(
            (err / exact - 1.0).abs() < 0.15,
            "blocking {err}, exact {exact}"
        );
        assert!(err > 3.0 * naive);
    }

    /// Many short correlated chains (1024 stationary AR(1) chains, φ = 0.9, 16 times each):
    /// the error of the grand mean is √(Var(a)/W) with Var(a) = σ²_x Σ_ij φ^|i−j| / T² the
    /// variance of one chain's average. Blocking 16 walker means alone cannot see τ ≈ 9.5.
    #[test]
    fn short_correlated_chains_get_the_error_from_the_chains_spread() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let (phi, times, walkers) = (0.9_f64, 16, 1024);
        let var_x = 1.0 / (1.0 - phi * phi);
        let mut x: Vec<f64> = (0..walkers)
            .map(|_| var_x.sqrt() * rng.sample::<f64, _>(rand_distr::StandardNormal))
            .collect();
        let mut values = Vec::with_capacity(times * walkers);
        for _ in 0..times {
            for xw in x.iter_mut() {
                let e: f64 = rng.sample(rand_distr::StandardNormal);
                *xw = phi * *xw + e;
            }
            values.extend_from_slice(&x);
        }
        let pairs: f64 = (0..times)
            .flat_map(|i| (0..times).map(move |j| phi.powi((i as i32 - j as i32).abs())))
            .sum();
        let exact = (var_x * pairs / (times * times) as f64 / walkers as f64).sqrt();
        let s = Stats::chains(&values, walkers);
        assert!(
            (s.error / exact - 1.0).abs() < 0.1,
            "{} vs {exact}",
            s.error
        );
        let series: Vec<f64> = values
            .chunks(walkers)
            .map(|r| r.iter().sum::<f64>() / walkers as f64)
            .collect();
        assert!(blocking_error(&series) < 0.7 * exact);
    }

    #[test]
    fn independent_values_give_the_naive_error() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let v: Vec<f64> = (0..1 << 16).map(|_| rng.random::<f64>()).collect();
        let s = Stats::chains(&v, 16);
        let naive = (s.variance / s.n as f64).sqrt();
        assert!(
            (s.error / naive - 1.0).abs() < 0.2,
            "{} vs {naive}",
            s.error
        );
    }
}
