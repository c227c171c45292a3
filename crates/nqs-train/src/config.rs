//! The run configuration (TOML), documented field by field in `docs/config.md`.
//!
//! Unknown keys are rejected; `--set KEY=VALUE` overrides any key before validation.

use std::path::Path;

use nqs_model::{Geometry, WaveFunctionConfig};
pub use nqs_physics::{Interaction, NucleusConfig, QuantumDotConfig, SystemConfig};
use nqs_sampler::{SamplerConfig, SamplerKind};
use serde::{Deserialize, Serialize};

use crate::TrainError;
use crate::observables::ObservablesConfig;
use crate::sr::SrConfig;

/// A whole run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The physical system.
    pub system: SystemConfig,
    /// The trial wave function.
    pub model: WaveFunctionConfig,
    /// The Markov chain.
    #[serde(default)]
    pub sampler: SamplerConfig,
    /// The optimiser.
    #[serde(default)]
    pub optimizer: OptimizerConfig,
    /// Training length, seed, clipping.
    #[serde(default)]
    pub run: RunConfig,
    /// The frozen final evaluation.
    #[serde(default)]
    pub eval: EvalConfig,
}

/// Optimiser kind.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    /// Adam (burn's).
    Adam,
    /// Plain stochastic gradient descent (burn's).
    Sgd,
    /// Stochastic reconfiguration (natural gradient), settings in `[optimizer.sr]`.
    Sr,
}

/// `[optimizer]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OptimizerConfig {
    /// `"adam"` or `"sgd"`.
    #[serde(default = "default_optimizer")]
    pub kind: OptimizerKind,
    /// Initial learning rate η₀.
    #[serde(default = "default_lr")]
    pub learning_rate: f64,
    /// η_t = η₀ / (1 + t / decay_steps); 0 keeps η constant.
    #[serde(default)]
    pub decay_steps: f64,
    /// Linear warm-up: η_t is multiplied by min(1, (t + 1) / warmup_steps); 0: none.
    #[serde(default)]
    pub warmup_steps: usize,
    /// Stochastic-reconfiguration settings (used when `kind = "sr"`).
    #[serde(default)]
    pub sr: SrConfig,
}

fn default_optimizer() -> OptimizerKind {
    OptimizerKind::Adam
}
fn default_lr() -> f64 {
    0.01
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self {
            kind: default_optimizer(),
            learning_rate: default_lr(),
            decay_steps: 0.0,
            warmup_steps: 0,
            sr: SrConfig::default(),
        }
    }
}

impl OptimizerConfig {
    /// Learning rate at optimisation step t (0-based).
    pub fn learning_rate_at(&self, t: usize) -> f64 {
        let decayed = if self.decay_steps > 0.0 {
            self.learning_rate / (1.0 + t as f64 / self.decay_steps)
        } else {
            self.learning_rate
        };
        if self.warmup_steps > 0 {
            decayed * ((t + 1) as f64 / self.warmup_steps as f64).min(1.0)
        } else {
            decayed
        }
    }
}

/// `[run]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Optimisation steps.
    #[serde(default = "default_steps")]
    pub steps: usize,
    /// Seed of parameters and chains.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Local-energy clipping width in mean absolute deviations (0: off) for the gradient.
    #[serde(default = "default_clip")]
    pub clip_width: f64,
    /// Write a checkpoint every this many steps (and at the end); 0: only at the end.
    #[serde(default = "default_checkpoint_every")]
    pub checkpoint_every: usize,
    /// Number of checkpoint files kept.
    #[serde(default = "default_keep")]
    pub keep_checkpoints: usize,
    /// What a non-finite local energy or parameter does.
    #[serde(default)]
    pub on_nonfinite: OnNonFinite,
    /// Rollbacks allowed before the run stops with an error.
    #[serde(default = "default_max_rollbacks")]
    pub max_rollbacks: usize,
}

