//! Pair and one-body geometry with the chain rule from row functions to walker derivatives.
//!
//! A pair function Σ_{i<j} u(r_ij) has ∇_i = Σ_j c_ij (x_i − x_j) with c_ij = u'(r)/r, and
//! ∇_i² u(r_ij) = u''(r) + (d − 1) u'(r)/r (the same for particle j). Only the N(N − 1)/2
//! pairs i < j are computed; gradients go back to the particles through the pair–particle
//! incidence matrix.
//!
//! In a periodic cell of side L (`Geometry::cell`) the separations are reduced to the
//! minimum image and every pair function u is multiplied by the smooth cutoff
//! f(r) = (1 − z)³(1 + 3z), z = min(r/r_c, 1), r_c = L/2: f(0) = 1 and f'(0) = 0 keep the
//! cusp, and f, f', f'' vanish at r_c, so that the product and its gradient and Laplacian
//! are continuous where the minimum image jumps (every such point has r ≥ L/2).

use burn::tensor::{Tensor, TensorData};

use crate::{Geometry, LogPsi, Order, row_sum};

/// The pairs i < j of `n` particles in the order every pair table uses: (0,1), (0,2), …,
/// (1,2), …
pub fn pair_indices(n: usize) -> Vec<(usize, usize)> {
    (0..n)
        .flat_map(|i| ((i + 1)..n).map(move |j| (i, j)))
        .collect()
}

/// Separations of the N(N − 1)/2 pairs i < j of a batch, in pair-major order
/// (0,1), (0,2), …, (1,2), …
///
/// Built from products with small constant matrices, the cheapest way on the CPU backends
/// (docs/performance.md): the separations are x·D with D holding ±1, and the gradient goes
/// back to the particles through the pair–particle incidence matrix.
#[derive(Debug, Clone)]
pub struct Pairs {
    /// x_i − x_j, dimension-major: column a·P + p holds coordinate a of pair p,
    /// `[walkers, d·P]`.
    diff: Tensor<2>,
    /// |x_i − x_j|², `[walkers, P]`.
    pub r2: Tensor<2>,
    /// 1 for pairs with parallel spins, 0 otherwise, `[1, P]`.
    pub parallel: Tensor<2>,
    /// Per dimension a, the incidence matrix placed on coordinate a: +1 at (p, i·d + a) and
    /// −1 at (p, j·d + a), `[P, N·d]` each.
    incidence: Vec<Tensor<2>>,
    /// The cutoff radius r_c = L/2 in a periodic cell.
    cutoff: Option<f64>,
}

