//! The 2D Ising model on an L × L periodic square lattice, H = −J Σ_⟨ij⟩ s_i s_j (k_B = 1):
//! exact enumeration for L ≤ 4 and Wolff cluster Monte Carlo for any L.
//!
//! Site i = row·L + col; configurations are 0/1 rows with s = 2x − 1 (bit i of a state
//! index is site i). Bonds: (i, right(i)) and (i, down(i)) for every site, 2L² in all
//! (for L = 2 each neighbour pair is counted twice, as the periodic formula gives).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::BoltzmannError;

/// The largest side enumerated exactly (2¹⁶ states).
pub const MAX_EXACT_SIDE: usize = 4;

/// An Ising lattice.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Ising {
    /// Side L.
    pub side: usize,
    /// Coupling J (> 0: ferromagnet).
    #[serde(default = "one")]
    pub coupling: f64,
    /// Temperature T.
    pub temperature: f64,
}

fn one() -> f64 {
    1.0
}

/// Per-configuration energy per spin and |m| (m = Σ s / N).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpinMeasurement {
    /// E/N.
    pub energy: f64,
    /// |m|.
    pub abs_magnetisation: f64,
}

/// Thermal averages: e = ⟨E⟩/N, ⟨|m|⟩, χ = N(⟨m²⟩ − ⟨|m|⟩²)/T, C = N(⟨e²⟩ − ⟨e⟩²)/T².
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Thermodynamics {
    /// Energy per spin.
    pub energy: f64,
    /// Mean absolute magnetisation per spin.
    pub abs_magnetisation: f64,
    /// Susceptibility per spin (from |m|).
    pub susceptibility: f64,
    /// Specific heat per spin.
    pub specific_heat: f64,
}

impl Ising {
    /// Check the lattice (field names under `prefix`).
    pub fn validate(&self, prefix: &str) -> Result<(), BoltzmannError> {
        if self.side < 2 {
            return Err(BoltzmannError::invalid(
                &format!("{prefix}side"),
                self.side,
                "at least 2",
            ));
        }
        if !self.coupling.is_finite() {
            return Err(BoltzmannError::invalid(
                &format!("{prefix}coupling"),
                self.coupling,
                "a finite number",
            ));
        }
        // The largest |E|/T, 2N|J|/T, must be finite for the Boltzmann weights (a
        // subnormal T overflows it and the exact sampler's weights become NaN).
        let largest = 2.0 * (self.side as f64).powi(2) * self.coupling.abs() / self.temperature;
        if !(self.temperature > 0.0 && self.temperature.is_finite() && largest.is_finite()) {
            return Err(BoltzmannError::invalid(
                &format!("{prefix}temperature"),
                self.temperature,
                "a finite number > 0 (with 2N|J|/T finite)",
            ));
        }
        Ok(())
    }

    /// Number of spins N = L².
    pub fn sites(&self) -> usize {
        self.side * self.side
    }

    fn neighbours(&self, i: usize) -> [usize; 4] {
        let l = self.side;
        let (r, c) = (i / l, i % l);
        [
            r * l + (c + 1) % l,
            r * l + (c + l - 1) % l,
            ((r + 1) % l) * l + c,
            ((r + l - 1) % l) * l + c,
        ]
    }

    /// Energy per spin and |m| of a ±1 configuration.
    pub fn measure(&self, spins: &[i8]) -> SpinMeasurement {
        let mut bonds = 0i64;
        for i in 0..self.sites() {
            let [right, _, down, _] = self.neighbours(i);
            bonds += i64::from(spins[i]) * i64::from(spins[right] + spins[down]);
        }
        let n = self.sites() as f64;
        let m: i64 = spins.iter().map(|&s| i64::from(s)).sum();
        SpinMeasurement {
            energy: -self.coupling * bonds as f64 / n,
            abs_magnetisation: (m as f64 / n).abs(),
        }
    }

    /// The ±1 spins of a state index.
    pub fn spins_of(&self, index: usize) -> Vec<i8> {
        (0..self.sites())
            .map(|i| if (index >> i) & 1 == 1 { 1 } else { -1 })
            .collect()
    }

    /// The exact Boltzmann distribution over all 2^N states (L ≤ 4).
    pub fn exact_distribution(&self) -> Result<Vec<f64>, BoltzmannError> {
        if self.side > MAX_EXACT_SIDE {
            return Err(BoltzmannError::TooLarge(format!(
                "exact Ising enumeration needs side ≤ {MAX_EXACT_SIDE} (2^{} states for side {})",
                self.sites(),
                self.side
            )));
        }
        let n = self.sites() as f64;
        let log_w: Vec<f64> = (0..1usize << self.sites())
            .map(|s| -self.measure(&self.spins_of(s)).energy * n / self.temperature)
            .collect();
        let max = log_w.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = log_w.iter().map(|v| (v - max).exp()).collect();
        let z: f64 = w.iter().sum();
        Ok(w.into_iter().map(|v| v / z).collect())
    }

