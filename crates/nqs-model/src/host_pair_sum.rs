//! Σ_{i<j} q_ij / r_ij per walker as one host pass (the Coulomb energy of the local energies)
//! for walkers on flex f64 without an autodiff graph, in open space.
//!
//! In burn ops the sum is the pair separations, then √, 1/r, the product with q and a row sum
//! over `[walkers, P]` tensors: at N = 30 (P = 435) five passes over 3.5 MiB per 1024 walkers.
//! Here the walkers go through in chunks of [`LANES`], coordinate-major within a chunk (as in
//! the host value pass), so that the square roots and divisions run on vector registers.

use burn::tensor::{Tensor, TensorData};

use crate::Geometry;
use crate::host_det::{LANES, Lanes};
use crate::lanes::{load, pair_r2};
use crate::pairs::pair_indices;

/// Σ_{i<j} q_ij / |x_i − x_j| per walker for walkers `x` (`[walkers, N·d]`, N ≥ 2) and `q`
/// in the order of [`pair_indices`]; `None` unless `x` is on flex in f64 without an autodiff
/// graph and the geometry is open (a periodic cell's minimum image stays with
/// [`crate::pairs::Pairs`]).
pub fn host_inverse_distance_sum(
    x: &Tensor<2>,
    geometry: &Geometry,
    q: &[f64],
) -> Option<Tensor<1>> {
    let walkers = host_input(x, geometry, q)?;
    let mut out = vec![0.0; walkers.w];
    sum(&walkers, &mut out);
    Some(Tensor::from_data(
        TensorData::new(out, [walkers.w]),
        &x.device(),
    ))
}

/// The input of the pass: `w` walkers `[w, n_coords]` row-major in `d` dimensions and
/// the pairs (i, j, v_ij) in the order of [`pair_indices`].
struct Walkers {
    xs: Vec<f64>,
    w: usize,
    n_coords: usize,
    d: usize,
    pairs: Vec<(usize, usize, f64)>,
}

/// `x`'s walkers with (i, j, v_ij) per pair, where `x` is on flex in f64 without an autodiff
/// graph and the geometry is open; `None` otherwise.
fn host_input(x: &Tensor<2>, geometry: &Geometry, per_pair: &[f64]) -> Option<Walkers> {
    if !crate::host_tanh::on_flex_f64(x) || x.is_tracked() || geometry.cell.is_some() {
        return None;
    }
    let pairs: Vec<(usize, usize, f64)> = pair_indices(geometry.n_particles)
        .into_iter()
        .zip(per_pair)
        .map(|((i, j), &v)| (i, j, v))
        .collect();
    assert_eq!(pairs.len(), per_pair.len(), "one value per pair i < j");
    let [w, n_coords] = x.dims();
    Some(Walkers {
        xs: x
            .clone()
            .without_autodiff()
            .into_data()
            .try_into_vec::<f64>()
            .ok()?,
        w,
        n_coords,
        d: geometry.dimensions,
        pairs,
    })
}

#[allow(unsafe_code)]
fn sum(walkers: &Walkers, out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU supports AVX-512F (checked just above), the only requirement of a
        // `target_feature` function; the body is safe code.
        return unsafe { sum_avx512(walkers, out) };
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: as above, for AVX2.
        return unsafe { sum_avx2(walkers, out) };
    }
    sum_lanes(walkers, out);
}

/// The same code for AVX-512 (no FMA: every build gives the baseline build's bits).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn sum_avx512(walkers: &Walkers, out: &mut [f64]) {
    sum_lanes(walkers, out);
}

/// The same code for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn sum_avx2(walkers: &Walkers, out: &mut [f64]) {
    sum_lanes(walkers, out);
}

