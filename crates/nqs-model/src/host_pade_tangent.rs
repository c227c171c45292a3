//! The Padé–Jastrow's value and its derivatives in β for the gradient passes: one host pass
//! over the walkers that evaluates the factor's pair function ([`crate::factors::pade_u`])
//! on [`Dual`] numbers, β of the pair's spin class as the variable (forward mode, `dual.rs`).
//!
//! Through burn's reverse mode the same gradient recorded [W, P] tensors (β's rows, the sum,
//! the quotient, the row sum) and replayed them backward: about 6 ns per pair at N = 56, most
//! of the gradient phase (docs/performance.md). Two parameters, and every pair depends on one
//! of them, make forward mode the cheaper direction: each pair's u and ∂u/∂β cost one square
//! root, one division and a few products, walkers on vector lanes as in the other host
//! passes. Open space only: a periodic cell's cutoff stays with the burn ops.

use burn::tensor::Tensor;

use crate::Geometry;
use crate::dual::Dual;
use crate::factors::{pade_u, pade_u4};
use crate::host_det::{LANES, Lanes};
use crate::lanes::{lane_r2, load};

/// The pairs (i, j, a_ij, class) with class 0 for parallel and 1 for antiparallel spins.
pub(crate) type ClassPairs = [(usize, usize, f64, usize)];

/// Σ_{i<j} u(r_ij; β_s) per walker (`[walkers]`) and its derivatives along β₀'s and β₁'s
/// tangents (`[walkers, 2]` row-major; tangent 1: the derivatives in β, tangent dβ/db: in
/// the parameter b that β is a function of), for walkers `x` (`[walkers, N·d]`, flex f64,
/// untracked) in open space in 2D or 3D; `None` otherwise (the factor's burn ops then take
/// the pass).
pub(crate) fn value_and_beta_tangents(
    x: &Tensor<2>,
    geometry: &Geometry,
    pairs: &ClassPairs,
    betas: [Dual; 2],
) -> Option<(Vec<f64>, Vec<f64>)> {
    let d = geometry.dimensions;
    if !crate::host_tanh::eligible(x) || geometry.cell.is_some() || !(2..=3).contains(&d) {
        return None;
    }
    let [w, n_coords] = x.dims();
    let view = crate::host_tanh::HostView::new(x)?;
    let xs = view.values();
    let mut value = vec![0.0; w];
    let mut tangents = vec![0.0; 2 * w];
    let out = Out {
        value: &mut value,
        tangents: &mut tangents,
    };
    pass(xs, n_coords, geometry.dimensions, pairs, betas, out);
    Some((value, tangents))
}

/// Where [`pass`] writes: value `[w]`, tangents `[w, 2]`.
struct Out<'a> {
    value: &'a mut [f64],
    tangents: &'a mut [f64],
}

#[allow(unsafe_code)]
fn pass(xs: &[f64], nc: usize, d: usize, pairs: &ClassPairs, betas: [Dual; 2], out: Out) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU supports AVX-512F (checked just above), the only requirement of a
        // `target_feature` function; the body is safe code.
        return unsafe { pass_avx512(xs, nc, d, pairs, betas, out) };
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: as above, for AVX2.
        return unsafe { pass_avx2(xs, nc, d, pairs, betas, out) };
    }
    pass_lanes(xs, nc, d, pairs, betas, out);
}

/// The same code for AVX-512 (no fused multiply-adds: every build gives the same bits).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn pass_avx512(xs: &[f64], nc: usize, d: usize, pairs: &ClassPairs, betas: [Dual; 2], out: Out) {
    pass_lanes(xs, nc, d, pairs, betas, out);
}

/// The same code for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn pass_avx2(xs: &[f64], nc: usize, d: usize, pairs: &ClassPairs, betas: [Dual; 2], out: Out) {
    pass_lanes(xs, nc, d, pairs, betas, out);
}

#[inline(always)]
fn pass_lanes(xs: &[f64], nc: usize, d: usize, pairs: &ClassPairs, betas: [Dual; 2], out: Out) {
    match d {
        2 => pass_in::<2>(xs, nc, pairs, betas, out),
        3 => pass_in::<3>(xs, nc, pairs, betas, out),
        _ => unreachable!("value_and_beta_tangents hands other dimensions back"),
    }
}

