//! log|ψ| of a product of a Hermite determinant (plain or with pair-MLP backflow) and a
//! Padé–Jastrow as one host pass over the walkers: the value passes of the Metropolis moves
//! on flex f64.
//!
//! In burn ops a value pass of the 2D N = 6 dot is about sixty ops, each with a fixed cost
//! (allocation, dispatch, a pass over memory) that at VMC shapes outweighs its arithmetic
//! (docs/performance.md). Here the walkers go through in chunks of [`LANES`], coordinate-major
//! within a chunk, so that every loop runs over `LANES` contiguous values (the compiler
//! vectorises them) and the chunk stays in the L1 cache; blocks above 3×3 are eliminated in
//! sub-chunks of [`SUB`] lanes (a 28×28 block of 32 lanes is 200 KiB).
//!
//! It is the same function as the factors' `forward` at `Order::Value` (the tests compare
//! them to round-off for every shell size the closed forms and the elimination cover, and
//! for backflow with random networks), with the parameters read once per [`HostLogPsi`].
//! Values only: gradients and Laplacians still come from the factors' jets and parameter
//! derivatives from burn's autodiff.

use burn::tensor::Tensor;

use crate::factors::{Backflow, Factor, PadeJastrow, SlaterDeterminant};
use crate::host_backflow::HostBackflow;
use crate::{Geometry, WaveFunction};

use crate::host_det::{LANES, Lanes, eliminate_with, log_abs_from_pivots};
use crate::host_tanh::{eligible, host_values};
use crate::lanes::{hermite, lane_r2, orbital_row, pair_r2};

/// One factor's log|ψ_f|.
#[derive(Debug, Clone)]
enum Term {
    /// log|det P↑| + log|det P↓| − (αω/2) Σ_i r_i², P_ij = Π_a H_{n_ja}(√(αω) x_ia).
    Slater {
        alpha_omega: f64,
        /// Quantum numbers n_ja, `[orbital][dimension]`.
        orbitals: Vec<Vec<usize>>,
    },
    /// The determinants of `Slater` at the backflow coordinates y (the Gaussian at x).
    Backflow {
        alpha_omega: f64,
        orbitals: Vec<Vec<usize>>,
        flow: HostBackflow,
    },
    /// Σ_{i<j} a_ij r_ij / (1 + β_ij r_ij): (i, j, a, β) per pair.
    Pade {
        pairs: Vec<(usize, usize, f64, f64)>,
    },
}

/// A wave function's log|ψ| with its parameters read into host numbers.
#[derive(Debug, Clone)]
pub struct HostLogPsi {
    geometry: Geometry,
    terms: Vec<Term>,
}

