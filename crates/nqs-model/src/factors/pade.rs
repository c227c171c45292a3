//! Padé–Jastrow factor exp(Σ_{i<j} a_ij r_ij / (1 + β_ij r_ij)) (PHYSICS.md §4).
//!
//! a_ij is fixed by the electron–electron cusp: 1/(d−1) for antiparallel spins and
//! 1/(d+1) for parallel spins (2D: 1 and 1/3; 3D: 1/2 and 1/4). β is variational, one per
//! spin-pair type, kept positive as β = softplus(b) so that 1 + βr never vanishes.
//! u' = a/(1+βr)², u'' = −2aβ/(1+βr)³.

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::derivatives::LogPsi;
use crate::dual::{Dual, Number};
use crate::init::param1;
use crate::pairs::{Pairs, no_pairs, pair_indices};
use crate::{Geometry, ModelError, Order, rows_of};

/// Configuration of the Padé–Jastrow factor.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PadeJastrowConfig {
    /// Initial β for parallel-spin pairs (> 0).
    #[serde(default = "default_beta")]
    pub beta_parallel: f64,
    /// Initial β for antiparallel-spin pairs (> 0).
    #[serde(default = "default_beta")]
    pub beta_antiparallel: f64,
}

fn default_beta() -> f64 {
    0.5
}

impl Default for PadeJastrowConfig {
    fn default() -> Self {
        Self {
            beta_parallel: default_beta(),
            beta_antiparallel: default_beta(),
        }
    }
}

/// Padé–Jastrow factor.
#[derive(Module, Debug)]
pub struct PadeJastrow {
    /// b with β = softplus(b): `[2]` = (parallel, antiparallel).
    pub beta_raw: Param<Tensor<1>>,
    #[module(skip)]
    geometry: Geometry,
}

impl PadeJastrowConfig {
    /// Build the factor (`index`: position in the factor list, for error messages).
    pub fn init(
        &self,
        geometry: Geometry,
        index: usize,
        device: &Device,
    ) -> Result<PadeJastrow, ModelError> {
        let mut raw = [0.0; 2];
        for (slot, (field, beta)) in [
            ("beta_parallel", self.beta_parallel),
            ("beta_antiparallel", self.beta_antiparallel),
        ]
        .into_iter()
        .enumerate()
        {
            if !(beta > 0.0 && beta.is_finite()) {
                return Err(ModelError::InvalidFactor {
                    index,
                    field,
                    value: beta.to_string(),
                    reason: "must be a positive number".into(),
                });
            }
            raw[slot] = inverse_softplus(beta);
        }
        if geometry.dimensions < 2 {
            return Err(ModelError::InvalidFactor {
                index,
                field: "kind",
                value: "pade_jastrow".into(),
                reason: "the Coulomb cusp a = 1/(d−1) needs d ≥ 2".into(),
            });
        }
        Ok(PadeJastrow {
            beta_raw: param1(&raw, device),
            geometry,
        })
    }
}

fn inverse_softplus(y: f64) -> f64 {
    if y > 30.0 { y } else { y.exp_m1().ln() }
}

/// u(r) = a r/(1 + βr), the pair function, over f64 or over [`crate::dual::Dual`] numbers
/// (β the variable: u with ∂u/∂β, by forward mode; `host_pade_tangent.rs`).
#[inline(always)]
pub(crate) fn pade_u<T: Number>(r: f64, a: f64, beta: T) -> T
where
    f64: std::ops::Div<T, Output = T>,
{
    a * r / (beta * r + 1.0)
}

/// u(r₁) + … + u(r₄) of four pairs with the same β as one fraction: with n = a r and
/// D = βr + 1, n₁/D₁ + n₂/D₂ = (n₁D₂ + n₂D₁)/(D₁D₂) =: p/Q and p/Q + p′/Q′ =
/// (pQ′ + p′Q)/(QQ′), one division where [`pade_u`] takes four (every term is positive: no
/// cancellation). Over f64 or [`crate::dual::Dual`] numbers, as [`pade_u`].
#[inline(always)]
pub(crate) fn pade_u4<T: Number>(r: [f64; 4], a: [f64; 4], beta: T) -> T
where
    f64: std::ops::Div<T, Output = T>,
{
    let (d0, d1) = (beta * r[0] + 1.0, beta * r[1] + 1.0);
    let (d2, d3) = (beta * r[2] + 1.0, beta * r[3] + 1.0);
    let (p, q) = (d1 * (a[0] * r[0]) + d0 * (a[1] * r[1]), d0 * d1);
    let (p2, q2) = (d3 * (a[2] * r[2]) + d2 * (a[3] * r[3]), d2 * d3);
    (p * q2 + p2 * q) / (q * q2)
}

