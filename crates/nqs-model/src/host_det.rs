//! log|det A|, its sign and A⁻¹ of a batch of small matrices as host passes on flex f64, and
//! the elimination that the host value pass ([`crate::HostLogPsi`]) shares.
//!
//! In burn ops the elimination is n rounds of about fifteen ops over the whole batch
//! (`linalg.rs`), and in a gradient pass autodiff records and replays every one of them. Here
//! the matrices go through in chunks (of 16 here, of [`LANES`] in the value pass), entry-major
//! within a chunk, so that every step of the elimination runs over the chunk's contiguous
//! values (the compiler vectorises it), with partial pivoting per lane.
//!
//! A tensor tracked by autodiff (the gradient passes, which never ask for the inverse) gets
//! the same value with the derivative of log|det| attached as a first-order custom op would:
//! y = ℓ + Σ_ij (A − Ā)_ij (A⁻¹)_ji, where Ā is A's value as a constant and ℓ and A⁻¹ are
//! constants from the host pass. A − Ā is exactly zero, so y carries ℓ, and autodiff sees
//! ∂y/∂A_ij = (A⁻¹)_ji, the derivative of log|det A| — the primitive's textbook derivative,
//! as for tanh in `host_tanh.rs`; nothing about ∂ψ/∂θ is derived by hand.

use burn::tensor::{Tensor, TensorData};

use crate::LogDet;

/// Matrices per chunk.
pub(crate) const LANES: usize = 32;
/// One entry of `LANES` matrices.
pub(crate) type Lanes = [f64; LANES];

/// [`crate::log_det`] on the host when `a` is on flex in f64 and either untracked or tracked
/// without the inverse asked for; `Err(a)` hands `a` back otherwise.
///
/// # Shapes
/// - a: `[batch, n, n]`
#[allow(clippy::result_large_err)]
pub(crate) fn log_det(a: Tensor<3>, want_inverse: bool) -> Result<LogDet, Tensor<3>> {
    let tracked = a.is_autodiff();
    if !crate::host_tanh::on_flex_f64(&a) || (tracked && want_inverse) {
        return Err(a);
    }
    let [batch, n, _] = a.dims();
    let constant = if tracked {
        a.clone().inner()
    } else {
        a.clone()
    };
    let device = constant.device();
    let data = constant.clone().into_data();
    let values = data.as_slice::<f64>().expect("f64 checked above");
    // Tracked: (A⁻¹)ᵀ, so that the product below reads two contiguous tensors.
    let layout = if tracked {
        Some(Inverse::Transposed)
    } else {
        want_inverse.then_some(Inverse::RowMajor)
    };
    let (log_abs, sign, inverse) = batch_log_det(values, n, layout);
    if !tracked {
        let vector = |v: Vec<f64>| Tensor::<1>::from_data(TensorData::new(v, [batch]), &device);
        let matrices =
            |v: Vec<f64>| Tensor::<3>::from_data(TensorData::new(v, [batch, n, n]), &device);
        return Ok(LogDet {
            log_abs: vector(log_abs),
            sign: vector(sign),
            inverse: inverse.map(matrices),
        });
    }
    let inverse_t = inverse.expect("computed for the derivative");
    Ok(attach(a, constant, log_abs, sign, inverse_t))
}

/// log|det A| of tracked `a` (`[batch, n, n]`) whose value is `constant` (`a` without its
/// graph), from log|det|, sign and (A⁻¹)ᵀ computed for it (`[batch]`, `[batch]`,
/// `[batch, n, n]` row-major): the value `log_abs` with ∂/∂A = A⁻ᵀ attached.
fn attach(
    a: Tensor<3>,
    constant: Tensor<3>,
    log_abs: Vec<f64>,
    sign: Vec<f64>,
    mut inverse_t: Vec<f64>,
) -> LogDet {
    let [batch, n, _] = a.dims();
    let device = constant.device();
    // A singular matrix (log|det| = −∞) has no derivative; zeros keep (A − Ā)·A⁻ᵀ at 0
    // instead of 0·∞ = NaN, so the value stays −∞ as untracked.
    for v in inverse_t.iter_mut().filter(|v| !v.is_finite()) {
        *v = 0.0;
    }
    let vector = |v: Vec<f64>| Tensor::<1>::from_data(TensorData::new(v, [batch]), &device);
    let inverse_t = Tensor::<3>::from_data(TensorData::new(inverse_t, [batch, n, n]), &device);
    let first_order = crate::row_sum(((a - constant) * inverse_t).reshape([batch, n * n]));
    LogDet {
        log_abs: vector(log_abs) + first_order,
        sign: vector(sign),
        inverse: None,
    }
}

