use burn::tensor::Tensor;
use nqs_model::pairs::Pairs;
use nqs_model::{Geometry, row_sum};

use super::{PotentialTerm, pair_row};

/// Smeared two-body contact Σ_{i<j} c_ij e^{−Λ² r_ij²/4} (pionless EFT at leading order,
/// with c_ij = C1 + C2 ⟨σ_i·σ_j⟩ of the pair's spin state). Pairs in the order of [`Pairs`].
#[derive(Debug, Clone)]
pub struct GaussianPair {
    /// Particle layout.
    pub geometry: Geometry,
    /// Strength c_ij per pair i < j (MeV).
    pub strengths: Vec<f64>,
    /// Cutoff Λ (fm⁻¹).
    pub cutoff: f64,
}

impl PotentialTerm for GaussianPair {
    fn name(&self) -> &'static str {
        "v2"
    }

    fn potential(&self, x: &Tensor<2>) -> Tensor<1> {
        if self.geometry.n_particles < 2 {
            return Tensor::zeros([x.dims()[0]], &x.device());
        }
        let c = pair_row(&self.strengths, x);
        let r2 = Pairs::new(x, &self.geometry).r2;
        row_sum((r2 * (-0.25 * self.cutoff * self.cutoff)).exp() * c)
    }
}
