//! Message passing for the backflow: a collective, exchange-equivariant rescaling
//! y_i += ξ_i x_i, with ξ_i read out of one-particle features updated from spin-resolved means
//! over the other particles (FermiNet, Pfau et al. 2020; message-passing states, Pescia et
//! al., PRB 110, 035108 (2024)).
//!
//! - one-particle stream: h_i⁰ = ω r_i²;
//! - pair stream: φ_ij = tanh(W_p √ω r_ij + b_p), one embedding per spin-pair type p;
//! - layer l: h_i^{l+1} = tanh(W_l [h_i^l, ⟨h_j^l⟩_∥, ⟨h_j^l⟩_⊥, ⟨φ_ij⟩_∥, ⟨φ_ij⟩_⊥] + b_l), the
//!   means over the other particles j of the same (∥) and the other (⊥) spin;
//! - readout ξ_i = w·h_i^L + c, initialised by `output_gain` (0: no change at the start).
//!
//! All inputs are the invariants r_i and r_ij, so ξ_i is rotation invariant and ξ_i x_i is
//! rotation-equivariant; the means are symmetric under exchange of same-spin particles, so
//! ξ permutes with them. Every h_i depends on all coordinates: the jets carry gradients with
//! respect to all N·d of them (rows are particles, `n_in = N·d`).

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::jet::Dense;
use crate::{Geometry, Jet, ModelError, Order, ParamRng, row_sum};

/// `[model.factors.message_passing]` of a `backflow` factor.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MessagePassingConfig {
    /// Width F of the one-particle and pair features.
    #[serde(default = "default_width")]
    pub width: usize,
    /// Number of message-passing layers L.
    #[serde(default = "default_layers")]
    pub layers: usize,
}

fn default_width() -> usize {
    16
}
fn default_layers() -> usize {
    2
}

impl Default for MessagePassingConfig {
    fn default() -> Self {
        Self {
            width: default_width(),
            layers: default_layers(),
        }
    }
}

/// The message-passing network producing ξ_i.
#[derive(Module, Debug)]
pub struct MessagePassing {
    /// Pair embedding of parallel-spin pairs.
    pub embed_parallel: Option<Dense>,
    /// Pair embedding of antiparallel-spin pairs.
    pub embed_antiparallel: Option<Dense>,
    /// Update layers.
    pub layers: Vec<Dense>,
    /// Readout F → 1.
    pub readout: Dense,
    #[module(skip)]
    omega: f64,
}

impl MessagePassingConfig {
    /// Build the network (`index`: the factor's position, for errors).
    #[allow(clippy::too_many_arguments)]
    pub fn init(
        &self,
        has_parallel: bool,
        has_antiparallel: bool,
        omega: f64,
        output_gain: f64,
        index: usize,
        rng: &mut ParamRng,
        device: &Device,
    ) -> Result<MessagePassing, ModelError> {
        if self.width == 0 || !(1..=4).contains(&self.layers) {
            return Err(ModelError::InvalidFactor {
                index,
                field: "message_passing",
                value: format!("width = {}, layers = {}", self.width, self.layers),
                reason: "needs width ≥ 1 and 1 to 4 layers".into(),
            });
        }
        let f = self.width;
        let mut embed = |present: bool| present.then(|| Dense::new(1, f, 1.0, rng, device));
        let embed_parallel = embed(has_parallel);
        let embed_antiparallel = embed(has_antiparallel);
        let layers = (0..self.layers)
            .map(|l| {
                let h = if l == 0 { 1 } else { f };
                Dense::new(3 * h + 2 * f, f, 1.0, rng, device)
            })
            .collect();
        Ok(MessagePassing {
            embed_parallel,
            embed_antiparallel,
            layers,
            readout: Dense::new(f, 1, output_gain, rng, device),
            omega,
        })
    }
}

/// The pairs of a backflow factor: (i, j) with i < j, parallel-spin pairs first.
pub(crate) struct PairLayout<'a> {
    pub pairs: &'a [(usize, usize)],
    pub n_parallel: usize,
    pub geometry: Geometry,
}

