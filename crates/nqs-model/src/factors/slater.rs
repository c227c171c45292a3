//! Slater determinant det↑ · det↓ of Hermite-function orbitals (PHYSICS.md §4).
//!
//! φ_n(x) = H_n(√(αω) x) e^{−αω x²/2}, a product over dimensions, filled shell by shell.
//! The Gaussian is common to every orbital of a row, so
//! log|ψ_S| = log|det P↑| + log|det P↓| − (αω/2) Σ_i r_i², with P_ij = Π_a H_{n_ja}(√(αω) x_ia).
//! Row i of P depends only on particle i, so the forward Laplacian of log|det P| collapses to
//! per-row terms: ∂_{ia} log|det P| = Σ_j ∂_a P_ij (P⁻¹)_ji and
//! ∇² log|det P| = Σ_{i,a} [ Σ_j ∂_a² P_ij (P⁻¹)_ji − (∂_{ia} log|det P|)² ].

use burn::module::{Module, Param};
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::derivatives::LogPsi;
use crate::{Geometry, ModelError, Order, init::param1, log_det, shell_quantum_numbers};

/// Configuration of the Slater determinant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SlaterConfig {
    /// Initial variational exponent α of the orbitals (1 is the non-interacting optimum).
    #[serde(default = "one")]
    pub alpha: f64,
}

fn one() -> f64 {
    1.0
}

impl Default for SlaterConfig {
    fn default() -> Self {
        Self { alpha: 1.0 }
    }
}

/// Slater determinant factor.
#[derive(Module, Debug)]
pub struct SlaterDeterminant {
    /// Variational exponent α, `[1]`.
    pub alpha: Param<Tensor<1>>,
    /// Trap frequency ω.
    pub omega: f64,
    #[module(skip)]
    geometry: Geometry,
    /// Quantum numbers n_ja, `[orbital][dimension]`.
    #[module(skip)]
    orbitals: Vec<Vec<usize>>,
}

impl SlaterConfig {
    /// Build the factor; N must fill closed shells with equal spin populations.
    pub fn init(
        &self,
        geometry: Geometry,
        omega: f64,
        device: &Device,
    ) -> Result<SlaterDeterminant, ModelError> {
        geometry.check_closed_shell()?;
        Ok(SlaterDeterminant {
            alpha: param1(&[self.alpha], device),
            omega,
            geometry,
            orbitals: shell_quantum_numbers(geometry.dimensions, geometry.n_up),
        })
    }
}