/// Reaction to a non-finite step.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum OnNonFinite {
    /// Return to the last good state (the last checkpoint) and halve the learning rate.
    #[default]
    Rollback,
    /// Stop with an error.
    Stop,
}

fn default_checkpoint_every() -> usize {
    100
}
fn default_keep() -> usize {
    3
}
fn default_max_rollbacks() -> usize {
    5
}

fn default_steps() -> usize {
    300
}
fn default_seed() -> u64 {
    1
}
fn default_clip() -> f64 {
    5.0
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            steps: default_steps(),
            seed: default_seed(),
            clip_width: default_clip(),
            checkpoint_every: default_checkpoint_every(),
            keep_checkpoints: default_keep(),
            on_nonfinite: OnNonFinite::default(),
            max_rollbacks: default_max_rollbacks(),
        }
    }
}

/// `[eval]`: the final evaluation at frozen parameters.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EvalConfig {
    /// Measurements per walker (total samples = walkers × samples_per_walker).
    #[serde(default = "default_eval_samples")]
    pub samples_per_walker: usize,
    /// Extra moves before measuring (step size frozen).
    #[serde(default = "default_eval_burn_in")]
    pub burn_in: usize,
    /// Density, pair distribution (`[eval.observables]`).
    #[serde(default)]
    pub observables: ObservablesConfig,
}

fn default_eval_samples() -> usize {
    200
}
fn default_eval_burn_in() -> usize {
    50
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            samples_per_walker: default_eval_samples(),
            burn_in: default_eval_burn_in(),
            observables: ObservablesConfig::default(),
        }
    }
}

impl Config {
    /// Read `path`, apply `--set` overrides, and validate.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Config, TrainError> {
        let text = std::fs::read_to_string(path).map_err(|e| TrainError::ConfigRead {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, overrides, &path.display().to_string())
    }

    /// Parse TOML text (`origin` names it in errors), apply overrides, validate.
    pub fn parse(text: &str, overrides: &[String], origin: &str) -> Result<Config, TrainError> {
        let mut value: toml::Value = toml::from_str(text).map_err(|e| TrainError::ConfigParse {
            path: origin.to_string(),
            reason: one_line(&e.to_string()),
        })?;
        for o in overrides {
            apply_override(&mut value, o)?;
        }
        // Errors from here on may come from an override rather than the file: say so.
        let origin = &if overrides.is_empty() {
            origin.to_string()
        } else {
            format!("{origin} with --set {}", overrides.join(" --set "))
        };
        refuse_impossible_values(&value, "metropolis")?;
        // `[system]` without `kind` is a quantum dot (configs written before systems had kinds).
        if let Some(toml::Value::Table(system)) = value.get_mut("system") {
            system
                .entry("kind")
                .or_insert_with(|| toml::Value::String("quantum_dot".into()));
            check_system_fields(system).map_err(|reason| TrainError::ConfigParse {
                path: origin.to_string(),
                reason,
            })?;
        }
        // Factors one by one first: serde's tagged enums lose the path, so an unknown or bad
        // field would name only `model.factors` (not the index nor the kind).
        if let Some(toml::Value::Array(factors)) = value.get("model").and_then(|m| m.get("factors"))
        {
            for (index, factor) in factors.iter().enumerate() {
                if let Err(e) = factor.clone().try_into::<nqs_model::FactorConfig>() {
                    let kind = factor
                        .get("kind")
                        .map_or_else(|| "missing".to_string(), |k| k.to_string());
                    return Err(TrainError::ConfigParse {
                        path: origin.to_string(),
                        reason: format!(
                            "model.factors[{index}] (kind = {kind}): {}",
                            one_line(&e.to_string())
                        ),
                    });
                }
            }
        }
        let config: Config =
            value
                .try_into()
                .map_err(|e: toml::de::Error| TrainError::ConfigParse {
                    path: origin.to_string(),
                    reason: one_line(&e.to_string()),
                })?;
        config.validate()?;
        Ok(config)
    }