/// log|det|, sign and inverse (when asked) per matrix.
type Batch = (Vec<f64>, Vec<f64>, Option<Vec<f64>>);

/// How [`batch_log_det`] writes each inverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inverse {
    /// A⁻¹ row-major.
    RowMajor,
    /// (A⁻¹)ᵀ row-major.
    Transposed,
}

/// Matrices per chunk of [`batch_log_det`]: at 16 a chunk of 15×15 matrices (two 2D shells'
/// blocks at N = 30) is 29 KiB and stays in the first-level cache; at [`LANES`] it was 58 KiB
/// and every round of the elimination streamed it from the second level (1.4–1.9× slower).
pub(crate) const BATCH_LANES: usize = 16;

/// log|det|, sign and, when asked, the inverse of `batch` row-major n×n matrices laid end to
/// end in `a`.
#[allow(unsafe_code)]
pub(crate) fn batch_log_det(a: &[f64], n: usize, inverse: Option<Inverse>) -> Batch {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above), the only requirement of a
        // `target_feature` function; the body is safe code.
        return unsafe { batch_log_det_avx2(a, n, inverse) };
    }
    batch_log_det_lanes(a, n, inverse)
}

/// The same code compiled for AVX2 (no FMA, so the results equal the baseline build's).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn batch_log_det_avx2(a: &[f64], n: usize, inverse: Option<Inverse>) -> Batch {
    batch_log_det_lanes(a, n, inverse)
}

#[inline(always)]
fn batch_log_det_lanes(a: &[f64], n: usize, layout: Option<Inverse>) -> Batch {
    const L: usize = BATCH_LANES;
    let batch = a.len() / (n * n);
    let mut log_abs = vec![0.0; batch];
    let mut sign = vec![0.0; batch];
    let mut inverse = layout.map(|_| vec![0.0; batch * n * n]);
    let mut m = vec![[0.0; L]; n * n];
    let mut pivots = vec![[0.0; L]; n];
    let mut rows = vec![[0.0; L]; n];
    let mut columns = vec![0; n];
    for start in (0..batch).step_by(L) {
        let len = L.min(batch - start);
        // Padding lanes repeat the last matrix; their results are dropped.
        let lanes: [&[f64]; L] = std::array::from_fn(|l| {
            let b = start + l.min(len - 1);
            &a[b * n * n..(b + 1) * n * n]
        });
        for (e, entry) in m.iter_mut().enumerate() {
            for l in 0..L {
                entry[l] = lanes[l][e];
            }
        }
        let swaps = if layout.is_some() {
            gauss_jordan_unpermuted(&mut m, n, &mut pivots, &mut rows, 1.0)
        } else {
            eliminate(&mut m, n, &mut pivots)
        };
        let chunk_log = log_abs_from_pivots(&pivots);
        for l in 0..len {
            let b = start + l;
            log_abs[b] = chunk_log[l];
            sign[b] = pivots.iter().fold(swaps[l], |s, p| s * p[l].signum());
            let (Some(layout), Some(inv)) = (layout, inverse.as_mut()) else {
                continue;
            };
            // Column j of A⁻¹ is column `columns[j]` of the elimination's result.
            for (j, c) in columns.iter_mut().enumerate() {
                *c = j;
            }
            for k in (0..n).rev() {
                columns.swap(k, rows[k][l] as usize);
            }
            let out = &mut inv[b * n * n..(b + 1) * n * n];
            match layout {
                Inverse::RowMajor => {
                    for (out, row) in out.chunks_exact_mut(n).zip(m.chunks_exact(n)) {
                        for (o, &c) in out.iter_mut().zip(&columns) {
                            *o = row[c][l];
                        }
                    }
                }
                Inverse::Transposed => {
                    for (out, &c) in out.chunks_exact_mut(n).zip(&columns) {
                        for (o, row) in out.iter_mut().zip(m.chunks_exact(n)) {
                            *o = row[c][l];
                        }
                    }
                }
            }
        }
    }
    (log_abs, sign, inverse)
}

