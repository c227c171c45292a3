//! Hamiltonians H = −(ħ²/2m) Σ_k ∂_k² + V(x). A Hamiltonian holds the kinetic prefactor
//! ħ²/2m (½ in Hartree units) and the potential terms of a batch; the kinetic term itself
//! comes from the wave function's forward Laplacian. A new potential term is one new file
//! implementing [`PotentialTerm`].

mod coulomb;
mod ewald;
mod ewald_host;
mod gaussian_pair;
mod harmonic;
pub mod spin_operators;
mod three_body;

pub use coulomb::Coulomb;
pub use ewald::Ewald;
pub use gaussian_pair::GaussianPair;
pub use harmonic::HarmonicTrap;
pub use spin_operators::{OperatorPart, PairOperator, SpinCoupling, SpinOperators};
pub use three_body::GaussianThreeBody;

use std::borrow::Cow;
use std::sync::OnceLock;

use burn::tensor::Tensor;
use nqs_model::Geometry;
use nqs_model::spin_isospin::Basis;

/// One additive term of the potential.
pub trait PotentialTerm: std::fmt::Debug + Send + Sync {
    /// Short name used in results (`trap`, `coulomb`, `v2`, `v3`).
    fn name(&self) -> &'static str;

    /// V(x), `[walkers]`.
    ///
    /// # Shapes
    /// - x: `[walkers, N·d]`
    fn potential(&self, x: &Tensor<2>) -> Tensor<1>;

    /// V(x) where Σ_{i<j} 1/r_ij of every walker of `x` (`[walkers]`, all pairs of its
    /// particles) is known already: a Padé–Jastrow's local-energy jet computes it on the way
    /// ([`nqs_model::WaveFunction::forward_with_inverse_distance_sum`]). A term that is that
    /// sum times a constant uses it; the others compute [`Self::potential`].
    ///
    /// # Shapes
    /// - x: `[walkers, N·d]`
    fn potential_given_inverse_distance_sum(
        &self,
        x: &Tensor<2>,
        _inverse_distance_sum: &Tensor<1>,
    ) -> Tensor<1> {
        self.potential(x)
    }

    /// The spin-isospin-dependent part Σ_q f_q(x) O_q of the term, when it has one; its
    /// value in the reference spin-isospin state is already in [`Self::potential`].
    ///
    /// # Shapes
    /// - x: `[walkers, N·d]`
    fn operator_part(&self, _x: &Tensor<2>) -> Option<OperatorPart> {
        None
    }
}

/// Per-pair constants (one per pair i < j, in the order of [`nqs_model::pairs::Pairs`]) as a
/// `[1, P]` row on `x`'s device, to multiply a `[walkers, P]` table of pair functions.
pub(crate) fn pair_row(values: &[f64], x: &Tensor<2>) -> Tensor<2> {
    Tensor::from_data(
        burn::tensor::TensorData::new(values.to_vec(), [1, values.len()]),
        &x.device(),
    )
}

/// Σ of potential terms of a batch `x`, `[walkers]` (zeros when there are none).
pub(crate) fn sum_terms(terms: &[Tensor<1>], x: &Tensor<2>) -> Tensor<1> {
    terms
        .iter()
        .cloned()
        .reduce(|a, b| a + b)
        .unwrap_or_else(|| Tensor::zeros([x.dims()[0]], &x.device()))
}

/// A Hamiltonian: kinetic energy plus a sum of potential terms.
#[derive(Debug)]
pub struct Hamiltonian {
    kinetic_prefactor: f64,
    terms: Vec<Box<dyn PotentialTerm>>,
    /// The spin operators on the basis of the trial state it was first used with.
    spin_operators: OnceLock<SpinOperators>,
}

impl Hamiltonian {
    /// H = −kinetic_prefactor Σ ∇² + Σ terms.
    pub fn new(kinetic_prefactor: f64, terms: Vec<Box<dyn PotentialTerm>>) -> Self {
        Self {
            kinetic_prefactor,
            terms,
            spin_operators: OnceLock::new(),
        }
    }

    /// The pair spin operators on `basis`: built once (0.4 ms for ⁴He) and kept, since a
    /// run evaluates its Hamiltonian with one trial state; a different basis gets its own.
    pub fn spin_operators(&self, basis: &Basis) -> Cow<'_, SpinOperators> {
        let cached = self
            .spin_operators
            .get_or_init(|| SpinOperators::new(basis));
        if cached.basis == *basis {
            Cow::Borrowed(cached)
        } else {
            Cow::Owned(SpinOperators::new(basis))
        }
    }

    /// The quantum dot of PHYSICS.md §1 in Hartree units: N electrons in an isotropic
    /// d-dimensional trap of frequency ω, with or without the Coulomb repulsion.
    pub fn quantum_dot(geometry: Geometry, omega: f64, coulomb: bool) -> Self {
        let mut terms: Vec<Box<dyn PotentialTerm>> = vec![Box::new(HarmonicTrap { omega })];
        if coulomb {
            terms.push(Box::new(Coulomb::electrons(geometry)));
        }
        Self::new(0.5, terms)
    }

    /// ħ²/2m in the system's units.
    pub fn kinetic_prefactor(&self) -> f64 {
        self.kinetic_prefactor
    }

    /// Names of the potential terms, in order.
    pub fn term_names(&self) -> Vec<&'static str> {
        self.terms.iter().map(|t| t.name()).collect()
    }

    /// Each potential term, `[walkers]` each, in the order of [`Self::term_names`].
    pub fn potential_terms(&self, x: &Tensor<2>) -> Vec<Tensor<1>> {
        self.terms.iter().map(|t| t.potential(x)).collect()
    }

    /// [`Self::potential_terms`], with Σ_{i<j} 1/r_ij per walker when it is known already
    /// ([`PotentialTerm::potential_given_inverse_distance_sum`]).
    pub fn potential_terms_given(
        &self,
        x: &Tensor<2>,
        inverse_distance_sum: Option<&Tensor<1>>,
    ) -> Vec<Tensor<1>> {
        match inverse_distance_sum {
            Some(sum) => self
                .terms
                .iter()
                .map(|t| t.potential_given_inverse_distance_sum(x, sum))
                .collect(),
            None => self.potential_terms(x),
        }
    }

    /// Each term's spin-isospin-dependent part, in the order of [`Self::term_names`].
    pub fn operator_parts(&self, x: &Tensor<2>) -> Vec<Option<OperatorPart>> {
        self.terms.iter().map(|t| t.operator_part(x)).collect()
    }

    /// Total potential V(x), `[walkers]`.
    pub fn potential(&self, x: &Tensor<2>) -> Tensor<1> {
        sum_terms(&self.potential_terms(x), x)
    }
}
