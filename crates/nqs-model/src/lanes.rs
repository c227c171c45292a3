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

/// |x_i − x_j|² of lane `l` alone, summed in the order of the dimensions (the bits of
/// [`pair_r2`]), for loops over lanes that take the square root at once: the array of
/// [`pair_r2`] goes through memory, and reading it back stalled the square roots on its
/// stores.
#[inline(always)]
pub(crate) fn lane_r2<const L: usize>(
    x: &[[f64; L]],
    i: usize,
    j: usize,
    d: usize,
    l: usize,
) -> f64 {
    let (xi, xj) = (&x[i * d..(i + 1) * d], &x[j * d..(j + 1) * d]);
    let mut r2 = 0.0;
    for b in 0..d {
        let s = xi[b][l] - xj[b][l];
        r2 += s * s;
    }
    r2
}

/// H_0 … H_{K} (`h.len()` degrees) at ξ = q·c of one coordinate c's lanes: H_0 = 1,
/// H_1 = 2ξ, H_{k+1} = 2ξ H_k − 2k H_{k−1}.
#[inline(always)]
pub(crate) fn hermite<const W: usize>(column: &[f64; W], q: f64, h: &mut [[f64; W]]) {
    recurrence(column, q, h, None);
}

/// [`hermite`] with H′_k = 2k H_{k−1} and H″_k = 4k(k − 1) H_{k−2} (in ξ) written on the way.
#[inline(always)]
pub(crate) fn hermite_with_derivatives<const W: usize>(
    column: &[f64; W],
    q: f64,
    h: &mut [[f64; W]],
    h1: &mut [[f64; W]],
    h2: &mut [[f64; W]],
) {
    recurrence(column, q, h, Some((h1, h2)));
}

/// The recurrence of [`hermite`], and of the derivatives when asked. 2ξ once, and H_{k−1},
/// H_{k−2} kept in locals: read back from `h`, the compiler reloaded the column and the
/// just-stored rows on every degree (17 % of the moves' Slater pass at N = 30 in `perf
/// annotate`), and the derivatives waited on those stores. The same operations in the same
/// order as a recurrence over the table: the same bits.
#[inline(always)]
fn recurrence<const W: usize>(
    column: &[f64; W],
    q: f64,
    h: &mut [[f64; W]],
    mut derivatives: Option<(&mut [[f64; W]], &mut [[f64; W]])>,
) {
    let mut two_xi = [0.0; W];
    for l in 0..W {
        two_xi[l] = 2.0 * q * column[l];
    }
    let (mut previous, mut current) = ([0.0; W], [1.0; W]);
    h[0] = current;
    if let Some((h1, h2)) = derivatives.as_mut() {
        h1[0] = [0.0; W];
        h2[0] = [0.0; W];
    }
    for k in 1..h.len() {
        let c = 2.0 * (k - 1) as f64;
        let mut next = [0.0; W];
        for l in 0..W {
            next[l] = two_xi[l] * current[l] - if k >= 2 { c * previous[l] } else { 0.0 };
        }
        h[k] = next;
        if let Some((h1, h2)) = derivatives.as_mut() {
            let (c1, c2) = (2.0 * k as f64, 4.0 * (k * (k - 1)) as f64);
            let (mut first, mut second) = ([0.0; W], [0.0; W]);
            for l in 0..W {
                first[l] = c1 * current[l];
                second[l] = if k >= 2 { c2 * previous[l] } else { 0.0 };
            }
            h1[k] = first;
            h2[k] = second;
        }
        previous = current;
        current = next;
    }
}

/// One particle's row of orbital values P_ij = Π_a H_{n_ja}(ξ_a), j over `orbitals`
/// (n_ja, `[orbital][dimension]`), from its Hermite table `h` (degree k of dimension a at
/// `a·degrees + k`). In 2D and 3D the product is unrolled (one or two multiplies per entry,
/// no loop over the dimensions: the loop's chain and bounds checks were 15 % of the moves'
/// Slater pass at N = 20); the same products in the same order as from 1.0, so the same bits.
#[inline(always)]
pub(crate) fn orbital_row<const W: usize>(
    h: &[[f64; W]],
    degrees: usize,
    orbitals: &[Vec<usize>],
    row: &mut [[f64; W]],
) {
    match orbitals.first().map_or(0, Vec::len) {
        2 => orbital_row_in::<2, W>(h, degrees, orbitals, row),
        3 => orbital_row_in::<3, W>(h, degrees, orbitals, row),
        _ => {
            for (entry, quanta) in row.iter_mut().zip(orbitals) {
                let mut product = [1.0; W];
                for (a, &k) in quanta.iter().enumerate() {
                    for l in 0..W {
                        product[l] *= h[a * degrees + k][l];
                    }
                }
                *entry = product;
            }
        }
    }
}

