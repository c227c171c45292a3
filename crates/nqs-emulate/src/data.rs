//! Reading energies against a parameter: a sweep directory's `sweep.csv` (written by
//! `nqs-train sweep`) or any CSV whose rows are c, E, σ.

use std::path::Path;

use crate::EmulateError;
use crate::emulator::Sample;

/// The swept key's name and the samples, ascending in c.
pub fn read_samples(path: &Path) -> Result<(String, Vec<Sample>), EmulateError> {
    let file = if path.is_dir() {
        path.join("sweep.csv")
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| EmulateError::Data(format!("cannot read {}: {e}", file.display())))?;
    let mut lines = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    let header: Vec<String> = lines
        .next()
        .ok_or_else(|| EmulateError::Data(format!("{} is empty", file.display())))?
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    // A sweep table names its columns; a plain CSV is c, E, σ in that order.
    let (ic, ie, is) = match (column("energy"), column("energy_error")) {
        (Some(e), Some(s)) => (0, e, s),
        _ => (0, 1, 2),
    };
    let mut samples = Vec::new();
    for (n, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let number = |i: usize, what: &str| -> Result<f64, EmulateError> {
            fields
                .get(i)
                .and_then(|s| s.parse::<f64>().ok())
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    EmulateError::Data(format!(
                        "{}: data row {}: no number for {what} in column {}",
                        file.display(),
                        n + 1,
                        i + 1
                    ))
                })
        };
        let sample = Sample {
            c: number(ic, &header[ic])?,
            energy: number(ie, "the energy")?,
            error: number(is, "the energy's error")?,
        };
        if sample.error <= 0.0 {
            return Err(EmulateError::Data(format!(
                "{}: data row {}: the error bar must be positive (got {})",
                file.display(),
                n + 1,
                sample.error
            )));
        }
        samples.push(sample);
    }
    samples.sort_by(|a, b| a.c.total_cmp(&b.c));
    Ok((header[ic].clone(), samples))
}
