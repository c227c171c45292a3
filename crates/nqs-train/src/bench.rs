//! End-to-end benchmark: seconds per optimisation step, split into sampling, local energy
//! and gradient, walker moves per second and peak memory, for configs × walker counts.

use std::time::Instant;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::{Config, TrainError, Trainer};

/// One benchmark measurement.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchRow {
    /// Config name.
    pub config: String,
    /// System, e.g. "2D N=6 ω=1".
    pub system: String,
    /// Number of particles.
    pub particles: usize,
    /// Factor kinds.
    pub model: String,
    /// Variational parameters.
    pub n_parameters: usize,
    /// Walkers.
    pub walkers: usize,
    /// Backend.
    pub backend: String,
    /// Precision.
    pub precision: String,
    /// Median seconds per optimisation step.
    pub step_median: f64,
    /// Smallest and largest step time.
    pub step_min: f64,
    /// Largest step time.
    pub step_max: f64,
    /// Median seconds of the sampling phase.
    pub sampling_median: f64,
    /// Median seconds of the local-energy phase.
    pub local_energy_median: f64,
    /// Median seconds of loss, backward and update.
    pub gradient_median: f64,
    /// Walker moves per second in the sampling phase.
    pub moves_per_second: f64,
    /// Peak resident memory of the process so far (MiB), from /proc/self/status.
    pub peak_rss_mib: Option<f64>,
    /// Whole run (training + evaluation) wall time, with `--full`.
    pub full_run_seconds: Option<f64>,
    /// Final energy and its error, with `--full`.
    pub energy: Option<(f64, f64)>,
}

/// Benchmark `config` with `walkers`: burn-in, `warmup` steps, then `steps` timed steps.
/// With `full`, also run the config's whole training and evaluation and time it.
#[allow(clippy::too_many_arguments)]
pub fn bench(
    name: &str,
    mut config: Config,
    walkers: usize,
    steps: usize,
    warmup: usize,
    full: bool,
    device: &Device,
    labels: (&str, &str),
) -> Result<BenchRow, TrainError> {
    config.sampler.walkers = walkers;
    let full_config = config.clone();
    let mut trainer = Trainer::new(config, device.clone())?;
    trainer.profile = true;
    for _ in 0..warmup {
        trainer.train_step()?;
    }
    let mut rows = Vec::with_capacity(steps);
    for _ in 0..steps {
        rows.push(trainer.train_step()?);
    }
    let median = |f: &dyn Fn(&crate::StepMetrics) -> f64| {
        let mut v: Vec<f64> = rows.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let step_median = median(&|m| m.seconds);
    let sampling_median = median(&|m| m.sampling_seconds);
    let c = &trainer.config;
    let (full_run_seconds, energy) = if full {
        let start = Instant::now();
        let mut t = Trainer::new(full_config.clone(), device.clone())?;
        for _ in 0..full_config.run.steps {
            t.train_step()?;
        }
        let eval = t.evaluate(full_config.eval.samples_per_walker)?;
        (
            Some(start.elapsed().as_secs_f64()),
            Some((eval.energy.mean, eval.energy.error)),
        )
    } else {
        (None, None)
    };
    Ok(BenchRow {
        config: name.to_string(),
        system: c.system.title(),
        particles: c.geometry().n_particles,
        model: c.model_label(),
        n_parameters: trainer.n_parameters(),
        walkers,
        backend: labels.0.to_string(),
        precision: labels.1.to_string(),
        step_median,
        step_min: rows.iter().map(|m| m.seconds).fold(f64::MAX, f64::min),
        step_max: rows.iter().map(|m| m.seconds).fold(0.0, f64::max),
        sampling_median,
        local_energy_median: median(&|m| m.local_energy_seconds),
        gradient_median: median(&|m| m.gradient_seconds),
        moves_per_second: (walkers * c.sampler.moves_per_sample) as f64 / sampling_median,
        peak_rss_mib: peak_rss_mib(),
        full_run_seconds,
        energy,
    })
}

/// Peak resident set size of this process in MiB (Linux), if readable.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Markdown table header for [`markdown_row`].
pub const MARKDOWN_HEADER: &str = "| config | system | model | params | walkers | backend | ms/step (median) | min–max ms | sampling ms | local energy ms | gradient ms | walker-moves/s | peak RSS MiB | full run s | energy |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|";

/// One row of the benchmark table.
pub fn markdown_row(r: &BenchRow) -> String {
    let opt = |v: Option<f64>, digits: usize| {
        v.map(|v| format!("{v:.digits$}"))
            .unwrap_or_else(|| "–".into())
    };
    format!(
        "| {} | {} | {} | {} | {} | {} {} | {:.3} | {:.3}–{:.3} | {:.3} | {:.3} | {:.3} | {:.3e} | {} | {} | {} |",
        r.config,
        r.system,
        r.model,
        r.n_parameters,
        r.walkers,
        r.backend,
        r.precision,
        r.step_median * 1e3,
        r.step_min * 1e3,
        r.step_max * 1e3,
        r.sampling_median * 1e3,
        r.local_energy_median * 1e3,
        r.gradient_median * 1e3,
        r.moves_per_second,
        opt(r.peak_rss_mib, 0),
        opt(r.full_run_seconds, 1),
        r.energy
            .map(|(e, s)| format!("{e:.4} ± {s:.4}"))
            .unwrap_or_else(|| "–".into()),
    )
}
