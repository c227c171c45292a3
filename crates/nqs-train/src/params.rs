//! A module's float parameters as one flat host vector (in the module's visiting order), and
//! back: what stochastic reconfiguration works with.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};

/// All float parameters of `model`, flattened.
pub fn to_vec<M: Module>(model: &M) -> Vec<f64> {
    let mut out = Vec::new();
    model.visit(&mut Collect {
        out: &mut out,
        grads: None,
    });
    out
}

/// The gradients in `grads` laid out like [`to_vec`] (zeros for parameters without one).
pub fn grads_to_vec<M: Module>(model: &M, grads: &GradientsParams) -> Vec<f64> {
    let mut out = Vec::new();
    model.visit(&mut Collect {
        out: &mut out,
        grads: Some(grads),
    });
    out
}

/// Gradients laid out like [`to_vec`] as [`GradientsParams`] of `model` (the inverse of
/// [`grads_to_vec`]), on each parameter's device, for the parameters that have a gradient
/// in `like` (so an optimiser sees the same set of gradients as before the round trip).
///
/// # Panics
/// If `values` does not have the parameter count (a programming error).
pub fn vec_to_grads<M: Module>(
    model: &M,
    values: &[f64],
    like: &GradientsParams,
) -> GradientsParams {
    struct Register<'a> {
        values: &'a [f64],
        offset: usize,
        like: &'a GradientsParams,
        grads: GradientsParams,
    }
    impl ModuleVisitor for Register<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let t = param.val();
            let dims = t.dims();
            let n: usize = dims.iter().product();
            let at = self.offset;
            self.offset += n;
            if self.like.get::<D>(param.id).is_none() {
                return;
            }
            let values = self.values[at..at + n].to_vec();
            // Gradients live on the inner (non-autodiff) device.
            let device = t.inner().device();
            let g = Tensor::<D>::from_data(TensorData::new(values, dims), &device);
            self.grads.register(param.id, g);
        }
    }
    let mut register = Register {
        values,
        offset: 0,
        like,
        grads: GradientsParams::new(),
    };
    model.visit(&mut register);
    assert_eq!(register.offset, values.len(), "gradient vector length");
    register.grads
}

/// `model` with its float parameters replaced by `values` (laid out like [`to_vec`]); the
/// parameter ids and their gradient requirement are kept.
///
/// # Panics
/// If `values` is shorter than the parameter count (a programming error).
pub fn with_values<M: Module>(model: M, values: &[f64]) -> M {
    let mut assign = Assign { values, offset: 0 };
    let model = model.map(&mut assign);
    assert_eq!(assign.offset, values.len(), "parameter vector length");
    model
}

/// Euclidean dot product.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Euclidean norm.
pub fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .expect("converted tensor data is f64")
}

struct Collect<'a> {
    out: &'a mut Vec<f64>,
    grads: Option<&'a GradientsParams>,
}

impl ModuleVisitor for Collect<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = match self.grads {
            Some(g) => g
                .get::<D>(param.id)
                .unwrap_or_else(|| param.val().zeros_like()),
            None => param.val(),
        };
        self.out.extend(host(t));
    }
}

struct Assign<'a> {
    values: &'a [f64],
    offset: usize,
}

impl ModuleMapper for Assign<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.map(|t| {
            let dims = t.dims();
            let n: usize = dims.iter().product();
            let values = self.values[self.offset..self.offset + n].to_vec();
            self.offset += n;
            let fresh = Tensor::<D>::from_data(TensorData::new(values, dims), &t.device());
            if t.is_require_grad() {
                fresh.require_grad()
            } else {
                fresh
            }
        })
    }
}
