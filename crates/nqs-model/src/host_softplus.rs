//! softplus(v) = ln(1 + eᵛ) and its forward-Laplacian jet (σ′ = sigmoid, σ″ = s(1 − s)) as
//! one pass over a flex f64 buffer, for the RBM factor and the generative RBMs' free
//! energies. flex computes softplus with libm's scalar `exp` and `log1p` and a mask
//! (≈ 60 % of a `fit-rbm` epoch, docs/performance.md). The same machinery as tanh
//! ([`crate::host_tanh`]): untracked tensors in their own buffers, tracked ones with the
//! derivative attached.
//!
//! softplus(v) = max(v, 0) + log1p(e), e = e^{−|v|} ∈ (0, 1]: u = 1 + e, ln u from
//! ln u = k ln 2 + 2 atanh(s), s = (m − 1)/(m + 1), m = u/2ᵏ ∈ (1/√2, √2], |s| < 0.172, by
//! its series to s¹⁹ (remainder < 1e-17), and the rounding of u corrected by
//! −((u − 1) − e)/u. sigmoid(v) = (v ≥ 0 ? 1 : e)/u.

use burn::tensor::Tensor;

use crate::Jet;
use crate::host_tanh::{LN2_HI, LN2_LO, apply, elementwise_jet, exp_nonpositive, horner};

/// 1/(2k + 1) for k = 9 down to 0: atanh(s)/s = Σ s²ᵏ/(2k + 1).
const ATANH_SERIES: [f64; 10] = [
    1.0 / 19.0,
    1.0 / 17.0,
    1.0 / 15.0,
    1.0 / 13.0,
    1.0 / 11.0,
    1.0 / 9.0,
    1.0 / 7.0,
    1.0 / 5.0,
    1.0 / 3.0,
    1.0,
];

/// softplus of every element; `Err(v)` when not on flex in f64 (see `host_tanh::apply`).
#[allow(clippy::result_large_err)]
pub(crate) fn softplus<const D: usize>(v: Tensor<D>) -> Result<Tensor<D>, Tensor<D>> {
    apply(v, softplus_kernel)
}

/// The jet of y = softplus(v): y′ = s, y″ = s(1 − s) with s = sigmoid(v).
#[allow(clippy::result_large_err)]
pub(crate) fn softplus_jet(jet: Jet) -> Result<Jet, Jet> {
    elementwise_jet(jet, softplus_kernel, |_, s| s * (1.0 - s))
}

/// x ← softplus(x) and sigmoid(x), softplus′, into `sigma`: the values and slopes of the
/// tracked softplus op, for host passes that take them as forward-mode variables.
pub(crate) fn softplus_values(x: &mut [f64], sigma: &mut [f64]) {
    softplus_kernel(x, Some(sigma));
}

/// x ← softplus(x), and sigmoid(x) into `sigma` when given.
#[allow(unsafe_code)]
fn softplus_kernel(x: &mut [f64], sigma: Option<&mut [f64]>) {
    #[cfg(target_arch = "x86_64")]
    if crate::host_tanh::avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above), the only requirement
        // of a `target_feature` function; the body is safe code.
        unsafe { softplus_avx2_fma(x, sigma) };
        return;
    }
    softplus_loop(x, sigma, |a, b, c| a * b + c);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn softplus_avx2_fma(x: &mut [f64], sigma: Option<&mut [f64]>) {
    softplus_loop(x, sigma, f64::mul_add);
}

#[inline(always)]
fn softplus_loop(
    x: &mut [f64],
    sigma: Option<&mut [f64]>,
    fma: impl Fn(f64, f64, f64) -> f64 + Copy,
) {
    match sigma {
        Some(sigma) => {
            for (v, s) in x.iter_mut().zip(sigma.iter_mut()) {
                (*v, *s) = softplus_one(*v, fma);
            }
        }
        None => {
            for v in x.iter_mut() {
                *v = softplus_one(*v, fma).0;
            }
        }
    }
}

/// (softplus(v), sigmoid(v)), branch-free; a NaN stays NaN.
#[inline(always)]
fn softplus_one(v: f64, fma: impl Fn(f64, f64, f64) -> f64 + Copy) -> (f64, f64) {
    let e = exp_nonpositive(-v.abs(), fma);
    let u = 1.0 + e;
    let big = u > std::f64::consts::SQRT_2;
    let m = if big { u * 0.5 } else { u };
    let k = if big { 1.0 } else { 0.0 };
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let p = horner(s2, &ATANH_SERIES, fma);
    let ln_u = fma(k, LN2_HI, fma(k, LN2_LO, 2.0 * s * p));
    let log1p_e = ln_u - ((u - 1.0) - e) / u;
    let positive = if v > 0.0 { v } else { 0.0 };
    let sigma = (if v >= 0.0 { 1.0 } else { e }) / u;
    (positive + log1p_e, sigma)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host_tanh::testing::*;

    /// The fused host jet against burn's ops jet on ndarray, and on a tracked tensor the same
    /// values as the untracked pass with autodiff's ∂/∂v equal to sigmoid from libm.
    #[test]
    fn host_jet_and_tracked_derivative() {
        assert!(host_against_ops(Jet::softplus, 6.0) < 1e-13);
        let value = normal([23, 6], 6.0, &flex_f64());
        let leaf = value.clone().autodiff().require_grad();
        let tracked = crate::softplus(leaf.clone());
        assert_eq!(
            values(tracked.clone()),
            values(crate::softplus(value.clone()))
        );
        let dv = values(leaf.grad(&tracked.sum().backward()).expect("v is a leaf"));
        let expected: Vec<f64> = values(value)
            .iter()
            .map(|x| 0.5 + 0.5 * (x / 2.0).tanh())
            .collect();
        assert!(max_diff(&dv, &expected) < 1e-15);
    }

    #[test]
    fn matches_libm_softplus_and_sigmoid() {
        let mut xs: Vec<f64> = (-6000..=6000).map(|i| i as f64 * 0.01).collect();
        xs.extend([
            1e-300, -1e-12, 3e-8, 36.7, -37.2, 79.0, -79.5, 700.0, -1e6, 0.0,
        ]);
        let mut f = xs.clone();
        let mut s = vec![0.0; xs.len()];
        softplus_kernel(&mut f, Some(&mut s));
        for ((&x, &f), &s) in xs.iter().zip(&f).zip(&s) {
            let exact = x.max(0.0) + (-x.abs()).exp().ln_1p();
            let sigmoid = if x >= 0.0 {
                1.0 / (1.0 + (-x).exp())
            } else {
                x.exp() / (1.0 + x.exp())
            };
            assert!(
                (f - exact).abs() <= 4.0 * f64::EPSILON * exact.max(1e-300).max(1.0)
                    || (x < -79.0 && (f - exact).abs() < 1e-34),
                "softplus({x}) = {f}, libm {exact}"
            );
            assert!((s - sigmoid).abs() <= 4.0 * f64::EPSILON, "sigmoid({x})");
        }
        let mut only = xs.clone();
        softplus_kernel(&mut only, None);
        assert_eq!(only, f);
        let mut nan = [f64::NAN];
        softplus_kernel(&mut nan, None);
        assert!(nan[0].is_nan());
    }
}