/// Σ_k log|p_k| per lane: one logarithm of the product where it is a normal number (on all
/// lanes at once, [`crate::ln_normal`]: libm's `log` one lane at a time was 2 % of a step at
/// N = 20), the sum of logarithms past its range, −∞ with a zero pivot.
#[inline(always)]
pub(crate) fn log_abs_from_pivots<const L: usize>(pivots: &[[f64; L]]) -> [f64; L] {
    let mut product = [1.0; L];
    for piv in pivots {
        for l in 0..L {
            product[l] *= piv[l].abs();
        }
    }
    let mut out = [0.0; L];
    for l in 0..L {
        out[l] = crate::ln_normal(product[l], |a, b, c| a * b + c);
    }
    for (l, o) in out.iter_mut().enumerate() {
        if product[l].is_normal() {
            continue;
        }
        *o = if pivots.iter().any(|piv| piv[l] == 0.0) {
            f64::NEG_INFINITY
        } else {
            pivots.iter().map(|piv| piv[l].abs().ln()).sum()
        };
    }
    out
}

/// Round k's pivot row of every lane, as f64: row k where |m_kk| ≥ `threshold` · max_{i≥k} |m_ik|,
/// else the row i ≥ k with the largest |m_ik| (the first of equals). A threshold of 1 is
/// partial pivoting (the largest, row k among equals). `width` is the row length of `m`.
#[inline(always)]
fn pivot_rows<const L: usize>(
    m: &[[f64; L]],
    n: usize,
    width: usize,
    k: usize,
    threshold: f64,
) -> [f64; L] {
    let mut best = [-1.0; L];
    let mut row = [0.0; L];
    for i in k..n {
        let column = &m[i * width + k];
        let here = i as f64;
        for l in 0..L {
            let v = column[l].abs();
            let better = v > best[l];
            best[l] = if better { v } else { best[l] };
            row[l] = if better { here } else { row[l] };
        }
    }
    let diagonal = &m[k * width + k];
    let k = k as f64;
    for l in 0..L {
        row[l] = if diagonal[l].abs() >= threshold * best[l] {
            k
        } else {
            row[l]
        };
    }
    row
}

/// Up to this n the rows are swapped by selects over every candidate row (the same code for
/// every lane, no branches); above it lane by lane, which moves 2 rows instead of touching
/// n − k (the selects cost as much as the elimination itself at n = 15).
const SWAP_BY_SELECTS_UP_TO: usize = 3;

/// Swap row k of the n × `width` matrices with each lane's pivot row `row` over columns
/// `from..width`. Returns −1 where a lane swapped, +1 elsewhere. Both ways give the same bits.
#[inline(always)]
fn swap_rows<const L: usize>(
    m: &mut [[f64; L]],
    n: usize,
    width: usize,
    k: usize,
    from: usize,
    row: &[f64; L],
) -> [f64; L] {
    let mut parity = [1.0; L];
    if n > SWAP_BY_SELECTS_UP_TO {
        for l in 0..L {
            // A pivot row index below n, exact as f64.
            let p = row[l] as usize;
            if p != k {
                parity[l] = -1.0;
                let (upper, lower) = m.split_at_mut(p * width);
                let top = &mut upper[k * width + from..(k + 1) * width];
                for (t, o) in top.iter_mut().zip(&mut lower[from..width]) {
                    std::mem::swap(&mut t[l], &mut o[l]);
                }
            }
        }
        return parity;
    }
    // Written as `if swap { o } else { t }` for both rows, the AVX2 build returned the same
    // row twice (rustc 1.95) where the baseline build did not; the tests run both builds.
    for i in k + 1..n {
        let here = i as f64;
        for l in 0..L {
            parity[l] = if row[l] == here { -1.0 } else { parity[l] };
        }
        for c in from..width {
            let (upper, lower) = m.split_at_mut(i * width + c);
            let (top, other) = (&mut upper[k * width + c], &mut lower[0]);
            for l in 0..L {
                let mask = u64::from(row[l] == here).wrapping_neg();
                let (t, o) = (top[l].to_bits(), other[l].to_bits());
                let x = (t ^ o) & mask;
                top[l] = f64::from_bits(t ^ x);
                other[l] = f64::from_bits(o ^ x);
            }
        }
    }
    parity
}

/// Below this n the Gauss–Jordan eliminations go one round at a time: two rounds at a time
/// were 3–10 % slower at n = 6, 10 and 15 (the blocks of 12, 20 and 30 particles in 2D;
/// `examples/profile_move.rs`), even at n = 21 and 10 % faster at n = 28 (56 particles),
/// whose rows no longer fit the first-level cache. Both ways give the same bits.
const TWO_ROUNDS_FROM: usize = 22;

/// The same for the LU eliminations ([`eliminate_with`]), since the moves' threshold pivoting
/// and fused updates (eleventh session) and the Hermite recurrence in registers (thirteenth):
/// two rounds at a time make the moves' Slater pass 3–4 % faster at n = 15 and 11 % at
/// n = 21, 8 % slower at n = 10 (docs/performance.md).
const LU_TWO_ROUNDS_FROM: usize = 15;

