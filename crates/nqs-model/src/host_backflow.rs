//! The pair-MLP backflow displacement y_i = x_i + Σ_{j≠i} η_{p(ij)}(r_ij)(x_i − x_j) on
//! host lanes, for the host value pass of a backflow determinant ([`crate::HostLogPsi`]):
//! the same function as `Backflow::quasi_particles` for Hermite orbitals without
//! message passing (the tests compare the whole log|ψ| with the factor's ops).

use crate::factors::Backflow;
use crate::host_det::{LANES, Lanes};
use crate::host_eta_table::EtaTable;
use crate::host_tanh::{host_values, tanh_one};
use crate::jet::Mlp;

/// One dense layer: weight `[d_in][d_out]` row-major and bias `[d_out]`.
#[derive(Debug, Clone)]
struct Layer {
    d_out: usize,
    weight: Vec<f64>,
    bias: Vec<f64>,
}

/// A tanh MLP of one input with its parameters in host numbers.
#[derive(Debug, Clone)]
pub(crate) struct HostMlp {
    layers: Vec<Layer>,
}

/// The backflow displacement with its networks read into host numbers.
#[derive(Debug, Clone)]
pub(crate) struct HostBackflow {
    /// (i, j, network) per pair: 0 for parallel spins, 1 for antiparallel.
    pairs: Vec<(usize, usize, usize)>,
    networks: [Option<HostMlp>; 2],
    /// The networks as tables, for the Metropolis moves ([`HostBackflow::tabulate`]).
    tables: [Option<EtaTable>; 2],
    /// c in η(c r).
    input_scale: f64,
}

