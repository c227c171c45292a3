//! A run from start (or checkpoint) to its summary: the shared path of `nqs-train`,
//! `nqs-train --resume`, `compare` and `sweep`.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use burn::tensor::Device;

use crate::checkpoint::{self, Checkpoint};
use crate::distributed::{Comm, chains};
use crate::driver::{self, Outcome};
use crate::plots;
use crate::run_dir::{MetricsWriter, RunDir, Summary, write_observables};
use crate::{Backend, Config, Precision, TrainError, Trainer};

/// Where and how a run computes.
#[derive(Debug, Clone)]
pub struct Target {
    /// The plain device.
    pub device: Device,
    /// Its backend.
    pub backend: Backend,
    /// Its precision.
    pub precision: Precision,
    /// Show a progress bar (a terminal is attached).
    pub progress: bool,
    /// The ranks of a distributed run (one process: [`Comm::single`]).
    pub comm: Comm,
}

/// The run directory: made (and checked) by rank 0; the other ranks write nothing.
fn run_dir_for(out: &Path, force: bool, comm: &Comm) -> Result<RunDir, TrainError> {
    if comm.is_root() {
        RunDir::create(out, force)
    } else {
        Ok(RunDir::follower(out))
    }
}

/// Start a new run of `config` in `out` (refused if `out` is non-empty, unless `force`).
/// Returns `None` when interrupted (a checkpoint was written).
pub fn start(
    config: Config,
    out: &Path,
    force: bool,
    target: &Target,
    stop: &Arc<AtomicBool>,
) -> Result<Option<Summary>, TrainError> {
    // Everything that can fail on bad input is checked before the directory is touched.
    let trainer = Trainer::distributed(config, target.device.clone(), target.comm)?;
    let run = run_dir_for(out, force, &target.comm)?;
    run.write_atomic("config.toml", trainer.config.to_toml().as_bytes())?;
    let metrics = run.metrics_writer(&[])?;
    tracing::info!(
        run = %out.display(),
        backend = target.backend.name(),
        precision = target.precision.name(),
        parameters = trainer.n_parameters(),
        steps = trainer.config.run.steps,
        ranks = target.comm.size(),
        "training"
    );
    finish(trainer, run, metrics, target, stop)
}

/// Continue the run in `dir` from its newest good checkpoint. `config` (from `--config` or
/// the checkpoint's own with overrides) must describe the same model and walkers.
pub fn resume(
    dir: &Path,
    config: Option<Config>,
    overrides: &[String],
    target: &Target,
    stop: &Arc<AtomicBool>,
) -> Result<Option<Summary>, TrainError> {
    let run = if target.comm.is_root() {
        RunDir::open(dir)?
    } else {
        RunDir::follower(dir)
    };
    let (checkpoint, path) = checkpoint::latest_good::<checkpoint::CheckpointMeta>(dir)?;
    same_checkpoint_on_every_rank(&target.comm, checkpoint.meta.step, dir)?;
    let stored = checkpoint.config()?;
    let config = match config {
        Some(c) => c,
        None => Config::parse(&stored.to_toml(), overrides, &path.display().to_string())?,
    };
    if config.run.seed != stored.run.seed {
        return Err(TrainError::ResumeMismatch(format!(
            "run.seed = {} differs from the checkpoint's {} in {} (the chains go on from the checkpoint's generators; a new seed needs a new run)",
            config.run.seed,
            stored.run.seed,
            path.display()
        )));
    }
    if checkpoint.meta.step > config.run.steps {
        return Err(TrainError::ResumeMismatch(format!(
            "run.steps = {} is below the step of the newest checkpoint, {}, in {} (a resumed run only goes on)",
            config.run.steps,
            checkpoint.meta.step,
            path.display()
        )));
    }
    if config.model != stored.model {
        return Err(TrainError::ResumeMismatch(format!(
            "[model] differs from the checkpoint's in {} (a resumed run keeps its model)",
            path.display()
        )));
    }
    if config.geometry() != stored.geometry()
        || config.system.kind() != stored.system.kind()
        || config.sampler.walkers != stored.sampler.walkers
    {
        return Err(TrainError::ResumeMismatch(format!(
            "the system's kind, particles and dimensions and sampler.walkers must match the checkpoint in {}",
            path.display()
        )));
    }
    let mut trainer = Trainer::distributed(config, target.device.clone(), target.comm)?;
    checkpoint.for_rank(&target.comm)?.restore(&mut trainer)?;
    tracing::info!(
        run = %dir.display(),
        checkpoint = %path.display(),
        step = trainer.step,
        steps = trainer.config.run.steps,
        "resuming"
    );
    if trainer.step >= trainer.config.run.steps
        && trainer
            .config
            .first_difference(&stored, NOT_COMPARED)
            .is_some()
    {
        // No step will run, so no checkpoint would carry the settings that config.toml and
        // the evaluation now use: one is written at the same step, or the next resume would
        // silently go back to the old ones.
        let capture = Checkpoint::capture(&trainer)?;
        if let Some(joined) = capture.joined(&target.comm)?
            && run.writes()
        {
            checkpoint::write(&run.path, &joined, trainer.config.run.keep_checkpoints)?;
        }
    }
    run.write_atomic("config.toml", trainer.config.to_toml().as_bytes())?;
    if trainer.step < trainer.config.run.steps {
        // An `nqs-train eval` of the parameters this resume trains on from.
        run.remove("eval.json")?;
    }
    let metrics = run.metrics_writer(&trainer.history)?;
    finish(trainer, run, metrics, target, stop)
}

