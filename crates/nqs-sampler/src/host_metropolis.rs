//! Metropolis moves on the host, for wave functions with a host value pass
//! ([`HostLogPsi`]: a Hermite determinant, plain or with pair-MLP backflow, times a
//! Padé–Jastrow, on flex f64).
//!
//! The same chain as `metropolis::step` without Langevin drift: the same draws from the
//! state's generator in the same order (the normals of the proposal, then one uniform per
//! walker), the same test log u < 2(log|ψ(x′)| − log|ψ(x)|), and exact selects. The walkers,
//! their log|ψ| and the acceptance count stay in host vectors for all the moves, where the
//! tensor step spends about fifteen ops per move on proposal, test and blend. Backflow
//! networks go through their tables for the step ([`HostLogPsi::with_eta_tables`]: within
//! 1e-14 of the networks), built from the walkers at the start of the moves.

use burn::tensor::{Tensor, TensorData};
use nqs_model::HostLogPsi;

use crate::Noise;
use crate::state::{Cache, SamplerState};

/// `moves` all-walker Metropolis moves with log|ψ| from `psi`.
pub(crate) fn advance(state: &mut SamplerState, psi: HostLogPsi, moves: usize) {
    let [w, n_coords] = state.x.dims();
    let device = state.x.device();
    let host = |t: Tensor<2>| nqs_model::host_values(t).expect("the host pass runs on f64 walkers");
    let mut x = host(state.x.clone());
    let psi = psi.with_eta_tables(&x);
    let mut log_psi = match &state.cache {
        Some(cache) => host(cache.log_psi.clone().reshape([w, 1])),
        None => {
            let mut v = vec![0.0; w];
            psi.log_psi(&x, &mut v);
            v
        }
    };
    let mut proposal = vec![0.0; w * n_coords];
    let mut new_log_psi = vec![0.0; w];
    let mut verdict = vec![0_u8; w];
    let mut accepted = 0;
    for _ in 0..moves {
        let chi = state.rng.normals(w * n_coords);
        let u = state.rng.uniforms(w);
        for ((p, &x), &c) in proposal.iter_mut().zip(&x).zip(&chi) {
            *p = x + c * state.step_size;
        }
        psi.log_psi(&proposal, &mut new_log_psi);
        let mut acceptance = Acceptance {
            x: &mut x,
            log_psi: &mut log_psi,
            proposal: &proposal,
            new_log_psi: &new_log_psi,
            u: &u,
            verdict: &mut verdict,
        };
        accepted += match n_coords {
            2 => acceptance.run::<2>(),
            3 => acceptance.run::<3>(),
            4 => acceptance.run::<4>(),
            6 => acceptance.run::<6>(),
            _ => acceptance.run_rows(n_coords),
        };
    }
    state.x = Tensor::from_data(TensorData::new(x, [w, n_coords]), &device);
    state.cache = Some(Cache {
        log_psi: Tensor::from_data(TensorData::new(log_psi, [w]), &device),
        grad_log_psi: None,
    });
    state.count_host(accepted, w * moves);
}

/// One Metropolis test of every walker: accepted rows of `proposal` copied into `x`.
struct Acceptance<'a> {
    x: &'a mut [f64],
    log_psi: &'a mut [f64],
    proposal: &'a [f64],
    new_log_psi: &'a [f64],
    u: &'a [f64],
    /// Per walker: 1 accepted, 0 rejected, 2 undecided by the bounds.
    verdict: &'a mut [u8],
}