/// [`eliminate_with`] one round at a time.
#[inline(always)]
fn eliminate_round_by_round<const L: usize>(
    m: &mut [[f64; L]],
    n: usize,
    pivots: &mut [[f64; L]],
    threshold: f64,
    fma: impl Fn(f64, f64, f64) -> f64 + Copy,
) -> [f64; L] {
    let mut permutation = [1.0; L];
    for k in 0..n {
        let row = pivot_rows(m, n, n, k, threshold);
        let parity = swap_rows(m, n, n, k, k, &row);
        let pivot = m[k * n + k];
        pivots[k] = pivot;
        for l in 0..L {
            permutation[l] *= parity[l];
        }
        for i in k + 1..n {
            let (upper, lower) = m.split_at_mut(i * n);
            let (source, target) = (&upper[k * n..(k + 1) * n], &mut lower[..n]);
            let mut factor = target[k];
            for l in 0..L {
                factor[l] /= pivot[l];
            }
            for c in k + 1..n {
                for l in 0..L {
                    target[c][l] = fma(-factor[l], source[c][l], target[c][l]);
                }
            }
        }
    }
    permutation
}

/// [`gauss_jordan_unpermuted`] one round at a time.
#[inline(always)]
fn gauss_jordan_round_by_round<const L: usize>(
    m: &mut [[f64; L]],
    n: usize,
    pivots: &mut [[f64; L]],
    rows: &mut [[f64; L]],
    threshold: f64,
) -> [f64; L] {
    let mut permutation = [1.0; L];
    let mut source = vec![[0.0; L]; n];
    for k in 0..n {
        let row = pivot_rows(m, n, n, k, threshold);
        // Whole rows: the columns left of k hold the inverse's columns so far.
        let parity = swap_rows(m, n, n, k, 0, &row);
        rows[k] = row;
        for l in 0..L {
            permutation[l] *= parity[l];
        }
        pivots[k] = scale_pivot_row(&mut m[k * n..(k + 1) * n], k);
        source.copy_from_slice(&m[k * n..(k + 1) * n]);
        for i in (0..n).filter(|&i| i != k) {
            let target = &mut m[i * n..(i + 1) * n];
            let factor = target[k];
            target[k] = [0.0; L];
            for (target, &source) in target.iter_mut().zip(source.iter()) {
                for l in 0..L {
                    target[l] -= factor[l] * source[l];
                }
            }
        }
    }
    permutation
}

/// LU elimination with partial pivoting of every lane's row-major n×n matrix at once, in
/// place, writing the pivots (|det| = Π_k |pivot_k|); returns the sign of each lane's row
/// permutation. A singular lane gets a zero pivot (and non-finite entries after it). One round
/// at a time below [`LU_TWO_ROUNDS_FROM`], two from there ([`eliminate_two_rounds`]): the same
/// bits.
#[inline(always)]
pub(crate) fn eliminate<const L: usize>(
    m: &mut [[f64; L]],
    n: usize,
    pivots: &mut [[f64; L]],
) -> [f64; L] {
    eliminate_with(m, n, pivots, 1.0, |a, b, c| a * b + c)
}

/// [`eliminate`] with threshold pivoting ([`pivot_rows`]: row k stays the pivot row unless a
/// row below is larger than |m_kk| / `threshold`, so that every multiplier is at most
/// 1/`threshold` in size) and the updates t − f·u computed as `fma(−f, u, t)`. With a
/// threshold of 1 and `a * b + c` it is [`eliminate`], bit for bit.
#[inline(always)]
pub(crate) fn eliminate_with<const L: usize>(
    m: &mut [[f64; L]],
    n: usize,
    pivots: &mut [[f64; L]],
    threshold: f64,
    fma: impl Fn(f64, f64, f64) -> f64 + Copy,
) -> [f64; L] {
    if n < LU_TWO_ROUNDS_FROM {
        eliminate_round_by_round(m, n, pivots, threshold, fma)
    } else {
        eliminate_two_rounds(m, n, pivots, threshold, fma)
    }
}

