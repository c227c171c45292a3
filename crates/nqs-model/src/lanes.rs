//! Walkers on vector lanes: the layout the host passes share. A chunk of `L` walkers is held
//! coordinate-major, `[N·d]` arrays of `L` values, so that every loop over a chunk runs over
//! `L` contiguous values and the compiler vectorises it.

/// Walkers `start..start + len` of `xs` (`[walkers, n_coords]` row-major) into `x`, one
/// walker per lane; padding lanes (`len < L`) repeat the last walker, their results are
/// dropped.
#[inline(always)]
pub(crate) fn load<const L: usize>(
    xs: &[f64],
    n_coords: usize,
    start: usize,
    len: usize,
    x: &mut [[f64; L]],
) {
    for l in 0..L {
        let k = start + l.min(len - 1);
        for (c, &v) in xs[k * n_coords..(k + 1) * n_coords].iter().enumerate() {
            x[c][l] = v;
        }
    }
}

/// |x_i − x_j|² of every lane, summed in the order of the dimensions (the same bits as the
/// pair table's r²).
#[inline(always)]
pub(crate) fn pair_r2<const L: usize>(x: &[[f64; L]], i: usize, j: usize, d: usize) -> [f64; L] {
    let mut r2 = [0.0; L];
    for b in 0..d {
        let (xi, xj) = (&x[i * d + b], &x[j * d + b]);
        for l in 0..L {
            let s = xi[l] - xj[l];
            r2[l] += s * s;
        }
    }
    r2
}

/// H_0 … H_{K} (`h.len()` degrees) at ξ = q·c of one coordinate c's lanes: H_0 = 1,
/// H_1 = 2ξ, H_{k+1} = 2ξ H_k − 2k H_{k−1}.
#[inline(always)]
pub(crate) fn hermite<const W: usize>(column: &[f64; W], q: f64, h: &mut [[f64; W]]) {
    // 2ξ once, and H_{k−1}, H_{k−2} kept in locals: read back from `h`, the compiler reloaded
    // the column and the just-stored rows on every degree (17 % of the moves' Slater pass at
    // N = 30 in `perf annotate`). The same operations in the same order: the same bits.
    let mut two_xi = [0.0; W];
    for l in 0..W {
        two_xi[l] = 2.0 * q * column[l];
    }
    let (mut previous, mut current) = ([0.0; W], [1.0; W]);
    h[0] = current;
    for k in 1..h.len() {
        let c = 2.0 * (k - 1) as f64;
        let mut next = [0.0; W];
        for l in 0..W {
            next[l] = two_xi[l] * current[l] - if k >= 2 { c * previous[l] } else { 0.0 };
        }
        h[k] = next;
        previous = current;
        current = next;
    }
}

/// [`hermite`] with H′_k = 2k H_{k−1} and H″_k = 4k(k − 1) H_{k−2} (in ξ) written on the way,
/// from the recurrence's locals (read back from `h`, they waited on its stores).
#[inline(always)]
pub(crate) fn hermite_with_derivatives<const W: usize>(
    column: &[f64; W],
    q: f64,
    h: &mut [[f64; W]],
    h1: &mut [[f64; W]],
    h2: &mut [[f64; W]],
) {
    let mut two_xi = [0.0; W];
    for l in 0..W {
        two_xi[l] = 2.0 * q * column[l];
    }
    let (mut previous, mut current) = ([0.0; W], [1.0; W]);
    h[0] = current;
    h1[0] = [0.0; W];
    h2[0] = [0.0; W];
    for k in 1..h.len() {
        let c = 2.0 * (k - 1) as f64;
        let (c1, c2) = (2.0 * k as f64, 4.0 * (k * (k - 1)) as f64);
        let (mut next, mut first, mut second) = ([0.0; W], [0.0; W], [0.0; W]);
        for l in 0..W {
            next[l] = two_xi[l] * current[l] - if k >= 2 { c * previous[l] } else { 0.0 };
            first[l] = c1 * current[l];
            second[l] = if k >= 2 { c2 * previous[l] } else { 0.0 };
        }
        h[k] = next;
        h1[k] = first;
        h2[k] = second;
        previous = current;
        current = next;
    }
}
