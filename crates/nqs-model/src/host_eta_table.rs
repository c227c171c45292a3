//! A backflow pair network η(u) as a piecewise polynomial over the range of u the walkers
//! span, for the Metropolis moves' host value passes ([`crate::HostLogPsi::with_eta_tables`]).
//!
//! The moves evaluate η at every pair of every walker in every move (N = 12: 66 pairs, two
//! layers of 16 tanh each), with parameters fixed for the whole step. Between updates η is a
//! fixed smooth function of one variable, so it is interpolated once per step: on segments
//! of width h, degree 9 at the Chebyshev points of the segment (error ~ (h/2)^10 η^(10) / 10!
//! / 2^9, spectrally small), stored as monomials of t ∈ [−1, 1] and evaluated by Horner.
//! The table is checked against the network at points away from the nodes (the segment
//! ends and two interior points) and refined until the largest deviation is below
//! [`TOLERANCE`] (1 + max|η|); where that cannot be reached, or a walker's u leaves the
//! table's range, the network itself is evaluated. log|ψ| then differs from the network's at
//! the level of round-off (below 4e-13 at most walkers, 2e-11 next to a node, where the FMA
//! and plain builds of the exact pass already differ by 6e-12; `host_value`'s tests), far
//! below anything a Metropolis test resolves; the local energies and gradients never use
//! the table. Stochastic reconfiguration's finite-difference value passes use it too, within
//! a budget of network evaluations (`HostLogPsi::with_eta_tables_for`): divided by the
//! difference's 2ε, the table's error stays below 10⁻⁶ of O v (`nqs-train/src/sr.rs`).

use crate::host_backflow::HostMlp;
use crate::host_det::{LANES, Lanes};

/// Coefficients per segment: degree 9.
const COEFFS: usize = 10;
/// The largest deviation from the network allowed, relative to 1 + max|η|.
pub(crate) const TOLERANCE: f64 = 1e-14;
/// The first segment width, in units of the network's input u.
const FIRST_WIDTH: f64 = 0.125;
/// The most segments a table may have before the network is used instead.
const MAX_SEGMENTS: usize = 1 << 14;
/// Where each segment is checked against the network, in its t ∈ [−1, 1].
const PROBES: [f64; 4] = [-1.0, -0.41, 0.73, 1.0 - 1e-12];

/// η on [0, u_max] as `segments` polynomials of t = 2(u/h − s) − 1 in segment s.
#[derive(Debug, Clone)]
pub(crate) struct EtaTable {
    inv_width: f64,
    u_max: f64,
    coeffs: Vec<[f64; COEFFS]>,
}

impl EtaTable {
    /// The table of `mlp` on [0, u_max], refined until it meets [`TOLERANCE`]; `None` when
    /// `MAX_SEGMENTS` do not suffice or building it would evaluate the network more than
    /// `max_evaluations` times (nodes and probes of every refinement).
    pub(crate) fn build(mlp: &HostMlp, u_max: f64, max_evaluations: usize) -> Option<Self> {
        let u_max = u_max.max(FIRST_WIDTH);
        let mut width = FIRST_WIDTH;
        let mut evaluations = 0;
        loop {
            let segments = (u_max / width).ceil() as usize;
            evaluations += segments * (COEFFS + PROBES.len());
            if segments > MAX_SEGMENTS || evaluations > max_evaluations {
                return None;
            }
            let table = Self::interpolate(mlp, width, segments);
            if table.deviation(mlp) <= TOLERANCE {
                return Some(table);
            }
            width /= 2.0;
        }
    }

