//! The memory a run needs, estimated before the walkers are allocated, so that a scale
//! mistake (`sampler.walkers = 1000000000`) gets an answer instead of a swap storm.
//!
//! Model (docs/performance.md, "Memory: the estimate checked before allocating"):
//! peak ≈ base + walkers × float size × (C · N·d + [moves in burn ops] V · J/(d + 1))
//!   + float size × K · G · max(min(walkers, chunked), min(walkers, chunked′))
//!   + walkers × samples × 8 · S + [CPU, f64] kept Slater log|det|,
//! with J the floats per walker of the widest jets ([`nqs_model::FactorConfig::jet_elements`]
//! + 4·N·d) and G those that a local-energy or gradient chunk holds as tensors, J less the
//! factors that run as host passes ([`gradient_floats_per_walker`]; J on a GPU): the chains
//! (positions, proposals, caches: C = 16 per coordinate), the moves' value passes where they
//! run burn ops over every walker of a thread (V = 6 copies of a value pass, about J/(d + 1)
//! floats: no gradient components), the jets of the local energies and gradients, which on a
//! CPU go in chunks (at most threads × a chunk of walkers at a time, the local energies' or
//! the gradient's, K = 6 live copies; on a GPU all walkers with J), and the evaluation's
//! stored energies (S = 6 f64 per sample), and the local energies' Slater log|det| a step
//! keeps for its gradient pass ([`kept_log_det_bytes_per_walker`], at most
//! [`KEPT_LOG_DETS_BYTES`] per process). Calibrated on the shipped configs: 1.5–3.6 times the
//! measured peaks of training steps (2026-12-07), 1.5 times with an evaluation.

use crate::{Config, TrainError};

/// Live copies of the widest jets (calibrated, module docs).
pub const LIVE_COPIES: f64 = 6.0;

/// Floats per coordinate of every walker for the chains (module docs).
pub const CHAIN_FLOATS_PER_COORD: f64 = 16.0;

/// Live copies of a value pass in the moves that run burn ops (module docs).
pub const VALUE_COPIES: f64 = 6.0;

/// Stored f64 values per evaluation sample and walker (kinetic, potential and the terms, with
/// the vectors' growth: measured 46 bytes per sample for the quantum dot, module docs).
pub const EVALUATION_SERIES: f64 = 6.0;

/// Resident size of the process before any walker (binary, allocator, burn's runtime).
pub const BASE_BYTES: f64 = 40.0 * 1024.0 * 1024.0;

/// Where a run's working set lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// 8 for f64, 4 for f32.
    pub float_bytes: usize,
    /// A CPU backend: local energies and gradients in chunks of walkers.
    pub cpu: bool,
    /// The Metropolis moves are a host pass (no burn-op value pass over every walker).
    pub host_moves: bool,
    /// Processes that share the estimated walkers (the MPI ranks of a node, 1 alone): each
    /// keeps its own Slater log|det|, up to [`KEPT_LOG_DETS_BYTES`].
    pub processes: usize,
}

/// Estimated peak bytes of a training run and its evaluation for `config` laid out as
/// `layout` (module docs).
pub fn estimate_bytes(config: &Config, layout: Layout) -> f64 {
    let walkers = config.sampler.walkers as f64;
    let geometry = config.geometry();
    let (coords, d) = (geometry.n_coords() as f64, geometry.dimensions as f64);
    let jets = jet_floats_per_walker(config) as f64;
    let fb = layout.float_bytes as f64;
    let moves = if layout.host_moves {
        0.0
    } else {
        VALUE_COPIES * jets / (d + 1.0)
    };
    // Floats of the chunks' jets: the local energies' or the gradient's, the larger.
    let jet_floats = if layout.cpu {
        let host_passes = layout.float_bytes == 8;
        let threads = config.sampler.threads.max(1);
        let chunked = |chunk: usize| walkers.min((threads * chunk) as f64);
        // Both passes hold the same floats per walker: the jets less the host passes' share.
        let held = gradient_floats_per_walker(config, host_passes) as f64;
        (chunked(local_energy_chunk(config, host_passes)) * held)
            .max(chunked(gradient_chunk(config, host_passes)) * held)
    } else {
        walkers * jets
    };
    let kept = if layout.cpu && layout.float_bytes == 8 {
        let processes = layout.processes.max(1);
        let per_process = config.sampler.walkers.div_ceil(processes);
        (processes * kept_log_det_walkers(config, per_process)) as f64
            * kept_log_det_bytes_per_walker(config)
    } else {
        0.0
    };
    BASE_BYTES
        + walkers * fb * (CHAIN_FLOATS_PER_COORD * coords + moves)
        + jet_floats * fb * LIVE_COPIES
        + kept
        + walkers * config.eval.samples_per_walker as f64 * 8.0 * EVALUATION_SERIES
}

