//! Files of a run directory: `config.toml` (resolved), `metrics.csv` (one row per step),
//! `summary.json` (final evaluation), `model.bpk` (parameters) and `sampler.json` (walkers).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use burn::module::Module;
use nqs_sampler::SamplerSnapshot;
use serde::{Deserialize, Serialize};

use crate::{Evaluation, StepMetrics, TrainError, Trainer};

/// Header of `metrics.csv`.
pub const METRICS_HEADER: &str = "step,energy,energy_error,variance,acceptance,learning_rate,seconds,sampling_seconds,local_energy_seconds,gradient_seconds,rollbacks,cg_iterations,cg_residual,communication_seconds";

/// `summary.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// Energy of the frozen final evaluation.
    pub energy: f64,
    /// Its blocking error.
    pub energy_error: f64,
    /// Variance of the local energy.
    pub variance: f64,
    /// Integrated autocorrelation time of the evaluation chain.
    pub tau_corr: f64,
    /// Kinetic energy ± error.
    pub kinetic: f64,
    /// Error of the kinetic energy.
    pub kinetic_error: f64,
    /// Potential energy.
    pub potential: f64,
    /// Error of the potential energy.
    pub potential_error: f64,
    /// Each potential term: name, mean and error (e.g. `v2`, `v3` for a nucleus).
    #[serde(default)]
    pub terms: Vec<TermSummary>,
    /// ⟨r²⟩ per particle (about the centre of mass for a self-bound system; in a periodic
    /// cell the mean squared minimum-image pair separation).
    pub r2: f64,
    /// Error of ⟨r²⟩.
    pub r2_error: f64,
    /// Root-mean-square radius √⟨r²⟩ (for a nucleus: the point-nucleon radius).
    #[serde(default)]
    pub rms_radius: f64,
    /// Its error.
    #[serde(default)]
    pub rms_radius_error: f64,
    /// Acceptance during the evaluation.
    pub acceptance: f64,
    /// Optimisation steps done.
    pub steps: usize,
    /// Local-energy samples of the evaluation.
    pub samples: usize,
    /// Wall time of the optimisation steps (summed over resumes) and the evaluation; the
    /// burn-in, checkpoints, observables and plots are not counted.
    pub wall_seconds: f64,
    /// Wall time of the optimisation steps alone (summed over resumes).
    pub train_seconds: f64,
    /// Mean wall time of one optimisation step.
    pub seconds_per_step: f64,
    /// Wall time of the evaluation.
    pub eval_seconds: f64,
    /// Backend name.
    pub backend: String,
    /// Float precision.
    pub precision: String,
    /// Number of variational parameters.
    pub n_parameters: usize,
    /// Factor kinds, e.g. "slater*pade_jastrow".
    pub model: String,
    /// Number of particles.
    pub particles: usize,
    /// Spatial dimension.
    pub dimensions: usize,
    /// The trial states' scale: the trap frequency of a quantum dot, 1/trial_length² of a
    /// nucleus.
    pub omega: f64,
    /// The system as configured (absent in summaries written before systems had kinds).
    #[serde(default)]
    pub system: Option<nqs_physics::SystemConfig>,
    /// Processes (MPI ranks) the run used.
    #[serde(default = "one")]
    pub ranks: usize,
    /// Each rank's parameter checksum at the end (FNV-1a of the f64 values, hex): equal on
    /// every rank.
    #[serde(default)]
    pub parameter_checksums: Vec<String>,
}

/// One potential term of the evaluation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TermSummary {
    /// Its name.
    pub name: String,
    /// Mean.
    pub mean: f64,
    /// Blocking error.
    pub error: f64,
}

fn one() -> usize {
    1
}

impl Summary {
    /// The reference energy for this run's system and trial state.
    pub fn reference(&self) -> Option<nqs_physics::Reference> {
        let spin = self.model.split('*').any(|k| k == "spin_correlator");
        self.system().reference(spin)
    }

    /// The system: the stored one, or the quantum dot of (N, d, ω) for older summaries.
    pub fn system(&self) -> nqs_physics::SystemConfig {
        self.system.clone().unwrap_or_else(|| {
            nqs_physics::SystemConfig::QuantumDot(nqs_physics::QuantumDotConfig {
                dimensions: self.dimensions,
                particles: self.particles,
                omega: self.omega,
                interaction: nqs_physics::Interaction::Coulomb,
            })
        })
    }
}