impl HostLogPsi {
    /// The host pass of `psi`, when it has one: every factor a Hermite Slater determinant, a
    /// pair-MLP backflow determinant of Hermite orbitals or a Padé–Jastrow, in open space,
    /// with parameters on flex in f64 and not tracked.
    pub fn new(psi: &WaveFunction) -> Option<Self> {
        let geometry = psi.geometry();
        if geometry.cell.is_some() || geometry.protons.is_some() {
            return None;
        }
        let terms = psi
            .factors
            .iter()
            .map(|f| match f {
                Factor::Slater(s) => slater_term(s),
                Factor::Backflow(b) => backflow_term(b),
                Factor::Pade(p) => pade_term(p),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self { geometry, terms })
    }

    /// The host pass of `psi` for walkers `x`, when both allow it (`x` on flex in f64, not
    /// tracked).
    pub fn for_walkers(psi: &WaveFunction, x: &Tensor<2>) -> Option<Self> {
        if eligible(x) { Self::new(psi) } else { None }
    }

    /// The same pass with the backflow networks replaced by piecewise polynomials that equal
    /// them to 1e-14 (relative to 1 + max|η|, [`crate::host_eta_table`]) on the pair distances
    /// that walkers `x` (`[walkers, N·d]` row-major) and their next moves reach, for the
    /// Metropolis moves of a step: the networks are then evaluated once per table node
    /// instead of once per pair, walker and move. Pairs outside the tables' range go
    /// through the networks.
    pub fn with_eta_tables(self, x: &[f64]) -> Self {
        self.with_eta_tables_for(x, usize::MAX)
    }

    /// [`HostLogPsi::with_eta_tables`] for `uses` evaluations of every pair (one value pass
    /// over W walkers: W): a network keeps its exact evaluation where building its table
    /// would take more network evaluations than the table saves.
    pub fn with_eta_tables_for(mut self, x: &[f64], uses: usize) -> Self {
        if !self
            .terms
            .iter()
            .any(|t| matches!(t, Term::Backflow { .. }))
        {
            return self;
        }
        let d = self.geometry.dimensions;
        let largest = x
            .chunks_exact(d)
            .map(|p| p.iter().map(|v| v * v).sum::<f64>())
            .fold(0.0_f64, f64::max)
            .sqrt();
        // |x_i − x_j| ≤ 2 max|x|, with room for the moves of one step.
        let r_max = 2.5 * largest + 1.0;
        for term in &mut self.terms {
            if let Term::Backflow { flow, .. } = term {
                flow.tabulate(r_max, uses);
            }
        }
        self
    }

    /// log|ψ| of walkers `x` as a tensor on `x`'s device.
    ///
    /// # Shapes
    /// - x: `[walkers, N·d]` → `[walkers]`
    pub fn log_psi_tensor(&self, x: &Tensor<2>) -> Tensor<1> {
        let [w, _] = x.dims();
        let mut out = vec![0.0; w];
        match crate::host_tanh::HostView::new(x) {
            Some(view) => self.log_psi(view.values(), &mut out),
            None => {
                let host = x.clone().into_data();
                self.log_psi(host.as_slice::<f64>().expect("f64 walkers"), &mut out);
            }
        }
        Tensor::from_data(burn::tensor::TensorData::new(out, [w]), &x.device())
    }

    /// log|ψ| of every walker.
    ///
    /// # Shapes
    /// - x: `[walkers, N·d]` row-major → `[walkers]`
    #[allow(unsafe_code)]
    pub fn log_psi(&self, x: &[f64], out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if crate::host_tanh::avx512_fma() {
            // SAFETY: as below, for AVX-512F/DQ and FMA.
            unsafe { self.log_psi_avx512_fma(x, out) };
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if crate::host_tanh::avx2_fma() {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above), the only requirement
            // of a `target_feature` function; the body is safe code.
            unsafe { self.log_psi_avx2_fma(x, out) };
            return;
        }
        self.log_psi_lanes(x, out, |a, b, c| a * b + c);
    }

    /// The same code compiled for AVX2 (four lanes per instruction), with FMA in the
    /// backflow networks (as in the tanh host pass); the tests run both builds.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn log_psi_avx2_fma(&self, x: &[f64], out: &mut [f64]) {
        self.log_psi_lanes(x, out, f64::mul_add);
    }

    /// The same code compiled for AVX-512: the same bits as the AVX2 build (tested).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512dq,fma")]
    fn log_psi_avx512_fma(&self, x: &[f64], out: &mut [f64]) {
        self.log_psi_lanes(x, out, f64::mul_add);
    }

    #[inline(always)]
    fn log_psi_lanes(&self, x: &[f64], out: &mut [f64], fma: impl Fn(f64, f64, f64) -> f64 + Copy) {
        let nc = self.geometry.n_coords();
        assert_eq!(x.len(), out.len() * nc, "x is [walkers, N·d]");
        let mut scratch = Scratch::new(&self.geometry, &self.terms);
        let mut xs = vec![[0.0; LANES]; nc];
        for (start, out) in (0..out.len()).step_by(LANES).zip(out.chunks_mut(LANES)) {
            let len = out.len();
            for (l, walker) in x[start * nc..(start + len) * nc]
                .chunks_exact(nc)
                .enumerate()
            {
                for (c, &v) in walker.iter().enumerate() {
                    xs[c][l] = v;
                }
            }
            // Padding lanes repeat the last walker; their results are dropped.
            for column in xs.iter_mut() {
                let last = column[len - 1];
                column[len..].fill(last);
            }
            let mut acc = [0.0; LANES];
            for term in &self.terms {
                match term {
                    Term::Slater {
                        alpha_omega,
                        orbitals,
                    } => {
                        gaussian(*alpha_omega, &xs, &mut acc);
                        determinants(
                            &self.geometry,
                            *alpha_omega,
                            orbitals,
                            &xs,
                            &mut scratch,
                            &mut acc,
                            fma,
                        );
                    }
                    Term::Backflow {
                        alpha_omega,
                        orbitals,
                        flow,
                    } => {
                        gaussian(*alpha_omega, &xs, &mut acc);
                        let Scratch { ys, a, b, .. } = &mut scratch;
                        flow.displace(self.geometry.dimensions, &xs, ys, a, b, fma);
                        let ys = std::mem::take(&mut scratch.ys);
                        determinants(
                            &self.geometry,
                            *alpha_omega,
                            orbitals,
                            &ys,
                            &mut scratch,
                            &mut acc,
                            fma,
                        );
                        scratch.ys = ys;
                    }
                    Term::Pade { pairs } => pade(self.geometry.dimensions, pairs, &xs, &mut acc),
                }
            }
            out.copy_from_slice(&acc[..len]);
        }
    }
}

