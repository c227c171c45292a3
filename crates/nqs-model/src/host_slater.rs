//! The Hermite Slater determinant's jet as one host pass over the walkers: value, gradient
//! and Laplacian of log|det P↑| + log|det P↓| − (αω/2) Σ_i r_i² and the sign of det P↑ det P↓,
//! for walkers on flex f64 and an untracked α (the local energies, Langevin drifts).
//!
//! The same closed forms as the factor's burn ops ([`crate::factors::SlaterDeterminant`]):
//! P_ij = Π_a H_{n_ja}(ξ_ia), ξ = √(αω) x; ∂_{ia} P_ij = √(αω) H′_{n_ja}(ξ_ia) Π_{b≠a} H_{n_jb}(ξ_ib)
//! and ∂²_{ia} P_ij with αω H″ in its place; ∂_{ia} log|det P| = Σ_j ∂_{ia}P_ij (P⁻¹)_ji and
//! ∇² log|det P| = Σ_{i,a} [Σ_j ∂²_{ia}P_ij (P⁻¹)_ji − (∂_{ia} log|det P|)²]. The Hermite
//! polynomials come from their recurrence (H_{k+1} = 2ξH_k − 2kH_{k−1}, H′_k = 2kH_{k−1},
//! H″_k = 4k(k − 1)H_{k−2}) where the burn ops use Horner's rule on the monomial
//! coefficients, and the inverses from the host elimination that the burn ops call too.
//! In burn ops the jet is about 15 + 8d ops on [W·N, d·N/2] tensors; here one pass over each
//! walker's coordinates and one batched elimination (the tests compare the two).

use burn::tensor::{Tensor, TensorData};

use crate::host_det::batch_log_det;
use crate::host_tanh::{eligible, host_values};
use crate::{Geometry, LogPsi, Order};

/// The factor's (log|ψ_S| with derivatives up to `order`, sign) for walkers `x`
/// (`[walkers, N·d]`, flex f64, not tracked) and α (`[1]`, untracked); `None` where either is
/// not such a tensor. `orbitals` holds n_ja, `[orbital][dimension]`, N/2 orbitals per spin.
pub(crate) fn slater_jet(
    x: &Tensor<2>,
    geometry: &Geometry,
    alpha: Tensor<1>,
    omega: f64,
    orbitals: &[Vec<usize>],
    order: Order,
) -> Option<(LogPsi, Tensor<1>)> {
    if !eligible(x) {
        return None;
    }
    let alpha_omega = host_values(alpha)?[0] * omega;
    let [w, n_coords] = x.dims();
    let data = x.clone().into_data();
    let xs = data.as_slice::<f64>().ok()?;
    let d = geometry.dimensions;
    let n_orb = orbitals.len();
    let jet = Jet {
        d,
        n_orb,
        q: alpha_omega.sqrt(),
        alpha_omega,
        orbitals,
        degrees: orbitals.iter().flatten().copied().max().unwrap_or(0) + 1,
    };
    let (with_grad, with_lap) = (order.gradient(), order.laplacian());
    let mut value = vec![0.0; w];
    let mut sign = vec![0.0; w];
    let mut grad = vec![0.0; if with_grad { w * n_coords } else { 0 }];
    let mut lap = vec![0.0; if with_lap { w } else { 0 }];
    // Chunks of walkers whose blocks go through one batched elimination together, their
    // tables in the cache.
    let mut p = vec![0.0; 2 * CHUNK * n_orb * n_orb];
    let mut hermite = Hermite::new(d, jet.degrees);
    for start in (0..w).step_by(CHUNK) {
        let len = CHUNK.min(w - start);
        let walkers = &xs[start * n_coords..(start + len) * n_coords];
        let p = &mut p[..2 * len * n_orb * n_orb];
        jet.matrices(walkers, &mut hermite, p);
        let (log_abs, signs, inverse) = batch_log_det(p, n_orb, with_grad);
        for (k, walker) in walkers.chunks_exact(n_coords).enumerate() {
            let gaussian: f64 = walker.iter().map(|v| v * v).sum();
            value[start + k] = log_abs[2 * k] + log_abs[2 * k + 1] - 0.5 * alpha_omega * gaussian;
            sign[start + k] = signs[2 * k] * signs[2 * k + 1];
        }
        if let Some(inverse) = inverse {
            let grad = &mut grad[start * n_coords..(start + len) * n_coords];
            let lap = with_lap.then(|| &mut lap[start..start + len]);
            jet.traces(walkers, &inverse, &mut hermite, grad, lap);
        }
    }
    let device = x.device();
    let vector = |v: Vec<f64>| Tensor::<1>::from_data(TensorData::new(v, [w]), &device);
    let log_psi = LogPsi {
        value: vector(value),
        grad: with_grad
            .then(|| Tensor::<2>::from_data(TensorData::new(grad, [w, n_coords]), &device)),
        lap: with_lap.then(|| vector(lap)),
    };
    Some((log_psi, vector(sign)))
}

