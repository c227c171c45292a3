//! Standard normals by the Box–Muller transform on [`LANES`] independent Xoshiro256++
//! streams at once, so that the generator, the logarithm, the square root and the sine and
//! cosine run in vector registers: z₀ = r cos θ, z₁ = r sin θ with r = √(−2 ln u₁),
//! θ = 2π u₂ (u₁ ∈ (0, 1], u₂ ∈ [0, 1), 52 random bits each).
//!
//! The logarithm and the sine and cosine are series on reduced ranges (ln of a mantissa in
//! [√½, √2) by the atanh series, sin and cos on [−π/4, π/4] by Taylor), within 1e-15 of the
//! standard library (tested); the transform is then exact to that precision. The smallest
//! u₁, 2⁻⁵², caps |z| at 8.49, where the normal's two tails hold 2e-17. Any symmetric
//! proposal leaves |ψ|² invariant; these normals are also tested against the normal law.

use nqs_model::ln_normal;

/// Streams advanced together.
pub(crate) const LANES: usize = 8;

type Words = [u64; LANES];

/// `LANES` Xoshiro256++ generators, state word k of stream l at `s[k][l]`.
pub(crate) struct Streams {
    s: [Words; 4],
    /// The rotations' shift counts (23, 41, 45, 19), read at run time: with constants the
    /// compiler recognises `(x << k) | (x >> (64 − k))` as a rotation, which AVX2 lacks, and
    /// moves every lane out to scalar registers to rotate it (3× slower).
    shifts: [u32; 4],
}

impl Streams {
    /// Streams seeded by 32 words of `seed` (a stream of all-zero words, which Xoshiro
    /// cannot leave, gets a one).
    pub(crate) fn new(mut seed: impl FnMut() -> u64) -> Self {
        let mut s = [[0; LANES]; 4];
        for l in 0..LANES {
            for word in s.iter_mut() {
                word[l] = seed();
            }
            if s.iter().all(|w| w[l] == 0) {
                s[0][l] = 1;
            }
        }
        Self {
            s,
            shifts: std::hint::black_box([23, 41, 45, 19]),
        }
    }

    #[inline(always)]
    fn next(&mut self) -> Words {
        let [s0, s1, s2, s3] = &mut self.s;
        let [l23, r41, l45, r19] = self.shifts;
        let mut out = [0; LANES];
        for l in 0..LANES {
            let sum = s0[l].wrapping_add(s3[l]);
            out[l] = ((sum << l23) | (sum >> r41)).wrapping_add(s0[l]);
            let t = s1[l] << 17;
            s2[l] ^= s0[l];
            s3[l] ^= s1[l];
            s1[l] ^= s2[l];
            s0[l] ^= s3[l];
            s2[l] ^= t;
            s3[l] = (s3[l] << l45) | (s3[l] >> r19);
        }
        out
    }

    /// Fills `out` with standard normals.
    #[allow(unsafe_code)]
    pub(crate) fn fill(&mut self, out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: as below, for AVX-512F/DQ and FMA.
            unsafe { self.fill_avx512_fma(out) };
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above), the only
            // requirement of a `target_feature` function; the body is safe code.
            unsafe { self.fill_avx2_fma(out) };
            return;
        }
        self.fill_lanes(out, |a, b, c| a * b + c);
    }

    /// The same code compiled for AVX2 (four lanes per instruction) with fused
    /// multiply-adds in the series.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn fill_avx2_fma(&mut self, out: &mut [f64]) {
        self.fill_lanes(out, f64::mul_add);
    }

    /// The same code compiled for AVX-512 (all eight lanes in one register, rotations by
    /// one instruction). The same operations in the same order as the AVX2 build, so the
    /// same bits (tested).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512dq,fma")]
    fn fill_avx512_fma(&mut self, out: &mut [f64]) {
        self.fill_lanes(out, f64::mul_add);
    }

    #[inline(always)]
    fn fill_lanes(&mut self, out: &mut [f64], fma: impl Fn(f64, f64, f64) -> f64 + Copy) {
        let mut chunks = out.chunks_exact_mut(2 * LANES);
        for chunk in &mut chunks {
            let (cos, sin) = chunk.split_at_mut(LANES);
            self.transform(cos, sin, fma);
        }
        let rest = chunks.into_remainder();
        if !rest.is_empty() {
            let mut pair = [0.0; 2 * LANES];
            let (cos, sin) = pair.split_at_mut(LANES);
            self.transform(cos, sin, fma);
            let len = rest.len();
            rest.copy_from_slice(&pair[..len]);
        }
    }

    /// One transform of every stream: r cos θ into `cos`, r sin θ into `sin` (`LANES` each).
    #[inline(always)]
    fn transform(
        &mut self,
        cos: &mut [f64],
        sin: &mut [f64],
        fma: impl Fn(f64, f64, f64) -> f64 + Copy,
    ) {
        let (a, b) = (self.next(), self.next());
        for l in 0..LANES {
            // u₁ = 2 − [1, 2) ∈ (0, 1], u₂ = [1, 2) − 1 ∈ [0, 1).
            let u1 = 2.0 - f64::from_bits(ONE | (a[l] >> 12));
            let u2 = f64::from_bits(ONE | (b[l] >> 12)) - 1.0;
            let r = (-2.0 * ln_normal(u1, fma)).sqrt();
            let (s, c) = sin_cos_turns(u2, fma);
            cos[l] = r * c;
            sin[l] = r * s;
        }
    }
}