    /// The particle layout.
    pub fn geometry(&self) -> Geometry {
        self.system.geometry()
    }

    /// Checks that need more than one field, with errors naming the field.
    pub fn validate(&self) -> Result<(), TrainError> {
        self.system.validate()?;
        let invalid = |field: &str, value: String, allowed: &str| {
            Err(TrainError::InvalidValue {
                field: field.to_string(),
                value,
                allowed: allowed.to_string(),
            })
        };
        let sm = &self.sampler;
        if sm.walkers == 0 {
            return invalid("sampler.walkers", "0".into(), "at least 1");
        }
        if !(sm.step_size > 0.0 && sm.step_size.is_finite()) {
            return invalid(
                "sampler.step_size",
                sm.step_size.to_string(),
                "a positive number",
            );
        }
        if sm.moves_per_sample == 0 {
            return invalid("sampler.moves_per_sample", "0".into(), "at least 1");
        }
        if !(sm.init_width > 0.0 && sm.init_width.is_finite()) {
            // 0 starts every walker at the origin: particles on top of each other.
            return invalid(
                "sampler.init_width",
                sm.init_width.to_string(),
                "a positive number",
            );
        }
        if !(0.0..1.0).contains(&sm.target_acceptance) || sm.target_acceptance == 0.0 {
            return invalid(
                "sampler.target_acceptance",
                sm.target_acceptance.to_string(),
                "a number in (0, 1)",
            );
        }
        if !(self.optimizer.learning_rate > 0.0 && self.optimizer.learning_rate.is_finite()) {
            return invalid(
                "optimizer.learning_rate",
                self.optimizer.learning_rate.to_string(),
                "a positive number",
            );
        }
        if self.optimizer.decay_steps < 0.0 {
            return invalid(
                "optimizer.decay_steps",
                self.optimizer.decay_steps.to_string(),
                "0 (no decay) or a positive number",
            );
        }
        let sr = &self.optimizer.sr;
        for (field, value) in [
            ("optimizer.sr.diag_shift", sr.diag_shift),
            ("optimizer.sr.diag_shift_min", sr.diag_shift_min),
            ("optimizer.sr.cg_tolerance", sr.cg_tolerance),
            ("optimizer.sr.max_update_norm", sr.max_update_norm),
        ] {
            if !(value > 0.0 && value.is_finite()) {
                return invalid(field, value.to_string(), "a positive number");
            }
        }
        if sr.diag_shift_decay_steps < 0.0 {
            return invalid(
                "optimizer.sr.diag_shift_decay_steps",
                sr.diag_shift_decay_steps.to_string(),
                "0 (no decay) or a positive number",
            );
        }
        if sr.cg_max_iterations == 0 {
            return invalid("optimizer.sr.cg_max_iterations", "0".into(), "at least 1");
        }
        if self.eval.observables.bins == 0 {
            return invalid("eval.observables.bins", "0".into(), "at least 1");
        }
        if !(self.run.clip_width >= 0.0) {
            return invalid(
                "run.clip_width",
                self.run.clip_width.to_string(),
                "0 (no clipping) or a positive number of mean absolute deviations",
            );
        }
        if self.sampler.threads == 0 {
            return invalid("sampler.threads", "0".into(), "at least 1");
        }
        if self.eval.observables.blocks < 2 {
            return invalid(
                "eval.observables.blocks",
                self.eval.observables.blocks.to_string(),
                "at least 2 (the error bars are the spread of the block averages)",
            );
        }
        if !(self.eval.observables.extent >= 0.0) {
            return invalid(
                "eval.observables.extent",
                self.eval.observables.extent.to_string(),
                "0 (from the system) or a positive number",
            );
        }
        if self.run.keep_checkpoints == 0 {
            return invalid("run.keep_checkpoints", "0".into(), "at least 1");
        }
        if self.eval.samples_per_walker < 2 {
            return invalid(
                "eval.samples_per_walker",
                self.eval.samples_per_walker.to_string(),
                "at least 2",
            );
        }
        if self.system.self_bound() {
            // A self-bound system has no trap: only factors of relative positions apply.
            for (index, f) in self.model.factors.iter().enumerate() {
                if !f.translation_invariant() {
                    return invalid(
                        &format!("model.factors[{index}].kind"),
                        format!("\"{}\"", f.kind()),
                        &format!(
                            "envelope, pair_jastrow, deep_sets or spin_correlator for a {} system (factors of absolute positions need a trap)",
                            self.system.kind()
                        ),
                    );
                }
            }
            if !self
                .model
                .factors
                .iter()
                .any(|f| matches!(f, nqs_model::FactorConfig::Envelope(_)))
            {
                return invalid(
                    "model.factors",
                    "no envelope".into(),
                    &format!(
                        "an envelope factor for a {} system (of the factors of relative positions, only it makes the state normalisable)",
                        self.system.kind()
                    ),
                );
            }
        }
        let geometry = self.geometry();
        for (index, f) in self.model.factors.iter().enumerate() {
            if matches!(f, nqs_model::FactorConfig::SpinCorrelator(_)) && geometry.protons.is_none()
            {
                return invalid(
                    &format!("model.factors[{index}].kind"),
                    "\"spin_correlator\"".to_string(),
                    &format!(
                        "a factor of a nucleus system (spin-isospin amplitudes of nucleons), not of a {} system",
                        self.system.kind()
                    ),
                );
            }
        }
        self.model.validate(&geometry)?;
        if sm.kind == SamplerKind::Gibbs {
            let pure_rbm = matches!(
                self.model.factors.as_slice(),
                [nqs_model::FactorConfig::Rbm(c)] if !c.per_particle
            );
            if !pure_rbm {
                return Err(nqs_sampler::SamplerError::GibbsNeedsPureRbm.into());
            }
        }
        Ok(())
    }

