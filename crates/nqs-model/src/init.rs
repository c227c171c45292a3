//! Seeded parameter initialisation on the host, so that a seed gives the same initial
//! parameters on every backend (burn's device RNGs differ between backends).

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};

/// A small, explicit, seeded generator (SplitMix64) for initial parameters.
#[derive(Debug, Clone)]
pub struct ParamRng {
    state: u64,
}

impl ParamRng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            state: seed ^ 0x9E37_79B9_7F4A_7C15,
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// A `[rows, cols]` parameter with entries N(0, std²).
    pub fn normal_param2(
        &mut self,
        rows: usize,
        cols: usize,
        std: f64,
        device: &Device,
    ) -> Param<Tensor<2>> {
        let values: Vec<f64> = (0..rows * cols).map(|_| std * self.normal()).collect();
        Param::from_tensor(Tensor::from_data(
            TensorData::new(values, [rows, cols]),
            device,
        ))
    }

    /// A `[len]` parameter with entries N(0, std²).
    pub fn normal_param1(&mut self, len: usize, std: f64, device: &Device) -> Param<Tensor<1>> {
        let values: Vec<f64> = (0..len).map(|_| std * self.normal()).collect();
        Param::from_tensor(Tensor::from_data(TensorData::new(values, [len]), device))
    }
}

/// A `[values.len()]` parameter holding `values`.
pub fn param1(values: &[f64], device: &Device) -> Param<Tensor<1>> {
    Param::from_tensor(Tensor::from_data(
        TensorData::new(values.to_vec(), [values.len()]),
        device,
    ))
}
