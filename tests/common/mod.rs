//! Helpers shared by the physics tests: the f64 CPU device and host conversions.
#![allow(dead_code)]

use burn::tensor::{Device, Tensor, TensorData};
use nqs_model::{FactorConfig, Geometry, Order, WaveFunction, WaveFunctionConfig};
use nqs_train::{Backend, Precision, backend};

/// flex in f64: the device every physics test runs on.
pub fn device() -> Device {
    backend::device(Backend::Flex, Precision::F64).expect("flex f64 device")
}

pub fn host1(t: Tensor<1>) -> Vec<f64> {
    nqs_train::to_host(t)
}

pub fn host2(t: Tensor<2>) -> Vec<f64> {
    t.into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .expect("f64")
}

pub fn tensor2(values: Vec<f64>, rows: usize, cols: usize, device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values, [rows, cols]), device)
}

/// A wave function from a TOML list of factors, e.g. `[[factors]] kind = "slater"`.
pub fn wave_function(
    factors_toml: &str,
    geometry: Geometry,
    omega: f64,
    seed: u64,
    device: &Device,
) -> WaveFunction {
    #[derive(serde::Deserialize)]
    struct Wrapper {
        factors: Vec<FactorConfig>,
    }
    let w: Wrapper = toml::from_str(factors_toml).expect("factor TOML");
    WaveFunctionConfig { factors: w.factors }
        .init(geometry, omega, seed, device)
        .expect("valid wave function")
}

/// Like [`wave_function`] but without the product-level checks, so that a single factor
/// that is not a trial state on its own (a Jastrow) can be tested.
pub fn factors_unchecked(
    factors_toml: &str,
    geometry: Geometry,
    omega: f64,
    seed: u64,
    device: &Device,
) -> WaveFunction {
    #[derive(serde::Deserialize)]
    struct Wrapper {
        factors: Vec<FactorConfig>,
    }
    let w: Wrapper = toml::from_str(factors_toml).expect("factor TOML");
    let mut rng = nqs_model::ParamRng::new(seed);
    let built = w
        .factors
        .iter()
        .enumerate()
        .map(|(i, f)| {
            f.init(geometry, omega, i, &mut rng, device)
                .expect("valid factor")
        })
        .collect();
    WaveFunction::from_factors(built, geometry)
}

/// Deterministic pseudo-random positions N(0, width²), `[walkers, coords]`.
pub fn positions(
    walkers: usize,
    coords: usize,
    width: f64,
    seed: u64,
    device: &Device,
) -> Tensor<2> {
    let mut rng = nqs_model::ParamRng::new(seed);
    let v: Vec<f64> = (0..walkers * coords)
        .map(|_| width * rng.normal())
        .collect();
    tensor2(v, walkers, coords, device)
}

/// Central differences of log|ψ| at `walkers` points, all displaced points in one batch.
/// Returns (gradient [walkers][coords], Laplacian [walkers]).
pub fn finite_differences(
    psi: &WaveFunction,
    x: &[f64],
    walkers: usize,
    coords: usize,
    h: f64,
) -> (Vec<f64>, Vec<f64>) {
    let device = device();
    let rows = walkers * (2 * coords + 1);
    let mut batch = Vec::with_capacity(rows * coords);
    for w in 0..walkers {
        let base = &x[w * coords..(w + 1) * coords];
        batch.extend_from_slice(base);
        for k in 0..coords {
            for sign in [1.0, -1.0] {
                let mut p = base.to_vec();
                p[k] += sign * h;
                batch.extend(p);
            }
        }
    }
    let values = host1(psi.log_psi(&tensor2(batch, rows, coords, &device)));
    let mut grad = vec![0.0; walkers * coords];
    let mut lap = vec![0.0; walkers];
    for w in 0..walkers {
        let v = &values[w * (2 * coords + 1)..(w + 1) * (2 * coords + 1)];
        for k in 0..coords {
            let (plus, minus) = (v[1 + 2 * k], v[2 + 2 * k]);
            grad[w * coords + k] = (plus - minus) / (2.0 * h);
            lap[w] += (plus - 2.0 * v[0] + minus) / (h * h);
        }
    }
    (grad, lap)
}

/// Forward Laplacian against finite differences at the walkers `x`.
pub fn check_points(name: &str, psi: &WaveFunction, x: burn::tensor::Tensor<2>) {
    let [walkers, coords] = x.dims();
    let out = psi.forward(&x, Order::Laplacian);
    let grad = host2(out.expect_grad());
    let lap = host1(out.expect_lap());
    let value = host1(out.value.clone());
    // The value path (Order::Value, used by the sampler and autodiff) agrees with the jet path.
    let plain = host1(psi.log_psi(&x));
    for (a, b) in value.iter().zip(&plain) {
        assert!(
            (a - b).abs() <= 1e-12 * a.abs().max(1.0),
            "{name}: value {a} vs {b}"
        );
    }
    let xs = host2(x);
    // Richardson extrapolation of central differences at h and h/2 cancels the O(h²) error,
    // which near a node of the determinant (log|ψ| → −∞) dominates plain differences.
    let richardson = |h: f64| {
        let (g1, l1) = finite_differences(psi, &xs, walkers, coords, h);
        let (g2, l2) = finite_differences(psi, &xs, walkers, coords, h / 2.0);
        let r = |a: Vec<f64>, b: Vec<f64>| -> Vec<f64> {
            a.iter().zip(&b).map(|(a, b)| (4.0 * b - a) / 3.0).collect()
        };
        (r(g1, g2), r(l1, l2))
    };
    let (fd_grad, _) = richardson(1e-4);
    let (_, fd_lap) = richardson(2e-3);
    let gscale = grad.iter().fold(1.0f64, |m, g| m.max(g.abs()));
    for (i, (a, b)) in grad.iter().zip(&fd_grad).enumerate() {
        assert!(
            (a - b).abs() <= 1e-6 * gscale,
            "{name}: grad[{i}] forward {a} vs FD {b}"
        );
    }
    for (w, (a, b)) in lap.iter().zip(&fd_lap).enumerate() {
        assert!(
            (a - b).abs() <= 1e-6 * a.abs().max(1.0),
            "{name}: laplacian[{w}] forward {a} vs FD {b}"
        );
    }
}
