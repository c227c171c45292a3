//! Feed-forward network factor, log ψ_NN = network output (PHYSICS.md §4).
//!
//! `symmetric = true` (required next to a Slater determinant): a DeepSet-style Jastrow
//! log ψ_NN = Σ_{i<j} u_θ(ω r_ij², s_ij) + Σ_i χ_θ(ω r_i²), with s_ij = 1 for parallel spins.
//! It is invariant under every exchange of same-spin particles, and under rotations. Inputs
//! are squared distances, so u and χ are smooth at coalescence and leave the cusp to the
//! Padé factor. Chain rule with s = ω r²: ∇ = 2ω f'(s)·(x_i − x_j) and the Laplacian with
//! respect to one particle is 2ωd f'(s) + 4ω s f''(s); f' and f'' come from the forward
//! Laplacian through the network with the scalar input s.
//!
//! `symmetric = false`: an MLP of all N·d coordinates times a Gaussian envelope
//! exp(−κ ω Σ x²/2) with variational κ; for distinguishable particles or N = 2.

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::derivatives::LogPsi;
use crate::factors::check_hidden;
use crate::init::param1;
use crate::jet::Mlp;
use crate::pairs::{Pairs, lift_one_body, no_pairs};
use crate::{Geometry, Jet, ModelError, Order, ParamRng, row_sum};

/// Configuration of the feed-forward factor.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FfnnConfig {
    /// Widths of the hidden tanh layers.
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    /// Exchange-symmetric pair + one-body form (see the module docs).
    #[serde(default = "default_true")]
    pub symmetric: bool,
    /// Scale of the initial output layer (small: the factor starts close to 1).
    #[serde(default = "default_output_gain")]
    pub output_gain: f64,
}

fn default_hidden() -> Vec<usize> {
    vec![16, 16]
}
fn default_true() -> bool {
    true
}
fn default_output_gain() -> f64 {
    0.01
}

/// Feed-forward factor.
#[derive(Module, Debug)]
pub struct Ffnn {
    /// Pair network u(ω r², s) (symmetric form) or the full network (plain form).
    pub pair_or_full: Mlp,
    /// One-body network χ(ω r²) (symmetric form only).
    pub one_body: Option<Mlp>,
    /// Envelope exponent κ, `[1]` (plain form only).
    pub envelope: Option<Param<Tensor<1>>>,
    /// Trap frequency ω.
    pub omega: f64,
    #[module(skip)]
    geometry: Geometry,
}

impl FfnnConfig {
    /// Build the factor with seeded initial weights.
    pub fn init(
        &self,
        geometry: Geometry,
        omega: f64,
        index: usize,
        rng: &mut ParamRng,
        device: &Device,
    ) -> Result<Ffnn, ModelError> {
        check_hidden(&self.hidden, index)?;
        let gain = self.output_gain;
        Ok(if self.symmetric {
            Ffnn {
                pair_or_full: Mlp::new(2, &self.hidden, gain, rng, device),
                one_body: Some(Mlp::new(1, &self.hidden, gain, rng, device)),
                envelope: None,
                omega,
                geometry,
            }
        } else {
            Ffnn {
                pair_or_full: Mlp::new(geometry.n_coords(), &self.hidden, gain, rng, device),
                one_body: None,
                envelope: Some(param1(&[1.0], device)),
                omega,
                geometry,
            }
        })
    }
}

impl Ffnn {
    /// Whether this is the exchange-symmetric form.
    pub fn is_symmetric(&self) -> bool {
        self.one_body.is_some()
    }

    /// # Shapes
    /// - x: `[walkers, N·d]`
    pub fn forward(&self, x: &Tensor<2>, order: Order) -> LogPsi {
        match (&self.one_body, &self.envelope) {
            (Some(one_body), _) => self.forward_symmetric(one_body, x, order),
            (None, Some(kappa)) => self.forward_plain(kappa, x, order),
            (None, None) => unreachable!("Ffnn has either a one-body network or an envelope"),
        }
    }

    fn forward_symmetric(&self, one_body: &Mlp, x: &Tensor<2>, order: Order) -> LogPsi {
        let [w, _] = x.dims();
        let g = self.geometry;
        let (n, d, omega) = (g.n_particles, g.dimensions as f64, self.omega);

        let pair_part = if n < 2 {
            no_pairs(x, order)
        } else {
            self.pair_part(x, order)
        };

        // One body: rows [w·n, 1] = ω r_i²; lifted to particles by the radial chain rule.
        let p = x.clone().reshape([w * n, g.dimensions]);
        let s1 = row_sum(p.clone().square()).reshape([w * n, 1]) * omega; // [w·n, 1]
        let jet = one_body.forward(Jet::input(s1.clone(), 1, order));
        let df = jet.grad.map(|g| g.reshape([w * n, 1]));
        let one = Jet {
            value: jet.value,
            grad: df
                .clone()
                .map(|df| (p * df * (2.0 * omega)).reshape([w * n, g.dimensions, 1])),
            lap: match (df, jet.lap) {
                (Some(df), Some(d2f)) => Some(df * (2.0 * omega * d) + d2f * s1 * (4.0 * omega)),
                _ => None,
            },
        };
        pair_part.add(lift_one_body(one, w, &g))
    }

    /// The exchange-symmetric pair Jastrow Σ_{i<j} u(ω r_ij², parallel spins).
    fn pair_part(&self, x: &Tensor<2>, order: Order) -> LogPsi {
        let [w, _] = x.dims();
        let g = self.geometry;
        let omega = self.omega;
        // Pairs i < j: rows [w·P, 2] = (s = ω r_ij², parallel-spin label).
        let pairs = Pairs::new(x, &g);
        let n_pairs = pairs.len();
        let s = pairs.r2.clone() * omega; // [w, P]
        let spin = pairs.parallel.clone().expand([w, n_pairs]);
        let input = Tensor::stack::<3>(vec![s.clone(), spin], 2).reshape([w * n_pairs, 2]);
        let jet = self.pair_or_full.forward(Jet::input(input, 1, order));
        pairs.aggregate_scaled_square(s, jet, omega, g.dimensions, order)
    }

    fn forward_plain(&self, kappa: &Param<Tensor<1>>, x: &Tensor<2>, order: Order) -> LogPsi {
        let [w, n_coords] = x.dims();
        let jet = self
            .pair_or_full
            .forward(Jet::input(x.clone(), n_coords, order));
        // Envelope −κω Σ x²/2: gradient −κω x, Laplacian −κω N·d.
        let k_omega = kappa.val() * self.omega; // [1]
        let r2 = row_sum(x.clone().square());
        LogPsi {
            value: jet.value.reshape([w]) - r2 * k_omega.clone() * 0.5,
            grad: jet
                .grad
                .map(|g| g.reshape([w, n_coords]) - x.clone() * k_omega.clone().unsqueeze::<2>()),
            lap: jet
                .lap
                .map(|l| l.reshape([w]) - k_omega.clone() * n_coords as f64),
        }
    }
}
