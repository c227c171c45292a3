//! `nqs-train emulate`: a parametric-matrix emulator of the energy across a swept parameter
//! (`nqs_emulate`), written as `emulator.json`, `prediction.csv`, `emulator.md` and a plot.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use nqs_emulate::{Emulator, EmulatorSettings, read_samples};
use serde::Serialize;

use crate::TrainError;
use crate::plots::{EmulatorCurves, emulator_plot};

/// What to emulate.
#[derive(Debug, Clone)]
pub struct EmulateRequest {
    /// A sweep directory (its `sweep.csv`) or a CSV of c, E, σ.
    pub from: PathBuf,
    /// The swept key, checked against the sweep's (e.g. `system.omega`).
    pub key: Option<String>,
    /// Matrix size; chosen by leave-one-out error when absent.
    pub size: Option<usize>,
    /// Prediction grid: start, end, points.
    pub predict: Option<(f64, f64, usize)>,
    /// Output directory.
    pub out: PathBuf,
    /// Seed of the fits' starts and the bootstrap.
    pub seed: u64,
}

/// `--predict a:b:n`.
pub fn parse_grid(text: &str) -> Result<(f64, f64, usize), TrainError> {
    let bad = || TrainError::InvalidValue {
        field: "--predict".into(),
        value: text.into(),
        allowed: "START:END:POINTS with START < END and POINTS ≥ 2, e.g. 0.05:1.5:200".into(),
    };
    let parts: Vec<&str> = text.split(':').collect();
    let [a, b, n] = parts.as_slice() else {
        return Err(bad());
    };
    let (a, b): (f64, f64) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
    let n: usize = n.parse().map_err(|_| bad())?;
    if !(a < b) || n < 2 || !a.is_finite() || !b.is_finite() {
        return Err(bad());
    }
    Ok((a, b, n))
}

#[derive(Serialize)]
struct EmulatorFile<'a> {
    key: &'a str,
    source: String,
    description: &'static str,
    #[serde(flatten)]
    emulator: &'a Emulator,
}

/// Fit, predict and write the files; returns the markdown summary.
pub fn run(request: &EmulateRequest) -> Result<String, TrainError> {
    let (key, samples) =
        read_samples(&request.from).map_err(|e| TrainError::Unsupported(e.to_string()))?;
    if let Some(wanted) = &request.key
        && request.from.is_dir()
        && wanted != &key
    {
        return Err(TrainError::InvalidValue {
            field: "--key".into(),
            value: wanted.clone(),
            allowed: format!("{key} (the key swept in {})", request.from.display()),
        });
    }
    let key = request.key.clone().unwrap_or(key);
    let settings = EmulatorSettings {
        size: request.size,
        seed: request.seed,
        ..EmulatorSettings::default()
    };
    let emulator =
        Emulator::fit(&samples, &settings).map_err(|e| TrainError::Unsupported(e.to_string()))?;
    let (lo, hi) = emulator.range();
    let (a, b, n) = request.predict.unwrap_or_else(|| {
        // The training range and a quarter beyond, not crossing zero from positive values.
        let pad = 0.25 * (hi - lo);
        let start = if lo > 0.0 {
            (lo - pad).max(0.0)
        } else {
            lo - pad
        };
        (start, hi + pad, 200)
    });
    let grid: Vec<f64> = (0..n)
        .map(|i| a + (b - a) * i as f64 / (n - 1) as f64)
        .collect();
    let predictions: Vec<_> = grid.iter().map(|&c| emulator.predict(c)).collect();

    let out = &request.out;
    std::fs::create_dir_all(out).map_err(|e| TrainError::io(out, e))?;
    let file = EmulatorFile {
        key: &key,
        source: request.from.display().to_string(),
        description: "E(c) = lowest eigenvalue of M0 + c M1 (matrices row-major, original units)",
        emulator: &emulator,
    };
    write(
        &out.join("emulator.json"),
        &serde_json::to_string_pretty(&file).expect("the emulator serialises"),
    )?;
    let mut csv =
        format!("{key},energy,uncertainty,bootstrap,jackknife,polynomial,inside_training_range\n");
    for p in &predictions {
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{}",
            p.c,
            p.energy,
            p.uncertainty,
            p.bootstrap,
            p.jackknife,
            p.polynomial,
            p.c >= lo && p.c <= hi
        );
    }
    write(&out.join("prediction.csv"), &csv)?;
    let md = summary(&key, &emulator);
    write(&out.join("emulator.md"), &md)?;
    let data: Vec<(f64, f64, f64)> = samples.iter().map(|s| (s.c, s.energy, s.error)).collect();
    let band: Vec<(f64, f64, f64)> = predictions
        .iter()
        .map(|p| (p.c, p.energy, p.uncertainty))
        .collect();
    let poly: Vec<(f64, f64)> = predictions.iter().map(|p| (p.c, p.polynomial)).collect();
    emulator_plot(
        &out.join("emulator"),
        &format!("PMM emulator (n = {}) of E against {key}", emulator.size()),
        &key,
        "energy",
        &EmulatorCurves {
            data: &data,
            emulator: &band,
            polynomial: &poly,
            polynomial_label: format!("polynomial, degree {}", emulator.polynomial.degree()),
            range: (lo, hi),
        },
    )?;
    Ok(md)
}

fn write(path: &Path, text: &str) -> Result<(), TrainError> {
    std::fs::write(path, text).map_err(|e| TrainError::io(path, e))
}

/// The data, each model's leave-one-out score, and the emulator at the data.
fn summary(key: &str, emulator: &Emulator) -> String {
    let mut md = format!(
        "PMM emulator of E({key}): n = {} (chosen {}), smallest gap to the first excited level {}\n\n",
        emulator.size(),
        if emulator.scores.iter().filter(|s| s.model == "pmm").count() > 1 {
            "as the smallest size within the error bars, else by leave-one-out error"
        } else {
            "by --size"
        },
        emulator
            .min_gap
            .map_or("– (n = 1)".to_string(), |g| format!("{g:.4}"))
    );
    md.push_str(
        "| model | size / degree | parameters | χ² | leave-one-out RMS |\n|---|---|---|---|---|\n",
    );
    for s in &emulator.scores {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.3e} | {:.3e} |",
            s.model, s.size, s.parameters, s.chi2, s.loo_rms
        );
    }
    let _ = writeln!(
        md,
        "\n| {key} | energy | emulator | uncertainty | polynomial |\n|---|---|---|---|---|"
    );
    for s in &emulator.samples {
        let p = emulator.predict(s.c);
        let _ = writeln!(
            md,
            "| {} | {:.6} ± {:.6} | {:.6} | {:.6} | {:.6} |",
            s.c, s.energy, s.error, p.energy, p.uncertainty, p.polynomial
        );
    }
    md
}
