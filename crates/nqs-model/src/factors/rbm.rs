//! Gaussian-binary restricted Boltzmann machine (the seed talk; PHYSICS.md §4).
//!
//! With energy E(x,h) = Σ_k (x_k − a_k)²/(2σ²) − Σ_j b_j h_j − Σ_kj x_k w_kj h_j/σ², the
//! marginal P(x) = Σ_h e^{−E} is |ψ|², so
//! log ψ = −Σ_k (x_k − a_k)²/(4σ²) + ½ Σ_j softplus(b_j + Σ_k x_k w_kj/σ²).
//!
//! `per_particle = false`: one RBM over all N·d coordinates (the seed's form; it is not
//! symmetric under particle exchange, so only valid alone or without same-spin pairs).
//! `per_particle = true`: the same small RBM over each particle's d coordinates with shared
//! weights, Σ_i log ψ_1(r_i): exchange-symmetric, so it may multiply a Slater determinant.

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::derivatives::LogPsi;
use crate::pairs::lift_one_body;
use crate::{Geometry, Jet, ModelError, Order, ParamRng};

/// Configuration of the RBM factor.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RbmConfig {
    /// Number of hidden units.
    #[serde(default = "default_hidden")]
    pub n_hidden: usize,
    /// Width σ of the visible Gaussians; default 1/√(2ω), for which the visible part
    /// exp(−x²/(4σ²)) is the oscillator ground state exp(−ωx²/2).
    #[serde(default)]
    pub sigma: Option<f64>,
    /// One shared RBM per particle (exchange-symmetric) instead of one over all coordinates.
    #[serde(default)]
    pub per_particle: bool,
    /// Standard deviation of the initial weights and biases.
    #[serde(default = "default_init_std")]
    pub init_std: f64,
}

fn default_hidden() -> usize {
    4
}
fn default_init_std() -> f64 {
    0.01
}

/// Gaussian-binary RBM factor.
#[derive(Module, Debug)]
pub struct Rbm {
    /// Visible biases a, `[n_visible]`.
    pub a: Param<Tensor<1>>,
    /// Hidden biases b, `[n_hidden]`.
    pub b: Param<Tensor<1>>,
    /// Weights w, `[n_visible, n_hidden]`.
    pub w: Param<Tensor<2>>,
    /// σ².
    pub sigma2: f64,
    /// Whether the RBM acts on each particle separately.
    pub per_particle: bool,
    #[module(skip)]
    geometry: Geometry,
}

impl RbmConfig {
    /// Build the factor with seeded initial parameters.
    pub fn init(
        &self,
        geometry: Geometry,
        omega: f64,
        index: usize,
        rng: &mut ParamRng,
        device: &Device,
    ) -> Result<Rbm, ModelError> {
        let sigma = self.sigma.unwrap_or(1.0 / (2.0 * omega).sqrt());
        if !(sigma > 0.0 && sigma.is_finite()) {
            return Err(ModelError::InvalidFactor {
                index,
                field: "sigma",
                value: sigma.to_string(),
                reason: "must be a positive number".into(),
            });
        }
        if self.n_hidden == 0 {
            return Err(ModelError::InvalidFactor {
                index,
                field: "n_hidden",
                value: "0".into(),
                reason: "needs at least one hidden unit".into(),
            });
        }
        let n_visible = if self.per_particle {
            geometry.dimensions
        } else {
            geometry.n_coords()
        };
        Ok(Rbm {
            a: rng.normal_param1(n_visible, self.init_std, device),
            b: rng.normal_param1(self.n_hidden, self.init_std, device),
            w: rng.normal_param2(n_visible, self.n_hidden, self.init_std, device),
            sigma2: sigma * sigma,
            per_particle: self.per_particle,
            geometry,
        })
    }
}

impl Rbm {
    /// # Shapes
    /// - x: `[walkers, N·d]`
    pub fn forward(&self, x: &Tensor<2>, order: Order) -> LogPsi {
        let [w, _] = x.dims();
        let rows = if self.per_particle {
            x.clone()
                .reshape([w * self.geometry.n_particles, self.geometry.dimensions])
        } else {
            x.clone()
        };
        let n_visible = rows.dims()[1];
        let s2 = self.sigma2;
        // Gaussian part: −Σ (x − a)²/(4σ²); gradient −(x − a)/(2σ²); Laplacian −n_visible/(2σ²).
        let centred = rows.clone() - crate::rows_of(self.a.val().unsqueeze::<2>(), rows.dims()[0]);
        let gauss_value = centred.clone().square().sum_dim(1) * (-0.25 / s2); // [rows, 1]
        // Hidden part: ½ Σ_j softplus(b_j + x·w_j/σ²), by forward Laplacian.
        let hidden = Jet::input(rows, n_visible, order)
            .affine(self.w.val() / s2, self.b.val())
            .softplus()
            .sum_features()
            .scale(0.5);
        let row_count = hidden.value.dims()[0];
        let jet = Jet {
            value: hidden.value + gauss_value,
            grad: hidden
                .grad
                .map(|g| g + (centred * (-0.5 / s2)).reshape([row_count, n_visible, 1])),
            lap: hidden
                .lap
                .map(|l| l.add_scalar(-0.5 * n_visible as f64 / s2)),
        };
        if self.per_particle {
            lift_one_body(jet, w, &self.geometry)
        } else {
            LogPsi {
                value: jet.value.reshape([w]),
                grad: jet.grad.map(|g| g.reshape([w, n_visible])),
                lap: jet.lap.map(|l| l.reshape([w])),
            }
        }
    }

    /// Conditional means for Gibbs sampling: p(h_j = 1 | x) = sigmoid(b_j + x·w_j/σ²),
    /// `[walkers, n_hidden]` (full RBM only).
    pub fn hidden_probabilities(&self, x: &Tensor<2>) -> Tensor<2> {
        crate::sigmoid(x.clone().matmul(self.w.val() / self.sigma2) + self.b.val().unsqueeze::<2>())
    }

    /// Mean of x given h: a + W h, `[walkers, n_visible]` (full RBM only).
    pub fn visible_mean(&self, h: &Tensor<2>) -> Tensor<2> {
        h.clone().matmul(self.w.val().transpose()) + self.a.val().unsqueeze::<2>()
    }
}
