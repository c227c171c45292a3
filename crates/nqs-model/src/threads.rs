//! Splitting a batch of walkers into blocks for parallel threads. burn's CPU ops run on one
//! core (below flex's own rayon thresholds), so the sampler, the local energy and the
//! gradient each evaluate walker blocks on threads of their own; this is the one place that
//! decides the split. All three run their blocks with [`run_blocks`]: on the calling thread
//! and on block threads that persist (N = 2 with 4096 walkers: local energy 0.33 → 0.17 ms
//! against two fresh scoped threads) and that run one block at a time, never another job
//! while a block waits (a backward pass holds its graph's lock; a large flex op inside it
//! may wait on rayon's pool). With the gradient on scoped threads beside the block threads,
//! a block thread's allocator kept its local-energy memory through the gradient phase and the
//! peak RSS of N = 6 with 4096 walkers rose from 92–102 to 122–144 MiB; with all three phases
//! on the same threads it is 68–104 MiB.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::Thread;
use std::time::{Duration, Instant};

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

/// How long an idle block thread, and a caller waiting for its blocks, spin before they
/// sleep (a thread) or yield the core at every check (a caller). A step's phases (moves,
/// local energies, gradient) follow each other within tens of microseconds; rayon's pool
/// thread slept between them, and waking it and then the caller cost about 30 µs at each
/// end of every phase (docs/performance.md).
const SPIN: Duration = Duration::from_micros(250);

/// A block job with its lifetime erased: [`run_blocks`] waits until every thread it posted
/// the job to has finished with it before the job's borrows end.
#[derive(Clone, Copy)]
struct JobRef(*const (dyn Fn() + Sync + 'static));

// SAFETY: the job is `Sync` (called from several threads at once) and outlives every use on
// the thread it is sent to (see `JobRef`).
#[allow(unsafe_code)]
unsafe impl Send for JobRef {}

/// One block thread's mailbox.
struct Slot {
    /// Jobs posted so far; the thread runs one each time this moves.
    posted: AtomicU64,
    job: Mutex<Option<JobRef>>,
    /// Set while the thread is parked (or about to park), so that a post unparks it.
    sleeping: AtomicBool,
    thread: OnceLock<Thread>,
}

impl Slot {
    fn post(&self, job: JobRef) {
        *lock(&self.job) = Some(job);
        self.posted.fetch_add(1, SeqCst);
        if self.sleeping.load(SeqCst) {
            self.thread.get().expect("started before any post").unpark();
        }
    }

    /// Waits until a job after the `seen`-th is posted: spins for [`SPIN`], then parks.
    fn wait(&self, seen: u64) -> u64 {
        let start = Instant::now();
        let mut spins = 0_u32;
        loop {
            let posted = self.posted.load(Acquire);
            if posted != seen {
                return posted;
            }
            spins = spins.wrapping_add(1);
            if spins % 64 != 0 || start.elapsed() < SPIN {
                std::hint::spin_loop();
                continue;
            }
            self.sleeping.store(true, SeqCst);
            if self.posted.load(SeqCst) == seen {
                std::thread::park();
            }
            self.sleeping.store(false, SeqCst);
        }
    }

    /// The block thread: runs each posted job.
    fn serve(&self) {
        let mut seen = 0;
        loop {
            seen = self.wait(seen);
            let job = lock(&self.job).take().expect("a job with each post");
            // SAFETY: `run_blocks` keeps the job alive until this call has returned (it waits
            // for the job's own countdown, the job's last action).
            #[allow(unsafe_code)]
            unsafe {
                (*job.0)()
            };
        }
    }
}

/// The block threads: one fewer than the machine has cores; the caller of [`run_blocks`]
/// runs blocks too.
struct Pool {
    slots: Vec<&'static Slot>,
    /// Held by the one [`run_blocks`] that uses the threads; another caller meanwhile (a
    /// nested call from inside a block, or a second thread of the program) runs its blocks
    /// itself, in order.
    claim: Mutex<()>,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let slots = (0..cores.saturating_sub(1))
            .map(|k| {
                let slot: &'static Slot = Box::leak(Box::new(Slot {
                    posted: AtomicU64::new(0),
                    job: Mutex::new(None),
                    sleeping: AtomicBool::new(false),
                    thread: OnceLock::new(),
                }));
                let handle = std::thread::Builder::new()
                    .name(format!("nqs-block-{k}"))
                    .spawn(move || slot.serve())
                    .expect("a thread for the walker blocks");
                slot.thread.set(handle.thread().clone()).expect("set once");
                slot
            })
            .collect();
        Pool {
            slots,
            claim: Mutex::new(()),
        }
    })
}