    /// The reference energy for this system and trial state (the unrestricted value for a
    /// nucleus whose trial state has spin-isospin amplitudes).
    pub fn reference(&self) -> Option<nqs_physics::Reference> {
        let spin = self
            .model
            .factors
            .iter()
            .any(|f| matches!(f, nqs_model::FactorConfig::SpinCorrelator(_)));
        self.system.reference(spin)
    }

    /// The factor kinds joined by `*`, e.g. "slater*pade_jastrow".
    pub fn model_label(&self) -> String {
        self.model
            .factors
            .iter()
            .map(|f| f.kind())
            .collect::<Vec<_>>()
            .join("*")
    }

    /// The resolved config as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a Config always serialises")
    }

    /// The first key (dotted, factors by index) whose resolved value differs between `self`
    /// and `other`, leaving out the keys in `ignored`: (key, value in `self`, in `other`).
    pub fn first_difference(
        &self,
        other: &Config,
        ignored: &[&str],
    ) -> Option<(String, String, String)> {
        let value = |c: &Config| toml::Value::try_from(c).expect("a Config always serialises");
        first_difference(&value(self), &value(other), "", ignored)
    }
}

/// `key.k`, or `k` at the top.
fn dotted(key: &str, k: &str) -> String {
    if key.is_empty() {
        k.to_string()
    } else {
        format!("{key}.{k}")
    }
}

/// The first node of `value` (depth first, tables' keys in order) for which `bad` holds,
/// given its dotted key: (key, node).
fn first_leaf<'a>(
    value: &'a toml::Value,
    key: &str,
    bad: &dyn Fn(&str, &toml::Value) -> bool,
) -> Option<(String, &'a toml::Value)> {
    if bad(key, value) {
        return Some((key.to_string(), value));
    }
    let join = |k: &str| dotted(key, k);
    match value {
        toml::Value::Table(t) => t.iter().find_map(|(k, v)| first_leaf(v, &join(k), bad)),
        toml::Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, v)| first_leaf(v, &join(&i.to_string()), bad)),
        _ => None,
    }
}