/// Bytes at most that a step's kept Slater blocks may take ([`nqs_model::LogDetCache`]:
/// the local energies' log|det| kept for the gradient pass); the walkers past it eliminate
/// their blocks again in the gradient pass.
pub const KEPT_LOG_DETS_BYTES: f64 = 256.0 * 1024.0 * 1024.0;

/// Bytes of one walker's kept blocks: its coordinates (the key), both blocks' logarithms
/// and signs, and about 64 bytes of the map's own. 0 without a Hermite Slater factor.
pub fn kept_log_det_bytes_per_walker(config: &Config) -> f64 {
    let has_slater = config
        .model
        .factors
        .iter()
        .any(|f| matches!(f, nqs_model::FactorConfig::Slater(_)));
    if !has_slater {
        return 0.0;
    }
    (config.geometry().n_coords() as f64 + 4.0) * 8.0 + 64.0
}

/// Orbitals per spin block from which a step keeps its blocks' log|det| (every block with
/// an elimination: one orbital has det P = 1). Measured (2D, 4096 walkers, local energies
/// plus gradient): N = 6 even, N = 12 3.7 → 3.4 ms, N = 20 9.4 → 8.3 ms (docs/performance.md).
pub const KEEP_FROM_ORBITALS: usize = 3;

/// Walkers of `walkers` whose blocks a step keeps: all of them up to
/// [`KEPT_LOG_DETS_BYTES`], none below [`KEEP_FROM_ORBITALS`].
pub fn kept_log_det_walkers(config: &Config, walkers: usize) -> usize {
    let per_walker = kept_log_det_bytes_per_walker(config);
    if per_walker == 0.0 || config.geometry().n_up < KEEP_FROM_ORBITALS {
        return 0;
    }
    walkers.min((KEPT_LOG_DETS_BYTES / per_walker) as usize)
}

/// Floats per walker in the widest jets of a step (module docs).
pub fn jet_floats_per_walker(config: &Config) -> usize {
    let geometry = config.geometry();
    config
        .model
        .factors
        .iter()
        .map(|f| f.jet_elements(&geometry))
        .sum::<usize>()
        + 4 * geometry.n_coords()
}

/// Floats of one jet copy that a local-energy chunk may hold (2 MiB in f64): chunks of
/// 2¹⁸ / (floats per walker) walkers, so that a chunk's jets stay near the caches. Chosen by
/// measurement on the backflow at N = 12, 4096 walkers: local energy 173 ms unchunked,
/// 128 / 110 / 82 ms in chunks of 512 / 256 / 128 walkers, while the Slater–Jastrow state
/// (few floats per walker) lost to per-op costs below ≈ 1000 (docs/performance.md).
pub const LOCAL_ENERGY_CHUNK_FLOATS: usize = 1 << 18;

/// Walkers per local-energy chunk for `config` (at least 64); `host_passes`: on flex in f64.
pub fn local_energy_chunk(config: &Config, host_passes: bool) -> usize {
    let floats = jet_floats_per_walker(config) - host_jet_floats(config, host_passes);
    (LOCAL_ENERGY_CHUNK_FLOATS / floats.max(1)).max(64)
}

/// The share of [`jet_floats_per_walker`] that factors whose jets and gradient passes run as
/// host passes do not hold as tensors (`host_passes`: on flex in f64): the Hermite Slater
/// determinant (its jet on lanes; its gradient pass through det P = det X · det S, one n×n
/// matrix) and, in open space, the Padé–Jastrow (its jet on lanes; its gradient pass in
/// forward mode, two floats per walker).
fn host_jet_floats(config: &Config, host_passes: bool) -> usize {
    if !host_passes {
        return 0;
    }
    let geometry = config.geometry();
    let open = geometry.cell.is_none();
    config
        .model
        .factors
        .iter()
        .filter(|f| match f {
            nqs_model::FactorConfig::Slater(_) => true,
            nqs_model::FactorConfig::PadeJastrow(_) => open,
            _ => false,
        })
        .map(|f| f.jet_elements(&geometry))
        .sum()
}

