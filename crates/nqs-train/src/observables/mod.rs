//! Observables measured during the frozen evaluation (`[eval.observables]`): the one-body
//! density (2D grid and radial profile), the spin-resolved pair distribution, and ⟨r²⟩.
//! Kinetic energy and each potential term come with every evaluation. For a self-bound
//! system (a nucleus) positions are taken about the centre of mass. In a periodic cell the
//! density is uniform and not measured; the pair distribution is g(r) up to L/2 and the
//! static structure factor S(k) is measured on the reciprocal lattice.
//!
//! Error bars come from splitting the measurements into consecutive blocks and taking the
//! standard error of the block averages (blocks much longer than the correlation time).

mod density;
mod pair_distribution;
mod structure_factor;

pub use density::{Density, DensityResult};
pub use pair_distribution::{PairDistribution, PairDistributionResult};
pub use structure_factor::{StructureFactor, StructureFactorResult};

use serde::{Deserialize, Serialize};

use crate::distributed::Comm;

/// `[eval.observables]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ObservablesConfig {
    /// Measure the one-body density.
    #[serde(default = "default_true")]
    pub density: bool,
    /// Measure the pair distribution of parallel and antiparallel spins.
    #[serde(default = "default_true")]
    pub pair_distribution: bool,
    /// Histogram bins per axis (grid) and along r (radial profiles).
    #[serde(default = "default_bins")]
    pub bins: usize,
    /// Half-width of the density grid and largest r, in oscillator lengths 1/√ω
    /// (0: 3·√(n + 1) for the highest filled shell n).
    #[serde(default)]
    pub extent: f64,
    /// Blocks for the error bars.
    #[serde(default = "default_blocks")]
    pub blocks: usize,
}

fn default_true() -> bool {
    true
}
fn default_bins() -> usize {
    60
}
fn default_blocks() -> usize {
    16
}

impl Default for ObservablesConfig {
    fn default() -> Self {
        Self {
            density: true,
            pair_distribution: true,
            bins: default_bins(),
            extent: 0.0,
            blocks: default_blocks(),
        }
    }
}

impl ObservablesConfig {
    /// Half-width of the histograms in length units for N particles in d dimensions.
    pub fn extent_for(&self, n_particles: usize, dimensions: usize, omega: f64) -> f64 {
        let oscillator_length = 1.0 / omega.sqrt();
        if self.extent > 0.0 {
            return self.extent * oscillator_length;
        }
        // Highest filled shell n (classical turning radius √(2n + d)) plus the tail.
        let per_spin = n_particles.div_ceil(2);
        let shell = nqs_model::closed_shell_sizes(dimensions, 64)
            .iter()
            .position(|&s| s >= per_spin)
            .unwrap_or(0);
        3.0 * ((shell + 1) as f64).sqrt() * oscillator_length
    }
}

/// The half-width `extent` widened to 1.5 times the farthest particle of the walkers `x`
/// (`[walkers, particles, d]`, about the centre of mass for a nucleus) when more than one
/// particle position in a thousand lies beyond it; the same on every rank. The shell rule of
/// [`ObservablesConfig::extent_for`] knows the trap, not how far a weakly bound state reaches:
/// the deuteron's default histograms held 1.84 of its 2 nucleons and 0.92 of its one pair.
/// Collective.
pub fn extent_covering(extent: f64, x: &[f64], d: usize, comm: &Comm) -> f64 {
    let radii: Vec<f64> = x
        .chunks_exact(d)
        .map(|p| p.iter().map(|v| v * v).sum::<f64>().sqrt())
        .collect();
    // Every rank's (beyond, all, farthest), in one collective.
    let local = [
        radii.iter().filter(|&&r| r > extent).count() as f64,
        radii.len() as f64,
        radii.iter().copied().fold(0.0, f64::max),
    ];
    let (mut beyond, mut all, mut farthest) = (0.0, 0.0, 0.0_f64);
    for rank in comm.gather(&local).chunks_exact(3) {
        beyond += rank[0];
        all += rank[1];
        farthest = farthest.max(rank[2]);
    }
    if beyond > 1e-3 * all {
        extent.max(1.5 * farthest)
    } else {
        extent
    }
}