fn slater_term(s: &SlaterDeterminant) -> Option<Term> {
    Some(Term::Slater {
        alpha_omega: host_values(s.alpha.val())?[0] * s.omega,
        orbitals: s.orbitals().to_vec(),
    })
}

fn backflow_term(b: &Backflow) -> Option<Term> {
    let slater = b.slater.as_ref()?;
    let Some(Term::Slater {
        alpha_omega,
        orbitals,
    }) = slater_term(slater)
    else {
        return None;
    };
    Some(Term::Backflow {
        alpha_omega,
        orbitals,
        flow: HostBackflow::new(b)?,
    })
}

fn pade_term(p: &PadeJastrow) -> Option<Term> {
    Some(Term::Pade {
        pairs: p.host_pairs()?,
    })
}

/// Lanes per elimination: blocks above 3×3 are built and eliminated [`SUB`] lanes at a time,
/// so that a block stays nearer the first-level cache (N = 56's 28×28 blocks 14.1 → 11.7 ms
/// per 4096 walkers; 8 lanes cost N = 30 8 %, docs/performance.md).
const SUB: usize = 16;

/// Buffers reused over the chunks.
struct Scratch {
    /// H_k(ξ) for coordinate c and degree k at `c·(K + 1) + k` (blocks up to 3×3).
    hermite: Vec<Lanes>,
    /// H_k(ξ) of one particle's coordinate a at `a·(K + 1) + k`, [`SUB`] lanes (larger
    /// blocks).
    sub_hermite: Vec<[f64; SUB]>,
    /// One spin block's orbital matrix, row-major, up to 3×3 (the closed forms).
    matrix: Vec<Lanes>,
    /// One spin block's orbital matrix above 3×3, [`SUB`] lanes of it, row-major.
    sub_matrix: Vec<[f64; SUB]>,
    /// The elimination's pivots for `sub_matrix`.
    sub_pivots: Vec<[f64; SUB]>,
    /// Backflow coordinates y, `[N·d]` lanes.
    ys: Vec<Lanes>,
    /// Backflow network activations (two buffers of the widest layer).
    a: Vec<Lanes>,
    b: Vec<Lanes>,
}

impl Scratch {
    fn new(geometry: &Geometry, terms: &[Term]) -> Self {
        let (mut degrees, mut n_orb, mut width) = (0, 0, 1);
        for term in terms {
            let orbitals = match term {
                Term::Slater { orbitals, .. } => orbitals,
                Term::Backflow { orbitals, flow, .. } => {
                    width = width.max(flow.width());
                    orbitals
                }
                Term::Pade { .. } => continue,
            };
            n_orb = orbitals.len();
            degrees = max_degree(orbitals) + 1;
        }
        let lanes = |count: usize| vec![[0.0; LANES]; count];
        Self {
            hermite: lanes(if n_orb <= 3 {
                geometry.n_coords() * degrees
            } else {
                0
            }),
            matrix: lanes(n_orb * n_orb),
            sub_hermite: vec![[0.0; SUB]; geometry.dimensions * degrees],
            sub_matrix: vec![[0.0; SUB]; n_orb * n_orb],
            sub_pivots: vec![[0.0; SUB]; n_orb],
            ys: lanes(geometry.n_coords()),
            a: lanes(width),
            b: lanes(width),
        }
    }
}

fn max_degree(orbitals: &[Vec<usize>]) -> usize {
    orbitals.iter().flatten().copied().max().unwrap_or(0)
}

/// −(αω/2) Σ x² into `acc`.
#[inline(always)]
fn gaussian(alpha_omega: f64, xs: &[Lanes], acc: &mut Lanes) {
    for column in xs {
        for (a, v) in acc.iter_mut().zip(column) {
            *a -= 0.5 * alpha_omega * v * v;
        }
    }
}