/// Floats of one jet copy that a gradient chunk may hold (8 MiB in f64): chunks of
/// 2²⁰ / (floats per walker) walkers. Chosen by measurement (docs/performance.md, "Where the
/// time goes", the gradient pass in chunks): 2D Slater–Jastrow N = 30 with 4096 walkers,
/// gradient phase 23–29 ms in one pass per thread, 16.7–17.2 ms in chunks of 128, 256 or 512
/// (this rule: 188); N = 20 10.0 → 8.3–8.6 ms in chunks of 256 or 512 (416); below ≈ 500
/// walkers per chunk the backflow at N = 6 (rule: 1533) and the FFNN state lost to per-op
/// costs.
pub const GRADIENT_CHUNK_FLOATS: usize = 1 << 20;

/// Walkers per gradient chunk for `config` (at least 64); `host_passes`: on flex in f64.
pub fn gradient_chunk(config: &Config, host_passes: bool) -> usize {
    (GRADIENT_CHUNK_FLOATS / gradient_floats_per_walker(config, host_passes).max(1)).max(64)
}

/// Floats per walker of a gradient pass's widest tensors: those of the jets
/// ([`jet_floats_per_walker`]) less, with the host passes (flex f64), the Hermite Slater
/// factors' share, whose gradient pass tracks log|det S(α)| of one n×n matrix and the
/// Gaussian (det P = det X · det S), no tensor per particle and orbital. Measured (2D
/// Slater–Jastrow, 4096 walkers, gradient phase, alternating runs): N = 20 3.9–4.7 →
/// 3.7–5.1 ms (chunks of 416 → 782, within the spread), N = 30 7.5–9.1 → 6.7–7.2 ms
/// (188 → 360), N = 42 14.0–15.4 → 12.6–13.2 ms (96 → 193), N = 56 23.5–29.4 → 21.7–22.4 ms
/// (64 → 107). In open space the Padé–Jastrow factors' share goes too: their gradient pass
/// is one host pass with the β tangents (`nqs_model`'s `host_pade_tangent.rs`), two floats
/// per walker ([`host_jet_floats`]).
pub fn gradient_floats_per_walker(config: &Config, host_passes: bool) -> usize {
    jet_floats_per_walker(config) - host_jet_floats(config, host_passes)
}

/// Memory available to new allocations (`MemAvailable` of /proc/meminfo), when the system
/// says.
pub fn available_bytes() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

/// "1.5 GiB" and the like.
pub fn human(bytes: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", units[unit])
}

/// Refuse a config whose estimate exceeds twice the available memory (it cannot fit even
/// if the estimate is twice too high); warn when it exceeds half of it. Machines that do
/// not report their memory are not checked.
pub fn check(config: &Config, layout: Layout) -> Result<(), TrainError> {
    check_against(config, layout, available_bytes())
}

