//! Annealed importance sampling (Neal 2001; Salakhutdinov & Murray 2008) of log Z.
//!
//! The path runs from β = 0 (visible units independent, hidden units fair coins: log Z₀ is
//! known, [`Rbm::log_partition_base`]) to β = 1 (the machine) through K equally spaced β_k.
//! Each of M chains starts with an exact draw from the β = 0 model, gains the importance
//! weight log w += F_{β_{k−1}}(x) − F_{β_k}(x) and then makes one block-Gibbs sweep at β_k.
//! Z/Z₀ = mean(w); the error of log Z is the delta-method standard error sd(w)/(mean(w)√M).
//! That error is only trustworthy while many chains share the weight: with too few
//! intermediate distributions one chain dominates, and both log Z (biased low) and its error
//! (from a heavy-tailed sample) come out too small. The effective number of chains
//! (Σw)²/Σw² (Kish) says when: far below M, raise K.

use burn::tensor::{Device, Tensor};
use nqs_sampler::{Noise, gibbs_sweep};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::Rbm;

/// AIS settings.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AisSettings {
    /// Independent annealing chains M.
    pub chains: usize,
    /// Intermediate distributions K.
    pub steps: usize,
    /// Seed of the chains.
    pub seed: u64,
}

/// An AIS estimate of log Z.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct AisEstimate {
    /// log Z.
    pub log_z: f64,
    /// Standard error of log Z.
    pub error: f64,
    /// Effective number of chains (Σw)²/Σw², between 1 and M.
    pub effective_chains: f64,
}

impl AisEstimate {
    /// Whether the weights are spread over enough chains for `error` to be believed:
    /// at least a tenth of the chains and at least ten of them (half of them, when there
    /// are fewer than twenty).
    pub fn error_is_reliable(&self, chains: usize) -> bool {
        let m = chains as f64;
        self.effective_chains >= (0.1 * m).max(10.0_f64.min(0.5 * m))
    }
}

/// Estimate log Z of `rbm` (a plain, non-autodiff module) by AIS.
pub fn ais_log_partition(rbm: &Rbm, settings: &AisSettings, device: &Device) -> AisEstimate {
    let m = settings.chains.max(2);
    let k_total = settings.steps.max(1);
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
    let noise: &mut dyn Noise = &mut rng;
    let zeros = Tensor::zeros([m, rbm.n_hidden()], device);
    let mut x = rbm.sample_visible_at(&zeros, 0.0, noise);
    let mut log_w: Tensor<1> = Tensor::zeros([m], device);
    let mut previous = 0.0;
    for k in 1..=k_total {
        let beta = k as f64 / k_total as f64;
        log_w = log_w + rbm.free_energy_at(&x, previous) - rbm.free_energy_at(&x, beta);
        if k < k_total {
            x = gibbs_sweep(&rbm.at(beta), &x, noise).1;
        }
        previous = beta;
    }
    let log_w: Vec<f64> = log_w
        .into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .expect("f64 data");
    let max = log_w.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let r: Vec<f64> = log_w.iter().map(|v| (v - max).exp()).collect();
    let mean = r.iter().sum::<f64>() / m as f64;
    let var = r.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (m - 1) as f64;
    let sum_sq = r.iter().map(|v| v * v).sum::<f64>();
    AisEstimate {
        log_z: rbm.log_partition_base() + max + mean.ln(),
        error: var.sqrt() / (mean * (m as f64).sqrt()),
        effective_chains: (mean * m as f64).powi(2) / sum_sq,
    }
}
