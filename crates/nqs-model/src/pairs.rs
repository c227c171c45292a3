//! Pair and one-body geometry with the chain rule from row functions to walker derivatives.
//!
//! A pair function Σ_{i<j} u(r_ij) has ∇_i = Σ_j c_ij (x_i − x_j) with c_ij = u'(r)/r, and
//! ∇_i² u(r_ij) = u''(r) + (d − 1) u'(r)/r (the same for particle j). Only the N(N − 1)/2
//! pairs i < j are computed; gradients go back to the particles through one product with the
//! pair–particle incidence matrix.

use burn::tensor::{Int, Tensor, TensorData};

use crate::{Geometry, LogPsi, Order};

/// Separations of the N(N − 1)/2 pairs i < j of a batch, in pair-major order
/// (0,1), (0,2), …, (1,2), …
#[derive(Debug, Clone)]
pub struct Pairs {
    /// x_i − x_j, `[walkers, d, P]`.
    pub diff: Tensor<3>,
    /// |x_i − x_j|², `[walkers, P]`.
    pub r2: Tensor<2>,
    /// 1 for pairs with parallel spins, 0 otherwise, `[1, P]`.
    pub parallel: Tensor<2>,
    /// Incidence matrix, +1 at (p, i) and −1 at (p, j), `[P, N]`.
    incidence: Tensor<2>,
}

impl Pairs {
    /// # Shapes
    /// - x: `[walkers, N·d]`
    pub fn new(x: &Tensor<2>, geometry: &Geometry) -> Pairs {
        let [w, _] = x.dims();
        let (n, d) = (geometry.n_particles, geometry.dimensions);
        let device = x.device();
        let (mut first, mut second, mut parallel) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..n {
            for j in (i + 1)..n {
                first.push(i as i64);
                second.push(j as i64);
                parallel.push(f64::from(u8::from(geometry.is_up(i) == geometry.is_up(j))));
            }
        }
        let n_pairs = first.len();
        let mut incidence = vec![0.0; n_pairs * n];
        for p in 0..n_pairs {
            incidence[p * n + first[p] as usize] = 1.0;
            incidence[p * n + second[p] as usize] = -1.0;
        }
        let index =
            |v: Vec<i64>| Tensor::<1, Int>::from_data(TensorData::new(v, [n_pairs]), &device);
        // [w, d, n]: the coordinates of each particle along the last axis.
        let xt = x.clone().reshape([w, n, d]).swap_dims(1, 2);
        let diff = xt.clone().select(2, index(first)) - xt.select(2, index(second));
        let r2 = diff.clone().square().sum_dim(1).reshape([w, n_pairs]);
        Pairs {
            diff,
            r2,
            parallel: Tensor::from_data(TensorData::new(parallel, [1, n_pairs]), &device),
            incidence: Tensor::from_data(TensorData::new(incidence, [n_pairs, n]), &device),
        }
    }

    /// Number of pairs P.
    pub fn len(&self) -> usize {
        self.r2.dims()[1]
    }

    /// Whether there are no pairs (N = 1).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// |x_i − x_j|, `[walkers, P]`.
    pub fn r(&self) -> Tensor<2> {
        self.r2.clone().sqrt()
    }

    /// Sum over pairs of a pair function given, per pair, its value `u`, the gradient
    /// coefficient `c` (∇_i u = c (x_i − x_j), ∇_j u = −c (x_i − x_j)) and the Laplacian
    /// `lap` of u with respect to one of the two particles (the same for both). All
    /// `[walkers, P]`.
    pub fn aggregate(
        &self,
        u: Tensor<2>,
        c: Option<Tensor<2>>,
        lap: Option<Tensor<2>>,
        order: Order,
    ) -> LogPsi {
        let [w, n_pairs] = u.dims();
        let d = self.diff.dims()[1];
        let n = self.incidence.dims()[1];
        let value = u.sum_dim(1).reshape([w]);
        let grad = order.gradient().then(|| {
            let c = c.expect("pair gradient coefficient").unsqueeze_dim::<3>(1); // [w, 1, P]
            (self.diff.clone() * c)
                .reshape([w * d, n_pairs])
                .matmul(self.incidence.clone()) // [w·d, n]
                .reshape([w, d, n])
                .swap_dims(1, 2)
                .reshape([w, n * d])
        });
        let lap = order
            .laplacian()
            .then(|| lap.expect("pair Laplacian").sum_dim(1).reshape([w]) * 2.0);
        LogPsi { value, grad, lap }
    }
}

/// Lift a one-body jet evaluated on rows `[walkers·N, d]` (one row per particle) to walker
/// derivatives: values and Laplacians add over particles, gradients are the rows' gradients.
pub fn lift_one_body(jet: crate::Jet, walkers: usize, geometry: &Geometry) -> LogPsi {
    let n = geometry.n_particles;
    let value = jet
        .value
        .reshape([walkers, n])
        .sum_dim(1)
        .reshape([walkers]);
    let grad = jet.grad.map(|g| g.reshape([walkers, geometry.n_coords()]));
    let lap = jet
        .lap
        .map(|l| l.reshape([walkers, n]).sum_dim(1).reshape([walkers]));
    LogPsi { value, grad, lap }
}
