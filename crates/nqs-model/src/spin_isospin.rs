//! Spin-isospin states of A nucleons in the 4^A product basis, and the pair operators the
//! Hamiltonian needs, applied exactly.
//!
//! One nucleon has the states 0 = p↑, 1 = p↓, 2 = n↑, 3 = n↓ (index 2t + s, t = 0 for a
//! proton, s = 0 for spin up); basis state b holds nucleon k's state in base-4 digit k.
//! σ_i·σ_j is applied as Σ_a σ^a_i σ^a_j with the Pauli matrices
//! (σ^x flips, σ^y flips with ±i, σ^z is ±1): the products of two σ^y factors are real, so
//! real amplitudes stay real.

/// Number of single-nucleon spin-isospin states.
pub const STATES: usize = 4;

/// Which label of a nucleon a Pauli operator acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// σ: bit 0 of the single-nucleon state (0 = ↑).
    Spin,
    /// τ: bit 1 (0 = proton).
    Isospin,
}

impl Label {
    fn bit(self) -> usize {
        match self {
            Label::Spin => 1,
            Label::Isospin => 2,
        }
    }
}

/// The occupied single-nucleon states (0 = p↑, 1 = p↓, 2 = n↑, 3 = n↓) of the fully
/// antisymmetric spin-isospin state of A ≤ 4 nucleons with Z protons and the largest M_S:
/// protons fill p↑ then p↓, neutrons n↑ then n↓ (²H: p↑ n↑, S = 1, T = 0).
pub fn occupied(nucleons: usize, protons: usize) -> Option<Vec<usize>> {
    let neutrons = nucleons.checked_sub(protons)?;
    (protons <= 2 && neutrons <= 2).then(|| (0..protons).chain(2..2 + neutrons).collect())
}

/// A spin-isospin state of A nucleons, amplitudes over the 4^A product basis.
#[derive(Debug, Clone, PartialEq)]
pub struct SpinIsospinState {
    /// Number of nucleons.
    pub nucleons: usize,
    /// Amplitude of each basis state.
    pub amplitudes: Vec<f64>,
}

