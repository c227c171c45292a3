use burn::tensor::Tensor;
use nqs_model::pairs::Pairs;
use nqs_model::{Geometry, row_sum};

use super::{OperatorPart, PotentialTerm, SpinCoupling, pair_row};

/// Smeared two-body contact Σ_{i<j} c_ij e^{−Λ² r_ij²/4} (pionless EFT at leading order,
/// with c_ij = C1 + C2 ⟨σ_i·σ_j⟩ of the pair's spin state; with spin-isospin amplitudes
/// the C2 σ_i·σ_j part is applied to them, see [`super::spin_operators`]). Pairs in the
/// order of [`Pairs`].
#[derive(Debug, Clone)]
pub struct GaussianPair {
    /// Particle layout.
    pub geometry: Geometry,
    /// Strength c_ij per pair i < j (MeV).
    pub strengths: Vec<f64>,
    /// Cutoff Λ (fm⁻¹).
    pub cutoff: f64,
    /// The σ_i·σ_j part of the strengths (C2 times ⟨σ_i·σ_j⟩), when the spin operator is
    /// to be applied to spin-isospin amplitudes.
    pub spin: Option<SpinCoupling>,
}

impl GaussianPair {
    /// e^{−Λ² r_ij²/4}, `[walkers, P]`.
    fn smeared(&self, x: &Tensor<2>) -> Tensor<2> {
        (Pairs::new(x, &self.geometry).r2 * (-0.25 * self.cutoff * self.cutoff)).exp()
    }
}

impl PotentialTerm for GaussianPair {
    fn name(&self) -> &'static str {
        "v2"
    }

    fn potential(&self, x: &Tensor<2>) -> Tensor<1> {
        if self.geometry.n_particles < 2 {
            return Tensor::zeros([x.dims()[0]], &x.device());
        }
        row_sum(self.smeared(x) * pair_row(&self.strengths, x))
    }

    fn operator_part(&self, x: &Tensor<2>) -> Option<OperatorPart> {
        let spin = self.spin.as_ref()?;
        (self.geometry.n_particles >= 2).then(|| OperatorPart {
            operator: spin.operator,
            coefficients: self.smeared(x) * spin.strength,
            expectation: spin.expectation.clone(),
        })
    }
}