impl Acceptance<'_> {
    /// Rows of a length known at compile time (a few coordinates), blended in registers.
    /// Returns the number accepted.
    fn run<const C: usize>(&mut self) -> usize {
        self.run_with(C, |row, new, mask| {
            let new: &[f64; C] = new.try_into().expect("rows of C");
            let row: &mut [f64; C] = row.try_into().expect("rows of C");
            for (r, &n) in row.iter_mut().zip(new) {
                *r = select(mask, *r, n);
            }
        })
    }

    /// Rows of any length.
    fn run_rows(&mut self, n_coords: usize) -> usize {
        self.run_with(n_coords, |row, new, mask| {
            for (r, &n) in row.iter_mut().zip(new) {
                *r = select(mask, *r, n);
            }
        })
    }

    /// The decisions first, then the rows blended by selects on the bits: a branch per walker
    /// on a random accept/reject is mispredicted about every other time (the branchy loop was
    /// 12 % of the N = 2 profile). The bounds decide in a loop without branches; the logarithm
    /// only for the few walkers between them.
    #[inline(always)]
    fn run_with(&mut self, n_coords: usize, blend: impl Fn(&mut [f64], &[f64], u64)) -> usize {
        let log_ratio = |k: usize| (self.new_log_psi[k] - self.log_psi[k]) * 2.0;
        let verdict = &mut *self.verdict;
        for (k, v) in verdict.iter_mut().enumerate() {
            let (yes, no) = bounds(self.u[k], log_ratio(k));
            *v = u8::from(yes) | (u8::from(!yes && !no) << 1);
        }
        for (k, v) in verdict.iter_mut().enumerate().filter(|(_, v)| **v == 2) {
            *v = u8::from(self.u[k].ln() < log_ratio(k));
        }
        let rows = self
            .x
            .chunks_exact_mut(n_coords)
            .zip(self.proposal.chunks_exact(n_coords));
        let mut accepted = 0;
        for (k, ((row, new), &v)) in rows.zip(verdict.iter()).enumerate() {
            let mask = u64::from(v).wrapping_neg();
            blend(row, new, mask);
            self.log_psi[k] = select(mask, self.log_psi[k], self.new_log_psi[k]);
            accepted += usize::from(v);
        }
        accepted
    }
}

/// `new` where `mask` has all bits set, `old` where it has none, by the bits (no branch).
#[inline(always)]
fn select(mask: u64, old: f64, new: f64) -> f64 {
    f64::from_bits(old.to_bits() ^ ((old.to_bits() ^ new.to_bits()) & mask))
}

/// What the bounds (u − 1)/u ≤ ln u ≤ u − 1 decide about ln u < `log_ratio` (u ∈ [0, 1)):
/// (accepted, rejected), neither where the ratio lies between them. Each bound is moved by
/// 10⁻¹⁵ of itself to its safe side, more than its own rounding and that of `ln` together
/// (u − 1 is exact; the form 1 − 1/u used until 2026-12-06 lost all but a few digits to
/// cancellation near u = 1), so the decisions are those of the tensor step, which takes the
/// logarithm. (The closer bounds (u − 1)/√u ≤ ln u ≤ 2(u − 1)/(u + 1) cost more than the
/// logarithms they saved: docs/performance.md.)
#[inline(always)]
fn bounds(u: f64, log_ratio: f64) -> (bool, bool) {
    const UP: f64 = 1.0 - 1e-15; // a negative upper bound, moved up
    const DOWN: f64 = 1.0 + 1e-15; // a negative lower bound, moved down
    let yes = (log_ratio >= 0.0) | ((u - 1.0) * UP < log_ratio);
    let no = (u - 1.0) / u * DOWN >= log_ratio;
    (yes, no)
}

