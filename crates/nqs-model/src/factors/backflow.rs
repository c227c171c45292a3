//! Backflow Slater determinant: Hermite or plane-wave orbitals at quasi-particle
//! coordinates (issue 9).
//!
//! y_i = x_i + Σ_{j≠i} η_{p(ij)}(r_ij) (x_i − x_j), r_ij = |x_i − x_j|, with p(ij) the
//! spin-pair type (parallel, antiparallel) and η_p a tanh MLP of r (1 → W → … → 1, output
//! layer initialised to zero by default, so training starts exactly at the plain Slater
//! determinant). With Hermite orbitals (`orbitals = "hermite"`, trapped systems) the
//! determinants use Φ_kl = Π_a H_{n_la}(√(αω) y_ka) and the Gaussian e^{−αω Σ r_i²/2}
//! stays at the bare x; times a Padé–Jastrow this is the `bf` ansatz of
//! `../shared/peers/netket_qdot.py`. With plane waves (`orbitals = "plane_waves"`, periodic
//! systems) Φ_kl = cos(k_l·y_k − s_l), the separations are minimum images and η is
//! multiplied by the smooth cutoff of [`crate::pairs`] (zero with two derivatives at L/2),
//! so that y_i moves by L when x_i does and ψ is periodic and smooth.
//!
//! Every entry of Φ depends on all N·d coordinates, so the derivatives go through the
//! dense determinant jet ([`crate::log_det_jet`]). The chain rule, with d_ij = x_i − x_j,
//! s = η'(r)/r and t = η''(r) + (d + 1) η'(r)/r:
//!
//! - Jacobian ∂y_ia/∂x_kb = δ_ik δ_ab + Σ_{pairs (ij)} (e_i − e_j)_k (e_i − e_j)_i K_ab with
//!   K_ab = η δ_ab + s d_a d_b (symmetric in (k, b) ↔ (i, a));
//! - Laplacian ∇² y_ia = Σ_{j≠i} 2 t_ij (d_ij)_a (the Laplacian of η(|d|) d_a in d is
//!   d_a (η'' + (d + 1) η'/r), once for x_i and once for x_j);
//! - ∇² Φ_kl = Σ_a ∂_a Φ_kl ∇² y_ka + Σ_ab ∂_a ∂_b Φ_kl (∇y_ka · ∇y_kb).

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::derivatives::LogPsi;
use crate::factors::check_hidden;
use crate::factors::message_passing::{MessagePassing, MessagePassingConfig, PairLayout};
use crate::factors::plane_wave_slater::PlaneWaveSlater;
use crate::factors::slater::{SlaterConfig, SlaterDeterminant, gaussian, spin_product};
use crate::jet::Mlp;
use crate::pairs::cutoff_factors;
use crate::{Geometry, Jet, ModelError, Order, ParamRng, log_det_jet, row_sum};

/// Configuration of the backflow determinant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BackflowConfig {
    /// Initial orbital exponent α.
    #[serde(default = "one")]
    pub alpha: f64,
    /// Hidden tanh widths of each η network (the peer's default is [16, 16]).
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    /// Scale of the initial output layers (η and the message-passing readout); 0 starts
    /// exactly at the Slater determinant.
    #[serde(default)]
    pub output_gain: f64,
    /// Add the equivariant message-passing rescaling y_i += ξ_i x_i (absent: pair MLP only;
    /// trapped systems only).
    #[serde(default)]
    pub message_passing: Option<MessagePassingConfig>,
    /// `"hermite"` (trapped systems, the default) or `"plane_waves"` (periodic systems).
    #[serde(default)]
    pub orbitals: BackflowOrbitalKind,
}

/// The orbitals evaluated at the quasi-particle coordinates.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BackflowOrbitalKind {
    /// Hermite functions of a trap (with the Gaussian at the bare coordinates).
    #[default]
    Hermite,
    /// Plane waves of a periodic cell.
    PlaneWaves,
}

fn one() -> f64 {
    1.0
}
fn default_hidden() -> Vec<usize> {
    vec![16, 16]
}

