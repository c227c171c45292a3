//! `compare` and `sweep`: tables (Markdown and CSV) and plots from finished run directories.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::TrainError;
use crate::plots::{self, Curve, Trajectory};
use crate::run_dir::Summary;
use nqs_physics::Reference;

/// One run in a comparison.
#[derive(Debug, Clone)]
pub struct CompareRow {
    /// Run directory name.
    pub run: String,
    /// Its summary.
    pub summary: Summary,
    /// Published reference for its system, when known.
    pub reference: Option<Reference>,
    /// (step, energy, error) of every training step.
    pub trajectory: Vec<(f64, f64, f64)>,
}

impl CompareRow {
    /// (E − E_ref)/|E_ref|.
    pub fn relative_error(&self) -> Option<f64> {
        self.reference
            .as_ref()
            .map(|r| (self.summary.energy - r.energy) / r.energy.abs())
    }
}

/// Read summary.json and metrics.csv of each run directory.
pub fn load_rows(dirs: &[PathBuf]) -> Result<Vec<CompareRow>, TrainError> {
    dirs.iter()
        .map(|dir| {
            let path = dir.join("summary.json");
            let text = std::fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
            let summary: Summary =
                serde_json::from_str(&text).map_err(|e| TrainError::io(&path, e))?;
            let metrics = dir.join("metrics.csv");
            let csv = std::fs::read_to_string(&metrics).map_err(|e| TrainError::io(&metrics, e))?;
            let trajectory = csv
                .lines()
                .skip(1)
                .filter_map(|l| {
                    let f: Vec<f64> = l
                        .split(',')
                        .take(3)
                        .filter_map(|v| v.parse().ok())
                        .collect();
                    (f.len() == 3).then(|| (f[0], f[1], f[2]))
                })
                .collect();
            Ok(CompareRow {
                run: dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| dir.display().to_string()),
                reference: summary.reference(),
                summary,
                trajectory,
            })
        })
        .collect()
}

/// Write comparison.md, comparison.csv and energy.png/svg into `out`; return the Markdown.
pub fn write(rows: &[CompareRow], out: &Path) -> Result<String, TrainError> {
    let mut md = String::from(
        "| run | model | parameters | energy | variance | reference | rel. error | s/step | total s | backend |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut csv = String::from(
        "run,model,n_parameters,energy,energy_error,variance,reference,reference_method,relative_error,seconds_per_step,wall_seconds,backend,precision\n",
    );
    for r in rows {
        let s = &r.summary;
        let (ref_text, ref_value, ref_method) = match &r.reference {
            Some(x) => (
                format!("{} ({})", x.energy, x.method),
                x.energy.to_string(),
                x.method.replace(',', ";"),
            ),
            None => ("–".into(), String::new(), String::new()),
        };
        let rel = r.relative_error();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.5} ± {:.5} | {:.5} | {} | {} | {:.4} | {:.1} | {} {} |",
            r.run,
            s.model,
            s.n_parameters,
            s.energy,
            s.energy_error,
            s.variance,
            ref_text,
            rel.map(|v| format!("{:.3e}", v))
                .unwrap_or_else(|| "–".into()),
            s.seconds_per_step,
            s.wall_seconds,
            s.backend,
            s.precision
        );
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.run,
            s.model,
            s.n_parameters,
            s.energy,
            s.energy_error,
            s.variance,
            ref_value,
            ref_method,
            rel.map(|v| v.to_string()).unwrap_or_default(),
            s.seconds_per_step,
            s.wall_seconds,
            s.backend,
            s.precision
        );
    }
    std::fs::write(out.join("comparison.md"), &md).map_err(|e| TrainError::io(out, e))?;
    std::fs::write(out.join("comparison.csv"), &csv).map_err(|e| TrainError::io(out, e))?;
    let trajectories: Vec<Trajectory> = rows
        .iter()
        .map(|r| Trajectory {
            label: format!("{} ({})", r.run, r.summary.model),
            points: r.trajectory.clone(),
        })
        .collect();
    let reference = rows
        .first()
        .and_then(|r| r.reference.clone())
        .map(|x| (x.energy, format!("reference {} ({})", x.energy, x.method)));
    let unit = rows
        .first()
        .map_or("Hartree", |r| r.summary.system().energy_unit());
    plots::energy_plot(&out.join("energy"), &trajectories, reference, unit)?;
    Ok(md)
}

/// A parsed `sweep --set` list: one key with several values, the rest fixed.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepPlan {
    /// The swept key, e.g. `system.omega`.
    pub key: String,
    /// Its values, as written.
    pub values: Vec<String>,
    /// The other overrides, unchanged.
    pub fixed: Vec<String>,
}

