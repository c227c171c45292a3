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