/// Walkers per batched elimination (2 blocks each).
const CHUNK: usize = 16;

/// The factor's constants.
struct Jet<'a> {
    d: usize,
    n_orb: usize,
    /// √(αω).
    q: f64,
    alpha_omega: f64,
    /// n_ja, `[orbital][dimension]`.
    orbitals: &'a [Vec<usize>],
    /// Highest degree + 1.
    degrees: usize,
}

/// H_k, H′_k and H″_k at ξ_a of one particle, at `a·degrees + k`.
struct Hermite {
    h: Vec<f64>,
    h1: Vec<f64>,
    h2: Vec<f64>,
}

impl Hermite {
    fn new(d: usize, degrees: usize) -> Self {
        Self {
            h: vec![0.0; d * degrees],
            h1: vec![0.0; d * degrees],
            h2: vec![0.0; d * degrees],
        }
    }

    /// The tables at ξ = q·`particle` (derivatives in ξ when `derivatives`).
    fn fill(&mut self, particle: &[f64], q: f64, degrees: usize, derivatives: bool) {
        for (a, &coordinate) in particle.iter().enumerate() {
            let xi = q * coordinate;
            let h = &mut self.h[a * degrees..(a + 1) * degrees];
            h[0] = 1.0;
            if degrees > 1 {
                h[1] = 2.0 * xi;
            }
            for k in 2..degrees {
                h[k] = 2.0 * xi * h[k - 1] - 2.0 * (k - 1) as f64 * h[k - 2];
            }
            if !derivatives {
                continue;
            }
            for k in 0..degrees {
                self.h1[a * degrees + k] = if k >= 1 {
                    2.0 * k as f64 * h[k - 1]
                } else {
                    0.0
                };
                self.h2[a * degrees + k] = if k >= 2 {
                    4.0 * (k * (k - 1)) as f64 * h[k - 2]
                } else {
                    0.0
                };
            }
        }
    }

    /// Π_{b≠a} H_{n_b}(ξ_b) for quanta n.
    fn others(&self, quanta: &[usize], a: usize, degrees: usize) -> f64 {
        let mut product = 1.0;
        for (b, &n) in quanta.iter().enumerate() {
            if b != a {
                product *= self.h[b * degrees + n];
            }
        }
        product
    }
}