/// [`eliminate`] two rounds at a time: round k's multipliers f_i are kept aside and applied
/// to the rows below together with round k + 1's, t ← (t − f_i u_k) − g_i u_{k+1}, so that
/// each entry is loaded and stored once per two rounds. Before round k + 1 picks its pivot,
/// round k updates column k + 1 and (once picked) the pivot row; the operations and their
/// order are those of one round at a time, so the bits are too.
#[inline(always)]
fn eliminate_two_rounds<const L: usize>(
    m: &mut [[f64; L]],
    n: usize,
    pivots: &mut [[f64; L]],
    threshold: f64,
    fma: impl Fn(f64, f64, f64) -> f64 + Copy,
) -> [f64; L] {
    let mut permutation = [1.0; L];
    let mut factors = vec![[0.0; L]; n];
    let mut k = 0;
    while k < n {
        let row = pivot_rows(m, n, n, k, threshold);
        let parity = swap_rows(m, n, n, k, k, &row);
        let pivot = m[k * n + k];
        pivots[k] = pivot;
        for l in 0..L {
            permutation[l] *= parity[l];
        }
        if k + 1 == n {
            break;
        }
        // Round k on column k + 1 only; its multipliers kept for the rest of the rows.
        let u = m[k * n + k + 1];
        for i in k + 1..n {
            let mut factor = m[i * n + k];
            for l in 0..L {
                factor[l] /= pivot[l];
            }
            factors[i] = factor;
            let entry = &mut m[i * n + k + 1];
            for l in 0..L {
                entry[l] = fma(-factor[l], u[l], entry[l]);
            }
        }
        // Round k + 1's pivot; the kept multipliers move with their rows.
        let next = k + 1;
        let row = pivot_rows(m, n, n, next, threshold);
        let parity = swap_rows(m, n, n, next, next, &row);
        for l in 0..L {
            permutation[l] *= parity[l];
            // A pivot row index below n, exact as f64.
            let p = row[l] as usize;
            let (a, b) = (factors[next][l], factors[p][l]);
            factors[next][l] = b;
            factors[p][l] = a;
        }
        let (done, rest) = m.split_at_mut((next + 1) * n);
        let (upper, lower) = done[k * n..].split_at_mut(n);
        // Round k on the pivot row of round k + 1.
        let f = factors[next];
        for c in next + 1..n {
            let source = upper[c];
            for l in 0..L {
                lower[c][l] = fma(-f[l], source[l], lower[c][l]);
            }
        }
        let pivot = lower[next];
        pivots[next] = pivot;
        // Both rounds on the rows below.
        for i in next + 1..n {
            let target = &mut rest[(i - next - 1) * n..(i - next) * n];
            let mut g = target[next];
            for l in 0..L {
                g[l] /= pivot[l];
            }
            let f = factors[i];
            for c in next + 1..n {
                let (a, b) = (upper[c], lower[c]);
                let t = &mut target[c];
                for l in 0..L {
                    t[l] = fma(-g[l], b[l], fma(-f[l], a[l], t[l]));
                }
            }
        }
        k += 2;
    }
    permutation
}

/// Gauss–Jordan's scaling of pivot row k: the pivot's entry becomes 1 (column k of the
/// identity) and the row is divided by the pivot, which is returned.
#[inline(always)]
fn scale_pivot_row<const L: usize>(row: &mut [[f64; L]], k: usize) -> [f64; L] {
    let pivot = row[k];
    let mut scale = [0.0; L];
    for l in 0..L {
        scale[l] = 1.0 / pivot[l];
    }
    row[k] = [1.0; L];
    for entry in row {
        for l in 0..L {
            entry[l] *= scale[l];
        }
    }
    pivot
}

/// Gauss–Jordan elimination with threshold pivoting (`threshold` as in [`pivot_rows`]; 1 is
/// partial pivoting) of every lane's n×n matrix at once, in place: A becomes A⁻¹ with its
/// columns permuted by the row swaps, which `rows` keeps (each round's pivot row;
/// [`gauss_jordan`] undoes them on the columns). Column k of the identity that [A | I] would
/// carry takes the place of A's column k once that is eliminated; n³ multiply-adds instead of
/// [A | I]'s 3n³/2, the same bits. Writes the pivots and returns the sign of each lane's row
/// permutation. One round at a time below [`TWO_ROUNDS_FROM`], two
/// from there ([`gauss_jordan_two_rounds`]): the same bits.
#[inline(always)]
pub(crate) fn gauss_jordan_unpermuted<const L: usize>(
    m: &mut [[f64; L]],
    n: usize,
    pivots: &mut [[f64; L]],
    rows: &mut [[f64; L]],
    threshold: f64,
) -> [f64; L] {
    if n < TWO_ROUNDS_FROM {
        gauss_jordan_round_by_round(m, n, pivots, rows, threshold)
    } else {
        gauss_jordan_two_rounds(m, n, pivots, rows, threshold)
    }
}

