//! tanh and its forward-Laplacian jet as one pass over a flex f64 buffer, and what every
//! such host pass shares ([`apply`], [`elementwise_jet`], the exp kernel; softplus uses them
//! in `host_softplus.rs`).
//!
//! flex evaluates tanh (or 2·sigmoid(2v) − 1) with a scalar libm `exp` and a branch per
//! element, ≈ 7 ns per f64 element on this machine; the pair networks of the backflow spend
//! most of a Metropolis move there (docs/performance.md). Here e = exp(−2|v|) comes from a
//! branch-free range reduction and a degree-13 polynomial that the compiler vectorises
//! (AVX2 where the CPU has it), and t = sign(v)(1 − e)/(1 + e). Its absolute error is a few
//! ulp of 1, like the sigmoid form's; the tests compare it with `f64::tanh`.
//!
//! Untracked tensors (the sampler's value passes, the local-energy jets, SR's
//! parameter-space differences) are computed in their own buffers, taken over without copies
//! where the tensor owns them (flex's `into_data`) and handed back the same way.
//!
//! A tensor tracked by autodiff (the gradient passes) gets the same values with its first
//! derivative attached as a custom op would: y = t + (v − v̄)·(1 − t²), where v̄ is v's value
//! as a constant and t, 1 − t² are constants from the host pass. v − v̄ is exactly zero, so
//! y carries t to the bit, and autodiff sees ∂y/∂v = 1 − t², tanh's derivative; burn's
//! autodiff is first order, so nothing beyond it is needed. Three cheap elementwise ops
//! replace the sigmoid's forward and backward (≈ 7 ns per element each).

use burn::tensor::{DType, Device, Tensor, TensorData};

use crate::Jet;

/// Whether `v` lives on flex in f64 (tracked by autodiff or not).
pub(crate) fn on_flex_f64<const D: usize>(v: &Tensor<D>) -> bool {
    v.dtype() == DType::F64 && v.device().without_autodiff() == Device::flex()
}

/// Whether `v` can be computed in its own buffer: flex, f64, not tracked by autodiff.
pub(crate) fn eligible<const D: usize>(v: &Tensor<D>) -> bool {
    on_flex_f64(v) && !v.is_autodiff()
}

/// The values of an [`eligible`] tensor on the host (`None` for any other tensor): what the
/// host passes read their parameters and walkers with. One copy of the buffer ([`HostView`]);
/// `into_data` of a tensor that others share copied it twice (to a vector, then to an
/// aligned one) and `try_to_vec` a third time.
pub fn host_values<const D: usize>(t: Tensor<D>) -> Option<Vec<f64>> {
    Some(HostView::new(&t)?.values().to_vec())
}

/// An [`eligible`] tensor's f64 values read in place: flex's buffer, shared with the tensor
/// (no copy), for the host passes that only read their walkers; a copy where the tensor is a
/// view that is not one contiguous run of its buffer.
pub struct HostView(Values);

enum Values {
    Shared(burn::backend::flex::FlexTensor),
    Copied(Vec<f64>),
}

impl HostView {
    /// The view of `t`, or `None` where `t` is not [`eligible`].
    pub fn new<const D: usize>(t: &Tensor<D>) -> Option<Self> {
        if !eligible(t) {
            return None;
        }
        let flex = t.clone().try_into_primitive::<burn::backend::Flex>().ok()?;
        if flex.as_slice::<f64>().is_some() {
            return Some(Self(Values::Shared(flex)));
        }
        let copied = t.clone().into_data().try_to_vec::<f64>().ok()?;
        Some(Self(Values::Copied(copied)))
    }

    /// The values, row-major.
    pub fn values(&self) -> &[f64] {
        match &self.0 {
            Values::Shared(flex) => flex.as_slice::<f64>().expect("checked by `new`"),
            Values::Copied(v) => v,
        }
    }
}