/// The pivoting threshold of the moves' eliminations ([`eliminate_with`]): the diagonal
/// row stays the pivot row unless a row below is ten times larger, so that no multiplier
/// exceeds 10. Partial pivoting (threshold 1) swapped rows in 72 % of the rounds at N = 30
/// (21.5 swaps per walker and pass, 46 at N = 56), each a scalar exchange per lane; at 0.1
/// 6.3 and 17 remain: sampling 6–15 % faster at N = 20–56 (docs/performance.md). Against
/// exact rational determinants the errors in log|ψ| are those of partial pivoting (N = 56:
/// at most 5e-12 on typical walkers and 1.4e-9 on the worst-conditioned, against 1.2e-11
/// and 3.0e-9). The local energies' Gauss–Jordan uses the same threshold since the
/// fourteenth session (`host_slater.rs`).
const PIVOT_THRESHOLD: f64 = 0.1;

/// log|det P↑| + log|det P↓| into `acc`, P_ij = Π_a H_{n_ja}(√(αω) c_ia) at coordinates
/// `xs` (the walkers' own, or backflow coordinates); `fma` for the elimination's updates.
#[inline(always)]
fn determinants(
    geometry: &Geometry,
    alpha_omega: f64,
    orbitals: &[Vec<usize>],
    xs: &[Lanes],
    scratch: &mut Scratch,
    acc: &mut Lanes,
    fma: impl Fn(f64, f64, f64) -> f64 + Copy,
) {
    let n_orb = orbitals.len();
    if n_orb == 1 {
        return; // det P = H_0 = 1
    }
    let q = alpha_omega.sqrt();
    let degrees = max_degree(orbitals) + 1;
    let d = geometry.dimensions;
    if n_orb > 3 {
        for block in 0..2 {
            for sub in 0..LANES / SUB {
                let lanes = sub * SUB..(sub + 1) * SUB;
                for r in 0..n_orb {
                    // The row's particle's H_k in each dimension, computed where its row is
                    // built: a table of every coordinate (77 KiB at N = 30, 200 KiB at
                    // N = 56) left the first-level cache between its writes and these
                    // reads. The Slater pass alone 17–25 % faster at N = 42 and 56 on one
                    // thread; the sampling phase 0–5 % (docs/performance.md).
                    let particle = block * n_orb + r;
                    for a in 0..d {
                        let column = xs[particle * d + a][lanes.clone()]
                            .try_into()
                            .expect("SUB lanes");
                        hermite(
                            column,
                            q,
                            &mut scratch.sub_hermite[a * degrees..(a + 1) * degrees],
                        );
                    }
                    orbital_row(
                        &scratch.sub_hermite,
                        degrees,
                        orbitals,
                        &mut scratch.sub_matrix[r * n_orb..(r + 1) * n_orb],
                    );
                }
                eliminate_with(
                    &mut scratch.sub_matrix,
                    n_orb,
                    &mut scratch.sub_pivots,
                    PIVOT_THRESHOLD,
                    fma,
                );
                let log_abs_det = log_abs_from_pivots(&scratch.sub_pivots);
                for (a, v) in acc[lanes].iter_mut().zip(log_abs_det) {
                    *a += v;
                }
            }
        }
        return;
    }
    for (c, column) in xs.iter().enumerate() {
        hermite(
            column,
            q,
            &mut scratch.hermite[c * degrees..(c + 1) * degrees],
        );
    }
    for block in 0..2 {
        for r in 0..n_orb {
            let particle = block * n_orb + r;
            for (j, qn) in orbitals.iter().enumerate() {
                let mut entry = [1.0; LANES];
                for (a, &k) in qn.iter().enumerate() {
                    let h = &scratch.hermite[(particle * d + a) * degrees + k];
                    for l in 0..LANES {
                        entry[l] *= h[l];
                    }
                }
                scratch.matrix[r * n_orb + j] = entry;
            }
        }
        let log_abs_det = closed_form_log_abs_det(&scratch.matrix, n_orb);
        for (a, v) in acc.iter_mut().zip(log_abs_det) {
            *a += v;
        }
    }
}

