//! Restricted Boltzmann machines as burn modules, in the seed talk's notation: visible bias a,
//! hidden bias b, weights W, binary hidden units h ∈ {0, 1}ⁿ.
//!
//! - binary-binary: E(x, h) = −a·x − b·h − xᵀWh, x ∈ {0, 1}ᵐ;
//!   F(x) = −a·x − Σ_j softplus(b_j + (xW)_j).
//! - Gaussian-binary: E(x, h) = Σ_k (x_k − a_k)²/(2σ_k²) − b·h − Σ_kj (x_k/σ_k²) W_kj h_j;
//!   F(x) = Σ_k (x_k − a_k)²/(2σ_k²) − Σ_j softplus(b_j + Σ_k (x_k/σ_k²) W_kj),
//!   x | h ~ N(a + Wh, σ²).
//!
//! p(x) = e^{−F(x)}/Z with F(x) = −log Σ_h e^{−E(x,h)}.
//!
//! **Centering** (Montavon & Müller, LNCS 7700 (2012); Melchior, Fischer & Wiskott, JMLR 17
//! (2016)): the energy is written with offsets, E = −a·(x − μ) − b·(h − λ) − (x − μ)ᵀW(h − λ),
//! μ the data mean and λ = ½. This is the same family of distributions (the ordinary
//! biases are a − Wλ and b − μ̃ᵀW, [`Rbm::visible_bias`], [`Rbm::hidden_bias`]) but the
//! gradient no longer mixes bias and weight directions, which makes maximum-likelihood
//! training far better conditioned. Every sum, sampler and exact enumeration uses the
//! ordinary biases. For annealed importance sampling
//! the hidden coupling is scaled by an inverse temperature β ∈ [0, 1]:
//! E_β(x, h) = E_visible(x) − β(b·h + x̃ᵀWh), so β = 0 is an independent model with a known
//! partition function and β = 1 is the machine itself.

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use nqs_model::{sigmoid, softplus};
use nqs_sampler::{BlockGibbs, Noise, bernoulli};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::BoltzmannError;

/// The visible units.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum VisibleUnits {
    /// x ∈ {0, 1} (data in ±1 are mapped by x = (s + 1)/2).
    Binary,
    /// Real x with Gaussian conditionals of width σ (one per visible unit).
    Gaussian {
        /// Initial (or fixed) width σ of every visible unit.
        #[serde(default = "one")]
        sigma: f64,
        /// Learn log σ_k with the other parameters.
        #[serde(default)]
        learn_sigma: bool,
    },
}

fn one() -> f64 {
    1.0
}

/// Configuration of a generative RBM.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RbmConfig {
    /// Number of hidden units.
    pub hidden: usize,
    /// Visible units.
    #[serde(default = "binary")]
    pub visible: VisibleUnits,
    /// Standard deviation of the initial weights (biases start at zero).
    #[serde(default = "default_init_std")]
    pub init_std: f64,
    /// Centre the energy on the data mean μ and on λ = ½ for the hidden units.
    #[serde(default = "yes")]
    pub centering: bool,
}

fn yes() -> bool {
    true
}

fn binary() -> VisibleUnits {
    VisibleUnits::Binary
}
fn default_init_std() -> f64 {
    0.01
}

/// A restricted Boltzmann machine.
#[derive(Module, Debug)]
pub struct Rbm {
    /// Visible bias a, `[n_visible]`.
    pub a: Param<Tensor<1>>,
    /// Hidden bias b, `[n_hidden]`.
    pub b: Param<Tensor<1>>,
    /// Weights W, `[n_visible, n_hidden]`.
    pub w: Param<Tensor<2>>,
    /// log σ of Gaussian visible units, `[n_visible]` (absent for binary units; fixed σ is
    /// a parameter that does not require a gradient).
    pub log_sigma: Option<Param<Tensor<1>>>,
    /// Visible offset μ (the data mean, or 0 without centering), `[n_visible]`, fixed.
    pub visible_offset: Param<Tensor<1>>,
    /// Hidden offset λ (½, or 0 without centering), `[n_hidden]`, fixed.
    pub hidden_offset: Param<Tensor<1>>,
}