impl PadeJastrow {
    /// Current (β_parallel, β_antiparallel).
    pub fn betas(&self) -> Tensor<1> {
        crate::softplus(self.beta_raw.val())
    }

    /// Per pair (i, j): the cusp a (1/(d + 1) for parallel spins, 1/(d − 1) antiparallel)
    /// and the β it takes (0 parallel, 1 antiparallel).
    pub(crate) fn pair_kinds(&self) -> Vec<(usize, usize, f64, usize)> {
        let g = self.geometry;
        let d = g.dimensions as f64;
        pair_indices(g.n_particles)
            .into_iter()
            .map(|(i, j)| {
                if g.is_up(i) == g.is_up(j) {
                    (i, j, 1.0 / (d + 1.0), 0)
                } else {
                    (i, j, 1.0 / (d - 1.0), 1)
                }
            })
            .collect()
    }

    /// The pairs (i, j, a_ij, β_ij) with β read on the host, when β is an untracked flex
    /// f64 tensor (the host passes' parameters).
    pub(crate) fn host_pairs(&self) -> Option<Vec<(usize, usize, f64, f64)>> {
        self.host_pairs_with(self.betas())
    }

    /// [`Self::host_pairs`] with (β∥, β⊥) already computed.
    fn host_pairs_with(&self, betas: Tensor<1>) -> Option<Vec<(usize, usize, f64, f64)>> {
        let betas = crate::host_tanh::host_values(betas)?;
        Some(
            self.pair_kinds()
                .into_iter()
                .map(|(i, j, a, kind)| (i, j, a, betas[kind]))
                .collect(),
        )
    }

    /// [`Self::forward`] through the host jet, with Σ_{i<j} 1/r_ij per walker (`[walkers]`),
    /// which the jet computes on the way (a Coulomb sum of unit charges): `None` where the
    /// host jet does not apply (walkers or β not untracked flex f64, a periodic cell, fewer
    /// than two particles).
    ///
    /// # Shapes
    /// - x: `[walkers, N·d]`
    pub fn forward_with_inverse_distance_sum(
        &self,
        x: &Tensor<2>,
        order: Order,
    ) -> Option<(LogPsi, Tensor<1>)> {
        if self.geometry.n_particles < 2 {
            return None;
        }
        let pairs = self.host_pairs()?;
        let (jet, sum) =
            crate::host_pade::pade_jet_and_inverse_sum(x, &self.geometry, &pairs, order, true)?;
        Some((jet, sum?))
    }

    /// The value pass with the parameters b on autodiff (the gradient passes; β = softplus(b))
    /// and the walkers untracked on flex f64 in open space: Σ u per walker with ∂/∂b₀ and
    /// ∂/∂b₁ from one host pass in forward mode (`host_pade_tangent.rs`), handed to burn as
    /// the first-order op y = f + D·(b − b̄) (D = ∂f/∂b per walker, b̄ b's value as a
    /// constant: y is f and autodiff sees ∂y/∂b = D); `None` elsewhere.
    ///
    /// # Shapes
    /// - x: `[walkers, N·d]` → `[walkers]`
    fn value_with_beta_tangents(&self, x: &Tensor<2>) -> Option<Tensor<1>> {
        let raw = self.beta_raw.val();
        if !raw.is_autodiff() || !crate::host_tanh::on_flex_f64(&raw) {
            return None;
        }
        let constant = raw.clone().inner();
        // β = softplus(b) and dβ/db from the softplus pass's own kernel: the variables of the
        // forward-mode pass are β with tangent dβ/db, so its tangents are ∂f/∂b and burn
        // records no softplus op.
        let mut betas = crate::host_values(constant.clone())?;
        let mut slopes = vec![0.0; 2];
        crate::host_softplus::softplus_values(&mut betas, &mut slopes);
        let pairs = self.pair_kinds();
        let variables = [0, 1].map(|k| Dual {
            value: betas[k],
            tangent: slopes[k],
        });
        let (value, tangents) = crate::host_pade_tangent::value_and_beta_tangents(
            x,
            &self.geometry,
            &pairs,
            variables,
        )?;
        let [w, _] = x.dims();
        let device = constant.device();
        let value = Tensor::<1>::from_data(TensorData::new(value, [w]), &device);
        let tangents = Tensor::<2>::from_data(TensorData::new(tangents, [w, 2]), &device);
        let first_order = tangents.matmul((raw - constant).reshape([2, 1]));
        Some(value + first_order.reshape([w]))
    }

