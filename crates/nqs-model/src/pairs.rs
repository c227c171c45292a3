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
//! are continuous where the minimum image jumps (every such point has r ≥ L/2). A pair
//! function that does not vanish at r_c is shifted first by its factor (the Padé–Jastrow
//! passes u − u(r_c)), so that u·f does not turn over before r_c.

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
/// The separations are x·D with D holding ±1, computed directly on the host where the
/// walkers are flex f64 without an autodiff graph (every pass but a tracked one; the same
/// values); the gradient goes back to the particles through the pair–particle incidence
/// matrix, built only by the passes that need it (docs/performance.md).
#[derive(Debug, Clone)]
pub struct Pairs {
    /// x_i − x_j, dimension-major: column a·P + p holds coordinate a of pair p,
    /// `[walkers, d·P]`.
    diff: Tensor<2>,
    /// |x_i − x_j|², `[walkers, P]`.
    pub r2: Tensor<2>,
    /// 1 for pairs with parallel spins, 0 otherwise, `[1, P]`.
    pub parallel: Tensor<2>,
    /// The pairs (i, j), i < j.
    pairs: Vec<(usize, usize)>,
    /// Spatial dimensions d.
    dimensions: usize,
    /// Walker coordinates N·d.
    n_coords: usize,
    /// The cutoff radius r_c = L/2 in a periodic cell.
    cutoff: Option<f64>,
}

impl Pairs {
    /// # Shapes
    /// - x: `[walkers, N·d]`, N ≥ 2 (a pair factor with fewer particles is [`no_pairs`])
    pub fn new(x: &Tensor<2>, geometry: &Geometry) -> Pairs {
        let (n, d) = (geometry.n_particles, geometry.dimensions);
        let device = x.device();
        let pairs = pair_indices(n);
        let n_pairs = pairs.len();
        let parallel = pairs
            .iter()
            .map(|&(i, j)| f64::from(u8::from(geometry.is_up(i) == geometry.is_up(j))))
            .collect();
        let (diff, r2) = host_separations(x, geometry, &pairs).unwrap_or_else(|| {
            let [_, n_coords] = x.dims();
            // D[i·d + a, a·P + p] = +1, D[j·d + a, a·P + p] = −1 for pair p = (i, j).
            let mut separation = vec![0.0; n_coords * d * n_pairs];
            for (p, &(i, j)) in pairs.iter().enumerate() {
                for a in 0..d {
                    separation[(i * d + a) * d * n_pairs + a * n_pairs + p] = 1.0;
                    separation[(j * d + a) * d * n_pairs + a * n_pairs + p] = -1.0;
                }
            }
            let separation = Tensor::<2>::from_data(
                TensorData::new(separation, [n_coords, d * n_pairs]),
                &device,
            );
            let diff = geometry.minimum_image(x.clone().matmul(separation));
            let r2 = (0..d)
                .map(|a| diff.clone().narrow(1, a * n_pairs, n_pairs).square())
                .reduce(|s, t| s + t)
                .expect("d >= 1");
            (diff, r2)
        });
        Pairs {
            diff,
            r2,
            parallel: Tensor::from_data(TensorData::new(parallel, [1, n_pairs]), &device),
            pairs,
            dimensions: d,
            n_coords: x.dims()[1],
            cutoff: geometry.cell.map(|l| l / 2.0),
        }
    }

    /// Per dimension a, the incidence matrix placed on coordinate a: +1 at (p, i·d + a) and
    /// −1 at (p, j·d + a), `[P, N·d]` each (built where a gradient needs it).
    fn incidence(&self) -> Vec<Tensor<2>> {
        let (d, n_pairs, n_coords) = (self.dimensions, self.pairs.len(), self.n_coords);
        let device = self.diff.device();
        (0..d)
            .map(|a| {
                let mut m = vec![0.0; n_pairs * n_coords];
                for (p, &(i, j)) in self.pairs.iter().enumerate() {
                    m[p * n_coords + i * d + a] = 1.0;
                    m[p * n_coords + j * d + a] = -1.0;
                }
                Tensor::from_data(TensorData::new(m, [n_pairs, n_coords]), &device)
            })
            .collect()
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
            self.incidence()
                .into_iter()
                .enumerate()
                .map(|(a, incidence)| {
                    (self.diff.clone().narrow(1, a * n_pairs, n_pairs) * c.clone())
                        .matmul(incidence)
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
        let d = self.dimensions as f64;
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
        let incidence = self.incidence();
        let n_coords = incidence[0].dims()[1];
        incidence
            .into_iter()
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
                    .matmul(incidence) // [w·L, N·d]
            })
            .reduce(|s, t| s + t)
            .expect("d >= 1")
            .reshape([w, l, n_coords])
            .swap_dims(1, 2)
    }
}