/// Every rank must resume from the same step: each reads the newest good checkpoint itself,
/// so a directory not shared by every rank, or a file one rank could not read, would
/// otherwise let ranks run at different steps. Collective.
fn same_checkpoint_on_every_rank(comm: &Comm, step: usize, dir: &Path) -> Result<(), TrainError> {
    if comm.size() == 1 {
        return Ok(());
    }
    // Steps are far below 2⁵³: exact as f64.
    let steps = comm.gather(&[step as f64]);
    if steps.iter().any(|s| *s != steps[0]) {
        let listed: Vec<String> = steps.iter().map(|s| s.to_string()).collect();
        return Err(TrainError::Distributed(format!(
            "the ranks found different newest checkpoints in {} (steps by rank: {}): the run directory must be on a file system every rank sees",
            dir.display(),
            listed.join(", ")
        )));
    }
    Ok(())
}

/// The summary of `dir` if it finished, else resume it if it has a checkpoint, else start
/// `config` there: the resumable unit of `compare` and `sweep`.
///
/// A directory that holds a run of another config (any resolved key but those in
/// [`NOT_COMPARED`]) is refused, naming the key, and so is a run already past `run.steps`; a finished run with
/// fewer steps is resumed to `run.steps`.
pub fn complete(
    config: Config,
    dir: &Path,
    target: &Target,
    stop: &Arc<AtomicBool>,
) -> Result<Option<Summary>, TrainError> {
    check_reusable(&config, dir)?;
    if let Ok(text) = std::fs::read_to_string(dir.join("summary.json"))
        && let Ok(summary) = serde_json::from_str::<Summary>(&text)
        && summary.steps >= config.run.steps
    {
        if summary.steps > config.run.steps {
            return Err(TrainError::ResumeMismatch(format!(
                "{} holds a run of {} steps, more than run.steps = {}; use another --out",
                dir.display(),
                summary.steps,
                config.run.steps
            )));
        }
        tracing::info!(run = %dir.display(), "already finished");
        return Ok(Some(summary));
    }
    if !checkpoint::list(dir)?.is_empty() {
        return resume(dir, Some(config), &[], target, stop);
    }
    start(config, dir, true, target, stop)
}

/// Keys in which a run may differ from the config that asks for it and still answer it: the
/// length (a shorter run is resumed) and settings that change how, not what, is computed
/// (the threads are also set to 1 on a GPU, and default to the machine's cores).
const NOT_COMPARED: &[&str] = &[
    "run.steps",
    "sampler.threads",
    "run.checkpoint_every",
    "run.keep_checkpoints",
];