/// A function applied elementwise on the host: writes f(v) over v and, when asked, f′(v)
/// into the second slice (same length).
pub(crate) trait Kernel: Fn(&mut [f64], Option<&mut [f64]>) {}
impl<F: Fn(&mut [f64], Option<&mut [f64]>)> Kernel for F {}

/// f(v) by `kernel`; `Err(v)` hands `v` back when it is not on flex in f64 (the caller then
/// uses burn's ops). A tracked `v` gets f + (v − v̄)·f′ (module docs).
#[allow(clippy::result_large_err)]
pub(crate) fn apply<const D: usize>(
    v: Tensor<D>,
    kernel: impl Kernel,
) -> Result<Tensor<D>, Tensor<D>> {
    if !on_flex_f64(&v) {
        return Err(v);
    }
    if !v.is_autodiff() {
        // The only owner: flex hands its buffer over.
        let device = v.device();
        let mut f = v.into_data();
        kernel(f.as_mut_slice::<f64>().expect("f64 checked above"), None);
        return Ok(Tensor::from_data(f, &device));
    }
    let constant = v.clone().inner();
    let device = constant.device();
    let mut f = constant.clone().into_data();
    let f_values = f.as_mut_slice::<f64>().expect("f64 checked above");
    let mut df = vec![0.0; f_values.len()];
    kernel(f_values, Some(&mut df));
    let f = Tensor::<D>::from_data(f, &device);
    let df = Tensor::<D>::from_data(TensorData::new(df, constant.dims()), &device);
    Ok(f + (v - constant) * df)
}

/// tanh of every element (see [`apply`]).
#[allow(clippy::result_large_err)]
pub(crate) fn tanh<const D: usize>(v: Tensor<D>) -> Result<Tensor<D>, Tensor<D>> {
    apply(v, tanh_kernel)
}

/// The jet of y = tanh(v) (see [`elementwise_jet`]): y′ = 1 − y², y″ = −2y·y′.
#[allow(clippy::result_large_err)]
pub(crate) fn tanh_jet(jet: Jet) -> Result<Jet, Jet> {
    elementwise_jet(jet, tanh_kernel, |y, dy| -2.0 * y * dy)
}

fn tanh_kernel(x: &mut [f64], dt: Option<&mut [f64]>) {
    tanh_in_place(x);
    for (d, &y) in dt.into_iter().flatten().zip(x.iter()) {
        *d = 1.0 - y * y;
    }
}

/// The jet of y = f(v): y, y′·G and y′·L + y″·Σ_k G_k², in one pass per row, in the buffers
/// of `jet` (no copies where the jet owns them); `kernel` gives f and f′, `second(f, f′)`
/// gives f″. `Err(jet)` hands the jet back when it is not eligible.
///
/// # Shapes
/// - value: `[rows, m]`, grad: `[rows, n_in, m]`, lap: `[rows, m]`
#[allow(clippy::result_large_err)]
pub(crate) fn elementwise_jet(
    jet: Jet,
    kernel: impl Kernel,
    second: impl Fn(f64, f64) -> f64,
) -> Result<Jet, Jet> {
    if !eligible(&jet.value)
        || jet.grad.as_ref().is_some_and(|g| !eligible(g))
        || jet.lap.as_ref().is_some_and(|l| !eligible(l))
    {
        return Err(jet);
    }
    if jet.value.dims()[1] == 0 {
        return Ok(jet);
    }
    let Jet { value, grad, lap } = jet;
    let device = value.device();
    if grad.is_none() && lap.is_none() {
        // A value pass: f alone, no derivative buffer.
        let mut f = value.into_data();
        kernel(f.as_mut_slice::<f64>().expect("f64 checked above"), None);
        return Ok(Jet::values(Tensor::from_data(f, &device)));
    }
    let [rows, m] = value.dims();
    let mut f = value.into_data();
    let f_slice = f.as_mut_slice::<f64>().expect("f64 checked above");
    let mut df = vec![0.0; f_slice.len()];
    kernel(f_slice, Some(&mut df));
    let n_in = grad.as_ref().map_or(0, |g| g.dims()[1]);
    let mut g = grad.map(|g| g.into_data());
    let mut l = lap.map(|l| l.into_data());
    let mut g_slice = g
        .as_mut()
        .map(|g| g.as_mut_slice::<f64>().expect("f64 checked above"));
    let mut l_slice = l
        .as_mut()
        .map(|l| l.as_mut_slice::<f64>().expect("f64 checked above"));
    let mut gsq = vec![0.0; m];
    for row in 0..rows {
        let f_row = &f_slice[row * m..(row + 1) * m];
        let df_row = &df[row * m..(row + 1) * m];
        if let Some(g) = g_slice.as_deref_mut() {
            gsq.fill(0.0);
            for g_k in g[row * n_in * m..(row + 1) * n_in * m].chunks_exact_mut(m) {
                for ((s, gk), d) in gsq.iter_mut().zip(g_k.iter_mut()).zip(df_row) {
                    *s += *gk * *gk;
                    *gk *= d;
                }
            }
        }
        if let Some(l) = l_slice.as_deref_mut() {
            let l_row = &mut l[row * m..(row + 1) * m];
            for (((lk, &y), &d), &s) in l_row.iter_mut().zip(f_row).zip(df_row).zip(&gsq) {
                *lk = d * *lk + second(y, d) * s;
            }
        }
    }
    let grad = g.map(|d| Tensor::<3>::from_data(d, &device));
    let lap = l.map(|d| Tensor::<2>::from_data(d, &device));
    Ok(Jet {
        value: Tensor::from_data(f, &device),
        grad,
        lap,
    })
}

