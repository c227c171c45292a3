//! The transverse-field Ising chain H = −J Σ_i σᶻ_i σᶻ_{i+1} − h Σ_i σˣ_i (open or periodic)
//! by exact diagonalisation in the σᶻ basis (Lanczos with full reorthogonalisation,
//! restarted from its Ritz vector until the residual ‖Hψ − Eψ‖ is below 1e-10).
//!
//! Basis state index: bit i set ⇔ σᶻ_i = +1 (x_i = 1). For J, h ≥ 0 every off-diagonal
//! element is −h ≤ 0, so the ground state is positive (Perron–Frobenius) and ψ(σ) = √p(σ):
//! the σᶻ distribution determines it — the premise of tomography with a positive RBM.

use nalgebra::{DMatrix, SymmetricEigen};
use serde::{Deserialize, Serialize};

use crate::BoltzmannError;

/// Largest chain diagonalised (2¹⁶ states).
pub const MAX_SITES: usize = 16;

/// A transverse-field Ising chain.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TransverseIsing {
    /// Number of spins N.
    pub sites: usize,
    /// Transverse field h.
    pub field: f64,
    /// Coupling J.
    #[serde(default = "one")]
    pub coupling: f64,
    /// Periodic (σᶻ_N σᶻ_1 bond) instead of open.
    #[serde(default)]
    pub periodic: bool,
}

fn one() -> f64 {
    1.0
}

/// The ground state.
#[derive(Debug, Clone, PartialEq)]
pub struct GroundState {
    /// Energy E₀.
    pub energy: f64,
    /// Normalised, non-negative amplitudes ψ(σ) over the 2^N basis states.
    pub amplitudes: Vec<f64>,
    /// ‖Hψ − E₀ψ‖.
    pub residual: f64,
}

impl TransverseIsing {
    /// Check the chain (field names under `prefix`).
    pub fn validate(&self, prefix: &str) -> Result<(), BoltzmannError> {
        if !(2..=MAX_SITES).contains(&self.sites) {
            return Err(BoltzmannError::invalid(
                &format!("{prefix}sites"),
                self.sites,
                &format!("2 to {MAX_SITES}"),
            ));
        }
        if !(self.field >= 0.0 && self.field.is_finite()) {
            return Err(BoltzmannError::invalid(
                &format!("{prefix}field"),
                self.field,
                "a finite number ≥ 0 (a positive ground state needs h ≥ 0)",
            ));
        }
        if !(self.coupling >= 0.0 && self.coupling.is_finite()) {
            return Err(BoltzmannError::invalid(
                &format!("{prefix}coupling"),
                self.coupling,
                "a finite number ≥ 0",
            ));
        }
        Ok(())
    }

    fn bonds(&self) -> usize {
        if self.periodic && self.sites > 2 {
            self.sites
        } else {
            self.sites - 1
        }
    }

    /// ⟨σ|H|σ⟩ = −J Σ_bonds s_i s_{i+1}.
    fn diagonal(&self, state: usize) -> f64 {
        let n = self.sites;
        let mut sum = 0.0;
        for i in 0..self.bonds() {
            let j = (i + 1) % n;
            let same = ((state >> i) & 1) == ((state >> j) & 1);
            sum += if same { 1.0 } else { -1.0 };
        }
        -self.coupling * sum
    }

    /// y = H v.
    fn apply(&self, diagonal: &[f64], v: &[f64], y: &mut [f64]) {
        for (s, ys) in y.iter_mut().enumerate() {
            let mut acc = diagonal[s] * v[s];
            for i in 0..self.sites {
                acc -= self.field * v[s ^ (1 << i)];
            }
            *ys = acc;
        }
    }

