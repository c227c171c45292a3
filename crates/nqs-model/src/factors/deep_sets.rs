//! Permutation-invariant neural correlator (DeepSets; the form of Adams, Carleo, Lovato and
//! Rocco, PRL 127, 022502 (2021)): log ψ = ρ(z), with the latent vector
//! z = [Σ_i φ₁(ω|x_i − X|²), Σ_{i<j} φ₂(ω r_ij²)] of width 2L summed over particles and pairs,
//! φ₁, φ₂ tanh MLPs 1 → hidden → L and ρ a tanh MLP 2L → readout → 1.
//!
//! It is invariant under every permutation of the particles, under translations (positions
//! enter relative to the centre of mass X) and under rotations (only radii enter: enough for
//! the L = 0 ground states of A ≤ 4 nuclei). It carries no confinement: multiply by an
//! `envelope`. Squared radii keep φ smooth at coalescence and at the centre.
//!
//! Jets: z carries derivatives with respect to all N·d coordinates. For one particle,
//! ∇_v φ(ω|v|²) = 2ω φ' v and ∇_v² φ = 2ωd φ' + 4ω s φ'' (s = ω|v|²), lifted through the
//! centre of mass by [`crate::relative`]; for a pair, t = ω r²: ∇_i φ = 2ω φ' (x_i − x_j) and
//! ∇_i² φ = 2ωd φ' + 4ω t φ'' for each of its two particles. ρ then propagates the jet.

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::derivatives::LogPsi;
use crate::factors::{check_hidden, check_widths};
use crate::jet::Mlp;
use crate::pairs::Pairs;
use crate::reduce::sum_middle;
use crate::relative::{laplacian_factor, lift_relative_grad, relative_positions};
use crate::{Geometry, Jet, ModelError, Order, ParamRng};

/// Configuration of the DeepSets correlator (`kind = "deep_sets"`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DeepSetsConfig {
    /// Hidden widths of the one-body and pair networks φ₁, φ₂.
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    /// Latent width L of each of the two streams.
    #[serde(default = "default_latent")]
    pub latent: usize,
    /// Hidden widths of the readout ρ.
    #[serde(default = "default_hidden")]
    pub readout: Vec<usize>,
    /// Scale of the readout's initial output layer.
    #[serde(default = "default_output_gain")]
    pub output_gain: f64,
}

fn default_hidden() -> Vec<usize> {
    vec![16]
}
fn default_latent() -> usize {
    8
}
fn default_output_gain() -> f64 {
    0.01
}

/// The DeepSets correlator.
#[derive(Module, Debug)]
pub struct DeepSets {
    /// φ₁(ω|x_i − X|²), width L.
    pub one_body: Mlp,
    /// φ₂(ω r_ij²), width L.
    pub pair: Mlp,
    /// ρ(z), width 1.
    pub readout: Mlp,
    /// The system's trial-state scale ω (inverse length squared).
    pub omega: f64,
    #[module(skip)]
    geometry: Geometry,
}

impl DeepSetsConfig {
    /// Build the factor with seeded weights.
    pub fn init(
        &self,
        geometry: Geometry,
        omega: f64,
        index: usize,
        rng: &mut ParamRng,
        device: &Device,
    ) -> Result<DeepSets, ModelError> {
        check_hidden(&self.hidden, index)?;
        check_widths("readout", &self.readout, index)?;
        if self.latent == 0 {
            return Err(ModelError::InvalidFactor {
                index,
                field: "latent",
                value: "0".into(),
                reason: "must be at least 1".into(),
            });
        }
        if geometry.n_particles < 2 {
            return Err(ModelError::InvalidFactor {
                index,
                field: "kind",
                value: "deep_sets".into(),
                reason: "needs at least two particles".into(),
            });
        }
        let l = self.latent;
        Ok(DeepSets {
            one_body: Mlp::with_outputs(1, &self.hidden, l, 1.0, rng, device),
            pair: Mlp::with_outputs(1, &self.hidden, l, 1.0, rng, device),
            readout: Mlp::new(2 * l, &self.readout, self.output_gain, rng, device),
            omega,
            geometry,
        })
    }
}

impl DeepSets {
    /// # Shapes
    /// - x: `[walkers, N·d]`
    pub fn forward(&self, x: &Tensor<2>, order: Order) -> LogPsi {
        let [w, _] = x.dims();
        let z = Jet::cat(vec![
            self.one_body_stream(x, order),
            self.pair_stream(x, order),
        ]);
        let out = self.readout.forward(z);
        LogPsi {
            value: out.value.reshape([w]),
            grad: out.grad.map(|g| g.reshape([w, self.geometry.n_coords()])),
            lap: out.lap.map(|l| l.reshape([w])),
        }
    }

    /// Σ_i φ₁(ω|v_i|²) with derivatives in all N·d coordinates, `[walkers, L]`.
    fn one_body_stream(&self, x: &Tensor<2>, order: Order) -> Jet {
        let [w, _] = x.dims();
        let g = self.geometry;
        let (n, d, omega) = (g.n_particles, g.dimensions, self.omega);
        let v = relative_positions(x, &g); // [w, N, d]
        let s = crate::row_sum(v.clone().square().reshape([w * n, d])).reshape([w * n, 1]) * omega;
        let jet = self.one_body.forward(Jet::input(s.clone(), 1, order));
        let l = jet.value.dims()[1];
        let value = sum_middle(jet.value.reshape([w, n, l]));
        let grad = jet.grad.clone().map(|dphi| {
            let per_particle = v.reshape([w, n, d, 1]) * dphi.reshape([w, n, 1, l]) * (2.0 * omega);
            lift_relative_grad(per_particle)
        });
        let lap = match (jet.grad, jet.lap) {
            (Some(dphi), Some(d2phi)) => {
                let per_particle =
                    dphi.reshape([w * n, l]) * (2.0 * omega * d as f64) + d2phi * s * (4.0 * omega);
                Some(sum_middle(per_particle.reshape([w, n, l])) * laplacian_factor(&g))
            }
            _ => None,
        };
        Jet { value, grad, lap }
    }

    /// Σ_{i<j} φ₂(ω r_ij²) with derivatives in all N·d coordinates, `[walkers, L]`.
    fn pair_stream(&self, x: &Tensor<2>, order: Order) -> Jet {
        let [w, _] = x.dims();
        let (d, omega) = (self.geometry.dimensions as f64, self.omega);
        let pairs = Pairs::new(x, &self.geometry);
        let n_pairs = pairs.len();
        let t = pairs.r2.clone().reshape([w * n_pairs, 1]) * omega;
        let jet = self.pair.forward(Jet::input(t.clone(), 1, order));
        let l = jet.value.dims()[1];
        let value = sum_middle(jet.value.reshape([w, n_pairs, l]));
        let grad = jet
            .grad
            .clone()
            .map(|dphi| pairs.gather_features(dphi.reshape([w, n_pairs, l]) * (2.0 * omega)));
        let lap = match (jet.grad, jet.lap) {
            (Some(dphi), Some(d2phi)) => {
                // Each pair's Laplacian counts once for each of its two particles.
                let per_pair =
                    dphi.reshape([w * n_pairs, l]) * (4.0 * omega * d) + d2phi * t * (8.0 * omega);
                Some(sum_middle(per_pair.reshape([w, n_pairs, l])))
            }
            _ => None,
        };
        Jet { value, grad, lap }
    }
}
