//! Static structure factor of a periodic system, S(k) = ⟨|ρ_k|²⟩/N with
//! ρ_k = Σ_i e^{ik·x_i}, on the reciprocal lattice k = 2πm/L (m ≠ 0, one of each ±m),
//! averaged over the vectors of each shell |m|² and over the walkers of each block.
//! S(k) → 1 at large k; its small-k behaviour carries the long-range correlations (∝ k² for
//! the electron gas, set by the plasmon).

use serde::Serialize;

use super::block_mean_error;
use crate::distributed::Comm;

/// Shells |m|² ≤ this are measured (k up to 3 · 2π/L).
const MAX_M2: i64 = 9;

/// Accumulator of S(k), per block.
#[derive(Debug, Clone)]
pub struct StructureFactor {
    dimensions: usize,
    /// Wave vectors (one of each ±k) with the index of their shell.
    vectors: Vec<(Vec<f64>, usize)>,
    /// |k| of each shell.
    shells: Vec<f64>,
    /// Per block and shell: Σ |ρ_k|²/N over walkers and vectors.
    sums: Vec<Vec<f64>>,
    /// Per block: walkers measured.
    samples: Vec<usize>,
}

/// Final structure factor.
#[derive(Debug, Clone, Serialize)]
pub struct StructureFactorResult {
    /// |k| of each shell.
    pub k: Vec<f64>,
    /// S(k).
    pub s: Vec<f64>,
    /// Block error of `s`.
    pub error: Vec<f64>,
}

impl StructureFactor {
    /// An empty accumulator for a cell of side `length` in `dimensions`.
    pub fn new(dimensions: usize, length: f64, blocks: usize) -> Self {
        let ms = nqs_model::plane_waves::integer_vectors(dimensions, (MAX_M2 as f64).sqrt() as i64);
        let canonical = |m: &Vec<i64>| m.iter().find(|&&v| v != 0).is_some_and(|&v| v > 0);
        let mut m2s: Vec<i64> = ms
            .iter()
            .filter(|m| canonical(m))
            .map(|m| m.iter().map(|v| v * v).sum::<i64>())
            .filter(|&m2| m2 <= MAX_M2)
            .collect();
        m2s.sort_unstable();
        m2s.dedup();
        let unit = 2.0 * std::f64::consts::PI / length;
        let vectors = ms
            .iter()
            .filter(|m| canonical(m))
            .filter_map(|m| {
                let m2 = m.iter().map(|v| v * v).sum::<i64>();
                let shell = m2s.iter().position(|&s| s == m2)?;
                Some((m.iter().map(|&v| v as f64 * unit).collect(), shell))
            })
            .collect();
        Self {
            dimensions,
            vectors,
            shells: m2s.iter().map(|&m2| (m2 as f64).sqrt() * unit).collect(),
            sums: vec![vec![0.0; m2s.len()]; blocks],
            samples: vec![0; blocks],
        }
    }

    /// Add one measurement of every walker (`x`: row-major `[walkers, N·d]`) to `block`.
    pub fn add(&mut self, x: &[f64], walkers: usize, block: usize) {
        let d = self.dimensions;
        let coords = x.len() / walkers;
        let n = coords / d;
        for w in x.chunks(coords) {
            for (k, shell) in &self.vectors {
                let (mut re, mut im) = (0.0, 0.0);
                for i in 0..n {
                    let phase: f64 = (0..d).map(|a| k[a] * w[i * d + a]).sum();
                    let (s, c) = phase.sin_cos();
                    re += c;
                    im += s;
                }
                self.sums[block][*shell] += (re * re + im * im) / n as f64;
            }
        }
        self.samples[block] += walkers;
    }

    /// Add the accumulators of every rank (collective).
    pub fn sum_over_ranks(&mut self, comm: &Comm) {
        let mut arrays: Vec<&mut [f64]> = self.sums.iter_mut().map(|v| v.as_mut_slice()).collect();
        super::sum_over_ranks(comm, &mut arrays, &mut self.samples);
    }

    /// S(k) per shell with block errors.
    pub fn result(&self) -> StructureFactorResult {
        let per_shell: Vec<usize> = (0..self.shells.len())
            .map(|s| self.vectors.iter().filter(|(_, t)| *t == s).count())
            .collect();
        let used: Vec<usize> = (0..self.samples.len())
            .filter(|&b| self.samples[b] > 0)
            .collect();
        let (mut s, mut error) = (Vec::new(), Vec::new());
        for (shell, count) in per_shell.iter().enumerate() {
            let blocks: Vec<f64> = used
                .iter()
                .map(|&b| self.sums[b][shell] / (self.samples[b] * count) as f64)
                .collect();
            let (m, e) = block_mean_error(&blocks);
            s.push(m);
            error.push(e);
        }
        StructureFactorResult {
            k: self.shells.clone(),
            s,
            error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncorrelated_particles_have_unit_structure_factor_and_a_crystal_has_bragg_peaks() {
        // One particle: |ρ_k|² = 1 for every k.
        let mut one = StructureFactor::new(3, 2.0, 1);
        one.add(&[0.3, 0.7, 1.1], 1, 0);
        assert!(one.result().s.iter().all(|v| (v - 1.0).abs() < 1e-12));
        // A simple-cubic crystal of 8 particles in a cell of side 2 (spacing 1): S = N at
        // the crystal's reciprocal vectors (|m|² = 4: k = 2π), 0 at the others.
        let mut x = Vec::new();
        for a in 0..2 {
            for b in 0..2 {
                for c in 0..2 {
                    x.extend([a as f64, b as f64, c as f64]);
                }
            }
        }
        let mut crystal = StructureFactor::new(3, 2.0, 1);
        crystal.add(&x, 1, 0);
        let r = crystal.result();
        for (k, s) in r.k.iter().zip(&r.s) {
            let m2 = (k / std::f64::consts::PI).powi(2).round() as i64;
            // Bragg peaks where every component of m is even, zero where one is odd.
            let expected = if m2 == 4 || m2 == 8 { 8.0 } else { 0.0 };
            assert!((s - expected).abs() < 1e-9, "|m|² = {m2}: {s}");
        }
    }
}
