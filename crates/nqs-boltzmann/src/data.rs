//! Data sets of visible configurations: text files with one sample per line, values
//! separated by whitespace or commas, `#` comment lines. Binary data may be written as 0/1
//! or ±1 (one convention per file; ±1 is mapped to x = (s + 1)/2).

use std::fmt::Write as _;
use std::path::Path;

use crate::BoltzmannError;

/// How binary values were written in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// 0 and 1.
    ZeroOne,
    /// −1 and +1.
    PlusMinusOne,
    /// Real numbers (Gaussian visible units).
    Real,
}

/// Samples as rows of f64 (binary: 0/1 after mapping).
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Row-major values, `[rows, columns]`.
    pub values: Vec<f64>,
    /// Number of samples.
    pub rows: usize,
    /// Visible units per sample.
    pub columns: usize,
    /// The file's convention.
    pub encoding: Encoding,
}

impl Dataset {
    /// Sample `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.columns..(i + 1) * self.columns]
    }

    /// The samples at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let mut values = Vec::with_capacity(indices.len() * self.columns);
        for &i in indices {
            values.extend_from_slice(self.row(i));
        }
        Dataset {
            values,
            rows: indices.len(),
            columns: self.columns,
            encoding: self.encoding,
        }
    }

    /// Read `path`; `binary` data must be all 0/1 or all ±1.
    pub fn read(path: &Path, binary: bool) -> Result<Dataset, BoltzmannError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| BoltzmannError::data(path, format!("cannot read: {e}")))?;
        let mut values = Vec::new();
        let (mut rows, mut columns) = (0, None);
        let (mut seen_zero, mut seen_minus) = (None, None);
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|f| !f.is_empty())
                .collect();
            match columns {
                None => columns = Some(fields.len()),
                Some(c) if c != fields.len() => {
                    return Err(BoltzmannError::data(
                        path,
                        format!(
                            "line {}: {} values, but the first sample has {c}",
                            number + 1,
                            fields.len()
                        ),
                    ));
                }
                _ => {}
            }
            for f in fields {
                let v: f64 = f.parse().map_err(|_| {
                    BoltzmannError::data(
                        path,
                        format!("line {}: '{f}' is not a number", number + 1),
                    )
                })?;
                if !v.is_finite() {
                    return Err(BoltzmannError::data(
                        path,
                        format!("line {}: '{f}' is not finite", number + 1),
                    ));
                }
                if binary {
                    match v {
                        0.0 => seen_zero = seen_zero.or(Some(number + 1)),
                        -1.0 => seen_minus = seen_minus.or(Some(number + 1)),
                        1.0 => {}
                        _ => {
                            return Err(BoltzmannError::data(
                                path,
                                format!(
                                    "line {}: '{f}' is not a binary value (allowed: 0/1 or -1/+1; Gaussian visible units take real data)",
                                    number + 1
                                ),
                            ));
                        }
                    }
                }
                values.push(v);
            }
            rows += 1;
        }
        let Some(columns) = columns.filter(|&c| c > 0 && rows > 0) else {
            return Err(BoltzmannError::data(
                path,
                "no samples (every line empty or a # comment)",
            ));
        };
        let encoding = match (binary, seen_zero, seen_minus) {
            (false, _, _) => Encoding::Real,
            (true, Some(z), Some(m)) => {
                return Err(BoltzmannError::data(
                    path,
                    format!("mixes 0/1 (line {z}) and -1/+1 (line {m}) values: use one convention"),
                ));
            }
            (true, None, Some(_)) => {
                values.iter_mut().for_each(|v| *v = (*v + 1.0) / 2.0);
                Encoding::PlusMinusOne
            }
            (true, _, None) => Encoding::ZeroOne,
        };
        Ok(Dataset {
            values,
            rows,
            columns,
            encoding,
        })
    }
}

/// 0/1 rows as text: `#` header lines, then one sample per line, space-separated.
pub fn format_binary_rows(header: &[String], rows: &[Vec<u8>]) -> String {
    let mut out = String::new();
    for line in header {
        let _ = writeln!(out, "# {line}");
    }
    for row in rows {
        let line: Vec<&str> = row.iter().map(|&v| if v > 0 { "1" } else { "0" }).collect();
        let _ = writeln!(out, "{}", line.join(" "));
    }
    out
}