    /// Chebyshev interpolation on each segment, converted to monomials of t.
    fn interpolate(mlp: &HostMlp, width: f64, segments: usize) -> Self {
        let nodes: [f64; COEFFS] = std::array::from_fn(|k| {
            (std::f64::consts::PI * (k as f64 + 0.5) / COEFFS as f64).cos()
        });
        let mut u = Vec::with_capacity(segments * COEFFS);
        for s in 0..segments {
            let centre = (s as f64 + 0.5) * width;
            u.extend(nodes.iter().map(|t| centre + 0.5 * width * t));
        }
        let eta = evaluate(mlp, &u);
        let monomials = chebyshev_monomials();
        // c_j = (2/n) Σ_k f(t_k) T_j(t_k), c_0 halved: the weights (2/n) T_j(t_k) once.
        let weights: [[f64; COEFFS]; COEFFS] = std::array::from_fn(|j| {
            std::array::from_fn(|k| {
                let angle = std::f64::consts::PI * j as f64 * (k as f64 + 0.5) / COEFFS as f64;
                let half = if j == 0 { 0.5 } else { 1.0 };
                half * 2.0 / COEFFS as f64 * angle.cos()
            })
        });
        let coeffs = eta
            .chunks_exact(COEFFS)
            .map(|f| {
                let mut out = [0.0; COEFFS];
                for (w, m) in weights.iter().zip(&monomials) {
                    let c: f64 = w.iter().zip(f).map(|(w, f)| w * f).sum();
                    for (o, m) in out.iter_mut().zip(m) {
                        *o += c * m;
                    }
                }
                out
            })
            .collect();
        Self {
            inv_width: 1.0 / width,
            u_max: segments as f64 * width,
            coeffs,
        }
    }

    /// The largest |table − network| at the segment ends and two interior points of every
    /// segment, relative to 1 + max|η| there.
    fn deviation(&self, mlp: &HostMlp) -> f64 {
        let width = 1.0 / self.inv_width;
        let u: Vec<f64> = (0..self.coeffs.len())
            .flat_map(|s| PROBES.map(|t| (s as f64 + 0.5 + 0.5 * t) * width))
            .collect();
        let exact = evaluate(mlp, &u);
        let scale = 1.0 + exact.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        u.iter()
            .zip(&exact)
            .map(|(&u, e)| (self.at(u, |a, b, c| a * b + c) - e).abs())
            .fold(0.0, f64::max)
            / scale
    }

    /// η(u) for 0 ≤ u ≤ u_max.
    #[inline(always)]
    fn at(&self, u: f64, fma: impl Fn(f64, f64, f64) -> f64) -> f64 {
        let z = u * self.inv_width;
        let s = (z as usize).min(self.coeffs.len() - 1);
        let t = 2.0 * (z - s as f64) - 1.0;
        let c = &self.coeffs[s];
        let mut acc = c[COEFFS - 1];
        for k in (0..COEFFS - 1).rev() {
            acc = fma(acc, t, c[k]);
        }
        acc
    }

    /// η at every lane of `u`, or `None` when a lane lies outside [0, u_max].
    #[inline(always)]
    pub(crate) fn eval(
        &self,
        u: &Lanes,
        fma: impl Fn(f64, f64, f64) -> f64 + Copy,
    ) -> Option<Lanes> {
        if u.iter().any(|&v| !(0.0..=self.u_max).contains(&v)) {
            return None;
        }
        let mut out = [0.0; LANES];
        for (o, &v) in out.iter_mut().zip(u) {
            *o = self.at(v, fma);
        }
        Some(out)
    }
}

/// The network at every point of `u`, `LANES` at a time (the AVX2 build where the CPU has
/// it, as the host passes).
#[allow(unsafe_code)]
fn evaluate(mlp: &HostMlp, u: &[f64]) -> Vec<f64> {
    #[cfg(target_arch = "x86_64")]
    if crate::host_tanh::avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above), the only requirement
        // of a `target_feature` function; the body is safe code.
        return unsafe { evaluate_avx2_fma(mlp, u) };
    }
    evaluate_lanes(mlp, u, |a, b, c| a * b + c)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn evaluate_avx2_fma(mlp: &HostMlp, u: &[f64]) -> Vec<f64> {
    evaluate_lanes(mlp, u, f64::mul_add)
}