impl Default for BackflowConfig {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            hidden: default_hidden(),
            output_gain: 0.0,
            message_passing: None,
            orbitals: BackflowOrbitalKind::Hermite,
        }
    }
}

/// The orbital set of a backflow determinant, borrowed from its [`Backflow`].
#[derive(Debug, Clone, Copy)]
enum BackflowOrbitals<'a> {
    /// Hermite orbitals, their exponent α and the Gaussian.
    Hermite(&'a SlaterDeterminant),
    /// Plane waves of a periodic cell.
    PlaneWaves(&'a PlaneWaveSlater),
}

/// Orbital table Φ_kl at the quasi-particle rows, `[walkers·N, n_orb]`, with its
/// y-derivatives: `d1[a]` = ∂Φ/∂y_a and `d2[a][b − a]` = ∂²Φ/∂y_a∂y_b for b ≥ a (when asked).
struct OrbitalJet {
    phi: Tensor<2>,
    d1: Vec<Tensor<2>>,
    d2: Vec<Vec<Tensor<2>>>,
}

impl BackflowOrbitals<'_> {
    fn n_orbitals(self) -> usize {
        match self {
            BackflowOrbitals::Hermite(s) => s.n_orbitals(),
            BackflowOrbitals::PlaneWaves(p) => p.n_orbitals(),
        }
    }

    /// Φ and its y-derivatives up to `derivs` (0, 1 or 2) at rows y, `[walkers·N, d]`.
    fn at(self, y: Tensor<2>, derivs: usize) -> OrbitalJet {
        let device = y.device();
        let d = y.dims()[1];
        match self {
            BackflowOrbitals::Hermite(slater) => {
                let n_orb = slater.n_orbitals();
                let alpha_omega = slater.alpha.val() * slater.omega; // [1]
                let q = alpha_omega.clone().sqrt().unsqueeze::<2>();
                let q2 = alpha_omega.unsqueeze::<2>();
                let arg = (y * q.clone()).select(1, slater.column_dimension(&device));
                let hermite = |deriv: usize| slater.hermite(&arg, deriv, &device);
                let columns = |t: &Tensor<2>, a: usize| t.clone().narrow(1, a * n_orb, n_orb);
                let h0 = hermite(0);
                let h0_a: Vec<Tensor<2>> = (0..d).map(|a| columns(&h0, a)).collect();
                let times_others = |t: Tensor<2>, skip: &[usize]| {
                    (0..d)
                        .filter(|b| !skip.contains(b))
                        .fold(t, |p, b| p * h0_a[b].clone())
                };
                let phi = times_others(h0_a[0].clone(), &[0]);
                let h1 = (derivs >= 1).then(|| hermite(1));
                let d1 = h1.as_ref().map_or(vec![], |h1| {
                    (0..d)
                        .map(|a| times_others(columns(h1, a), &[a]) * q.clone())
                        .collect()
                });
                let d2 = match (&h1, derivs >= 2) {
                    (Some(h1), true) => {
                        let h2 = hermite(2);
                        (0..d)
                            .map(|a| {
                                let mut row =
                                    vec![times_others(columns(&h2, a), &[a]) * q2.clone()];
                                row.extend(((a + 1)..d).map(|b| {
                                    times_others(columns(h1, a) * columns(h1, b), &[a, b])
                                        * q2.clone()
                                }));
                                row
                            })
                            .collect()
                    }
                    _ => vec![],
                };
                OrbitalJet { phi, d1, d2 }
            }
            BackflowOrbitals::PlaneWaves(pw) => {
                let phase = pw.phases(y);
                let phi = phase.clone().cos();
                let d1 = if derivs >= 1 {
                    let minus_sin = phase.sin().neg();
                    (0..d)
                        .map(|a| minus_sin.clone() * pw.k_row(a, &device))
                        .collect()
                } else {
                    vec![]
                };
                let d2 = if derivs >= 2 {
                    (0..d)
                        .map(|a| {
                            (a..d)
                                .map(|b| {
                                    phi.clone()
                                        * (pw.k_row(a, &device) * pw.k_row(b, &device)).neg()
                                })
                                .collect()
                        })
                        .collect()
                } else {
                    vec![]
                };
                OrbitalJet { phi, d1, d2 }
            }
        }
    }

    /// The factor outside the determinants: the Gaussian at the bare coordinates for Hermite
    /// orbitals, none for plane waves.
    fn envelope(self, x: &Tensor<2>, order: Order) -> Option<LogPsi> {
        match self {
            BackflowOrbitals::Hermite(slater) => {
                Some(gaussian(x, slater.alpha.val(), slater.omega, order))
            }
            BackflowOrbitals::PlaneWaves(_) => None,
        }
    }
}

