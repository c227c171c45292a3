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
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .peekable();
    let first: Vec<String> = lines
        .peek()
        .ok_or_else(|| EmulateError::Data(format!("{} is empty", file.display())))?
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    // A first line of numbers is data (a headerless c, E, σ file); otherwise it names the
    // columns.
    let header: Vec<String> = if first.iter().all(|f| f.parse::<f64>().is_ok()) {
        vec!["c".into(), "energy".into(), "energy_error".into()]
    } else {
        lines.next();
        first
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("nqs-emulate-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn sweep_tables_and_plain_csv_files_are_read() {
        let sweep = write(
            "sweep.csv",
            "system.omega,energy,energy_error,kinetic\n1.0,3.0,0.001,1\n0.5,1.66,0.002,1\n",
        );
        let (key, samples) = read_samples(&sweep).unwrap();
        assert_eq!(key, "system.omega");
        assert_eq!(samples.len(), 2);
        assert_eq!(
            (samples[0].c, samples[0].energy, samples[0].error),
            (0.5, 1.66, 0.002)
        );
        // Without a header every line is data.
        let plain = write("plain.csv", "0.1,0.44,0.01\n0.2,0.7,0.01\n0.3,0.9,0.01\n");
        let (key, samples) = read_samples(&plain).unwrap();
        assert_eq!((key.as_str(), samples.len()), ("c", 3));
        let bad = write("bad.csv", "c,E,s\n0.1,0.44,0\n");
        let err = read_samples(&bad).unwrap_err().to_string();
        assert!(err.contains("bad.csv") && err.contains("positive"), "{err}");
        for p in [sweep, plain, bad] {
            std::fs::remove_file(p).unwrap();
        }
    }
}