/// The lock's value, also where another holder panicked (nothing here is left half-written
/// by a panic: every block's panic is caught outside the locks).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Blocks that [`run_blocks`] runs at once: the block threads and the caller.
pub fn concurrent_blocks() -> usize {
    pool().slots.len() + 1
}

/// `f` of every item, in order. The caller and the block threads (one fewer than the machine
/// has cores, persistent) take the items in turn, each the next one not yet taken, until none
/// is left. A panic in a block is raised in the caller once every block has finished.
///
/// Block threads that have just finished a job spin for [`SPIN`] before they sleep, so the
/// next phase's post reaches a running thread. (With rayon's global pool, one thread per
/// core, the caller made one thread too many: an idle pool thread spun for work on the core
/// another block needed, and N = 2 with 4096 walkers took 0.75 ms per step in some runs and
/// 1.0–1.1 ms in others. Here the caller and the block threads are one per core.)
pub fn run_blocks<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let n = items.len();
    let pool = pool();
    let claim = if n > 1 && !pool.slots.is_empty() {
        pool.claim.try_lock().ok()
    } else {
        None
    };
    if claim.is_none() {
        // On the caller alone (one item, no block threads, or the pool busy with another
        // caller): the same contract, every block runs before a panic is raised.
        let mut panic = None;
        let results: Vec<Option<R>> = items
            .into_iter()
            .map(|t| match catch_unwind(AssertUnwindSafe(|| f(t))) {
                Ok(r) => Some(r),
                Err(payload) => {
                    panic.get_or_insert(payload);
                    None
                }
            })
            .collect();
        if let Some(payload) = panic {
            resume_unwind(payload);
        }
        return results
            .into_iter()
            .map(|r| r.expect("every block ran"))
            .collect();
    }
    let items: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let results: Vec<Mutex<Option<R>>> = (0..n).map(|_| Mutex::new(None)).collect();
    let panic: Mutex<Option<Box<dyn Any + Send>>> = Mutex::new(None);
    let next = AtomicUsize::new(0);
    let take_blocks = || {
        loop {
            let k = next.fetch_add(1, Relaxed);
            if k >= n {
                break;
            }
            let item = lock(&items[k]).take().expect("each block taken once");
            match catch_unwind(AssertUnwindSafe(|| f(item))) {
                Ok(r) => *lock(&results[k]) = Some(r),
                Err(payload) => {
                    lock(&panic).get_or_insert(payload);
                }
            }
        }
    };
    let helpers = pool.slots.len().min(n - 1);
    let running = AtomicUsize::new(helpers);
    let job = || {
        take_blocks();
        running.fetch_sub(1, Release);
    };
    let job: &(dyn Fn() + Sync) = &job;
    // SAFETY: only the lifetime changes (a fat pointer either way); `Finish` below waits, on
    // every path out of this function, until each helper's call of the job has returned.
    #[allow(unsafe_code)]
    let job = JobRef(unsafe {
        std::mem::transmute::<*const (dyn Fn() + Sync + '_), *const (dyn Fn() + Sync + 'static)>(
            job,
        )
    });
    let finish = Finish(&running);
    for slot in &pool.slots[..helpers] {
        slot.post(job);
    }
    take_blocks();
    drop(finish);
    if let Some(payload) = lock(&panic).take() {
        resume_unwind(payload);
    }
    results
        .into_iter()
        .map(|r| {
            r.into_inner()
                .unwrap_or_else(PoisonError::into_inner)
                .expect("every block ran")
        })
        .collect()
}

