//! Helpers shared by the physics tests: the f64 CPU device and host conversions.
#![allow(dead_code)]

use burn::tensor::{Device, Tensor, TensorData};
use nqs_model::{FactorConfig, Geometry, WaveFunction, WaveFunctionConfig};
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
