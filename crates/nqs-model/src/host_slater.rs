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
//! In burn ops the jet is about 15 + 8d ops on [W·N, d·N/2] tensors; here the walkers go
//! through in chunks of 16, coordinate-major within a chunk (one walker per vector lane, as in
//! the host value pass), and each spin block is eliminated where it was built, by the same
//! lane elimination as the batched host pass (the tests compare the two, and the vector build
//! with the baseline build bit for bit).

use burn::tensor::{Tensor, TensorData};

use crate::host_det::{BATCH_LANES, eliminate, gauss_jordan, log_abs_from_pivots};
use crate::host_tanh::{eligible, host_values};
use crate::lanes::{hermite, hermite_with_derivatives, load, orbital_row};
use crate::log_det_cache::{LogDetCache, record_len};
use crate::{Geometry, LogPsi, Order};

/// Walkers per chunk, the chunk of the batched elimination: one value of each walker per
/// vector lane.
const L: usize = BATCH_LANES;

/// The pivoting threshold of the jet's Gauss–Jordan elimination ([`gauss_jordan`]): row k
/// stays the pivot row unless a row below is ten times larger. Partial pivoting (1) swapped
/// whole rows in most rounds, one lane at a time, and put the inverse's columns back the same
/// way: a quarter of the jet at N = 20. Against exact rational arithmetic
/// (`scripts/exact_slater_jet.py`) the local kinetic energies of 0.1 are as close as partial
/// pivoting's: on the walkers where the two differ most, largest errors 1.5e-8 against 4.5e-8
/// (N = 20) and 7.6e-6 against 1.5e-5 (N = 56, |∇² log|ψ|| up to 1e11 near a node); on
/// typical walkers 1e-14 to 1e-11 for both (docs/performance.md).
const PIVOT_THRESHOLD: f64 = 0.1;
/// One number of each walker of a chunk.
type V = [f64; L];

/// The factor's (log|ψ_S| with derivatives up to `order`, sign) for walkers `x`
/// (`[walkers, N·d]`, flex f64, not tracked) and α (`[1]`, untracked); `None` where either is
/// not such a tensor. `orbitals` holds n_ja, `[orbital][dimension]`, N/2 orbitals per spin.
///
/// Where `keep` is keeping ([`LogDetCache::keep`]) and the order has the gradient (the
/// local energies), the blocks' log|det| and signs are filed there for the gradient pass.
pub(crate) fn slater_jet(
    x: &Tensor<2>,
    geometry: &Geometry,
    alpha: Tensor<1>,
    omega: f64,
    orbitals: &[Vec<usize>],
    order: Order,
    keep: &LogDetCache,
) -> Option<(LogPsi, Tensor<1>)> {
    if !eligible(x) {
        return None;
    }
    let alpha_omega = host_values(alpha)?[0] * omega;
    let [w, n_coords] = x.dims();
    let view = crate::host_tanh::HostView::new(x)?;
    let xs = view.values();
    let jet = Jet {
        d: geometry.dimensions,
        n_orb: orbitals.len(),
        q: alpha_omega.sqrt(),
        alpha_omega,
        orbitals,
        degrees: orbitals.iter().flatten().copied().max().unwrap_or(0) + 1,
    };
    let (with_grad, with_lap) = (order.gradient(), order.laplacian());
    let mut out = Out {
        value: vec![0.0; w],
        sign: vec![0.0; w],
        grad: vec![0.0; if with_grad { w * n_coords } else { 0 }],
        lap: vec![0.0; if with_lap { w } else { 0 }],
        kept: (with_grad && keep.keeping()).then(|| Vec::with_capacity(w * record_len(n_coords))),
    };
    jet.run(xs, &mut out);
    if let Some(records) = out.kept.take() {
        keep.insert(alpha_omega, n_coords, records);
    }
    let device = x.device();
    let vector = |v: Vec<f64>| Tensor::<1>::from_data(TensorData::new(v, [w]), &device);
    let log_psi = LogPsi {
        value: vector(out.value),
        grad: with_grad
            .then(|| Tensor::<2>::from_data(TensorData::new(out.grad, [w, n_coords]), &device)),
        lap: with_lap.then(|| vector(out.lap)),
    };
    Some((log_psi, vector(out.sign)))
}

/// The jet per walker; `grad` and `lap` empty where not asked.
struct Out {
    value: Vec<f64>,
    sign: Vec<f64>,
    grad: Vec<f64>,
    lap: Vec<f64>,
    /// Every walker's record for [`LogDetCache`], where asked (with `grad`: the local
    /// energies).
    kept: Option<Vec<f64>>,
}

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

/// H_k, H′_k and H″_k at ξ_a of one particle of every walker of a chunk, at
/// `a·degrees + k`.
struct Hermite {
    d: usize,
    h: Vec<V>,
    h1: Vec<V>,
    h2: Vec<V>,
}

