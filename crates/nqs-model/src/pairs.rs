//! Pair and one-body geometry with the chain rule from row functions to walker derivatives.
//!
//! A pair function Σ_{i<j} u(r_ij) has ∇_i = Σ_j c_ij (x_i − x_j) with c_ij = u'(r)/r, and
//! ∇_i² u(r_ij) = u''(r) + (d − 1) u'(r)/r (the same for particle j). Only the N(N − 1)/2
//! pairs i < j are computed; gradients go back to the particles by gathering, for each particle,
//! the N − 1 pairs that contain it.

use burn::tensor::{Int, Tensor, TensorData};

use crate::{Geometry, LogPsi, Order};

/// Separations of the N(N − 1)/2 pairs i < j of a batch, in pair-major order
/// (0,1), (0,2), …, (1,2), …
#[derive(Debug, Clone)]
pub struct Pairs {
    /// x_i − x_j, `[walkers, P, d]`.
    pub diff: Tensor<3>,
    /// |x_i − x_j|², `[walkers, P]`.
    pub r2: Tensor<2>,
    /// 1 for pairs with parallel spins, 0 otherwise, `[1, P]`.
    pub parallel: Tensor<2>,
    /// For each particle i (major) the N − 1 pairs that contain it, `[N·(N − 1)]`.
    members: Tensor<1, Int>,
    /// +1 where the particle is the first of the pair, −1 where it is the second,
    /// `[1, N·(N − 1), 1]`.
    member_sign: Tensor<3>,
    /// Number of particles N.
    n_particles: usize,
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
                first.extend((0..d).map(|a| (i * d + a) as i64));
                second.extend((0..d).map(|a| (j * d + a) as i64));
                parallel.push(f64::from(u8::from(geometry.is_up(i) == geometry.is_up(j))));
            }
        }
        // Index of pair (i, j), i < j, in pair-major order.
        let pair_index = |i: usize, j: usize| i * n - i * (i + 1) / 2 + (j - i - 1);
        let (mut members, mut member_sign) = (Vec::new(), Vec::new());
        for i in 0..n {
            for j in (0..n).filter(|&j| j != i) {
                members.push(pair_index(i.min(j), i.max(j)) as i64);
                member_sign.push(if i < j { 1.0 } else { -1.0 });
            }
        }
        let p = parallel.len();
        let n_pairs = p;
        let index = |v: Vec<i64>| {
            let len = v.len();
            Tensor::<1, Int>::from_data(TensorData::new(v, [len]), &device)
        };
        // Coordinates of the first and of the second particle of every pair: [w, P·d].
        let diff = (x.clone().select(1, index(first)) - x.clone().select(1, index(second)))
            .reshape([w, n_pairs, d]);
        let r2 = diff.clone().square().sum_dim(2).reshape([w, n_pairs]);
        let n_members = member_sign.len();
        Pairs {
            diff,
            r2,
            parallel: Tensor::from_data(TensorData::new(parallel, [1, n_pairs]), &device),
            members: index(members),
            n_particles: n,
            member_sign: Tensor::from_data(
                TensorData::new(member_sign, [1, n_members, 1]),
                &device,
            ),
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
        let [w, _] = u.dims();
        let d = self.diff.dims()[2];
        let n = self.n_particles;
        let value = u.sum_dim(1).reshape([w]);
        let grad = order.gradient().then(|| {
            let c = c.expect("pair gradient coefficient").unsqueeze_dim::<3>(2); // [w, P, 1]
            // ∇_i = Σ_{pairs p ∋ i} ±c_p (x_i − x_j): gather the N − 1 pairs of each particle.
            (self.diff.clone() * c)
                .select(1, self.members.clone())
                .mul(self.member_sign.clone())
                .reshape([w, n, n - 1, d])
                .sum_dim(2)
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