/// [`pass_lanes`] in `D` dimensions: each pair's r² stays in registers up to its square root
/// ([`lane_r2`]). The pairs of each spin class four at a time ([`pade_u4`]: four square roots
/// and one division, where [`pade_u`] takes a division per pair; the unit that takes both
/// bounds this pass), the last one to three one by one.
#[inline(always)]
fn pass_in<const D: usize>(xs: &[f64], nc: usize, pairs: &ClassPairs, betas: [Dual; 2], out: Out) {
    let w = out.value.len();
    let by_class: [Vec<(usize, usize, f64)>; 2] = [0, 1].map(|class| {
        pairs
            .iter()
            .filter(|p| p.3 == class)
            .map(|&(i, j, a, _)| (i, j, a))
            .collect()
    });
    let mut x = vec![[0.0; LANES]; nc];
    for start in (0..w).step_by(LANES) {
        let len = LANES.min(w - start);
        load(xs, nc, start, len, &mut x);
        let mut value: Lanes = [0.0; LANES];
        let mut tangents: [Lanes; 2] = [[0.0; LANES]; 2];
        for (class, pairs) in by_class.iter().enumerate() {
            let beta = betas[class];
            let tangent = &mut tangents[class];
            let mut fours = pairs.chunks_exact(4);
            for four in fours.by_ref() {
                let a = [four[0].2, four[1].2, four[2].2, four[3].2];
                for l in 0..LANES {
                    let r = |k: usize| lane_r2(&x, four[k].0, four[k].1, D, l).sqrt();
                    let u = pade_u4([r(0), r(1), r(2), r(3)], a, beta);
                    value[l] += u.value;
                    tangent[l] += u.tangent;
                }
            }
            for &(i, j, a) in fours.remainder() {
                for l in 0..LANES {
                    let u = pade_u(lane_r2(&x, i, j, D, l).sqrt(), a, beta);
                    value[l] += u.value;
                    tangent[l] += u.tangent;
                }
            }
        }
        for l in 0..len {
            let k = start + l;
            out.value[k] = value[l];
            out.tangents[2 * k] = tangents[0][l];
            out.tangents[2 * k + 1] = tangents[1][l];
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Tensor, TensorData};

    use crate::factors::{Factor, PadeJastrowConfig};
    use crate::host_tanh::testing::{flex_f64, ndarray_f64, values};
    use crate::{Geometry, Order};

    /// The Padé–Jastrow's value by burn's ops on ndarray for β = (β₀, β₁).
    fn ops_value(x: &[f64], geometry: Geometry, betas: [f64; 2]) -> Vec<f64> {
        let device = ndarray_f64();
        let config = PadeJastrowConfig {
            beta_parallel: betas[0],
            beta_antiparallel: betas[1],
        };
        let pade = config.init(geometry, 0, &device).expect("valid");
        let w = x.len() / geometry.n_coords();
        let x = Tensor::<2>::from_data(
            TensorData::new(x.to_vec(), [w, geometry.n_coords()]),
            &device,
        );
        values(Factor::Pade(pade).forward(&x, Order::Value).0.value)
    }

    /// The value equals burn's ops to 1e-13 and the β tangents equal central differences of
    /// burn's ops in β (step 1e-5) to 1e-7 relative, 2D N = 6 and 20 and 3D N = 5 with a batch
    /// that is not a multiple of the chunk; the vector build gives the baseline build's bits;
    /// tracked walkers, a periodic cell and d = 4 are handed back.
    #[test]
    fn value_and_tangents_equal_burn_ops_and_differences() {
        let mut rng = crate::ParamRng::new(53);
        let betas = [0.41, 1.2];
        let variables = betas.map(crate::dual::Dual::variable);
        for (n, d) in [(6, 2), (20, 2), (5, 3)] {
            let geometry = Geometry::balanced(n, d);
            let pairs = PadeJastrowConfig::default()
                .init(geometry, 0, &flex_f64())
                .expect("valid")
                .pair_kinds();
            let w = 37;
            let xs: Vec<f64> = (0..w * n * d).map(|_| 1.3 * rng.normal()).collect();
            let x = Tensor::<2>::from_data(TensorData::new(xs.clone(), [w, n * d]), &flex_f64());
            let (value, tangents) =
                super::value_and_beta_tangents(&x, &geometry, &pairs, variables).expect("flex f64");
            let ops = ops_value(&xs, geometry, betas);
            for (v, o) in value.iter().zip(&ops) {
                assert!(
                    (v - o).abs() < 1e-13 * (1.0 + o.abs()),
                    "N = {n}: {v} against {o}"
                );
            }
            let h = 1e-5;
            for s in 0..2 {
                let shifted = |sign: f64| {
                    let mut b = betas;
                    b[s] += sign * h;
                    ops_value(&xs, geometry, b)
                };
                let (plus, minus) = (shifted(1.0), shifted(-1.0));
                for k in 0..w {
                    let difference = (plus[k] - minus[k]) / (2.0 * h);
                    let tangent = tangents[2 * k + s];
                    assert!(
                        (tangent - difference).abs() < 1e-7 * (1.0 + difference.abs()),
                        "N = {n}, β{s}, walker {k}: {tangent} against {difference}"
                    );
                }
            }
            let out = |w: usize| (vec![0.0; w], vec![0.0; 2 * w]);
            let ((mut v1, mut t1), (mut v2, mut t2)) = (out(w), out(w));
            let one = super::Out {
                value: &mut v1,
                tangents: &mut t1,
            };
            super::pass(&xs, n * d, d, &pairs, variables, one);
            let two = super::Out {
                value: &mut v2,
                tangents: &mut t2,
            };
            super::pass_lanes(&xs, n * d, d, &pairs, variables, two);
            assert_eq!((v1, t1), (v2, t2), "N = {n}, d = {d}");
            let tracked = x.autodiff().require_grad();
            assert!(
                super::value_and_beta_tangents(&tracked, &geometry, &pairs, variables).is_none()
            );
        }
        let periodic = Geometry::periodic(6, 2, 4.0);
        let x = Tensor::<2>::zeros([3, 12], &flex_f64());
        let pairs = [(0, 1, 1.0, 0)];
        assert!(super::value_and_beta_tangents(&x, &periodic, &pairs, variables).is_none());
        let four = Geometry::balanced(2, 4);
        let x = Tensor::<2>::zeros([3, 8], &flex_f64());
        assert!(super::value_and_beta_tangents(&x, &four, &pairs, variables).is_none());
    }
}
