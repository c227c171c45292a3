//! An energy emulator E(c) for one parameter c: an AE-PMM fitted to a few trained energies
//! E_j ± σ_j (weights 1/σ²), its size n the smallest that fits the data within their
//! errors (else the one with the smallest leave-one-out error), its uncertainty from refits,
//! and a polynomial baseline fitted to the same points.
//!
//! Uncertainty at c: √(s_b² + s_j²), with s_b the spread of predictions of refits to
//! energies resampled within their error bars (parametric bootstrap) and s_j the jackknife
//! spread of the leave-one-out refits, (m − 1)/m Σ_j (p_{−j} − p̄)², which carries the
//! model's own uncertainty away from the data (p_{−j}: for a size with more parameters than
//! m − 1 points, the median at c of `LOO_FITS` fits without point j from different random
//! starts — a heuristic: the median is taken at each c, so p_{−j} need not be one model's
//! curve, and what fitting noise the median leaves is scaled by m − 1 like the rest).
//!
//! Fits run on c and E mapped to [−1, 1]; the map is affine, so the model in the original
//! units is again an AE-PMM: with c = c₀ + s_c t and E = E₀ + s_E y, a fit A + tB becomes
//! M₀ = E₀ 1 + s_E (A − (c₀/s_c) B), M₁ = (s_E/s_c) B.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::EmulateError;
use crate::fit::{FitOptions, Observation, fit};
use crate::pmm::{Pmm, n_params};
use crate::polynomial::Polynomial;

/// One trained energy.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Sample {
    /// The parameter value.
    pub c: f64,
    /// The energy.
    pub energy: f64,
    /// Its error bar (> 0).
    pub error: f64,
}

/// Emulator settings.
#[derive(Debug, Clone, PartialEq)]
pub struct EmulatorSettings {
    /// Matrix size n; `None` chooses among 1..=`max_size` the smallest that fits the data
    /// within their errors (χ² ≤ m + 3√(2m)), or else the smallest leave-one-out error.
    pub size: Option<usize>,
    /// Largest size tried when choosing.
    pub max_size: usize,
    /// Parametric-bootstrap refits.
    pub bootstrap: usize,
    /// Random starts of each full fit.
    pub starts: usize,
    /// Seed of starts and resampling.
    pub seed: u64,
    /// Ridge penalty on the matrices (in the scaled units).
    pub ridge: f64,
}

impl Default for EmulatorSettings {
    fn default() -> Self {
        Self {
            size: None,
            max_size: 3,
            bootstrap: 40,
            starts: 12,
            seed: 1,
            ridge: 0.0,
        }
    }
}

/// Leave-one-out score of one model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Score {
    /// "pmm" or "polynomial".
    pub model: String,
    /// Matrix size or polynomial degree.
    pub size: usize,
    /// Parameters (for a PMM, less the n(n − 1)/2 of a rotation that changes nothing).
    pub parameters: usize,
    /// χ² of the fit to all points.
    pub chi2: f64,
    /// RMS of the leave-one-out prediction errors, in energy units.
    pub loo_rms: f64,
}

/// A fitted emulator.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Emulator {
    /// The training data, ascending in c.
    pub samples: Vec<Sample>,
    /// The model, in the original units: E(c) = lowest eigenvalue of M₀ + c M₁.
    pub pmm: Pmm,
    /// Smallest gap between the ground and first excited level of M(c) over the samples
    /// (small gaps make the fit and its gradients ill-conditioned); none for n = 1.
    pub min_gap: Option<f64>,
    /// Leave-one-out scores of every PMM size tried and of every polynomial degree.
    pub scores: Vec<Score>,
    /// The polynomial baseline (degree chosen by leave-one-out error).
    pub polynomial: Polynomial,
    /// Bootstrap refits (original units).
    #[serde(skip)]
    bootstrap: Vec<Pmm>,
    /// Leave-one-out refits (original units).
    #[serde(skip)]
    jackknife: Vec<Vec<Pmm>>,
}

