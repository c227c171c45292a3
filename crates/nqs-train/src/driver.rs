//! The training loop around [`Trainer::train_step`]: metrics rows, checkpoints, rollback
//! after non-finite steps, and a clean stop on request (Ctrl-C).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::checkpoint::{self, Checkpoint};
use crate::config::OnNonFinite;
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
    let bar = progress.then(|| progress_bar(steps, first));
    while trainer.step < steps {
        if stop.load(Ordering::SeqCst) {
            let c = Checkpoint::capture(trainer).unwrap_or(good);
            let path = checkpoint::write(&run.path, &c, keep)?;
            tracing::warn!(
                "interrupted at step {}: checkpoint {} written; continue with --resume {}",
                c.meta.step,
                path.display(),
                run.path.display()
            );
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
                let due = (every > 0 && m.step % every == 0) || m.step == steps;
                if due {
                    match Checkpoint::capture(trainer) {
                        Ok(c) => {
                            checkpoint::write(&run.path, &c, keep)?;
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
            Err(e) => return Err(e),
        }
    }
    if let Some(bar) = bar {
        bar.finish();
    }
    Ok(Outcome::Finished)
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
