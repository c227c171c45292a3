//! One-body density ρ(r) = ⟨Σ_i δ(r − r_i)⟩, normalised so that ∫ρ = N.

use serde::Serialize;

use super::{block_mean_error, shell_volume};
use crate::distributed::Comm;

/// Histogram accumulator of particle positions, per block.
#[derive(Debug, Clone)]
pub struct Density {
    dimensions: usize,
    bins: usize,
    half_width: f64,
    /// Per block: grid counts (bins², 2D projection onto the first two axes) and radial
    /// counts (bins).
    grid: Vec<Vec<f64>>,
    radial: Vec<Vec<f64>>,
    samples: Vec<usize>,
}

/// Final density.
#[derive(Debug, Clone, Serialize)]
pub struct DensityResult {
    /// Bin centres along each grid axis.
    pub axis: Vec<f64>,
    /// ρ on the grid (projected onto the first two axes in 3D; the line in 1D), row-major
    /// `[bins][bins]`, integrating to N.
    pub grid: Vec<f64>,
    /// Radial bin centres.
    pub r: Vec<f64>,
    /// Radial density ρ(r) (per unit volume), with ∫ρ(r) dV = N inside the range.
    pub radial: Vec<f64>,
    /// Its error bars.
    pub radial_error: Vec<f64>,
    /// ∫ρ over the radial range: N times the fraction of positions inside it.
    pub integral: f64,
}

impl Density {
    /// An empty accumulator with `blocks` blocks.
    pub fn new(dimensions: usize, bins: usize, half_width: f64, blocks: usize) -> Self {
        let cells = if dimensions == 1 { bins } else { bins * bins };
        Self {
            dimensions,
            bins,
            half_width,
            grid: vec![vec![0.0; cells]; blocks],
            radial: vec![vec![0.0; bins]; blocks],
            samples: vec![0; blocks],
        }
    }

    /// Add one measurement of every walker (`x`: row-major `[walkers, N·d]`) to `block`.
    pub fn add(&mut self, x: &[f64], walkers: usize, block: usize) {
        let d = self.dimensions;
        let (bins, h) = (self.bins, self.half_width);
        let cell = 2.0 * h / bins as f64;
        let dr = h / bins as f64;
        for p in x.chunks(d) {
            let ix = ((p[0] + h) / cell).floor();
            let iy = if d > 1 {
                ((p[1] + h) / cell).floor()
            } else {
                0.0
            };
            if (0.0..bins as f64).contains(&ix) && (d == 1 || (0.0..bins as f64).contains(&iy)) {
                let k = if d == 1 {
                    ix as usize
                } else {
                    iy as usize * bins + ix as usize
                };
                self.grid[block][k] += 1.0;
            }
            let r = p.iter().map(|v| v * v).sum::<f64>().sqrt();
            let ir = (r / dr).floor();
            if ir < bins as f64 {
                self.radial[block][ir as usize] += 1.0;
            }
        }
        self.samples[block] += walkers;
    }

    /// Add the accumulators of every rank (collective).
    pub fn sum_over_ranks(&mut self, comm: &Comm) {
        let mut arrays: Vec<&mut [f64]> = self
            .grid
            .iter_mut()
            .chain(self.radial.iter_mut())
            .map(|v| v.as_mut_slice())
            .collect();
        super::sum_over_ranks(comm, &mut arrays, &mut self.samples);
    }

    /// Normalised density with block errors.
    pub fn result(&self) -> DensityResult {
        let (bins, h, d) = (self.bins, self.half_width, self.dimensions);
        let cell = 2.0 * h / bins as f64;
        let dr = h / bins as f64;
        let used: Vec<usize> = (0..self.samples.len())
            .filter(|&b| self.samples[b] > 0)
            .collect();
        let total_samples: usize = used.iter().map(|&b| self.samples[b]).sum();
        let cell_volume = if d == 1 { cell } else { cell * cell };
        let cells = self.grid[0].len();
        let grid: Vec<f64> = (0..cells)
            .map(|k| {
                used.iter().map(|&b| self.grid[b][k]).sum::<f64>()
                    / (total_samples as f64 * cell_volume)
            })
            .collect();
        let shell = |i: usize| shell_volume(d, i as f64 * dr, (i + 1) as f64 * dr);
        let mut radial = Vec::with_capacity(bins);
        let mut radial_error = Vec::with_capacity(bins);
        let mut inside = 0.0;
        for i in 0..bins {
            let per_block: Vec<f64> = used
                .iter()
                .map(|&b| self.radial[b][i] / (self.samples[b] as f64 * shell(i)))
                .collect();
            let (m, e) = block_mean_error(&per_block);
            radial.push(m);
            radial_error.push(e);
            inside += used.iter().map(|&b| self.radial[b][i]).sum::<f64>();
        }
        DensityResult {
            axis: (0..bins).map(|i| -h + (i as f64 + 0.5) * cell).collect(),
            grid,
            r: (0..bins).map(|i| (i as f64 + 0.5) * dr).collect(),
            radial,
            radial_error,
            integral: inside / total_samples as f64,
        }
    }
}