impl SweepPlan {
    /// Exactly one `KEY=V1,V2,...` (a TOML array literal `[..]` is a single value).
    pub fn parse(sets: &[String]) -> Result<SweepPlan, TrainError> {
        let mut plan: Option<SweepPlan> = None;
        let mut fixed = Vec::new();
        for s in sets {
            match s.split_once('=') {
                Some((key, values))
                    if values.contains(',') && !values.trim_start().starts_with(['[', '{']) =>
                {
                    if plan.is_some() {
                        return Err(TrainError::BadOverride {
                            assignment: s.clone(),
                            reason: "a sweep varies exactly one key".into(),
                        });
                    }
                    plan = Some(SweepPlan {
                        key: key.trim().to_string(),
                        values: values.split(',').map(|v| v.trim().to_string()).collect(),
                        fixed: Vec::new(),
                    });
                }
                _ => fixed.push(s.clone()),
            }
        }
        let mut plan = plan.ok_or_else(|| TrainError::BadOverride {
            assignment: sets.join(" "),
            reason: "a sweep needs one --set KEY=V1,V2,... (e.g. system.omega=0.1,0.28,0.5,1.0)"
                .into(),
        })?;
        // The same value twice (1100 and 1100.0 alike) would train one point twice into
        // one directory and give the emulator two energies at one c.
        let same = |a: &str, b: &str| match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(x), Ok(y)) => x == y,
            _ => a == b,
        };
        for (i, a) in plan.values.iter().enumerate() {
            if let Some(b) = plan.values[..i].iter().find(|b| same(a, b)) {
                return Err(TrainError::BadOverride {
                    assignment: format!("{}={}", plan.key, plan.values.join(",")),
                    reason: format!("the value {a} is swept twice (also as {b})"),
                });
            }
        }
        plan.fixed = fixed;
        Ok(plan)
    }
}

/// Write sweep.md, sweep.csv, sweep_energy.png/svg and sweep_parts.png/svg; return the table.
pub fn write_sweep(
    key: &str,
    points: &[(String, Summary, PathBuf)],
    out: &Path,
) -> Result<String, TrainError> {
    std::fs::create_dir_all(out).map_err(|e| TrainError::io(out, e))?;
    let mut md = format!(
        "| {key} | energy | kinetic | potential | variance | ⟨r²⟩ | reference |\n|---|---|---|---|---|---|---|\n"
    );
    let mut csv = format!(
        "{key},energy,energy_error,kinetic,kinetic_error,potential,potential_error,variance,r2,r2_error,reference\n"
    );
    let mut energy = Vec::new();
    let mut kinetic = Vec::new();
    let mut potential = Vec::new();
    let mut refs = Vec::new();
    for (value, s, _) in points {
        let x: f64 = value.parse().unwrap_or(f64::NAN);
        let r = s.reference();
        let _ = writeln!(
            md,
            "| {value} | {:.5} ± {:.5} | {:.5} ± {:.5} | {:.5} ± {:.5} | {:.5} | {:.4} ± {:.4} | {} |",
            s.energy,
            s.energy_error,
            s.kinetic,
            s.kinetic_error,
            s.potential,
            s.potential_error,
            s.variance,
            s.r2,
            s.r2_error,
            r.as_ref()
                .map(|r| format!("{} ({})", r.energy, r.method))
                .unwrap_or_else(|| "–".into())
        );
        let _ = writeln!(
            csv,
            "{value},{},{},{},{},{},{},{},{},{},{}",
            s.energy,
            s.energy_error,
            s.kinetic,
            s.kinetic_error,
            s.potential,
            s.potential_error,
            s.variance,
            s.r2,
            s.r2_error,
            r.as_ref().map(|r| r.energy.to_string()).unwrap_or_default()
        );
        energy.push((x, s.energy, s.energy_error));
        kinetic.push((x, s.kinetic, s.kinetic_error));
        potential.push((x, s.potential, s.potential_error));
        if let Some(r) = r {
            refs.push((x, r.energy, 0.0));
        }
    }
    std::fs::write(out.join("sweep.md"), &md).map_err(|e| TrainError::io(out, e))?;
    std::fs::write(out.join("sweep.csv"), &csv).map_err(|e| TrainError::io(out, e))?;
    let numeric = energy.iter().all(|p| p.0.is_finite());
    let unit = points
        .first()
        .map_or("Hartree", |p| p.1.system().energy_unit());
    if numeric {
        let reference = (!refs.is_empty()).then(|| Curve {
            label: "reference".into(),
            points: refs,
        });
        plots::curves_plot(
            &out.join("sweep_energy"),
            &format!("energy against {key}"),
            key,
            &format!("energy ({unit})"),
            &[Curve {
                label: "VMC energy".into(),
                points: energy,
            }],
            reference.as_ref(),
        )?;
        plots::curves_plot(
            &out.join("sweep_parts"),
            &format!("kinetic and potential energy against {key}"),
            key,
            &format!("energy ({unit})"),
            &[
                Curve {
                    label: "kinetic".into(),
                    points: kinetic,
                },
                Curve {
                    label: "potential".into(),
                    points: potential,
                },
            ],
            None,
        )?;
    }
    Ok(md)
}
