//! Forward-Laplacian jets: a value carried with its gradient and Laplacian with respect to
//! `n_in` input coordinates of its row (PHYSICS.md §3).
//!
//! - affine y = vW + b: (vW + b, GW, LW)
//! - elementwise y = σ(v): (σ(v), σ'(v)⊙G, σ'(v)⊙L + σ''(v)⊙Σ_k G_k²)
//!
//! Rows are independent: a row is a walker (a function of all N·d coordinates), a particle of
//! a walker (one-body functions of d coordinates) or a pair (functions of one pair invariant).
//! The factors lift row derivatives to walker derivatives by the chain rule.

use burn::module::{Module, Param};
use burn::tensor::{DType, Device, Tensor, activation};

use crate::{Order, ParamRng, host_softplus, host_tanh, rows_of};

/// Value `[rows, m]` with optional gradient `[rows, n_in, m]` and Laplacian `[rows, m]`.
#[derive(Debug, Clone)]
pub struct Jet {
    /// Function values, `[rows, m]`.
    pub value: Tensor<2>,
    /// ∂value/∂input, `[rows, n_in, m]` (absent for [`Order::Value`]).
    pub grad: Option<Tensor<3>>,
    /// Σ_k ∂²value/∂input_k², `[rows, m]` (absent below [`Order::Laplacian`]).
    pub lap: Option<Tensor<2>>,
}

impl Jet {
    /// The jet of the inputs themselves. The first `n_diff` columns of `input` are the
    /// coordinates that derivatives are taken with respect to; the remaining columns are
    /// constants (e.g. spin labels).
    ///
    /// # Shapes
    /// - input: `[rows, k]`, with `n_diff <= k`
    pub fn input(input: Tensor<2>, n_diff: usize, order: Order) -> Jet {
        let [rows, k] = input.dims();
        let device = input.device();
        let grad = order.gradient().then(|| {
            let eye: Tensor<2> = Tensor::eye(k, &device).narrow(0, 0, n_diff); // [n_diff, k]
            eye.unsqueeze::<3>().expand([rows, n_diff, k])
        });
        let lap = order.laplacian().then(|| Tensor::zeros([rows, k], &device));
        Jet {
            value: input,
            grad,
            lap,
        }
    }

    /// A jet of values alone ([`Order::Value`]): the autodiff passes, where the derivatives
    /// of an activation would be computed and never used.
    pub(crate) fn values(value: Tensor<2>) -> Jet {
        Jet {
            value,
            grad: None,
            lap: None,
        }
    }

    /// y = v·W + b.
    ///
    /// # Shapes
    /// - weight: `[m, k]`, bias: `[k]` → jet of width k
    pub fn affine(self, weight: Tensor<2>, bias: Tensor<1>) -> Jet {
        let [rows, m] = self.value.dims();
        let k = weight.dims()[1];
        let value = self.value.matmul(weight.clone()) + rows_of(bias.unsqueeze::<2>(), rows);
        let grad = self.grad.map(|g| {
            let n_in = g.dims()[1];
            g.reshape([rows * n_in, m])
                .matmul(weight.clone())
                .reshape([rows, n_in, k])
        });
        let lap = self.lap.map(|l| l.matmul(weight));
        Jet { value, grad, lap }
    }

    /// y = σ(v) elementwise, given σ, σ' and σ'' evaluated at v.
    pub fn map(self, f: Tensor<2>, df: Tensor<2>, d2f: Tensor<2>) -> Jet {
        let grad_sq = match (&self.grad, &self.lap) {
            (Some(g), Some(_)) => Some(g.clone().square().sum_dim(1).squeeze_dim::<2>(1)),
            _ => None,
        };
        let lap = match (self.lap, grad_sq) {
            (Some(l), Some(gsq)) => Some(df.clone() * l + d2f * gsq),
            _ => None,
        };
        let grad = self.grad.map(|g| g * df.unsqueeze_dim::<3>(1));
        Jet {
            value: f,
            grad,
            lap,
        }
    }

    /// tanh: σ' = 1 − t², σ'' = −2t(1 − t²).
    pub fn tanh(self) -> Jet {
        self.activation(host_tanh::tanh_jet, tanh, |t, _| {
            let dt = t.clone().square().neg().add_scalar(1.0);
            let d2t = t.clone() * dt.clone() * (-2.0);
            (dt, d2t)
        })
    }

    /// softplus(v) = ln(1 + eᵛ): σ' = sigmoid(v), σ'' = s(1 − s).
    pub fn softplus(self) -> Jet {
        self.activation(host_softplus::softplus_jet, softplus, |_, v| {
            let s = sigmoid(v);
            let ds = s.clone() * s.clone().neg().add_scalar(1.0);
            (s, ds)
        })
    }

    /// The jet of an activation σ: the host pass where it applies, σ alone for a jet of
    /// values, else σ with (σ′, σ″) from `derivatives(σ(v), v)` in burn ops.
    fn activation(
        self,
        host: impl FnOnce(Jet) -> Result<Jet, Jet>,
        sigma: impl Fn(Tensor<2>) -> Tensor<2>,
        derivatives: impl FnOnce(&Tensor<2>, Tensor<2>) -> (Tensor<2>, Tensor<2>),
    ) -> Jet {
        let jet = match host(self) {
            Ok(jet) => return jet,
            Err(jet) => jet,
        };
        if jet.grad.is_none() {
            return Jet::values(sigma(jet.value));
        }
        let f = sigma(jet.value.clone());
        let (d1, d2) = derivatives(&f, jet.value.clone());
        jet.map(f, d1, d2)
    }

