//! Pair and one-body geometry with the chain rule from row functions to walker derivatives.
//!
//! A pair function Σ_{i<j} u(r_ij) has ∇_i = Σ_j c_ij (x_i − x_j) with c_ij = u'(r)/r, and
//! ∇_i² u(r_ij) = u''(r) + (d − 1) u'(r)/r (the same for particle j). All pair quantities are
//! held as full, symmetric `[walkers, N, N]` matrices with the diagonal masked out, so that
//! the aggregation is one batched matrix product.

use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::{Geometry, LogPsi, Order};

/// Pair separations of a batch.
#[derive(Debug, Clone)]
pub struct Pairs {
    /// x_i − x_j, `[walkers, N, N, d]`.
    pub diff: Tensor<4>,
    /// |x_i − x_j|², `[walkers, N, N]` (0 on the diagonal).
    pub r2: Tensor<3>,
    /// 1 off the diagonal, 0 on it, `[1, N, N]`.
    pub offdiag: Tensor<3>,
}

impl Pairs {
    /// # Shapes
    /// - x: `[walkers, N·d]`
    pub fn new(x: &Tensor<2>, geometry: &Geometry) -> Pairs {
        let [w, _] = x.dims();
        let (n, d) = (geometry.n_particles, geometry.dimensions);
        let p = x.clone().reshape([w, n, d]);
        let diff = p.clone().unsqueeze_dim::<4>(2) - p.unsqueeze_dim::<4>(1); // [w, n, n, d]
        let r2 = diff.clone().square().sum_dim(3).squeeze_dim::<3>(3);
        let device = x.device();
        Pairs {
            diff,
            r2,
            offdiag: pair_matrix(geometry, &device, |i, j| f64::from(u8::from(i != j))),
        }
    }

    /// |x_i − x_j| with 1 on the diagonal (so that divisions by r stay finite there).
    pub fn r(&self) -> Tensor<3> {
        let eye = self.offdiag.clone().neg().add_scalar(1.0);
        (self.r2.clone() + eye).sqrt()
    }

    /// Sum over pairs i<j of a pair function given, for every ordered pair, its value `u`,
    /// the gradient coefficient `c` (∇_i = Σ_j c_ij (x_i − x_j)) and the Laplacian `lap` of
    /// u(r_ij) with respect to particle i alone. All `[walkers, N, N]`, symmetric; the
    /// diagonal is ignored.
    pub fn aggregate(
        &self,
        u: Tensor<3>,
        c: Option<Tensor<3>>,
        lap: Option<Tensor<3>>,
        order: Order,
    ) -> LogPsi {
        let [w, n, _] = u.dims();
        let d = self.diff.dims()[3];
        let mask = self.offdiag.clone();
        let value = (u * mask.clone()).sum_dim(2).sum_dim(1).reshape([w]) * 0.5;
        let grad = if order.gradient() {
            let c = c.expect("pair gradient coefficient") * mask.clone(); // [w, n, n]
            // ∇_i = Σ_j c_ij (x_i − x_j)
            let g = (self.diff.clone() * c.unsqueeze_dim::<4>(3))
                .sum_dim(2)
                .reshape([w, n * d]);
            Some(g)
        } else {
            None
        };
        let lap = if order.laplacian() {
            let l = lap.expect("pair Laplacian") * mask;
            Some(l.sum_dim(2).sum_dim(1).reshape([w]))
        } else {
            None
        };
        LogPsi { value, grad, lap }
    }
}

/// Index maps between the full `[N, N]` pair matrix and the list of pairs i < j.
#[derive(Debug, Clone)]
pub struct PairIndex {
    /// For pair p = (i, j), i < j: the flat index i·N + j, `[P]`.
    pub upper: Tensor<1, Int>,
    /// For flat index i·N + j: the pair index of {i, j}, or P (a zero column) when i = j,
    /// `[N²]`.
    pub full: Tensor<1, Int>,
    /// Number of pairs P = N(N − 1)/2.
    pub n_pairs: usize,
}

impl PairIndex {
    /// Index maps for N particles.
    pub fn new(n: usize, device: &Device) -> Self {
        let mut upper = Vec::with_capacity(n * (n - 1) / 2);
        let mut full = vec![0i64; n * n];
        for i in 0..n {
            for j in (i + 1)..n {
                let p = upper.len() as i64;
                full[i * n + j] = p;
                full[j * n + i] = p;
                upper.push((i * n + j) as i64);
            }
        }
        let n_pairs = upper.len();
        for i in 0..n {
            full[i * n + i] = n_pairs as i64;
        }
        Self {
            upper: Tensor::from_data(TensorData::new(upper, [n_pairs]), device),
            full: Tensor::from_data(TensorData::new(full, [n * n]), device),
            n_pairs,
        }
    }

    /// The entries i < j of a `[walkers, N, N]` matrix, `[walkers, P]`.
    pub fn gather(&self, m: Tensor<3>) -> Tensor<2> {
        let [w, n, _] = m.dims();
        m.reshape([w, n * n]).select(1, self.upper.clone())
    }

    /// The symmetric `[walkers, N, N]` matrix with pair values `v: [walkers, P]` off the
    /// diagonal and 0 on it.
    pub fn scatter(&self, v: Tensor<2>, n: usize) -> Tensor<3> {
        let [w, _] = v.dims();
        let zero = Tensor::zeros([w, 1], &v.device());
        Tensor::cat(vec![v, zero], 1)
            .select(1, self.full.clone())
            .reshape([w, n, n])
    }
}

/// A constant `[1, N, N]` matrix with entries f(i, j).
pub fn pair_matrix(
    geometry: &Geometry,
    device: &Device,
    f: impl Fn(usize, usize) -> f64,
) -> Tensor<3> {
    let n = geometry.n_particles;
    let values: Vec<f64> = (0..n * n).map(|k| f(k / n, k % n)).collect();
    Tensor::from_data(TensorData::new(values, [1, n, n]), device)
}

/// 1 for pairs with parallel spins, 0 for antiparallel, `[1, N, N]`.
pub fn parallel_spins(geometry: &Geometry, device: &Device) -> Tensor<3> {
    pair_matrix(geometry, device, |i, j| {
        f64::from(u8::from(geometry.is_up(i) == geometry.is_up(j)))
    })
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
