//! The memory a run needs, estimated before the walkers are allocated, so that a scale
//! mistake (`sampler.walkers = 1000000000`) gets an answer instead of a swap storm.
//!
//! Model: peak ≈ base + walkers × K × float size × (Σ_f jet elements of factor f + 4·N·d),
//! with the jet elements of [`nqs_model::FactorConfig::jet_elements`] and K = 6 live copies,
//! calibrated on the shipped configs (peak RSS of short runs at 512 and 4096 walkers,
//! docs/performance.md: the measured K lies between 2.2 and 11.3, so the estimate is within
//! about a factor of 2–3 either way).

use crate::{Config, TrainError};

/// Live copies of the widest jets (calibrated, module docs).
pub const LIVE_COPIES: f64 = 6.0;

/// Resident size of the process before any walker (binary, allocator, burn's runtime).
pub const BASE_BYTES: f64 = 40.0 * 1024.0 * 1024.0;

/// Estimated peak bytes of a training step and evaluation of `config` with floats of
/// `float_bytes` (8 for f64, 4 for f32).
pub fn estimate_bytes(config: &Config, float_bytes: usize) -> f64 {
    BASE_BYTES
        + config.sampler.walkers as f64
            * LIVE_COPIES
            * float_bytes as f64
            * jet_floats_per_walker(config) as f64
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

/// Walkers per local-energy chunk for `config` (at least 64).
pub fn local_energy_chunk(config: &Config) -> usize {
    (LOCAL_ENERGY_CHUNK_FLOATS / jet_floats_per_walker(config).max(1)).max(64)
}

/// Floats of one jet copy that a gradient chunk may hold (8 MiB in f64): chunks of
/// 2²⁰ / (floats per walker) walkers. Chosen by measurement (docs/performance.md, "Where the
/// time goes", the gradient pass in chunks): 2D Slater–Jastrow N = 30 with 4096 walkers, gradient phase 23–29 ms
/// in one pass per thread, 16.7–17.2 ms in chunks of 128, 256 or 512 (this rule: 188);
/// N = 20 10.0 → 8.3–8.6 ms in chunks of 256 or 512 (416); below ≈ 500 walkers per chunk
/// the backflow at N = 6 (rule: 1533) and the FFNN state lost to per-op costs.
pub const GRADIENT_CHUNK_FLOATS: usize = 1 << 20;

/// Walkers per gradient chunk for `config` (at least 64).
pub fn gradient_chunk(config: &Config) -> usize {
    (GRADIENT_CHUNK_FLOATS / jet_floats_per_walker(config).max(1)).max(64)
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
pub fn check(config: &Config, float_bytes: usize) -> Result<(), TrainError> {
    check_against(config, float_bytes, available_bytes())
}

/// [`check`] against a given amount of available memory.
pub fn check_against(
    config: &Config,
    float_bytes: usize,
    available: Option<f64>,
) -> Result<(), TrainError> {
    let Some(available) = available else {
        return Ok(());
    };
    let needed = estimate_bytes(config, float_bytes);
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

    #[test]
    fn the_estimate_scales_with_walkers_and_refuses_what_cannot_fit() {
        // N = 6 Slater–Jastrow: 252 jet elements per walker, 6 copies of f64: 12 KiB per
        // walker (measured: 11.5 KiB, docs/performance.md).
        let one = estimate_bytes(&config(1024), 8) - BASE_BYTES;
        assert!((one / 1024.0 / 1024.0 - 12.0).abs() < 0.5, "{}", human(one));
        let gib = 1024.0_f64.powi(3);
        assert!(check_against(&config(4096), 8, Some(16.0 * gib)).is_ok());
        let err = check_against(&config(1_000_000_000), 8, Some(16.0 * gib))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("sampler.walkers") && err.contains("TiB") && err.contains("16.0 GiB"),
            "{err}"
        );
        // Unknown memory: no check.
        assert!(check_against(&config(1_000_000_000), 8, None).is_ok());
    }
}
