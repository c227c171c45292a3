//! Reference energies shipped with the code, each with its method and source: quantum dots
//! (`data/quantum_dots.csv`), light nuclei (`data/nuclear_ecg.csv`) and the electron gas
//! (`data/electron_gas.csv`).

pub mod electron_gas;
pub mod nuclei;
pub mod quantum_dots;

/// One reference value.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// Energy in the system's units.
    pub energy: f64,
    /// Its uncertainty (0 when exact or not stated).
    pub uncertainty: f64,
    /// How it was obtained.
    pub method: String,
    /// Where it comes from.
    pub source: String,
}

impl Reference {
    /// A short legend label, e.g. "DMC 20.15932" or "exact 3".
    pub fn label(&self) -> String {
        let method = self
            .method
            .split(['(', ';'])
            .next()
            .unwrap_or("reference")
            .trim();
        format!("{method} {}", self.energy)
    }
}

/// Split one CSV line with double-quoted fields.
pub(crate) fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                current.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    fields.push(current);
    fields
}