#[inline(always)]
fn sum_lanes(walkers: &Walkers, out: &mut [f64]) {
    let (xs, n_coords, d, pairs) = (
        &walkers.xs[..],
        walkers.n_coords,
        walkers.d,
        &walkers.pairs[..],
    );
    let w = out.len();
    let mut x = vec![[0.0; LANES]; n_coords];
    for start in (0..w).step_by(LANES) {
        let len = LANES.min(w - start);
        load(xs, n_coords, start, len, &mut x);
        let mut total: Lanes = [0.0; LANES];
        // Two pairs per division, q₁/r₁ + q₂/r₂ = (q₁r₂ + q₂r₁)/(r₁r₂): three operations of
        // the unit that takes square roots and divisions per two pairs instead of four.
        let mut twos = pairs.chunks_exact(2);
        for two in twos.by_ref() {
            let ((i, j, q1), (k, m, q2)) = (two[0], two[1]);
            let (s1, s2) = (pair_r2(&x, i, j, d), pair_r2(&x, k, m, d));
            for l in 0..LANES {
                let (r1, r2) = (s1[l].sqrt(), s2[l].sqrt());
                total[l] += (q1 * r2 + q2 * r1) / (r1 * r2);
            }
        }
        for &(i, j, q) in twos.remainder() {
            let r2 = pair_r2(&x, i, j, d);
            for l in 0..LANES {
                total[l] += q / r2[l].sqrt();
            }
        }
        out[start..start + len].copy_from_slice(&total[..len]);
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Tensor, TensorData};

    use crate::host_tanh::testing::{flex_f64, max_diff, ndarray_f64, values};
    use crate::pairs::Pairs;
    use crate::{Geometry, row_sum};

    /// The host sum equals the burn ops' Σ q/r on ndarray (2D N = 6 and 30, 3D N = 5, a batch
    /// that is not a multiple of the chunk), its vector build equals the baseline build bit
    /// for bit, and tracked or periodic walkers are handed back.
    #[test]
    fn host_sum_equals_the_burn_ops() {
        let mut rng = crate::ParamRng::new(31);
        for (n, d) in [(6, 2), (30, 2), (5, 3)] {
            let geometry = Geometry::balanced(n, d);
            let w = 45;
            let x: Vec<f64> = (0..w * n * d).map(|_| 1.5 * rng.normal()).collect();
            let q: Vec<f64> = (0..n * (n - 1) / 2)
                .map(|p| 0.5 + p as f64 * 0.01)
                .collect();
            let tensor =
                |device| Tensor::<2>::from_data(TensorData::new(x.clone(), [w, n * d]), &device);
            let host = super::host_inverse_distance_sum(&tensor(flex_f64()), &geometry, &q)
                .expect("flex f64, open");
            let x_ops = tensor(ndarray_f64());
            let q_row =
                Tensor::<2>::from_data(TensorData::new(q.clone(), [1, q.len()]), &ndarray_f64());
            let ops = row_sum(Pairs::new(&x_ops, &geometry).r().recip() * q_row);
            let ops = values(ops);
            let scale = ops.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
            let worst = max_diff(&values(host), &ops);
            assert!(
                worst < 1e-14 * scale,
                "N = {n}, d = {d}: {worst:e} of {scale}"
            );
            let (mut vector, mut baseline) = (vec![0.0; w], vec![0.0; w]);
            let pairs: Vec<_> = crate::pairs::pair_indices(n)
                .into_iter()
                .zip(&q)
                .map(|((i, j), &q)| (i, j, q))
                .collect();
            let walkers = super::Walkers {
                xs: x.clone(),
                w,
                n_coords: n * d,
                d,
                pairs: pairs.clone(),
            };
            super::sum(&walkers, &mut vector);
            super::sum_lanes(&walkers, &mut baseline);
            assert_eq!(vector, baseline);
            assert!(
                super::host_inverse_distance_sum(&tensor(ndarray_f64()), &geometry, &q).is_none()
            );
            let tracked = tensor(flex_f64()).autodiff().require_grad();
            assert!(super::host_inverse_distance_sum(&tracked, &geometry, &q).is_none());
        }
        let periodic = Geometry::periodic(6, 2, 4.0);
        let x = Tensor::<2>::zeros([3, 12], &flex_f64());
        assert!(super::host_inverse_distance_sum(&x, &periodic, &[1.0; 15]).is_none());
    }
}
