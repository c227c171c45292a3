//! Backflow Slater determinant: Hermite orbitals at quasi-particle coordinates (issue 9).
//!
//! y_i = x_i + Σ_{j≠i} η_{p(ij)}(r_ij) (x_i − x_j), r_ij = |x_i − x_j|, with p(ij) the
//! spin-pair type (parallel, antiparallel) and η_p a tanh MLP of r (1 → W → … → 1, output
//! layer initialised to zero by default, so training starts exactly at the plain Slater
//! determinant). The determinants use Φ_kl = Π_a H_{n_la}(√(αω) y_ka); the Gaussian
//! e^{−αω Σ r_i²/2} stays at the bare x. Times a Padé–Jastrow this is the `bf` ansatz of
//! `../shared/peers/netket_qdot.py`.
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
use crate::factors::slater::{SlaterConfig, SlaterDeterminant, gaussian};
use crate::jet::Mlp;
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
    /// Add the equivariant message-passing rescaling y_i += ξ_i x_i (absent: pair MLP only).
    #[serde(default)]
    pub message_passing: Option<MessagePassingConfig>,
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
        }
    }
}

/// Backflow Slater determinant factor.
#[derive(Module, Debug)]
pub struct Backflow {
    /// Orbitals, their exponent α and the Gaussian.
    pub slater: SlaterDeterminant,
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
        let slater = SlaterConfig { alpha: self.alpha }.init(geometry, omega, device)?;
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
            eta_parallel,
            eta_antiparallel,
            message_passing,
            geometry,
            pairs,
            n_parallel,
        })
    }
}

/// η, η′ and η″ of every pair, `[walkers, P]` each (derivatives up to `order`).
struct Eta {
    value: Tensor<2>,
    d1: Option<Tensor<2>>,
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
        let n_orb = self.slater.n_orbitals();
        let device = x.device();
        let alpha_omega = self.slater.alpha.val() * self.slater.omega; // [1]
        let q = alpha_omega.clone().sqrt();

        let separation = self.separation(&device); // [N·d, d·P]
        let to_particles = separation.clone().transpose(); // [d·P, N·d]
        let (diff, r) = self.separations(x, separation);
        let eta = self.eta(r.clone(), order);
        let repeat = |t: Tensor<2>| Tensor::cat(vec![t; d], 1); // [w, P] → [w, d·P]
        let xi = self.xi(x, &diff, &r, order);
        let y = self.displace(x, &diff, &eta.value, xi.as_ref(), to_particles.clone());

        // Hermite polynomials at q y, and their first and second derivatives.
        let arg = y.reshape([w * n, d]) * q.clone().unsqueeze::<2>();
        let arg = arg.select(1, self.slater.column_dimension(&device));
        let hermite = |deriv: usize| self.slater.hermite(&arg, deriv, &device);
        let columns = |t: &Tensor<2>, a: usize| t.clone().narrow(1, a * n_orb, n_orb);
        let h0 = hermite(0);
        let h0_a: Vec<Tensor<2>> = (0..d).map(|a| columns(&h0, a)).collect();
        let product_except = |skip: &[usize]| -> Option<Tensor<2>> {
            (0..d)
                .filter(|b| !skip.contains(b))
                .map(|b| h0_a[b].clone())
                .reduce(|p, t| p * t)
        };
        let times = |t: Tensor<2>, o: Option<Tensor<2>>| match o {
            Some(o) => t * o,
            None => t,
        };
        let phi = product_except(&[]).expect("d >= 1"); // [w·N, n_orb]
        let blocks = |m: Tensor<2>| -> Tensor<3> { m.reshape([2 * w, n_orb, n_orb]) };

        let (grad_phi, lap_phi) = match eta.d1 {
            None => (None, None),
            Some(d1) => {
                let s = d1 / r.clone(); // η′/r, [w, P]
                let jac = self.jacobian(&diff, &eta.value, &s, w); // [w, N·d(k,b), N, d]
                let jac = match &xi {
                    Some(xi) => jac + xi_jacobian(xi, x, g),
                    None => jac,
                };
                let h1 = hermite(1);
                // ∂Φ_kl/∂y_ka, [w·N, n_orb] each
                let dphi: Vec<Tensor<2>> = (0..d)
                    .map(|a| {
                        times(columns(&h1, a), product_except(&[a])) * q.clone().unsqueeze::<2>()
                    })
                    .collect();
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
                    let h2 = hermite(2);
                    let q2 = alpha_omega.clone().unsqueeze::<2>();
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
                        let second = times(columns(&h2, a), product_except(&[a])) * q2.clone();
                        add(second * gram(a, a));
                        for b in (a + 1)..d {
                            let mixed =
                                times(columns(&h1, a) * columns(&h1, b), product_except(&[a, b]))
                                    * q2.clone();
                            add(mixed * gram(a, b) * 2.0);
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
        let jet = log_det_jet(blocks(phi), grad_phi, lap_phi);
        let log_det = row_sum(jet.log_abs.reshape([w, 2]));
        let sign = jet.sign.reshape([w, 2]);
        let sign = (sign.clone().narrow(1, 0, 1) * sign.narrow(1, 1, 1)).reshape([w]);
        let det = LogPsi {
            value: log_det,
            grad: jet
                .grad
                .map(|g| g.reshape([w, 2, nd]).sum_dim(1).reshape([w, nd])),
            lap: jet.lap.map(|l| row_sum(l.reshape([w, 2]))),
        };
        (det.add(gaussian(x, alpha_omega, order)), sign)
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
        let diff = x.clone().matmul(separation);
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
            let input = r.clone().narrow(1, start, len).reshape([w * len, 1]);
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
        Eta {
            value: join(&|j| Some(j.value.clone())).expect("at least one pair"),
            d1: join(&|j| {
                j.grad.clone().map(|g| {
                    let rows = g.dims()[0];
                    g.reshape([rows, 1])
                })
            }),
            d2: join(&|j| j.lap.clone()),
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
