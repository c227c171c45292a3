use burn::tensor::Tensor;
use nqs_model::pairs::Pairs;
use nqs_model::{Geometry, host_inverse_distance_sum, row_sum};

use super::{OperatorPart, PotentialTerm, SpinCoupling, pair_row};

/// Coulomb repulsion Σ_{i<j} q_ij / r_ij, with q_ij the product of the pair's charges times
/// the coupling (1 for electrons in Hartree units; e² = αħc times the probability that both
/// are protons for nucleons). Pairs in the order of [`Pairs`].
#[derive(Debug, Clone)]
pub struct Coulomb {
    /// Particle layout.
    pub geometry: Geometry,
    /// q_ij per pair i < j.
    pub couplings: Vec<f64>,
    /// For nucleons: e² times the proton-pair projector, whose reference-state expectation
    /// `couplings` holds, to apply to spin-isospin amplitudes.
    pub spin: Option<SpinCoupling>,
}

impl Coulomb {
    /// Unit charges: Σ_{i<j} 1/r_ij.
    pub fn electrons(geometry: Geometry) -> Self {
        let n = geometry.n_particles;
        Self {
            geometry,
            couplings: vec![1.0; n * n.saturating_sub(1) / 2],
            spin: None,
        }
    }
}

impl PotentialTerm for Coulomb {
    fn name(&self) -> &'static str {
        "coulomb"
    }

    fn potential(&self, x: &Tensor<2>) -> Tensor<1> {
        if self.geometry.n_particles < 2 {
            return Tensor::zeros([x.dims()[0]], &x.device());
        }
        if let Some(sum) = host_inverse_distance_sum(x, &self.geometry, &self.couplings) {
            return sum;
        }
        let q = pair_row(&self.couplings, x);
        row_sum(Pairs::new(x, &self.geometry).r().recip() * q)
    }

    /// q·Σ 1/r where every pair has the same q (electrons; and nucleons where every pair is
    /// as likely a proton pair), from the sum given; [`Self::potential`] otherwise.
    fn potential_given_inverse_distance_sum(
        &self,
        x: &Tensor<2>,
        inverse_distance_sum: &Tensor<1>,
    ) -> Tensor<1> {
        let [w, coords] = x.dims();
        let uniform = self.couplings.first().copied().filter(|&q| {
            self.couplings.iter().all(|&c| c.to_bits() == q.to_bits())
                && coords == self.geometry.n_particles * self.geometry.dimensions
                && self.geometry.cell.is_none()
                && inverse_distance_sum.dims() == [w]
        });
        match uniform {
            Some(q) if q == 1.0 => inverse_distance_sum.clone(),
            Some(q) => inverse_distance_sum.clone() * q,
            None => self.potential(x),
        }
    }

    fn operator_part(&self, x: &Tensor<2>) -> Option<OperatorPart> {
        let spin = self.spin.as_ref()?;
        (self.geometry.n_particles >= 2).then(|| OperatorPart {
            operator: spin.operator,
            coefficients: Pairs::new(x, &self.geometry).r().recip() * spin.strength,
            expectation: spin.expectation.clone(),
        })
    }
}