/// Whether the CPU has AVX2 and FMA, the features of the host passes' vector builds (the
/// `*_avx2_fma` functions; the detection is cached by the standard library).
#[cfg(target_arch = "x86_64")]
pub(crate) fn avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// Whether the CPU has AVX-512 (F and DQ) and FMA, the features of the `*_avx512_fma`
/// builds: the same code as the AVX2 builds, so the same bits, eight lanes per instruction.
#[cfg(target_arch = "x86_64")]
pub(crate) fn avx512_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512dq")
        && std::arch::is_x86_feature_detected!("fma")
}

/// t ← tanh(t) elementwise.
#[allow(unsafe_code)]
pub fn tanh_in_place(x: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if avx512_fma() {
        // SAFETY: the CPU supports AVX-512 (F, DQ) and FMA (checked just above), the only
        // requirement of a `target_feature` function; the body is safe code.
        unsafe { tanh_avx512_fma(x) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above), the only requirement
        // of a `target_feature` function; the body is safe code.
        unsafe { tanh_avx2_fma(x) };
        return;
    }
    for v in x.iter_mut() {
        *v = tanh_one(*v, |a, b, c| a * b + c);
    }
}

/// With FMA the polynomial is one instruction per degree; `mul_add` without the feature
/// would be a libm call, hence the two instantiations.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn tanh_avx2_fma(x: &mut [f64]) {
    for v in x.iter_mut() {
        *v = tanh_one(*v, f64::mul_add);
    }
}

/// The same code for AVX-512: the same operations, so the AVX2 build's bits (tested).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,fma")]
fn tanh_avx512_fma(x: &mut [f64]) {
    for v in x.iter_mut() {
        *v = tanh_one(*v, f64::mul_add);
    }
}

/// 1.5·2⁵²: adding it rounds a double of magnitude < 2⁵¹ to an integer held in the low
/// mantissa bits.
const ROUND: f64 = 6_755_399_441_055_744.0;
/// ln 2 split so that n·LN2_HI is exact for |n| < 2¹¹ (fdlibm's constants, by their bits).
pub(crate) const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
pub(crate) const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// 1/k! for k = 13 down to 0.
const EXP_TAYLOR: [f64; 14] = [
    1.0 / 6_227_020_800.0,
    1.0 / 479_001_600.0,
    1.0 / 39_916_800.0,
    1.0 / 3_628_800.0,
    1.0 / 362_880.0,
    1.0 / 40_320.0,
    1.0 / 5_040.0,
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    0.5,
    1.0,
    1.0,
];

