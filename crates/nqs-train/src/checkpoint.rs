//! Checkpoints: everything needed to continue a run bit for bit.
//!
//! A checkpoint file `checkpoints/step-NNNNNNNNN.ckpt` holds
//! `b"NQSCKPT1"`, then three length-prefixed sections (little-endian u64 lengths):
//! metadata as JSON (step, resolved config, sampler snapshot, metrics so far, …), the model
//! parameters as burnpack bytes, the optimiser state as burnpack bytes, and finally an
//! FNV-1a 64-bit checksum of everything before it. Files are written to a temporary name,
//! fsynced and renamed, so a crash leaves either the old set or the new file complete; a
//! truncated or corrupted file fails the length or checksum check and is reported by name.

use std::fs;
use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::AdamConfig;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Tensor};
use nqs_sampler::{SamplerSnapshot, SamplerState};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::config::OptimizerKind;
use crate::distributed::Comm;
use crate::distributed::chains::{self, RankChain};
use crate::{Config, StepMetrics, TrainError, Trainer};

const MAGIC: &[u8; 8] = b"NQSCKPT1";

/// Metadata section of a checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointMeta {
    /// Completed optimisation steps.
    pub step: usize,
    /// Whether the chains were burned in.
    pub burned_in: bool,
    /// The resolved configuration (TOML).
    pub config: String,
    /// Walkers, step size and RNG state.
    pub sampler: SamplerSnapshot,
    /// Metrics of every step so far.
    pub metrics: Vec<StepMetrics>,
    /// Learning-rate factor after rollbacks (1 without).
    pub learning_rate_scale: f64,
    /// Rollbacks after non-finite steps so far.
    pub rollbacks: usize,
    /// The last stochastic-reconfiguration solution (the next solve's warm start).
    #[serde(default)]
    pub sr_delta: Option<Vec<f64>>,
    /// Each rank's step size and generator when several ranks wrote the checkpoint (their
    /// walkers are `sampler.x` in rank order); empty for one process.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranks: Vec<RankChain>,
}

/// A checkpoint in memory. The metadata type is the trainer's [`CheckpointMeta`] by
/// default; other loops (`fit-rbm`) store their own in the same file format.
#[derive(Debug, Clone)]
pub struct Checkpoint<M = CheckpointMeta> {
    /// Metadata.
    pub meta: M,
    /// Model parameters (burnpack).
    pub model: Vec<u8>,
    /// Optimiser state (burnpack).
    pub optimizer: Vec<u8>,
}

impl Checkpoint {
    /// Capture the trainer's state. Fails if any parameter is non-finite, so that such a
    /// state never reaches a checkpoint.
    pub fn capture(trainer: &Trainer) -> Result<Checkpoint, TrainError> {
        if !parameters_finite(&trainer.model) {
            return Err(TrainError::NonFinite {
                what: "parameter",
                step: trainer.step,
            });
        }
        let model = trainer
            .frozen()
            .into_record()
            .into_bytes()
            .map_err(|e| TrainError::Checkpoint(format!("serialising the model: {e}")))?
            .to_vec();
        let optimizer = trainer
            .optimizer
            .into_bytes()
            .map_err(|e| TrainError::Checkpoint(format!("serialising the optimiser: {e}")))?
            .to_vec();
        Ok(Checkpoint {
            meta: CheckpointMeta {
                step: trainer.step,
                burned_in: trainer.burned_in,
                config: trainer.config.to_toml(),
                sampler: trainer.sampler.snapshot(),
                metrics: trainer.history.clone(),
                learning_rate_scale: trainer.learning_rate_scale,
                rollbacks: trainer.rollbacks,
                sr_delta: trainer.sr_delta.clone(),
                ranks: Vec::new(),
            },
            model,
            optimizer,
        })
    }