/// [`gauss_jordan_unpermuted`] two rounds at a time, as in [`eliminate_two_rounds`]: round k
/// updates columns k and k + 1 of every other row and the pivot row of round k + 1 before
/// that round, and the rest of every row together with round k + 1,
/// t ← (t − f_i u_k) − g_i u_{k+1}: the operations and their order of one round at a time, so
/// the same bits.
#[inline(always)]
fn gauss_jordan_two_rounds<const L: usize>(
    m: &mut [[f64; L]],
    n: usize,
    pivots: &mut [[f64; L]],
    rows: &mut [[f64; L]],
    threshold: f64,
) -> [f64; L] {
    let mut permutation = [1.0; L];
    let (mut u0, mut u1) = (vec![[0.0; L]; n], vec![[0.0; L]; n]);
    let mut factors = vec![[0.0; L]; n];
    let mut k = 0;
    while k < n {
        let row = pivot_rows(m, n, n, k, threshold);
        // Whole rows: the columns left of k hold the inverse's columns so far.
        let parity = swap_rows(m, n, n, k, 0, &row);
        rows[k] = row;
        for l in 0..L {
            permutation[l] *= parity[l];
        }
        pivots[k] = scale_pivot_row(&mut m[k * n..(k + 1) * n], k);
        u0.copy_from_slice(&m[k * n..(k + 1) * n]);
        let next = k + 1;
        if next == n {
            for i in (0..n).filter(|&i| i != k) {
                let target = &mut m[i * n..(i + 1) * n];
                let factor = target[k];
                target[k] = [0.0; L];
                for (target, &source) in target.iter_mut().zip(u0.iter()) {
                    for l in 0..L {
                        target[l] -= factor[l] * source[l];
                    }
                }
            }
            break;
        }
        // Round k on columns k and k + 1 of the other rows; its multipliers kept.
        for i in (0..n).filter(|&i| i != k) {
            let target = &mut m[i * n..(i + 1) * n];
            let factor = target[k];
            factors[i] = factor;
            target[k] = [0.0; L];
            for c in [k, next] {
                for l in 0..L {
                    target[c][l] -= factor[l] * u0[c][l];
                }
            }
        }
        // Round k + 1's pivot; the kept multipliers move with their rows.
        let row = pivot_rows(m, n, n, next, threshold);
        let parity = swap_rows(m, n, n, next, 0, &row);
        rows[next] = row;
        for l in 0..L {
            permutation[l] *= parity[l];
            // A pivot row index below n, exact as f64.
            let p = row[l] as usize;
            let (a, b) = (factors[next][l], factors[p][l]);
            factors[next][l] = b;
            factors[p][l] = a;
        }
        // Round k on the rest of the pivot row, then its scaling.
        let target = &mut m[next * n..(next + 1) * n];
        let factor = factors[next];
        for (c, (target, &source)) in target.iter_mut().zip(u0.iter()).enumerate() {
            if c != k && c != next {
                for l in 0..L {
                    target[l] -= factor[l] * source[l];
                }
            }
        }
        pivots[next] = scale_pivot_row(target, next);
        u1.copy_from_slice(&m[next * n..(next + 1) * n]);
        // Round k + 1 on row k, both rounds on the others.
        for i in (0..n).filter(|&i| i != next) {
            let target = &mut m[i * n..(i + 1) * n];
            let g = target[next];
            target[next] = [0.0; L];
            if i == k {
                for (target, &source) in target.iter_mut().zip(u1.iter()) {
                    for l in 0..L {
                        target[l] -= g[l] * source[l];
                    }
                }
                continue;
            }
            let f = factors[i];
            let (before, rest) = target.split_at_mut(k);
            for ((t, &a), &b) in before.iter_mut().zip(u0.iter()).zip(u1.iter()) {
                for l in 0..L {
                    t[l] = t[l] - f[l] * a[l] - g[l] * b[l];
                }
            }
            for ((t, &a), &b) in rest[2..]
                .iter_mut()
                .zip(&u0[next + 1..])
                .zip(&u1[next + 1..])
            {
                for l in 0..L {
                    t[l] = t[l] - f[l] * a[l] - g[l] * b[l];
                }
            }
            for (t, &b) in rest[..2].iter_mut().zip(&u1[k..=next]) {
                for l in 0..L {
                    t[l] -= g[l] * b[l];
                }
            }
        }
        k += 2;
    }
    permutation
}