/// Nucleon k's single-nucleon state in basis state b.
pub fn digit(b: usize, k: usize) -> usize {
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
        self.pauli_dot(i, j, Label::Spin)
    }

    /// τ_i·τ_j |χ⟩, the same Pauli algebra on the isospin labels.
    pub fn tau_dot_tau(&self, i: usize, j: usize) -> Self {
        self.pauli_dot(i, j, Label::Isospin)
    }

    /// Σ_{a = x, y, z} P^a_i P^a_j |χ⟩ with P the Pauli matrices acting on `label`.
    pub fn pauli_dot(&self, i: usize, j: usize, label: Label) -> Self {
        let bit = label.bit();
        let mut out = vec![0.0; self.amplitudes.len()];
        for (b, &c) in self.amplitudes.iter().enumerate() {
            if c == 0.0 {
                continue;
            }
            let (si, sj) = (digit(b, i), digit(b, j));
            let (up_i, up_j) = (si & bit == 0, sj & bit == 0);
            let flipped = with_digit(with_digit(b, i, si ^ bit), j, sj ^ bit);
            // P^x P^x: both labels flip, amplitude 1.
            out[flipped] += c;
            // P^y P^y: P^y|↑⟩ = i|↓⟩, P^y|↓⟩ = −i|↑⟩, so the product is −1 for equal
            // labels and +1 for opposite ones.
            out[flipped] += if up_i == up_j { -c } else { c };
            // P^z P^z.
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

    /// P^p_i P^p_j |χ⟩: the part of χ in which nucleons i and j are both protons.
    pub fn proton_pair(&self, i: usize, j: usize) -> Self {
        let amplitudes = self
            .amplitudes
            .iter()
            .enumerate()
            .map(|(b, &c)| {
                if digit(b, i) < 2 && digit(b, j) < 2 {
                    c
                } else {
                    0.0
                }
            })
            .collect();
        Self {
            nucleons: self.nucleons,
            amplitudes,
        }
    }

    /// Probability that nucleons i and j are both protons, ⟨χ|P^p_i P^p_j|χ⟩ / ⟨χ|χ⟩.
    pub fn proton_pair_probability(&self, i: usize, j: usize) -> f64 {
        self.dot(&self.proton_pair(i, j)) / self.norm2()
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

/// The basis states of fixed charge and fixed M_S that a state's support lies in: every
/// pair operator of the nuclear Hamiltonian (σ_i·σ_j, τ_i·τ_j, proton projectors) conserves
/// both, so a trial state built from them on an antisymmetric reference stays in this
/// subspace (³H: 9 states, ⁴He: 36, of 4^A = 64, 256).
#[derive(Debug, Clone, PartialEq)]
pub struct Basis {
    /// Number of nucleons.
    pub nucleons: usize,
    /// The 4^A-basis index of each basis state, ascending.
    pub indices: Vec<usize>,
}

impl Basis {
    /// The subspace of `reference`'s charge and M_S (taken from its first nonzero amplitude).
    pub fn of(reference: &SpinIsospinState) -> Self {
        let a = reference.nucleons;
        let labels = |b: usize| {
            let protons = (0..a).filter(|&k| digit(b, k) < 2).count();
            let up = (0..a).filter(|&k| digit(b, k) % 2 == 0).count();
            (protons, up)
        };
        let first = reference
            .amplitudes
            .iter()
            .position(|&c| c != 0.0)
            .expect("a nonzero reference state");
        let wanted = labels(first);
        Self {
            nucleons: a,
            indices: (0..reference.amplitudes.len())
                .filter(|&b| labels(b) == wanted)
                .collect(),
        }
    }

    /// Number of basis states S.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether the basis is empty (never, for a basis built by [`Basis::of`]).
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// The amplitudes of `state` on the basis (dropping any outside it).
    pub fn restrict(&self, state: &SpinIsospinState) -> Vec<f64> {
        self.indices.iter().map(|&b| state.amplitudes[b]).collect()
    }

    /// The 4^A-basis state with `amplitudes` on this basis.
    pub fn embed(&self, amplitudes: &[f64]) -> SpinIsospinState {
        let mut full = vec![0.0; STATES.pow(self.nucleons as u32)];
        for (&b, &c) in self.indices.iter().zip(amplitudes) {
            full[b] = c;
        }
        SpinIsospinState {
            nucleons: self.nucleons,
            amplitudes: full,
        }
    }

    /// Row-major S × S matrix ⟨r|O|c⟩ of an operator that keeps the subspace, given its
    /// action on a state.
    pub fn matrix(&self, op: impl Fn(&SpinIsospinState) -> SpinIsospinState) -> Vec<f64> {
        let n = self.len();
        let mut m = vec![0.0; n * n];
        for c in 0..n {
            let mut unit = vec![0.0; n];
            unit[c] = 1.0;
            let image = self.restrict(&op(&self.embed(&unit)));
            for (r, v) in image.into_iter().enumerate() {
                m[r * n + c] = v;
            }
        }
        m
    }

    /// Position in this basis of the state with nucleons i and j exchanged, per basis state
    /// (exchange keeps charge and M_S).
    pub fn exchange_map(&self, i: usize, j: usize) -> Vec<usize> {
        self.indices
            .iter()
            .map(|&b| {
                let swapped = with_digit(with_digit(b, i, digit(b, j)), j, digit(b, i));
                self.indices
                    .binary_search(&swapped)
                    .expect("exchange keeps charge and M_S")
            })
            .collect()
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
    fn spin_isospin_exchange_reduces_the_product_operator() {
        // P^σ P^τ = −1 on an antisymmetric state, so (σ·σ)(τ·τ)|A⟩ = (−5 − σ·σ − τ·τ)|A⟩.
        for occupied in [&[0, 2][..], &[0, 2, 3], &[0, 1, 2, 3]] {
            let a = SpinIsospinState::antisymmetric(occupied);
            let (i, j) = (0, 1);
            let lhs = a.tau_dot_tau(i, j).sigma_dot_sigma(i, j);
            let (s, t) = (a.sigma_dot_sigma(i, j), a.tau_dot_tau(i, j));
            for b in 0..a.amplitudes.len() {
                let rhs = -5.0 * a.amplitudes[b] - s.amplitudes[b] - t.amplitudes[b];
                assert!((lhs.amplitudes[b] - rhs).abs() < 1e-12, "{occupied:?} {b}");
            }
        }
    }

    #[test]
    fn basis_keeps_charge_and_spin_projection() {
        let a = SpinIsospinState::antisymmetric(&occupied(3, 1).unwrap());
        let basis = Basis::of(&a);
        assert_eq!(basis.len(), 9);
        assert_eq!(basis.embed(&basis.restrict(&a)), a);
        let b4 = Basis::of(&SpinIsospinState::antisymmetric(&occupied(4, 2).unwrap()));
        assert_eq!(b4.len(), 36);
        // σ·σ and τ·τ keep the subspace: no weight leaks out of it.
        for c in 0..basis.len() {
            let mut unit = vec![0.0; basis.len()];
            unit[c] = 1.0;
            let image = basis.embed(&unit).tau_dot_tau(0, 2).sigma_dot_sigma(1, 2);
            let kept = basis.embed(&basis.restrict(&image));
            assert!(
                (image.norm2() - kept.norm2()).abs() < 1e-12,
                "leak from {c}"
            );
            assert!(image.norm2() > 0.0);
        }
        assert_eq!(occupied(2, 1), Some(vec![0, 2]));
        assert_eq!(occupied(3, 2), Some(vec![0, 1, 2]));
        assert_eq!(occupied(3, 0), None);
    }

    #[test]
    fn pauli_dots_equal_the_explicit_matrices() {
        // One nucleon's 4 states are (isospin ⊗ spin) with spin the fast index, so a spin
        // operator is 1₂ ⊗ σ and an isospin one τ ⊗ 1₂; nucleon k is digit k (k = 0 fastest), so the A-nucleon operator
        // is O_{A−1} ⊗ … ⊗ O_0. σ^y ⊗ σ^y = −(iσ^y) ⊗ (iσ^y), with iσ^y = [[0, 1], [−1, 0]] real.
        let id2 = [1.0, 0.0, 0.0, 1.0];
        let sx = [0.0, 1.0, 1.0, 0.0];
        let isy = [0.0, 1.0, -1.0, 0.0];
        let sz = [1.0, 0.0, 0.0, -1.0];
        let id4 = kron(&id2, 2, &id2, 2);
        let a = 3;
        let (i, j) = (0, 2);
        let matrix_of = |label: Label| {
            let mut matrix = vec![0.0; 64 * 64];
            for (single, sign) in [(sx, 1.0), (isy, -1.0), (sz, 1.0)] {
                let op = match label {
                    Label::Spin => kron(&id2, 2, &single, 2),
                    Label::Isospin => kron(&single, 2, &id2, 2),
                };
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
            matrix
        };
        // A state of no particular symmetry.
        let chi = SpinIsospinState {
            nucleons: a,
            amplitudes: (0..64)
                .map(|b| ((b * 37 % 11) as f64 - 5.0) / 7.0)
                .collect(),
        };
        for label in [Label::Spin, Label::Isospin] {
            let matrix = matrix_of(label);
            let applied = chi.pauli_dot(i, j, label);
            assert!(applied.norm2() > 1.0, "a non-trivial image");
            for row in 0..64 {
                let expected: f64 = (0..64)
                    .map(|c| matrix[row * 64 + c] * chi.amplitudes[c])
                    .sum();
                assert!(
                    (applied.amplitudes[row] - expected).abs() < 1e-12,
                    "{label:?} row {row}"
                );
            }
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