impl RbmConfig {
    /// Check the configuration (`field` names as in the config file, under `model`).
    pub fn validate(&self) -> Result<(), BoltzmannError> {
        if self.hidden == 0 {
            return Err(BoltzmannError::invalid("model.hidden", 0, "at least 1"));
        }
        if !(self.init_std >= 0.0 && self.init_std.is_finite()) {
            return Err(BoltzmannError::invalid(
                "model.init_std",
                self.init_std,
                "a finite number ≥ 0",
            ));
        }
        if let VisibleUnits::Gaussian { sigma, .. } = self.visible
            && !(sigma > 0.0 && sigma.is_finite())
        {
            return Err(BoltzmannError::invalid(
                "model.visible.sigma",
                sigma,
                "a finite number > 0",
            ));
        }
        Ok(())
    }

    /// A machine with `n_visible` visible units: weights N(0, init_std²) from `seed`,
    /// biases zero, centred on `data_mean` (per visible unit) when `centering` is on.
    pub fn init(
        &self,
        data_mean: &[f64],
        seed: u64,
        device: &Device,
    ) -> Result<Rbm, BoltzmannError> {
        let n_visible = data_mean.len();
        self.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = n_visible * self.hidden;
        let weights: Vec<f64> = (0..n)
            .map(|_| {
                // Box–Muller keeps this free of a distribution crate.
                let (u1, u2): (f64, f64) = (rng.random::<f64>().max(1e-300), rng.random());
                (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos() * self.init_std
            })
            .collect();
        let w = Tensor::from_data(TensorData::new(weights, [n_visible, self.hidden]), device);
        let log_sigma = match self.visible {
            VisibleUnits::Binary => None,
            VisibleUnits::Gaussian { sigma, learn_sigma } => {
                let p = Param::from_tensor(Tensor::full([n_visible], sigma.ln(), device));
                Some(if learn_sigma {
                    p
                } else {
                    p.set_require_grad(false)
                })
            }
        };
        let (mu, lambda) = if self.centering {
            (data_mean.to_vec(), 0.5)
        } else {
            (vec![0.0; n_visible], 0.0)
        };
        let fixed = |t: Tensor<1>| Param::from_tensor(t).set_require_grad(false);
        Ok(Rbm {
            a: Param::from_tensor(Tensor::zeros([n_visible], device)),
            b: Param::from_tensor(Tensor::zeros([self.hidden], device)),
            w: Param::from_tensor(w),
            log_sigma,
            visible_offset: fixed(Tensor::from_data(TensorData::new(mu, [n_visible]), device)),
            hidden_offset: fixed(Tensor::full([self.hidden], lambda, device)),
        })
    }
}

impl Rbm {
    /// Number of visible units.
    pub fn n_visible(&self) -> usize {
        self.a.dims()[0]
    }

    /// Number of hidden units.
    pub fn n_hidden(&self) -> usize {
        self.b.dims()[0]
    }

    /// Whether the visible units are binary.
    pub fn is_binary(&self) -> bool {
        self.log_sigma.is_none()
    }

    /// The ordinary visible bias a − Wλ, `[n_visible]`.
    pub fn visible_bias(&self) -> Tensor<1> {
        let m = self.n_visible();
        self.a.val()
            - self
                .w
                .val()
                .matmul(self.hidden_offset.val().unsqueeze_dim::<2>(1))
                .reshape([m])
    }

    /// The ordinary hidden bias b − μ̃ᵀW (μ̃ = μ, or μ/σ² for Gaussian units), `[n_hidden]`.
    pub fn hidden_bias(&self) -> Tensor<1> {
        let n = self.n_hidden();
        let mu = self.visible_offset.val().unsqueeze::<2>();
        let mu = match self.sigma2() {
            None => mu,
            Some(s2) => mu / s2,
        };
        self.b.val() - mu.matmul(self.w.val()).reshape([n])
    }

    /// σ² per visible unit, `[1, n_visible]` (Gaussian units only).
    fn sigma2(&self) -> Option<Tensor<2>> {
        self.log_sigma
            .as_ref()
            .map(|s| (s.val() * 2.0).exp().unsqueeze::<2>())
    }

    /// The energy of the visible units alone, `[rows]`: −a·x, or Σ (x − a)²/(2σ²).
    pub fn visible_energy(&self, x: &Tensor<2>) -> Tensor<1> {
        let a = self.visible_bias().unsqueeze::<2>();
        let rows = x.dims()[0];
        let e = match self.sigma2() {
            None => (x.clone() * a).sum_dim(1).neg(),
            Some(s2) => ((x.clone() - a).square() / s2 * 0.5).sum_dim(1),
        };
        e.reshape([rows])
    }

