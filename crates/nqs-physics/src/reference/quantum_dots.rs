//! Published reference energies of quantum dots, shipped with the code (`data/quantum_dots.csv`,
//! copied from the project's reference collection with the sources of every value): Taut's exact
//! two-electron energies, fixed-node DMC (Høgberget 2013) and Slater–Jastrow VMC (Høgberget 2013).

use super::{Reference, split_csv};

/// One row of the quantum-dot table: the system it belongs to and the value.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    n_particles: usize,
    dimension: usize,
    omega: f64,
    reference: Reference,
}

const TABLE: &str = include_str!("../../data/quantum_dots.csv");

fn all() -> Vec<Row> {
    TABLE.lines().skip(1).filter_map(parse_line).collect()
}

fn matches(r: &Row, n_particles: usize, dimension: usize, omega: f64) -> bool {
    r.n_particles == n_particles && r.dimension == dimension && (r.omega - omega).abs() < 1e-6
}

/// The recommended reference for (N, d, ω): exact where known, else fixed-node DMC.
pub fn best(n_particles: usize, dimension: usize, omega: f64) -> Option<Reference> {
    all()
        .into_iter()
        .find(|r| matches(r, n_particles, dimension, omega))
        .map(|r| r.reference)
}

/// Høgberget's optimised Slater–Jastrow VMC for (N, d, ω), where published.
pub fn slater_jastrow_vmc(n_particles: usize, dimension: usize, omega: f64) -> Option<Reference> {
    all()
        .into_iter()
        .find(|r| {
            matches(r, n_particles, dimension, omega)
                && r.reference.method.starts_with("Slater-Jastrow VMC")
        })
        .map(|r| r.reference)
}

fn parse_line(line: &str) -> Option<Row> {
    let fields = split_csv(line);
    if fields.len() < 7 {
        return None;
    }
    Some(Row {
        n_particles: fields[0].parse().ok()?,
        dimension: fields[1].parse().ok()?,
        omega: fields[2].parse().ok()?,
        reference: Reference {
            energy: fields[3].parse().ok()?,
            uncertainty: fields[4].parse().unwrap_or(0.0),
            method: fields[5].clone(),
            source: fields[6].clone(),
        },
    })
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
