//! Run directories of `fit-rbm`: the same conventions as `nqs-train` (resolved
//! `config.toml`, `metrics.csv`, atomic checkpoints in `checkpoints/` with exact resume,
//! `summary.json`, plots), plus the machine's own samples (`samples.txt`) and, for Ising
//! data, `observables.json`.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use burn::module::Module;
use burn::optim::{AdamConfig, SgdConfig};
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device, Tensor, TensorData};
use nqs_boltzmann::Dataset;
use nqs_boltzmann::data::format_binary_rows;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::config::{DataConfig, FitConfig, FitOptimizer, Target};
use super::fit::{EpochMetrics, Fitter, Likelihood};
use super::thermo::{self, IsingObservables};
use crate::TrainError;
use crate::checkpoint::{self, Checkpoint, CheckpointStep};
use crate::plots::{Curve, curves_plot};
use crate::run_dir::RunDir;

/// Metadata of a `fit-rbm` checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FitCheckpointMeta {
    /// Completed epochs.
    pub epoch: usize,
    /// The resolved configuration (TOML).
    pub config: String,
    /// FNV-1a checksum of the data file's bytes (a resumed run must read the same data).
    pub data_checksum: u64,
    /// Shuffle and Gibbs generator.
    pub rng: ChaCha8Rng,
    /// Persistent chains, row-major `[chains, n_visible]`.
    pub chains: Option<Vec<f64>>,
    /// Metrics of every epoch.
    pub history: Vec<EpochMetrics>,
}

impl CheckpointStep for FitCheckpointMeta {
    fn step(&self) -> usize {
        self.epoch
    }
}

/// The summary of a finished fit (`summary.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FitSummary {
    /// Epochs trained.
    pub epochs: usize,
    /// Visible units.
    pub visible: usize,
    /// Hidden units.
    pub hidden: usize,
    /// Training and validation samples.
    pub train_samples: usize,
    /// Validation samples.
    pub valid_samples: usize,
    /// The final likelihoods.
    pub likelihood: Likelihood,
    /// Average log-likelihood of the validation data under the exact target distribution
    /// (the best any model can reach), when known.
    pub exact_valid_ll: Option<f64>,
    /// How log Z was computed.
    pub log_z_method: String,
    /// Wall seconds of training (all epochs, without evaluations).
    pub train_seconds: f64,
    /// Ising observables of the machine's samples, the data and the exact distribution.
    pub observables: Option<IsingObservables>,
}

/// FNV-1a of the data file's bytes, then the validation file's.
fn data_checksum(config: &FitConfig) -> Result<u64, TrainError> {
    let mut bytes = Vec::new();
    for path in std::iter::once(&config.data.path).chain(&config.data.validation_path) {
        bytes.extend(std::fs::read(path).map_err(|e| TrainError::io(path, e))?);
    }
    Ok(checkpoint::fnv1a64(&bytes))
}

/// The data and, when configured, the separate validation data.
fn read_data(config: &FitConfig) -> Result<(Dataset, Option<Dataset>), TrainError> {
    let binary = config.model.visible == nqs_boltzmann::VisibleUnits::Binary;
    let read =
        |p: &Path| Dataset::read(p, binary).map_err(|e| TrainError::Unsupported(e.to_string()));
    let validation = config
        .data
        .validation_path
        .as_deref()
        .map(read)
        .transpose()?;
    Ok((read(&config.data.path)?, validation))
}

fn capture(fitter: &Fitter, checksum: u64) -> Result<Checkpoint<FitCheckpointMeta>, TrainError> {
    let model = fitter
        .frozen()
        .into_record()
        .into_bytes()
        .map_err(|e| TrainError::Checkpoint(format!("serialising the model: {e}")))?
        .to_vec();
    let optimizer = fitter
        .optimizer
        .into_bytes()
        .map_err(|e| TrainError::Checkpoint(format!("serialising the optimiser: {e}")))?
        .to_vec();
    Ok(Checkpoint {
        meta: FitCheckpointMeta {
            epoch: fitter.epoch,
            config: fitter.config.to_toml(),
            data_checksum: checksum,
            rng: fitter.rng.clone(),
            chains: fitter
                .chains
                .as_ref()
                .map(|c| crate::to_host(c.clone().reshape([c.dims()[0] * c.dims()[1]]))),
            history: fitter.history.clone(),
        },
        model,
        optimizer,
    })
}

