//! The Slater blocks' log|det P| and signs that a local-energy pass computes, kept for the
//! gradient pass that follows at the same walkers and parameters.
//!
//! A training step evaluates the Hermite determinant's jet at every walker (the local
//! energies: both spin blocks eliminated on the host) and then, with the same α, records
//! log|ψ| of the same walkers for autodiff. That pass tracks only log|det S(α)| of the
//! monomial coefficients (det P = det X · det S, `factors/slater.rs`); the walkers'
//! log|det P| are constants in it, which it would otherwise get by building and eliminating
//! every P once more. The trainer asks the factor to keep its walkers' blocks for one step
//! ([`LogDetCache::keep`]); the local-energy jet files them, keyed by the walker's
//! coordinates (their bits) and by αω; the tracked value pass takes them where every walker
//! of its batch is there, and eliminates otherwise.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

/// Floats of one walker's record: its coordinates, then log|det| and sign of both blocks.
pub(crate) fn record_len(n_coords: usize) -> usize {
    n_coords + 4
}

/// The blocks of a batch of walkers in the layout of the batched log-det: `[walkers, 2]`
/// for the logarithms and signs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Batch {
    pub log_abs: Vec<f64>,
    pub sign: Vec<f64>,
}

#[derive(Debug, Default)]
struct State {
    /// Walkers kept at most; 0 when not keeping.
    capacity: usize,
    /// Walkers kept now.
    kept: usize,
    /// αω of the records, as bits.
    alpha_omega: u64,
    /// Records as filed, one vector per local-energy pass.
    records: Vec<Vec<f64>>,
    /// A walker's coordinate hash → (pass, first float of its record), built by the first
    /// lookup that needs it (a walker neither after the previous one's record nor first in
    /// a pass); the gradient passes read the walkers in the order the local energies filed
    /// them, so usually none does, and the filing hashes nothing.
    index: OnceLock<HashMap<u64, (usize, usize)>>,
}

impl State {
    /// The index of every record (see [`State::index`]).
    fn index(&self, n_coords: usize) -> &HashMap<u64, (usize, usize)> {
        self.index.get_or_init(|| {
            let len = record_len(n_coords);
            let mut index = HashMap::with_capacity(self.kept);
            for (pass, records) in self.records.iter().enumerate() {
                for (k, record) in records.chunks_exact(len).enumerate() {
                    index.insert(hash(&record[..n_coords]), (pass, k * len));
                }
            }
            index
        })
    }
}

/// Shared by every copy of a Slater factor (the trained model, its frozen copy for sampling
/// and local energies, the gradient threads' copies): a clone is the same cache. The gradient
/// threads read it at the same time (a read lock; the index, where a lookup needs one, is
/// built once).
#[derive(Debug, Clone, Default)]
pub struct LogDetCache(Arc<RwLock<State>>);

/// A hash of a walker's coordinates (their bits); records are matched on the coordinates
/// themselves too.
fn hash(coordinates: &[f64]) -> u64 {
    coordinates.iter().fold(0xcbf2_9ce4_8422_2325, |h: u64, v| {
        (h.rotate_left(5) ^ v.to_bits()).wrapping_mul(0x5851_f42d_4c95_7f2d)
    })
}