    /// Exact thermodynamics from the distribution of [`Ising::exact_distribution`].
    pub fn exact_thermodynamics(&self) -> Result<Thermodynamics, BoltzmannError> {
        let p = self.exact_distribution()?;
        let (mut e, mut e2, mut m, mut m2) = (0.0, 0.0, 0.0, 0.0);
        for (s, &ps) in p.iter().enumerate() {
            let meas = self.measure(&self.spins_of(s));
            e += ps * meas.energy;
            e2 += ps * meas.energy * meas.energy;
            m += ps * meas.abs_magnetisation;
            m2 += ps * meas.abs_magnetisation * meas.abs_magnetisation;
        }
        Ok(self.thermodynamics_from_moments(e, e2, m, m2))
    }

    /// χ and C from the first two moments of e and |m| per spin.
    pub fn thermodynamics_from_moments(&self, e: f64, e2: f64, m: f64, m2: f64) -> Thermodynamics {
        let n = self.sites() as f64;
        let t = self.temperature;
        Thermodynamics {
            energy: e,
            abs_magnetisation: m,
            susceptibility: n * (m2 - m * m) / t,
            specific_heat: n * (e2 - e * e) / (t * t),
        }
    }

    /// `count` independent exact samples (L ≤ 4), as 0/1 rows.
    pub fn exact_samples(&self, count: usize, seed: u64) -> Result<Vec<Vec<u8>>, BoltzmannError> {
        let p = self.exact_distribution()?;
        Ok(sample_states(&p, self.sites(), count, seed))
    }

    /// `count` samples by Wolff cluster updates, as 0/1 rows: 1000 sweeps' worth of
    /// clusters to equilibrate and to measure the mean cluster size ⟨c⟩, then a fixed
    /// number ⌈2N/⟨c⟩⌉ of clusters between samples. (The number of clusters must not depend
    /// on the clusters drawn: stopping once 2N spins have flipped size-biases the last
    /// cluster and samples too cold a distribution.)
    pub fn wolff_samples(&self, count: usize, seed: u64) -> Vec<Vec<u8>> {
        let n = self.sites();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut spins: Vec<i8> = (0..n)
            .map(|_| if rng.random::<bool>() { 1 } else { -1 })
            .collect();
        let p_add = 1.0 - (-2.0 * self.coupling.abs() / self.temperature).exp();
        let mut stack = Vec::with_capacity(n);
        // One cluster; returns its size.
        let ferro = self.coupling >= 0.0;
        let mut cluster = |spins: &mut Vec<i8>, rng: &mut ChaCha8Rng| {
            let seed_site = rng.random_range(0..n);
            let s = spins[seed_site];
            spins[seed_site] = -s;
            stack.push(seed_site);
            let mut size = 1;
            while let Some(i) = stack.pop() {
                // Bonds join aligned spins (J > 0) or anti-aligned ones (J < 0) of the
                // spin i had before its flip, −spins[i].
                let joined = if ferro { -spins[i] } else { spins[i] };
                for j in self.neighbours(i) {
                    if spins[j] == joined && rng.random::<f64>() < p_add {
                        spins[j] = -spins[j];
                        stack.push(j);
                        size += 1;
                    }
                }
            }
            size
        };
        let (mut flipped, mut clusters) = (0usize, 0usize);
        while flipped < 1000 * n {
            flipped += cluster(&mut spins, &mut rng);
            clusters += 1;
        }
        let per_sample = (2 * n * clusters).div_ceil(flipped).max(1);
        (0..count)
            .map(|_| {
                for _ in 0..per_sample {
                    cluster(&mut spins, &mut rng);
                }
                spins.iter().map(|&s| u8::from(s > 0)).collect()
            })
            .collect()
    }
}

/// `count` independent draws of states with probabilities `p` (by the cumulative sum), as
/// 0/1 rows of `n` units (unit k is bit k).
pub fn sample_states(p: &[f64], n: usize, count: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut cumulative = Vec::with_capacity(p.len());
    let mut total = 0.0;
    for &v in p {
        total += v;
        cumulative.push(total);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let u = rng.random::<f64>() * total;
            let s = cumulative.partition_point(|&c| c <= u).min(p.len() - 1);
            (0..n).map(|k| ((s >> k) & 1) as u8).collect()
        })
        .collect()
}
