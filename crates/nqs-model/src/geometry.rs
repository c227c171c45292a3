//! Particle layout shared by all factors: particle count, dimension, spin split and, for a
//! periodic system, the side of its cell.

use burn::tensor::Tensor;

use crate::ModelError;
use crate::plane_waves::plane_wave_shell_sizes;

/// Particles `0..n_up` are spin up, `n_up..n` spin down. Coordinates are particle-major.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geometry {
    /// Number of particles N.
    pub n_particles: usize,
    /// Spatial dimension d (1, 2 or 3).
    pub dimensions: usize,
    /// Number of spin-up particles (the first `n_up`).
    pub n_up: usize,
    /// `Some(Z)` when the particles are A = N nucleons with Z protons, whose spins and
    /// isospins are not tied to the particle index (they live in a spin-isospin factor);
    /// `n_up` is then N (one spatial species). `None` for electrons.
    pub protons: Option<usize>,
    /// `Some(L)` in a periodic cube (square in 2D) of side L: pair separations are reduced
    /// to the minimum image and pair functions are cut off smoothly at L/2. `None` in open
    /// space.
    pub cell: Option<f64>,
}

impl Geometry {
    /// A spin-balanced system (N even: N/2 up, N/2 down; N odd: one more up).
    pub fn balanced(n_particles: usize, dimensions: usize) -> Self {
        Self {
            n_particles,
            dimensions,
            n_up: n_particles.div_ceil(2),
            protons: None,
            cell: None,
        }
    }

    /// A spin-balanced system in a periodic cell of side `length`.
    pub fn periodic(n_particles: usize, dimensions: usize, length: f64) -> Self {
        Self {
            cell: Some(length),
            ..Self::balanced(n_particles, dimensions)
        }
    }

    /// A nucleons with Z protons in 3D.
    pub fn nucleus(nucleons: usize, protons: usize) -> Self {
        Self {
            n_particles: nucleons,
            dimensions: 3,
            n_up: nucleons,
            protons: Some(protons),
            cell: None,
        }
    }

    /// Number of coordinates N·d.
    pub fn n_coords(&self) -> usize {
        self.n_particles * self.dimensions
    }

    /// Number of spin-down particles.
    pub fn n_down(&self) -> usize {
        self.n_particles - self.n_up
    }

    /// Spin of particle `i`: true for up.
    pub fn is_up(&self, i: usize) -> bool {
        i < self.n_up
    }

    /// Separations reduced to the minimum image, each component in [−L/2, L/2], in a
    /// periodic cell; unchanged in open space.
    pub fn minimum_image<const D: usize>(&self, diff: Tensor<D>) -> Tensor<D> {
        match self.cell {
            Some(l) => diff.clone() - (diff / l).round() * l,
            None => diff,
        }
    }

    /// Requires `n_up == n_down` and both equal to a closed-shell size in `dimensions`:
    /// oscillator shells in open space, plane-wave shells (|k|² = const) in a periodic cell.
    pub fn check_closed_shell(&self) -> Result<(), ModelError> {
        let sizes = match self.cell {
            Some(_) => plane_wave_shell_sizes(self.dimensions, 8),
            None => closed_shell_sizes(self.dimensions, 8),
        };
        let ok = self.n_up == self.n_down() && sizes.contains(&self.n_up);
        if ok {
            Ok(())
        } else {
            let allowed = sizes
                .iter()
                .map(|s| (2 * s).to_string())
                .collect::<Vec<_>>()
                .join(", ");
            Err(ModelError::NotClosedShell {
                particles: self.n_particles,
                dimensions: self.dimensions,
                orbitals: if self.cell.is_some() {
                    "plane-wave"
                } else {
                    "oscillator"
                },
                allowed,
            })
        }
    }
}

/// Oscillator quantum numbers (n_1, …, n_d) of the single-particle states, shell by shell
/// (shell n holds all tuples with Σ n_a = n), `count` of them.
///
/// 2D: (0,0); (1,0),(0,1); (2,0),(1,1),(0,2); …
pub fn shell_quantum_numbers(dimensions: usize, count: usize) -> Vec<Vec<usize>> {
    let mut states = Vec::with_capacity(count);
    let mut shell = 0;
    while states.len() < count {
        let mut shell_states = Vec::new();
        tuples_with_sum(dimensions, shell, &mut Vec::new(), &mut shell_states);
        states.extend(shell_states);
        shell += 1;
    }
    states.truncate(count);
    states
}

fn tuples_with_sum(d: usize, sum: usize, prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    if prefix.len() + 1 == d {
        let mut t = prefix.clone();
        t.push(sum);
        out.push(t);
        return;
    }
    for first in (0..=sum).rev() {
        prefix.push(first);
        tuples_with_sum(d, sum - first, prefix, out);
        prefix.pop();
    }
}

/// Number of states per spin that fill the first `1..=shells` shells in `dimensions`:
/// 1D 1,2,3,…; 2D 1,3,6,10,…; 3D 1,4,10,20,…
pub fn closed_shell_sizes(dimensions: usize, shells: usize) -> Vec<usize> {
    (1..=shells)
        .map(|s| binomial(s + dimensions - 1, dimensions))
        .collect()
}

fn binomial(n: usize, k: usize) -> usize {
    (0..k).fold(1, |acc, i| acc * (n - i) / (i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shells_match_degeneracies() {
        assert_eq!(closed_shell_sizes(2, 4), vec![1, 3, 6, 10]);
        assert_eq!(closed_shell_sizes(3, 4), vec![1, 4, 10, 20]);
        assert_eq!(closed_shell_sizes(1, 3), vec![1, 2, 3]);
        let s = shell_quantum_numbers(2, 6);
        assert_eq!(s[1], vec![1, 0]);
        assert_eq!(s[5], vec![0, 2]);
        let energy: usize = shell_quantum_numbers(3, 10).iter().flatten().sum();
        // one state in shell 0, three in shell 1, six in shell 2: 0 + 3·1 + 6·2
        assert_eq!(energy, 15);
    }

    #[test]
    fn closed_shell_check_names_the_allowed_counts() {
        assert!(Geometry::balanced(6, 2).check_closed_shell().is_ok());
        assert!(Geometry::balanced(8, 3).check_closed_shell().is_ok());
        let err = Geometry::balanced(4, 2).check_closed_shell().unwrap_err();
        assert!(err.to_string().contains("2, 6, 12, 20"), "{err}");
    }
}