/// [`check`] against a given amount of available memory.
pub fn check_against(
    config: &Config,
    layout: Layout,
    available: Option<f64>,
) -> Result<(), TrainError> {
    let Some(available) = available else {
        return Ok(());
    };
    let needed = estimate_bytes(config, layout);
    let per_walker = (needed - BASE_BYTES) / config.sampler.walkers.max(1) as f64;
    let fit = ((available - BASE_BYTES).max(0.0) / per_walker).floor();
    if needed > 2.0 * available {
        return Err(TrainError::InvalidValue {
            field: "sampler.walkers".into(),
            value: config.sampler.walkers.to_string(),
            allowed: format!(
                "at most about {fit:.0} for this model: it needs about {} (estimate), and {} is available",
                human(needed),
                human(available)
            ),
        });
    }
    if needed > 0.5 * available {
        tracing::warn!(
            "this run needs about {} (estimate) of the {} available: sampler.walkers = {} is near what fits (about {fit:.0})",
            human(needed),
            human(available),
            config.sampler.walkers
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(walkers: usize) -> Config {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/qd2d_n6_sj.toml");
        Config::load(&path, &[format!("sampler.walkers={walkers}")]).expect("shipped config")
    }

    const CPU_HOST_MOVES: Layout = Layout {
        float_bytes: 8,
        cpu: true,
        host_moves: true,
        processes: 1,
    };

    #[test]
    fn the_estimate_scales_with_walkers_and_refuses_what_cannot_fit() {
        // N = 6 Slater–Jastrow (252 jet floats per walker, 12 coordinates), host moves on a CPU:
        // beyond the chunks and the cap of the kept log|det| (2²¹ walkers) a walker adds its
        // chains and its stored evaluation energies only.
        let c = config(1 << 20);
        let per_walker = 8.0 * CHAIN_FLOATS_PER_COORD * 12.0
            + c.eval.samples_per_walker as f64 * 8.0 * EVALUATION_SERIES;
        let slope = estimate_bytes(&config(1 << 22), CPU_HOST_MOVES)
            - estimate_bytes(&config(1 << 21), CPU_HOST_MOVES);
        assert!(
            (slope / (1 << 21) as f64 - per_walker).abs() < 1e-6,
            "{slope}"
        );
        // On a GPU every walker's jets count; burn-op moves add a value pass per walker.
        let gpu = Layout {
            cpu: false,
            ..CPU_HOST_MOVES
        };
        let jets = estimate_bytes(&config(1 << 20), gpu) - estimate_bytes(&c, CPU_HOST_MOVES);
        assert!(
            jets > (1 << 20) as f64 * 8.0 * LIVE_COPIES * 200.0,
            "{jets}"
        );
        let burn_moves = Layout {
            host_moves: false,
            ..CPU_HOST_MOVES
        };
        let moves = estimate_bytes(&c, burn_moves) - estimate_bytes(&c, CPU_HOST_MOVES);
        let expected = (1 << 20) as f64 * 8.0 * VALUE_COPIES * 252.0 / 3.0;
        assert!(
            (moves - expected).abs() < 1e-6 * expected,
            "{moves} against {expected}"
        );
        let gib = 1024.0_f64.powi(3);
        assert!(check_against(&config(4096), CPU_HOST_MOVES, Some(16.0 * gib)).is_ok());
        let err = check_against(&config(1_000_000_000), CPU_HOST_MOVES, Some(16.0 * gib))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("sampler.walkers") && err.contains("TiB") && err.contains("16.0 GiB"),
            "{err}"
        );
        // Unknown memory: no check.
        assert!(check_against(&config(1_000_000_000), CPU_HOST_MOVES, None).is_ok());
    }

    /// The kept Slater log|det| from 3 orbitals per block: (N·d + 4)·8 + 64 bytes per walker,
    /// at most [`KEPT_LOG_DETS_BYTES`] per process.
    #[test]
    fn the_kept_log_dets_count_per_walker_up_to_the_cap_of_each_process() {
        let at = |particles: usize, walkers: usize| {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../configs/qd2d_n6_sj.toml");
            Config::load(
                &path,
                &[
                    format!("sampler.walkers={walkers}"),
                    format!("system.particles={particles}"),
                ],
            )
            .expect("shipped config")
        };
        // N = 2: one orbital per block, nothing kept.
        assert_eq!(kept_log_det_walkers(&at(2, 4096), 4096), 0);
        // N = 30: 15 orbitals, 60 coordinates.
        let per_walker = (60.0 + 4.0) * 8.0 + 64.0;
        assert_eq!(kept_log_det_bytes_per_walker(&at(30, 1)), per_walker);
        assert_eq!(kept_log_det_walkers(&at(30, 4096), 4096), 4096);
        let cap = (KEPT_LOG_DETS_BYTES / per_walker) as usize;
        assert_eq!(kept_log_det_walkers(&at(30, 1 << 20), 1 << 20), cap);
        // One process against two, each with its own cap, at 2²⁰ walkers (both capped) and
        // at 4096 (neither).
        let two = Layout {
            processes: 2,
            ..CPU_HOST_MOVES
        };
        let many = at(30, 1 << 20);
        let extra = estimate_bytes(&many, two) - estimate_bytes(&many, CPU_HOST_MOVES);
        assert!((extra - cap as f64 * per_walker).abs() < 1.0, "{extra}");
        let few = at(30, 4096);
        assert_eq!(
            estimate_bytes(&few, two),
            estimate_bytes(&few, CPU_HOST_MOVES)
        );
    }
}
