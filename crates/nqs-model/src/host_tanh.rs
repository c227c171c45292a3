//! tanh and its forward-Laplacian jet as one pass over a flex f64 buffer.
//!
//! flex evaluates tanh (or 2·sigmoid(2v) − 1) with a scalar libm `exp` and a branch per
//! element, ≈ 7 ns per f64 element on this machine; the pair networks of the backflow spend
//! most of a Metropolis move there (docs/performance.md). Here e = exp(−2|v|) comes from a
//! branch-free range reduction and a degree-13 polynomial that the compiler vectorises
//! (AVX2 where the CPU has it), and t = sign(v)(1 − e)/(1 + e). Its absolute error is a few
//! ulp of 1, like the sigmoid form's; the tests compare it with `f64::tanh`.
//!
//! Only tensors without autodiff take this path (the sampler's value passes, the
//! local-energy jets, SR's parameter-space differences); a tracked tensor keeps burn's ops so
//! that autodiff records the activation. The buffers are taken over without copies when the
//! tensor owns them (flex's `into_data`) and handed back the same way.

use burn::tensor::{DType, Device, Tensor};

/// Whether `v` can take the host path: flex, f64, not tracked by autodiff.
fn eligible<const D: usize>(v: &Tensor<D>) -> bool {
    v.dtype() == DType::F64 && !v.is_autodiff() && v.device() == Device::flex()
}

/// tanh of every element, or `None` when `v` is not eligible (the caller uses burn's ops).
pub(crate) fn tanh(v: &Tensor<2>) -> Option<Tensor<2>> {
    if !eligible(v) {
        return None;
    }
    let device = v.device();
    let mut data = v.clone().into_data();
    tanh_in_place(data.as_mut_slice::<f64>().expect("f64 checked above"));
    Some(Tensor::from_data(data, &device))
}

/// The jet of y = tanh(v): y, y'·G and y'·L + y''·Σ_k G_k² (y' = 1 − y², y'' = −2y·y'),
/// in one pass per row. `None` when not eligible.
///
/// # Shapes
/// - value: `[rows, m]`, grad: `[rows, n_in, m]`, lap: `[rows, m]`
#[allow(clippy::type_complexity)]
pub(crate) fn tanh_jet(
    value: &Tensor<2>,
    grad: Option<&Tensor<3>>,
    lap: Option<&Tensor<2>>,
) -> Option<(Tensor<2>, Option<Tensor<3>>, Option<Tensor<2>>)> {
    if !eligible(value) || grad.is_some_and(|g| !eligible(g)) || lap.is_some_and(|l| !eligible(l)) {
        return None;
    }
    let device = value.device();
    let [rows, m] = value.dims();
    let mut t = value.clone().into_data();
    let t_slice = t.as_mut_slice::<f64>().expect("f64 checked above");
    tanh_in_place(t_slice);
    let mut g = grad.map(|g| g.clone().into_data());
    let mut l = lap.map(|l| l.clone().into_data());
    let n_in = grad.map_or(0, |g| g.dims()[1]);
    let mut g_slice = g
        .as_mut()
        .map(|g| g.as_mut_slice::<f64>().expect("f64 checked above"));
    let mut l_slice = l
        .as_mut()
        .map(|l| l.as_mut_slice::<f64>().expect("f64 checked above"));
    let mut dt = vec![0.0; m];
    let mut gsq = vec![0.0; m];
    for row in 0..rows {
        let t_row = &t_slice[row * m..(row + 1) * m];
        for (d, &y) in dt.iter_mut().zip(t_row) {
            *d = 1.0 - y * y;
        }
        if let Some(g) = g_slice.as_deref_mut() {
            gsq.fill(0.0);
            for g_k in g[row * n_in * m..(row + 1) * n_in * m].chunks_exact_mut(m) {
                for ((s, gk), d) in gsq.iter_mut().zip(g_k.iter_mut()).zip(&dt) {
                    *s += *gk * *gk;
                    *gk *= d;
                }
            }
        }
        if let Some(l) = l_slice.as_deref_mut() {
            let l_row = &mut l[row * m..(row + 1) * m];
            for (((lk, &y), &d), &s) in l_row.iter_mut().zip(t_row).zip(&dt).zip(&gsq) {
                *lk = d * *lk - 2.0 * y * d * s;
            }
        }
    }
    let grad = g.map(|d| Tensor::<3>::from_data(d, &device));
    let lap = l.map(|d| Tensor::<2>::from_data(d, &device));
    Some((Tensor::from_data(t, &device), grad, lap))
}

/// t ← tanh(t) elementwise.
#[allow(unsafe_code)]
pub fn tanh_in_place(x: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above), the only requirement of a
        // `target_feature` function; the body is safe code.
        unsafe { tanh_avx2(x) };
        return;
    }
    tanh_portable(x);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn tanh_avx2(x: &mut [f64]) {
    tanh_portable(x);
}