/// The emulator at one c.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    /// c.
    pub c: f64,
    /// The PMM's energy.
    pub energy: f64,
    /// Its uncertainty, √(bootstrap² + jackknife²).
    pub uncertainty: f64,
    /// The bootstrap spread.
    pub bootstrap: f64,
    /// The jackknife spread.
    pub jackknife: f64,
    /// The polynomial baseline's energy.
    pub polynomial: f64,
}

/// The affine maps of c and E onto [−1, 1].
#[derive(Debug, Clone, Copy)]
struct Scaling {
    c0: f64,
    sc: f64,
    e0: f64,
    se: f64,
}

impl Scaling {
    fn of(samples: &[Sample]) -> Self {
        let range = |v: &mut dyn Iterator<Item = f64>| {
            let (lo, hi) = v.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| {
                (l.min(x), h.max(x))
            });
            (0.5 * (lo + hi), if hi > lo { 0.5 * (hi - lo) } else { 1.0 })
        };
        let (c0, sc) = range(&mut samples.iter().map(|s| s.c));
        let (e0, se) = range(&mut samples.iter().map(|s| s.energy));
        Self { c0, sc, e0, se }
    }

    fn observations(&self, samples: &[Sample]) -> Vec<Observation> {
        samples
            .iter()
            .map(|s| Observation {
                c: vec![(s.c - self.c0) / self.sc],
                level: 0,
                value: (s.energy - self.e0) / self.se,
                sigma: s.error / self.se,
            })
            .collect()
    }

    /// The fitted model in the original units.
    fn to_original(&self, scaled: &Pmm) -> Pmm {
        let n = scaled.size;
        let (a, b) = (&scaled.matrices[0], &scaled.matrices[1]);
        let m0 = (0..n * n)
            .map(|k| {
                let diagonal = if k / n == k % n { self.e0 } else { 0.0 };
                diagonal + self.se * (a[k] - self.c0 / self.sc * b[k])
            })
            .collect();
        let m1 = b.iter().map(|v| self.se / self.sc * v).collect();
        Pmm {
            size: n,
            matrices: vec![m0, m1],
        }
    }
}

fn ground(pmm: &Pmm, c: f64) -> f64 {
    pmm.eigenvalues(&[c])[0]
}

/// Independent leave-one-out fits per left-out point (different random starts); their
/// median prediction is that point's. A model with more parameters than the remaining
/// points is not determined by them, and one fit alone lands on an arbitrary member of
/// the family that passes through them (over eight seeds the band at one point ranged
/// 200-fold with one fit per point, 4-fold with the median of 11).
const LOO_FITS: usize = 11;

/// The median of the ground levels of `fits` at c.
fn median_ground(fits: &[Pmm], c: f64) -> f64 {
    let mut v: Vec<f64> = fits.iter().map(|p| ground(p, c)).collect();
    v.sort_by(|a, b| a.total_cmp(b));
    let k = v.len();
    if k % 2 == 1 {
        v[k / 2]
    } else {
        0.5 * (v[k / 2 - 1] + v[k / 2])
    }
}

fn spread(values: &[f64]) -> (f64, f64) {
    let m = values.len() as f64;
    let mean = values.iter().sum::<f64>() / m;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / m;
    (mean, var)
}

