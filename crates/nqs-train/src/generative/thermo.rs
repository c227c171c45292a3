//! Thermodynamics of Ising configurations — the machine's own Gibbs samples, the data, and
//! the exact distribution: energy per spin, ⟨|m|⟩, χ = N(⟨m²⟩ − ⟨|m|⟩²)/T and
//! C = N(⟨e²⟩ − ⟨e⟩²)/T².
//!
//! Errors: e and |m| of correlated chains by blocking (`Stats::chains`); χ and C by batch
//! means over 20 groups of chains (or of data rows): σ = sd(groups)/√20.

use nqs_boltzmann::{Dataset, Ising, Thermodynamics};
use serde::{Deserialize, Serialize};

use crate::{Stats, TrainError};

/// Batches for the errors of χ and C.
const GROUPS: usize = 20;

/// A value with its standard error.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Estimate {
    /// Value.
    pub value: f64,
    /// One standard error.
    pub error: f64,
}

/// Estimated thermodynamics.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct ThermoEstimate {
    /// Energy per spin.
    pub energy: Estimate,
    /// ⟨|m|⟩.
    pub abs_magnetisation: Estimate,
    /// χ per spin.
    pub susceptibility: Estimate,
    /// C per spin.
    pub specific_heat: Estimate,
}

/// Ising observables of a trained machine beside those of its data.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IsingObservables {
    /// Lattice side.
    pub side: usize,
    /// Temperature.
    pub temperature: f64,
    /// From the machine's Gibbs samples.
    pub rbm: ThermoEstimate,
    /// From the data (training and validation samples).
    pub data: ThermoEstimate,
    /// Exact (side ≤ 4).
    pub exact: Option<Thermodynamics>,
}

fn spins(row: &[f64]) -> Vec<i8> {
    row.iter().map(|&v| if v > 0.5 { 1 } else { -1 }).collect()
}

/// Estimates from per-sample (e, |m|) laid out `[times, chains]` (`chains = 1` and one
/// time per sample for independent data).
fn estimate(ising: &Ising, e: &[f64], m: &[f64], chains: usize) -> ThermoEstimate {
    let (se, sm) = if chains > 1 {
        (Stats::chains(e, chains), Stats::chains(m, chains))
    } else {
        (Stats::independent(e), Stats::independent(m))
    };
    let moments = |idx: &mut dyn Iterator<Item = usize>| {
        let (mut n, mut s) = (0.0, [0.0; 4]);
        for i in idx {
            n += 1.0;
            s[0] += e[i];
            s[1] += e[i] * e[i];
            s[2] += m[i];
            s[3] += m[i] * m[i];
        }
        ising.thermodynamics_from_moments(s[0] / n, s[1] / n, s[2] / n, s[3] / n)
    };
    let all = moments(&mut (0..e.len()));
    let width = chains.max(1);
    let groups: Vec<Thermodynamics> = (0..GROUPS)
        .map(|g| {
            // Group g: the columns (chains) c with c % GROUPS == g, or rows i % GROUPS == g.
            moments(&mut (0..e.len()).filter(|i| {
                let key = if width > 1 { i % width } else { *i };
                key % GROUPS == g
            }))
        })
        .collect();
    let spread = |f: &dyn Fn(&Thermodynamics) -> f64| {
        let v: Vec<f64> = groups.iter().map(f).collect();
        Stats::independent(&v).error
    };
    ThermoEstimate {
        energy: Estimate {
            value: se.mean,
            error: se.error,
        },
        abs_magnetisation: Estimate {
            value: sm.mean,
            error: sm.error,
        },
        susceptibility: Estimate {
            value: all.susceptibility,
            error: spread(&|t| t.susceptibility),
        },
        specific_heat: Estimate {
            value: all.specific_heat,
            error: spread(&|t| t.specific_heat),
        },
    }
}

/// Observables of the machine's samples (`[times, chains]`, time-major rows), of the data
/// and, for side ≤ 4, exact.
pub fn ising_observables(
    ising: &Ising,
    samples: &[Vec<f64>],
    chains: usize,
    train: &Dataset,
    valid: &Dataset,
) -> Result<IsingObservables, TrainError> {
    if chains < GROUPS {
        return Err(TrainError::InvalidValue {
            field: "evaluation.chains".into(),
            value: chains.to_string(),
            allowed: format!("at least {GROUPS} for Ising observables with errors"),
        });
    }
    let measure = |rows: &mut dyn Iterator<Item = &[f64]>| {
        let (mut e, mut m) = (Vec::new(), Vec::new());
        for row in rows {
            let s = ising.measure(&spins(row));
            e.push(s.energy);
            m.push(s.abs_magnetisation);
        }
        (e, m)
    };
    let (e, m) = measure(&mut samples.iter().map(Vec::as_slice));
    let rbm = estimate(ising, &e, &m, chains);
    let (e, m) = measure(
        &mut (0..train.rows)
            .map(|i| train.row(i))
            .chain((0..valid.rows).map(|i| valid.row(i))),
    );
    let data = estimate(ising, &e, &m, 1);
    let exact = (ising.side <= nqs_boltzmann::ising::MAX_EXACT_SIDE)
        .then(|| ising.exact_thermodynamics())
        .transpose()
        .map_err(|e| TrainError::Unsupported(e.to_string()))?;
    Ok(IsingObservables {
        side: ising.side,
        temperature: ising.temperature,
        rbm,
        data,
        exact,
    })
}
