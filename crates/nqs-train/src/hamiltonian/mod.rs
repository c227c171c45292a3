//! Hamiltonians H = −½ Σ_k ∂_k² + V(x) (unit mass, Hartree units). A Hamiltonian supplies
//! the potential of a batch; the kinetic term comes from the wave function's forward
//! Laplacian. A new potential term is one new file implementing [`PotentialTerm`].

mod coulomb;
mod harmonic;

pub use coulomb::Coulomb;
pub use harmonic::HarmonicTrap;

use burn::tensor::Tensor;
use nqs_model::Geometry;

/// One additive term of the potential.
pub trait PotentialTerm: std::fmt::Debug + Send + Sync {
    /// V(x), `[walkers]`.
    ///
    /// # Shapes
    /// - x: `[walkers, N·d]`
    fn potential(&self, x: &Tensor<2>) -> Tensor<1>;
}

/// A Hamiltonian: kinetic energy plus a sum of potential terms.
#[derive(Debug)]
pub struct Hamiltonian {
    terms: Vec<Box<dyn PotentialTerm>>,
}

impl Hamiltonian {
    /// H = T + Σ terms.
    pub fn new(terms: Vec<Box<dyn PotentialTerm>>) -> Self {
        Self { terms }
    }

    /// The quantum dot of PHYSICS.md §1: N electrons in an isotropic d-dimensional trap of
    /// frequency ω, with or without the Coulomb repulsion Σ_{i<j} 1/r_ij.
    pub fn quantum_dot(geometry: Geometry, omega: f64, coulomb: bool) -> Self {
        let mut terms: Vec<Box<dyn PotentialTerm>> = vec![Box::new(HarmonicTrap { omega })];
        if coulomb {
            terms.push(Box::new(Coulomb { geometry }));
        }
        Self::new(terms)
    }

    /// Total potential V(x), `[walkers]`.
    pub fn potential(&self, x: &Tensor<2>) -> Tensor<1> {
        let [w, _] = x.dims();
        self.terms
            .iter()
            .map(|t| t.potential(x))
            .reduce(|a, b| a + b)
            .unwrap_or_else(|| Tensor::zeros([w], &x.device()))
    }
}