impl Summary {
    /// Build from a finished evaluation.
    pub fn new(
        trainer: &Trainer,
        eval: &Evaluation,
        train_seconds: f64,
        backend: &str,
        precision: &str,
    ) -> Self {
        let c = &trainer.config;
        Self {
            energy: eval.energy.mean,
            energy_error: eval.energy.error,
            variance: eval.energy.variance,
            tau_corr: eval.energy.tau_corr,
            kinetic: eval.kinetic.mean,
            kinetic_error: eval.kinetic.error,
            potential: eval.potential.mean,
            potential_error: eval.potential.error,
            terms: eval
                .terms
                .iter()
                .map(|(name, stats)| TermSummary {
                    name: name.clone(),
                    mean: stats.mean,
                    error: stats.error,
                })
                .collect(),
            r2: eval.r2.mean,
            r2_error: eval.r2.error,
            rms_radius: eval.r2.mean.max(0.0).sqrt(),
            rms_radius_error: if eval.r2.mean > 0.0 {
                eval.r2.error / (2.0 * eval.r2.mean.sqrt())
            } else {
                0.0
            },
            acceptance: eval.acceptance,
            steps: trainer.step,
            samples: eval.energy.n,
            wall_seconds: train_seconds + eval.seconds,
            train_seconds,
            seconds_per_step: if trainer.step > 0 {
                train_seconds / trainer.step as f64
            } else {
                0.0
            },
            eval_seconds: eval.seconds,
            backend: backend.to_string(),
            precision: precision.to_string(),
            n_parameters: trainer.n_parameters(),
            model: c.model_label(),
            particles: c.geometry().n_particles,
            dimensions: c.geometry().dimensions,
            omega: c.system.trial_scale(),
            system: Some(c.system.clone()),
            ranks: trainer.comm.size(),
            parameter_checksums: Vec::new(),
        }
    }
}

/// A run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    /// Its path.
    pub path: PathBuf,
    /// Whether this process writes files (rank 0 of a distributed run, or the only one).
    writes: bool,
}

/// Every file a training or a `fit-rbm` run writes into its directory (besides
/// `checkpoints/`): what `--force` removes before a new run starts there.
const RUN_FILES: &[&str] = &[
    "config.toml",
    "metrics.csv",
    "summary.json",
    "eval.json",
    "model.bpk",
    "sampler.json",
    "density_grid.csv",
    "density_radial.csv",
    "pair_distribution.csv",
    "structure_factor.csv",
    "samples.txt",
    "observables.json",
    "energy.png",
    "energy.svg",
    "density.png",
    "density.svg",
    "pair_distribution.png",
    "pair_distribution.svg",
    "structure_factor.png",
    "structure_factor.svg",
    "likelihood.png",
    "likelihood.svg",
];

/// Write `contents` to `tmp`, sync it and rename it over `target`. On a failure (a full
/// disk) `tmp` is removed: no partial file is left beside the run's files.
pub(crate) fn replace_atomically(
    tmp: &Path,
    target: &Path,
    contents: &[u8],
) -> Result<(), TrainError> {
    let written = (|| {
        let mut f = fs::File::create(tmp).map_err(|e| TrainError::io(tmp, e))?;
        f.write_all(contents).map_err(|e| TrainError::io(tmp, e))?;
        f.sync_all().map_err(|e| TrainError::io(tmp, e))?;
        fs::rename(tmp, target).map_err(|e| TrainError::io(target, e))
    })();
    if written.is_err() {
        let _ = fs::remove_file(tmp);
    }
    written
}

/// Refuse `out` as the output folder of a derived product (comparison, emulator, Ising
/// table) when it is a training run's directory: the product's files (`energy.png`, …)
/// would replace the run's own.
pub fn refuse_run_directory(out: &Path) -> Result<(), TrainError> {
    if out.join("config.toml").is_file() || crate::checkpoint::folder(out).is_dir() {
        return Err(TrainError::Io {
            path: out.display().to_string(),
            reason: "is a training run's directory (it holds config.toml or checkpoints), whose files this output would replace; choose another --out".into(),
        });
    }
    Ok(())
}