/// Σ_k c_k x^(n−k) by Horner's rule, highest power first.
#[inline(always)]
pub(crate) fn horner<const N: usize>(
    x: f64,
    coefficients: &[f64; N],
    fma: impl Fn(f64, f64, f64) -> f64 + Copy,
) -> f64 {
    coefficients[1..]
        .iter()
        .fold(coefficients[0], |p, &c| fma(p, x, c))
}
/// e^FLOOR < 2⁻¹¹⁵: tanh is ±1 there to the last bit, softplus(v) = max(v, 0) to 1e-34.
const FLOOR: f64 = -80.0;

/// tanh(v) = sign(v)(1 − e)/(1 + e), e = exp(−2|v|). Branch-free, so loops of it vectorise;
/// a NaN stays NaN.
#[inline(always)]
pub(crate) fn tanh_one(v: f64, fma: impl Fn(f64, f64, f64) -> f64 + Copy) -> f64 {
    let e = exp_nonpositive(-2.0 * v.abs(), fma);
    ((1.0 - e) / (1.0 + e)).copysign(v)
}

/// e^a for a ≤ 0 (below −80 it returns e^−80 < 2⁻¹¹⁵): e^a = 2ⁿ·e^r, |r| ≤ ln2/2, e^r by
/// its Taylor series to r¹³ (remainder < 5e-18). Branch-free; a NaN stays NaN.
#[inline(always)]
pub(crate) fn exp_nonpositive(a: f64, fma: impl Fn(f64, f64, f64) -> f64 + Copy) -> f64 {
    let a = if a < FLOOR { FLOOR } else { a };
    let k = a * std::f64::consts::LOG2_E + ROUND;
    let n = k - ROUND;
    let r = fma(-n, LN2_LO, fma(-n, LN2_HI, a));
    let p = horner(r, &EXP_TAYLOR, fma);
    // 2ⁿ: the low bits of k hold n (two's complement, n ∈ [−116, 0]); shifting them into
    // the exponent field with the bias gives the double 2ⁿ.
    let scale = f64::from_bits(k.to_bits().wrapping_add(1023) << 52);
    p * scale
}

/// Devices and comparisons shared by the host-pass tests.
#[cfg(test)]
pub(crate) mod testing {
    use burn::tensor::{Device, Tensor};

    use crate::Jet;

    /// The largest difference between the jet of `f` on flex (the host pass) and on ndarray
    /// (burn's ops) over value, gradient and Laplacian, for random inputs of spread `spread`.
    pub(crate) fn host_against_ops(f: impl Fn(Jet) -> Jet, spread: f64) -> f64 {
        let device = flex_f64();
        let ndarray = ndarray_f64();
        let (rows, n_in, m) = (37, 3, 5);
        let value = normal([rows, m], spread, &device);
        let grad = normal([rows, n_in, m], 1.0, &device);
        let lap = normal([rows, m], 1.0, &device);
        let jet = |device: &Device| Jet {
            value: value.clone().to_device(device),
            grad: Some(grad.clone().to_device(device)),
            lap: Some(lap.clone().to_device(device)),
        };
        let ops = f(jet(&ndarray));
        assert_eq!(ops.value.device(), ndarray);
        let parts = |j: Jet| {
            let flat = j.grad.expect("grad").reshape([rows * n_in, m]);
            [values(j.value), values(flat), values(j.lap.expect("lap"))]
        };
        parts(f(jet(&device)))
            .iter()
            .zip(parts(ops))
            .map(|(h, o)| max_diff(h, &o))
            .fold(0.0, f64::max)
    }

    pub(crate) fn flex_f64() -> Device {
        let mut device = Device::flex();
        let _ = device.configure(burn::tensor::FloatDType::F64);
        device
    }

    pub(crate) fn ndarray_f64() -> Device {
        #[allow(deprecated)]
        let mut device = Device::ndarray();
        let _ = device.configure(burn::tensor::FloatDType::F64);
        device
    }