/// The bits of 1.0.
const ONE: u64 = 0x3ff0_0000_0000_0000;
/// 2⁵² as f64: adding it to |v| < 2⁵¹ leaves round(v) in the low mantissa bits.
const TWO_52: f64 = 4_503_599_627_370_496.0;

/// (sin 2πt, cos 2πt) for t ∈ [0, 1): 4t = q + f with q = round(4t), f ∈ [−½, ½], the
/// series at a = (π/2) f and the quadrant q mod 4 applied by swapping and sign bits.
#[inline(always)]
fn sin_cos_turns(t: f64, fma: impl Fn(f64, f64, f64) -> f64) -> (f64, f64) {
    let y = 4.0 * t;
    let shifted = y + TWO_52;
    let q = shifted.to_bits() & 3;
    let f = y - (shifted - TWO_52);
    let a = f * std::f64::consts::FRAC_PI_2;
    let z = a * a;
    // sin a = a Σ (−z)^k / (2k + 1)!, k ≤ 8; cos a = Σ (−z)^k / (2k)!, k ≤ 8.
    let mut sin = SIN[8];
    let mut cos = COS[8];
    for k in (0..8).rev() {
        sin = fma(sin, z, SIN[k]);
        cos = fma(cos, z, COS[k]);
    }
    let sin = sin * a;
    // q = 1: (cos, −sin); q = 2: (−sin, −cos); q = 3: (−cos, sin).
    let swap = 0u64.wrapping_sub(q & 1);
    let (s_bits, c_bits) = (sin.to_bits(), cos.to_bits());
    let sin_q = (s_bits & !swap) | (c_bits & swap);
    let cos_q = (c_bits & !swap) | (s_bits & swap);
    let sin_negative = (q >> 1) & 1;
    let cos_negative = ((q + 1) >> 1) & 1;
    (
        f64::from_bits(sin_q ^ (sin_negative << 63)),
        f64::from_bits(cos_q ^ (cos_negative << 63)),
    )
}

