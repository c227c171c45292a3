//! Spin-isospin states of A nucleons in the 4^A product basis, and the pair operators the
//! Hamiltonian needs, applied exactly.
//!
//! One nucleon has the states 0 = p↑, 1 = p↓, 2 = n↑, 3 = n↓ (index 2t + s, t = 0 for a
//! proton, s = 0 for spin up); basis state b holds nucleon k's state in base-4 digit k.
//! σ_i·σ_j is applied as Σ_a σ^a_i σ^a_j with the Pauli matrices
//! (σ^x flips, σ^y flips with ±i, σ^z is ±1): the products of two σ^y factors are real, so
//! real amplitudes stay real.

/// Number of single-nucleon spin-isospin states.
const STATES: usize = 4;

/// A spin-isospin state of A nucleons, amplitudes over the 4^A product basis.
#[derive(Debug, Clone, PartialEq)]
pub struct SpinIsospinState {
    /// Number of nucleons.
    pub nucleons: usize,
    /// Amplitude of each basis state.
    pub amplitudes: Vec<f64>,
}

fn digit(b: usize, k: usize) -> usize {
    (b / STATES.pow(k as u32)) % STATES
}

fn with_digit(b: usize, k: usize, state: usize) -> usize {
    let place = STATES.pow(k as u32);
    b - digit(b, k) * place + state * place
}

/// All permutations of 0..n with their signs.
fn permutations(n: usize) -> Vec<(Vec<usize>, f64)> {
    if n == 0 {
        return vec![(Vec::new(), 1.0)];
    }
    let mut out = Vec::new();
    for (rest, sign) in permutations(n - 1) {
        // Insert n − 1 at every position; moving it left past m elements costs (−1)^m.
        for pos in 0..=rest.len() {
            let mut p = rest.clone();
            p.insert(pos, n - 1);
            let parity = if (rest.len() - pos) % 2 == 0 {
                1.0
            } else {
                -1.0
            };
            out.push((p, sign * parity));
        }
    }
    out
}

impl SpinIsospinState {
    /// The fully antisymmetric state of nucleons occupying the single-nucleon states
    /// `occupied` (a determinant: (1/√A!) Σ_P sgn(P) Π_k |o_{P(k)}⟩_k).
    pub fn antisymmetric(occupied: &[usize]) -> Self {
        let a = occupied.len();
        let mut amplitudes = vec![0.0; STATES.pow(a as u32)];
        let norm = (1..=a).map(|k| k as f64).product::<f64>().sqrt().recip();
        for (perm, sign) in permutations(a) {
            let b = (0..a)
                .map(|k| occupied[perm[k]] * STATES.pow(k as u32))
                .sum::<usize>();
            amplitudes[b] += sign * norm;
        }
        Self {
            nucleons: a,
            amplitudes,
        }
    }

    /// ⟨χ|χ⟩.
    pub fn norm2(&self) -> f64 {
        self.amplitudes.iter().map(|c| c * c).sum()
    }

    /// ⟨χ|φ⟩.
    pub fn dot(&self, other: &Self) -> f64 {
        self.amplitudes
            .iter()
            .zip(&other.amplitudes)
            .map(|(a, b)| a * b)
            .sum()
    }

    /// σ_i·σ_j |χ⟩ = Σ_{a = x, y, z} σ^a_i σ^a_j |χ⟩.
    pub fn sigma_dot_sigma(&self, i: usize, j: usize) -> Self {
        let mut out = vec![0.0; self.amplitudes.len()];
        for (b, &c) in self.amplitudes.iter().enumerate() {
            if c == 0.0 {
                continue;
            }
            let (si, sj) = (digit(b, i), digit(b, j));
            let (up_i, up_j) = (si % 2 == 0, sj % 2 == 0);
            let flipped = with_digit(with_digit(b, i, si ^ 1), j, sj ^ 1);
            // σ^x σ^x: both spins flip, amplitude 1.
            out[flipped] += c;
            // σ^y σ^y: σ^y|↑⟩ = i|↓⟩, σ^y|↓⟩ = −i|↑⟩, so the product is −1 for equal
            // spins and +1 for opposite ones.
            out[flipped] += if up_i == up_j { -c } else { c };
            // σ^z σ^z.
            out[b] += if up_i == up_j { c } else { -c };
        }
        Self {
            nucleons: self.nucleons,
            amplitudes: out,
        }
    }

    /// ⟨χ|σ_i·σ_j|χ⟩ / ⟨χ|χ⟩.
    pub fn sigma_dot_sigma_expectation(&self, i: usize, j: usize) -> f64 {
        self.dot(&self.sigma_dot_sigma(i, j)) / self.norm2()
    }

    /// Probability that nucleons i and j are both protons, ⟨χ|P^p_i P^p_j|χ⟩ / ⟨χ|χ⟩.
    pub fn proton_pair_probability(&self, i: usize, j: usize) -> f64 {
        let both: f64 = self
            .amplitudes
            .iter()
            .enumerate()
            .filter(|&(b, _)| digit(b, i) < 2 && digit(b, j) < 2)
            .map(|(_, c)| c * c)
            .sum();
        both / self.norm2()
    }