impl Emulator {
    /// Fit to `samples` (at least three distinct c, error bars > 0).
    pub fn fit(samples: &[Sample], settings: &EmulatorSettings) -> Result<Self, EmulateError> {
        let mut samples = samples.to_vec();
        samples.sort_by(|a, b| a.c.total_cmp(&b.c));
        if samples.len() < 3 {
            return Err(EmulateError::Data(format!(
                "{} data points: an emulator needs at least 3",
                samples.len()
            )));
        }
        if let Some(w) = samples.windows(2).find(|w| w[0].c == w[1].c) {
            return Err(EmulateError::Data(format!(
                "two data points at c = {} (energies {} and {}): one energy per c",
                w[0].c, w[0].energy, w[1].energy
            )));
        }
        if let Some(bad) = samples.iter().find(|s| !(s.error > 0.0)) {
            return Err(EmulateError::Data(format!(
                "the error bar at c = {} is {}: error bars must be positive",
                bad.c, bad.error
            )));
        }
        // Error bars below the energies' own rounding (10⁻¹⁵ of their scale) carry no
        // information and would overflow the fit's weights 1/σ².
        let scale = samples
            .iter()
            .map(|s| s.energy.abs())
            .fold(0.0, f64::max)
            .max(Scaling::of(&samples).se);
        if let Some(bad) = samples.iter().find(|s| s.error < 1e-15 * scale) {
            return Err(EmulateError::Data(format!(
                "the error bar at c = {} is {:e}, below the energies' precision (10⁻¹⁵ of their scale {:e}): error bars must be at least {:e}",
                bad.c,
                bad.error,
                scale,
                1e-15 * scale
            )));
        }
        if let Some(n) = settings.size
            && !(1..=8).contains(&n)
        {
            return Err(EmulateError::Invalid {
                field: "size",
                value: n.to_string(),
                allowed: "1 to 8".into(),
            });
        }
        let scaling = Scaling::of(&samples);
        let data = scaling.observations(&samples);
        let options = |size: usize, seed: u64| FitOptions {
            size,
            starts: settings.starts,
            iterations: 400,
            seed,
            ridge: settings.ridge,
        };
        // Candidate sizes, each fitted and scored by leave-one-out.
        let sizes: Vec<usize> = match settings.size {
            Some(n) => vec![n],
            None => (1..=settings.max_size.max(1)).collect(),
        };
        let mut scores = Vec::new();
        let mut candidates = Vec::new();
        for &size in &sizes {
            let full = fit(&data, 1, &options(size, settings.seed), None);
            let m = data.len();
            let parameters = n_params(size, 1) - size * (size - 1) / 2;
            let loo: Vec<Vec<Pmm>> = (0..m)
                .map(|j| {
                    let rest: Vec<Observation> = data
                        .iter()
                        .enumerate()
                        .filter(|&(i, _)| i != j)
                        .map(|(_, o)| o.clone())
                        .collect();
                    // Fresh starts only: a start at the full fit, which already passes
                    // through the left-out point, would hide an over-parametrised model's
                    // freedom and make its leave-one-out error look like zero.
                    // A size the remaining m − 1 points determine gives one answer.
                    let fits = if parameters > m - 1 { LOO_FITS } else { 1 };
                    (0..fits)
                        .map(|k| {
                            let seed = settings.seed + 1 + (j + m * k) as u64;
                            fit(&rest, 1, &options(size, seed), None).pmm
                        })
                        .collect()
                })
                .collect();
            let loo_rms = (loo
                .iter()
                .zip(&samples)
                .map(|(fits, s)| {
                    let t = (s.c - scaling.c0) / scaling.sc;
                    (scaling.e0 + scaling.se * median_ground(fits, t) - s.energy).powi(2)
                })
                .sum::<f64>()
                / samples.len() as f64)
                .sqrt();
            scores.push(Score {
                model: "pmm".into(),
                size,
                parameters,
                chi2: full.chi2,
                loo_rms,
            });
            candidates.push((full, loo, loo_rms));
        }
        // The smallest size that fits the data within their error bars (χ² at most
        // m + 3√(2m)); when none does, the smallest leave-one-out error. Leave-one-out alone
        // cannot judge a size with more parameters than points (its refits are not
        // determined), which a handful of trained energies always gives.
        let m = data.len() as f64;
        let acceptable = m + 3.0 * (2.0 * m).sqrt();
        let best = candidates
            .iter()
            .position(|c| c.0.chi2 <= acceptable)
            .unwrap_or_else(|| {
                candidates
                    .iter()
                    .enumerate()
                    .min_by(|a, b| a.1.2.total_cmp(&b.1.2))
                    .map(|(i, _)| i)
                    .expect("at least one size")
            });
        let (full, loo, _) = candidates.swap_remove(best);
        let size = full.pmm.size;
        // Parametric bootstrap.
        let mut rng = ChaCha8Rng::seed_from_u64(settings.seed ^ 0xB007);
        let bootstrap = (0..settings.bootstrap)
            .map(|b| {
                let resampled: Vec<Observation> = data
                    .iter()
                    .map(|o| {
                        let xi: f64 = StandardNormal.sample(&mut rng);
                        Observation {
                            value: o.value + o.sigma * xi,
                            ..o.clone()
                        }
                    })
                    .collect();
                let mut o = options(size, settings.seed + 1000 + b as u64);
                o.starts = 1;
                scaling.to_original(&fit(&resampled, 1, &o, Some(&full.pmm)).pmm)
            })
            .collect();
        let polynomial = Self::polynomial_baseline(&samples, &mut scores);
        Ok(Self {
            samples,
            pmm: scaling.to_original(&full.pmm),
            min_gap: full.min_gap.is_finite().then(|| full.min_gap * scaling.se),
            scores,
            polynomial,
            bootstrap,
            jackknife: loo
                .iter()
                .map(|fits| fits.iter().map(|p| scaling.to_original(p)).collect())
                .collect(),
        })
    }

