use burn::tensor::{Tensor, TensorData};
use nqs_model::pairs::{Pairs, pair_indices};
use nqs_model::{Geometry, row_sum};

use super::PotentialTerm;

/// Smeared three-body contact D0 Σ_{i<j<k} Σ_cyc e^{−Λ²(r_ik² + r_jk²)/4}.
///
/// With g_ij = e^{−Λ² r_ij²/4}, each triple contributes the products of its two sides that
/// meet at each of its three corners, so the sum is Σ_k Σ_{i<j; i,j≠k} g_ik g_jk
/// = ½ Σ_k [(Σ_{i≠k} g_ik)² − Σ_{i≠k} g_ik²]: two products with the pair–particle
/// incidence matrix instead of a loop over triples.
#[derive(Debug, Clone)]
pub struct GaussianThreeBody {
    /// Particle layout.
    pub geometry: Geometry,
    /// D0 (MeV).
    pub d0: f64,
    /// Cutoff Λ (fm⁻¹).
    pub cutoff: f64,
}

impl PotentialTerm for GaussianThreeBody {
    fn name(&self) -> &'static str {
        "v3"
    }

    fn potential(&self, x: &Tensor<2>) -> Tensor<1> {
        let n = self.geometry.n_particles;
        if n < 3 {
            return Tensor::zeros([x.dims()[0]], &x.device());
        }
        let g = (Pairs::new(x, &self.geometry).r2 * (-0.25 * self.cutoff * self.cutoff)).exp();
        // touches[p, k] = 1 when particle k belongs to pair p (pairs i < j in order).
        let pairs = pair_indices(n);
        let mut touches = vec![0.0; pairs.len() * n];
        for (p, &(i, j)) in pairs.iter().enumerate() {
            touches[p * n + i] = 1.0;
            touches[p * n + j] = 1.0;
        }
        let touches =
            Tensor::<2>::from_data(TensorData::new(touches, [pairs.len(), n]), &x.device());
        let sums = g.clone().matmul(touches.clone()); // [w, N]
        let squares = g.square().matmul(touches); // [w, N]
        row_sum(sums.square() - squares) * (0.5 * self.d0)
    }
}