    /// # Shapes
    /// - x: `[walkers, N·d]`
    pub fn forward(&self, x: &Tensor<2>, order: Order) -> LogPsi {
        if self.geometry.n_particles < 2 {
            return no_pairs(x, order);
        }
        // β on autodiff (the gradient passes): the value with its tangents in one host pass.
        if !order.gradient()
            && let Some(value) = self.value_with_beta_tangents(x)
        {
            return LogPsi {
                value,
                grad: None,
                lap: None,
            };
        }
        let betas = self.betas();
        // Walkers and β on the host (local energies, drifts): the jet in one host pass.
        if let Some(jet) = self
            .host_pairs_with(betas.clone())
            .and_then(|pairs| crate::host_pade::pade_jet(x, &self.geometry, &pairs, order))
        {
            return jet;
        }
        let d = self.geometry.dimensions as f64;
        let device = x.device();
        // The cusps a as a row, and β per pair as (β∥, β⊥) times the one-hot [2, P] choice.
        let kinds = self.pair_kinds();
        let n_pairs = kinds.len();
        let a: Vec<f64> = kinds.iter().map(|&(_, _, a, _)| a).collect();
        let choice = (0..2)
            .flat_map(|k| {
                kinds
                    .iter()
                    .map(move |&(.., kind)| f64::from(u8::from(kind == k)))
            })
            .collect();
        let choice = Tensor::<2>::from_data(TensorData::new(choice, [2, n_pairs]), &device);
        let beta = betas.reshape([1, 2]).matmul(choice); // [1, P]
        let pairs = Pairs::new(x, &self.geometry);
        let a = Tensor::<2>::from_data(TensorData::new(a, [1, n_pairs]), &device);
        let r = pairs.r(); // [w, P]
        let denom = (r.clone() * rows_of(beta.clone(), r.dims()[0])).add_scalar(1.0); // 1 + βr
        let mut u = a.clone() * r.clone() / denom.clone();
        if let Some(cell) = self.geometry.cell {
            // In a cell the pair cutoff multiplies u by f(r), which falls to 0 at r_c = L/2
            // (`pairs.rs`). u itself rises to a r_c/(1 + β r_c) there, so u·f would rise and
            // then fall: a Jastrow that pulls electrons together beyond its peak (at β = 0.5
            // the N = 14 gas at r_s = 5 started at −0.28 against Hartree–Fock's −0.81).
            // (u − u(r_c))·f rises monotonically to 0 instead; the shift is a constant per
            // pair kind, so c and the Laplacian before the cutoff are unchanged.
            let r_c = cell / 2.0;
            let at_cutoff = a.clone() * r_c / (beta.clone() * r_c).add_scalar(1.0);
            u = u - rows_of(at_cutoff, r.dims()[0]);
        }
        let (c, lap) = if order.gradient() {
            let du = a.clone() / denom.clone().square();
            let c = du.clone() / r.clone();
            let lap = order.laplacian().then(|| {
                // powi_scalar costs 45× a product on flex (docs/performance.md).
                let d2u = a * beta * (-2.0) / (denom.clone() * denom.clone().square());
                d2u + c.clone() * (d - 1.0)
            });
            (Some(c), lap)
        } else {
            (None, None)
        };
        pairs.aggregate(u, c, lap, order)
    }
}