    /// Number of protons (the eigenvalue of Σ_k P^p_k; the state must have a definite charge).
    pub fn protons(&self) -> f64 {
        (0..self.nucleons)
            .map(|k| {
                self.amplitudes
                    .iter()
                    .enumerate()
                    .filter(|&(b, _)| digit(b, k) < 2)
                    .map(|(_, c)| c * c)
                    .sum::<f64>()
            })
            .sum::<f64>()
            / self.norm2()
    }

    /// The state with nucleons i and j exchanged (their spin-isospin labels swapped).
    pub fn exchanged(&self, i: usize, j: usize) -> Self {
        let mut out = vec![0.0; self.amplitudes.len()];
        for (b, &c) in self.amplitudes.iter().enumerate() {
            let swapped = with_digit(with_digit(b, i, digit(b, j)), j, digit(b, i));
            out[swapped] += c;
        }
        Self {
            nucleons: self.nucleons,
            amplitudes: out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn determinants_are_normalised_and_antisymmetric() {
        for occupied in [&[0, 2][..], &[0, 2, 3], &[0, 1, 2, 3]] {
            let chi = SpinIsospinState::antisymmetric(occupied);
            assert!((chi.norm2() - 1.0).abs() < 1e-12);
            let swapped = chi.exchanged(0, 1);
            assert!((swapped.dot(&chi) + 1.0).abs() < 1e-12, "{occupied:?}");
        }
    }

    /// Kronecker product of square row-major matrices.
    fn kron(a: &[f64], na: usize, b: &[f64], nb: usize) -> Vec<f64> {
        let n = na * nb;
        let mut out = vec![0.0; n * n];
        for (i, j) in (0..na).flat_map(|i| (0..na).map(move |j| (i, j))) {
            for (k, l) in (0..nb).flat_map(|k| (0..nb).map(move |l| (k, l))) {
                out[(i * nb + k) * n + j * nb + l] = a[i * na + j] * b[k * nb + l];
            }
        }
        out
    }

    #[test]
    fn sigma_dot_sigma_equals_the_explicit_matrix() {
        // One nucleon's 4 states are (isospin ⊗ spin) with spin the fast index, so a spin
        // operator is 1₂ ⊗ σ; nucleon k is digit k (k = 0 fastest), so the A-nucleon operator
        // is O_{A−1} ⊗ … ⊗ O_0. σ^y ⊗ σ^y = −(iσ^y) ⊗ (iσ^y), with iσ^y = [[0, 1], [−1, 0]] real.
        let id2 = [1.0, 0.0, 0.0, 1.0];
        let sx = [0.0, 1.0, 1.0, 0.0];
        let isy = [0.0, 1.0, -1.0, 0.0];
        let sz = [1.0, 0.0, 0.0, -1.0];
        let id4 = kron(&id2, 2, &id2, 2);
        let a = 3;
        let (i, j) = (0, 2);
        let mut matrix = vec![0.0; 64 * 64];
        for (single, sign) in [(sx, 1.0), (isy, -1.0), (sz, 1.0)] {
            let op = kron(&id2, 2, &single, 2);
            let mut full = vec![1.0];
            let mut dim = 1;
            for k in (0..a).rev() {
                let factor = if k == i || k == j { &op } else { &id4 };
                full = kron(&full, dim, factor, 4);
                dim *= 4;
            }
            for (m, f) in matrix.iter_mut().zip(&full) {
                *m += sign * f;
            }
        }
        // A state of no particular symmetry.
        let chi = SpinIsospinState {
            nucleons: a,
            amplitudes: (0..64)
                .map(|b| ((b * 37 % 11) as f64 - 5.0) / 7.0)
                .collect(),
        };
        let applied = chi.sigma_dot_sigma(i, j);
        assert!(applied.norm2() > 1.0, "a non-trivial image");
        for row in 0..64 {
            let expected: f64 = (0..64)
                .map(|c| matrix[row * 64 + c] * chi.amplitudes[c])
                .sum();
            assert!(
                (applied.amplitudes[row] - expected).abs() < 1e-12,
                "row {row}"
            );
        }
    }

    #[test]
    fn sigma_dot_sigma_is_twice_the_spin_exchange_minus_one() {
        // Independent check of the Pauli-matrix action: σ_i·σ_j = 2 P^σ_ij − 1 on any state.
        let chi = SpinIsospinState::antisymmetric(&[0, 1, 2]);
        let mut product = chi.clone();
        product.amplitudes = (0..chi.amplitudes.len())
            .map(|b| chi.amplitudes[b] * (1.0 + 0.1 * b as f64))
            .collect();
        let applied = product.sigma_dot_sigma(0, 2);
        for (b, &value) in applied.amplitudes.iter().enumerate() {
            let (si, sj) = (digit(b, 0), digit(b, 2));
            // Spin exchange swaps the spin bits, keeps the isospins.
            let source = with_digit(
                with_digit(b, 0, (si & 2) | (sj & 1)),
                2,
                (sj & 2) | (si & 1),
            );
            let expected = 2.0 * product.amplitudes[source] - product.amplitudes[b];
            assert!((value - expected).abs() < 1e-12, "basis state {b}");
        }
    }
}