/// [`orbital_row`] in `D` dimensions.
#[inline(always)]
fn orbital_row_in<const D: usize, const W: usize>(
    h: &[[f64; W]],
    degrees: usize,
    orbitals: &[Vec<usize>],
    row: &mut [[f64; W]],
) {
    for (entry, quanta) in row.iter_mut().zip(orbitals) {
        let quanta: &[usize; D] = quanta[..]
            .try_into()
            .expect("D quantum numbers per orbital");
        let mut product = h[quanta[0]];
        for (a, &k) in quanta.iter().enumerate().skip(1) {
            let factor = &h[a * degrees + k];
            for l in 0..W {
                product[l] *= factor[l];
            }
        }
        *entry = product;
    }
}

/// The bits of 1.0.
const ONE: u64 = 0x3ff0_0000_0000_0000;
/// 2⁵² as f64: adding it to |v| < 2⁵¹ leaves round(v) in the low mantissa bits.
const TWO_52: f64 = 4_503_599_627_370_496.0;

/// ln u for normal positive u, without branches, so that a loop over lanes vectorises it:
/// u = 2^e m with m ∈ [√½, √2), ln m = 2 atanh s, s = (m − 1)/(m + 1), |s| ≤ 0.172, by its
/// series to s²¹; within 1e-15 of the standard library relative to max(1, |ln u|) (tested
/// here for u ∈ [1e-300, 1e300] and in the sampler's normals, which use it for u ∈ (0, 1]).
/// `fma` for the series (`|a, b, c| a * b + c` where every build must give the same bits).
#[inline(always)]
pub fn ln_normal(u: f64, fma: impl Fn(f64, f64, f64) -> f64) -> f64 {
    let bits = u.to_bits();
    let biased = bits >> 52;
    let mantissa = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | ONE);
    // m ≥ √2: halve it and count one more in the exponent, without branches.
    let high = u64::from(mantissa >= std::f64::consts::SQRT_2);
    let m = f64::from_bits(mantissa.to_bits() - (high << 52));
    let e = f64::from_bits(0x4330_0000_0000_0000 | (biased + high)) - TWO_52 - 1023.0;
    let s = (m - 1.0) / (m + 1.0);
    let z = s * s;
    // 2 Σ_k z^k / (2k + 1), k = 0 … 10.
    let mut p = 2.0 / 21.0;
    for k in (0..10).rev() {
        p = fma(p, z, 2.0 / (2 * k + 1) as f64);
    }
    fma(e, std::f64::consts::LN_2, s * p)
}

#[cfg(test)]
mod tests {
    /// [`super::ln_normal`] within 1e-15 of the standard library relative to max(1, |ln u|),
    /// fused or not, over u from 1e-300 to 1e300 and at the edges of its mantissa reduction.
    #[test]
    fn ln_normal_matches_the_standard_library() {
        let mut worst: f64 = 0.0;
        let mut check = |u: f64| {
            for fma in [f64::mul_add, |a: f64, b: f64, c: f64| a * b + c] {
                let error = (super::ln_normal(u, fma) - u.ln()).abs() / u.ln().abs().max(1.0);
                worst = worst.max(error);
            }
        };
        for k in 0..=200_000 {
            check(10f64.powf(-300.0 + 600.0 * k as f64 / 200_000.0));
        }
        for u in [
            1.0,
            f64::MIN_POSITIVE,
            f64::MAX,
            std::f64::consts::SQRT_2,
            f64::from_bits(std::f64::consts::SQRT_2.to_bits() - 1),
            std::f64::consts::FRAC_1_SQRT_2,
        ] {
            check(u);
        }
        assert!(worst < 1e-15, "worst relative error {worst:e}");
    }
}