/// The sums of an accumulator over every rank of `comm`, in place: `arrays` (histogram
/// blocks) and `samples` (measurement counts). Histograms are additive, so the ranks'
/// accumulators add up to the one of all walkers. One collective; nothing for one rank.
pub(crate) fn sum_over_ranks(comm: &Comm, arrays: &mut [&mut [f64]], samples: &mut [usize]) {
    if comm.size() == 1 {
        return;
    }
    let mut flat: Vec<f64> = arrays
        .iter()
        .flat_map(|a| a.iter().copied())
        .chain(samples.iter().map(|&n| n as f64))
        .collect();
    comm.sum(&mut flat);
    let mut values = flat.into_iter();
    for a in arrays.iter_mut() {
        for v in a.iter_mut() {
            *v = values.next().expect("same layout on every rank");
        }
    }
    for n in samples.iter_mut() {
        *n = values.next().expect("same layout on every rank").round() as usize;
    }
}

/// Volume of the shell r0 < |r| < r1 in `dimensions` (1D: two segments).
pub fn shell_volume(dimensions: usize, r0: f64, r1: f64) -> f64 {
    match dimensions {
        1 => 2.0 * (r1 - r0),
        2 => std::f64::consts::PI * (r1 * r1 - r0 * r0),
        _ => 4.0 / 3.0 * std::f64::consts::PI * (r1.powi(3) - r0.powi(3)),
    }
}

/// Mean and standard error of per-block values.
pub fn block_mean_error(blocks: &[f64]) -> (f64, f64) {
    let n = blocks.len() as f64;
    let mean = blocks.iter().sum::<f64>() / n;
    if blocks.len() < 2 {
        return (mean, 0.0);
    }
    let var = blocks.iter().map(|b| (b - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// Shift every walker's positions `[walkers, N·d]` (row-major) so that its centre of mass
/// is at the origin.
pub fn subtract_centre_of_mass(x: &mut [f64], n_particles: usize, dimensions: usize) {
    for walker in x.chunks_mut(n_particles * dimensions) {
        for a in 0..dimensions {
            let centre = (0..n_particles)
                .map(|i| walker[i * dimensions + a])
                .sum::<f64>()
                / n_particles as f64;
            for i in 0..n_particles {
                walker[i * dimensions + a] -= centre;
            }
        }
    }
}

/// Per walker, the mean squared minimum-image separation of its pairs in a periodic cell of
/// side `length` (what `r2` reports for a periodic system, where ⟨r²⟩ about an origin means
/// nothing: L²/4 for uncorrelated pairs in 3D, d·L²/12 in general, less when they bunch).
pub fn mean_pair_r2_periodic(
    x: &[f64],
    walkers: usize,
    dimensions: usize,
    length: f64,
) -> Vec<f64> {
    let coords = x.len() / walkers;
    let n = coords / dimensions;
    let pairs = (n * n.saturating_sub(1) / 2).max(1) as f64;
    x.chunks(coords)
        .map(|w| {
            let mut sum = 0.0;
            for i in 0..n {
                for j in (i + 1)..n {
                    for a in 0..dimensions {
                        let s = w[i * dimensions + a] - w[j * dimensions + a];
                        sum += (s - length * (s / length).round()).powi(2);
                    }
                }
            }
            sum / pairs
        })
        .collect()
}

/// ⟨r²⟩ per particle, from positions `[walkers, N·d]` (row-major).
pub fn mean_r2_per_particle(x: &[f64], walkers: usize, n_particles: usize) -> Vec<f64> {
    let coords = x.len() / walkers;
    x.chunks(coords)
        .map(|w| w.iter().map(|v| v * v).sum::<f64>() / n_particles as f64)
        .collect()
}