/// Backflow Slater determinant factor.
#[derive(Module, Debug)]
pub struct Backflow {
    /// Hermite orbitals, their exponent α and the Gaussian (trapped systems; the field keeps
    /// its name so that checkpoints of earlier versions load).
    pub slater: Option<SlaterDeterminant>,
    /// Plane waves (periodic systems).
    pub plane_waves: Option<PlaneWaveSlater>,
    /// η for parallel-spin pairs (absent when there are none).
    pub eta_parallel: Option<Mlp>,
    /// η for antiparallel-spin pairs (absent when there are none).
    pub eta_antiparallel: Option<Mlp>,
    /// Message-passing rescaling ξ (optional).
    pub message_passing: Option<MessagePassing>,
    #[module(skip)]
    geometry: Geometry,
    /// Pairs (i, j), i < j: the parallel ones first, then the antiparallel ones.
    #[module(skip)]
    pairs: Vec<(usize, usize)>,
    #[module(skip)]
    n_parallel: usize,
    /// c in η(c r): 1 with Hermite orbitals (the peer's ansatz), √ω with plane waves, so
    /// that the networks see distances in units of the system's length scale.
    #[module(skip)]
    input_scale: f64,
}

impl BackflowConfig {
    /// Build the factor; N must fill closed shells with equal spin populations.
    pub fn init(
        &self,
        geometry: Geometry,
        omega: f64,
        index: usize,
        rng: &mut ParamRng,
        device: &Device,
    ) -> Result<Backflow, ModelError> {
        check_hidden(&self.hidden, index)?;
        if !(self.alpha > 0.0 && self.alpha.is_finite()) {
            return Err(ModelError::InvalidFactor {
                index,
                field: "alpha",
                value: self.alpha.to_string(),
                reason: "must be a positive number".into(),
            });
        }
        let periodic = geometry.cell.is_some();
        if periodic != (self.orbitals == BackflowOrbitalKind::PlaneWaves) {
            return Err(ModelError::InvalidFactor {
                index,
                field: "orbitals",
                value: match self.orbitals {
                    BackflowOrbitalKind::Hermite => "\"hermite\"".into(),
                    BackflowOrbitalKind::PlaneWaves => "\"plane_waves\"".into(),
                },
                reason: if periodic {
                    "a periodic system needs orbitals = \"plane_waves\"".into()
                } else {
                    "plane waves need a periodic system; use orbitals = \"hermite\" in a trap"
                        .into()
                },
            });
        }
        if periodic && self.message_passing.is_some() {
            return Err(ModelError::InvalidFactor {
                index,
                field: "message_passing",
                value: "(set)".into(),
                reason: "the message-passing update reads absolute positions and is not periodic; remove it in a periodic system".into(),
            });
        }
        let (slater, plane_waves) = match self.orbitals {
            BackflowOrbitalKind::Hermite => (
                Some(SlaterConfig { alpha: self.alpha }.init(geometry, omega, device)?),
                None,
            ),
            BackflowOrbitalKind::PlaneWaves => (None, Some(PlaneWaveSlater::new(geometry, index)?)),
        };
        let n = geometry.n_particles;
        let all = crate::pairs::pair_indices(n);
        let same = |&(i, j): &(usize, usize)| geometry.is_up(i) == geometry.is_up(j);
        let mut pairs: Vec<(usize, usize)> = all.iter().copied().filter(same).collect();
        let n_parallel = pairs.len();
        pairs.extend(all.iter().copied().filter(|p| !same(p)));
        let mut mlp = |count: usize| {
            (count > 0).then(|| Mlp::new(1, &self.hidden, self.output_gain, rng, device))
        };
        let eta_parallel = mlp(n_parallel);
        let eta_antiparallel = mlp(pairs.len() - n_parallel);
        let message_passing = match &self.message_passing {
            Some(c) => Some(c.init(
                n_parallel > 0,
                pairs.len() > n_parallel,
                omega,
                self.output_gain,
                index,
                rng,
                device,
            )?),
            None => None,
        };
        Ok(Backflow {
            slater,
            plane_waves,
            eta_parallel,
            eta_antiparallel,
            message_passing,
            geometry,
            pairs,
            n_parallel,
            input_scale: match self.orbitals {
                BackflowOrbitalKind::Hermite => 1.0,
                BackflowOrbitalKind::PlaneWaves => omega.sqrt(),
            },
        })
    }
}