/// Values no config takes, refused by key before serde sees them: a `kind` that is not a
/// quoted name (serde said "invalid type: unit variant, expected string only"; `example`
/// names a valid one), and nan or inf (TOML has both), which would otherwise reach a wave
/// function or the chains.
pub(crate) fn refuse_impossible_values(
    value: &toml::Value,
    example: &str,
) -> Result<(), TrainError> {
    let refused = |(field, v): (String, &toml::Value), allowed: String| {
        Err(TrainError::InvalidValue {
            field,
            value: match v {
                toml::Value::Float(f) => f.to_string(), // NaN, inf as Rust writes them
                _ => v.to_string(),
            },
            allowed,
        })
    };
    let kind = |k: &str, v: &toml::Value| {
        (k == "kind" || k.ends_with(".kind")) && !matches!(v, toml::Value::String(_))
    };
    if let Some(found) = first_leaf(value, "", &kind) {
        return refused(found, format!("a quoted name, e.g. kind = \"{example}\""));
    }
    let non_finite =
        |_: &str, v: &toml::Value| matches!(v, toml::Value::Float(f) if !f.is_finite());
    if let Some(found) = first_leaf(value, "", &non_finite) {
        return refused(found, "a finite number".into());
    }
    Ok(())
}

fn first_difference(
    mine: &toml::Value,
    theirs: &toml::Value,
    key: &str,
    ignored: &[&str],
) -> Option<(String, String, String)> {
    if ignored.contains(&key) {
        return None;
    }
    let join = |k: &str| dotted(key, k);
    let missing = "(absent)";
    match (mine, theirs) {
        (toml::Value::Table(a), toml::Value::Table(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            keys.into_iter().find_map(|k| match (a.get(k), b.get(k)) {
                (Some(x), Some(y)) => first_difference(x, y, &join(k), ignored),
                (x, y) => {
                    let show =
                        |v: Option<&toml::Value>| v.map_or(missing.into(), |v| v.to_string());
                    (!ignored.contains(&join(k).as_str())).then(|| (join(k), show(x), show(y)))
                }
            })
        }
        (toml::Value::Array(a), toml::Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(x, y, &join(&i.to_string()), ignored)),
        (a, b) => (a != b).then(|| (key.to_string(), a.to_string(), b.to_string())),
    }
}

/// `a.b.c=value`: sets a nested key (`model.factors.1.alpha` indexes the factor list); the
/// value is parsed as a TOML value (number, bool, string, array), else taken as a string.
pub(crate) fn apply_override(root: &mut toml::Value, assignment: &str) -> Result<(), TrainError> {
    let bad = |reason: String| TrainError::BadOverride {
        assignment: assignment.to_string(),
        reason,
    };
    let (key, raw) = assignment
        .split_once('=')
        .ok_or_else(|| bad("expected KEY=VALUE, e.g. system.omega=0.5".into()))?;
    let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.trim().to_string()));
    let parts: Vec<&str> = key.trim().split('.').collect();
    if parts.iter().any(|p| p.trim().is_empty()) {
        return Err(bad(format!(
            "the key '{}' has an empty part (expected KEY=VALUE with a dotted key, e.g. system.omega=0.5)",
            key.trim()
        )));
    }
    set_path(root, &parts, value).map_err(bad)
}

