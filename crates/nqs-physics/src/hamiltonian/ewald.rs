//! The Coulomb energy of N unit charges in a periodic cube of side L with a neutralising
//! uniform background (Hartree units), by the Ewald sum:
//!
//! E = Σ_{i<j} φ(r_ij) + (N/2) ξ,
//! φ(r) = Σ_n erfc(α|r + nL|)/|r + nL| + (4π/V) Σ_{k≠0} e^{−k²/4α²} cos(k·r)/k² − π/(α²V),
//! ξ = lim_{r→0} [φ(r) − 1/r] = Σ_{n≠0} erfc(α|n|L)/(|n|L) + (4π/V) Σ_{k≠0} e^{−k²/4α²}/k²
//!     − π/(α²V) − 2α/√π,
//!
//! with k = 2πm/L. φ is the interaction of a charge with another and all its images, ξ that
//! with its own images (the Madelung term); the background enters through the k = 0
//! constants. The energy does not depend on α; α, the real-space cutoff r_c and the
//! reciprocal cutoff k_c come from a tolerance τ: erfc(α r_c) ≈ τ and e^{−k_c²/4α²} ≈ τ.
//! Separations are first reduced to the minimum image, so only the images that can come
//! within r_c of a minimum-image separation are summed (27 for the default α). The
//! reciprocal part is summed through the structure factor,
//! Σ_{i<j} cos(k·r_ij) = (|ρ_k|² − N)/2 with ρ_k = Σ_i e^{ik·x_i}: N rather than
//! N(N − 1)/2 phases per wave vector.
//!
//! The Coulomb term of the electron gas ([`crate::electron_gas`]).

use std::f64::consts::PI;

use burn::tensor::{Tensor, TensorData};
use nqs_model::pairs::Pairs;
use nqs_model::{Geometry, row_sum};

use super::PotentialTerm;

/// The Ewald Coulomb energy of electrons in a periodic cube.
#[derive(Debug, Clone)]
pub struct Ewald {
    /// Particle layout (3D).
    pub geometry: Geometry,
    /// Side L of the cube.
    pub length: f64,
    /// Splitting parameter α.
    pub alpha: f64,
    /// Lattice vectors nL of the real-space sum.
    pub(super) images: Vec<[f64; 3]>,
    /// Half of the k ≠ 0 vectors (k and −k give the same cosine) with their weights
    /// 2·(4π/V) e^{−k²/4α²}/k².
    pub(super) wavevectors: Vec<([f64; 3], f64)>,
    /// The integers m of each wave vector, k = 2πm/L.
    pub(super) orders: Vec<[i64; 3]>,
    /// Real-space cutoff r_c: erfc(α r_c) ≈ the tolerance.
    pub(super) r_cut: f64,
    /// The Madelung term ξ.
    madelung: f64,
}

/// erfc for a host number (Abramowitz–Stegun 7.1.26 is too coarse here; a continued
/// fraction for large x and the series of erf for small x, both to ~1e-15).
fn erfc(x: f64) -> f64 {
    if x < 2.5 {
        // erf(x) = 2/√π Σ_n (−1)^n x^{2n+1}/(n!(2n+1)).
        let mut sum: f64 = 0.0;
        let mut term = x;
        let mut n = 0.0;
        while term.abs() > 1e-17 * sum.abs().max(1e-300) || n < 3.0 {
            sum += term / (2.0 * n + 1.0);
            n += 1.0;
            term *= -x * x / n;
            if n > 200.0 {
                break;
            }
        }
        1.0 - 2.0 / PI.sqrt() * sum
    } else {
        // Lentz's continued fraction: erfc(x) = e^{−x²}/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …)))).
        let mut f = 0.0;
        for k in (1..=60).rev() {
            f = (k as f64 / 2.0) / (x + f);
        }
        (-x * x).exp() / PI.sqrt() / (x + f)
    }
}

impl Ewald {
    /// The sum for `geometry` (3D) in a cube of side `length`, converged to about
    /// `tolerance` relative, with α chosen so that about 2·5³ real-space images and a few
    /// hundred wave vectors suffice.
    pub fn new(geometry: Geometry, length: f64, tolerance: f64) -> Self {
        Self::with_alpha(geometry, length, 3.5 / length, tolerance)
    }