/// η, s = η′/r and η″ of every pair, `[walkers, P]` each (derivatives up to `order`).
struct Eta {
    value: Tensor<2>,
    s: Option<Tensor<2>>,
    d2: Option<Tensor<2>>,
}

impl Backflow {
    /// log|ψ| with derivatives, and the sign of the determinant product.
    ///
    /// # Shapes
    /// - x: `[walkers, N·d]`
    pub fn forward(&self, x: &Tensor<2>, order: Order) -> (LogPsi, Tensor<1>) {
        let [w, nd] = x.dims();
        let g = self.geometry;
        let (n, d) = (g.n_particles, g.dimensions);
        let n_orb = self.orbitals().n_orbitals();
        let device = x.device();

        let separation = self.separation(&device); // [N·d, d·P]
        let to_particles = separation.clone().transpose(); // [d·P, N·d]
        let (diff, r) = self.separations(x, separation);
        let eta = self.eta(r.clone(), order);
        let repeat = |t: Tensor<2>| Tensor::cat(vec![t; d], 1); // [w, P] → [w, d·P]
        let xi = self.xi(x, &diff, &r, order);
        let y = self.displace(x, &diff, &eta.value, xi.as_ref(), to_particles.clone());
        let derivs = usize::from(order.gradient()) + usize::from(order.laplacian());
        let orbitals = self.orbitals().at(y.reshape([w * n, d]), derivs);
        let blocks = |m: Tensor<2>| -> Tensor<3> { m.reshape([2 * w, n_orb, n_orb]) };

        let (grad_phi, lap_phi) = match eta.s {
            None => (None, None),
            Some(s) => {
                let jac = self.jacobian(&diff, &eta.value, &s, w); // [w, N·d(k,b), N, d]
                let jac = match &xi {
                    Some(xi) => jac + xi_jacobian(xi, x, g),
                    None => jac,
                };
                let dphi = &orbitals.d1; // ∂Φ_kl/∂y_ka, [w·N, n_orb] each
                // ∂Φ_kl/∂x_m = Σ_a J[m, (k, a)] ∂_a Φ_kl: [w, N·d, N, n_orb]
                let grad_phi = (0..d)
                    .map(|a| {
                        jac.clone().narrow(3, a, 1) * dphi[a].clone().reshape([w, 1, n, n_orb])
                    })
                    .reduce(|s, t| s + t)
                    .expect("d >= 1");
                let lap_phi = eta.d2.map(|d2| {
                    let t = d2 + s * (d as f64 + 1.0); // [w, P]
                    let lap_y = (repeat(t * 2.0) * diff.clone())
                        .matmul(to_particles)
                        .reshape([w * n, d]);
                    let lap_y = match &xi {
                        Some(xi) => lap_y + xi_laplacian(xi, x, g),
                        None => lap_y,
                    };
                    // Gram block G_ab of particle k: Σ_m J[m, (k, a)] J[m, (k, b)], [w·N, 1].
                    let gram = |a: usize, b: usize| {
                        row_sum(
                            (jac.clone().narrow(3, a, 1) * jac.clone().narrow(3, b, 1))
                                .reshape([w, nd, n])
                                .swap_dims(1, 2)
                                .reshape([w * n, nd]),
                        )
                        .reshape([w * n, 1])
                    };
                    let mut lap = None::<Tensor<2>>;
                    let mut add = |t: Tensor<2>| {
                        lap = Some(match lap.take() {
                            Some(l) => l + t,
                            None => t,
                        })
                    };
                    for a in 0..d {
                        add(dphi[a].clone() * lap_y.clone().narrow(1, a, 1));
                        add(orbitals.d2[a][0].clone() * gram(a, a));
                        for b in (a + 1)..d {
                            add(orbitals.d2[a][b - a].clone() * gram(a, b) * 2.0);
                        }
                    }
                    blocks(lap.expect("d >= 1"))
                });
                // [w, N·d, N, n_orb] → [w, N·d, 2, n, n] → [2w, N·d, n, n]
                let grad_blocks = grad_phi
                    .reshape([w, nd, 2, n_orb * n_orb])
                    .swap_dims(1, 2)
                    .reshape([2 * w, nd, n_orb, n_orb]);
                (Some(grad_blocks), lap_phi)
            }
        };
        let jet = log_det_jet(blocks(orbitals.phi), grad_phi, lap_phi);
        let (log_det, sign) = spin_product(jet.log_abs, jet.sign, w);
        let det = LogPsi {
            value: log_det,
            grad: jet
                .grad
                .map(|g| g.reshape([w, 2, nd]).sum_dim(1).reshape([w, nd])),
            lap: jet.lap.map(|l| row_sum(l.reshape([w, 2]))),
        };
        match self.orbitals().envelope(x, order) {
            Some(envelope) => (det.add(envelope), sign),
            None => (det, sign),
        }
    }