/// log|det| of the 2×2 or 3×3 matrices held lane by lane, in closed form (larger blocks go
/// through the elimination in sub-chunks, [`determinants`]).
#[inline(always)]
fn closed_form_log_abs_det(m: &[Lanes], n: usize) -> Lanes {
    let mut out = [0.0; LANES];
    match n {
        2 => {
            for l in 0..LANES {
                out[l] = (m[0][l] * m[3][l] - m[1][l] * m[2][l]).abs().ln();
            }
        }
        3 => {
            for l in 0..LANES {
                let e = |i: usize| m[i][l];
                let det = e(0) * (e(4) * e(8) - e(5) * e(7)) - e(1) * (e(3) * e(8) - e(5) * e(6))
                    + e(2) * (e(3) * e(7) - e(4) * e(6));
                out[l] = det.abs().ln();
            }
        }
        _ => unreachable!("blocks of {n} orbitals go through the elimination"),
    }
    out
}

/// Σ_{i<j} a_ij r_ij / (1 + β_ij r_ij) into `acc`. In 2D and 3D each pair's r² stays in
/// registers between the separations and the square root (the same sums in the same order as
/// [`pair_r2`], which went through memory and stalled the square roots on its stores).
#[inline(always)]
fn pade(d: usize, pairs: &[(usize, usize, f64, f64)], xs: &[Lanes], acc: &mut Lanes) {
    match d {
        2 => pade_in::<2>(pairs, xs, acc),
        3 => pade_in::<3>(pairs, xs, acc),
        _ => {
            for &(i, j, a, beta) in pairs {
                let r2 = pair_r2(xs, i, j, d);
                for l in 0..LANES {
                    let r = r2[l].sqrt();
                    acc[l] += a * r / (1.0 + beta * r);
                }
            }
        }
    }
}

