//! The `fit-rbm` configuration file (TOML, every table `deny_unknown_fields`).

use std::path::{Path, PathBuf};

use nqs_boltzmann::{Ising, RbmConfig, TransverseIsing, VisibleUnits};
use serde::{Deserialize, Serialize};

use crate::TrainError;
use crate::config::apply_override;

/// A generative-training run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FitConfig {
    /// The data.
    pub data: DataConfig,
    /// The machine.
    pub model: RbmConfig,
    /// Training.
    #[serde(default)]
    pub training: TrainingConfig,
    /// Likelihood evaluation and final samples.
    #[serde(default)]
    pub evaluation: EvaluationConfig,
    /// The exact distribution the data were drawn from, when known.
    #[serde(default)]
    pub target: Option<Target>,
}

/// Where the samples are.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// The sample file (relative paths: to the working directory the fit starts in; the run
    /// stores it absolute, so that a resume from another directory reads the same file).
    pub path: PathBuf,
    /// Fraction of the samples held out for validation (after a seeded shuffle).
    #[serde(default = "default_validation")]
    pub validation_fraction: f64,
    /// A separate validation file instead (then `validation_fraction` must be 0).
    #[serde(default)]
    pub validation_path: Option<PathBuf>,
}

fn default_validation() -> f64 {
    0.1
}

/// The negative phase ⟨∂E⟩_model of the likelihood gradient.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum NegativePhase {
    /// Contrastive divergence: k Gibbs sweeps from the mini-batch's own samples.
    Cd {
        /// Gibbs sweeps.
        #[serde(default = "one")]
        k: usize,
    },
    /// Persistent contrastive divergence: `chains` Markov chains that carry over from one
    /// update to the next, k sweeps per update.
    Pcd {
        /// Gibbs sweeps per update.
        #[serde(default = "one")]
        k: usize,
        /// Persistent chains (default: the batch size).
        #[serde(default)]
        chains: Option<usize>,
    },
    /// Persistent chains with parallel tempering: `replicas` copies of the chains at
    /// inverse temperatures β_r = r/(R − 1) of the hidden coupling (β = 0 is an
    /// independent model that mixes at once), k sweeps each, then swaps of neighbouring
    /// replicas accepted with min(1, e^{F_r(x_r) + F_s(x_s) − F_r(x_s) − F_s(x_r)}); the
    /// β = 1 replica is the negative phase. For multimodal data (ordered Ising phases)
    /// whose modes plain PCD chains cannot cross.
    Pt {
        /// Gibbs sweeps per update and replica.
        #[serde(default = "one")]
        k: usize,
        /// Chains per replica (default: the batch size).
        #[serde(default)]
        chains: Option<usize>,
        /// Number of replicas R (at least 2).
        #[serde(default = "default_replicas")]
        replicas: usize,
    },
    /// The exact model expectation by enumerating every visible state (binary units,
    /// at most 20 visible units): the true likelihood gradient, to measure CD's bias.
    Exact,
}

fn one() -> usize {
    1
}
fn default_replicas() -> usize {
    10
}

/// Optimiser.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FitOptimizer {
    /// Adam (burn's).
    Adam,
    /// Stochastic gradient descent, with `momentum`.
    Sgd,
}

/// Training settings (every field has a default).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TrainingConfig {
    /// Passes over the training data.
    pub epochs: usize,
    /// Samples per mini-batch.
    pub batch_size: usize,
    /// Learning rate (of the first epoch).
    pub learning_rate: f64,
    /// Learning rate of the last epoch, reached geometrically (absent: constant).
    pub final_learning_rate: Option<f64>,
    /// Optimiser.
    pub optimizer: FitOptimizer,
    /// SGD momentum (0: none).
    pub momentum: f64,
    /// L2 weight decay.
    pub weight_decay: f64,
    /// The negative phase.
    pub negative_phase: NegativePhase,
    /// Seed of the split, the shuffles, the initial weights and the chains.
    pub seed: u64,
    /// Epochs between checkpoints (and the last one).
    pub checkpoint_every: usize,
    /// Checkpoints kept.
    pub keep_checkpoints: usize,
}

impl Default for TrainingConfig {
    fn default() -> Self {
        Self {
            epochs: 100,
            batch_size: 100,
            learning_rate: 0.01,
            final_learning_rate: None,
            optimizer: FitOptimizer::Adam,
            momentum: 0.0,
            weight_decay: 0.0,
            negative_phase: NegativePhase::Pcd { k: 1, chains: None },
            seed: 1,
            checkpoint_every: 10,
            keep_checkpoints: 3,
        }
    }
}