impl RunDir {
    /// Create `path` for a new run. An existing non-empty directory is refused unless
    /// `force`, so that no earlier results are overwritten by accident.
    pub fn create(path: &Path, force: bool) -> Result<Self, TrainError> {
        if path.exists() {
            let non_empty = fs::read_dir(path)
                .map_err(|e| TrainError::io(path, e))?
                .next()
                .is_some();
            if non_empty && !force {
                return Err(TrainError::Io {
                    path: path.display().to_string(),
                    reason: "run directory exists and is not empty (use --force to overwrite, or --out to choose another)".into(),
                });
            }
        }
        fs::create_dir_all(path).map_err(|e| TrainError::io(path, e))?;
        // --force: the checkpoints of the run being replaced must not be resumed by mistake,
        // and its results (model.bpk, summary.json, eval.json, plots) must not stand beside
        // the new run's config, where `eval --from` would read them. Other files stay.
        let old_checkpoints = crate::checkpoint::folder(path);
        if old_checkpoints.exists() {
            fs::remove_dir_all(&old_checkpoints)
                .map_err(|e| TrainError::io(&old_checkpoints, e))?;
        }
        for name in RUN_FILES {
            let old = path.join(name);
            if old.is_file() {
                fs::remove_file(&old).map_err(|e| TrainError::io(&old, e))?;
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            writes: true,
        })
    }

    /// The run directory as seen by a rank other than 0 of a distributed run: every write
    /// is skipped (rank 0 makes and writes the directory).
    pub fn follower(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            writes: false,
        }
    }

    /// Whether this process writes the run's files.
    pub fn writes(&self) -> bool {
        self.writes
    }

    /// An existing run directory.
    pub fn open(path: &Path) -> Result<Self, TrainError> {
        if !path.join("config.toml").is_file() {
            return Err(TrainError::Io {
                path: path.display().to_string(),
                reason: "not a run directory (no config.toml)".into(),
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            writes: true,
        })
    }

    /// Path of a file inside the directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Remove the file `name` if it exists (rank 0 only, like every write).
    pub fn remove(&self, name: &str) -> Result<(), TrainError> {
        let path = self.file(name);
        if self.writes && path.is_file() {
            fs::remove_file(&path).map_err(|e| TrainError::io(&path, e))?;
        }
        Ok(())
    }

    /// Write `contents` to `name` atomically (temporary file, fsync, rename).
    pub fn write_atomic(&self, name: &str, contents: &[u8]) -> Result<(), TrainError> {
        if !self.writes {
            return Ok(());
        }
        replace_atomically(
            &self.file(&format!(".{name}.tmp")),
            &self.file(name),
            contents,
        )
    }

    /// (Re)write `metrics.csv` atomically with its header and `rows`, and open it for
    /// appending (a resumed run drops the rows written after its checkpoint).
    pub fn metrics_writer(&self, rows: &[StepMetrics]) -> Result<MetricsWriter, TrainError> {
        let path = self.file("metrics.csv");
        if !self.writes {
            return Ok(MetricsWriter { file: None, path });
        }
        let mut text = format!("{METRICS_HEADER}\n");
        for m in rows {
            text.push_str(&metrics_row(m));
            text.push('\n');
        }
        self.write_atomic("metrics.csv", text.as_bytes())?;
        let file = fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| TrainError::io(&path, e))?;
        Ok(MetricsWriter {
            file: Some(file),
            path,
        })
    }

    /// Save the trained parameters and the walkers of every rank, `walkers` (for
    /// `nqs-train eval`).
    pub fn save_state(
        &self,
        trainer: &Trainer,
        walkers: &SamplerSnapshot,
    ) -> Result<(), TrainError> {
        if !self.writes {
            return Ok(());
        }
        let model_path = self.file("model.bpk");
        trainer
            .frozen()
            .save_file(&model_path)
            .map_err(|e| TrainError::io(&model_path, e))?;
        let snapshot = serde_json::to_vec(walkers)
            .map_err(|e| TrainError::io(&self.file("sampler.json"), e))?;
        self.write_atomic("sampler.json", &snapshot)
    }

    /// Load parameters and walkers saved by [`RunDir::save_state`] into `trainer`.
    pub fn load_state(&self, trainer: &mut Trainer) -> Result<(), TrainError> {
        let model_path = self.file("model.bpk");
        if !model_path.is_file() {
            return Err(TrainError::Io {
                path: self.path.display().to_string(),
                reason: format!(
                    "no trained state (model.bpk): the training has not finished; finish it with --resume {}",
                    self.path.display()
                ),
            });
        }
        let autodiff = trainer.device.clone().autodiff();
        // Cast to the run's precision: a run trained in f32 (wgpu) can be evaluated in f64
        // on a CPU and the other way round.
        let record = burn::store::ModuleRecord::load(&model_path)
            .map_err(|e| TrainError::io(&model_path, e))?
            .cast_to_module_dtype();
        trainer.model = trainer
            .model
            .clone()
            .try_load_record(record)
            .map_err(|e| TrainError::io(&model_path, e))?
            .to_device(&autodiff);
        let path = self.file("sampler.json");
        let text = fs::read(&path).map_err(|e| TrainError::io(&path, e))?;
        let snapshot: SamplerSnapshot =
            serde_json::from_slice(&text).map_err(|e| TrainError::io(&path, e))?;
        trainer.sampler = nqs_sampler::SamplerState::restore(
            &snapshot,
            trainer.config.sampler.walkers,
            trainer.config.geometry().n_coords(),
            &trainer.device,
        )?;
        trainer.burned_in = true;
        Ok(())
    }
}

