//! Exact sums over the states of a small RBM, on the host in f64: log Z by enumerating the
//! smaller layer (binary visible units) or the hidden layer (Gaussian visible units, whose
//! integral is Gaussian), and log p(x) of every visible state.
//!
//! States are enumerated in Gray-code order, so each step changes one unit and updates the
//! field on the other layer by one row of W: O(2ⁿ·m) instead of O(2ⁿ·n·m).

use burn::tensor::Tensor;

use crate::{BoltzmannError, Rbm};

/// The largest layer enumerated exactly (2²⁴ ≈ 1.7·10⁷ states).
pub const MAX_ENUMERATED_UNITS: usize = 24;

/// A host copy of an RBM's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct HostRbm {
    /// Visible bias a.
    pub a: Vec<f64>,
    /// Hidden bias b.
    pub b: Vec<f64>,
    /// Weights W, row-major `[n_visible, n_hidden]`.
    pub w: Vec<f64>,
    /// σ of Gaussian visible units (None: binary).
    pub sigma: Option<Vec<f64>>,
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .expect("converted tensor data is f64")
}

/// log Σ exp(v), accumulated in one pass with a running maximum.
#[derive(Debug, Clone, Copy)]
pub struct LogSumExp {
    max: f64,
    sum: f64,
}

impl Default for LogSumExp {
    fn default() -> Self {
        Self {
            max: f64::NEG_INFINITY,
            sum: 0.0,
        }
    }
}

impl LogSumExp {
    /// Add exp(v).
    pub fn add(&mut self, v: f64) {
        if v > self.max {
            self.sum = self.sum * (self.max - v).exp() + 1.0;
            self.max = v;
        } else {
            self.sum += (v - self.max).exp();
        }
    }

    /// log of the sum so far.
    pub fn value(&self) -> f64 {
        self.max + self.sum.ln()
    }
}

/// log(1 + eᶻ) without overflow.
pub fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

/// Visit every state of `n` binary units in Gray-code order: `visit(index, flipped, on)`
/// after unit `flipped` changed to `on` (the first call is the all-zero state, with
/// `flipped = None`). `index` is the state's binary number (unit k is bit k).
fn gray_walk(n: usize, mut visit: impl FnMut(usize, Option<(usize, bool)>)) {
    visit(0, None);
    let mut state = 0usize;
    for i in 1..(1usize << n) {
        let k = i.trailing_zeros() as usize;
        state ^= 1 << k;
        visit(state, Some((k, state & (1 << k) != 0)));
    }
}

impl HostRbm {
    /// Copy the parameters of `rbm` to the host (as ordinary, uncentred biases).
    pub fn from_rbm(rbm: &Rbm) -> Self {
        Self {
            a: host(rbm.visible_bias()),
            b: host(rbm.hidden_bias()),
            w: host(rbm.w.val()).to_vec(),
            sigma: rbm
                .log_sigma
                .as_ref()
                .map(|s| host(s.val()).into_iter().map(f64::exp).collect()),
        }
    }

    /// Number of visible units.
    pub fn n_visible(&self) -> usize {
        self.a.len()
    }

    /// Number of hidden units.
    pub fn n_hidden(&self) -> usize {
        self.b.len()
    }

    /// F(x) = E_visible(x) − Σ_j softplus(b_j + (x̃W)_j).
    pub fn free_energy(&self, x: &[f64]) -> f64 {
        let (m, n) = (self.n_visible(), self.n_hidden());
        let mut field = self.b.clone();
        let mut visible = 0.0;
        for k in 0..m {
            let xt = match &self.sigma {
                None => {
                    visible -= self.a[k] * x[k];
                    x[k]
                }
                Some(s) => {
                    visible += (x[k] - self.a[k]).powi(2) / (2.0 * s[k] * s[k]);
                    x[k] / (s[k] * s[k])
                }
            };
            for j in 0..n {
                field[j] += xt * self.w[k * n + j];
            }
        }
        visible - field.iter().map(|&z| softplus(z)).sum::<f64>()
    }

    /// Exact log Z, enumerating the smaller layer (the hidden one for Gaussian units).
    pub fn log_partition(&self) -> Result<f64, BoltzmannError> {
        let (m, n) = (self.n_visible(), self.n_hidden());
        let over_hidden = self.sigma.is_some() || n <= m;
        let layer = if over_hidden { n } else { m };
        if layer > MAX_ENUMERATED_UNITS {
            return Err(BoltzmannError::TooLarge(format!(
                "exact log Z needs 2^{layer} terms (at most 2^{MAX_ENUMERATED_UNITS}): use AIS (evaluation.log_z = \"ais\")"
            )));
        }
        Ok(if over_hidden {
            self.log_partition_over_hidden()
        } else {
            let mut acc = LogSumExp::default();
            self.visit_visible_states(|_, f| acc.add(-f));
            acc.value()
        })
    }