    /// Put the trainer back in the captured state (the trainer's config must describe the
    /// same model and walkers).
    pub fn restore(&self, trainer: &mut Trainer) -> Result<(), TrainError> {
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(self.model.clone()))
            .map_err(|e| TrainError::Checkpoint(format!("reading the model: {e}")))?
            .cast_to_module_dtype();
        trainer.model = trainer
            .model
            .clone()
            .try_load_record(record)
            .map_err(|e| TrainError::Checkpoint(format!("loading the model: {e}")))?;
        check_default_device(&trainer.device)?;
        let fresh = match trainer.config.optimizer.kind {
            OptimizerKind::Adam => AdamConfig::new().init(),
            OptimizerKind::Sgd | OptimizerKind::Sr => burn::optim::SgdConfig::new().init(),
        };
        trainer.optimizer = fresh
            .from_bytes(Bytes::from_bytes_vec(self.optimizer.clone()))
            .map_err(|e| TrainError::Checkpoint(format!("loading the optimiser: {e}")))?;
        let geometry = trainer.config.geometry();
        trainer.sampler = SamplerState::restore(
            &self.meta.sampler,
            trainer.local_walkers().1,
            geometry.n_coords(),
            &trainer.device,
        )?;
        trainer.step = self.meta.step;
        trainer.burned_in = self.meta.burned_in;
        trainer.history = self.meta.metrics.clone();
        trainer.learning_rate_scale = self.meta.learning_rate_scale;
        trainer.rollbacks = self.meta.rollbacks;
        trainer.sr_delta = self.meta.sr_delta.clone();
        Ok(())
    }

    /// The checkpoint of all ranks from every rank's capture, on rank 0 (`None` on the
    /// others; the identity for one process). Collective: every rank calls it.
    pub fn joined(&self, comm: &Comm) -> Result<Option<Checkpoint>, TrainError> {
        if comm.size() == 1 {
            return Ok(Some(self.clone()));
        }
        let Some((sampler, ranks)) = chains::join(comm, &self.meta.sampler)? else {
            return Ok(None);
        };
        let mut joined = self.clone();
        joined.meta.sampler = sampler;
        joined.meta.ranks = ranks;
        Ok(Some(joined))
    }

    /// This rank's part of a checkpoint read from disk (see [`chains`] for the policy when
    /// the number of ranks changed).
    pub fn for_rank(mut self, comm: &Comm) -> Result<Checkpoint, TrainError> {
        let seed = self.config()?.run.seed;
        self.meta.sampler = chains::split(
            comm,
            &self.meta.sampler,
            &self.meta.ranks,
            seed,
            self.meta.step,
        );
        let stored = self.meta.ranks.len().max(1);
        if stored != comm.size() {
            tracing::warn!(
                "checkpoint written by {stored} rank(s), resumed by {}: walkers re-split in order, fresh generator streams (statistically the same continuation, not bit-exact)",
                comm.size()
            );
        }
        self.meta.ranks.clear();
        Ok(self)
    }

    /// The configuration stored in the checkpoint.
    pub fn config(&self) -> Result<Config, TrainError> {
        Config::parse(&self.meta.config, &[], "checkpoint config")
    }
}

/// A checkpoint's metadata: the step (or epoch) it was taken at names its file.
pub trait CheckpointStep {
    /// Completed steps (or epochs).
    fn step(&self) -> usize;
}

impl CheckpointStep for CheckpointMeta {
    fn step(&self) -> usize {
        self.step
    }
}