fn restore(fitter: &mut Fitter, c: &Checkpoint<FitCheckpointMeta>) -> Result<(), TrainError> {
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(c.model.clone()))
        .map_err(|e| TrainError::Checkpoint(format!("reading the model: {e}")))?
        .cast_to_module_dtype();
    fitter.model = fitter
        .model
        .clone()
        .try_load_record(record)
        .map_err(|e| TrainError::Checkpoint(format!("loading the model: {e}")))?;
    checkpoint::check_default_device(&fitter.device)?;
    let fresh = match fitter.config.training.optimizer {
        FitOptimizer::Adam => AdamConfig::new().init(),
        FitOptimizer::Sgd => SgdConfig::new().init(),
    };
    fitter.optimizer = fresh
        .from_bytes(Bytes::from_bytes_vec(c.optimizer.clone()))
        .map_err(|e| TrainError::Checkpoint(format!("loading the optimiser: {e}")))?;
    fitter.rng = c.meta.rng.clone();
    if let (Some(values), Some(current)) = (&c.meta.chains, &fitter.chains) {
        let [n, m] = current.dims();
        if values.len() != n * m {
            return Err(TrainError::Checkpoint(format!(
                "{} chain values, the config needs {n} × {m}",
                values.len()
            )));
        }
        fitter.chains = Some(Tensor::from_data(
            TensorData::new(values.clone(), [n, m]),
            &fitter.device,
        ));
    }
    fitter.epoch = c.meta.epoch;
    fitter.history = c.meta.history.clone();
    Ok(())
}

const METRICS_HEADER: &str = "epoch,seconds,train_ll,valid_ll,log_z,log_z_error,kl,fidelity";

fn metrics_row(m: &EpochMetrics) -> String {
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    match &m.evaluation {
        Some(l) => format!(
            "{},{},{},{},{},{},{},{}",
            m.epoch,
            m.seconds,
            l.train,
            l.valid,
            l.log_z,
            l.log_z_error,
            opt(l.kl),
            opt(l.fidelity)
        ),
        None => format!("{},{},,,,,,", m.epoch, m.seconds),
    }
}

fn write_metrics(run: &RunDir, history: &[EpochMetrics]) -> Result<(), TrainError> {
    let mut text = format!("{METRICS_HEADER}\n");
    for m in history {
        let _ = writeln!(text, "{}", metrics_row(m));
    }
    run.write_atomic("metrics.csv", text.as_bytes())
}

/// Train `config` into a new run directory `out`; `None` when `stop` was raised (a
/// checkpoint was written first).
pub fn start(
    mut config: FitConfig,
    out: &Path,
    force: bool,
    device: Device,
    stop: &AtomicBool,
) -> Result<Option<FitSummary>, TrainError> {
    anchor_data_paths(&mut config.data)?;
    let (data, validation) = read_data(&config)?;
    let checksum = data_checksum(&config)?;
    let fitter = Fitter::new(config, &data, validation.as_ref(), device)?;
    let run = RunDir::create(out, force)?;
    run.write_atomic("config.toml", fitter.config.to_toml().as_bytes())?;
    drive(fitter, &run, checksum, stop)
}

/// Relative data paths made absolute (against the working directory, as documented), so
/// that the run's `config.toml` and checkpoints name the same files from any directory a
/// resume is started in.
fn anchor_data_paths(data: &mut DataConfig) -> Result<(), TrainError> {
    for path in std::iter::once(&mut data.path).chain(data.validation_path.as_mut()) {
        *path = std::path::absolute(&*path).map_err(|e| TrainError::io(&*path, e))?;
    }
    Ok(())
}

