use burn::tensor::Tensor;
use nqs_model::pairs::Pairs;
use nqs_model::{Geometry, row_sum};

use super::PotentialTerm;

/// Coulomb repulsion Σ_{i<j} 1/r_ij.
#[derive(Debug, Clone)]
pub struct Coulomb {
    /// Particle layout.
    pub geometry: Geometry,
}

impl PotentialTerm for Coulomb {
    fn potential(&self, x: &Tensor<2>) -> Tensor<1> {
        if self.geometry.n_particles < 2 {
            return Tensor::zeros([x.dims()[0]], &x.device());
        }
        row_sum(Pairs::new(x, &self.geometry).r().recip())
    }
}
