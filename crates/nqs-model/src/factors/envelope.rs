//! Confining envelope about the centre of mass, for self-bound systems (nuclei):
//! log φ = −Σ_i [β (q_i − a) + γ ln(q_i / a) + ½κ ρ_i²], ρ_i = |x_i − X|, q_i = √(a² + ρ_i²).
//!
//! It is translation invariant (the centre of mass X is not sampled: its kinetic energy is
//! exactly zero) and decays per particle as |v|^{−γ} e^{−β|v|} far out. For A = 2, |v_i| = r/2
//! and the product goes as r^{−2γ} e^{−βr}: β = κ, γ = ½ is the exact tail e^{−κr}/r of a
//! bound pair. Near the centre it is Gaussian, −(β/a + κ)|v|²/2; κ alone (β = γ = 0) is the
//! exact relative-motion ground state of harmonic pair forces. The parameters are β = b²,
//! κ = k² (never negative, so the envelope never turns over and the state stays
//! normalisable, yet either can be exactly 0), a = e^c and γ free.
//!
//! Per particle, with ρ = |v| and q = √(a² + ρ²): ∇f = −(β/q + γ/q² + κ) v and
//! ∇²f = −β (a²/q³ + (d − 1)/q) − γ (d/q² − 2ρ²/q⁴) − κd; [`crate::relative`] lifts both.

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::derivatives::LogPsi;
use crate::init::param1;
use crate::relative::{laplacian_factor, lift_relative_grad, relative_positions};
use crate::{Geometry, ModelError, Order};

/// Configuration of the envelope (`kind = "envelope"`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeConfig {
    /// Initial decay rate β, in units of √ω (the system's inverse length).
    #[serde(default = "default_one")]
    pub beta: f64,
    /// Initial core radius a, in units of 1/√ω.
    #[serde(default = "default_one")]
    pub a: f64,
    /// Initial power γ of the algebraic tail.
    #[serde(default)]
    pub gamma: f64,
    /// Initial Gaussian curvature κ, in units of ω.
    #[serde(default)]
    pub kappa: f64,
}

fn default_one() -> f64 {
    1.0
}

impl Default for EnvelopeConfig {
    fn default() -> Self {
        Self {
            beta: 1.0,
            a: 1.0,
            gamma: 0.0,
            kappa: 0.0,
        }
    }
}

/// The envelope factor.
#[derive(Module, Debug)]
pub struct Envelope {
    /// (b, c, γ, k) with β = b², a = e^c, κ = k², `[4]`.
    pub raw: Param<Tensor<1>>,
    #[module(skip)]
    geometry: Geometry,
}

impl EnvelopeConfig {
    /// Build the factor; `omega` is the system's trial-state scale (inverse length squared).
    pub fn init(
        &self,
        geometry: Geometry,
        omega: f64,
        index: usize,
        device: &Device,
    ) -> Result<Envelope, ModelError> {
        let bad = |field: &'static str, value: f64, reason: &str| {
            Err(ModelError::InvalidFactor {
                index,
                field,
                value: value.to_string(),
                reason: reason.into(),
            })
        };
        if !(self.a > 0.0 && self.a.is_finite()) {
            return bad("a", self.a, "must be a positive number");
        }
        for (field, value) in [("beta", self.beta), ("kappa", self.kappa)] {
            if !(value >= 0.0 && value.is_finite()) {
                return bad(field, value, "must be a number ≥ 0");
            }
        }
        if self.beta == 0.0 && self.kappa == 0.0 {
            return bad(
                "beta",
                0.0,
                "beta or kappa must be positive, else nothing confines",
            );
        }
        if !self.gamma.is_finite() {
            return bad("gamma", self.gamma, "must be a finite number");
        }
        let scale = omega.sqrt();
        Ok(Envelope {
            raw: param1(
                &[
                    (self.beta * scale).sqrt(),
                    (self.a / scale).ln(),
                    self.gamma,
                    (self.kappa * omega).sqrt(),
                ],
                device,
            ),
            geometry,
        })
    }
}

impl Envelope {
    /// Current (β, a, γ, κ).
    pub fn parameters(&self) -> [Tensor<1>; 4] {
        let raw = self.raw.val();
        [
            raw.clone().narrow(0, 0, 1).square(),
            raw.clone().narrow(0, 1, 1).exp(),
            raw.clone().narrow(0, 2, 1),
            raw.narrow(0, 3, 1).square(),
        ]
    }

    /// # Shapes
    /// - x: `[walkers, N·d]`
    pub fn forward(&self, x: &Tensor<2>, order: Order) -> LogPsi {
        let g = self.geometry;
        let (n, d) = (g.n_particles, g.dimensions);
        let [w, _] = x.dims();
        let [beta, a, gamma, kappa] = self.parameters().map(|t| t.reshape([1, 1]));
        let v = relative_positions(x, &g); // [w, N, d]
        let rho2 = crate::row_sum(v.clone().square().reshape([w * n, d])).reshape([w, n]); // [w, N]
        let a2 = a.clone().square();
        let q2 = rho2.clone() + a2.clone();
        let q = q2.clone().sqrt();
        let f = beta.clone() * (q.clone() - a.clone())
            + gamma.clone() * (q.clone() / a).log()
            + kappa.clone() * rho2.clone() * 0.5;
        let value = crate::row_sum(f).neg();
        let grad = order.gradient().then(|| {
            let h = (beta.clone() / q.clone() + gamma.clone() / q2.clone() + kappa.clone()).neg();
            let per_particle = (v * h.reshape([w, n, 1])).reshape([w, n, d, 1]);
            lift_relative_grad(per_particle).reshape([w, n * d])
        });
        let lap = order.laplacian().then(|| {
            let q3 = q2.clone() * q.clone();
            let per_particle = beta * (a2 / q3 + q.clone().recip() * (d as f64 - 1.0))
                + gamma * (q2.clone().recip() * d as f64 - rho2 * 2.0 / q2.clone().square())
                + kappa * d as f64;
            crate::row_sum(per_particle) * (-laplacian_factor(&g))
        });
        LogPsi { value, grad, lap }
    }
}
