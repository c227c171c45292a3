//! Spin-isospin pair correlator for nucleons: amplitudes over the nucleus's spin-isospin
//! basis,
//!
//! χ(x) = [1 + Σ_{i<j} Σ_c u_c(ω r_ij²) O^c_ij] |A⟩,  O^c ∈ {1, σ_i·σ_j, τ_i·τ_j},
//!
//! with |A⟩ the fully antisymmetric spin-isospin state of the nucleus and u_c tanh MLPs of
//! one input (one network, three outputs; the output layer starts at zero, so training
//! starts in the sector of a spatially symmetric function times |A⟩). The sum over pairs is
//! symmetric under exchange of two nucleons' positions, spins and isospins together, so
//! ψ_s(x) = Φ(x) χ_s(x) with a symmetric spatial Φ is antisymmetric. (σ·σ)(τ·τ) adds
//! nothing: on an antisymmetric state it equals −5 − σ·σ − τ·τ.
//!
//! The wave function is the vector ψ_s(x); |ψ(x)|² = Φ² Σ_s χ_s² is what the walkers
//! sample (the spin-isospin states are summed exactly at each position), so this factor
//! contributes log|χ| = ½ log Σ_s χ_s² to log|ψ|. The local energy also needs the
//! amplitudes themselves ([`SpinAmplitudes`]): the kinetic energy of a vector is not that
//! of its norm, and the spin operators of the Hamiltonian act on χ.
//!
//! Derivatives: χ is linear in the pair outputs U_k (k = pair·3 + c), χ = a + U V with the
//! constant rows V_k = O^c_q|A⟩, so ∇χ_s = Σ_k V_ks ∇U_k and ∇²χ_s = Σ_k V_ks ∇²U_k;
//! log|χ| then has ∇ = Σ_s χ_s ∇χ_s / q and ∇² = (Σ_s |∇χ_s|² + χ_s ∇²χ_s)/q − 2|∇ log|χ||²
//! with q = Σ_s χ_s².

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::derivatives::LogPsi;
use crate::factors::check_hidden;
use crate::jet::Mlp;
use crate::pairs::{Pairs, pair_indices};
use crate::spin_isospin::{Basis, SpinIsospinState, occupied};
use crate::{Geometry, Jet, ModelError, Order, ParamRng, row_sum};

/// Operator channels per pair: 1, σ·σ, τ·τ.
pub const CHANNELS: usize = 3;

/// Configuration of the spin-isospin correlator (`kind = "spin_correlator"`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SpinCorrelatorConfig {
    /// Widths of the hidden tanh layers of u_c.
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    /// Scale of the initial output layer (0: start exactly at the symmetric sector).
    #[serde(default)]
    pub output_gain: f64,
}

fn default_hidden() -> Vec<usize> {
    vec![16, 16]
}

/// Amplitudes χ_s over the spin-isospin basis with their position derivatives.
#[derive(Debug, Clone)]
pub struct SpinAmplitudes {
    /// χ, `[walkers, S]`.
    pub chi: Tensor<2>,
    /// ∇χ_s, `[walkers, N·d, S]` (from [`Order::Gradient`]).
    pub grad: Option<Tensor<3>>,
    /// ∇²χ_s, `[walkers, S]` (from [`Order::Laplacian`]).
    pub lap: Option<Tensor<2>>,
}

/// The spin-isospin correlator factor.
#[derive(Module, Debug)]
pub struct SpinCorrelator {
    /// u_c(ω r²), three outputs.
    pub u: Mlp,
    /// The system's trial-state scale ω (inverse length squared).
    pub omega: f64,
    #[module(skip)]
    geometry: Geometry,
    #[module(skip)]
    basis: Basis,
    /// |A⟩ on the basis, `[S]`.
    #[module(skip)]
    reference: Vec<f64>,
    /// Row k = pair·3 + c holds O^c_pair |A⟩ on the basis, `[P·3, S]` row-major.
    #[module(skip)]
    images: Vec<f64>,
}

impl SpinCorrelatorConfig {
    /// Build the factor; the geometry must describe nucleons (`protons` set).
    pub fn init(
        &self,
        geometry: Geometry,
        omega: f64,
        index: usize,
        rng: &mut ParamRng,
        device: &Device,
    ) -> Result<SpinCorrelator, ModelError> {
        check_hidden(&self.hidden, index)?;
        let a = geometry.n_particles;
        let occupied = geometry
            .protons
            .and_then(|z| occupied(a, z))
            .ok_or_else(|| ModelError::InvalidFactor {
                index,
                field: "kind",
                value: "\"spin_correlator\"".into(),
                reason: "needs nucleons (a nucleus system with A ≤ 4: at most two protons and two neutrons)".into(),
            })?;
        let state = SpinIsospinState::antisymmetric(&occupied);
        let basis = Basis::of(&state);
        let images = pair_indices(a)
            .into_iter()
            .flat_map(|(i, j)| {
                [
                    state.clone(),
                    state.sigma_dot_sigma(i, j),
                    state.tau_dot_tau(i, j),
                ]
            })
            .flat_map(|image| basis.restrict(&image))
            .collect();
        Ok(SpinCorrelator {
            u: Mlp::with_outputs(1, &self.hidden, CHANNELS, self.output_gain, rng, device),
            omega,
            geometry,
            reference: basis.restrict(&state),
            basis,
            images,
        })
    }
}

