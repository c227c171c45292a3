//! The Markov chains of every rank in one checkpoint, and back.
//!
//! Rank r draws its walkers and moves from a generator seeded by [`chain_seed`]`(seed, r)`;
//! rank 0's is the single-process stream, so `-np 1` repeats a run without MPI bit for bit.
//! A checkpoint of an R-rank run holds the walkers of all ranks in rank order (the global
//! walker order), and each rank's step size and generator state ([`RankChain`]).
//!
//! Resume policy ([`split`]): the walkers are always re-split in order over the new ranks
//! (the total is the config's). With the same number of ranks every rank continues its own
//! step size and generator, so the continuation is bit-exact. With a different number, each
//! rank takes rank 0's step size and a fresh generator seeded by
//! [`resplit_seed`]`(seed, rank, ranks, step)`: statistically the same continuation, and
//! reproducible for that rank count.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use nqs_sampler::SamplerSnapshot;

use super::Comm;
use crate::TrainError;

/// One rank's chain state beside the walkers: its step size and generator.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RankChain {
    /// Step size (Metropolis width or Langevin time step).
    pub step_size: f64,
    /// Generator state.
    pub rng: ChaCha8Rng,
}

/// SplitMix64 finaliser: a bijective mix of 64 bits.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The chain generator's seed of rank `rank` in a run seeded with `seed`.
pub fn chain_seed(seed: u64, rank: usize) -> u64 {
    let base = seed.wrapping_add(0x5A5A);
    if rank == 0 {
        base
    } else {
        mix(base ^ mix(rank as u64))
    }
}

/// The fresh generator seed of rank `rank` after resuming at `step` with `ranks` ranks
/// from a checkpoint written by a different number of ranks.
pub fn resplit_seed(seed: u64, rank: usize, ranks: usize, step: usize) -> u64 {
    mix(chain_seed(seed, rank) ^ mix(((ranks as u64) << 40) ^ step as u64))
}

/// Every rank's `local` snapshot joined in rank order, on rank 0 (`None` on the others):
/// the global snapshot (rank 0's step size and generator) and each rank's chain (empty for
/// one rank, whose snapshot is the whole). Collective.
pub fn join(
    comm: &Comm,
    local: &SamplerSnapshot,
) -> Result<Option<(SamplerSnapshot, Vec<RankChain>)>, TrainError> {
    if comm.size() == 1 {
        return Ok(Some((local.clone(), Vec::new())));
    }
    let x = comm.gather_to_root(&local.x);
    let chain = RankChain {
        step_size: local.step_size,
        rng: local.rng.clone(),
    };
    let bytes = serde_json::to_vec(&chain).map_err(|e| TrainError::Checkpoint(e.to_string()))?;
    let (Some(x), Some(parts)) = (x, comm.gather_bytes_to_root(&bytes)) else {
        return Ok(None);
    };
    let chains = parts
        .iter()
        .map(|b| serde_json::from_slice(b))
        .collect::<Result<Vec<RankChain>, _>>()
        .map_err(|e| TrainError::Checkpoint(format!("joining the ranks' chains: {e}")))?;
    let global = SamplerSnapshot {
        walkers: x.len() / local.coords.max(1),
        coords: local.coords,
        x,
        step_size: chains[0].step_size,
        rng: chains[0].rng.clone(),
    };
    Ok(Some((global, chains)))
}

/// This rank's share of a checkpoint's `global` snapshot with its per-rank `chains`, after
/// the policy in the module docs. `seed` is the run's, `step` the checkpoint's.
pub fn split(
    comm: &Comm,
    global: &SamplerSnapshot,
    chains: &[RankChain],
    seed: u64,
    step: usize,
) -> SamplerSnapshot {
    let (start, len) = comm.walkers(global.walkers);
    let coords = global.coords;
    let x = global.x[start * coords..(start + len) * coords].to_vec();
    let stored_ranks = chains.len().max(1);
    let (step_size, rng) = if stored_ranks == comm.size() {
        match chains.get(comm.rank()) {
            Some(c) => (c.step_size, c.rng.clone()),
            None => (global.step_size, global.rng.clone()),
        }
    } else {
        let fresh = resplit_seed(seed, comm.rank(), comm.size(), step);
        (global.step_size, ChaCha8Rng::seed_from_u64(fresh))
    };
    SamplerSnapshot {
        walkers: len,
        coords,
        x,
        step_size,
        rng,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(walkers: usize) -> SamplerSnapshot {
        SamplerSnapshot {
            walkers,
            coords: 2,
            x: (0..2 * walkers).map(|i| i as f64).collect(),
            step_size: 0.3,
            rng: ChaCha8Rng::seed_from_u64(5),
        }
    }

    #[test]
    fn one_rank_keeps_the_stream_and_seeds_differ_by_rank() {
        let s = snapshot(3);
        let (global, chains) = join(&Comm::single(), &s).unwrap().unwrap();
        assert_eq!(global, s);
        assert!(chains.is_empty());
        assert_eq!(split(&Comm::single(), &global, &chains, 1, 10), s);
        assert_eq!(chain_seed(7, 0), 7 + 0x5A5A);
        let seeds: std::collections::HashSet<u64> = (0..64).map(|r| chain_seed(7, r)).collect();
        assert_eq!(seeds.len(), 64);
    }

    #[test]
    fn resuming_on_other_ranks_re_splits_in_order_with_fresh_streams() {
        // As join writes it: the global step size and generator are rank 0's.
        let mut global = snapshot(5);
        global.step_size = 0.2;
        let chains = vec![
            RankChain {
                step_size: 0.2,
                rng: ChaCha8Rng::seed_from_u64(1),
            },
            RankChain {
                step_size: 0.4,
                rng: ChaCha8Rng::seed_from_u64(2),
            },
        ];
        // Same number of ranks: own chain.
        let r1 = split(&Comm { rank: 1, size: 2 }, &global, &chains, 9, 4);
        assert_eq!((r1.walkers, r1.step_size), (2, 0.4));
        assert_eq!(r1.x, vec![6.0, 7.0, 8.0, 9.0]);
        assert_eq!(r1.rng, chains[1].rng);
        // Three ranks: walkers 2 + 2 + 1 in order, rank 0's step size, fresh generators.
        let parts: Vec<_> = (0..3)
            .map(|r| split(&Comm { rank: r, size: 3 }, &global, &chains, 9, 4))
            .collect();
        let joined: Vec<f64> = parts.iter().flat_map(|p| p.x.clone()).collect();
        assert_eq!(joined, global.x);
        assert!(parts.iter().all(|p| p.step_size == 0.2));
        assert_ne!(parts[0].rng, parts[1].rng);
        assert_ne!(parts[0].rng, chains[0].rng);
        // One rank from two: the whole set, a fresh stream.
        let one = split(&Comm::single(), &global, &chains, 9, 4);
        assert_eq!(one.x, global.x);
        assert_ne!(one.rng, chains[0].rng);
    }
}
