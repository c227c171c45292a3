//! Slater determinant det↑ · det↓ of Hermite-function orbitals (PHYSICS.md §4).
//!
//! φ_n(x) = H_n(√(αω) x) e^{−αω x²/2}, a product over dimensions, filled shell by shell.
//! The Gaussian is common to every orbital of a row, so
//! log|ψ_S| = log|det P↑| + log|det P↓| − (αω/2) Σ_i r_i², with P_ij = Π_a H_{n_ja}(√(αω) x_ia).
//! Row i of P depends only on particle i, so the forward Laplacian of log|det P| collapses to
//! per-row terms: ∂_{ia} log|det P| = Σ_j ∂_a P_ij (P⁻¹)_ji and
//! ∇² log|det P| = Σ_{i,a} [ Σ_j ∂_a² P_ij (P⁻¹)_ji − (∂_{ia} log|det P|)² ].

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::derivatives::LogPsi;
use crate::{Geometry, ModelError, Order, gauss_jordan, init::param1, shell_quantum_numbers};

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

        // Hermite polynomials H_0..H_nmax at ξ = q x: list of [w·n, d].
        let xi = x.clone().reshape([w * n, d]) * q.clone().unsqueeze::<2>();
        let mut h = vec![Tensor::<2>::ones([w * n, d], &device)];
        if n_max >= 1 {
            h.push(xi.clone() * 2.0);
        }
        for k in 1..n_max {
            let next = xi.clone() * h[k].clone() * 2.0 - h[k - 1].clone() * (2.0 * k as f64);
            h.push(next);
        }
        let h = Tensor::stack::<3>(h, 2); // [w·n, d, n_max+1]

        // Per dimension a: H_{n_ja}, ∂H, ∂²H (∂ with respect to ξ) selected into [w·n, n_orb].
        let mut value_a = Vec::with_capacity(d);
        let mut d1_a = Vec::with_capacity(d);
        let mut d2_a = Vec::with_capacity(d);
        for a in 0..d {
            let ha = h.clone().narrow(1, a, 1).reshape([w * n, n_max + 1]);
            value_a.push(ha.clone().matmul(self.selection(a, 0, n_max, &device)));
            if order.gradient() {
                d1_a.push(ha.clone().matmul(self.selection(a, 1, n_max, &device)));
            }
            if order.laplacian() {
                d2_a.push(ha.matmul(self.selection(a, 2, n_max, &device)));
            }
        }
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
        let blocks = |m: Tensor<2>| -> Tensor<3> {
            // [w·n, n_orb] → [2w, n_orb, n_orb]: spin-up blocks first, then spin-down.
            let m = m.reshape([w, n, n_orb]);
            Tensor::cat(
                vec![
                    m.clone().narrow(1, 0, g.n_up),
                    m.narrow(1, g.n_up, g.n_down()),
                ],
                0,
            )
        };
        let det = gauss_jordan(blocks(p), order.gradient());
        let log_det = det.log_abs.clone().reshape([2, w]).sum_dim(0).reshape([w]);
        let sign = det.sign.reshape([2, w]).prod_dim(0).reshape([w]);
        let r2 = x.clone().square().sum_dim(1).reshape([w]);
        let value = log_det - r2 * alpha_omega.clone() * 0.5;

        let (grad, lap) = if let Some(inv) = det.inverse {
            let inv_t = inv.swap_dims(1, 2); // (P⁻¹)ᵀ: inv_t[i, j] = (P⁻¹)_ji
            let mut grads = Vec::with_capacity(d);
            let mut lap_det: Option<Tensor<1>> = None;
            for a in 0..d {
                let others = product_except(a);
                let times_others = |t: Tensor<2>| match &others {
                    Some(o) => t * o.clone(),
                    None => t,
                };
                let dp = times_others(d1_a[a].clone()) * q.clone().unsqueeze::<2>();
                let g_a = (blocks(dp) * inv_t.clone()).sum_dim(2); // [2w, n_orb, 1]
                if order.laplacian() {
                    let d2p = times_others(d2_a[a].clone()) * alpha_omega.clone().unsqueeze::<2>();
                    let term = (blocks(d2p) * inv_t.clone()).sum_dim(2) - g_a.clone().square();
                    let term = term
                        .reshape([2, w, n_orb])
                        .sum_dim(2)
                        .sum_dim(0)
                        .reshape([w]);
                    lap_det = Some(match lap_det {
                        Some(l) => l + term,
                        None => term,
                    });
                }
                grads.push(g_a);
            }
            // [2w, n_orb, d] → [w, n, d] (up particles first) → [w, n·d]
            let g = Tensor::cat(grads, 2).reshape([2, w, n_orb, d]);
            let g = Tensor::cat(
                vec![
                    g.clone().narrow(0, 0, 1).reshape([w, n_orb, d]),
                    g.narrow(0, 1, 1).reshape([w, n_orb, d]),
                ],
                1,
            )
            .reshape([w, n * d]);
            let grad = g - x.clone() * alpha_omega.clone().unsqueeze::<2>();
            let lap = lap_det.map(|l| l - alpha_omega.clone() * (n * d) as f64);
            (Some(grad), lap)
        } else {
            (None, None)
        };
        (LogPsi { value, grad, lap }, sign)
    }

    /// `[n_max+1, n_orb]` matrix taking H_0..H_nmax to the `deriv`-th ξ-derivative of
    /// H_{n_ja}: H' = 2n H_{n−1}, H'' = 4n(n−1) H_{n−2}.
    fn selection(&self, a: usize, deriv: usize, n_max: usize, device: &Device) -> Tensor<2> {
        let n_orb = self.orbitals.len();
        let mut s = vec![0.0; (n_max + 1) * n_orb];
        for (j, qn) in self.orbitals.iter().enumerate() {
            let k = qn[a];
            let (row, coef) = match deriv {
                0 => (Some(k), 1.0),
                1 => (k.checked_sub(1), 2.0 * k as f64),
                _ => (k.checked_sub(2), 4.0 * (k * k.saturating_sub(1)) as f64),
            };
            if let Some(row) = row {
                s[row * n_orb + j] = coef;
            }
        }
        Tensor::from_data(TensorData::new(s, [n_max + 1, n_orb]), device)
    }
}
