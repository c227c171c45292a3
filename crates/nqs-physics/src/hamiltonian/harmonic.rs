use burn::tensor::Tensor;
use nqs_model::row_sum;

use super::PotentialTerm;

/// Isotropic harmonic trap ½ ω² Σ_i r_i² (unit mass).
#[derive(Debug, Clone)]
pub struct HarmonicTrap {
    /// Trap frequency ω.
    pub omega: f64,
}

impl PotentialTerm for HarmonicTrap {
    fn name(&self) -> &'static str {
        "trap"
    }

    fn potential(&self, x: &Tensor<2>) -> Tensor<1> {
        row_sum(x.clone().square()) * (0.5 * self.omega * self.omega)
    }
}
