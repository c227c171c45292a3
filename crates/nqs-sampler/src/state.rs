//! Sampler state and its exact snapshot.

use burn::tensor::{Device, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::{Noise, SamplerError};

/// Walkers and everything needed to continue the chain.
#[derive(Debug, Clone)]
pub struct SamplerState {
    /// Walker positions, `[walkers, N·d]`.
    pub x: Tensor<2>,
    /// Step size (Metropolis width or Langevin time step).
    pub step_size: f64,
    /// Random-number generator.
    pub rng: ChaCha8Rng,
    /// Accepted moves since the last reset, summed on the device, `[1]`.
    accepted: Tensor<1>,
    /// Proposed moves (walkers × moves) since the last reset.
    proposed: usize,
    /// Cached log|ψ| (and ∇log|ψ| for Langevin) at `x`, valid until the parameters change.
    pub(crate) cache: Option<Cache>,
}

#[derive(Debug, Clone)]
pub(crate) struct Cache {
    pub log_psi: Tensor<1>,
    pub grad_log_psi: Option<Tensor<2>>,
}

/// Serialisable, exact copy of a [`SamplerState`] (positions as f64).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SamplerSnapshot {
    /// Number of walkers.
    pub walkers: usize,
    /// Coordinates per walker.
    pub coords: usize,
    /// Positions, row-major `[walkers, coords]`.
    pub x: Vec<f64>,
    /// Step size.
    pub step_size: f64,
    /// RNG state.
    pub rng: ChaCha8Rng,
}

impl SamplerState {
    /// Walkers drawn from N(0, width²) in every coordinate, with a seeded RNG.
    pub fn new(
        walkers: usize,
        coords: usize,
        width: f64,
        step_size: f64,
        seed: u64,
        device: &Device,
    ) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = rng.normal(walkers, coords, device) * width;
        Self {
            x,
            step_size,
            rng,
            accepted: Tensor::zeros([1], device),
            proposed: 0,
            cache: None,
        }
    }

    /// Redraw every walker uniformly in the periodic cell [0, L)^d (the start of a chain in
    /// a periodic system, whose |ψ|² has no length scale to centre a Gaussian on).
    pub fn spread_uniformly(&mut self, length: f64) {
        let [walkers, coords] = self.x.dims();
        let device = self.x.device();
        self.x = self.rng.uniform(walkers, coords, &device) * length;
        self.cache = None;
    }

    /// Forget the cached log|ψ|: call after every parameter update.
    pub fn invalidate(&mut self) {
        self.cache = None;
    }

    /// Record the acceptance of one move of every walker (`acc`: 0/1, `[walkers]`).
    pub(crate) fn count(&mut self, acc: Tensor<1>) {
        self.proposed += acc.dims()[0];
        self.accepted = self.accepted.clone() + acc.sum();
    }

    /// Record `accepted` acceptances out of `proposed` moves counted on the host.
    pub(crate) fn count_host(&mut self, accepted: usize, proposed: usize) {
        self.proposed += proposed;
        self.accepted = self.accepted.clone().add_scalar(accepted as f64);
    }

    /// Fraction of accepted moves since the last reset (reads one number from the device).
    pub fn acceptance(&self) -> f64 {
        if self.proposed == 0 {
            return 0.0;
        }
        let accepted: f64 = self.accepted.clone().into_scalar::<f64>();
        accepted / self.proposed as f64
    }

    /// Reset the acceptance counters.
    pub fn reset_counters(&mut self) {
        self.accepted = Tensor::zeros([1], &self.x.device());
        self.proposed = 0;
    }

    /// Split the walkers into `parts` consecutive blocks, each with a generator seeded from
    /// this state's (which advances by `parts` draws) and its share of the cache.
    pub(crate) fn split(&mut self, parts: usize) -> Vec<SamplerState> {
        let [walkers, _] = self.x.dims();
        let device = self.x.device();
        crate::blocks(walkers, parts)
            .into_iter()
            .map(|(start, len)| {
                let seed: u64 = self.rng.random();
                let cache = self.cache.as_ref().map(|c| Cache {
                    log_psi: c.log_psi.clone().narrow(0, start, len),
                    grad_log_psi: c.grad_log_psi.clone().map(|g| g.narrow(0, start, len)),
                });
                SamplerState {
                    x: self.x.clone().narrow(0, start, len),
                    step_size: self.step_size,
                    rng: ChaCha8Rng::seed_from_u64(seed),
                    accepted: Tensor::zeros([1], &device),
                    proposed: 0,
                    cache,
                }
            })
            .collect()
    }

    /// Join blocks made by [`SamplerState::split`] back in order.
    pub(crate) fn merge(&mut self, parts: Vec<SamplerState>) {
        self.x = Tensor::cat(parts.iter().map(|p| p.x.clone()).collect(), 0);
        self.cache = if parts.iter().all(|p| p.cache.is_some()) {
            let caches: Vec<&Cache> = parts.iter().filter_map(|p| p.cache.as_ref()).collect();
            Some(Cache {
                log_psi: Tensor::cat(caches.iter().map(|c| c.log_psi.clone()).collect(), 0),
                grad_log_psi: caches
                    .iter()
                    .map(|c| c.grad_log_psi.clone())
                    .collect::<Option<Vec<_>>>()
                    .map(|g| Tensor::cat(g, 0)),
            })
        } else {
            None
        };
        for p in parts {
            self.proposed += p.proposed;
            self.accepted = self.accepted.clone() + p.accepted;
        }
    }

    /// An exact copy for a checkpoint.
    pub fn snapshot(&self) -> SamplerSnapshot {
        let [walkers, coords] = self.x.dims();
        let x = self
            .x
            .clone()
            .into_data()
            .convert::<f64>()
            .try_to_vec::<f64>()
            .expect("f64 conversion of walker positions");
        SamplerSnapshot {
            walkers,
            coords,
            x,
            step_size: self.step_size,
            rng: self.rng.clone(),
        }
    }

    /// Rebuild a state from a snapshot on `device`, checking the shape.
    pub fn restore(
        snapshot: &SamplerSnapshot,
        walkers: usize,
        coords: usize,
        device: &Device,
    ) -> Result<Self, SamplerError> {
        if snapshot.walkers != walkers || snapshot.coords != coords {
            return Err(SamplerError::SnapshotShape {
                walkers: snapshot.walkers,
                coords: snapshot.coords,
                expected_walkers: walkers,
                expected_coords: coords,
            });
        }
        let x = Tensor::from_data(
            TensorData::new(snapshot.x.clone(), [walkers, coords]),
            device,
        );
        Ok(Self {
            x,
            step_size: snapshot.step_size,
            rng: snapshot.rng.clone(),
            accepted: Tensor::zeros([1], device),
            proposed: 0,
            cache: None,
        })
    }
}
