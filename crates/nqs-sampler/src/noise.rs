//! Seeded host random numbers uploaded as tensors: identical chains on every backend and an
//! RNG state that serialises exactly.

use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// Random tensors drawn from a [`ChaCha8Rng`].
pub trait Noise {
    /// Standard normals, `[rows, cols]`.
    fn normal(&mut self, rows: usize, cols: usize, device: &Device) -> Tensor<2>;
    /// Uniforms in [0, 1), `[rows, cols]`.
    fn uniform(&mut self, rows: usize, cols: usize, device: &Device) -> Tensor<2>;
}

impl Noise for ChaCha8Rng {
    fn normal(&mut self, rows: usize, cols: usize, device: &Device) -> Tensor<2> {
        let v: Vec<f64> = (0..rows * cols)
            .map(|_| self.sample(StandardNormal))
            .collect();
        Tensor::from_data(TensorData::new(v, [rows, cols]), device)
    }

    fn uniform(&mut self, rows: usize, cols: usize, device: &Device) -> Tensor<2> {
        let v: Vec<f64> = (0..rows * cols).map(|_| self.random::<f64>()).collect();
        Tensor::from_data(TensorData::new(v, [rows, cols]), device)
    }
}