/// (−1)^k / (2k + 1)!.
const SIN: [f64; 9] = [
    1.0,
    -1.0 / 6.0,
    1.0 / 120.0,
    -1.0 / 5040.0,
    1.0 / 362_880.0,
    -1.0 / 39_916_800.0,
    1.0 / 6_227_020_800.0,
    -1.0 / 1_307_674_368_000.0,
    1.0 / 355_687_428_096_000.0,
];
/// (−1)^k / (2k)!.
const COS: [f64; 9] = [
    1.0,
    -1.0 / 2.0,
    1.0 / 24.0,
    -1.0 / 720.0,
    1.0 / 40_320.0,
    -1.0 / 3_628_800.0,
    1.0 / 479_001_600.0,
    -1.0 / 87_178_291_200.0,
    1.0 / 20_922_789_888_000.0,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Within 1e-15 of the standard library (relative to max(1, |ln u|)).
    #[test]
    fn ln_and_sin_cos_match_the_standard_library() {
        let mut worst: f64 = 0.0;
        for k in 0..200_000 {
            let u = (k as f64 + 0.5) / 200_000.0;
            for fma in [f64::mul_add, |a: f64, b: f64, c: f64| a * b + c] {
                worst = worst.max((ln_normal(u, fma) - u.ln()).abs() / u.ln().abs().max(1.0));
                let (s, c) = sin_cos_turns(u, fma);
                let angle = std::f64::consts::TAU * u;
                worst = worst.max((s - angle.sin()).abs());
                worst = worst.max((c - angle.cos()).abs());
            }
        }
        for u in [
            1.0,
            0.5,
            f64::powi(2.0, -52),
            std::f64::consts::FRAC_1_SQRT_2,
            f64::from_bits(std::f64::consts::FRAC_1_SQRT_2.to_bits() - 1),
        ] {
            worst = worst.max((ln_normal(u, f64::mul_add) - u.ln()).abs() / u.ln().abs().max(1.0));
        }
        for t in [
            0.0,
            0.125,
            0.25,
            0.375,
            0.5,
            0.625,
            0.75,
            0.875,
            1.0 - 1e-16,
        ] {
            let (s, c) = sin_cos_turns(t, f64::mul_add);
            let angle = std::f64::consts::TAU * t;
            worst = worst.max((s - angle.sin()).abs().max((c - angle.cos()).abs()));
        }
        assert!(worst < 1e-15, "{worst:e}");
    }

    /// Every vector build the CPU can run, and the dispatch where it picks one, gives the
    /// bits of the portable build with fused multiply-adds (the library's `mul_add`): the
    /// same operations in the same order.
    #[test]
    #[allow(unsafe_code)]
    fn builds_draw_the_same_bits() {
        let streams = || {
            let mut seed = 0x9e37_79b9_u64;
            Streams::new(move || {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                seed
            })
        };
        let draw = |fill: &dyn Fn(&mut Streams, &mut [f64])| {
            let mut s = streams();
            let mut out = vec![0.0; 100_003];
            fill(&mut s, &mut out);
            out.into_iter().map(f64::to_bits).collect::<Vec<_>>()
        };
        let portable = draw(&|s, out| s.fill_lanes(out, f64::mul_add));
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                // SAFETY: the features were detected just above.
                assert_eq!(draw(&|s, out| unsafe { s.fill_avx2_fma(out) }), portable);
                assert_eq!(draw(&|s, out| s.fill(out)), portable, "dispatched build");
            }
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512dq")
                && std::arch::is_x86_feature_detected!("fma")
            {
                // SAFETY: the features were detected just above.
                assert_eq!(draw(&|s, out| unsafe { s.fill_avx512_fma(out) }), portable);
            }
        }
    }

    /// The first four moments, the pair correlation, and the normal CDF at five points,
    /// each within five standard errors, from 4·10⁶ draws of both builds.
    #[test]
    fn draws_are_standard_normal() {
        let mut seed = 0x1234_5678_u64;
        let mut streams = Streams::new(|| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            seed
        });
        let n = 2_000_000;
        let mut z = vec![0.0; n];
        streams.fill(&mut z);
        let mut baseline = vec![0.0; n];
        streams.fill_lanes(&mut baseline, |a, b, c| a * b + c);
        z.extend(baseline);
        let count = z.len() as f64;
        let mean = |f: &dyn Fn(f64) -> f64| z.iter().map(|&v| f(v)).sum::<f64>() / count;
        let check = |name: &str, value: f64, expected: f64, variance: f64| {
            let bound = 5.0 * (variance / count).sqrt();
            assert!(
                (value - expected).abs() < bound,
                "{name}: {value} against {expected} ± {bound}"
            );
        };
        check("mean", mean(&|v| v), 0.0, 1.0);
        check("E z²", mean(&|v| v * v), 1.0, 2.0);
        check("E z³", mean(&|v| v.powi(3)), 0.0, 15.0);
        check("E z⁴", mean(&|v| v.powi(4)), 3.0, 96.0);
        // Φ at −2, −0.5, 0, 1, 3: P(z < c) is a Bernoulli mean.
        for (c, phi) in [
            (-2.0, 0.022_750_131_948_179_2),
            (-0.5, 0.308_537_538_725_986_9),
            (0.0, 0.5),
            (1.0, 0.841_344_746_068_542_9),
            (3.0, 0.998_650_101_968_369_9),
        ] {
            check(
                &format!("Φ({c})"),
                mean(&|v| f64::from(v < c)),
                phi,
                phi * (1.0 - phi),
            );
        }
        // z₀ and z₁ of one transform (lanes l and LANES + l of a chunk) are independent.
        let (mut product, mut squares, mut pairs) = (0.0, 0.0, 0.0);
        for chunk in z.chunks_exact(2 * LANES) {
            for l in 0..LANES {
                let (a, b) = (chunk[l], chunk[LANES + l]);
                product += a * b;
                squares += a * a * b * b;
                pairs += 1.0;
            }
        }
        let bound = 5.0 / f64::sqrt(pairs);
        assert!(
            (product / pairs).abs() < bound,
            "E z₀z₁ = {}",
            product / pairs
        );
        assert!(
            (squares / pairs - 1.0).abs() < 5.0 * (8.0 / pairs).sqrt(),
            "E z₀²z₁² = {}",
            squares / pairs
        );
    }
}
