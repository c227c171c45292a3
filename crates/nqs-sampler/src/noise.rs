//! Seeded host random numbers uploaded as tensors: identical chains on every backend and an
//! RNG state that serialises exactly.
//!
//! The persistent state is a ChaCha8 generator. The normals of one tensor come from eight
//! Xoshiro256++ streams seeded by 32 words of it, by a Box–Muller transform that runs the
//! eight streams in vector registers ([`crate::normals`]): the ziggurat on ChaCha8 took 5 ns
//! per normal, a third of a whole N = 2 Metropolis move (`examples/profile_move.rs`), and
//! still 4.4 ns on one Xoshiro256++ (15 % of an N = 2 step).

use burn::tensor::{Device, Tensor, TensorData};
use rand::{Rng, RngCore};
use rand_chacha::ChaCha8Rng;

use crate::normals::Streams;

/// Random tensors drawn from a [`ChaCha8Rng`].
pub trait Noise {
    /// Standard normals, `[rows, cols]`.
    fn normal(&mut self, rows: usize, cols: usize, device: &Device) -> Tensor<2>;
    /// Uniforms in [0, 1), `[rows, cols]`.
    fn uniform(&mut self, rows: usize, cols: usize, device: &Device) -> Tensor<2>;
    /// `count` standard normals on the host (the same draws as [`Noise::normal`]).
    fn normals(&mut self, count: usize) -> Vec<f64>;
    /// `count` uniforms in [0, 1) on the host (the same draws as [`Noise::uniform`]).
    fn uniforms(&mut self, count: usize) -> Vec<f64>;
}

impl Noise for ChaCha8Rng {
    fn normal(&mut self, rows: usize, cols: usize, device: &Device) -> Tensor<2> {
        let v = self.normals(rows * cols);
        Tensor::from_data(TensorData::new(v, [rows, cols]), device)
    }

    fn uniform(&mut self, rows: usize, cols: usize, device: &Device) -> Tensor<2> {
        let v = self.uniforms(rows * cols);
        Tensor::from_data(TensorData::new(v, [rows, cols]), device)
    }

    fn normals(&mut self, count: usize) -> Vec<f64> {
        let mut streams = Streams::new(|| self.next_u64());
        let mut out = vec![0.0; count];
        streams.fill(&mut out);
        out
    }

    fn uniforms(&mut self, count: usize) -> Vec<f64> {
        (0..count).map(|_| self.random::<f64>()).collect()
    }
}