/// Continue the run in `dir` from its newest good checkpoint, to `epochs` in all when given
/// (at least the epochs already trained); `None` when `stop` was raised.
pub fn resume(
    dir: &Path,
    epochs: Option<usize>,
    device: Device,
    stop: &AtomicBool,
) -> Result<Option<FitSummary>, TrainError> {
    let run = RunDir::open(dir)?;
    let (c, path) = checkpoint::latest_good::<FitCheckpointMeta>(dir)?;
    let mut config = FitConfig::parse(&c.meta.config, &[], &path.display().to_string())?;
    if let Some(e) = epochs {
        if e < c.meta.epoch {
            return Err(TrainError::ResumeMismatch(format!(
                "--epochs {e} is below the epoch of the newest checkpoint, {}, in {} (a resumed fit only goes on)",
                c.meta.epoch,
                path.display()
            )));
        }
        config.training.epochs = e;
    }
    let checksum = data_checksum(&config)?;
    if checksum != c.meta.data_checksum {
        return Err(TrainError::ResumeMismatch(format!(
            "{} (or the validation file) changed since the checkpoint was written (its checksum differs)",
            config.data.path.display()
        )));
    }
    let (data, validation) = read_data(&config)?;
    let mut fitter = Fitter::new(config, &data, validation.as_ref(), device)?;
    restore(&mut fitter, &c)?;
    tracing::info!("resuming {} at epoch {}", dir.display(), fitter.epoch);
    run.write_atomic("config.toml", fitter.config.to_toml().as_bytes())?;
    drive(fitter, &run, checksum, stop)
}

fn drive(
    mut fitter: Fitter,
    run: &RunDir,
    checksum: u64,
    stop: &AtomicBool,
) -> Result<Option<FitSummary>, TrainError> {
    let epochs = fitter.config.training.epochs;
    let every = fitter.config.training.checkpoint_every;
    let keep = fitter.config.training.keep_checkpoints;
    write_metrics(run, &fitter.history)?;
    let mut last_report = std::time::Instant::now();
    while fitter.epoch < epochs {
        if stop.load(Ordering::SeqCst) {
            write_metrics(run, &fitter.history)?;
            let path = checkpoint::write(&run.path, &capture(&fitter, checksum)?, keep)?;
            tracing::warn!(
                "interrupted at epoch {}: checkpoint {} written; continue with nqs-train fit-rbm --resume {}",
                fitter.epoch,
                path.display(),
                run.path.display()
            );
            return Ok(None);
        }
        let seconds = fitter.train_epoch()?;
        let evaluation = if fitter.evaluates(fitter.epoch) {
            let l = fitter.evaluate()?;
            tracing::info!(
                "epoch {}/{epochs}: log-likelihood train {:.4} valid {:.4} (log Z {:.4} ± {:.4}){}{}",
                fitter.epoch,
                l.train,
                l.valid,
                l.log_z,
                l.log_z_error,
                l.kl.map(|k| format!(", KL {k:.4}")).unwrap_or_default(),
                l.fidelity
                    .map(|f| format!(", fidelity {f:.5}"))
                    .unwrap_or_default(),
            );
            last_report = std::time::Instant::now();
            Some(l)
        } else {
            if last_report.elapsed().as_secs_f64() > 5.0 {
                tracing::info!("epoch {}/{epochs}", fitter.epoch);
                last_report = std::time::Instant::now();
            }
            None
        };
        fitter.history.push(EpochMetrics {
            epoch: fitter.epoch,
            seconds,
            evaluation,
        });
        if fitter.epoch % every == 0 || fitter.epoch == epochs {
            write_metrics(run, &fitter.history)?;
            checkpoint::write(&run.path, &capture(&fitter, checksum)?, keep)?;
        }
    }
    finish(&fitter, run).map(Some)
}

