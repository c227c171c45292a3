//! `nqs-train rbm-thermo RUN...`: the Ising observables of several `fit-rbm` runs against
//! temperature — the machines' own samples beside the Monte Carlo data they learned from
//! and the exact values — as `thermo.md` and one plot per observable.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::run::FitSummary;
use super::thermo::{Estimate, IsingObservables};
use crate::TrainError;
use crate::plots::{Curve, curves_plot};

/// Read the runs, write the table and plots into `out`; returns the table.
pub fn write(runs: &[PathBuf], out: &Path) -> Result<String, TrainError> {
    let mut points: Vec<(PathBuf, IsingObservables, Option<f64>)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for dir in runs {
        let canonical = dir.canonicalize().map_err(|e| TrainError::io(dir, e))?;
        if !seen.insert(canonical) {
            return Err(TrainError::Io {
                path: dir.display().to_string(),
                reason: "given twice (each run is one point of the table)".into(),
            });
        }
        let path = dir.join("summary.json");
        let text = std::fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
        let summary: FitSummary =
            serde_json::from_str(&text).map_err(|e| TrainError::io(&path, e))?;
        let Some(o) = summary.observables else {
            return Err(TrainError::Io {
                path: path.display().to_string(),
                reason: "no Ising observables (the run has no [target] kind = \"ising\")".into(),
            });
        };
        points.push((dir.clone(), o, summary.likelihood.kl));
    }
    points.sort_by(|a, b| a.1.temperature.total_cmp(&b.1.temperature));
    std::fs::create_dir_all(out).map_err(|e| TrainError::io(out, e))?;
    let mut table = String::from(
        "| T | KL | e (RBM) | e (data) | e (exact) | abs m (RBM) | abs m (data) | abs m (exact) | chi (RBM) | chi (data) | chi (exact) | C (RBM) | C (data) | C (exact) |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let pm = |e: &Estimate| format!("{:.4} ± {:.4}", e.value, e.error);
    let ex = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "–".into());
    for (_, o, kl) in &points {
        let x = o.exact;
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            o.temperature,
            kl.map(|k| format!("{k:.4}")).unwrap_or_else(|| "–".into()),
            pm(&o.rbm.energy),
            pm(&o.data.energy),
            ex(x.map(|x| x.energy)),
            pm(&o.rbm.abs_magnetisation),
            pm(&o.data.abs_magnetisation),
            ex(x.map(|x| x.abs_magnetisation)),
            pm(&o.rbm.susceptibility),
            pm(&o.data.susceptibility),
            ex(x.map(|x| x.susceptibility)),
            pm(&o.rbm.specific_heat),
            pm(&o.data.specific_heat),
            ex(x.map(|x| x.specific_heat)),
        );
    }
    std::fs::write(out.join("thermo.md"), &table).map_err(|e| TrainError::io(out, e))?;
    type Pick = fn(&IsingObservables) -> (Estimate, Estimate, Option<f64>);
    let panels: [(&str, &str, Pick); 4] = [
        ("energy", "energy per spin", |o| {
            (o.rbm.energy, o.data.energy, o.exact.map(|x| x.energy))
        }),
        ("magnetisation", "<|m|>", |o| {
            (
                o.rbm.abs_magnetisation,
                o.data.abs_magnetisation,
                o.exact.map(|x| x.abs_magnetisation),
            )
        }),
        ("susceptibility", "susceptibility per spin", |o| {
            (
                o.rbm.susceptibility,
                o.data.susceptibility,
                o.exact.map(|x| x.susceptibility),
            )
        }),
        ("specific_heat", "specific heat per spin", |o| {
            (
                o.rbm.specific_heat,
                o.data.specific_heat,
                o.exact.map(|x| x.specific_heat),
            )
        }),
    ];
    for (stem, label, pick) in panels {
        let series = |which: usize| Curve {
            label: if which == 0 {
                "RBM samples"
            } else {
                "Monte Carlo data"
            }
            .into(),
            points: points
                .iter()
                .map(|(_, o, _)| {
                    let (r, d, _) = pick(o);
                    let e = if which == 0 { r } else { d };
                    (o.temperature, e.value, e.error)
                })
                .collect(),
        };
        let exact: Vec<(f64, f64, f64)> = points
            .iter()
            .filter_map(|(_, o, _)| pick(o).2.map(|v| (o.temperature, v, 0.0)))
            .collect();
        let reference = (!exact.is_empty()).then(|| Curve {
            label: "exact".into(),
            points: exact,
        });
        curves_plot(
            &out.join(stem),
            &format!("2D Ising: {label}"),
            "temperature T",
            label,
            &[series(0), series(1)],
            reference.as_ref(),
        )?;
    }
    Ok(table)
}