impl HostMlp {
    fn new(mlp: &Mlp) -> Option<Self> {
        let layers = mlp
            .layers
            .iter()
            .map(|dense| {
                let [_, d_out] = dense.weight.val().dims();
                Some(Layer {
                    d_out,
                    weight: host_values(dense.weight.val())?,
                    bias: host_values(dense.bias.val())?,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self { layers })
    }

    /// A network from (d_out, weight `[d_in][d_out]`, bias) per layer.
    #[cfg(test)]
    pub(crate) fn from_layers(layers: Vec<(usize, Vec<f64>, Vec<f64>)>) -> Self {
        let layers = layers
            .into_iter()
            .map(|(d_out, weight, bias)| Layer {
                d_out,
                weight,
                bias,
            })
            .collect();
        Self { layers }
    }

    /// Widest layer.
    pub(crate) fn width(&self) -> usize {
        self.layers.iter().map(|l| l.d_out).max().unwrap_or(1)
    }

    /// η at inputs `v` (lanes), hidden layers with tanh, the last one linear; `a` and `b`
    /// hold at least [`HostMlp::width`] lanes each.
    #[inline(always)]
    pub(crate) fn eval(
        &self,
        v: &Lanes,
        a: &mut [Lanes],
        b: &mut [Lanes],
        fma: impl Fn(f64, f64, f64) -> f64 + Copy,
    ) -> Lanes {
        a[0] = *v;
        let mut width = 1;
        let last = self.layers.len() - 1;
        let (mut input, mut output) = (a, b);
        for (k, layer) in self.layers.iter().enumerate() {
            for o in 0..layer.d_out {
                let mut sum = [layer.bias[o]; LANES];
                for (i, x) in input[..width].iter().enumerate() {
                    let w = layer.weight[i * layer.d_out + o];
                    for l in 0..LANES {
                        sum[l] = fma(w, x[l], sum[l]);
                    }
                }
                if k < last {
                    for s in sum.iter_mut() {
                        *s = tanh_one(*s, fma);
                    }
                }
                output[o] = sum;
            }
            width = layer.d_out;
            std::mem::swap(&mut input, &mut output);
        }
        input[0]
    }
}

impl HostBackflow {
    /// The host displacement of `backflow`, when it has one: Hermite orbitals, no message
    /// passing, parameters on flex in f64 and not tracked.
    pub(crate) fn new(backflow: &Backflow) -> Option<Self> {
        if backflow.message_passing.is_some() || backflow.slater.is_none() {
            return None;
        }
        let network = |mlp: &Option<Mlp>| match mlp {
            Some(m) => HostMlp::new(m).map(Some),
            None => Some(None),
        };
        let networks = [
            network(&backflow.eta_parallel)?,
            network(&backflow.eta_antiparallel)?,
        ];
        let (pairs, n_parallel) = backflow.pair_layout();
        let pairs = pairs
            .iter()
            .enumerate()
            .map(|(p, &(i, j))| (i, j, usize::from(p >= n_parallel)))
            .collect();
        Some(Self {
            pairs,
            networks,
            tables: [None, None],
            input_scale: backflow.input_scale(),
        })
    }

    /// The networks as verified piecewise polynomials ([`EtaTable`]) on the inputs of pairs
    /// up to `r_max` apart, where the tables meet their tolerance; pairs further apart still
    /// go through the networks. A network keeps its exact evaluation where building its
    /// table would take more evaluations than the table saves: `uses` evaluations of each of
    /// the pairs it serves.
    pub(crate) fn tabulate(&mut self, r_max: f64, uses: usize) {
        let u_max = r_max * self.input_scale.abs();
        for (net, (table, network)) in self.tables.iter_mut().zip(&self.networks).enumerate() {
            let pairs = self.pairs.iter().filter(|&&(.., k)| k == net).count();
            let budget = pairs.saturating_mul(uses);
            *table = network
                .as_ref()
                .and_then(|mlp| EtaTable::build(mlp, u_max, budget));
        }
    }

    /// How many networks have a table.
    #[cfg(test)]
    pub(crate) fn tables(&self) -> usize {
        self.tables.iter().flatten().count()
    }

    /// Widest network layer.
    pub(crate) fn width(&self) -> usize {
        self.networks
            .iter()
            .flatten()
            .map(HostMlp::width)
            .max()
            .unwrap_or(1)
    }

    /// y = x + the pair displacements, lane by lane; `a`, `b` are network buffers of
    /// [`HostBackflow::width`] lanes.
    #[inline(always)]
    pub(crate) fn displace(
        &self,
        d: usize,
        xs: &[Lanes],
        ys: &mut [Lanes],
        a: &mut [Lanes],
        b: &mut [Lanes],
        fma: impl Fn(f64, f64, f64) -> f64 + Copy,
    ) {
        ys.copy_from_slice(xs);
        let mut diff = [[0.0; LANES]; 3];
        for &(i, j, net) in &self.pairs {
            let Some(mlp) = &self.networks[net] else {
                continue;
            };
            let mut r2 = [0.0; LANES];
            for k in 0..d {
                let (xi, xj) = (&xs[i * d + k], &xs[j * d + k]);
                for l in 0..LANES {
                    diff[k][l] = xi[l] - xj[l];
                    r2[l] += diff[k][l] * diff[k][l];
                }
            }
            let mut input = [0.0; LANES];
            for l in 0..LANES {
                input[l] = r2[l].sqrt() * self.input_scale;
            }
            // Matches, not `Option::unwrap_or_else`: a closure handed to a generic function
            // may be compiled outside the caller's `target_feature` build, and its
            // multiply-adds then become calls to libm's `fma` (seen in the AVX-512 build).
            let tabulated = match &self.tables[net] {
                Some(table) => table.eval(&input, fma),
                None => None,
            };
            let eta = match tabulated {
                Some(eta) => eta,
                None => mlp.eval(&input, a, b, fma),
            };
            for k in 0..d {
                for l in 0..LANES {
                    let shift = eta[l] * diff[k][l];
                    ys[i * d + k][l] += shift;
                    ys[j * d + k][l] -= shift;
                }
            }
        }
    }
}