/// [`pade`] in `D` dimensions.
#[inline(always)]
fn pade_in<const D: usize>(pairs: &[(usize, usize, f64, f64)], xs: &[Lanes], acc: &mut Lanes) {
    let r = |(i, j): (usize, usize), l: usize| f64::sqrt(lane_r2(xs, i, j, D, l));
    // Four pairs per division: n₁/D₁ + n₂/D₂ = (n₁D₂ + n₂D₁)/(D₁D₂) =: p/P, and
    // p/P + p′/P′ = (pP′ + p′P)/(PP′), with D = 1 + βr ≥ 1 (no cancellation: every term is
    // positive, and the products of four D stay far from overflow). Square roots and
    // divisions share one unit on Zen 4: four pairs take four square roots and one division
    // instead of two (docs/performance.md).
    let mut fours = pairs.chunks_exact(4);
    for four in fours.by_ref() {
        let ((i, j, a, beta), (k, m, b, gamma)) = (four[0], four[1]);
        let ((i2, j2, a2, beta2), (k2, m2, b2, gamma2)) = (four[2], four[3]);
        for l in 0..LANES {
            let (r1, r2) = (r((i, j), l), r((k, m), l));
            let (r3, r4) = (r((i2, j2), l), r((k2, m2), l));
            let (d1, d2) = (1.0 + beta * r1, 1.0 + gamma * r2);
            let (d3, d4) = (1.0 + beta2 * r3, 1.0 + gamma2 * r4);
            let (p, q) = (a * r1 * d2 + b * r2 * d1, d1 * d2);
            let (p2, q2) = (a2 * r3 * d4 + b2 * r4 * d3, d3 * d4);
            acc[l] += (p * q2 + p2 * q) / (q * q2);
        }
    }
    // The last two or three pairs: two per division, then one.
    let mut twos = fours.remainder().chunks_exact(2);
    for two in twos.by_ref() {
        let ((i, j, a, beta), (k, m, b, gamma)) = (two[0], two[1]);
        for l in 0..LANES {
            let (r1, r2) = (r((i, j), l), r((k, m), l));
            let (d1, d2) = (1.0 + beta * r1, 1.0 + gamma * r2);
            acc[l] += (a * r1 * d2 + b * r2 * d1) / (d1 * d2);
        }
    }
    for &(i, j, a, beta) in twos.remainder() {
        for l in 0..LANES {
            let r = r((i, j), l);
            acc[l] += a * r / (1.0 + beta * r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host_tanh::testing::{flex_f64, max_diff, normal, values};
    use crate::{FactorConfig, WaveFunctionConfig};

    fn sj(n: usize, d: usize, alpha: f64, betas: (f64, f64)) -> WaveFunction {
        let factors = vec![
            FactorConfig::Slater(crate::factors::SlaterConfig { alpha }),
            FactorConfig::PadeJastrow(crate::factors::PadeJastrowConfig {
                beta_parallel: betas.0,
                beta_antiparallel: betas.1,
            }),
        ];
        WaveFunctionConfig { factors }
            .init(Geometry::balanced(n, d), 1.0, 3, &flex_f64())
            .expect("closed shell")
    }

    /// The host pass of `psi` (both builds) against the sum of its factors' ops at random
    /// walkers, relative to the largest |log ψ|.
    fn host_against_ops(psi: &WaveFunction, walkers: usize, spread: f64) -> f64 {
        let n_coords = psi.geometry().n_coords();
        let x = normal([walkers, n_coords], spread, &flex_f64());
        let ops = values(
            psi.factors
                .iter()
                .map(|f| f.forward(&x, crate::Order::Value).0.value)
                .reduce(|a, b| a + b)
                .expect("at least one factor"),
        );
        let host = HostLogPsi::new(psi).expect("a host pass on flex f64");
        let x = values(x);
        let scale = ops.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
        // The dispatched build (AVX-512 or AVX2 with FMA where the CPU has them) and the
        // baseline build.
        let mut dispatched = vec![0.0; walkers];
        host.log_psi(&x, &mut dispatched);
        let mut baseline = vec![0.0; walkers];
        host.log_psi_lanes(&x, &mut baseline, |a, b, c| a * b + c);
        vector_builds_agree(&host, &x, walkers);
        [dispatched, baseline]
            .iter()
            .map(|out| max_diff(out, &ops) / scale)
            .fold(0.0, f64::max)
    }

    /// The AVX2 and AVX-512 builds, where the CPU runs them, and the dispatch give the bits
    /// of the portable build with fused multiply-adds: the same operations in the same order.
    #[allow(unsafe_code)]
    fn vector_builds_agree(host: &HostLogPsi, x: &[f64], walkers: usize) {
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let mut portable = vec![0.0; walkers];
        host.log_psi_lanes(x, &mut portable, f64::mul_add);
        let mut out = vec![0.0; walkers];
        #[cfg(target_arch = "x86_64")]
        {
            if crate::host_tanh::avx2_fma() {
                // SAFETY: the features were detected just above.
                unsafe { host.log_psi_avx2_fma(x, &mut out) };
                assert_eq!(bits(&out), bits(&portable), "AVX2 build");
            }
            if crate::host_tanh::avx512_fma() {
                // SAFETY: the features were detected just above.
                unsafe { host.log_psi_avx512_fma(x, &mut out) };
                assert_eq!(bits(&out), bits(&portable), "AVX-512 build");
            }
            if crate::host_tanh::avx2_fma() {
                host.log_psi(x, &mut out);
                assert_eq!(bits(&out), bits(&portable), "dispatched build");
            }
        }
    }

    /// The host pass equals the factors' tensor ops for every determinant path: the
    /// Gaussian alone (one orbital), the 2×2 and 3×3 closed forms and the elimination with
    /// threshold pivoting (4×4 and 10×10 in 3D, 6×6, 10×10, 15×15 and 28×28 in 2D, the last
    /// two rounds at a time), with walkers not a multiple of the chunk.
    #[test]
    fn host_log_psi_equals_the_factors_ops() {
        for (n, d) in [
            (2, 2),
            (6, 2),
            (8, 3),
            (12, 2),
            (20, 2),
            (20, 3),
            (2, 3),
            (30, 2),
            (56, 2),
        ] {
            let diff = host_against_ops(&sj(n, d, 0.87, (0.31, 0.62)), 77, 1.3);
            // Round-off grows with the blocks' size and condition: measured 7e-14 at N = 20
            // and 2.8e-13 at N = 56 (28×28), where another CPU's kernels for the ops may add
            // as much again.
            let tolerance = if n > 20 { 1e-11 } else { 1e-12 };
            assert!(diff < tolerance, "N = {n}, d = {d}: {diff:e}");
        }
    }

    /// A pair-MLP backflow determinant (hidden [16, 16], output layers of gain `gain`, so
    /// that y ≠ x) times a Padé–Jastrow, N particles in d dimensions.
    fn backflow(n: usize, d: usize, gain: f64, seed: u64) -> WaveFunction {
        let factors = vec![
            FactorConfig::Backflow(crate::factors::BackflowConfig {
                alpha: 0.93,
                hidden: vec![16, 16],
                output_gain: gain,
                ..Default::default()
            }),
            FactorConfig::PadeJastrow(Default::default()),
        ];
        WaveFunctionConfig { factors }
            .init(Geometry::balanced(n, d), 1.0, seed, &flex_f64())
            .expect("closed shell")
    }

    /// The same for the pair-MLP backflow determinant with random networks (output layers
    /// not zero, so that y ≠ x) times a Padé–Jastrow.
    #[test]
    fn host_backflow_equals_the_factors_ops() {
        for (n, d) in [(2, 2), (6, 2), (8, 3), (12, 2)] {
            let psi = backflow(n, d, 0.3, 7);
            let x = normal([5, n * d], 1.0, &flex_f64());
            let y = match &psi.factors[0] {
                Factor::Backflow(b) => b.quasi_particles(&x),
                _ => unreachable!("built above"),
            };
            let shift = max_diff(&values(y), &values(x));
            assert!(
                shift > 1e-3,
                "N = {n}, d = {d}: the backflow moves by {shift:e}"
            );
            let diff = host_against_ops(&psi, 77, 1.3);
            assert!(diff < 1e-11, "N = {n}, d = {d}: {diff:e}");
        }
    }

    /// With the networks' tables of the Metropolis moves, log|ψ| equals the host pass through
    /// the networks (itself tested against the factors' ops above) within the same 1e-11
    /// relative, at N = 6 and 12 in 2D and N = 8 in 3D, walkers spread as in a dot and twice
    /// as far; both networks are tabulated. (Near a node the determinants amplify round-off:
    /// at N = 6 the FMA and the plain build of the exact pass differ by 6e-12 in log|ψ| at
    /// one walker, the tables by 2e-11; at the other walkers both stay below 4e-13.)
    #[test]
    fn host_backflow_with_tables_equals_the_network_pass() {
        for (n, d) in [(6, 2), (8, 3), (12, 2)] {
            let psi = backflow(n, d, 0.5, 11);
            for spread in [1.3, 2.6] {
                let x = normal([77, n * d], spread, &flex_f64());
                let host = HostLogPsi::new(&psi)
                    .expect("a host pass")
                    .with_eta_tables(&values(x.clone()));
                let tables = host
                    .terms
                    .iter()
                    .map(|t| match t {
                        Term::Backflow { flow, .. } => flow.tables(),
                        _ => 0,
                    })
                    .sum::<usize>();
                assert_eq!(tables, 2, "N = {n}: both networks tabulated");
                let exact = HostLogPsi::new(&psi).expect("a host pass");
                let (walkers, x) = (x.dims()[0], values(x));
                let (mut with, mut without) = (vec![0.0; walkers], vec![0.0; walkers]);
                host.log_psi(&x, &mut with);
                exact.log_psi(&x, &mut without);
                let scale = without.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
                let diff = max_diff(&with, &without) / scale;
                assert!(diff < 1e-11, "N = {n}, d = {d}, spread {spread}: {diff:e}");
            }
        }
    }

    #[test]
    fn tracked_parameters_and_other_factors_have_no_host_pass() {
        let mut device = flex_f64().autodiff();
        let _ = device.configure(burn::tensor::FloatDType::F64);
        let factors = vec![FactorConfig::Slater(Default::default())];
        let tracked = WaveFunctionConfig { factors }
            .init(Geometry::balanced(6, 2), 1.0, 1, &device)
            .expect("closed shell");
        assert!(HostLogPsi::new(&tracked).is_none());
        let factors = vec![
            FactorConfig::Slater(Default::default()),
            FactorConfig::Envelope(Default::default()),
        ];
        let other = WaveFunctionConfig { factors }
            .init(Geometry::balanced(2, 2), 1.0, 1, &flex_f64())
            .expect("valid product");
        assert!(HostLogPsi::new(&other).is_none());
        assert!(HostLogPsi::new(&sj(6, 2, 1.0, (0.5, 0.5))).is_some());
        let factors = vec![FactorConfig::Backflow(crate::factors::BackflowConfig {
            message_passing: Some(Default::default()),
            ..Default::default()
        })];
        let message_passing = WaveFunctionConfig { factors }
            .init(Geometry::balanced(6, 2), 1.0, 1, &flex_f64())
            .expect("valid product");
        assert!(HostLogPsi::new(&message_passing).is_none());
    }
}