    /// The pairs (i, j), i < j, parallel ones first, and how many are parallel.
    pub(crate) fn pair_layout(&self) -> (&[(usize, usize)], usize) {
        (&self.pairs, self.n_parallel)
    }

    /// c in η(c r).
    pub(crate) fn input_scale(&self) -> f64 {
        self.input_scale
    }

    /// The orbital set: exactly one of `slater` and `plane_waves` is built.
    fn orbitals(&self) -> BackflowOrbitals<'_> {
        match (&self.slater, &self.plane_waves) {
            (Some(s), _) => BackflowOrbitals::Hermite(s),
            (None, Some(p)) => BackflowOrbitals::PlaneWaves(p),
            (None, None) => unreachable!("a backflow factor is built with one orbital set"),
        }
    }

    /// The quasi-particle coordinates y, `[walkers, N·d]`.
    ///
    /// # Shapes
    /// - x: `[walkers, N·d]`
    pub fn quasi_particles(&self, x: &Tensor<2>) -> Tensor<2> {
        let separation = self.separation(&x.device());
        let (diff, r) = self.separations(x, separation.clone());
        let eta = self.eta(r.clone(), Order::Value);
        let xi = self.xi(x, &diff, &r, Order::Value);
        self.displace(x, &diff, &eta.value, xi.as_ref(), separation.transpose())
    }

    /// The message-passing ξ_i, rows `[walkers·N]`, when configured.
    fn xi(&self, x: &Tensor<2>, diff: &Tensor<2>, r: &Tensor<2>, order: Order) -> Option<Jet> {
        let layout = PairLayout {
            pairs: &self.pairs,
            n_parallel: self.n_parallel,
            geometry: self.geometry,
        };
        self.message_passing
            .as_ref()
            .map(|mp| mp.forward(x, diff, r, &layout, order))
    }

    /// Pair separations, dimension-major (column a·P + p holds (x_i − x_j)_a of pair p),
    /// `[walkers, d·P]`, and the pair distances r, `[walkers, P]`.
    fn separations(&self, x: &Tensor<2>, separation: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let n_pairs = self.pairs.len();
        let diff = self.geometry.minimum_image(x.clone().matmul(separation));
        let r = (0..self.geometry.dimensions)
            .map(|a| diff.clone().narrow(1, a * n_pairs, n_pairs).square())
            .reduce(|s, t| s + t)
            .expect("d >= 1")
            .sqrt();
        (diff, r)
    }

    /// y = x + Σ_{pairs} (e_i − e_j) η (x_i − x_j) (one product with the incidence
    /// matrix Dᵀ, `[d·P, N·d]`) + ξ_i x_i.
    fn displace(
        &self,
        x: &Tensor<2>,
        diff: &Tensor<2>,
        eta: &Tensor<2>,
        xi: Option<&Jet>,
        incidence: Tensor<2>,
    ) -> Tensor<2> {
        let (w, n, d) = (
            x.dims()[0],
            self.geometry.n_particles,
            self.geometry.dimensions,
        );
        let shift = Tensor::cat(vec![eta.clone(); d], 1) * diff.clone();
        let y = x.clone() + shift.matmul(incidence);
        match xi {
            Some(xi) => y + (xi.value.clone() * x.clone().reshape([w * n, d])).reshape([w, n * d]),
            None => y,
        }
    }

    /// η of every pair with the derivatives that `order` needs (η′ for gradients, η″ for
    /// Laplacians), each MLP on its own pair type.
    fn eta(&self, r: Tensor<2>, order: Order) -> Eta {
        let [w, n_pairs] = r.dims();
        let np = self.n_parallel;
        let parts: Vec<(Jet, usize)> = [
            (&self.eta_parallel, 0, np),
            (&self.eta_antiparallel, np, n_pairs - np),
        ]
        .into_iter()
        .filter_map(|(mlp, start, len)| {
            let mlp = mlp.as_ref().filter(|_| len > 0)?;
            let input = r.clone().narrow(1, start, len).reshape([w * len, 1]) * self.input_scale;
            Some((mlp.forward(Jet::input(input, 1, order)), len))
        })
        .collect();
        let join = |pick: &dyn Fn(&Jet) -> Option<Tensor<2>>| -> Option<Tensor<2>> {
            let cols: Option<Vec<Tensor<2>>> = parts
                .iter()
                .map(|(jet, len)| pick(jet).map(|t| t.reshape([w, *len])))
                .collect();
            cols.map(|c| Tensor::cat(c, 1))
        };
        let value = join(&|j| Some(j.value.clone())).expect("at least one pair");
        let s = join(&|j| {
            j.grad.clone().map(|g| {
                let rows = g.dims()[0];
                g.reshape([rows, 1])
            })
        })
        .map(|d1| d1 * self.input_scale / r.clone());
        let d2 = join(&|j| j.lap.clone()).map(|d2| d2 * (self.input_scale * self.input_scale));
        match self.geometry.cell {
            // η̃ = η f: s̃ = s f + η g and η̃'' = η'' f + 2 s r² g + η f'' (g = f'/r).
            Some(l) => {
                let r2 = r.square();
                let (f, g, f2) = cutoff_factors(r2.clone(), l / 2.0);
                let d2 = match (d2, &s) {
                    (Some(d2), Some(s)) => {
                        Some(d2 * f.clone() + s.clone() * r2 * g.clone() * 2.0 + value.clone() * f2)
                    }
                    _ => None,
                };
                let s = s.map(|s| s * f.clone() + value.clone() * g);
                Eta {
                    value: value * f,
                    s,
                    d2,
                }
            }
            None => Eta { value, s, d2 },
        }
    }

    /// J[w, (k, b), k', a] = ∂y_{k'a}/∂x_{kb}, `[walkers, N·d, N, d]`.
    fn jacobian(&self, diff: &Tensor<2>, eta: &Tensor<2>, s: &Tensor<2>, w: usize) -> Tensor<4> {
        let g = self.geometry;
        let (n, d, n_pairs) = (g.n_particles, g.dimensions, self.pairs.len());
        let device = diff.device();
        let diff3 = diff.clone().reshape([w, d, 1, n_pairs]);
        let outer = diff3.clone() * diff3.swap_dims(1, 2); // [w, d, d, P]: d_a d_b
        let eye: Tensor<4> = Tensor::<2>::eye(d, &device).reshape([1, d, d, 1]);
        let k = outer * s.clone().reshape([w, 1, 1, n_pairs])
            + eye * eta.clone().reshape([w, 1, 1, n_pairs]); // K_ab per pair
        // Σ_p (e_i − e_j)_k (e_i − e_j)_k' K_p,ab: [w·d·d, P] · [P, N·N] → [w, a, b, k, k']
        let spread: Tensor<5> = k
            .reshape([w * d * d, n_pairs])
            .matmul(self.pair_outer(&device))
            .reshape([w, d, d, n, n]);
        // → [w, k, b, k', a]; identity on (k, b) = (k', a)
        let jac = spread.permute([0, 3, 2, 4, 1]).reshape([w, n * d, n * d]);
        let jac = jac + Tensor::<2>::eye(n * d, &device).unsqueeze::<3>();
        jac.reshape([w, n * d, n, d])
    }

    /// D[i·d + a, a·P + p] = +1 and D[j·d + a, a·P + p] = −1 for pair p = (i, j):
    /// x·D are the separations, `[N·d, d·P]`.
    fn separation(&self, device: &Device) -> Tensor<2> {
        let d = self.geometry.dimensions;
        let (nd, np) = (self.geometry.n_coords(), self.pairs.len());
        let mut m = vec![0.0; nd * d * np];
        for (p, &(i, j)) in self.pairs.iter().enumerate() {
            for a in 0..d {
                m[(i * d + a) * d * np + a * np + p] = 1.0;
                m[(j * d + a) * d * np + a * np + p] = -1.0;
            }
        }
        Tensor::from_data(TensorData::new(m, [nd, d * np]), device)
    }

    /// S[p, k·N + k'] = (e_i − e_j)_k (e_i − e_j)_k' for pair p = (i, j), `[P, N·N]`.
    fn pair_outer(&self, device: &Device) -> Tensor<2> {
        let n = self.geometry.n_particles;
        let np = self.pairs.len();
        let mut m = vec![0.0; np * n * n];
        for (p, &(i, j)) in self.pairs.iter().enumerate() {
            m[p * n * n + i * n + i] = 1.0;
            m[p * n * n + j * n + j] = 1.0;
            m[p * n * n + i * n + j] = -1.0;
            m[p * n * n + j * n + i] = -1.0;
        }
        Tensor::from_data(TensorData::new(m, [np, n * n]), device)
    }
}