#[inline(always)]
fn evaluate_lanes(mlp: &HostMlp, u: &[f64], fma: impl Fn(f64, f64, f64) -> f64 + Copy) -> Vec<f64> {
    let width = mlp.width();
    let (mut a, mut b) = (vec![[0.0; LANES]; width], vec![[0.0; LANES]; width]);
    let mut out = Vec::with_capacity(u.len());
    for chunk in u.chunks(LANES) {
        let mut lanes = [chunk[chunk.len() - 1]; LANES];
        lanes[..chunk.len()].copy_from_slice(chunk);
        let eta = mlp.eval(&lanes, &mut a, &mut b, fma);
        out.extend_from_slice(&eta[..chunk.len()]);
    }
    out
}

/// The monomial coefficients of T_0 … T_{COEFFS−1}: T_{j+1} = 2t T_j − T_{j−1}.
fn chebyshev_monomials() -> [[f64; COEFFS]; COEFFS] {
    let mut t = [[0.0; COEFFS]; COEFFS];
    t[0][0] = 1.0;
    t[1][1] = 1.0;
    for j in 1..COEFFS - 1 {
        for k in 0..COEFFS {
            let shifted = if k > 0 { 2.0 * t[j][k - 1] } else { 0.0 };
            t[j + 1][k] = shifted - t[j - 1][k];
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1 → 16 → 16 → 1 tanh network with random weights of the given spread.
    fn network(spread: f64, seed: u64) -> HostMlp {
        let mut rng = crate::ParamRng::new(seed);
        let mut values = |n: usize| (0..n).map(|_| rng.normal() * spread).collect::<Vec<_>>();
        HostMlp::from_layers(vec![
            (16, values(16), values(16)),
            (16, values(256), values(16)),
            (1, values(16), values(1)),
        ])
    }

    /// The table equals the network within the tolerance at random points of its range (not
    /// the probes it was checked at), for weights of spread 0.5, 1 and 2, and refuses u
    /// outside its range.
    #[test]
    fn table_equals_the_network() {
        for (seed, spread) in [(1, 0.5), (2, 1.0), (3, 2.0)] {
            let mlp = network(spread, seed);
            let table = EtaTable::build(&mlp, 9.0, usize::MAX).expect("a table within the limit");
            let u: Vec<f64> = (0..4000)
                .map(|k| 9.0 * (k as f64 * 0.618_034).fract())
                .collect();
            let exact = evaluate(&mlp, &u);
            let scale = 1.0 + exact.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
            let worst = u
                .iter()
                .zip(&exact)
                .map(|(&u, e)| (table.at(u, f64::mul_add) - e).abs() / scale)
                .fold(0.0, f64::max);
            assert!(worst < 2.0 * TOLERANCE, "spread {spread}: {worst:e}");
            let mut lanes = [1.0; LANES];
            assert!(table.eval(&lanes, f64::mul_add).is_some());
            lanes[7] = table.u_max * 1.01;
            assert!(table.eval(&lanes, f64::mul_add).is_none());
            // No budget, no table; a budget of four times what its final nodes and probes
            // need (the refinements before it take less than as many again) builds the same
            // table.
            assert!(EtaTable::build(&mlp, 9.0, 0).is_none());
            let enough = 2 * table.coeffs.len() * (COEFFS + PROBES.len()) * 2;
            let budgeted = EtaTable::build(&mlp, 9.0, enough).expect("within the budget");
            assert_eq!(budgeted.coeffs, table.coeffs, "spread {spread}");
        }
    }

    /// T_j(cos θ) = cos(jθ) from the monomials.
    #[test]
    fn chebyshev_monomials_are_the_polynomials() {
        let t = chebyshev_monomials();
        for theta in [0.1, 0.9, 2.3] {
            let x: f64 = f64::cos(theta);
            for (j, m) in t.iter().enumerate() {
                let value: f64 = m
                    .iter()
                    .enumerate()
                    .map(|(k, c)| c * x.powi(k as i32))
                    .sum();
                assert!((value - (j as f64 * theta).cos()).abs() < 1e-13, "T_{j}");
            }
        }
    }
}
