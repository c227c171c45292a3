//! Spin-resolved pair distribution: P_σ(r) = ⟨Σ_{i<j, pair type σ} δ(r − |r_i − r_j|)⟩ per unit
//! volume of separation, for parallel and antiparallel spins, so that ∫P_σ(r) dV equals the
//! number of pairs of that type (inside the histogram range).
//!
//! In a periodic cell of side L (volume V) separations are minimum images, the range is L/2,
//! and the result is the pair distribution function g_σ(r) = P_σ(r) V / N_σ (N_σ pairs of
//! the type), which tends to 1 where the pairs are uncorrelated.

use serde::Serialize;

use super::{block_mean_error, shell_volume};
use crate::distributed::Comm;

/// Histogram accumulator of pair separations, per block.
#[derive(Debug, Clone)]
pub struct PairDistribution {
    dimensions: usize,
    n_up: usize,
    bins: usize,
    r_max: f64,
    /// Side L of the periodic cell, if any.
    cell: Option<f64>,
    /// Per block: [parallel bins, antiparallel bins].
    counts: Vec<[Vec<f64>; 2]>,
    samples: Vec<usize>,
    /// Particles per walker (seen in the measurements).
    particles: usize,
}

/// Final pair distribution.
#[derive(Debug, Clone, Serialize)]
pub struct PairDistributionResult {
    /// Bin centres.
    pub r: Vec<f64>,
    /// Parallel-spin pair density and error.
    pub parallel: Vec<f64>,
    /// Error of `parallel`.
    pub parallel_error: Vec<f64>,
    /// Antiparallel-spin pair density.
    pub antiparallel: Vec<f64>,
    /// Error of `antiparallel`.
    pub antiparallel_error: Vec<f64>,
    /// ∫P dV for (parallel, antiparallel): the mean number of such pairs inside r_max.
    pub integrals: (f64, f64),
    /// Whether `parallel` and `antiparallel` are g(r) (periodic cell) rather than P(r).
    pub normalised: bool,
    /// Whether the particles come in two spin classes; without (the nucleons of a nucleus
    /// with spatial symmetry), `parallel` holds all pairs and `antiparallel` is empty.
    pub species: bool,
}

impl PairDistribution {
    /// An empty accumulator; particles `0..n_up` are spin up.
    pub fn new(dimensions: usize, n_up: usize, bins: usize, r_max: f64, blocks: usize) -> Self {
        Self {
            dimensions,
            n_up,
            bins,
            r_max,
            cell: None,
            counts: vec![[vec![0.0; bins], vec![0.0; bins]]; blocks],
            samples: vec![0; blocks],
            particles: 0,
        }
    }

    /// The accumulator of a periodic cell of side `length`: minimum-image separations up to
    /// L/2, normalised to g(r).
    pub fn periodic(
        dimensions: usize,
        n_up: usize,
        bins: usize,
        length: f64,
        blocks: usize,
    ) -> Self {
        Self {
            cell: Some(length),
            ..Self::new(dimensions, n_up, bins, length / 2.0, blocks)
        }
    }

    /// Add one measurement of every walker (`x`: row-major `[walkers, N·d]`) to `block`.
    pub fn add(&mut self, x: &[f64], walkers: usize, block: usize) {
        let d = self.dimensions;
        let coords = x.len() / walkers;
        let n = coords / d;
        self.particles = n;
        let dr = self.r_max / self.bins as f64;
        for w in x.chunks(coords) {
            for i in 0..n {
                for j in (i + 1)..n {
                    let r2: f64 = (0..d)
                        .map(|a| {
                            let s = w[i * d + a] - w[j * d + a];
                            match self.cell {
                                Some(l) => (s - l * (s / l).round()).powi(2),
                                None => s * s,
                            }
                        })
                        .sum();
                    let k = (r2.sqrt() / dr).floor();
                    if k < self.bins as f64 {
                        let kind = usize::from((i < self.n_up) != (j < self.n_up));
                        self.counts[block][kind][k as usize] += 1.0;
                    }
                }
            }
        }
        self.samples[block] += walkers;
    }

    /// Add the accumulators of every rank (collective).
    pub fn sum_over_ranks(&mut self, comm: &Comm) {
        let mut arrays: Vec<&mut [f64]> = self
            .counts
            .iter_mut()
            .flat_map(|[a, b]| [a.as_mut_slice(), b.as_mut_slice()])
            .collect();
        super::sum_over_ranks(comm, &mut arrays, &mut self.samples);
    }

    /// Normalised distributions with block errors.
    pub fn result(&self) -> PairDistributionResult {
        let (bins, d) = (self.bins, self.dimensions);
        let dr = self.r_max / bins as f64;
        let shell = |i: usize| shell_volume(d, i as f64 * dr, (i + 1) as f64 * dr);
        let used: Vec<usize> = (0..self.samples.len())
            .filter(|&b| self.samples[b] > 0)
            .collect();
        let total: usize = used.iter().map(|&b| self.samples[b]).sum();
        let mut out = [(Vec::new(), Vec::new()), (Vec::new(), Vec::new())];
        let mut integrals = [0.0; 2];
        // g(r) = P(r) V / N_σ in a periodic cell.
        let n_down = self.n_down();
        let pairs_of = [
            (self.n_up * self.n_up.saturating_sub(1) + n_down * n_down.saturating_sub(1)) / 2,
            self.n_up * n_down,
        ];
        for (kind, slot) in out.iter_mut().enumerate() {
            let scale = match self.cell {
                Some(l) if pairs_of[kind] > 0 => l.powi(d as i32) / pairs_of[kind] as f64,
                _ => 1.0,
            };
            for i in 0..bins {
                let per_block: Vec<f64> = used
                    .iter()
                    .map(|&b| self.counts[b][kind][i] * scale / (self.samples[b] as f64 * shell(i)))
                    .collect();
                let (m, e) = block_mean_error(&per_block);
                slot.0.push(m);
                slot.1.push(e);
                integrals[kind] +=
                    used.iter().map(|&b| self.counts[b][kind][i]).sum::<f64>() / total as f64;
            }
        }
        let [
            (parallel, parallel_error),
            (antiparallel, antiparallel_error),
        ] = out;
        PairDistributionResult {
            r: (0..bins).map(|i| (i as f64 + 0.5) * dr).collect(),
            parallel,
            parallel_error,
            antiparallel,
            antiparallel_error,
            integrals: (integrals[0], integrals[1]),
            normalised: self.cell.is_some(),
            species: self.n_down() > 0,
        }
    }

    /// Particles of spin down, from the last measurement's layout.
    fn n_down(&self) -> usize {
        self.particles.saturating_sub(self.n_up)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Uniform, independent points in a periodic cube: g(r) = 1 for both spin kinds.
    #[test]
    fn uncorrelated_points_in_a_cell_have_unit_pair_distribution() {
        let (n, l, walkers) = (6, 2.0, 20_000);
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut uniform = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let x: Vec<f64> = (0..walkers * n * 3).map(|_| l * uniform()).collect();
        let mut g = PairDistribution::periodic(3, 3, 8, l, 4);
        for (b, chunk) in x.chunks(walkers / 4 * n * 3).enumerate() {
            g.add(chunk, walkers / 4, b);
        }
        let r = g.result();
        assert!(r.normalised);
        for kind in [&r.parallel, &r.antiparallel] {
            // skip the innermost bin (few counts)
            for v in &kind[1..] {
                assert!((v - 1.0).abs() < 0.05, "{kind:?}");
            }
        }
    }
}