/// x_i − x_j (`[W, d·P]`, column a·P + p, minimum image in a periodic cell) and r²
/// (`[W, P]`) computed on the host for walkers on flex in f64 that carry no autodiff graph
/// (as constants on `x`'s device), the same values as the product x·D and the sum of
/// squares (each separation is one rounded subtraction either way); `None` for other
/// walkers. At N = 20 with 512 walkers the product took 1.7 ms and this 0.15 ms.
fn host_separations(
    x: &Tensor<2>,
    geometry: &Geometry,
    pairs: &[(usize, usize)],
) -> Option<(Tensor<2>, Tensor<2>)> {
    if !crate::host_tanh::on_flex_f64(x) || x.is_tracked() {
        return None;
    }
    let [w, n_coords] = x.dims();
    let data = x.clone().without_autodiff().into_data();
    let xs = data.as_slice::<f64>().ok()?;
    let (d, n_pairs) = (geometry.dimensions, pairs.len());
    let mut diff = vec![0.0; w * d * n_pairs];
    let mut r2 = vec![0.0; w * n_pairs];
    for ((walker, diff), r2) in xs
        .chunks_exact(n_coords)
        .zip(diff.chunks_exact_mut(d * n_pairs))
        .zip(r2.chunks_exact_mut(n_pairs))
    {
        for (a, diff) in diff.chunks_exact_mut(n_pairs).enumerate() {
            for ((s, r2), &(i, j)) in diff.iter_mut().zip(r2.iter_mut()).zip(pairs) {
                let mut t = walker[i * d + a] - walker[j * d + a];
                if let Some(l) = geometry.cell {
                    t -= (t / l).round_ties_even() * l;
                }
                *s = t;
                *r2 = if a == 0 { t * t } else { *r2 + t * t };
            }
        }
    }
    let device = x.device();
    let tensor =
        |v: Vec<f64>, cols: usize| Tensor::<2>::from_data(TensorData::new(v, [w, cols]), &device);
    Some((tensor(diff, d * n_pairs), tensor(r2, n_pairs)))
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

#[cfg(test)]
mod tests {
    use burn::tensor::{Tensor, TensorData};

    use super::*;
    use crate::host_tanh::testing::{flex_f64, ndarray_f64, values};

    /// The host separations (flex, no graph: plain walkers and autodiff walkers without one)
    /// equal the product x·D and its sum of squares (ndarray) bit for bit, in open space and
    /// with minimum images in a periodic cell (2D N = 6, 3D N = 5); tracked walkers keep the
    /// product.
    #[test]
    fn host_separations_equal_the_product_with_d() {
        let mut rng = crate::ParamRng::new(17);
        for (n, d, cell) in [
            (6, 2, None),
            (5, 3, None),
            (6, 2, Some(3.0)),
            (5, 3, Some(2.5)),
        ] {
            let mut geometry = Geometry::balanced(n, d);
            geometry.cell = cell;
            let w = 37;
            let x: Vec<f64> = (0..w * n * d).map(|_| 2.0 * rng.normal()).collect();
            let at = |flex: bool| {
                let device = if flex { flex_f64() } else { ndarray_f64() };
                Tensor::<2>::from_data(TensorData::new(x.clone(), [w, n * d]), &device)
            };
            let reference = Pairs::new(&at(false), &geometry);
            assert!(host_separations(&at(false), &geometry, &reference.pairs).is_none());
            let tracked = at(true).autodiff().require_grad();
            assert!(host_separations(&tracked, &geometry, &reference.pairs).is_none());
            for x in [at(true), at(true).autodiff()] {
                let host = host_separations(&x, &geometry, &reference.pairs).expect("host");
                let pairs = Pairs::new(&x, &geometry);
                let context = format!("N = {n}, d = {d}, cell {cell:?}");
                assert_eq!(values(host.0), values(reference.diff.clone()), "{context}");
                assert_eq!(values(host.1), values(reference.r2.clone()), "{context}");
                assert_eq!(values(pairs.r2), values(reference.r2.clone()), "{context}");
            }
        }
    }
}
