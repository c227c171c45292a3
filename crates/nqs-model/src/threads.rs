//! Splitting a batch of walkers into blocks for parallel threads. burn's CPU ops run on one
//! core (below flex's own rayon thresholds), so the sampler, the local energy and the
//! gradient each evaluate walker blocks on threads of their own; this is the one place that
//! decides the split. The sampler and the local energy run their blocks with [`run_blocks`]:
//! the first on the calling thread, the others on a pool whose threads persist (N = 2
//! with 4096 walkers: local energy 0.33 → 0.17 ms against two fresh scoped threads). The
//! gradient's blocks run there too, at most [`concurrent_blocks`] of them (so that no
//! backward pass, which holds its graph's lock, can have another block's pass started on its
//! thread while a large flex op inside it waits on rayon): with the gradient on scoped
//! threads beside the pool, the pool thread's allocator kept its local-energy memory through
//! the gradient phase and the peak RSS of N = 6 with 4096 walkers rose from 92–102 to
//! 122–144 MiB; with all three phases on the pool it is 68–104 MiB.

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

/// The pool of [`run_blocks`]: one thread fewer than the machine has cores.
fn pool() -> &'static rayon::ThreadPool {
    static POOL: std::sync::OnceLock<rayon::ThreadPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        rayon::ThreadPoolBuilder::new()
            .num_threads(cores.saturating_sub(1).max(1))
            .thread_name(|k| format!("nqs-block-{k}"))
            .build()
            .expect("a thread pool for the walker blocks")
    })
}

/// Blocks that [`run_blocks`] runs at once: the pool's threads and the caller. With no more
/// blocks than this, no block waits in the pool's queue, so none can be started by a pool
/// thread that is waiting inside another block (a large flex op waiting on rayon's global
/// pool lets its thread run queued jobs of its own pool); the autodiff passes keep to it.
pub fn concurrent_blocks() -> usize {
    pool().current_num_threads() + 1
}

/// `f` of every item, in order: item 0 on the calling thread, the others on a pool of one
/// thread fewer than the machine has cores, whose threads persist. (With rayon's global
/// pool, one thread per core, the caller made one thread too many: an idle pool thread spun
/// for work on the core another block needed, and N = 2 with 4096 walkers took 0.75 ms per
/// step in some runs and 1.0–1.1 ms in others.)
pub fn run_blocks<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let pool = pool();
    let mut results: Vec<Option<R>> = items.iter().map(|_| None).collect();
    let f = &f;
    pool.in_place_scope(|scope| {
        let mut pairs = items.into_iter().zip(results.iter_mut());
        let first = pairs.next();
        for (item, slot) in pairs {
            scope.spawn(move |_| *slot = Some(f(item)));
        }
        if let Some((item, slot)) = first {
            *slot = Some(f(item));
        }
    });
    results
        .into_iter()
        .map(|r| r.expect("every block ran"))
        .collect()
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