/// How log Z is computed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LogZMethod {
    /// Exact when the smaller layer has at most 20 units, AIS otherwise.
    Auto,
    /// Exact enumeration (at most 24 units in the smaller layer).
    Exact,
    /// Annealed importance sampling.
    Ais,
}

/// Evaluation settings (every field has a default).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct EvaluationConfig {
    /// Epochs between likelihood evaluations (and the last epoch).
    pub every: usize,
    /// How log Z is computed.
    pub log_z: LogZMethod,
    /// AIS chains.
    pub ais_chains: usize,
    /// AIS intermediate distributions.
    pub ais_steps: usize,
    /// Gibbs chains for the final samples of the trained machine.
    pub chains: usize,
    /// Gibbs sweeps before the first recorded sample.
    pub burn_in: usize,
    /// Recorded samples per chain.
    pub samples_per_chain: usize,
    /// Gibbs sweeps between recorded samples.
    pub thinning: usize,
}

impl Default for EvaluationConfig {
    fn default() -> Self {
        Self {
            every: 5,
            log_z: LogZMethod::Auto,
            ais_chains: 200,
            ais_steps: 2000,
            chains: 500,
            burn_in: 1000,
            samples_per_chain: 40,
            thinning: 10,
        }
    }
}

/// A known source distribution of the data.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Target {
    /// The 2D Ising model (exact KL for side ≤ 4; energy, |m|, χ, C of the machine's samples).
    Ising(Ising),
    /// The σᶻ distribution of the transverse-field Ising chain's ground state (tomography:
    /// fidelity of ψ = √p and KL, exactly).
    Tfim(TransverseIsing),
}

fn invalid(field: &str, value: impl std::fmt::Display, allowed: &str) -> TrainError {
    TrainError::InvalidValue {
        field: field.into(),
        value: value.to_string(),
        allowed: allowed.into(),
    }
}

impl FitConfig {
    /// Read `path` and apply `KEY=VALUE` overrides.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self, TrainError> {
        let text = std::fs::read_to_string(path).map_err(|e| TrainError::ConfigRead {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, overrides, &path.display().to_string())
    }

    /// Parse TOML `text` (named `source` in errors), apply overrides and validate.
    pub fn parse(text: &str, overrides: &[String], source: &str) -> Result<Self, TrainError> {
        let mut value: toml::Value = toml::from_str(text).map_err(|e| TrainError::ConfigParse {
            path: source.into(),
            reason: crate::config::one_line(&e.to_string()),
        })?;
        for assignment in overrides {
            apply_override(&mut value, assignment)?;
        }
        crate::config::refuse_impossible_values(&value, "pcd")?;
        // serde drops the extra keys of a variant without fields (`{ kind = "exact",
        // chains = 100 }` trained silently without its chains): refused by name here.
        for (table, key, variant) in [
            ("training", "negative_phase", "exact"),
            ("model", "visible", "binary"),
        ] {
            if let Some(toml::Value::Table(t)) = value.get(table).and_then(|v| v.get(key))
                && t.get("kind").and_then(|k| k.as_str()) == Some(variant)
                && let Some(extra) = t.keys().find(|k| *k != "kind")
            {
                return Err(TrainError::InvalidValue {
                    field: format!("{table}.{key}.{extra}"),
                    value: t[extra].to_string(),
                    allowed: format!("no other key beside kind = \"{variant}\""),
                });
            }
        }
        let config: FitConfig =
            value
                .try_into()
                .map_err(|e: toml::de::Error| TrainError::ConfigParse {
                    path: source.into(),
                    // serde names the missing field, not the table: name the overrides,
                    // which may have made a table that lacks its `kind`.
                    reason: if overrides.is_empty() {
                        crate::config::one_line(&e.to_string())
                    } else {
                        format!(
                            "{} (with --set {})",
                            crate::config::one_line(&e.to_string()),
                            overrides.join(" --set ")
                        )
                    },
                })?;
        config.validate()?;
        Ok(config)
    }