/// Whether `dir`, when it holds a run, holds one of `config` (up to `run.steps` and the
/// settings in [`NOT_COMPARED`]): what [`complete`] checks first, for `sweep` and `compare`
/// to check every point before training.
pub fn check_reusable(config: &Config, dir: &Path) -> Result<(), TrainError> {
    let config_path = dir.join("config.toml");
    if let Ok(text) = std::fs::read_to_string(&config_path) {
        let stored = Config::parse(&text, &[], &config_path.display().to_string())?;
        if let Some((key, asked, held)) = config.first_difference(&stored, NOT_COMPARED) {
            return Err(TrainError::ResumeMismatch(format!(
                "{} holds a run with {key} = {held}, not {asked}; use another --out",
                dir.display()
            )));
        }
    }
    Ok(())
}

/// Train to the end, evaluate at frozen parameters, write results and plots.
fn finish(
    mut trainer: Trainer,
    run: RunDir,
    mut metrics: MetricsWriter,
    target: &Target,
    stop: &Arc<AtomicBool>,
) -> Result<Option<Summary>, TrainError> {
    trainer.stop = Some(stop.clone());
    if driver::train(&mut trainer, &run, &mut metrics, stop, target.progress)?
        == Outcome::Interrupted
    {
        return Ok(None);
    }
    let train_seconds: f64 = trainer.history.iter().map(|m| m.seconds).sum();
    let samples = trainer.config.eval.samples_per_walker;
    tracing::info!(
        samples_per_walker = samples,
        "final evaluation at frozen parameters"
    );
    let evaluation = match trainer.evaluate(samples) {
        Err(TrainError::Stopped) => {
            // The last step's checkpoint holds the trained state: a resume evaluates it.
            if run.writes() {
                tracing::warn!(
                    "interrupted in the final evaluation: the trained state is in the last checkpoint; evaluate it with --resume {}",
                    run.path.display()
                );
            }
            return Ok(None);
        }
        e => e?,
    };
    let checksums = driver::parameter_checksums(&trainer);
    let walkers = chains::join(&trainer.comm, &trainer.sampler.snapshot())?;
    let mut summary = Summary::new(
        &trainer,
        &evaluation,
        train_seconds,
        target.backend.name(),
        target.precision.name(),
    );
    summary.parameter_checksums = checksums.iter().map(|c| format!("{c:016x}")).collect();
    // Rank 0 writes; the others are done.
    let Some((walkers, _)) = walkers.filter(|_| run.writes()) else {
        return Ok(Some(summary));
    };
    run.save_state(&trainer, &walkers)?;
    write_observables(&run, &evaluation)?;
    let json = serde_json::to_vec_pretty(&summary).map_err(|e| TrainError::io(&run.path, e))?;
    run.write_atomic("summary.json", &json)?;
    let system = &trainer.config.system;
    let title = system.title();
    plots::energy_plot(
        &run.file("energy"),
        &[plots::Trajectory {
            label: summary.model.clone(),
            points: trainer
                .history
                .iter()
                .map(|m| (m.step as f64, m.energy, m.energy_error))
                .collect(),
        }],
        trainer.config.reference().map(|r| (r.energy, r.label())),
        system.energy_unit(),
    )?;
    if let Some(d) = &evaluation.density {
        plots::density_plot(
            &run.file("density"),
            d,
            &format!("one-body density, {title}"),
            system.length_unit(),
        )?;
    }
    if let Some(p) = &evaluation.pair_distribution {
        plots::pair_plot(
            &run.file("pair_distribution"),
            p,
            &format!("pair distribution, {title}"),
            system.length_unit(),
            trainer.config.geometry().n_down() > 0,
        )?;
    }
    if let Some(s) = &evaluation.structure_factor {
        plots::curves_plot(
            &run.file("structure_factor"),
            &format!("static structure factor, {title}"),
            &format!("k (1/{})", system.length_unit()),
            "S(k)",
            &[plots::Curve {
                label: "S(k) = ⟨|ρ_k|²⟩/N".into(),
                points: (0..s.k.len())
                    .map(|i| (s.k[i], s.s[i], s.error[i]))
                    .collect(),
            }],
            None,
        )?;
    }
    Ok(Some(summary))
}