#[inline(always)]
fn tanh_portable(x: &mut [f64]) {
    for v in x.iter_mut() {
        *v = tanh_one(*v);
    }
}

/// 1.5·2⁵²: adding it rounds a double of magnitude < 2⁵¹ to an integer held in the low
/// mantissa bits.
const ROUND: f64 = 6_755_399_441_055_744.0;
/// ln 2 split so that n·LN2_HI is exact for |n| < 2¹¹ (fdlibm's constants).
const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
/// exp(−2|v|) is below 2⁻¹¹⁵ here, so tanh is ±1 to the last bit.
const FLOOR: f64 = -80.0;

/// tanh(v) = sign(v)(1 − e)/(1 + e), e = exp(−2|v|) = 2ⁿ·exp(r), |r| ≤ ln2/2, exp(r) by its
/// Taylor series to r¹³ (remainder < 5e-18). Branch-free, so loops of it vectorise; a NaN
/// stays NaN.
#[inline(always)]
fn tanh_one(v: f64) -> f64 {
    let a = -2.0 * v.abs();
    let a = if a < FLOOR { FLOOR } else { a };
    let k = a * std::f64::consts::LOG2_E + ROUND;
    let n = k - ROUND;
    let r = (a - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.0 / 6_227_020_800.0; // 1/13!
    p = p * r + 1.0 / 479_001_600.0;
    p = p * r + 1.0 / 39_916_800.0;
    p = p * r + 1.0 / 3_628_800.0;
    p = p * r + 1.0 / 362_880.0;
    p = p * r + 1.0 / 40_320.0;
    p = p * r + 1.0 / 5_040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    // 2ⁿ: the low bits of k hold n (two's complement, n ∈ [−116, 0]); shifting them into
    // the exponent field with the bias gives the double 2ⁿ.
    let scale = f64::from_bits(k.to_bits().wrapping_add(1023) << 52);
    let e = p * scale;
    ((1.0 - e) / (1.0 + e)).copysign(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_libm_tanh_to_a_few_ulp_of_one() {
        let mut worst: f64 = 0.0;
        let mut xs: Vec<f64> = (-4000..=4000).map(|i| i as f64 * 0.01).collect();
        xs.extend([
            1e-300, -1e-12, 3e-8, 17.5, -19.0, 40.0, 700.0, -1e6, 0.0, -0.0,
        ]);
        let mut ys = xs.clone();
        tanh_in_place(&mut ys);
        for (x, y) in xs.iter().zip(&ys) {
            worst = worst.max((y - x.tanh()).abs());
        }
        assert!(worst < 4.0 * f64::EPSILON, "max |error| {worst:e}");
        assert_eq!(ys[ys.len() - 1].to_bits(), (-0.0f64).to_bits());
    }

    /// The fused host jet against the same jet from burn's ops (the autodiff device is not
    /// eligible for the host path, so `Jet::tanh` takes burn's there).
    #[test]
    fn host_jet_equals_burn_ops_jet() {
        use crate::Jet;
        use burn::tensor::{Distribution, FloatDType};
        let mut device = Device::flex();
        let _ = device.configure(FloatDType::F64);
        let (rows, n_in, m) = (37, 3, 5);
        let value = Tensor::<2>::random([rows, m], Distribution::Normal(0.0, 2.0), &device);
        let grad = Tensor::<3>::random([rows, n_in, m], Distribution::Normal(0.0, 1.0), &device);
        let lap = Tensor::<2>::random([rows, m], Distribution::Normal(0.0, 1.0), &device);
        let host = Jet {
            value: value.clone(),
            grad: Some(grad.clone()),
            lap: Some(lap.clone()),
        }
        .tanh();
        let ops = Jet {
            value: value.autodiff(),
            grad: Some(grad.autodiff()),
            lap: Some(lap.autodiff()),
        }
        .tanh();
        assert!(ops.value.is_autodiff() && !host.value.is_autodiff());
        let diff = |a: Vec<f64>, b: Vec<f64>| {
            a.iter()
                .zip(&b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f64::max)
        };
        let host_data = |t: Tensor<2>| t.into_data().try_to_vec::<f64>().unwrap();
        let ops_data = |t: Tensor<2>| t.inner().into_data().try_to_vec::<f64>().unwrap();
        let flat = |t: Tensor<3>| t.reshape([rows * n_in, m]);
        assert!(diff(host_data(host.value), ops_data(ops.value)) < 1e-14);
        assert!(
            diff(
                host_data(flat(host.grad.unwrap())),
                ops_data(flat(ops.grad.unwrap()))
            ) < 1e-13
        );
        assert!(diff(host_data(host.lap.unwrap()), ops_data(ops.lap.unwrap())) < 1e-13);
    }

    #[test]
    fn nan_and_infinities() {
        let mut x = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
        tanh_in_place(&mut x);
        assert!(x[0].is_nan());
        assert_eq!(&x[1..], &[1.0, -1.0]);
    }
}
