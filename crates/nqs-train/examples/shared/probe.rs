//! Helpers shared by the probe examples (`op_costs`, `profile_move`).
#![allow(dead_code)] // each example uses a subset

use std::time::Instant;

/// Positional argument `index` (1-based) parsed as a number, or `default`.
pub fn arg(index: usize, default: usize) -> usize {
    std::env::args()
        .nth(index)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

/// Mean wall time of `f` over `reps` calls after one warm-up call, printed in µs.
pub fn time_us(name: &str, reps: usize, mut f: impl FnMut()) {
    f();
    let t = Instant::now();
    for _ in 0..reps {
        f();
    }
    println!(
        "{name:44} {:9.1} µs",
        t.elapsed().as_secs_f64() * 1e6 / reps as f64
    );
}