impl MessagePassing {
    /// ξ_i for every particle, a jet on rows `[walkers·N]` of width 1 with derivatives with
    /// respect to all N·d coordinates of the walker.
    ///
    /// # Shapes
    /// - x: `[walkers, N·d]`; diff: `[walkers, d·P]` (column a·P + p); r: `[walkers, P]`
    pub(crate) fn forward(
        &self,
        x: &Tensor<2>,
        diff: &Tensor<2>,
        r: &Tensor<2>,
        layout: &PairLayout,
        order: Order,
    ) -> Jet {
        let [w, nd] = x.dims();
        let (n, d) = (layout.geometry.n_particles, layout.geometry.dimensions);
        let device = x.device();
        let omega = self.omega;
        // h⁰_i = ω r_i²: ∂/∂x_ka = 2ω x_ia δ_ik, Laplacian 2ωd.
        let s = row_sum(x.clone().reshape([w * n, d]).square()).reshape([w * n, 1]) * omega;
        let grad = order.gradient().then(|| {
            let eye: Tensor<4> = Tensor::<2>::eye(n, &device).reshape([1, n, n, 1]);
            (x.clone().reshape([w, 1, n, d]) * eye * (2.0 * omega)).reshape([w * n, nd, 1])
        });
        let lap = order
            .laplacian()
            .then(|| Tensor::<2>::ones([w * n, 1], &device) * (2.0 * omega * d as f64));
        let mut h = Jet {
            value: s,
            grad,
            lap,
        };
        let phi = self.embed(r, layout.n_parallel, order); // [w, P, F] each
        let c = phi.1.clone().map(|d1| d1 / r.clone().unsqueeze_dim::<3>(2)); // φ′/r
        let matrices = SpinMeans::new(layout, &device);
        let pair_means: Vec<Jet> = [
            (&matrices.r_par, &matrices.q_par),
            (&matrices.r_anti, &matrices.q_anti),
        ]
        .into_iter()
        .map(|(r_t, q_t)| pair_mean(&phi, c.clone(), diff, r_t, q_t, layout, w))
        .collect();
        for layer in &self.layers {
            let input = Jet::cat(vec![
                h.clone(),
                particle_mean(&h, &matrices.a_par, w, n),
                particle_mean(&h, &matrices.a_anti, w, n),
                pair_means[0].clone(),
                pair_means[1].clone(),
            ]);
            h = layer.forward(input).tanh();
        }
        self.readout.forward(h)
    }

    /// φ(√ω r) per pair with φ′ and φ″ in r as far as `order` needs, `[walkers, P, F]`.
    fn embed(
        &self,
        r: &Tensor<2>,
        n_parallel: usize,
        order: Order,
    ) -> (Tensor<3>, Option<Tensor<3>>, Option<Tensor<3>>) {
        let [w, n_pairs] = r.dims();
        let scale = self.omega.sqrt();
        let parts: Vec<(Jet, usize)> = [
            (&self.embed_parallel, 0, n_parallel),
            (&self.embed_antiparallel, n_parallel, n_pairs - n_parallel),
        ]
        .into_iter()
        .filter_map(|(dense, start, len)| {
            let dense = dense.as_ref().filter(|_| len > 0)?;
            let input = r.clone().narrow(1, start, len).reshape([w * len, 1]);
            let jet = dense
                .forward(Jet::input(input, 1, order).scale(scale))
                .tanh();
            Some((jet, len))
        })
        .collect();
        let join = |pick: &dyn Fn(&Jet) -> Option<Tensor<2>>| -> Option<Tensor<3>> {
            let cols: Option<Vec<Tensor<3>>> = parts
                .iter()
                .map(|(jet, len)| {
                    pick(jet).map(|t| {
                        let f = t.dims()[1];
                        t.reshape([w, *len, f])
                    })
                })
                .collect();
            cols.map(|c| Tensor::cat(c, 1))
        };
        (
            join(&|j| Some(j.value.clone())).expect("at least one pair"),
            join(&|j| {
                j.grad.clone().map(|g| {
                    let [rows, _, f] = g.dims();
                    g.reshape([rows, f])
                })
            }),
            join(&|j| j.lap.clone()),
        )
    }
}

/// Constant matrices of the spin-resolved means (∥: same spin, ⊥: other spin).
struct SpinMeans {
    /// R[i, p] = 1/n_t(i) when particle i is in pair p of type t, `[N, P]`.
    r_par: Tensor<2>,
    r_anti: Tensor<2>,
    /// Q[i·N + k, p] = R[i, p] (e_a − e_b)_k for pair p = (a, b), `[N·N, P]`.
    q_par: Tensor<2>,
    q_anti: Tensor<2>,
    /// A[i, j] = 1/n_t(i) for j ≠ i of type t, `[N, N]`.
    a_par: Tensor<2>,
    a_anti: Tensor<2>,
}

