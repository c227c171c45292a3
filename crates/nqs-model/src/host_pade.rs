//! The Padé–Jastrow jet as one host pass over the walkers: value, gradient and Laplacian of
//! Σ_{i<j} u(r_ij), u(r) = a r / (1 + β r), for walkers on flex f64 and untracked β (the
//! local energies, Langevin drifts).
//!
//! The same closed forms as the factor's burn ops ([`crate::factors::PadeJastrow::forward`]):
//! u′ = a/(1 + βr)², u″ = −2aβ/(1 + βr)³, ∇_i u(r_ij) = (u′/r)(x_i − x_j) = −∇_j u(r_ij) and
//! ∇_i² u(r_ij) = u″ + (d − 1) u′/r for each of the two particles. In burn ops the jet is
//! about forty ops on [W, P] tensors, each with a fixed cost that dominates at small N; here
//! it is one pass with the walker's coordinates in the cache (the tests compare the two).
//! Open space only: a periodic cell's cutoff stays with the burn ops.

use burn::tensor::{Tensor, TensorData};

use crate::host_det::{LANES, Lanes};
use crate::lanes::{lane_r2, load};
use crate::{Geometry, LogPsi, Order};

/// Σ_{i<j} u(r_ij) with derivatives up to `order` for walkers `x` (`[walkers, N·d]`, flex
/// f64, not tracked) and pairs (i, j, a_ij, β_ij); `None` where `x` is not such a tensor.
pub(crate) fn pade_jet(
    x: &Tensor<2>,
    geometry: &Geometry,
    pairs: &[(usize, usize, f64, f64)],
    order: Order,
) -> Option<LogPsi> {
    pade_jet_and_inverse_sum(x, geometry, pairs, order, false).map(|(jet, _)| jet)
}

/// [`pade_jet`] and, when `inverse_sum`, Σ_{i<j} 1/r_ij per walker over the same pairs
/// (`[walkers]`), which the jet has on the way: 1/r = p·D with p = 1/(rD), D = 1 + βr (a
/// Coulomb sum that then needs no pass of its own).
pub(crate) fn pade_jet_and_inverse_sum(
    x: &Tensor<2>,
    geometry: &Geometry,
    pairs: &[(usize, usize, f64, f64)],
    order: Order,
    inverse_sum: bool,
) -> Option<(LogPsi, Option<Tensor<1>>)> {
    if !crate::host_tanh::eligible(x) || geometry.cell.is_some() {
        return None;
    }
    let [w, n_coords] = x.dims();
    let view = crate::host_tanh::HostView::new(x)?;
    let xs = view.values();
    let (with_grad, with_lap) = (order.gradient(), order.laplacian());
    let mut out = Out {
        value: vec![0.0; w],
        grad: vec![0.0; if with_grad { w * n_coords } else { 0 }],
        lap: vec![0.0; if with_lap { w } else { 0 }],
        inverse_sum: vec![0.0; if inverse_sum { w } else { 0 }],
    };
    jet(xs, geometry.dimensions, pairs, &mut out);
    let device = x.device();
    let vector = |v: Vec<f64>| Tensor::<1>::from_data(TensorData::new(v, [w]), &device);
    let jet = LogPsi {
        value: vector(out.value),
        grad: with_grad
            .then(|| Tensor::from_data(TensorData::new(out.grad, [w, n_coords]), &device)),
        lap: with_lap.then(|| vector(out.lap)),
    };
    Some((jet, inverse_sum.then(|| vector(out.inverse_sum))))
}

/// The jet per walker; `grad`, `lap` and `inverse_sum` (Σ 1/r) empty where not asked.
struct Out {
    value: Vec<f64>,
    grad: Vec<f64>,
    lap: Vec<f64>,
    inverse_sum: Vec<f64>,
}

/// The walkers in chunks of [`LANES`], coordinate-major within a chunk (as in the host value
/// pass), so that the square roots and divisions of every pair run on vector registers.
#[allow(unsafe_code)]
fn jet(xs: &[f64], d: usize, pairs: &[(usize, usize, f64, f64)], out: &mut Out) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU supports AVX-512F (checked just above), the only requirement of a
        // `target_feature` function; the body is safe code.
        return unsafe { jet_avx512(xs, d, pairs, out) };
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: as above, for AVX2.
        return unsafe { jet_avx2(xs, d, pairs, out) };
    }
    jet_lanes(xs, d, pairs, out);
}

/// The same code for AVX-512 (no FMA: every build gives the baseline build's bits).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn jet_avx512(xs: &[f64], d: usize, pairs: &[(usize, usize, f64, f64)], out: &mut Out) {
    jet_lanes(xs, d, pairs, out);
}