/// [`gauss_jordan_unpermuted`] with its row swaps undone on the columns: A becomes A⁻¹.
/// `threshold` as in [`pivot_rows`]: 1 is partial pivoting.
#[inline(always)]
pub(crate) fn gauss_jordan<const L: usize>(
    m: &mut [[f64; L]],
    n: usize,
    pivots: &mut [[f64; L]],
    rows: &mut [[f64; L]],
    threshold: f64,
) -> [f64; L] {
    let permutation = gauss_jordan_unpermuted(m, n, pivots, rows, threshold);
    for k in (0..n).rev() {
        for l in 0..L {
            let p = rows[k][l] as usize;
            if p != k {
                for i in 0..n {
                    let t = m[i * n + k][l];
                    m[i * n + k][l] = m[i * n + p][l];
                    m[i * n + p][l] = t;
                }
            }
        }
    }
    permutation
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host_tanh::testing::{flex_f64, max_diff, ndarray_f64, normal, values};

    /// One matrix in every lane.
    fn lanes(matrix: &[f64]) -> Vec<Lanes> {
        matrix.iter().map(|&v| [v; LANES]).collect()
    }

    #[test]
    fn the_elimination_handles_pivots_and_singular_matrices() {
        let mut pivots = vec![[0.0; LANES]; 4];
        // Two equal rows (two same-spin particles at one point): singular.
        let equal_rows = [
            1.0, 2.0, 3.0, 7.0, 1.0, 2.0, 3.0, 7.0, 0.5, -1.0, 4.0, 2.0, 1.0, 0.0, 0.0, 1.0,
        ];
        eliminate(&mut lanes(&equal_rows), 4, &mut pivots);
        let got = log_abs_from_pivots(&pivots);
        assert!(got.iter().all(|&v| v == f64::NEG_INFINITY), "{got:?}");
        // A zero in the first pivot position forces a row swap: det = −2·1·3·4.
        let swapped = [
            0.0, 2.0, 0.0, 0.0, //
            1.0, 0.0, 0.0, 0.0, //
            0.0, 0.0, 3.0, 0.0, //
            0.0, 0.0, 0.0, 4.0,
        ];
        let (log_abs, sign, _) = batch_log_det(&swapped, 4, Some(Inverse::RowMajor));
        assert!((log_abs[0] - 24.0_f64.ln()).abs() < 1e-14, "{log_abs:?}");
        assert_eq!(sign[0], -1.0);
        // Entries of 1e80 on the diagonal: the product of pivots overflows, the sum of
        // logarithms does not.
        let big: Vec<f64> = (0..16)
            .map(|k| if k % 5 == 0 { 1e80 } else { 1.0 })
            .collect();
        let (log_abs, _, _) = batch_log_det(&big, 4, None);
        let expected = 4.0 * 1e80_f64.ln();
        assert!(
            (log_abs[0] - expected).abs() < 1e-12 * expected,
            "{log_abs:?}"
        );
    }

    /// Two rounds at a time and one round at a time give the same bits, for the LU (with
    /// partial pivoting and plain updates, and with the moves' threshold pivoting and fused
    /// updates) and the Gauss–Jordan elimination (pivots, permutation signs, the reduced
    /// matrices and the pivot rows), with odd and even n and a singular lane (two equal rows).
    #[test]
    fn two_rounds_at_a_time_give_the_bits_of_one() {
        for n in [2, 3, 4, 5, 6, 9, 10, 15, 22, 23, 28] {
            let mut a: Vec<Lanes> = values(normal([n * n, LANES], 1.0, &flex_f64()))
                .chunks_exact(LANES)
                .map(|c| c.try_into().expect("LANES values"))
                .collect();
            for c in 0..n {
                a[n + c][3] = a[c][3];
            }
            let bits =
                |v: &[Lanes]| -> Vec<u64> { v.iter().flatten().map(|x| x.to_bits()).collect() };
            let run = |two: bool, gauss: bool, threshold: f64| {
                let (mut m, mut pivots, mut rows) =
                    (a.clone(), vec![[0.0; LANES]; n], vec![[0.0; LANES]; n]);
                let plain = |a: f64, b: f64, c: f64| a * b + c;
                let sign = match (two, gauss) {
                    (false, false) if threshold < 1.0 => {
                        eliminate_round_by_round(&mut m, n, &mut pivots, threshold, f64::mul_add)
                    }
                    (true, false) if threshold < 1.0 => {
                        eliminate_two_rounds(&mut m, n, &mut pivots, threshold, f64::mul_add)
                    }
                    (false, false) => eliminate_round_by_round(&mut m, n, &mut pivots, 1.0, plain),
                    (true, false) => eliminate_two_rounds(&mut m, n, &mut pivots, 1.0, plain),
                    (false, true) => {
                        gauss_jordan_round_by_round(&mut m, n, &mut pivots, &mut rows, threshold)
                    }
                    (true, true) => {
                        gauss_jordan_two_rounds(&mut m, n, &mut pivots, &mut rows, threshold)
                    }
                };
                let m = if gauss {
                    m
                } else {
                    // Below the diagonal the LU leaves stale entries; compare U only.
                    let mut upper = m;
                    for i in 0..n {
                        for c in 0..i {
                            upper[i * n + c] = [0.0; LANES];
                        }
                    }
                    upper
                };
                (bits(&[sign]), bits(&pivots), bits(&m), bits(&rows))
            };
            for (gauss, threshold) in [(false, 1.0), (false, 0.1), (true, 1.0), (true, 0.1)] {
                assert_eq!(
                    run(false, gauss, threshold),
                    run(true, gauss, threshold),
                    "n = {n}, gauss {gauss}, threshold {threshold}"
                );
            }
        }
    }

    /// The host pass equals burn's ops (linalg.rs on ndarray) in log|det|, sign and inverse
    /// for every size the closed forms and the eliminations cover, with a batch that is not
    /// a multiple of the chunk.
    #[test]
    fn host_log_det_equals_the_ops() {
        for n in (1..=8).chain([15, 22, 23]) {
            let batch = 45;
            let a = normal([batch, n, n], 1.0, &flex_f64());
            for want_inverse in [false, true] {
                // The dispatched build (AVX2 where the CPU has it) equals the baseline build.
                let entries = values(a.clone());
                for layout in [None, Some(Inverse::RowMajor), Some(Inverse::Transposed)] {
                    assert_eq!(
                        batch_log_det(&entries, n, layout),
                        batch_log_det_lanes(&entries, n, layout)
                    );
                }
                let host = log_det(a.clone(), want_inverse).expect("flex f64");
                let ops =
                    crate::linalg::log_det_ops(a.clone().to_device(&ndarray_f64()), want_inverse);
                assert!(
                    max_diff(&values(host.log_abs), &values(ops.log_abs)) < 1e-12,
                    "n = {n}"
                );
                assert_eq!(values(host.sign), values(ops.sign), "n = {n}");
                if want_inverse {
                    let (h, o) = (host.inverse.expect("asked"), ops.inverse.expect("asked"));
                    let scale = values(o.clone())
                        .iter()
                        .fold(1.0_f64, |m, v| m.max(v.abs()));
                    let diff = max_diff(&values(h), &values(o));
                    assert!(diff < 1e-11 * scale, "n = {n}: {diff:e}");
                }
            }
        }
    }

    /// Tracked: the value equals the untracked Gauss–Jordan one bit for bit, and autodiff's ∂/∂A of
    /// Σ_b c_b log|det A_b| equals c_b (A_b⁻¹)ᵀ from burn's ops on ndarray.
    #[test]
    fn the_tracked_derivative_is_the_inverse_transpose() {
        let (batch, n) = (37, 5);
        let a = normal([batch, n, n], 1.0, &flex_f64());
        let c = normal([batch], 1.0, &flex_f64());
        let leaf = a.clone().autodiff().require_grad();
        let tracked = log_det(leaf.clone(), false).expect("flex f64, no inverse");
        // The same elimination (Gauss–Jordan, which the derivative needs) untracked: the
        // attached term is exactly zero.
        let untracked = log_det(a.clone(), true).expect("flex f64");
        assert_eq!(values(tracked.log_abs.clone()), values(untracked.log_abs));
        let grads = (tracked.log_abs * c.clone().autodiff()).sum().backward();
        let got = values(leaf.grad(&grads).expect("A is a leaf"));
        let inverse = crate::linalg::log_det_ops(a.clone().to_device(&ndarray_f64()), true)
            .inverse
            .expect("asked");
        let c = c.to_device(&ndarray_f64()).reshape([batch, 1, 1]);
        let expected = values(inverse.swap_dims(1, 2) * c);
        let diff = max_diff(&got, &expected);
        assert!(diff < 1e-10, "{diff:e}");
        // A singular matrix keeps log|det| = −∞ when tracked.
        let singular = Tensor::<3>::from_data(
            TensorData::new(vec![1.0, 2.0, 2.0, 4.0], [1, 2, 2]),
            &flex_f64(),
        );
        let det = log_det(singular.autodiff().require_grad(), false).expect("flex f64");
        assert_eq!(values(det.log_abs), vec![f64::NEG_INFINITY]);
        // A tracked tensor that asks for the inverse is handed back to burn's ops.
        assert!(log_det(a.autodiff().require_grad(), true).is_err());
    }
}