/// ∂(ξ_i x_ia)/∂x_kb = ∂ξ_i/∂x_kb x_ia + ξ_i δ_ik δ_ab, laid out like the Jacobian,
/// `[walkers, N·d(k, b), N(i), d(a)]`.
fn xi_jacobian(xi: &Jet, x: &Tensor<2>, g: Geometry) -> Tensor<4> {
    let [w, nd] = x.dims();
    let (n, d) = (g.n_particles, g.dimensions);
    let grad = xi.grad.clone().expect("ξ gradient").reshape([w, n, nd]);
    let eye: Tensor<4> = Tensor::<2>::eye(nd, &x.device()).reshape([1, nd, n, d]);
    grad.swap_dims(1, 2).unsqueeze_dim::<4>(3) * x.clone().reshape([w, 1, n, d])
        + eye * xi.value.clone().reshape([w, 1, n, 1])
}

/// ∇²(ξ_i x_ia) = ∇²ξ_i x_ia + 2 ∂ξ_i/∂x_ia, `[walkers·N, d]`.
fn xi_laplacian(xi: &Jet, x: &Tensor<2>, g: Geometry) -> Tensor<2> {
    let [w, _] = x.dims();
    let (n, d) = (g.n_particles, g.dimensions);
    let grad = xi.grad.clone().expect("ξ gradient").reshape([w, n, n, d]);
    let eye: Tensor<4> = Tensor::<2>::eye(n, &x.device()).reshape([1, n, n, 1]);
    let own = (grad * eye).sum_dim(2).reshape([w * n, d]); // ∂ξ_i/∂x_ia
    xi.lap.clone().expect("ξ Laplacian") * x.clone().reshape([w * n, d]) + own * 2.0
}