fn set_path(node: &mut toml::Value, parts: &[&str], value: toml::Value) -> Result<(), String> {
    let Some((first, rest)) = parts.split_first() else {
        *node = value;
        return Ok(());
    };
    match node {
        toml::Value::Table(table) => {
            let child = table
                .entry(first.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            set_path(child, rest, value)
        }
        toml::Value::Array(array) => {
            let len = array.len();
            let child = first
                .parse::<usize>()
                .ok()
                .and_then(|i| array.get_mut(i))
                .ok_or_else(|| format!("'{first}' is not an index of a list of length {len}"))?;
            set_path(child, rest, value)
        }
        _ => Err(format!("cannot set '{first}' inside a plain value")),
    }
}

/// Deserialize `[system]` as its own kind first: errors of an internally tagged enum do not
/// name the field ("expected usize in `system`"), those of the kind's struct do.
fn check_system_fields(system: &toml::Table) -> Result<(), String> {
    let mut fields = system.clone();
    let kind = fields.remove("kind");
    let named = |e: toml::de::Error| format!("in [system]: {}", one_line(&e.to_string()));
    match kind.as_ref().and_then(|k| k.as_str()) {
        Some("quantum_dot") => toml::Value::Table(fields)
            .try_into::<QuantumDotConfig>()
            .map(drop)
            .map_err(named),
        Some("nucleus") => toml::Value::Table(fields)
            .try_into::<NucleusConfig>()
            .map(drop)
            .map_err(named),
        Some("electron_gas") => toml::Value::Table(fields)
            .try_into::<nqs_physics::ElectronGasConfig>()
            .map(drop)
            .map_err(named),
        // Unknown kinds: the enum's own error lists the allowed ones.
        _ => Ok(()),
    }
}

pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[system]
dimensions = 2
particles = 6
omega = 1.0

[[model.factors]]
kind = "slater"

[[model.factors]]
kind = "pade_jastrow"
"#;

    #[test]
    fn overrides_reach_nested_keys_and_factor_lists() {
        let c = Config::parse(
            BASE,
            &[
                "system.omega=0.28".into(),
                "run.steps=7".into(),
                "model.factors.0.alpha=0.9".into(),
                "sampler.kind=langevin".into(),
            ],
            "test",
        )
        .unwrap();
        assert!(matches!(&c.system, SystemConfig::QuantumDot(q) if q.omega == 0.28));
        assert_eq!(c.run.steps, 7);
        assert_eq!(c.sampler.kind, SamplerKind::Langevin);
        match &c.model.factors[0] {
            nqs_model::FactorConfig::Slater(s) => assert_eq!(s.alpha, 0.9),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = Config::parse(BASE, &["system.omgea=1".into()], "x.toml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("omgea") && msg.contains("x.toml"), "{msg}");
        let err = Config::parse(BASE, &["model.factors.1.bta=1".into()], "x.toml").unwrap_err();
        let msg = err.to_string();
        // The factor's index and kind are named, not only `model.factors`.
        assert!(
            msg.contains("model.factors[1] (kind = \"pade_jastrow\"): unknown field `bta`"),
            "{msg}"
        );
        let err = Config::parse(BASE, &["sampler.kind=1".into()], "x.toml").unwrap_err();
        assert!(
            err.to_string()
                .contains("sampler.kind = 1 (allowed: a quoted name"),
            "{err}"
        );
        let err = Config::parse(BASE, &["model.factors.0.kind=\"slaterr\"".into()], "x.toml")
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("model.factors[0] (kind = \"slaterr\"): unknown variant"),
            "{err}"
        );
    }

    #[test]
    fn bad_values_name_field_and_allowed_values() {
        for (o, field) in [
            ("system.omega=-1", "system.omega"),
            ("sampler.walkers=0", "sampler.walkers"),
            ("system.particles=4", "system.particles"),
            ("system.interaction=\"yukawa\"", "yukawa"),
        ] {
            let msg = Config::parse(BASE, &[o.into()], "x.toml")
                .unwrap_err()
                .to_string();
            assert!(msg.contains(field), "{o}: {msg}");
            assert!(!msg.contains('\n'), "one line: {msg}");
        }
    }

    #[test]
    fn resolved_config_round_trips() {
        let c = Config::parse(BASE, &[], "test").unwrap();
        let again = Config::parse(&c.to_toml(), &[], "resolved").unwrap();
        assert_eq!(c, again);
    }
}