    /// The input to the hidden units, b + x̃W with x̃ = x (binary) or x/σ², `[rows, n_hidden]`.
    pub fn hidden_field(&self, x: &Tensor<2>) -> Tensor<2> {
        let scaled = match self.sigma2() {
            None => x.clone(),
            Some(s2) => x.clone() / s2,
        };
        scaled.matmul(self.w.val()) + self.hidden_bias().unsqueeze::<2>()
    }

    /// Free energy F_β(x) = E_visible(x) − Σ_j softplus(β(b + x̃W)_j), `[rows]`
    /// (β = 1: the machine's free energy, p(x) = e^{−F(x)}/Z).
    pub fn free_energy_at(&self, x: &Tensor<2>, beta: f64) -> Tensor<1> {
        let rows = x.dims()[0];
        let hidden = softplus(self.hidden_field(x) * beta)
            .sum_dim(1)
            .reshape([rows]);
        self.visible_energy(x) - hidden
    }

    /// Free energy F(x), `[rows]`.
    pub fn free_energy(&self, x: &Tensor<2>) -> Tensor<1> {
        self.free_energy_at(x, 1.0)
    }

    /// p(h_j = 1 | x) at inverse temperature β, `[rows, n_hidden]`.
    pub fn hidden_probabilities_at(&self, x: &Tensor<2>, beta: f64) -> Tensor<2> {
        sigmoid(self.hidden_field(x) * beta)
    }

    /// One draw of x | h at inverse temperature β: Bernoulli(sigmoid(a + βWh)) or
    /// N(a + βWh, σ²), `[rows, n_visible]`.
    pub fn sample_visible_at(&self, h: &Tensor<2>, beta: f64, noise: &mut dyn Noise) -> Tensor<2> {
        let drive = h.clone().matmul(self.w.val().transpose()) * beta
            + self.visible_bias().unsqueeze::<2>();
        match self.sigma2() {
            None => bernoulli(sigmoid(drive), noise),
            Some(s2) => {
                let [rows, cols] = drive.dims();
                drive + noise.normal(rows, cols, &h.device()) * s2.sqrt()
            }
        }
    }

    /// log Z of the β = 0 model: Σ_k softplus(a_k) + n_h log 2 (binary), or
    /// Σ_k ½ log(2πσ_k²) + n_h log 2 (Gaussian).
    pub fn log_partition_base(&self) -> f64 {
        let hidden = self.n_hidden() as f64 * std::f64::consts::LN_2;
        let visible: Tensor<1> = match &self.log_sigma {
            None => softplus(self.visible_bias()),
            Some(s) => s.val() + 0.5 * (std::f64::consts::TAU).ln(),
        };
        visible.sum().into_scalar::<f64>() + hidden
    }

    /// The machine at inverse temperature β, for block Gibbs sampling.
    pub fn at(&self, beta: f64) -> Annealed<'_> {
        Annealed { rbm: self, beta }
    }
}

/// An RBM with its hidden coupling scaled by β (β = 1: the machine itself).
#[derive(Debug, Clone, Copy)]
pub struct Annealed<'a> {
    /// The machine.
    pub rbm: &'a Rbm,
    /// Inverse temperature of the hidden coupling.
    pub beta: f64,
}

impl BlockGibbs for Annealed<'_> {
    fn hidden_probabilities(&self, x: &Tensor<2>) -> Tensor<2> {
        self.rbm.hidden_probabilities_at(x, self.beta)
    }

    fn sample_visible(&self, h: &Tensor<2>, noise: &mut dyn Noise) -> Tensor<2> {
        self.rbm.sample_visible_at(h, self.beta, noise)
    }
}

impl BlockGibbs for Rbm {
    fn hidden_probabilities(&self, x: &Tensor<2>) -> Tensor<2> {
        self.hidden_probabilities_at(x, 1.0)
    }

    fn sample_visible(&self, h: &Tensor<2>, noise: &mut dyn Noise) -> Tensor<2> {
        self.sample_visible_at(h, 1.0, noise)
    }
}