    /// Multiply every component by a scalar.
    pub fn scale(self, c: f64) -> Jet {
        Jet {
            value: self.value * c,
            grad: self.grad.map(|g| g * c),
            lap: self.lap.map(|l| l * c),
        }
    }

    /// Features of several jets side by side (same rows and inputs).
    pub fn cat(jets: Vec<Jet>) -> Jet {
        let grads: Option<Vec<Tensor<3>>> = jets.iter().map(|j| j.grad.clone()).collect();
        let laps: Option<Vec<Tensor<2>>> = jets.iter().map(|j| j.lap.clone()).collect();
        Jet {
            value: Tensor::cat(jets.into_iter().map(|j| j.value).collect(), 1),
            grad: grads.map(|g| Tensor::cat(g, 2)),
            lap: laps.map(|l| Tensor::cat(l, 1)),
        }
    }

    /// Sum over the feature axis: a jet of width 1.
    pub fn sum_features(self) -> Jet {
        Jet {
            value: self.value.sum_dim(1),
            grad: self.grad.map(|g| g.sum_dim(2)),
            lap: self.lap.map(|l| l.sum_dim(1)),
        }
    }
}

/// tanh: one vectorised host pass for flex f64 tensors ([`host_tanh`], with the derivative
/// attached for autodiff); burn's tanh for other f64 tensors (ndarray); otherwise
/// 2·sigmoid(2v) − 1 (flex's f32 tanh costs ~14 ns per element, its sigmoid ~7; the GPU
/// backends keep the form their tests were written against). (The form 1 − 2/(e^{2v} + 1)
/// is as fast but its autodiff backward is 0·∞ = NaN once e^{2v} overflows, which f32
/// reaches at v ≈ 44.)
pub fn tanh(v: Tensor<2>) -> Tensor<2> {
    match host_tanh::tanh(v) {
        Ok(t) => t,
        Err(v) if v.dtype() == DType::F64 => v.tanh(),
        Err(v) => (activation::sigmoid(v * 2.0) * 2.0).add_scalar(-1.0),
    }
}

/// softplus(v) = ln(1 + eᵛ): one vectorised host pass for flex f64 tensors
/// ([`host_softplus`], with the derivative attached for autodiff); burn's elsewhere.
pub fn softplus<const D: usize>(v: Tensor<D>) -> Tensor<D> {
    match host_softplus::softplus(v) {
        Ok(f) => f,
        // burn's default threshold returns v itself above 20, e^−20 ≈ 2e-9 short of
        // softplus in f64; at 40 the difference, e^−40, is below the last bit of v.
        Err(v) => {
            let threshold = if v.dtype() == DType::F64 { 40.0 } else { 20.0 };
            activation::softplus_with_threshold(v, 1.0, threshold)
        }
    }
}

/// The logistic function 1/(1 + e^{−v}). burn's default sigmoid (ndarray, the GPU backends)
/// computes in f32 whatever the dtype (burn-backend 0.22 `ActivationOps::sigmoid` casts to
/// F32: 7e-8 errors in f64); flex overrides it with an f64 one. For f64 off flex it is
/// (1 + tanh(v/2))/2 with the backend's own tanh, exact in f64.
pub fn sigmoid<const D: usize>(v: Tensor<D>) -> Tensor<D> {
    if v.dtype() == DType::F64 && v.device().without_autodiff() != Device::flex() {
        ((v * 0.5).tanh() + 1.0) * 0.5
    } else {
        activation::sigmoid(v)
    }
}

/// A dense layer y = xW + b with parameters initialised from a seeded host generator.
#[derive(Module, Debug)]
pub struct Dense {
    /// `[d_in, d_out]`
    pub weight: Param<Tensor<2>>,
    /// `[d_out]`
    pub bias: Param<Tensor<1>>,
}

impl Dense {
    /// Weights N(0, gain²/d_in), zero bias.
    pub fn new(d_in: usize, d_out: usize, gain: f64, rng: &mut ParamRng, device: &Device) -> Self {
        let std = gain / (d_in as f64).sqrt();
        Self {
            weight: rng.normal_param2(d_in, d_out, std, device),
            bias: rng.normal_param1(d_out, 0.0, device),
        }
    }

    /// Propagate a jet through the layer.
    pub fn forward(&self, jet: Jet) -> Jet {
        jet.affine(self.weight.val(), self.bias.val())
    }
}

/// A tanh multilayer perceptron `d_in → hidden… → d_out` propagating jets.
#[derive(Module, Debug)]
pub struct Mlp {
    /// Hidden layers followed by the linear output layer.
    pub layers: Vec<Dense>,
}

impl Mlp {
    /// `output_gain` scales the initial output layer (small: the factor starts near 1).
    pub fn new(
        d_in: usize,
        hidden: &[usize],
        output_gain: f64,
        rng: &mut ParamRng,
        device: &Device,
    ) -> Self {
        Self::with_outputs(d_in, hidden, 1, output_gain, rng, device)
    }

    /// `d_in → hidden… → d_out`, the output layer linear and scaled by `output_gain`.
    pub fn with_outputs(
        d_in: usize,
        hidden: &[usize],
        d_out: usize,
        output_gain: f64,
        rng: &mut ParamRng,
        device: &Device,
    ) -> Self {
        let mut layers = Vec::with_capacity(hidden.len() + 1);
        let mut width = d_in;
        for &h in hidden {
            layers.push(Dense::new(width, h, 1.0, rng, device));
            width = h;
        }
        layers.push(Dense::new(width, d_out, output_gain, rng, device));
        Self { layers }
    }

    /// Jet of the output width (1 for [`Mlp::new`]).
    pub fn forward(&self, mut jet: Jet) -> Jet {
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            jet = layer.forward(jet);
            if i < last {
                jet = jet.tanh();
            }
        }
        jet
    }
}