/// Bitwise equality (a walker is the same walker only with the same bits).
fn same(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

impl LogDetCache {
    fn state(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        // The state is consistent after every statement: a panic elsewhere leaves it usable.
        self.0.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.0.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keep the blocks of up to `walkers` walkers from now on, dropping any kept before.
    pub fn keep(&self, walkers: usize) {
        let mut state = self.state();
        state.records.clear();
        state.index = OnceLock::new();
        state.kept = 0;
        state.capacity = walkers;
    }

    /// Stop keeping and drop what was kept.
    pub fn release(&self) {
        let mut state = self.state();
        state.records = Vec::new();
        state.index = OnceLock::new();
        state.kept = 0;
        state.capacity = 0;
    }

    /// Whether blocks are being kept.
    pub(crate) fn keeping(&self) -> bool {
        self.read().capacity > 0
    }

    /// Walkers kept now.
    pub fn len(&self) -> usize {
        self.read().kept
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Files `records` (one [`record_len`] record per walker, its coordinates first) computed
    /// at `alpha_omega`; records of another αω are dropped first, walkers past the capacity
    /// are not kept.
    pub(crate) fn insert(&self, alpha_omega: f64, n_coords: usize, records: Vec<f64>) {
        let len = record_len(n_coords);
        let mut state = self.state();
        if state.capacity == 0 {
            return;
        }
        if state.alpha_omega != alpha_omega.to_bits() {
            state.records.clear();
            state.kept = 0;
            state.alpha_omega = alpha_omega.to_bits();
        }
        let room = state.capacity.saturating_sub(state.kept);
        if room == 0 {
            return;
        }
        let mut records = records;
        records.truncate(room * len);
        state.kept += records.len() / len;
        state.records.push(records);
        state.index = OnceLock::new();
    }

    /// The blocks of every walker of `x` (`[walkers, N·d]` row-major) at `alpha_omega`, or
    /// `None` where any is missing.
    ///
    /// The walkers mostly come in the order the local energies filed them, so each is first
    /// compared with the record after the previous walker's, then with the first record of
    /// each pass, and looked up by its hash only where neither is it (a hash of every
    /// coordinate and a random access into the map per walker otherwise, and a hash of every
    /// walker at the filing: docs/performance.md).
    pub(crate) fn batch(&self, alpha_omega: f64, x: &[f64], n_coords: usize) -> Option<Batch> {
        let state = self.read();
        if state.capacity == 0 || state.alpha_omega != alpha_omega.to_bits() {
            return None;
        }
        let walkers = x.len() / n_coords.max(1);
        let mut batch = Batch {
            log_abs: Vec::with_capacity(2 * walkers),
            sign: Vec::with_capacity(2 * walkers),
        };
        let len = record_len(n_coords);
        let record_at = |(pass, start): (usize, usize)| -> Option<&[f64]> {
            state.records.get(pass)?.get(start..start + len)
        };
        let mut next: Option<(usize, usize)> = None;
        let is = |at: (usize, usize), coordinates: &[f64]| {
            record_at(at).filter(|record| same(&record[..n_coords], coordinates))
        };
        for coordinates in x.chunks_exact(n_coords) {
            let follows = next.and_then(|at| Some((at, is(at, coordinates)?)));
            let first_of_a_pass = || {
                (0..state.records.len())
                    .find_map(|pass| Some(((pass, 0), is((pass, 0), coordinates)?)))
            };
            let (at, record) = match follows.or_else(first_of_a_pass) {
                Some(found) => found,
                None => {
                    let at = *state.index(n_coords).get(&hash(coordinates))?;
                    (at, is(at, coordinates)?)
                }
            };
            let rest = &record[n_coords..];
            batch.log_abs.extend_from_slice(&rest[..2]);
            batch.sign.extend_from_slice(&rest[2..4]);
            next = Some((at.0, at.1 + len));
        }
        Some(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host_tanh::testing::{flex_f64, max_diff, normal, values};
    use crate::{FactorConfig, Geometry, Order, WaveFunction, WaveFunctionConfig};
    use burn::module::Module;
    use burn::tensor::{Tensor, TensorData};

    /// A tracked Slater–Jastrow state of N particles in 2D on flex f64, α = 0.9.
    fn tracked_sj(n: usize) -> WaveFunction {
        tracked_sj_at(n, 0.9)
    }

    /// The same state at another α (the other parameters do not depend on it).
    fn tracked_sj_at(n: usize, alpha: f64) -> WaveFunction {
        let mut device = flex_f64().autodiff();
        let _ = device.configure(burn::tensor::FloatDType::F64);
        let factors = vec![
            FactorConfig::Slater(crate::factors::SlaterConfig { alpha }),
            FactorConfig::PadeJastrow(Default::default()),
        ];
        WaveFunctionConfig { factors }
            .init(Geometry::balanced(n, 2), 1.0, 5, &device)
            .expect("closed shell")
    }

    /// ∂/∂α of Σ_w u_w log|ψ(x_w)| and the values log|ψ|, through autodiff.
    fn alpha_gradient(psi: &WaveFunction, x: &Tensor<2>, u: &[f64]) -> (f64, Vec<f64>) {
        let log_psi = psi.forward(x, Order::Value).value;
        let device = log_psi.device();
        let weights = Tensor::<1>::from_data(TensorData::new(u.to_vec(), [u.len()]), &device);
        let grads = (weights * log_psi.clone()).sum().backward();
        let crate::Factor::Slater(slater) = &psi.factors[0] else {
            unreachable!("built above")
        };
        let alpha = slater.alpha.val().grad(&grads).expect("α is a parameter");
        (values(alpha)[0], values(log_psi.inner()))
    }

    /// The gradient pass with the blocks a local-energy pass kept gives log|ψ| as the pass
    /// that eliminates its own blocks does (to 1e-12 relative: the jet's Hermite matrices
    /// against the monomial product's) and ∂/∂α of the weighted sum Σ_w u_w log|ψ(x_w)| as
    /// that pass (1e-10; both track the same log|det S(α)|) and, independently, as its
    /// central difference in α (h = 10⁻⁵, 10⁻⁶ relative), at N = 12 and 30 (blocks of 6 and
    /// 15 orbitals) with 37 walkers; the kept values are the ones used (shifted records shift
    /// log|ψ|), and a walker moved by one bit after the local energies makes the pass
    /// eliminate again.
    #[test]
    fn the_kept_blocks_give_the_eliminated_gradient() {
        for n in [12, 30] {
            let psi = tracked_sj(n);
            let frozen = psi.valid();
            let (w, coords) = (37, 2 * n);
            let x = normal([w, coords], 1.1, &flex_f64());
            let u: Vec<f64> = (0..w).map(|k| ((k as f64) * 0.7).sin()).collect();
            let (eliminated, eliminated_values) = alpha_gradient(&psi, &x, &u);
            let caches = psi.log_det_caches();
            assert_eq!(caches.len(), 1);
            caches[0].keep(w);
            // The local energies' jet, on the frozen copy: the same cache.
            let _ = frozen.forward(&x, Order::Laplacian);
            assert_eq!(caches[0].len(), w, "N = {n}: every walker kept");
            let (kept, kept_values) = alpha_gradient(&psi, &x, &u);
            let scale = eliminated_values
                .iter()
                .fold(1.0_f64, |m, v| m.max(v.abs()));
            let diff = max_diff(&kept_values, &eliminated_values) / scale;
            assert!(diff < 1e-12, "N = {n}: log|ψ| {diff:e}");
            let rel = (kept - eliminated).abs() / eliminated.abs().max(1.0);
            assert!(rel < 1e-10, "N = {n}: ∂/∂α {kept} against {eliminated}");
            let h = 1e-5;
            let weighted = |alpha: f64| -> f64 {
                let values = values(
                    tracked_sj_at(n, alpha)
                        .valid()
                        .forward(&x, Order::Value)
                        .value,
                );
                values.iter().zip(&u).map(|(v, u)| u * v).sum()
            };
            let central = (weighted(0.9 + h) - weighted(0.9 - h)) / (2.0 * h);
            let rel = (kept - central).abs() / central.abs().max(1.0);
            assert!(
                rel < 1e-6,
                "N = {n}: ∂/∂α {kept} against {central} by differences"
            );
            // The kept path was taken: with 1 added to both kept logarithms, log|ψ| is 2
            // higher at every walker.
            {
                let mut state = caches[0].state();
                for record in state.records.iter_mut() {
                    for r in record.chunks_exact_mut(record_len(coords)) {
                        r[coords] += 1.0;
                        r[coords + 1] += 1.0;
                    }
                }
            }
            let (_, shifted) = alpha_gradient(&psi, &x, &u);
            for (s, k) in shifted.iter().zip(&kept_values) {
                assert!(
                    (s - k - 2.0).abs() < 1e-12 * scale,
                    "N = {n}: {s} against {k}"
                );
            }
            // One walker one bit away: not kept, the batch eliminates.
            let mut moved = values(x.clone());
            moved[0] = f64::from_bits(moved[0].to_bits() + 1);
            let moved = Tensor::<2>::from_data(TensorData::new(moved, [w, coords]), &flex_f64());
            let (again, _) = alpha_gradient(&psi, &moved, &u);
            let rel = (again - eliminated).abs() / eliminated.abs().max(1.0);
            assert!(rel < 1e-10, "N = {n}: {again} against {eliminated}");
            caches[0].release();
        }
    }

    /// A record of a walker with 2 coordinates: coordinates, logs, signs.
    fn record(x: [f64; 2], v: f64) -> Vec<f64> {
        vec![x[0], x[1], v, -v, 1.0, -1.0]
    }

    #[test]
    fn kept_only_while_asked_at_one_alpha_and_within_the_capacity() {
        let cache = LogDetCache::default();
        let (a, b, c) = ([0.5, 1.0], [0.25, -1.0], [2.0, 3.0]);
        assert_eq!(record_len(2), 6);
        cache.insert(1.0, 2, record(a, 1.0));
        assert!(cache.is_empty(), "not keeping");
        cache.keep(2);
        let copy = cache.clone();
        let records = [record(a, 1.0), record(b, 2.0), record(c, 3.0)].concat();
        copy.insert(1.0, 2, records);
        assert_eq!(cache.len(), 2, "the capacity");
        let x = [b, a].concat();
        let got = cache.batch(1.0, &x, 2).expect("both kept");
        assert_eq!(got.log_abs, vec![2.0, -2.0, 1.0, -1.0]);
        assert_eq!(got.sign, vec![1.0, -1.0, 1.0, -1.0]);
        assert!(cache.batch(1.5, &x, 2).is_none(), "another αω");
        assert!(
            cache.batch(1.0, &[a, c].concat(), 2).is_none(),
            "c not kept"
        );
        assert!(
            cache.batch(1.0, &[b, c].concat(), 2).is_none(),
            "c not kept, though filed right after b"
        );
        // In the filed order (the sequential path) and out of it (the hashes).
        let got = cache.batch(1.0, &[a, b].concat(), 2).expect("both kept");
        assert_eq!(got.log_abs, vec![1.0, -1.0, 2.0, -2.0]);
        // A walker differing in the last bit is another walker.
        let near = [f64::from_bits(0.5_f64.to_bits() + 1), 1.0];
        assert!(cache.batch(1.0, &near, 2).is_none());
        // Another αω replaces the records.
        cache.insert(2.0, 2, record(c, 3.0));
        assert_eq!(cache.len(), 1);
        assert!(cache.batch(2.0, &c, 2).is_some());
        cache.release();
        assert!(cache.is_empty() && !cache.keeping());
        assert!(cache.batch(2.0, &c, 2).is_none());
    }
}