/// Waits, when dropped, until the posted jobs have all returned: spinning for [`SPIN`],
/// then yielding the core between checks.
struct Finish<'a>(&'a AtomicUsize);

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        let start = Instant::now();
        let mut spins = 0_u32;
        while self.0.load(Acquire) != 0 {
            spins = spins.wrapping_add(1);
            if spins % 64 != 0 || start.elapsed() < SPIN {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every item's result in the items' order, for fewer, as many and more items than the
    /// threads, with blocks of uneven length; a block that calls `run_blocks` again (while the
    /// threads are claimed) gets its results too.
    #[test]
    fn results_come_back_in_order_also_from_nested_calls() {
        for n in [0, 1, 2, 3, 7, 40] {
            let out = run_blocks((0..n).collect(), |k: usize| {
                // Uneven work, so that the blocks finish out of order.
                let spin = (n - k) * 2000;
                let mut acc = k as u64;
                for i in 0..spin {
                    acc = std::hint::black_box(acc.wrapping_mul(31).wrapping_add(i as u64));
                }
                let inner = run_blocks(vec![k, k + 1], |v| 10 * v);
                (k, inner, acc != u64::MAX)
            });
            assert_eq!(out.len(), n);
            for (k, (got, inner, _)) in out.into_iter().enumerate() {
                assert_eq!(got, k);
                assert_eq!(inner, vec![10 * k, 10 * k + 10]);
            }
        }
    }

    /// Callers on several threads at once: each gets its own results (the threads serve one
    /// caller, the others run their blocks themselves).
    #[test]
    fn concurrent_callers_get_their_own_results() {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|c| {
                    scope.spawn(move || {
                        for round in 0..200 {
                            let items: Vec<usize> =
                                (0..5).map(|k| 1000 * c + 10 * round + k).collect();
                            let expected: Vec<usize> = items.iter().map(|v| v * 3).collect();
                            assert_eq!(run_blocks(items, |v| v * 3), expected);
                        }
                    })
                })
                .collect();
            for h in handles {
                h.join().expect("no caller panicked");
            }
        });
    }

    /// A panicking block is raised in the caller after every other block has run, and the
    /// threads serve the next call.
    #[test]
    fn a_panic_reaches_the_caller_after_every_block_finished() {
        let finished = AtomicUsize::new(0);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            run_blocks((0..6).collect(), |k: usize| {
                if k == 1 {
                    panic!("block {k} fails");
                }
                std::thread::sleep(Duration::from_millis(5));
                finished.fetch_add(1, SeqCst);
            })
        }));
        let payload = outcome.expect_err("the block's panic reaches the caller");
        assert_eq!(
            payload.downcast_ref::<String>().map(String::as_str),
            Some("block 1 fails")
        );
        assert_eq!(finished.load(SeqCst), 5, "the other blocks all ran first");
        assert_eq!(run_blocks(vec![1, 2, 3], |v| v + 1), vec![2, 3, 4]);
    }

    /// The same when the pool is busy with another caller and the blocks run on the caller
    /// alone (the test above failed when a concurrent test held the pool).
    #[test]
    fn a_panic_on_the_caller_alone_also_waits_for_every_block() {
        let finished = AtomicUsize::new(0);
        let busy = lock(&pool().claim);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            run_blocks((0..6).collect(), |k: usize| {
                if k == 1 {
                    panic!("block {k} fails");
                }
                finished.fetch_add(1, SeqCst);
            })
        }));
        drop(busy);
        assert!(outcome.is_err(), "the block's panic reaches the caller");
        assert_eq!(finished.load(SeqCst), 5, "the other blocks all ran first");
    }
}
