//! Spin-isospin pair operators of the Hamiltonian, applied to a trial state's amplitudes
//! χ_s(x) on its spin-isospin basis (the basis of
//! [`nqs_model::factors::SpinCorrelator`]).
//!
//! A potential term with a spin-dependent part Σ_q f_q(x) O_q (O = σ_i·σ_j, or the projector
//! on two protons) reports it through [`super::PotentialTerm::operator_part`]. Without spin
//! amplitudes the term uses the operators' expectations in the reference state; with them
//! the local energy takes ⟨χ(x)|O_q|χ(x)⟩/⟨χ|χ⟩ at every walker instead, and the parameter
//! gradient also needs the vectors O_q χ.

use burn::tensor::{Tensor, TensorData};
use nqs_model::pairs::pair_indices;
use nqs_model::spin_isospin::Basis;

/// A pair operator of the Hamiltonian.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairOperator {
    /// σ_i·σ_j.
    SigmaDotSigma,
    /// P^p_i P^p_j: both nucleons are protons.
    ProtonPair,
}

/// The operator coupling of a term: its coupling per pair is `strength` × ⟨O_q⟩, with
/// ⟨O_q⟩ = `expectation[q]` in the reference spin-isospin state.
#[derive(Debug, Clone, PartialEq)]
pub struct SpinCoupling {
    /// Which operator.
    pub operator: PairOperator,
    /// Its strength (C2 for σ·σ, e² for the proton pair).
    pub strength: f64,
    /// ⟨O_q⟩ per pair in the reference state.
    pub expectation: Vec<f64>,
}

/// The spin-dependent part Σ_q f_q(x) O_q of a term at a batch of walkers.
#[derive(Debug, Clone)]
pub struct OperatorPart {
    /// Which operator.
    pub operator: PairOperator,
    /// f_q(x), `[walkers, P]`.
    pub coefficients: Tensor<2>,
    /// ⟨O_q⟩ per pair in the reference state, whose f_q ⟨O_q⟩ the term's plain potential
    /// already contains.
    pub expectation: Vec<f64>,
}

/// The pair operators as matrices on a spin-isospin basis.
#[derive(Debug, Clone)]
pub struct SpinOperators {
    /// The basis they act on.
    pub basis: Basis,
    states: usize,
    pairs: usize,
    /// Per operator, `[S, P·S]` row-major with entry (s', q·S + s) = ⟨s|O_q|s'⟩, so that
    /// χ·M holds every O_q χ side by side.
    sigma: Vec<f64>,
    proton_pair: Vec<f64>,
}

impl SpinOperators {
    /// σ_i·σ_j and P^p_i P^p_j of every pair i < j on `basis`.
    pub fn new(basis: &Basis) -> Self {
        let (s, pairs) = (basis.len(), pair_indices(basis.nucleons));
        let side_by_side = |matrices: Vec<Vec<f64>>| {
            let p = matrices.len();
            let mut m = vec![0.0; s * p * s];
            for (q, matrix) in matrices.iter().enumerate() {
                for (row, col) in (0..s).flat_map(|r| (0..s).map(move |c| (r, c))) {
                    m[col * p * s + q * s + row] = matrix[row * s + col];
                }
            }
            m
        };
        Self {
            basis: basis.clone(),
            states: s,
            pairs: pairs.len(),
            sigma: side_by_side(
                pairs
                    .iter()
                    .map(|&(i, j)| basis.matrix(|c| c.sigma_dot_sigma(i, j)))
                    .collect(),
            ),
            proton_pair: side_by_side(
                pairs
                    .iter()
                    .map(|&(i, j)| basis.matrix(|c| c.proton_pair(i, j)))
                    .collect(),
            ),
        }
    }

    /// O_q χ for every pair q, `[walkers, P, S]`.
    ///
    /// # Shapes
    /// - chi: `[walkers, S]`
    pub fn apply(&self, operator: PairOperator, chi: &Tensor<2>) -> Tensor<3> {
        let [w, _] = chi.dims();
        let values = match operator {
            PairOperator::SigmaDotSigma => &self.sigma,
            PairOperator::ProtonPair => &self.proton_pair,
        };
        let m: Tensor<2> = Tensor::from_data(
            TensorData::new(values.clone(), [self.states, self.pairs * self.states]),
            &chi.device(),
        );
        chi.clone().matmul(m).reshape([w, self.pairs, self.states])
    }
}