    /// The sum with a given splitting parameter α (the energy does not depend on it).
    pub fn with_alpha(geometry: Geometry, length: f64, alpha: f64, tolerance: f64) -> Self {
        assert_eq!(geometry.dimensions, 3, "the Ewald sum is for cubes in 3D");
        let s = (-tolerance.ln()).max(1.0).sqrt();
        let r_cut = s / alpha;
        let k_cut = 2.0 * alpha * s;
        let volume = length.powi(3);
        // Separations are reduced to the minimum image, |r_a| ≤ L/2, so image n comes no
        // closer than L·|(max(|n_a| − ½, 0))_a|: keep those within r_cut.
        let n_max = (r_cut / length + 0.5).ceil() as i64;
        let mut images = Vec::new();
        for a in -n_max..=n_max {
            for b in -n_max..=n_max {
                for c in -n_max..=n_max {
                    let n = [a, b, c];
                    let closest: f64 = n
                        .iter()
                        .map(|&v| ((v.abs() as f64 - 0.5).max(0.0) * length).powi(2))
                        .sum::<f64>()
                        .sqrt();
                    if closest < r_cut {
                        images.push(n.map(|v| v as f64 * length));
                    }
                }
            }
        }
        let m_max = (k_cut * length / (2.0 * PI)).ceil() as i64;
        let mut wavevectors = Vec::new();
        let mut orders = Vec::new();
        let mut reciprocal = 0.0;
        for a in -m_max..=m_max {
            for b in -m_max..=m_max {
                for c in -m_max..=m_max {
                    let m = [a, b, c];
                    // One of each ±k pair: the first nonzero component positive.
                    let first = m.iter().find(|&&v| v != 0).copied().unwrap_or(0);
                    if first <= 0 {
                        continue;
                    }
                    let k = m.map(|v| 2.0 * PI * v as f64 / length);
                    let k2: f64 = k.iter().map(|v| v * v).sum();
                    if k2 > k_cut * k_cut {
                        continue;
                    }
                    let weight = 2.0 * 4.0 * PI / volume * (-k2 / (4.0 * alpha * alpha)).exp() / k2;
                    reciprocal += weight;
                    wavevectors.push((k, weight));
                    orders.push(m);
                }
            }
        }
        // The Madelung term's own real-space sum over lattice vectors |n|L < r_cut + L.
        let reach = ((r_cut + length) / length).ceil() as i64;
        let mut real = 0.0;
        for a in -reach..=reach {
            for b in -reach..=reach {
                for c in -reach..=reach {
                    let r = ((a * a + b * b + c * c) as f64).sqrt() * length;
                    if r > 0.0 && r < r_cut + length {
                        real += erfc(alpha * r) / r;
                    }
                }
            }
        }
        let madelung = real + reciprocal - PI / (alpha * alpha * volume) - 2.0 * alpha / PI.sqrt();
        Self {
            geometry,
            length,
            alpha,
            images,
            wavevectors,
            orders,
            r_cut,
            madelung,
        }
    }

    /// Number of lattice images in the real-space sum.
    pub fn image_count(&self) -> usize {
        self.images.len()
    }

    /// Number of wave vectors in the reciprocal sum (one of each ±k).
    pub fn wavevector_count(&self) -> usize {
        self.wavevectors.len()
    }

    /// ξ, the interaction of a charge with its own images and the background.
    pub fn madelung(&self) -> f64 {
        self.madelung
    }

    /// The configuration-independent part of the energy: (N/2) ξ and the k = 0 constant of
    /// every pair, −P π/(α²V).
    pub(super) fn constant(&self) -> f64 {
        let n = self.geometry.n_particles;
        let pairs = n * n.saturating_sub(1) / 2;
        0.5 * n as f64 * self.madelung
            - pairs as f64 * PI / (self.alpha * self.alpha * self.length.powi(3))
    }
}

impl PotentialTerm for Ewald {
    fn name(&self) -> &'static str {
        "coulomb"
    }

    fn potential(&self, x: &Tensor<2>) -> Tensor<1> {
        let [w, _] = x.dims();
        let n = self.geometry.n_particles;
        let self_term = 0.5 * n as f64 * self.madelung;
        if n < 2 {
            return Tensor::<1>::zeros([w], &x.device()).add_scalar(self_term);
        }
        if let Some(host) = self.host_potential(x) {
            return host;
        }
        let pairs = Pairs::new(x, &self.geometry);
        let l = self.length;
        // Minimum image (`Pairs` already reduces them in a periodic geometry; this keeps the
        // term right for a layout without a cell, as in the lattice tests).
        let r: Vec<Tensor<2>> = (0..3)
            .map(|a| {
                let d = pairs.separation(a);
                d.clone() - (d / l).round() * l
            })
            .collect();
        let p = pairs.len();
        let device = x.device();
        // Real space.
        let mut phi: Tensor<2> = Tensor::zeros([w, p], &device);
        for image in &self.images {
            let d2 = (0..3)
                .map(|a| (r[a].clone() + image[a]).square())
                .reduce(|s, t| s + t)
                .expect("three axes");
            let d = d2.sqrt();
            let erfc = (d.clone() * self.alpha).erf().neg().add_scalar(1.0);
            phi = phi + erfc / d;
        }
        // Reciprocal space: Σ_k w_k (|ρ_k|² − N)/2, ρ_k from one product of the positions
        // with the wave vectors.
        let kx: Vec<f64> = (0..3)
            .flat_map(|a| self.wavevectors.iter().map(move |(k, _)| k[a]))
            .collect();
        let weights: Vec<f64> = self.wavevectors.iter().map(|(_, wk)| *wk).collect();
        let kn = weights.len();
        let k: Tensor<2> = Tensor::from_data(TensorData::new(kx, [3, kn]), &device);
        let phase = x.clone().reshape([w * n, 3]).matmul(k); // [w·N, K]
        let sum_particles = |t: Tensor<2>| t.reshape([w, n, kn]).sum_dim(1).reshape([w, kn]);
        let rho2 =
            sum_particles(phase.clone().cos()).square() + sum_particles(phase.sin()).square();
        let weights: Tensor<2> = Tensor::from_data(TensorData::new(weights, [kn, 1]), &device);
        let reciprocal = (rho2.add_scalar(-(n as f64)) * 0.5)
            .matmul(weights)
            .reshape([w]);
        (row_sum(phi) + reciprocal).add_scalar(self.constant())
    }
}