impl Jet<'_> {
    /// P of the walkers' spin blocks into `p` (`[2·walkers, n, n]` row-major; particles are
    /// ordered up then down with n_up = n_down = n, so particle i of a walker is row i of
    /// its `[N, n]` slab).
    fn matrices(&self, walkers: &[f64], hermite: &mut Hermite, p: &mut [f64]) {
        let (n, d, degrees) = (self.n_orb, self.d, self.degrees);
        for (row, particle) in walkers.chunks_exact(d).enumerate() {
            hermite.fill(particle, self.q, degrees, false);
            for (j, quanta) in self.orbitals.iter().enumerate() {
                let mut product = 1.0;
                for (a, &k) in quanta.iter().enumerate() {
                    product *= hermite.h[a * degrees + k];
                }
                p[row * n + j] = product;
            }
        }
    }

    /// ∇ log|ψ_S| into `grad` (`[walkers, N·d]`) and, when asked, ∇² log|ψ_S| into `lap`
    /// (`[walkers]`), from the inverses of the walkers' blocks (`[2·walkers, n, n]`).
    fn traces(
        &self,
        walkers: &[f64],
        inverse: &[f64],
        hermite: &mut Hermite,
        grad: &mut [f64],
        mut lap: Option<&mut [f64]>,
    ) {
        let (n, d, degrees) = (self.n_orb, self.d, self.degrees);
        let per_walker = -self.alpha_omega * (2 * n * d) as f64;
        if let Some(lap) = lap.as_deref_mut() {
            lap.fill(per_walker);
        }
        for (row, particle) in walkers.chunks_exact(d).enumerate() {
            let (block, i) = (row / n, row % n);
            let inv = &inverse[block * n * n..(block + 1) * n * n];
            hermite.fill(particle, self.q, degrees, true);
            for a in 0..d {
                // Σ_j ∂P_ij (P⁻¹)_ji and Σ_j ∂²P_ij (P⁻¹)_ji.
                let (mut g, mut second) = (0.0, 0.0);
                for (j, quanta) in self.orbitals.iter().enumerate() {
                    let others = hermite.others(quanta, a, degrees) * inv[j * n + i];
                    let k = a * degrees + quanta[a];
                    g += hermite.h1[k] * others;
                    second += hermite.h2[k] * others;
                }
                let g = self.q * g;
                grad[row * d + a] = g - self.alpha_omega * particle[a];
                if let Some(lap) = lap.as_deref_mut() {
                    lap[block / 2] += self.alpha_omega * second - g * g;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Tensor, TensorData};

    use crate::factors::{Factor, SlaterConfig};
    use crate::host_tanh::testing::{flex_f64, max_diff, ndarray_f64, values};
    use crate::{Geometry, Order};

    /// The host jet (flex) equals the factor's burn ops (ndarray) for value, sign, gradient
    /// and Laplacian at every order: 2D N = 6, 12 and 20, 3D N = 8 (shells with H_0 … H_3).
    #[test]
    fn host_jet_equals_the_burn_ops() {
        let mut rng = crate::ParamRng::new(29);
        let config = SlaterConfig { alpha: 0.83 };
        // Tolerances relative to the largest magnitude (at least 1).
        let largest = |v: &[f64]| v.iter().fold(1.0_f64, |m, x| m.max(x.abs()));
        for (n, d) in [(6, 2), (12, 2), (20, 2), (8, 3)] {
            let geometry = Geometry::balanced(n, d);
            let w = 37;
            let x: Vec<f64> = (0..w * n * d).map(|_| 1.2 * rng.normal()).collect();
            let jet = |flex: bool, order: Order| {
                let device = if flex { flex_f64() } else { ndarray_f64() };
                let slater = config.init(geometry, 0.7, &device).expect("closed shell");
                let x = Tensor::<2>::from_data(TensorData::new(x.clone(), [w, n * d]), &device);
                let host = super::slater_jet(
                    &x,
                    &geometry,
                    slater.alpha.val(),
                    slater.omega,
                    slater.orbitals(),
                    order,
                );
                assert_eq!(host.is_some(), flex, "the host pass runs on flex only");
                Factor::Slater(slater).forward(&x, order)
            };
            for order in [Order::Value, Order::Gradient, Order::Laplacian] {
                let ((host, host_sign), (ops, ops_sign)) = (jet(true, order), jet(false, order));
                let context = format!("N = {n}, d = {d}, {order:?}");
                let (a, b) = (values(host.value), values(ops.value));
                let (worst, scale) = (max_diff(&a, &b), largest(&b));
                assert!(worst < 1e-12 * scale, "value {worst:e}, {context}");
                let sign_host = values(host_sign.expect("a determinant has a sign"));
                assert_eq!(
                    sign_host,
                    values(ops_sign.expect("a determinant has a sign")),
                    "{context}"
                );
                if let (Some(a), Some(b)) = (host.grad, ops.grad) {
                    let (a, b) = (values(a), values(b));
                    let worst = max_diff(&a, &b);
                    let scale = largest(&b);
                    assert!(worst < 1e-11 * scale, "gradient {worst:e}, {context}");
                }
                if let (Some(a), Some(b)) = (host.lap, ops.lap) {
                    let (a, b) = (values(a), values(b));
                    let worst = max_diff(&a, &b);
                    let scale = largest(&b);
                    assert!(worst < 1e-11 * scale, "Laplacian {worst:e}, {context}");
                }
            }
        }
    }
}
