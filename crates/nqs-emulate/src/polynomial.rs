//! The baseline: a weighted least-squares polynomial in the input.

use serde::{Deserialize, Serialize};

use crate::eigen::solve_least_squares;

/// p(c) = Σ_k a_k t^k with t = (c − centre)/scale.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Polynomial {
    /// a_0 … a_d.
    pub coefficients: Vec<f64>,
    /// Centre of the input range.
    pub centre: f64,
    /// Half-width of the input range.
    pub scale: f64,
}

impl Polynomial {
    /// Fit degree `degree` to (c, y) with weights 1/σ².
    pub fn fit(c: &[f64], y: &[f64], sigma: &[f64], degree: usize) -> Self {
        let (lo, hi) = c
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
                (l.min(v), h.max(v))
            });
        let centre = 0.5 * (lo + hi);
        let scale = if hi > lo { 0.5 * (hi - lo) } else { 1.0 };
        let cols = degree + 1;
        let mut a = Vec::with_capacity(c.len() * cols);
        let mut b = Vec::with_capacity(c.len());
        for ((&ci, &yi), &si) in c.iter().zip(y).zip(sigma) {
            let t = (ci - centre) / scale;
            a.extend((0..cols).map(|k| t.powi(k as i32) / si));
            b.push(yi / si);
        }
        Self {
            coefficients: solve_least_squares(&a, c.len(), cols, &b),
            centre,
            scale,
        }
    }

    /// Degree d.
    pub fn degree(&self) -> usize {
        self.coefficients.len() - 1
    }

    /// p(c).
    pub fn eval(&self, c: f64) -> f64 {
        let t = (c - self.centre) / self.scale;
        self.coefficients
            .iter()
            .rev()
            .fold(0.0, |acc, a| acc * t + a)
    }
}