impl Hermite {
    fn new(d: usize, degrees: usize) -> Self {
        Self {
            d,
            h: vec![[0.0; L]; d * degrees],
            h1: vec![[0.0; L]; d * degrees],
            h2: vec![[0.0; L]; d * degrees],
        }
    }

    /// The tables at ξ = q·x of the chunk's `particle` (`x` coordinate-major, `[N·d]` of
    /// lanes), with the derivatives in ξ when `derivatives`.
    #[inline(always)]
    fn fill(&mut self, x: &[V], particle: usize, q: f64, degrees: usize, derivatives: bool) {
        let d = self.d;
        for a in 0..d {
            let range = a * degrees..(a + 1) * degrees;
            if derivatives {
                hermite_with_derivatives(
                    &x[particle * d + a],
                    q,
                    &mut self.h[range.clone()],
                    &mut self.h1[range.clone()],
                    &mut self.h2[range],
                );
            } else {
                hermite(&x[particle * d + a], q, &mut self.h[range]);
            }
        }
    }
}

impl Jet<'_> {
    /// The jet of every walker of `xs` (`[walkers, N·d]` row-major) into `out`.
    #[allow(unsafe_code)]
    fn run(&self, xs: &[f64], out: &mut Out) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above), the only requirement of a
            // `target_feature` function; the body is safe code.
            return unsafe { self.run_avx2(xs, out) };
        }
        self.run_lanes(xs, out);
    }

    /// The same code compiled for AVX2 (no FMA: the baseline build's bits; tested).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn run_avx2(&self, xs: &[f64], out: &mut Out) {
        self.run_lanes(xs, out);
    }

    /// Walkers in chunks of [`L`], coordinate-major within a chunk: P of both spin blocks,
    /// their elimination (Gauss–Jordan when derivatives need P⁻¹), then the traces.
    #[inline(always)]
    fn run_lanes(&self, xs: &[f64], out: &mut Out) {
        let (n, d, degrees) = (self.n_orb, self.d, self.degrees);
        let w = out.value.len();
        let n_coords = 2 * n * d;
        let (with_grad, with_lap) = (!out.grad.is_empty(), !out.lap.is_empty());
        let mut x = vec![[0.0; L]; n_coords];
        let mut blocks = [vec![[0.0; L]; n * n], vec![[0.0; L]; n * n]];
        let mut pivots = vec![[0.0; L]; n];
        let mut rows = vec![[0.0; L]; n];
        let mut hermite = Hermite::new(d, degrees);
        let mut grad = vec![[0.0; L]; if with_grad { n_coords } else { 0 }];
        for start in (0..w).step_by(L) {
            let len = L.min(w - start);
            load(xs, n_coords, start, len, &mut x);
            // P_ij = Π_a H_{n_ja}(ξ_ia), particle i of block i / n.
            for row in 0..2 * n {
                hermite.fill(&x, row, self.q, degrees, false);
                let block = &mut blocks[row / n][(row % n) * n..(row % n + 1) * n];
                orbital_row(&hermite.h, degrees, self.orbitals, block);
            }
            let mut log_abs = [[0.0; L]; 2];
            let mut sign = [[0.0; L]; 2];
            for (b, m) in blocks.iter_mut().enumerate() {
                let swaps = if with_grad {
                    gauss_jordan(m, n, &mut pivots, &mut rows, PIVOT_THRESHOLD)
                } else {
                    eliminate(m, n, &mut pivots)
                };
                log_abs[b] = log_abs_from_pivots(&pivots);
                for l in 0..L {
                    sign[b][l] = pivots.iter().fold(swaps[l], |s, p| s * p[l].signum());
                }
            }
            let mut gaussian = [0.0; L];
            for coordinate in &x {
                for l in 0..L {
                    gaussian[l] += coordinate[l] * coordinate[l];
                }
            }
            let mut lap = [-self.alpha_omega * (2 * n * d) as f64; L];
            if with_grad {
                self.traces(
                    &x,
                    &blocks,
                    &mut hermite,
                    &mut grad,
                    with_lap.then_some(&mut lap),
                );
            }
            for l in 0..len {
                let k = start + l;
                out.value[k] = log_abs[0][l] + log_abs[1][l] - 0.5 * self.alpha_omega * gaussian[l];
                out.sign[k] = sign[0][l] * sign[1][l];
                if with_grad {
                    for (c, v) in out.grad[k * n_coords..(k + 1) * n_coords]
                        .iter_mut()
                        .enumerate()
                    {
                        *v = grad[c][l];
                    }
                }
                if with_lap {
                    out.lap[k] = lap[l];
                }
            }
            if let Some(records) = out.kept.as_mut() {
                self.file_records(records, xs, start, len, &log_abs, &sign);
            }
        }
    }

    /// Appends the records ([`record_len`]) of walkers `start..start + len`: coordinates,
    /// then log|det| and sign of both blocks.
    #[inline(always)]
    fn file_records(
        &self,
        records: &mut Vec<f64>,
        xs: &[f64],
        start: usize,
        len: usize,
        log_abs: &[V; 2],
        sign: &[V; 2],
    ) {
        let n_coords = 2 * self.n_orb * self.d;
        let size = record_len(n_coords);
        let first = records.len();
        records.resize(first + len * size, 0.0);
        for (l, record) in records[first..].chunks_exact_mut(size).enumerate() {
            let walker = start + l;
            let (coordinates, logs) = record.split_at_mut(n_coords);
            coordinates.copy_from_slice(&xs[walker * n_coords..(walker + 1) * n_coords]);
            logs.copy_from_slice(&[log_abs[0][l], log_abs[1][l], sign[0][l], sign[1][l]]);
        }
    }

    /// ∇ log|ψ_S| into `grad` (`[N·d]` of lanes) and, when asked, ∇² log|ψ_S| added to `lap`
    /// (which holds the Gaussian's −αω·N·d), from the inverses of the chunk's two blocks.
    #[inline(always)]
    fn traces(
        &self,
        x: &[V],
        inverses: &[Vec<V>; 2],
        hermite: &mut Hermite,
        grad: &mut [V],
        mut lap: Option<&mut V>,
    ) {
        let (n, d, degrees) = (self.n_orb, self.d, self.degrees);
        for row in 0..2 * n {
            let (inv, i) = (&inverses[row / n], row % n);
            hermite.fill(x, row, self.q, degrees, true);
            for a in 0..d {
                // Σ_j ∂P_ij (P⁻¹)_ji and Σ_j ∂²P_ij (P⁻¹)_ji.
                let (mut g, mut second) = ([0.0; L], [0.0; L]);
                for (j, quanta) in self.orbitals.iter().enumerate() {
                    let mut others = [1.0; L];
                    for (b, &k) in quanta.iter().enumerate() {
                        if b != a {
                            for l in 0..L {
                                others[l] *= hermite.h[b * degrees + k][l];
                            }
                        }
                    }
                    let (k, inverse) = (a * degrees + quanta[a], &inv[j * n + i]);
                    for l in 0..L {
                        let others = others[l] * inverse[l];
                        g[l] += hermite.h1[k][l] * others;
                        second[l] += hermite.h2[k][l] * others;
                    }
                }
                let coordinate = &x[row * d + a];
                for l in 0..L {
                    g[l] *= self.q;
                    grad[row * d + a][l] = g[l] - self.alpha_omega * coordinate[l];
                }
                if let Some(lap) = lap.as_deref_mut() {
                    for l in 0..L {
                        lap[l] += self.alpha_omega * second[l] - g[l] * g[l];
                    }
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
    /// and Laplacian at every order: 2D N = 2, 6, 12, 20 and 30, 3D N = 8 (shells with H_0 … H_4).
    #[test]
    fn host_jet_equals_the_burn_ops() {
        let mut rng = crate::ParamRng::new(29);
        let config = SlaterConfig { alpha: 0.83 };
        // Tolerances relative to the largest magnitude (at least 1).
        let largest = |v: &[f64]| v.iter().fold(1.0_f64, |m, x| m.max(x.abs()));
        for (n, d) in [(2, 2), (6, 2), (12, 2), (20, 2), (30, 2), (8, 3)] {
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
                    slater.log_dets(),
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
            // The dispatched build (AVX2 where the CPU has it) gives the baseline build's
            // bits.
            let slater = config
                .init(geometry, 0.7, &flex_f64())
                .expect("closed shell");
            let alpha = crate::host_tanh::host_values(slater.alpha.val()).expect("flex f64")[0];
            let orbitals = slater.orbitals();
            let alpha_omega = alpha * slater.omega;
            let jet = super::Jet {
                d,
                n_orb: orbitals.len(),
                q: alpha_omega.sqrt(),
                alpha_omega,
                orbitals,
                degrees: orbitals.iter().flatten().copied().max().unwrap_or(0) + 1,
            };
            let out = || super::Out {
                value: vec![0.0; w],
                sign: vec![0.0; w],
                grad: vec![0.0; w * n * d],
                lap: vec![0.0; w],
                kept: Some(Vec::new()),
            };
            let (mut vector, mut baseline) = (out(), out());
            jet.run(&x, &mut vector);
            jet.run_lanes(&x, &mut baseline);
            assert_eq!(
                (
                    vector.value,
                    vector.sign,
                    vector.grad,
                    vector.lap,
                    vector.kept
                ),
                (
                    baseline.value,
                    baseline.sign,
                    baseline.grad,
                    baseline.lap,
                    baseline.kept
                ),
                "N = {n}, d = {d}"
            );
        }
    }
}
