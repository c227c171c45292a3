//! The Ewald sum of [`Ewald`] as a host pass for walkers on flex in f64 without an autodiff
//! graph (every local energy of a training or an evaluation).
//!
//! In burn ops the sum is about 160 elementwise ops on `[W, P]` for the 27 real-space images
//! and the cosines and sines of `[W·N, K]` phases for the K wave vectors (235 ms for 1024
//! walkers at N = 14 on one thread, `examples/heg_costs.rs`). Here, per walker:
//! - real space: each pair's minimum-image separation r, and erfc(α|r + nL|)/|r + nL| for the
//!   images n with |r + nL| < r_c only (the others are below the tolerance by the choice of
//!   r_c, erfc(α r_c) ≈ τ);
//! - reciprocal space: e^{ik·x} = Π_a z_a^{m_a} with z_a = e^{2πi x_a/L} and k = 2πm/L, so
//!   each particle needs three sines and cosines and the integer powers of z_a by repeated
//!   products, instead of one sine and cosine per wave vector;
//!
//! the same sum up to the rounding of the powers and the images left out below the tolerance.

use burn::tensor::{Tensor, TensorData};

use super::Ewald;

/// A complex number as (re, im).
type Complex = (f64, f64);

fn times(a: Complex, b: Complex) -> Complex {
    (a.0 * b.0 - a.1 * b.1, a.0 * b.1 + a.1 * b.0)
}

impl Ewald {
    /// The energy per walker when `x` is on flex in f64 without an autodiff graph, `None`
    /// otherwise.
    ///
    /// # Shapes
    /// - x: `[walkers, N·3]` → `[walkers]`
    pub(super) fn host_potential(&self, x: &Tensor<2>) -> Option<Tensor<1>> {
        let xs = nqs_model::host_values(x.clone())?;
        let [w, _] = x.dims();
        let n = self.geometry.n_particles;
        let constant = self.constant();
        let m_max = self
            .orders
            .iter()
            .flatten()
            .map(|m| m.unsigned_abs() as usize)
            .max()
            .unwrap_or(0);
        let span = 2 * m_max + 1;
        // Column offsets of z_a^{m_a} in a particle's table of powers, per wave vector.
        let columns: Vec<[usize; 3]> = self
            .orders
            .iter()
            .map(|m| [0, 1, 2].map(|a| a * span + (m[a] + m_max as i64) as usize))
            .collect();
        let mut powers = vec![(0.0, 0.0); n * 3 * span];
        let mut out = vec![0.0; w];
        for (walker, o) in xs.chunks_exact(3 * n).zip(out.iter_mut()) {
            self.fill_powers(walker, m_max, &mut powers);
            *o =
                self.real_space(walker) + self.reciprocal_space(&powers, &columns, span) + constant;
        }
        Some(Tensor::from_data(TensorData::new(out, [w]), &x.device()))
    }

    /// Σ_{i<j} Σ_n erfc(α|r_ij + nL|)/|r_ij + nL| over the images within r_c, r_ij the
    /// minimum-image separation.
    fn real_space(&self, walker: &[f64]) -> f64 {
        let n = self.geometry.n_particles;
        let l = self.length;
        let r_cut2 = self.r_cut * self.r_cut;
        let mut sum = 0.0;
        for i in 0..n {
            for j in i + 1..n {
                let r: [f64; 3] = std::array::from_fn(|a| {
                    let d = walker[3 * i + a] - walker[3 * j + a];
                    d - (d / l).round() * l
                });
                for image in &self.images {
                    let d2: f64 = (0..3).map(|a| (r[a] + image[a]).powi(2)).sum();
                    if d2 < r_cut2 {
                        let d = d2.sqrt();
                        sum += libm::erfc(self.alpha * d) / d;
                    }
                }
            }
        }
        sum
    }

    /// z_a^m = e^{2πi m x_a/L} for m = −M…M of every particle and axis, `[N][3][2M + 1]`.
    fn fill_powers(&self, walker: &[f64], m_max: usize, powers: &mut [Complex]) {
        let span = 2 * m_max + 1;
        let phase = 2.0 * std::f64::consts::PI / self.length;
        for (x, table) in walker.iter().zip(powers.chunks_exact_mut(span)) {
            let (sin, cos) = (phase * x).sin_cos();
            table[m_max] = (1.0, 0.0);
            for m in 1..=m_max {
                let up = times(table[m_max + m - 1], (cos, sin));
                table[m_max + m] = up;
                table[m_max - m] = (up.0, -up.1);
            }
        }
    }

    /// Σ_k w_k (|ρ_k|² − N)/2 with ρ_k = Σ_i Π_a z_ia^{m_a}.
    fn reciprocal_space(&self, powers: &[Complex], columns: &[[usize; 3]], span: usize) -> f64 {
        let n = self.geometry.n_particles;
        let mut sum = 0.0;
        for ((_, weight), at) in self.wavevectors.iter().zip(columns) {
            let mut rho = (0.0, 0.0);
            for particle in powers.chunks_exact(3 * span) {
                let term = times(times(particle[at[0]], particle[at[1]]), particle[at[2]]);
                rho = (rho.0 + term.0, rho.1 + term.1);
            }
            sum += weight * (rho.0 * rho.0 + rho.1 * rho.1 - n as f64) * 0.5;
        }
        sum
    }
}