    /// The polynomial of the degree (1 ..= min(m − 2, 5)) with the smallest leave-one-out
    /// error; its scores join `scores`.
    fn polynomial_baseline(samples: &[Sample], scores: &mut Vec<Score>) -> Polynomial {
        let c: Vec<f64> = samples.iter().map(|s| s.c).collect();
        let y: Vec<f64> = samples.iter().map(|s| s.energy).collect();
        let sigma: Vec<f64> = samples.iter().map(|s| s.error).collect();
        let m = samples.len();
        let mut best: Option<(f64, Polynomial)> = None;
        for degree in 1..=(m - 2).min(5) {
            let full = Polynomial::fit(&c, &y, &sigma, degree);
            let loo_rms = ((0..m)
                .map(|j| {
                    let keep = |v: &[f64]| -> Vec<f64> {
                        v.iter()
                            .enumerate()
                            .filter(|&(i, _)| i != j)
                            .map(|(_, x)| *x)
                            .collect()
                    };
                    let p = Polynomial::fit(&keep(&c), &keep(&y), &keep(&sigma), degree);
                    (p.eval(c[j]) - y[j]).powi(2)
                })
                .sum::<f64>()
                / m as f64)
                .sqrt();
            let chi2 = (0..m)
                .map(|j| ((full.eval(c[j]) - y[j]) / sigma[j]).powi(2))
                .sum();
            scores.push(Score {
                model: "polynomial".into(),
                size: degree,
                parameters: degree + 1,
                chi2,
                loo_rms,
            });
            if best.as_ref().is_none_or(|(b, _)| loo_rms < *b) {
                best = Some((loo_rms, full));
            }
        }
        best.map(|(_, p)| p).expect("m ≥ 3 gives degree 1")
    }

    /// Matrix size n in use.
    pub fn size(&self) -> usize {
        self.pmm.size
    }

    /// The training range (smallest and largest c).
    pub fn range(&self) -> (f64, f64) {
        (self.samples[0].c, self.samples[self.samples.len() - 1].c)
    }

    /// The leave-one-out refits' predictions at c (one per training point).
    pub fn leave_one_out(&self, c: f64) -> Vec<f64> {
        self.jackknife
            .iter()
            .map(|fits| median_ground(fits, c))
            .collect()
    }

    /// The emulator at c.
    pub fn predict(&self, c: f64) -> Prediction {
        let energy = ground(&self.pmm, c);
        let boot: Vec<f64> = self.bootstrap.iter().map(|p| ground(p, c)).collect();
        let jack = self.leave_one_out(c);
        let bootstrap = if boot.is_empty() {
            0.0
        } else {
            spread(&boot).1.sqrt()
        };
        let m = jack.len() as f64;
        let jackknife = (spread(&jack).1 * (m - 1.0)).sqrt();
        Prediction {
            c,
            energy,
            uncertainty: bootstrap.hypot(jackknife),
            bootstrap,
            jackknife,
            polynomial: self.polynomial.eval(c),
        }
    }
}