    /// The ground state by Lanczos.
    pub fn ground_state(&self) -> Result<GroundState, BoltzmannError> {
        self.validate("")?;
        let dim = 1usize << self.sites;
        let diagonal: Vec<f64> = (0..dim).map(|s| self.diagonal(s)).collect();
        // Start: the uniform state (positive overlap with the positive ground state).
        let mut start = vec![1.0 / (dim as f64).sqrt(); dim];
        let krylov = dim.min(120);
        let mut best = None;
        let mut hv = vec![0.0; dim];
        for _restart in 0..20 {
            let (energy, psi) = self.lanczos(&diagonal, &start, krylov);
            self.apply(&diagonal, &psi, &mut hv);
            let residual = hv
                .iter()
                .zip(&psi)
                .map(|(h, p)| (h - energy * p).powi(2))
                .sum::<f64>()
                .sqrt();
            let done = residual < 1e-10;
            best = Some(GroundState {
                energy,
                amplitudes: psi.clone(),
                residual,
            });
            if done {
                break;
            }
            start = psi;
        }
        let mut gs = best.expect("at least one Lanczos pass");
        let sign = if gs.amplitudes.iter().sum::<f64>() < 0.0 {
            -1.0
        } else {
            1.0
        };
        gs.amplitudes
            .iter_mut()
            .for_each(|a| *a = (*a * sign).max(0.0));
        let norm = gs.amplitudes.iter().map(|a| a * a).sum::<f64>().sqrt();
        gs.amplitudes.iter_mut().for_each(|a| *a /= norm);
        Ok(gs)
    }

    /// One Lanczos pass of at most `k` vectors from `start`: the lowest Ritz pair.
    fn lanczos(&self, diagonal: &[f64], start: &[f64], k: usize) -> (f64, Vec<f64>) {
        let dim = start.len();
        let norm = start.iter().map(|v| v * v).sum::<f64>().sqrt();
        let mut basis: Vec<Vec<f64>> = vec![start.iter().map(|v| v / norm).collect()];
        let (mut alpha, mut beta) = (Vec::new(), Vec::new());
        let mut w = vec![0.0; dim];
        for j in 0..k {
            self.apply(diagonal, &basis[j], &mut w);
            let a: f64 = w.iter().zip(&basis[j]).map(|(x, y)| x * y).sum();
            alpha.push(a);
            // Full reorthogonalisation (twice, for stability).
            for _ in 0..2 {
                for q in &basis {
                    let c: f64 = w.iter().zip(q).map(|(x, y)| x * y).sum();
                    w.iter_mut().zip(q).for_each(|(x, y)| *x -= c * y);
                }
            }
            let b = w.iter().map(|v| v * v).sum::<f64>().sqrt();
            if j + 1 == k || b < 1e-12 {
                break;
            }
            beta.push(b);
            basis.push(w.iter().map(|v| v / b).collect());
        }
        let m = alpha.len();
        let t = DMatrix::from_fn(m, m, |i, j| {
            if i == j {
                alpha[i]
            } else if i + 1 == j {
                beta[i]
            } else if j + 1 == i {
                beta[j]
            } else {
                0.0
            }
        });
        let eig = SymmetricEigen::new(t);
        let (lowest, _) =
            eig.eigenvalues
                .iter()
                .enumerate()
                .fold(
                    (0, f64::INFINITY),
                    |acc, (i, &v)| if v < acc.1 { (i, v) } else { acc },
                );
        let coeffs = eig.eigenvectors.column(lowest);
        let mut psi = vec![0.0; dim];
        for (c, q) in coeffs.iter().zip(&basis) {
            psi.iter_mut().zip(q).for_each(|(p, y)| *p += c * y);
        }
        let norm = psi.iter().map(|v| v * v).sum::<f64>().sqrt();
        psi.iter_mut().for_each(|p| *p /= norm);
        (eig.eigenvalues[lowest], psi)
    }

    /// ⟨σᶻ_i σᶻ_{i+1}⟩ averaged over the bonds and ⟨σˣ⟩ per site, from the amplitudes.
    pub fn correlations(&self, psi: &[f64]) -> (f64, f64) {
        let (mut zz, mut x) = (0.0, 0.0);
        for (s, &a) in psi.iter().enumerate() {
            zz += a * a * (-self.diagonal(s) / self.coupling.max(f64::MIN_POSITIVE));
            for i in 0..self.sites {
                x += a * psi[s ^ (1 << i)];
            }
        }
        (zz / self.bonds() as f64, x / self.sites as f64)
    }
}
