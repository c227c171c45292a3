//! Batched Markov-chain Monte Carlo sampling of |ψ|² (PHYSICS.md §5).
//!
//! A sampler is an immutable [`SamplerConfig`] plus a [`SamplerState`] (walkers, step size,
//! RNG, acceptance counters) that can be saved and restored exactly ([`SamplerSnapshot`]).
//! All walkers move together as one batch of tensors; random numbers come from a seeded
//! ChaCha generator on the host, so a seed gives the same chain on every backend.

mod config;
mod error;
mod gibbs;
mod host_metropolis;
mod metropolis;
mod noise;
mod normals;
mod state;

pub use config::{SamplerConfig, SamplerKind};
pub use error::SamplerError;
pub use gibbs::{BlockGibbs, bernoulli, gibbs_sweep};
pub use noise::Noise;
pub use state::{SamplerSnapshot, SamplerState};

use nqs_model::WaveFunction;

/// Advance every walker by `moves` Markov steps of the configured kind.
///
/// The wave function must live on a plain (non-autodiff) device.
pub fn advance(
    config: &SamplerConfig,
    state: &mut SamplerState,
    psi: &WaveFunction,
    moves: usize,
) -> Result<(), SamplerError> {
    let [walkers, coords] = state.x.dims();
    let threads = worker_threads(config.threads, walkers, coords);
    if threads == 1 || moves == 0 {
        return advance_serial(config, state, psi, moves);
    }
    // burn's CPU backends run each op on one core: split the walkers into `threads`
    // independent blocks, each with its own generator seeded from the state's, so the result
    // does not depend on the scheduling.
    let parts = state.split(threads);
    let results = nqs_model::threads::run_blocks(parts, |mut part| {
        let psi = psi.clone();
        advance_serial(config, &mut part, &psi, moves).map(|()| part)
    });
    let parts = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    state.merge(parts);
    Ok(())
}

fn advance_serial(
    config: &SamplerConfig,
    state: &mut SamplerState,
    psi: &WaveFunction,
    moves: usize,
) -> Result<(), SamplerError> {
    if config.kind == SamplerKind::Metropolis
        && let Some(host) = nqs_model::HostLogPsi::for_walkers(psi, &state.x)
    {
        host_metropolis::advance(state, host, moves);
        return Ok(());
    }
    for _ in 0..moves {
        match config.kind {
            SamplerKind::Metropolis => metropolis::step(state, psi, false),
            SamplerKind::Langevin => metropolis::step(state, psi, true),
            SamplerKind::Gibbs => {
                let rbm = psi.pure_rbm().ok_or(SamplerError::GibbsNeedsPureRbm)?;
                gibbs::step(state, rbm);
            }
        }
    }
    Ok(())
}

pub use nqs_model::threads::{MIN_BLOCK_COORDS, blocks, worker_threads, worker_threads_min};

/// Burn-in: `config.burn_in` moves, adapting the step size toward
/// `config.target_acceptance` every `ADAPT_WINDOW` moves. The step size is frozen afterwards.
pub fn burn_in(
    config: &SamplerConfig,
    state: &mut SamplerState,
    psi: &WaveFunction,
) -> Result<(), SamplerError> {
    burn_in_reporting(config, state, psi, &mut |_, _| true).map(|_| ())
}

/// [`burn_in`], calling `report(done, total)` after every adaptation window of moves; a
/// report that returns false ends the burn-in there. Whether it ran to the end.
pub fn burn_in_reporting(
    config: &SamplerConfig,
    state: &mut SamplerState,
    psi: &WaveFunction,
    report: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<bool, SamplerError> {
    const ADAPT_WINDOW: usize = 10;
    let mut done = 0;
    while done < config.burn_in {
        let moves = ADAPT_WINDOW.min(config.burn_in - done);
        state.reset_counters();
        advance(config, state, psi, moves)?;
        if config.adapt_step {
            let acc = state.acceptance();
            adapt_step_size(config, state, acc);
        }
        done += moves;
        if !report(done, config.burn_in) {
            state.reset_counters();
            return Ok(false);
        }
    }
    state.reset_counters();
    Ok(true)
}

/// One adaptation of the step size toward `config.target_acceptance` given the acceptance
/// `acc` of the last moves (multiplicative: larger steps when accepting too often). Gibbs
/// sampling has no step size.
pub fn adapt_step_size(config: &SamplerConfig, state: &mut SamplerState, acc: f64) {
    if config.kind == SamplerKind::Gibbs {
        return;
    }
    let factor = ((acc - config.target_acceptance) * 2.0)
        .exp()
        .clamp(0.5, 2.0);
    state.step_size *= factor;
}