    thread_local! {
        /// Draws so far in this test's thread: every test sees the same inputs on every run.
        static DRAWS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }

    /// Normals N(0, std²) from a generator seeded by the number of earlier draws in the
    /// calling thread (one thread per test): deterministic inputs, no flaky tolerances.
    pub(crate) fn normal<const D: usize>(
        shape: [usize; D],
        std: f64,
        device: &Device,
    ) -> Tensor<D> {
        let draw = DRAWS.with(|d| d.replace(d.get() + 1));
        let mut rng = crate::ParamRng::new(0x5eed_0000 + draw);
        let count = shape.iter().product();
        let values: Vec<f64> = (0..count).map(|_| rng.normal() * std).collect();
        Tensor::from_data(burn::tensor::TensorData::new(values, shape), device)
    }

    pub(crate) fn values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
        t.inner().into_data().try_to_vec::<f64>().expect("f64")
    }

    pub(crate) fn max_diff(a: &[f64], b: &[f64]) -> f64 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
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
        // The dispatched build (AVX-512 or AVX2 with FMA where the CPU has them) equals the
        // FMA builds below it bit for bit.
        #[cfg(target_arch = "x86_64")]
        #[allow(unsafe_code)]
        if avx2_fma() {
            let mut avx2 = xs.clone();
            // SAFETY: AVX2 and FMA checked just above.
            unsafe { tanh_avx2_fma(&mut avx2) };
            assert_eq!(ys, avx2);
        }
    }

    /// The fused host jet against the same jet from burn's ops on ndarray (not eligible for
    /// the host path, so `Jet::tanh` takes burn's ops there).
    #[test]
    fn host_jet_equals_burn_ops_jet() {
        assert!(host_against_ops(Jet::tanh, 2.0) < 1e-13);
    }

    /// On a tracked tensor: the same values as the untracked pass, bit for bit, and autodiff's
    /// ∂/∂v of Σ c·tanh(v) equal to c·(1 − tanh²v) from libm.
    #[test]
    fn tracked_tanh_values_and_autodiff_derivative() {
        let device = flex_f64();
        let (rows, m) = (29, 7);
        let v = normal([rows, m], 3.0, &device);
        let c = normal([rows, m], 1.0, &device);
        let plain = crate::jet::tanh(v.clone());
        let leaf = v.clone().autodiff().require_grad();
        let tracked = crate::jet::tanh(leaf.clone());
        assert!(tracked.is_autodiff());
        let grads = (tracked.clone() * c.clone().autodiff()).sum().backward();
        let dv = values(leaf.grad(&grads).expect("v is a leaf"));
        assert_eq!(values(tracked), values(plain));
        let expected: Vec<f64> = values(v)
            .iter()
            .zip(values(c))
            .map(|(x, c)| c * (1.0 - x.tanh() * x.tanh()))
            .collect();
        assert!(max_diff(&dv, &expected) < 1e-14);
    }

    /// `crate::sigmoid` is exact in f64 on flex and on ndarray (burn's default sigmoid, which
    /// ndarray uses, rounds through f32: errors of 7e-8 measured).
    #[test]
    fn sigmoid_is_f64_on_every_cpu_backend() {
        let flex = flex_f64();
        let ndarray = ndarray_f64();
        let v = normal([64, 5], 8.0, &flex);
        let exact: Vec<f64> = values(v.clone())
            .iter()
            .map(|x| 0.5 + 0.5 * (x / 2.0).tanh())
            .collect();
        for device in [&flex, &ndarray] {
            let s = crate::sigmoid(v.clone().to_device(device));
            assert!(max_diff(&values(s), &exact) < 4.0 * f64::EPSILON);
        }
    }

    #[test]
    fn nan_and_infinities() {
        let mut x = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
        tanh_in_place(&mut x);
        assert!(x[0].is_nan());
        assert_eq!(&x[1..], &[1.0, -1.0]);
    }
}