impl<M: Serialize + DeserializeOwned> Checkpoint<M> {
    /// Serialise to the file format described in the module docs.
    pub fn to_bytes(&self) -> Vec<u8> {
        let meta = serde_json::to_vec(&self.meta).expect("checkpoint metadata serialises");
        let mut out = Vec::with_capacity(32 + meta.len() + self.model.len() + self.optimizer.len());
        out.extend_from_slice(MAGIC);
        for section in [&meta, &self.model, &self.optimizer] {
            out.extend_from_slice(&(section.len() as u64).to_le_bytes());
            out.extend_from_slice(section);
        }
        let sum = fnv1a64(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// Parse and verify a checkpoint file's bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Checkpoint<M>, String> {
        if bytes.len() < MAGIC.len() + 8 || &bytes[..MAGIC.len()] != MAGIC {
            return Err("not an nqs checkpoint (bad magic or too short)".into());
        }
        let (body, tail) = bytes.split_at(bytes.len() - 8);
        let stored = u64::from_le_bytes(tail.try_into().expect("8 bytes"));
        if fnv1a64(body) != stored {
            return Err("checksum mismatch (truncated or corrupted)".into());
        }
        let mut pos = MAGIC.len();
        let mut sections = Vec::with_capacity(3);
        for _ in 0..3 {
            let len_bytes = body.get(pos..pos + 8).ok_or("truncated section header")?;
            let len = u64::from_le_bytes(len_bytes.try_into().expect("8 bytes")) as usize;
            pos += 8;
            let section = body.get(pos..pos + len).ok_or("truncated section")?;
            sections.push(section.to_vec());
            pos += len;
        }
        let meta: M =
            serde_json::from_slice(&sections[0]).map_err(|e| format!("bad metadata: {e}"))?;
        let optimizer = sections.pop().expect("3 sections");
        let model = sections.pop().expect("3 sections");
        Ok(Checkpoint {
            meta,
            model,
            optimizer,
        })
    }
}

/// burn 0.22 creates a loaded optimiser state on `Device::default()` with that device's
/// float type: it must be a CPU device with the run's precision (the binary pins
/// `BURN_DEVICE=flex`).
pub fn check_default_device(run: &burn::tensor::Device) -> Result<(), TrainError> {
    let default = burn::tensor::Device::default();
    let run_dtype = run.settings().float_dtype;
    if default.settings().float_dtype != run_dtype || format!("{default:?}").contains("Wgpu") {
        return Err(TrainError::Checkpoint(format!(
            "restoring optimiser state needs BURN_DEVICE=flex (default device is {default:?}, float type {:?}; the run uses {run_dtype:?})",
            default.settings().float_dtype
        )));
    }
    Ok(())
}

/// The `checkpoints/` folder of a run directory.
pub fn folder(run: &Path) -> PathBuf {
    run.join("checkpoints")
}

/// Write `checkpoint` atomically into `run/checkpoints/` and keep the newest `keep` files.
pub fn write<M: Serialize + DeserializeOwned + CheckpointStep>(
    run: &Path,
    checkpoint: &Checkpoint<M>,
    keep: usize,
) -> Result<PathBuf, TrainError> {
    let dir = folder(run);
    fs::create_dir_all(&dir).map_err(|e| TrainError::io(&dir, e))?;
    let path = dir.join(format!("step-{:09}.ckpt", checkpoint.meta.step()));
    let tmp = dir.join(format!(".step-{:09}.ckpt.tmp", checkpoint.meta.step()));
    crate::run_dir::replace_atomically(&tmp, &path, &checkpoint.to_bytes())?;
    if let Ok(d) = fs::File::open(&dir) {
        let _ = d.sync_all(); // make the rename durable
    }
    let files = list(run)?;
    if files.len() > keep.max(1) {
        for old in &files[..files.len() - keep.max(1)] {
            let _ = fs::remove_file(old);
        }
    }
    Ok(path)
}

/// Checkpoint files of a run, oldest first.
pub fn list(run: &Path) -> Result<Vec<PathBuf>, TrainError> {
    let dir = folder(run);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .map_err(|e| TrainError::io(&dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("step-") && n.ends_with(".ckpt"))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// The newest checkpoint that reads and verifies, with a warning for every newer file that
/// did not (named, with the reason).
pub fn latest_good<M: Serialize + DeserializeOwned>(
    run: &Path,
) -> Result<(Checkpoint<M>, PathBuf), TrainError> {
    let files = list(run)?;
    if files.is_empty() {
        return Err(TrainError::Checkpoint(format!(
            "no checkpoint in {} (nothing to resume)",
            folder(run).display()
        )));
    }
    for path in files.iter().rev() {
        let result = fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|b| Checkpoint::<M>::from_bytes(&b));
        match result {
            Ok(c) => return Ok((c, path.clone())),
            Err(reason) => tracing::warn!(
                "skipping checkpoint {}: {reason}; falling back to the previous one",
                path.display()
            ),
        }
    }
    Err(TrainError::Checkpoint(format!(
        "every checkpoint in {} is unreadable",
        folder(run).display()
    )))
}

/// FNV-1a, 64 bit.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Whether every parameter of `model` is finite.
pub fn parameters_finite<M: Module>(model: &M) -> bool {
    struct Finite(bool);
    impl ModuleVisitor for Finite {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if self.0 {
                let non_finite = param.val().is_finite().bool_not().any();
                self.0 = !non_finite.into_scalar::<bool>();
            }
        }
    }
    let mut v = Finite(true);
    model.visit(&mut v);
    v.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corruption_and_truncation_are_detected() {
        let c = Checkpoint {
            meta: CheckpointMeta {
                step: 3,
                burned_in: true,
                config: String::new(),
                sampler: SamplerSnapshot {
                    walkers: 1,
                    coords: 1,
                    x: vec![0.5],
                    step_size: 0.1,
                    rng: rand::SeedableRng::seed_from_u64(1),
                },
                metrics: Vec::new(),
                sr_delta: Some(vec![0.25, -1.5]),
                ranks: Vec::new(),
                learning_rate_scale: 1.0,
                rollbacks: 0,
            },
            model: vec![1, 2, 3],
            optimizer: vec![4, 5],
        };
        let bytes = c.to_bytes();
        let back = Checkpoint::<CheckpointMeta>::from_bytes(&bytes).unwrap();
        assert_eq!(back.model, c.model);
        assert_eq!(back.meta.sampler, c.meta.sampler);
        assert!(Checkpoint::<CheckpointMeta>::from_bytes(&bytes[..bytes.len() - 3]).is_err());
        let mut flipped = bytes.clone();
        flipped[20] ^= 1;
        assert!(
            Checkpoint::<CheckpointMeta>::from_bytes(&flipped)
                .unwrap_err()
                .contains("checksum")
        );
    }
}