/// Write the observables of an evaluation as CSV files (and nothing when not measured):
/// `density_grid.csv` (x, y, rho), `density_radial.csv` (r, rho, error) and
/// `pair_distribution.csv` (r, parallel, error, antiparallel, error, or r, all, error for
/// particles without spin classes; g(r) in a periodic
/// cell) and `structure_factor.csv` (k, S, error; periodic cells).
pub fn write_observables(run: &RunDir, eval: &Evaluation) -> Result<(), TrainError> {
    if let Some(d) = &eval.density {
        let mut grid = String::from("x,y,rho\n");
        let bins = d.axis.len();
        if d.grid.len() == bins {
            for (x, rho) in d.axis.iter().zip(&d.grid) {
                grid.push_str(&format!("{x},0,{rho}\n"));
            }
        } else {
            for (k, rho) in d.grid.iter().enumerate() {
                grid.push_str(&format!(
                    "{},{},{rho}\n",
                    d.axis[k % bins],
                    d.axis[k / bins]
                ));
            }
        }
        run.write_atomic("density_grid.csv", grid.as_bytes())?;
        let mut radial = String::from("r,rho,error\n");
        for i in 0..d.r.len() {
            radial.push_str(&format!(
                "{},{},{}\n",
                d.r[i], d.radial[i], d.radial_error[i]
            ));
        }
        run.write_atomic("density_radial.csv", radial.as_bytes())?;
    }
    if let Some(p) = &eval.pair_distribution {
        let mut text = if p.species {
            String::from("r,parallel,parallel_error,antiparallel,antiparallel_error\n")
        } else {
            String::from("r,all,all_error\n")
        };
        for i in 0..p.r.len() {
            text.push_str(&format!(
                "{},{},{}",
                p.r[i], p.parallel[i], p.parallel_error[i]
            ));
            if p.species {
                text.push_str(&format!(
                    ",{},{}",
                    p.antiparallel[i], p.antiparallel_error[i]
                ));
            }
            text.push('\n');
        }
        run.write_atomic("pair_distribution.csv", text.as_bytes())?;
    }
    if let Some(s) = &eval.structure_factor {
        let mut text = String::from("k,s,error\n");
        for i in 0..s.k.len() {
            text.push_str(&format!("{},{},{}\n", s.k[i], s.s[i], s.error[i]));
        }
        run.write_atomic("structure_factor.csv", text.as_bytes())?;
    }
    Ok(())
}

/// Appends one CSV row per step, flushed at once so a crash loses nothing written.
pub struct MetricsWriter {
    /// None on ranks that do not write.
    file: Option<fs::File>,
    path: PathBuf,
}

impl MetricsWriter {
    /// Append one row.
    pub fn write(&mut self, m: &StepMetrics) -> Result<(), TrainError> {
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        writeln!(file, "{}", metrics_row(m))
            .and_then(|_| file.flush())
            .map_err(|e| TrainError::io(&self.path, e))
    }
}

/// One CSV row of `metrics.csv`.
pub fn metrics_row(m: &StepMetrics) -> String {
    format!(
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
        m.step,
        m.energy,
        m.energy_error,
        m.variance,
        m.acceptance,
        m.learning_rate,
        m.seconds,
        m.sampling_seconds,
        m.local_energy_seconds,
        m.gradient_seconds,
        m.rollbacks,
        m.cg_iterations,
        m.cg_residual,
        m.communication_seconds
    )
}