    /// The resolved configuration as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a fit config serialises")
    }

    /// Check every range; errors name the field.
    pub fn validate(&self) -> Result<(), TrainError> {
        self.model
            .validate()
            .map_err(|e| TrainError::Unsupported(e.to_string()))?;
        let f = self.data.validation_fraction;
        if !(0.0..0.9).contains(&f) {
            return Err(invalid("data.validation_fraction", f, "0 ≤ f < 0.9"));
        }
        if self.data.validation_path.is_some() && f != 0.0 {
            return Err(invalid(
                "data.validation_fraction",
                f,
                "0 when data.validation_path names a separate validation file",
            ));
        }
        let t = &self.training;
        if t.epochs == 0 {
            return Err(invalid("training.epochs", 0, "at least 1"));
        }
        if t.batch_size == 0 {
            return Err(invalid("training.batch_size", 0, "at least 1"));
        }
        if !(t.learning_rate > 0.0 && t.learning_rate.is_finite()) {
            return Err(invalid(
                "training.learning_rate",
                t.learning_rate,
                "a finite number > 0",
            ));
        }
        if let Some(lr) = t.final_learning_rate
            && !(lr > 0.0 && lr.is_finite())
        {
            return Err(invalid(
                "training.final_learning_rate",
                lr,
                "a finite number > 0",
            ));
        }
        if !(0.0..1.0).contains(&t.momentum) {
            return Err(invalid("training.momentum", t.momentum, "0 ≤ momentum < 1"));
        }
        if !(t.weight_decay >= 0.0 && t.weight_decay.is_finite()) {
            return Err(invalid(
                "training.weight_decay",
                t.weight_decay,
                "a finite number ≥ 0",
            ));
        }
        if t.checkpoint_every == 0 {
            return Err(invalid("training.checkpoint_every", 0, "at least 1"));
        }
        if t.keep_checkpoints == 0 {
            return Err(invalid("training.keep_checkpoints", 0, "at least 1"));
        }
        match t.negative_phase {
            NegativePhase::Cd { k }
            | NegativePhase::Pcd { k, .. }
            | NegativePhase::Pt { k, .. }
                if k == 0 =>
            {
                return Err(invalid(
                    "training.negative_phase.k",
                    0,
                    "at least 1 Gibbs sweep",
                ));
            }
            NegativePhase::Pt { replicas, .. } if replicas < 2 => {
                return Err(invalid(
                    "training.negative_phase.replicas",
                    replicas,
                    "at least 2",
                ));
            }
            NegativePhase::Pcd {
                chains: Some(0), ..
            }
            | NegativePhase::Pt {
                chains: Some(0), ..
            } => {
                return Err(invalid("training.negative_phase.chains", 0, "at least 1"));
            }
            NegativePhase::Exact if self.model.visible != VisibleUnits::Binary => {
                return Err(invalid(
                    "training.negative_phase.kind",
                    "\"exact\"",
                    "cd or pcd for Gaussian visible units (exact enumerates binary visible states)",
                ));
            }
            _ => {}
        }
        let e = &self.evaluation;
        for (field, v, least) in [
            ("evaluation.every", e.every, 1),
            ("evaluation.ais_chains", e.ais_chains, 2),
            ("evaluation.ais_steps", e.ais_steps, 1),
            ("evaluation.chains", e.chains, 1),
            ("evaluation.samples_per_chain", e.samples_per_chain, 1),
            ("evaluation.thinning", e.thinning, 1),
        ] {
            if v < least {
                return Err(invalid(field, v, &format!("at least {least}")));
            }
        }
        if matches!(self.target, Some(Target::Ising(_))) && e.chains < super::thermo::MIN_CHAINS {
            return Err(invalid(
                "evaluation.chains",
                e.chains,
                &format!(
                    "at least {} with an Ising target (its observables' errors come from the chains' spread)",
                    super::thermo::MIN_CHAINS
                ),
            ));
        }
        match &self.target {
            Some(Target::Ising(ising)) => ising.validate("target."),
            Some(Target::Tfim(chain)) => chain.validate("target."),
            None => Ok(()),
        }
        .map_err(|e| TrainError::Unsupported(e.to_string()))?;
        if self.target.is_some() && self.model.visible != VisibleUnits::Binary {
            return Err(invalid(
                "target.kind",
                "a spin model",
                "no target for Gaussian visible units (spin data are binary)",
            ));
        }
        Ok(())
    }

    /// The learning rate of epoch `epoch` (0-based).
    pub fn learning_rate(&self, epoch: usize) -> f64 {
        let t = &self.training;
        match t.final_learning_rate {
            Some(last) if t.epochs > 1 => {
                let f = epoch.min(t.epochs - 1) as f64 / (t.epochs - 1) as f64;
                t.learning_rate * (last / t.learning_rate).powf(f)
            }
            _ => t.learning_rate,
        }
    }

    /// Number of visible units the target implies, if any.
    pub fn target_sites(&self) -> Option<usize> {
        match &self.target {
            Some(Target::Ising(i)) => Some(i.sites()),
            Some(Target::Tfim(c)) => Some(c.sites),
            None => None,
        }
    }
}