impl SpinCorrelator {
    /// The spin-isospin basis the amplitudes live on.
    pub fn basis(&self) -> &Basis {
        &self.basis
    }

    /// χ with its position derivatives up to `order`.
    ///
    /// # Shapes
    /// - x: `[walkers, N·d]`
    pub fn amplitudes(&self, x: &Tensor<2>, order: Order) -> SpinAmplitudes {
        let [w, _] = x.dims();
        let device = x.device();
        let s = self.basis.len();
        let pairs = Pairs::new(x, &self.geometry);
        let n_pairs = pairs.len();
        let k = n_pairs * CHANNELS;
        let images: Tensor<2> =
            Tensor::from_data(TensorData::new(self.images.clone(), [k, s]), &device);
        let reference: Tensor<2> =
            Tensor::from_data(TensorData::new(self.reference.clone(), [1, s]), &device);
        let t = pairs.r2.clone() * self.omega; // [w, P]
        let jet = self
            .u
            .forward(Jet::input(t.clone().reshape([w * n_pairs, 1]), 1, order));
        let chi = jet
            .value
            .reshape([w, k])
            .matmul(images.clone())
            .add(reference);
        // ∇_i U_k = 2ω u_c'(t)(x_i − x_j); per particle ∇_i² U_k = 2ωd u_c' + 4ω t u_c''.
        let du = jet.grad.map(|g| g.reshape([w, n_pairs, CHANNELS]));
        let grad = du.clone().map(|du| {
            // Per pair and basis state: Σ_c 2ω u_c' V_{(pair, c), s}, `[w, P, S]`.
            let per_pair = (du * (2.0 * self.omega))
                .swap_dims(0, 1) // [P, w, 3]
                .matmul(images.clone().reshape([n_pairs, CHANNELS, s]))
                .swap_dims(0, 1);
            pairs.gather_features(per_pair)
        });
        let lap = match (du, jet.lap) {
            (Some(du), Some(d2u)) => {
                let d = self.geometry.dimensions as f64;
                let d2u = d2u.reshape([w, n_pairs, CHANNELS]);
                let t = t.unsqueeze_dim::<3>(2);
                // Both particles of the pair: twice the one-particle Laplacian.
                let per_pair = du * (4.0 * self.omega * d) + d2u * t * (8.0 * self.omega);
                Some(per_pair.reshape([w, k]).matmul(images))
            }
            _ => None,
        };
        SpinAmplitudes { chi, grad, lap }
    }

    /// log|χ| = ½ log Σ_s χ_s² with its derivatives, from the amplitudes.
    pub fn log_norm(amplitudes: &SpinAmplitudes, order: Order) -> LogPsi {
        let chi = amplitudes.chi.clone();
        let q = row_sum(chi.clone().square()); // [w]
        let value = q.clone().log() * 0.5;
        let grad_l = order.gradient().then(|| {
            let g = amplitudes.grad.clone().expect("amplitude gradients");
            let weighted = (g * chi.clone().unsqueeze_dim::<3>(1)).sum_dim(2); // [w, N·d, 1]
            let [w, n, _] = weighted.dims();
            weighted.reshape([w, n]) / q.clone().unsqueeze_dim::<2>(1)
        });
        let lap = order.laplacian().then(|| {
            let g = amplitudes.grad.clone().expect("amplitude gradients");
            let [w, n, s] = g.dims();
            let grad_sq = row_sum(g.square().reshape([w, n * s]));
            let chi_lap = row_sum(chi * amplitudes.lap.clone().expect("amplitude Laplacians"));
            let gl = grad_l.clone().expect("gradient with the Laplacian");
            (grad_sq + chi_lap) / q - row_sum(gl.square()) * 2.0
        });
        LogPsi {
            value,
            grad: grad_l,
            lap,
        }
    }

    /// log|χ| with its derivatives up to `order`.
    ///
    /// # Shapes
    /// - x: `[walkers, N·d]`
    pub fn forward(&self, x: &Tensor<2>, order: Order) -> LogPsi {
        Self::log_norm(&self.amplitudes(x, order), order)
    }
}
