//! Plane-wave orbitals of a periodic cell of side L: k = 2πm/L with integer vectors m,
//! filled shell by shell in |m|² (3D per spin 1, 7, 19, 27, 33, 57, …; 2D 1, 5, 9, 13,
//! 21, …). The orbitals are real: the constant for m = 0, and cos(k·x), sin(k·x) for one
//! vector m of each pair ±m (the first nonzero component positive). Every one is an
//! eigenfunction of the Laplacian, ∇²φ = −k²φ, and for a closed shell their determinant is
//! a constant times the determinant of the complex waves e^{ik·x}.

/// One real plane-wave orbital: cos(k·x − shift), shift 0 (cosine) or π/2 (sine).
#[derive(Debug, Clone, PartialEq)]
pub struct PlaneWave {
    /// Integer vector m, k = 2πm/L.
    pub m: Vec<i64>,
    /// Whether the orbital is sin(k·x) rather than cos(k·x).
    pub sine: bool,
}

impl PlaneWave {
    /// |m|².
    pub fn m2(&self) -> i64 {
        self.m.iter().map(|v| v * v).sum()
    }
}

/// The integer vectors with |m|² = s for every s with at least one, in increasing s,
/// keeping one of each pair ±m; `count` shells (at most those with |m|² ≤ 16).
fn half_shells(dimensions: usize, count: usize) -> Vec<Vec<Vec<i64>>> {
    const M: i64 = 4; // every vector with |m|² ≤ 16 has |m_a| ≤ 4
    let all = integer_vectors(dimensions, M);
    let canonical = |m: &Vec<i64>| m.iter().find(|&&v| v != 0).is_none_or(|&v| v > 0);
    let mut shells: Vec<Vec<Vec<i64>>> = Vec::new();
    for s in 0..=M * M {
        let mut shell: Vec<Vec<i64>> = all
            .iter()
            .filter(|m| m.iter().map(|v| v * v).sum::<i64>() == s && canonical(m))
            .cloned()
            .collect();
        if shell.is_empty() {
            continue;
        }
        shell.sort_by(|a, b| b.cmp(a));
        shells.push(shell);
        if shells.len() == count {
            break;
        }
    }
    shells
}

/// Every integer vector m in `dimensions` with all |m_a| ≤ `reach`.
pub fn integer_vectors(dimensions: usize, reach: i64) -> Vec<Vec<i64>> {
    let mut all: Vec<Vec<i64>> = vec![vec![]];
    for _ in 0..dimensions {
        all = all
            .into_iter()
            .flat_map(|p| {
                (-reach..=reach).map(move |v| {
                    let mut q = p.clone();
                    q.push(v);
                    q
                })
            })
            .collect();
    }
    all
}

/// Orbitals per spin that fill the first `1..=shells` plane-wave shells: 3D 1, 7, 19, 27,
/// 33, 57, 81, 93; 2D 1, 5, 9, 13, 21, 25, 29, 37.
pub fn plane_wave_shell_sizes(dimensions: usize, shells: usize) -> Vec<usize> {
    half_shells(dimensions, shells)
        .iter()
        .scan(0, |total, shell| {
            // m = 0 is one orbital; every other m gives a cosine and a sine.
            *total += if shell[0].iter().all(|&v| v == 0) {
                1
            } else {
                2 * shell.len()
            };
            Some(*total)
        })
        .collect()
}

/// The first `count` orbitals, shell by shell (a closed-shell count gives whole shells).
pub fn plane_wave_orbitals(dimensions: usize, count: usize) -> Vec<PlaneWave> {
    let mut orbitals = Vec::with_capacity(count);
    for shell in half_shells(dimensions, 8) {
        for m in shell {
            let zero = m.iter().all(|&v| v == 0);
            orbitals.push(PlaneWave {
                m: m.clone(),
                sine: false,
            });
            if !zero {
                orbitals.push(PlaneWave { m, sine: true });
            }
        }
        if orbitals.len() >= count {
            break;
        }
    }
    orbitals.truncate(count);
    orbitals
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_sizes_match_the_closed_shells_of_the_electron_gas() {
        assert_eq!(
            plane_wave_shell_sizes(3, 8),
            vec![1, 7, 19, 27, 33, 57, 81, 93]
        );
        assert_eq!(
            plane_wave_shell_sizes(2, 8),
            vec![1, 5, 9, 13, 21, 25, 29, 37]
        );
        let orbitals = plane_wave_orbitals(3, 7);
        assert_eq!(orbitals[0].m2(), 0);
        assert!(orbitals[1..].iter().all(|o| o.m2() == 1));
        assert_eq!(orbitals.iter().filter(|o| o.sine).count(), 3);
    }
}
