//! Neural pair Jastrow, log f = Σ_{i<j} u_θ(ω r_ij²), u a tanh MLP of one input: the
//! translation- and exchange-invariant baseline for self-bound systems (Π_{i<j} f(r_ij)).
//!
//! With t = ω r²: ∇_i u = 2ω u'(t) (x_i − x_j) and, per particle, ∇_i² u = 2ωd u' + 4ω t u''.

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::derivatives::LogPsi;
use crate::factors::check_hidden;
use crate::jet::Mlp;
use crate::pairs::{Pairs, no_pairs};
use crate::{Geometry, Jet, ModelError, Order, ParamRng};

/// Configuration of the pair Jastrow (`kind = "pair_jastrow"`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PairJastrowConfig {
    /// Widths of the hidden tanh layers of u.
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    /// Scale of the initial output layer.
    #[serde(default = "default_output_gain")]
    pub output_gain: f64,
}

fn default_hidden() -> Vec<usize> {
    vec![16, 16]
}
fn default_output_gain() -> f64 {
    0.01
}

/// The pair Jastrow factor.
#[derive(Module, Debug)]
pub struct PairJastrow {
    /// u(ω r²).
    pub u: Mlp,
    /// The system's trial-state scale ω (inverse length squared).
    pub omega: f64,
    #[module(skip)]
    geometry: Geometry,
}

impl PairJastrowConfig {
    /// Build the factor with seeded weights.
    pub fn init(
        &self,
        geometry: Geometry,
        omega: f64,
        index: usize,
        rng: &mut ParamRng,
        device: &Device,
    ) -> Result<PairJastrow, ModelError> {
        check_hidden(&self.hidden, index)?;
        Ok(PairJastrow {
            u: Mlp::new(1, &self.hidden, self.output_gain, rng, device),
            omega,
            geometry,
        })
    }
}

impl PairJastrow {
    /// # Shapes
    /// - x: `[walkers, N·d]`
    pub fn forward(&self, x: &Tensor<2>, order: Order) -> LogPsi {
        if self.geometry.n_particles < 2 {
            return no_pairs(x, order);
        }
        let [w, _] = x.dims();
        let pairs = Pairs::new(x, &self.geometry);
        let n_pairs = pairs.len();
        let t = pairs.r2.clone() * self.omega; // [w, P]
        let jet = self
            .u
            .forward(Jet::input(t.clone().reshape([w * n_pairs, 1]), 1, order));
        pairs.aggregate_scaled_square(t, jet, self.omega, self.geometry.dimensions, order)
    }
}