/// ln u < `log_ratio` as the chains decide it: by [`bounds`] where they do, by the logarithm
/// between them.
#[cfg(test)]
fn accepts(u: f64, log_ratio: f64) -> bool {
    match bounds(u, log_ratio) {
        (true, _) => true,
        (false, true) => false,
        (false, false) => u.ln() < log_ratio,
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, FloatDType};
    use nqs_model::factors::{BackflowConfig, PadeJastrowConfig, SlaterConfig};
    use nqs_model::{FactorConfig, Geometry, WaveFunctionConfig};

    use crate::{SamplerConfig, SamplerState, advance};

    fn device(flex: bool) -> Device {
        #[allow(deprecated)]
        let mut device = if flex {
            Device::flex()
        } else {
            Device::ndarray()
        };
        let _ = device.configure(FloatDType::F64);
        device
    }

    /// The bounds decide as the logarithm does, on a grid of u and ratios around the
    /// boundary ln u = ratio and far from it, and for u approaching 1 (where the bounds close
    /// in on ln u) with ratios one part in 10¹⁴ or one ulp from ln u (1 − 1/u as the lower
    /// bound failed there).
    #[test]
    fn acceptance_bounds_decide_as_the_logarithm() {
        for k in 1..50 {
            for t in [0.1, 0.37, 0.5, 0.73, 0.99] {
                let u = 1.0 - t * 0.5_f64.powi(k);
                let ln = u.ln();
                let near = [ln.next_down(), ln, ln.next_up()];
                for ratio in near
                    .into_iter()
                    .chain([ln * (1.0 + 1e-14), ln * (1.0 - 1e-14)])
                {
                    assert_eq!(super::accepts(u, ratio), ln < ratio, "u {u}, {ratio}");
                }
            }
        }
        for i in 0..2000 {
            let u = i as f64 / 2000.0;
            let ln = u.ln();
            for ratio in [
                ln,
                ln - 1e-12,
                ln + 1e-12,
                ln - 0.3,
                ln + 0.3,
                -50.0,
                -1.0,
                0.0,
                0.5,
            ]
            .into_iter()
            .chain([
                u - 1.0,
                1.0 - 1.0 / u,
                (u - 1.0) / u,
                (u - 1.0) * (1.0 - 1e-15),
                (u - 1.0) / u * (1.0 + 1e-15),
            ]) {
                assert_eq!(
                    super::accepts(u, ratio),
                    ln < ratio || ratio >= 0.0,
                    "u {u}, {ratio}"
                );
            }
        }
    }

    /// The chain of `factors` (`particles` in `dims` dimensions) from one seed with the host
    /// moves (flex) and the tensor moves (ndarray, no host pass): acceptances and the largest
    /// position difference.
    fn host_and_tensor_chains(
        factors: Vec<FactorConfig>,
        particles: usize,
        dims: usize,
    ) -> ((f64, f64), f64) {
        let coords = particles * dims;
        let config = SamplerConfig {
            threads: 2,
            ..SamplerConfig::default()
        };
        let chain = |flex: bool| {
            let device = device(flex);
            let psi = WaveFunctionConfig {
                factors: factors.clone(),
            }
            .init(Geometry::balanced(particles, dims), 1.0, 5, &device)
            .expect("closed shell");
            assert_eq!(
                nqs_model::HostLogPsi::for_walkers(
                    &psi,
                    &SamplerState::new(1, coords, 1.0, 0.5, 1, &device).x
                )
                .is_some(),
                flex
            );
            let mut state = SamplerState::new(1000, coords, 1.0, 0.6, 11, &device);
            advance(&config, &mut state, &psi, 30).expect("Metropolis");
            let x: Vec<f64> = state.x.clone().into_data().try_to_vec().expect("f64");
            (x, state.acceptance())
        };
        let (host_x, host_acc) = chain(true);
        let (ops_x, ops_acc) = chain(false);
        let diff = host_x
            .iter()
            .zip(&ops_x)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        ((host_acc, ops_acc), diff)
    }

    /// The host moves make the tensor chain: the same acceptances, positions equal to
    /// round-off; rows of 12 coordinates (2D, N = 6) and of 4 and 6 (2D and 3D, N = 2: the
    /// rows whose length the copy knows at compile time).
    #[test]
    fn host_moves_make_the_tensor_chain() {
        for (particles, dims) in [(6, 2), (2, 2), (2, 3)] {
            let ((host_acc, ops_acc), diff) = host_and_tensor_chains(
                vec![
                    FactorConfig::Slater(SlaterConfig { alpha: 0.9 }),
                    FactorConfig::PadeJastrow(PadeJastrowConfig {
                        beta_parallel: 0.4,
                        beta_antiparallel: 0.7,
                    }),
                ],
                particles,
                dims,
            );
            assert_eq!(host_acc, ops_acc, "N = {particles}, {dims}D");
            assert!((0.1..0.9).contains(&host_acc), "acceptance {host_acc}");
            assert!(diff < 1e-12, "positions differ by {diff:e}");
        }
    }

    /// The same for a pair-MLP backflow with random networks (output layer not zero), whose
    /// host moves evaluate the networks through their tables: 30 000 Metropolis tests with
    /// log|ψ| from the tables decide as the networks do.
    #[test]
    fn host_backflow_moves_with_tables_make_the_tensor_chain() {
        let ((host_acc, ops_acc), diff) = host_and_tensor_chains(
            vec![
                FactorConfig::Backflow(BackflowConfig {
                    alpha: 0.9,
                    hidden: vec![16, 16],
                    output_gain: 0.3,
                    ..Default::default()
                }),
                FactorConfig::PadeJastrow(PadeJastrowConfig::default()),
            ],
            6,
            2,
        );
        assert_eq!(host_acc, ops_acc);
        assert!((0.1..0.9).contains(&host_acc), "acceptance {host_acc}");
        assert!(diff < 1e-12, "positions differ by {diff:e}");
    }
}