impl Pairs {
    /// # Shapes
    /// - x: `[walkers, N·d]`, N ≥ 2 (a pair factor with fewer particles is [`no_pairs`])
    pub fn new(x: &Tensor<2>, geometry: &Geometry) -> Pairs {
        let [_, n_coords] = x.dims();
        let (n, d) = (geometry.n_particles, geometry.dimensions);
        let device = x.device();
        let pairs = pair_indices(n);
        let n_pairs = pairs.len();
        let parallel = pairs
            .iter()
            .map(|&(i, j)| f64::from(u8::from(geometry.is_up(i) == geometry.is_up(j))))
            .collect();
        // D[i·d + a, a·P + p] = +1, D[j·d + a, a·P + p] = −1 for pair p = (i, j).
        let mut separation = vec![0.0; n_coords * d * n_pairs];
        let mut incidence = vec![vec![0.0; n_pairs * n_coords]; d];
        for (p, &(i, j)) in pairs.iter().enumerate() {
            for a in 0..d {
                separation[(i * d + a) * d * n_pairs + a * n_pairs + p] = 1.0;
                separation[(j * d + a) * d * n_pairs + a * n_pairs + p] = -1.0;
                incidence[a][p * n_coords + i * d + a] = 1.0;
                incidence[a][p * n_coords + j * d + a] = -1.0;
            }
        }
        let matrix = |v: Vec<f64>, shape: [usize; 2]| {
            Tensor::<2>::from_data(TensorData::new(v, shape), &device)
        };
        let diff = geometry.minimum_image(
            x.clone()
                .matmul(matrix(separation, [n_coords, d * n_pairs])),
        );
        let r2 = (0..d)
            .map(|a| diff.clone().narrow(1, a * n_pairs, n_pairs).square())
            .reduce(|s, t| s + t)
            .expect("d >= 1");
        Pairs {
            diff,
            r2,
            parallel: matrix(parallel, [1, n_pairs]),
            incidence: incidence
                .into_iter()
                .map(|m| matrix(m, [n_pairs, n_coords]))
                .collect(),
            cutoff: geometry.cell.map(|l| l / 2.0),
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

    /// Coordinate `a` of x_i − x_j for every pair, `[walkers, P]`.
    pub fn separation(&self, a: usize) -> Tensor<2> {
        let n_pairs = self.len();
        self.diff.clone().narrow(1, a * n_pairs, n_pairs)
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
        let (u, c, lap) = match self.cutoff {
            Some(r_c) => self.cut_off(u, c, lap, r_c),
            None => (u, c, lap),
        };
        let n_pairs = self.len();
        let value = row_sum(u);
        let grad = order.gradient().then(|| {
            let c = c.expect("pair gradient coefficient");
            // ∇_{i,a} = Σ_p incidence[p, i] c_p (x_i − x_j)_a, one product per dimension.
            self.incidence
                .iter()
                .enumerate()
                .map(|(a, incidence)| {
                    (self.diff.clone().narrow(1, a * n_pairs, n_pairs) * c.clone())
                        .matmul(incidence.clone())
                })
                .reduce(|s, t| s + t)
                .expect("d >= 1")
        });
        let lap = order
            .laplacian()
            .then(|| row_sum(lap.expect("pair Laplacian")) * 2.0);
        LogPsi { value, grad, lap }
    }
}

impl Pairs {
    /// u·f with its gradient coefficient and Laplacian (module docs), given u, c = u'/r and
    /// lap = u'' + (d − 1)u'/r: with g = f'/r = −12(1 − z)²/r_c² and
    /// f'' = −12(1 − z)(1 − 3z)/r_c², c̃ = c f + u g and
    /// lap̃ = f lap + 2 c r² g + u (f'' + (d − 1) g).
    fn cut_off(
        &self,
        u: Tensor<2>,
        c: Option<Tensor<2>>,
        lap: Option<Tensor<2>>,
        r_c: f64,
    ) -> (Tensor<2>, Option<Tensor<2>>, Option<Tensor<2>>) {
        let d = self.incidence.len() as f64;
        let (f, g, f2) = cutoff_factors(self.r2.clone(), r_c);
        let lap = match (lap, &c) {
            (Some(lap), Some(c)) => Some(
                f.clone() * lap
                    + c.clone() * self.r2.clone() * g.clone() * 2.0
                    + u.clone() * (f2 + g.clone() * (d - 1.0)),
            ),
            _ => None,
        };
        let c = c.map(|c| c * f.clone() + u.clone() * g);
        (u * f, c, lap)
    }

    /// Σ_{i<j} u(t_ij) for a function of t = ω r_ij², given its jet over the pair rows
    /// (`[walkers·P, 1]`, derivatives with respect to t): ∇_i u = 2ω u'(t)(x_i − x_j) and,
    /// per particle, ∇_i² u = 2ωd u' + 4ω t u''.
    ///
    /// # Shapes
    /// - t: `[walkers, P]`
    pub fn aggregate_scaled_square(
        &self,
        t: Tensor<2>,
        jet: crate::Jet,
        omega: f64,
        dimensions: usize,
        order: Order,
    ) -> LogPsi {
        let [w, n_pairs] = t.dims();
        let u = jet.value.reshape([w, n_pairs]);
        let du = jet.grad.map(|g| g.reshape([w, n_pairs]));
        let d2u = jet.lap.map(|l| l.reshape([w, n_pairs]));
        let c = du.clone().map(|du| du * (2.0 * omega));
        let lap = match (du, d2u) {
            (Some(du), Some(d2u)) => {
                Some(du * (2.0 * omega * dimensions as f64) + d2u * t * (4.0 * omega))
            }
            _ => None,
        };
        self.aggregate(u, c, lap, order)
    }

    /// Gradients of L pair features: feature l of pair p = (i, j) has ∇_i = c[p, l] (x_i − x_j)
    /// and ∇_j = −c[p, l] (x_i − x_j); returns Σ_p of them per coordinate, `[walkers, N·d, L]`.
    ///
    /// # Shapes
    /// - c: `[walkers, P, L]`
    pub fn gather_features(&self, c: Tensor<3>) -> Tensor<3> {
        let [w, n_pairs, l] = c.dims();
        let n_coords = self.incidence[0].dims()[1];
        self.incidence
            .iter()
            .enumerate()
            .map(|(a, incidence)| {
                let diff = self
                    .diff
                    .clone()
                    .narrow(1, a * n_pairs, n_pairs)
                    .unsqueeze_dim::<3>(2); // [w, P, 1]
                (c.clone() * diff)
                    .swap_dims(1, 2)
                    .reshape([w * l, n_pairs])
                    .matmul(incidence.clone()) // [w·L, N·d]
            })
            .reduce(|s, t| s + t)
            .expect("d >= 1")
            .reshape([w, l, n_coords])
            .swap_dims(1, 2)
    }
}

/// The smooth cutoff of a periodic cell (module docs) at squared distances r²: f,
/// g = f'/r and f'' (finite at r = 0), each the shape of `r2`.
pub(crate) fn cutoff_factors(r2: Tensor<2>, r_c: f64) -> (Tensor<2>, Tensor<2>, Tensor<2>) {
    let one_minus_z = (r2.sqrt() / r_c).clamp_max(1.0).neg().add_scalar(1.0);
    let z = one_minus_z.clone().neg().add_scalar(1.0);
    let f = one_minus_z.clone() * one_minus_z.clone().square() * (z.clone() * 3.0).add_scalar(1.0);
    let scale = -12.0 / (r_c * r_c);
    let g = one_minus_z.clone().square() * scale;
    let f2 = one_minus_z * (z * -3.0).add_scalar(1.0) * scale;
    (f, g, f2)
}

/// A pair function's contribution when there are no pairs (N < 2): zero, with zero
/// derivatives.
///
/// # Shapes
/// - x: `[walkers, N·d]`
pub fn no_pairs(x: &Tensor<2>, order: Order) -> LogPsi {
    let [w, n_coords] = x.dims();
    let device = x.device();
    LogPsi {
        value: Tensor::zeros([w], &device),
        grad: order
            .gradient()
            .then(|| Tensor::zeros([w, n_coords], &device)),
        lap: order.laplacian().then(|| Tensor::zeros([w], &device)),
    }
}

/// Lift a one-body jet evaluated on rows `[walkers·N, d]` (one row per particle) to walker
/// derivatives: values and Laplacians add over particles, gradients are the rows' gradients.
pub fn lift_one_body(jet: crate::Jet, walkers: usize, geometry: &Geometry) -> LogPsi {
    let n = geometry.n_particles;
    let value = row_sum(jet.value.reshape([walkers, n]));
    let grad = jet.grad.map(|g| g.reshape([walkers, geometry.n_coords()]));
    let lap = jet.lap.map(|l| row_sum(l.reshape([walkers, n])));
    LogPsi { value, grad, lap }
}
