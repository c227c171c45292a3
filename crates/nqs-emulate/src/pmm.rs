//! The affine-eigenvalue parametric matrix model (Cook, Jammooa, Hjorth-Jensen, Lee, Lee,
//! Nat. Commun. 16, 5929 (2025)): M(c) = M₀ + Σ_i c_i M_i with real symmetric n × n
//! matrices, whose lowest eigenvalues are the outputs.
//!
//! Parameters are the upper triangles (a ≤ b) of M₀, M₁, … in order. Eigenvalue gradients
//! by Hellmann–Feynman: for a non-degenerate level with unit eigenvector v,
//! ∂λ/∂(M_i)_ab = c_i v_a v_b (c₀ = 1), so an off-diagonal parameter, which sits at (a, b)
//! and (b, a), has 2 c_i v_a v_b.

use serde::{Deserialize, Serialize};

use crate::eigen::symmetric_eigen;

/// An affine-eigenvalue PMM.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Pmm {
    /// Matrix size n.
    pub size: usize,
    /// M₀, M₁, …, each n × n row-major and symmetric.
    pub matrices: Vec<Vec<f64>>,
}

/// Number of parameters of a PMM of `size` with `inputs` inputs.
pub fn n_params(size: usize, inputs: usize) -> usize {
    (inputs + 1) * size * (size + 1) / 2
}

impl Pmm {
    /// Number of inputs (the c_i).
    pub fn inputs(&self) -> usize {
        self.matrices.len() - 1
    }

    /// The model with parameters θ (upper triangles of M₀, M₁, …).
    pub fn from_params(size: usize, inputs: usize, theta: &[f64]) -> Self {
        assert_eq!(theta.len(), n_params(size, inputs), "parameter count");
        let per = size * (size + 1) / 2;
        let matrices = (0..=inputs)
            .map(|i| {
                let mut m = vec![0.0; size * size];
                let mut k = i * per;
                for a in 0..size {
                    for b in a..size {
                        m[a * size + b] = theta[k];
                        m[b * size + a] = theta[k];
                        k += 1;
                    }
                }
                m
            })
            .collect();
        Self { size, matrices }
    }

    /// θ, the inverse of [`Pmm::from_params`].
    pub fn params(&self) -> Vec<f64> {
        let n = self.size;
        self.matrices
            .iter()
            .flat_map(|m| (0..n).flat_map(move |a| (a..n).map(move |b| m[a * n + b])))
            .collect()
    }

    /// M(c), row-major.
    pub fn matrix(&self, c: &[f64]) -> Vec<f64> {
        assert_eq!(c.len(), self.inputs(), "input count");
        let mut m = self.matrices[0].clone();
        for (ci, mi) in c.iter().zip(&self.matrices[1..]) {
            for (x, y) in m.iter_mut().zip(mi) {
                *x += ci * y;
            }
        }
        m
    }

    /// All eigenvalues of M(c), ascending.
    pub fn eigenvalues(&self, c: &[f64]) -> Vec<f64> {
        symmetric_eigen(&self.matrix(c), self.size).0
    }

    /// The lowest `levels` eigenvalues at c with their gradients in θ (Hellmann–Feynman),
    /// and the gap from the highest of them to the next level (∞ when there is none).
    pub fn levels_with_gradients(&self, c: &[f64], levels: usize) -> LevelGradients {
        let n = self.size;
        let (values, vectors) = symmetric_eigen(&self.matrix(c), n);
        let weights: Vec<f64> = std::iter::once(1.0).chain(c.iter().copied()).collect();
        let gradients = (0..levels)
            .map(|k| {
                let v = &vectors[k];
                weights
                    .iter()
                    .flat_map(|&w| {
                        (0..n).flat_map(move |a| {
                            (a..n).map(move |b| {
                                let factor = if a == b { 1.0 } else { 2.0 };
                                factor * w * v[a] * v[b]
                            })
                        })
                    })
                    .collect()
            })
            .collect();
        let gap = if levels < n {
            values[levels] - values[levels - 1]
        } else {
            f64::INFINITY
        };
        LevelGradients {
            values: values[..levels].to_vec(),
            gradients,
            gap,
        }
    }
}

/// Lowest levels at one input with their parameter gradients.
#[derive(Debug, Clone)]
pub struct LevelGradients {
    /// λ_0 … λ_{k−1}.
    pub values: Vec<f64>,
    /// ∂λ_k/∂θ per level.
    pub gradients: Vec<Vec<f64>>,
    /// λ_k − λ_{k−1}: how far the highest level used is from the next one.
    pub gap: f64,
}