    /// log Z = log Σ_h e^{b·h} ∫/Σ_x e^{−E_visible(x) + x̃·(Wh)}.
    fn log_partition_over_hidden(&self) -> f64 {
        let (m, n) = (self.n_visible(), self.n_hidden());
        let mut drive = vec![0.0; m]; // (Wh)_k
        let mut bias = 0.0; // b·h
        let mut acc = LogSumExp::default();
        gray_walk(n, |_, flip| {
            if let Some((j, on)) = flip {
                let sign = if on { 1.0 } else { -1.0 };
                bias += sign * self.b[j];
                for k in 0..m {
                    drive[k] += sign * self.w[k * n + j];
                }
            }
            let visible: f64 = match &self.sigma {
                None => (0..m).map(|k| softplus(self.a[k] + drive[k])).sum(),
                Some(s) => (0..m)
                    .map(|k| {
                        let s2 = s[k] * s[k];
                        0.5 * (std::f64::consts::TAU * s2).ln()
                            + ((self.a[k] + drive[k]).powi(2) - self.a[k].powi(2)) / (2.0 * s2)
                    })
                    .sum(),
            };
            acc.add(bias + visible);
        });
        acc.value()
    }

    /// Call `visit(index, F(x))` for every binary visible state (Gray-code order).
    fn visit_visible_states(&self, mut visit: impl FnMut(usize, f64)) {
        let (m, n) = (self.n_visible(), self.n_hidden());
        let mut field = self.b.clone();
        let mut linear = 0.0; // a·x
        gray_walk(m, |index, flip| {
            if let Some((k, on)) = flip {
                let sign = if on { 1.0 } else { -1.0 };
                linear += sign * self.a[k];
                for j in 0..n {
                    field[j] += sign * self.w[k * n + j];
                }
            }
            let f = -linear - field.iter().map(|&z| softplus(z)).sum::<f64>();
            visit(index, f);
        });
    }

    /// log p(x) of every visible state x (index: unit k is bit k), binary units only.
    pub fn log_probabilities(&self) -> Result<Vec<f64>, BoltzmannError> {
        let m = self.n_visible();
        if self.sigma.is_some() {
            return Err(BoltzmannError::TooLarge(
                "visible states of Gaussian units cannot be enumerated".into(),
            ));
        }
        if m > MAX_ENUMERATED_UNITS {
            return Err(BoltzmannError::TooLarge(format!(
                "p(x) of every visible state needs 2^{m} states (at most 2^{MAX_ENUMERATED_UNITS})"
            )));
        }
        let mut out = vec![0.0; 1 << m];
        let mut acc = LogSumExp::default();
        self.visit_visible_states(|index, f| {
            out[index] = -f;
            acc.add(-f);
        });
        let log_z = acc.value();
        out.iter_mut().for_each(|v| *v -= log_z);
        Ok(out)
    }
}

/// The bits of state `index` as 0/1 values (unit k is bit k).
pub fn state_bits(index: usize, n: usize) -> Vec<f64> {
    (0..n).map(|k| ((index >> k) & 1) as f64).collect()
}

/// The state index of a 0/1 row (unit k is bit k).
pub fn state_index(row: &[f64]) -> usize {
    row.iter()
        .enumerate()
        .fold(0, |acc, (k, &v)| acc | (usize::from(v > 0.5) << k))
}

/// KL(p ‖ q) = Σ p log(p/q) in nats, for p given as probabilities and q as log-probabilities.
pub fn kl_divergence(p: &[f64], log_q: &[f64]) -> f64 {
    p.iter()
        .zip(log_q)
        .filter(|(p, _)| **p > 0.0)
        .map(|(p, lq)| p * (p.ln() - lq))
        .sum()
}

/// Fidelity |⟨ψ|φ⟩|² between a normalised real amplitude ψ and φ = √q, q given as
/// log-probabilities.
pub fn fidelity(psi: &[f64], log_q: &[f64]) -> f64 {
    let overlap: f64 = psi
        .iter()
        .zip(log_q)
        .map(|(a, lq)| a * (0.5 * lq).exp())
        .sum();
    overlap * overlap
}