impl SlaterDeterminant {
    /// log|ψ_S| with derivatives, and the sign of the determinant product.
    ///
    /// # Shapes
    /// - x: `[walkers, N·d]`
    pub fn forward(&self, x: &Tensor<2>, order: Order) -> (LogPsi, Tensor<1>) {
        let [w, _] = x.dims();
        let g = self.geometry;
        let (n, d, n_orb) = (g.n_particles, g.dimensions, g.n_up);
        let device = x.device();
        let alpha_omega = self.alpha.val() * self.omega; // [1]
        let q = alpha_omega.clone().sqrt(); // √(αω), [1]
        let n_max = self.orbitals.iter().flatten().copied().max().unwrap_or(0);

        // Hermite polynomials H_0..H_nmax at ξ = q x, flattened to [w·n, d·(n_max+1)] with
        // column a·(n_max+1) + k holding H_k(ξ_a).
        let xi = x.clone().reshape([w * n, d]) * q.clone().unsqueeze::<2>();
        let mut h = vec![Tensor::<2>::ones([w * n, d], &device)];
        if n_max >= 1 {
            h.push(xi.clone() * 2.0);
        }
        for k in 1..n_max {
            let next = xi.clone() * h[k].clone() * 2.0 - h[k - 1].clone() * (2.0 * k as f64);
            h.push(next);
        }
        let h = Tensor::stack::<3>(h, 2).reshape([w * n, d * (n_max + 1)]);

        // Per dimension a: H_{n_ja}, ∂H, ∂²H (∂ with respect to ξ), each [w·n, n_orb].
        let pick = |a: usize, deriv: usize| self.pick(&h, a, deriv, n_max, &device);
        let value_a: Vec<Tensor<2>> = (0..d).map(|a| pick(a, 0)).collect();
        let product_except = |skip: usize| -> Option<Tensor<2>> {
            (0..d)
                .filter(|&b| b != skip)
                .map(|b| value_a[b].clone())
                .reduce(|p, t| p * t)
        };
        let p = value_a
            .iter()
            .cloned()
            .reduce(|acc, t| acc * t)
            .expect("d >= 1");
        // Particles are ordered up then down and n_up = n_down = n_orb, so [w·n, n_orb] is
        // already the batch of 2w square blocks (walker-major: up block, then down block).
        let blocks = |m: Tensor<2>| -> Tensor<3> { m.reshape([2 * w, n_orb, n_orb]) };
        let det = log_det(blocks(p), order.gradient());
        let log_det = det.log_abs.clone().reshape([w, 2]).sum_dim(1).reshape([w]);
        let sign = det.sign.reshape([w, 2]).prod_dim(1).reshape([w]);
        let r2 = x.clone().square().sum_dim(1).reshape([w]);
        let value = log_det - r2 * alpha_omega.clone() * 0.5;

        let (grad, lap) = if let Some(inv) = det.inverse {
            let inv_t = inv.swap_dims(1, 2); // (P⁻¹)ᵀ: inv_t[i, j] = (P⁻¹)_ji
            let mut grads = Vec::with_capacity(d);
            let mut lap_rows: Option<Tensor<3>> = None;
            for a in 0..d {
                let others = product_except(a);
                let times_others = |t: Tensor<2>| match &others {
                    Some(o) => t * o.clone(),
                    None => t,
                };
                let dp = times_others(pick(a, 1)) * q.clone().unsqueeze::<2>();
                let g_a = (blocks(dp) * inv_t.clone()).sum_dim(2); // [2w, n_orb, 1]
                if order.laplacian() {
                    let d2p = times_others(pick(a, 2)) * alpha_omega.clone().unsqueeze::<2>();
                    let term = (blocks(d2p) * inv_t.clone()).sum_dim(2) - g_a.clone().square();
                    lap_rows = Some(match lap_rows {
                        Some(l) => l + term,
                        None => term,
                    });
                }
                grads.push(g_a);
            }
            // [2w, n_orb, d] is [w, n, d] (up particles first) → [w, n·d]
            let g = Tensor::cat(grads, 2).reshape([w, n * d]);
            let grad = g - x.clone() * alpha_omega.clone().unsqueeze::<2>();
            let lap = lap_rows.map(|l| {
                l.reshape([w, n]).sum_dim(1).reshape([w]) - alpha_omega.clone() * (n * d) as f64
            });
            (Some(grad), lap)
        } else {
            (None, None)
        };
        (LogPsi { value, grad, lap }, sign)
    }

    /// The `deriv`-th ξ-derivative of H_{n_ja}(ξ_a) for every orbital j, gathered from the
    /// flattened Hermite table `h` (`[rows, d·(n_max+1)]`): H' = 2n H_{n−1},
    /// H'' = 4n(n−1) H_{n−2}. Returns `[rows, n_orb]`.
    fn pick(
        &self,
        h: &Tensor<2>,
        a: usize,
        deriv: usize,
        n_max: usize,
        device: &Device,
    ) -> Tensor<2> {
        let n_orb = self.orbitals.len();
        let (mut index, mut coef) = (Vec::with_capacity(n_orb), Vec::with_capacity(n_orb));
        for qn in &self.orbitals {
            let k = qn[a];
            let (row, c) = match deriv {
                0 => (k, 1.0),
                1 => (k.saturating_sub(1), 2.0 * k as f64),
                _ => (k.saturating_sub(2), 4.0 * (k * k.saturating_sub(1)) as f64),
            };
            index.push((a * (n_max + 1) + row) as i64);
            coef.push(c);
        }
        let picked = h.clone().select(
            1,
            Tensor::<1, Int>::from_data(TensorData::new(index, [n_orb]), device),
        );
        if deriv == 0 {
            picked
        } else {
            picked * Tensor::<2>::from_data(TensorData::new(coef, [1, n_orb]), device)
        }
    }
}
