//! The binary's global allocator: blocks under [`LARGE`] bytes from mimalloc, larger ones
//! from the C library's `malloc`, told to keep the memory it has ([`configure`]).
//!
//! Every tensor op allocates its output. glibc's `malloc` alone handed large buffers back to
//! the kernel and page-faulted them in again (log|ψ| of N = 6 at 1024 walkers 0.82 → 0.35 ms
//! with mimalloc); mimalloc alone keeps a page run per size class and thread, and with the
//! kernel's transparent huge pages its resident memory was 75–100 MiB at N = 6 with 4096
//! walkers where the live heap peaks at a few MiB. Small blocks (the op outputs of small
//! batches, bookkeeping) keep mimalloc's fast paths; tensors of many walkers go to
//! `malloc`'s best-fit bins, which reuse one heap for every size (docs/performance.md).

use std::alloc::{GlobalAlloc, Layout, System};

use mimalloc::MiMalloc;

/// Blocks of at least this many bytes come from the C library.
pub const LARGE: usize = 64 * 1024;

/// mimalloc below [`LARGE`], the C library's `malloc` from there on.
pub struct Hybrid;

fn large(size: usize) -> bool {
    size >= LARGE
}

// SAFETY: every block is freed and resized by the allocator that made it, which the block's
// size decides: the size of `layout` at `dealloc` and `realloc` is the size it was made with
// (the `GlobalAlloc` contract); a resize across `LARGE` makes a new block with the other
// allocator, copies the bytes both sizes hold and frees the old block with its own.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Hybrid {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract (non-zero size) passes through.
        unsafe {
            if large(layout.size()) {
                System.alloc(layout)
            } else {
                MiMalloc.alloc(layout)
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        unsafe {
            if large(layout.size()) {
                System.alloc_zeroed(layout)
            } else {
                MiMalloc.alloc_zeroed(layout)
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from the allocator that `layout`'s size picks (see above).
        unsafe {
            if large(layout.size()) {
                System.dealloc(ptr, layout)
            } else {
                MiMalloc.dealloc(ptr, layout)
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let (was_large, is_large) = (large(layout.size()), large(new_size));
        // SAFETY: within one allocator, its own `realloc` under the caller's contract; across
        // them, a fresh block of the new size (valid: the caller guarantees that `new_size`
        // rounded up to the alignment does not overflow), the common prefix copied, the old
        // block freed by its maker.
        unsafe {
            match (was_large, is_large) {
                (true, true) => System.realloc(ptr, layout, new_size),
                (false, false) => MiMalloc.realloc(ptr, layout, new_size),
                _ => {
                    let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
                    let new = self.alloc(new_layout);
                    if !new.is_null() {
                        std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    new
                }
            }
        }
    }
}

/// Tells glibc's `malloc` to keep its memory: no trimming of the heap's top below 256 MiB
/// free, 16 MiB of padding per heap extension, and `mmap` (whose blocks go back to the
/// kernel at every free and fault in again at the next use) only for blocks of 32 MiB and
/// more, the largest threshold glibc accepts. Call once, first thing in `main`. A no-op on
/// other C libraries.
pub fn configure() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // glibc's <malloc.h>.
        const M_TRIM_THRESHOLD: i32 = -1;
        const M_TOP_PAD: i32 = -2;
        const M_MMAP_THRESHOLD: i32 = -3;
        #[allow(unsafe_code)]
        unsafe extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        for (param, value) in [
            (M_TRIM_THRESHOLD, 256 << 20),
            (M_TOP_PAD, 16 << 20),
            (M_MMAP_THRESHOLD, 32 << 20),
        ] {
            // SAFETY: mallopt takes two ints and only changes malloc's tuning; called before
            // any thread of ours starts.
            #[allow(unsafe_code)]
            let accepted = unsafe { mallopt(param, value) };
            debug_assert_eq!(accepted, 1, "mallopt({param}, {value}) refused");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks keep their bytes through resizes within and across the two allocators, at
    /// alignments from 8 to 4096.
    #[test]
    #[allow(unsafe_code)]
    fn resizes_keep_the_bytes_across_the_threshold() {
        let sizes = [
            8,
            1000,
            LARGE - 1,
            LARGE,
            LARGE + 1,
            3 * LARGE,
            100,
            5 * LARGE,
            16,
        ];
        for align in [8, 64, 4096] {
            let mut layout = Layout::from_size_align(sizes[0], align).expect("valid");
            // SAFETY: non-zero sizes; every block is resized and freed with its own layout.
            unsafe {
                let mut ptr = Hybrid.alloc_zeroed(layout);
                assert!(!ptr.is_null());
                assert!((0..layout.size()).all(|i| *ptr.add(i) == 0));
                for &size in &sizes[1..] {
                    for i in 0..layout.size() {
                        *ptr.add(i) = (i % 251) as u8;
                    }
                    ptr = Hybrid.realloc(ptr, layout, size);
                    assert!(!ptr.is_null());
                    assert_eq!(ptr as usize % align, 0, "alignment {align}");
                    let kept = layout.size().min(size);
                    assert!(
                        (0..kept).all(|i| *ptr.add(i) == (i % 251) as u8),
                        "{} → {size} bytes at alignment {align}",
                        layout.size()
                    );
                    layout = Layout::from_size_align(size, align).expect("valid");
                }
                Hybrid.dealloc(ptr, layout);
            }
        }
    }
}