impl SpinMeans {
    fn new(layout: &PairLayout, device: &Device) -> Self {
        let g = layout.geometry;
        let n = g.n_particles;
        let np = layout.pairs.len();
        let same = |i: usize, j: usize| g.is_up(i) == g.is_up(j);
        let count =
            |i: usize, parallel: bool| (0..n).filter(|&j| j != i && same(i, j) == parallel).count();
        let build = |parallel: bool| {
            let (mut r, mut q, mut a) =
                (vec![0.0; n * np], vec![0.0; n * n * np], vec![0.0; n * n]);
            for (p, &(i, j)) in layout.pairs.iter().enumerate() {
                if same(i, j) != parallel {
                    continue;
                }
                for (me, other) in [(i, j), (j, i)] {
                    let weight = 1.0 / count(me, parallel) as f64;
                    r[me * np + p] = weight;
                    q[(me * n + i) * np + p] = weight;
                    q[(me * n + j) * np + p] = -weight;
                    a[me * n + other] = weight;
                }
            }
            let t = |v: Vec<f64>, shape: [usize; 2]| {
                Tensor::<2>::from_data(TensorData::new(v, shape), device)
            };
            (t(r, [n, np]), t(q, [n * n, np]), t(a, [n, n]))
        };
        let (r_par, q_par, a_par) = build(true);
        let (r_anti, q_anti, a_anti) = build(false);
        Self {
            r_par,
            r_anti,
            q_par,
            q_anti,
            a_par,
            a_anti,
        }
    }
}

/// m_i = Σ_p R[i, p] φ_p(r_p) as a jet over all coordinates: ∂m_i/∂x_ka = Σ_p Q[(i, k), p]
/// (x_a − x_b)_a φ′_p/r_p, and ∇²m_i = Σ_p R[i, p] 2(φ″_p + (d − 1) φ′_p/r_p).
fn pair_mean(
    phi: &(Tensor<3>, Option<Tensor<3>>, Option<Tensor<3>>),
    c: Option<Tensor<3>>,
    diff: &Tensor<2>,
    r_t: &Tensor<2>,
    q_t: &Tensor<2>,
    layout: &PairLayout,
    w: usize,
) -> Jet {
    let (n, d) = (layout.geometry.n_particles, layout.geometry.dimensions);
    let np = layout.pairs.len();
    let f = phi.0.dims()[2];
    // Σ_p R[i, p] t[w, p, f] for every i: [w, P, F] → [w·N, F]
    let over_pairs = |t: Tensor<3>| -> Tensor<2> {
        t.swap_dims(1, 2)
            .reshape([w * f, np])
            .matmul(r_t.clone().transpose())
            .reshape([w, f, n])
            .swap_dims(1, 2)
            .reshape([w * n, f])
    };
    let value = over_pairs(phi.0.clone());
    let grad = c.clone().map(|c| {
        let sep = diff.clone().reshape([w, d, np]).swap_dims(1, 2); // [w, P, d]
        let t = sep.unsqueeze_dim::<4>(3) * c.unsqueeze_dim::<4>(2); // [w, P, d, F]
        let spread: Tensor<5> = q_t
            .clone()
            .matmul(t.swap_dims(0, 1).reshape([np, w * d * f]))
            .reshape([n, n, w, d, f]);
        spread.permute([2, 0, 1, 3, 4]).reshape([w * n, n * d, f])
    });
    let lap = match (&phi.2, c) {
        (Some(d2), Some(c)) => Some(over_pairs((d2.clone() + c * (d as f64 - 1.0)) * 2.0)),
        _ => None,
    };
    Jet { value, grad, lap }
}

/// ⟨h_j⟩_t = Σ_j A[i, j] h_j: a linear map over the particles, applied to every component.
fn particle_mean(h: &Jet, a: &Tensor<2>, w: usize, n: usize) -> Jet {
    let fw = h.value.dims()[1];
    let am = a.clone().unsqueeze::<3>().expand([w, n, n]);
    let apply = |t: Tensor<2>| {
        am.clone()
            .matmul(t.reshape([w, n, fw]))
            .reshape([w * n, fw])
    };
    Jet {
        value: apply(h.value.clone()),
        grad: h.grad.clone().map(|g| {
            let nd = g.dims()[1];
            am.clone()
                .matmul(g.reshape([w, n, nd * fw]))
                .reshape([w * n, nd, fw])
        }),
        lap: h.lap.clone().map(apply),
    }
}