/// The same code for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn jet_avx2(xs: &[f64], d: usize, pairs: &[(usize, usize, f64, f64)], out: &mut Out) {
    jet_lanes(xs, d, pairs, out);
}

#[inline(always)]
fn jet_lanes(xs: &[f64], d: usize, pairs: &[(usize, usize, f64, f64)], out: &mut Out) {
    // d as a constant where it is one (the body is inlined into each arm), so that each
    // pair's r² stays in registers up to its square root.
    match d {
        2 => jet_in(xs, 2, pairs, out),
        3 => jet_in(xs, 3, pairs, out),
        _ => jet_in(xs, d, pairs, out),
    }
}

#[inline(always)]
fn jet_in(xs: &[f64], d: usize, pairs: &[(usize, usize, f64, f64)], out: &mut Out) {
    let w = out.value.len();
    let n_coords = xs.len() / w.max(1);
    let (with_grad, with_lap) = (!out.grad.is_empty(), !out.lap.is_empty());
    let with_inverse_sum = !out.inverse_sum.is_empty();
    let dims_minus_one = d as f64 - 1.0;
    let mut x = vec![[0.0; LANES]; n_coords];
    let mut g = vec![[0.0; LANES]; if with_grad { n_coords } else { 0 }];
    for start in (0..w).step_by(LANES) {
        let len = LANES.min(w - start);
        load(xs, n_coords, start, len, &mut x);
        g.fill([0.0; LANES]);
        let (mut value, mut lap): (Lanes, Lanes) = ([0.0; LANES], [0.0; LANES]);
        let mut inverse_sum: Lanes = [0.0; LANES];
        for &(i, j, a, beta) in pairs {
            let mut r2 = [0.0; LANES];
            // u′/r = a/(D² r), the coefficient of x_i − x_j in ∇_i u, with D = 1 + βr. One
            // division per pair, p = 1/(rD), gives 1/D = r·p, u = a r²p, u′/r = a r p² and
            // u″ = −2aβ/D³: the square root and the division share one unit, where four
            // divisions per pair made this pass twice as long.
            let (mut c, mut inverse) = ([0.0; LANES], [0.0; LANES]);
            let mut inverse_r = [0.0; LANES];
            for l in 0..LANES {
                r2[l] = lane_r2(&x, i, j, d, l);
                let r = r2[l].sqrt();
                let denominator = 1.0 + beta * r;
                let p = 1.0 / (r * denominator);
                inverse[l] = r * p;
                inverse_r[l] = p * denominator;
                // u = 0 at r = 0 (p = ∞ there); u′/r and u″ are not finite there anyway.
                value[l] += if r2[l] > 0.0 { a * r2[l] * p } else { 0.0 };
                c[l] = a * r * p * p;
            }
            if with_inverse_sum {
                for l in 0..LANES {
                    inverse_sum[l] += inverse_r[l];
                }
            }
            if with_lap {
                for l in 0..LANES {
                    let cube = inverse[l] * inverse[l] * inverse[l];
                    let d2u = -2.0 * a * beta * cube;
                    lap[l] += 2.0 * (d2u + c[l] * dims_minus_one);
                }
            }
            if with_grad {
                for b in 0..d {
                    let (xi, xj) = (x[i * d + b], x[j * d + b]);
                    let (mut gi, mut gj) = (g[i * d + b], g[j * d + b]);
                    for l in 0..LANES {
                        let s = xi[l] - xj[l];
                        gi[l] += c[l] * s;
                        gj[l] -= c[l] * s;
                    }
                    g[i * d + b] = gi;
                    g[j * d + b] = gj;
                }
            }
        }
        for l in 0..len {
            let k = start + l;
            out.value[k] = value[l];
            if with_lap {
                out.lap[k] = lap[l];
            }
            if with_inverse_sum {
                out.inverse_sum[k] = inverse_sum[l];
            }
            if with_grad {
                for (c, v) in out.grad[k * n_coords..(k + 1) * n_coords]
                    .iter_mut()
                    .enumerate()
                {
                    *v = g[c][l];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Tensor, TensorData};

    use crate::factors::{Factor, PadeJastrowConfig};
    use crate::host_tanh::testing::{flex_f64, max_diff, ndarray_f64, values};
    use crate::{Geometry, Order};

    /// The host jet (flex) equals the factor's burn ops (ndarray) to 1e-13 for value,
    /// gradient and Laplacian at every order, 2D N = 6 and 2, 3D N = 5 (unequal β).
    #[test]
    fn host_jet_equals_the_burn_ops() {
        let mut rng = crate::ParamRng::new(23);
        let config = PadeJastrowConfig {
            beta_parallel: 0.37,
            beta_antiparallel: 1.3,
        };
        for (n, d) in [(6, 2), (5, 3), (2, 2)] {
            let geometry = Geometry::balanced(n, d);
            let w = 41;
            let x: Vec<f64> = (0..w * n * d).map(|_| 1.5 * rng.normal()).collect();
            let jet = |flex: bool, order: Order| {
                let device = if flex { flex_f64() } else { ndarray_f64() };
                let pade = config.init(geometry, 0, &device).expect("valid");
                let x = Tensor::<2>::from_data(TensorData::new(x.clone(), [w, n * d]), &device);
                let pairs = pade.host_pairs();
                let host = pairs.and_then(|p| super::pade_jet(&x, &geometry, &p, order));
                assert_eq!(host.is_some(), flex, "the host pass runs on flex only");
                Factor::Pade(pade).forward(&x, order).0
            };
            for order in [Order::Value, Order::Gradient, Order::Laplacian] {
                let (host, ops) = (jet(true, order), jet(false, order));
                let context = format!("N = {n}, d = {d}, {order:?}");
                let worst = max_diff(&values(host.value), &values(ops.value));
                assert!(worst < 1e-13, "value {worst:e}, {context}");
                if let (Some(a), Some(b)) = (host.grad, ops.grad) {
                    let worst = max_diff(&values(a), &values(b));
                    assert!(worst < 1e-13, "gradient {worst:e}, {context}");
                }
                if let (Some(a), Some(b)) = (host.lap, ops.lap) {
                    let worst = max_diff(&values(a), &values(b));
                    assert!(worst < 1e-12, "Laplacian {worst:e}, {context}");
                }
            }
            // The dispatched build (AVX-512 or AVX2 where the CPU has them) gives the
            // baseline build's bits.
            let pairs = config
                .init(geometry, 0, &flex_f64())
                .expect("valid")
                .host_pairs()
                .expect("flex f64");
            let out = |w: usize| super::Out {
                value: vec![0.0; w],
                grad: vec![0.0; w * n * d],
                lap: vec![0.0; w],
                inverse_sum: vec![0.0; w],
            };
            let (mut vector, mut baseline) = (out(w), out(w));
            super::jet(&x, d, &pairs, &mut vector);
            super::jet_lanes(&x, d, &pairs, &mut baseline);
            assert_eq!(
                (vector.value, vector.grad, vector.lap, vector.inverse_sum),
                (
                    baseline.value,
                    baseline.grad,
                    baseline.lap,
                    baseline.inverse_sum
                )
            );
        }
    }

    /// The Σ 1/r that the jet gives on the way equals the Coulomb pass's sum with unit
    /// charges (`host_inverse_distance_sum`) to 1e-14 relative, and the jet itself is the jet
    /// without it bit for bit, 2D N = 2, 6 and 20 and 3D N = 5, at every order.
    #[test]
    fn inverse_sum_on_the_way_equals_the_coulomb_pass() {
        let mut rng = crate::ParamRng::new(41);
        let config = PadeJastrowConfig {
            beta_parallel: 0.45,
            beta_antiparallel: 0.9,
        };
        for (n, d) in [(2, 2), (6, 2), (20, 2), (5, 3)] {
            let geometry = Geometry::balanced(n, d);
            let w = 45;
            let x: Vec<f64> = (0..w * n * d).map(|_| 1.4 * rng.normal()).collect();
            let x = Tensor::<2>::from_data(TensorData::new(x, [w, n * d]), &flex_f64());
            let pairs = config
                .init(geometry, 0, &flex_f64())
                .expect("valid")
                .host_pairs()
                .expect("flex f64");
            let coulomb = values(
                crate::host_inverse_distance_sum(&x, &geometry, &vec![1.0; pairs.len()])
                    .expect("flex f64, open"),
            );
            for order in [Order::Value, Order::Gradient, Order::Laplacian] {
                let (jet, sum) =
                    super::pade_jet_and_inverse_sum(&x, &geometry, &pairs, order, true)
                        .expect("flex f64, open");
                let sum = values(sum.expect("asked for"));
                for (s, c) in sum.iter().zip(&coulomb) {
                    assert!(
                        (s - c).abs() < 1e-14 * c,
                        "N = {n}, d = {d}: {s} against {c}"
                    );
                }
                let plain = super::pade_jet(&x, &geometry, &pairs, order).expect("flex f64");
                assert_eq!(values(jet.value), values(plain.value), "N = {n}, {order:?}");
                assert_eq!(
                    jet.grad.map(values),
                    plain.grad.map(values),
                    "N = {n}, {order:?}"
                );
                assert_eq!(
                    jet.lap.map(values),
                    plain.lap.map(values),
                    "N = {n}, {order:?}"
                );
            }
        }
    }
}
