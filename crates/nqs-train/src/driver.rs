//! The training loop around [`Trainer::train_step`]: metrics rows, checkpoints, rollback
//! after non-finite steps, and a clean stop on request (Ctrl-C).

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use crate::checkpoint::{self, Checkpoint};
use crate::config::OnNonFinite;
use crate::distributed::Comm;
use crate::run_dir::{MetricsWriter, RunDir};
use crate::{TrainError, Trainer};

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// All configured steps are done.
    Finished,
    /// Stopped on request after writing a checkpoint.
    Interrupted,
}

/// Train until `trainer.config.run.steps`, appending to `metrics`, writing checkpoints into
/// `run`, and stopping (with a checkpoint) when `stop` becomes true.
pub fn train(
    trainer: &mut Trainer,
    run: &RunDir,
    metrics: &mut MetricsWriter,
    stop: &AtomicBool,
    progress: bool,
) -> Result<Outcome, TrainError> {
    let steps = trainer.config.run.steps;
    let every = trainer.config.run.checkpoint_every;
    let keep = trainer.config.run.keep_checkpoints;
    // The rollback point: the state at the start, then every checkpoint.
    let mut good = Checkpoint::capture(trainer)?;
    let report_every = (steps / 20).max(1);
    let start = Instant::now();
    let first = trainer.step;
    let bar = (progress && run.writes()).then(|| progress_bar(steps, first));
    let comm = trainer.comm;
    while trainer.step < steps {
        // A stop request (Ctrl-C reaches every rank, not always at the same step) ends the
        // run on all ranks at the same step.
        if crate::trainer::stop_raised(Some(stop), comm) {
            let c = Checkpoint::capture(trainer).unwrap_or(good);
            let step = c.meta.step;
            if let Some(path) = write_checkpoint(run, &comm, &c, keep)? {
                tracing::warn!(
                    "interrupted at step {step}: checkpoint {} written; continue with --resume {}",
                    path.display(),
                    run.path.display()
                );
            }
            return Ok(Outcome::Interrupted);
        }
        match trainer.train_step() {
            Ok(m) => {
                metrics.write(&m)?;
                if let Some(bar) = &bar {
                    bar.set_position(m.step as u64);
                    bar.set_message(format!(
                        "E = {:.5} ± {:.5}  var {:.4}  acc {:.2}",
                        m.energy, m.energy_error, m.variance, m.acceptance
                    ));
                } else if m.step % report_every == 0 || m.step == steps {
                    tracing::info!(
                        "step {:>5}/{steps}  E = {:.5} ± {:.5}  var = {:.5}  acc = {:.2}  {:.1} ms/step",
                        m.step,
                        m.energy,
                        m.energy_error,
                        m.variance,
                        m.acceptance,
                        1e3 * start.elapsed().as_secs_f64() / (m.step - first) as f64
                    );
                }
                if comm.size() > 1 && (m.step % CHECKSUM_EVERY == 0 || m.step == steps) {
                    parameters_agree(trainer)?;
                }
                let due = (every > 0 && m.step % every == 0) || m.step == steps;
                if due {
                    match Checkpoint::capture(trainer) {
                        Ok(c) => {
                            write_checkpoint(run, &comm, &c, keep)?;
                            good = c;
                        }
                        Err(e @ TrainError::NonFinite { .. }) => {
                            roll_back(trainer, &good, run, metrics, e)?;
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            Err(e @ TrainError::NonFinite { .. }) => roll_back(trainer, &good, run, metrics, e)?,
            // Stopped in the burn-in: the walkers are not burned in yet, so the state to
            // keep is the last good one.
            Err(TrainError::Stopped) => {
                let step = good.meta.step;
                if let Some(path) = write_checkpoint(run, &comm, &good, keep)? {
                    tracing::warn!(
                        "interrupted in the burn-in before step {}: checkpoint {} written; continue with --resume {}",
                        step + 1,
                        path.display(),
                        run.path.display()
                    );
                }
                return Ok(Outcome::Interrupted);
            }
            Err(e) => return Err(e),
        }
    }
    // No step ran (run.steps = 0, e.g. to evaluate a trial state) and the run has no
    // checkpoint: the start is one, so that `--resume DIR --steps N` can train it later.
    // Rank 0's directory decides for every rank (the write is collective).
    if trainer.step == first && comm.any(run.writes() && checkpoint::list(&run.path)?.is_empty()) {
        write_checkpoint(run, &comm, &good, keep)?;
    }
    if let Some(bar) = bar {
        bar.finish();
    }
    Ok(Outcome::Finished)
}

/// Steps between comparisons of the parameters of all ranks.
pub const CHECKSUM_EVERY: usize = 10;

/// Join every rank's `checkpoint` and write it (rank 0); the path written, if this rank
/// wrote. Collective.
fn write_checkpoint(
    run: &RunDir,
    comm: &Comm,
    checkpoint: &Checkpoint,
    keep: usize,
) -> Result<Option<std::path::PathBuf>, TrainError> {
    match checkpoint.joined(comm)? {
        Some(joined) if run.writes() => checkpoint::write(&run.path, &joined, keep).map(Some),
        _ => Ok(None),
    }
}

/// A checksum of the parameters' bits (FNV-1a of the f64 values in visiting order).
pub fn parameter_checksum(trainer: &Trainer) -> u64 {
    let bytes: Vec<u8> = crate::params::to_vec(&trainer.model)
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    checkpoint::fnv1a64(&bytes)
}

/// Every rank's parameter checksum, in rank order. Collective.
pub fn parameter_checksums(trainer: &Trainer) -> Vec<u64> {
    trainer
        .comm
        .gather_bytes(&parameter_checksum(trainer).to_le_bytes())
        .iter()
        .map(|b| u64::from_le_bytes(b.as_slice().try_into().unwrap_or([0; 8])))
        .collect()
}

/// Fails when the ranks' parameters differ (they apply the same update to the same values,
/// so they never should). Collective.
fn parameters_agree(trainer: &Trainer) -> Result<(), TrainError> {
    let sums = parameter_checksums(trainer);
    if sums.iter().any(|s| *s != sums[0]) {
        let listed: Vec<String> = sums.iter().map(|s| format!("{s:016x}")).collect();
        return Err(TrainError::Distributed(format!(
            "the ranks' parameters differ at step {} (checksums by rank: {})",
            trainer.step,
            listed.join(", ")
        )));
    }
    Ok(())
}

/// A terminal progress bar: step, energy ± error, variance, acceptance, steps/s, time left.
fn progress_bar(steps: usize, done: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(steps as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} steps  {msg}  {per_sec}  ETA {eta}",
        )
        .expect("valid progress template"),
    );
    bar.set_position(done as u64);
    bar
}

/// Return to `good` with half the learning rate, or stop as configured.
fn roll_back(
    trainer: &mut Trainer,
    good: &Checkpoint,
    run: &RunDir,
    metrics: &mut MetricsWriter,
    fault: TrainError,
) -> Result<(), TrainError> {
    let rollbacks = trainer.rollbacks + 1;
    if trainer.config.run.on_nonfinite == OnNonFinite::Stop
        || rollbacks > trainer.config.run.max_rollbacks
    {
        return Err(fault);
    }
    let scale = trainer.learning_rate_scale * 0.5;
    good.restore(trainer)?;
    trainer.rollbacks = rollbacks;
    trainer.learning_rate_scale = scale;
    *metrics = run.metrics_writer(&trainer.history)?;
    tracing::warn!(
        "{fault}: rolled back to step {} with learning-rate factor {scale} (rollback {rollbacks} of at most {})",
        trainer.step,
        trainer.config.run.max_rollbacks
    );
    Ok(())
}
