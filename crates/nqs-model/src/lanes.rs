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
    h[0] = [1.0; W];
    for k in 1..h.len() {
        let mut next = [0.0; W];
        for l in 0..W {
            let two_xi = 2.0 * q * column[l];
            next[l] = two_xi * h[k - 1][l]
                - if k >= 2 {
                    2.0 * (k - 1) as f64 * h[k - 2][l]
                } else {
                    0.0
                };
        }
        h[k] = next;
    }
}
