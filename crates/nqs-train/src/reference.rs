//! Published reference energies of quantum dots, shipped with the code (`data/reference_energies.csv`,
//! copied from the project's reference collection with the sources of every value): Taut's exact
//! two-electron energies, fixed-node DMC (Høgberget 2013) and Slater–Jastrow VMC (Høgberget 2013).

/// One published value.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// Number of particles.
    pub n_particles: usize,
    /// Spatial dimension.
    pub dimension: usize,
    /// Trap frequency.
    pub omega: f64,
    /// Energy (Hartree).
    pub energy: f64,
    /// Its uncertainty (0 when exact or not stated).
    pub uncertainty: f64,
    /// How it was obtained.
    pub method: String,
    /// Where it was published.
    pub source: String,
}

const TABLE: &str = include_str!("../data/reference_energies.csv");

/// Every reference value, in file order (recommended values first).
pub fn all() -> Vec<Reference> {
    TABLE.lines().skip(1).filter_map(parse_line).collect()
}

/// The recommended reference for (N, d, ω): exact where known, else fixed-node DMC.
pub fn best(n_particles: usize, dimension: usize, omega: f64) -> Option<Reference> {
    all().into_iter().find(|r| {
        r.n_particles == n_particles && r.dimension == dimension && (r.omega - omega).abs() < 1e-6
    })
}

/// Høgberget's optimised Slater–Jastrow VMC for (N, d, ω), where published.
pub fn slater_jastrow_vmc(n_particles: usize, dimension: usize, omega: f64) -> Option<Reference> {
    all().into_iter().find(|r| {
        r.n_particles == n_particles
            && r.dimension == dimension
            && (r.omega - omega).abs() < 1e-6
            && r.method.starts_with("Slater-Jastrow VMC")
    })
}

/// A short legend label, e.g. "DMC 20.15932" or "exact 3".
pub fn label(r: &Reference) -> String {
    let method = r
        .method
        .split(['(', ';'])
        .next()
        .unwrap_or("reference")
        .trim();
    format!("{method} {}", r.energy)
}

fn parse_line(line: &str) -> Option<Reference> {
    let fields = split_csv(line);
    if fields.len() < 7 {
        return None;
    }
    Some(Reference {
        n_particles: fields[0].parse().ok()?,
        dimension: fields[1].parse().ok()?,
        omega: fields[2].parse().ok()?,
        energy: fields[3].parse().ok()?,
        uncertainty: fields[4].parse().unwrap_or(0.0),
        method: fields[5].clone(),
        source: fields[6].clone(),
    })
}

/// Split one CSV line with double-quoted fields.
fn split_csv(line: &str) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_the_benchmark_values() {
        assert_eq!(best(2, 2, 1.0).unwrap().energy, 3.0);
        assert_eq!(best(6, 2, 1.0).unwrap().energy, 20.15932);
        assert_eq!(best(8, 3, 1.0).unwrap().energy, 32.668);
        assert_eq!(slater_jastrow_vmc(6, 2, 1.0).unwrap().energy, 20.1902);
        assert!(best(6, 2, 1.0).unwrap().source.contains("Hogberget"));
        assert!(best(7, 2, 1.0).is_none());
    }
}