fn finish(fitter: &Fitter, run: &RunDir) -> Result<FitSummary, TrainError> {
    write_metrics(run, &fitter.history)?;
    let likelihood = match fitter.history.last().and_then(|m| m.evaluation) {
        Some(l) => l,
        None => fitter.evaluate()?,
    };
    let samples = fitter.sample(fitter.config.training.seed.wrapping_add(0x5A3E));
    let rows: Vec<Vec<u8>> = samples
        .iter()
        .map(|r| r.iter().map(|&v| u8::from(v > 0.5)).collect())
        .collect();
    if fitter.frozen().is_binary() {
        let header = vec![format!(
            "{} Gibbs samples of the trained RBM ({} chains, time-major), 0/1",
            rows.len(),
            fitter.config.evaluation.chains
        )];
        run.write_atomic("samples.txt", format_binary_rows(&header, &rows).as_bytes())?;
    }
    let observables = match &fitter.config.target {
        Some(Target::Ising(ising)) => {
            let host = nqs_boltzmann::HostRbm::from_rbm(&fitter.frozen());
            let log_q = (host.n_visible() <= super::fit::AUTO_EXACT_UNITS)
                .then(|| host.log_probabilities())
                .transpose()
                .map_err(|e| TrainError::Unsupported(e.to_string()))?;
            Some(thermo::ising_observables(
                ising,
                &samples,
                fitter.config.evaluation.chains,
                &fitter.train,
                &fitter.valid,
                log_q.as_deref(),
            )?)
        }
        _ => None,
    };
    if let Some(o) = &observables {
        run.write_atomic(
            "observables.json",
            &serde_json::to_vec_pretty(o)
                .map_err(|e| TrainError::io(&run.file("observables.json"), e))?,
        )?;
    }
    let exact_valid_ll = fitter
        .exact
        .as_ref()
        .filter(|_| fitter.valid.rows > 0)
        .map(|t| {
            (0..fitter.valid.rows)
                .map(|i| {
                    t.probabilities[nqs_boltzmann::exact::state_index(fitter.valid.row(i))].ln()
                })
                .sum::<f64>()
                / fitter.valid.rows as f64
        });
    let rbm = fitter.frozen();
    let summary = FitSummary {
        epochs: fitter.epoch,
        visible: rbm.n_visible(),
        hidden: rbm.n_hidden(),
        train_samples: fitter.train.rows,
        valid_samples: fitter.valid.rows,
        likelihood,
        exact_valid_ll,
        log_z_method: if likelihood.log_z_error == 0.0 {
            "exact"
        } else {
            "ais"
        }
        .into(),
        train_seconds: fitter.history.iter().map(|m| m.seconds).sum(),
        observables,
    };
    run.write_atomic(
        "summary.json",
        &serde_json::to_vec_pretty(&summary)
            .map_err(|e| TrainError::io(&run.file("summary.json"), e))?,
    )?;
    likelihood_plot(run, &fitter.history, exact_valid_ll)?;
    Ok(summary)
}

fn likelihood_plot(
    run: &RunDir,
    history: &[EpochMetrics],
    exact_valid_ll: Option<f64>,
) -> Result<(), TrainError> {
    let points = |f: &dyn Fn(&Likelihood) -> f64, e: &dyn Fn(&Likelihood) -> f64| {
        history
            .iter()
            .filter_map(|m| m.evaluation.map(|l| (m.epoch as f64, f(&l), e(&l))))
            .filter(|p| p.1.is_finite())
            .collect::<Vec<_>>()
    };
    let mut curves = vec![
        Curve {
            label: "training data".into(),
            points: points(&|l| l.train, &|l| l.log_z_error),
        },
        Curve {
            label: "validation data".into(),
            points: points(&|l| l.valid, &|l| l.log_z_error),
        },
    ];
    curves.retain(|c| !c.points.is_empty());
    let reference = exact_valid_ll.map(|v| Curve {
        label: "exact distribution (validation)".into(),
        points: history
            .iter()
            .filter(|m| m.evaluation.is_some())
            .map(|m| (m.epoch as f64, v, 0.0))
            .collect(),
    });
    if curves.is_empty() {
        return Ok(());
    }
    curves_plot(
        &run.file("likelihood"),
        "Average log-likelihood per sample",
        "epoch",
        "log p(x)",
        &curves,
        reference.as_ref(),
    )
}
