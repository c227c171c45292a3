//! Splitting a batch of walkers into blocks for parallel threads. burn's CPU ops run on one
//! core (below flex's own rayon thresholds), so the sampler, the local energy and the
//! gradient each evaluate walker blocks on threads of their own; this is the one place that
//! decides the split. The sampler and the local energy run their blocks on rayon's pool,
//! whose threads persist (N = 2 with 4096 walkers: local energy 0.33 → 0.17 ms against two
//! fresh scoped threads); the autodiff passes (gradient, SR) keep scoped threads, so that no
//! backward pass, which holds its graph's lock, can have another block's pass stolen onto
//! its thread while a large flex op inside it waits on the pool.

/// Smallest block, in walker coordinates (walkers × N·d), worth a thread of its own. Each op
/// has a fixed cost of a few µs that a split does not share out, so small blocks lose: for
/// 2D N = 2 with 1024 walkers (4096 coordinates) one thread took 0.6 ms per step and two
/// 0.9 ms, while for N = 6 with 1024 walkers (12288) two threads cut 4.9 to 3.5 ms.
pub const MIN_BLOCK_COORDS: usize = 4096;

/// Threads to use for `walkers` walkers of `coords` coordinates each: at most `requested`,
/// and no block below [`MIN_BLOCK_COORDS`] coordinates.
pub fn worker_threads(requested: usize, walkers: usize, coords: usize) -> usize {
    worker_threads_min(requested, walkers, coords, MIN_BLOCK_COORDS)
}

/// [`worker_threads`] with blocks of at least `min_block` coordinates.
pub fn worker_threads_min(
    requested: usize,
    walkers: usize,
    coords: usize,
    min_block: usize,
) -> usize {
    requested
        .max(1)
        .min((walkers * coords / min_block.max(1)).max(1))
        .min(walkers.max(1))
}

/// Split `walkers` into `parts` consecutive blocks of near-equal size: (start, length) each.
pub fn blocks(walkers: usize, parts: usize) -> Vec<(usize, usize)> {
    let mut start = 0;
    (0..parts)
        .map(|k| {
            let len = walkers / parts + usize::from(k < walkers % parts);
            start += len;
            (start - len, len)
        })
        .collect()
}
