//! The surrogate loss of the covariance gradient estimator (PHYSICS.md §2):
//! ∂_θ⟨E⟩ = 2⟨(E_L − ⟨E_L⟩) ∂_θ log|ψ|⟩, so L(θ) = 2·mean(stop_grad(E_L − Ē)·log|ψ_θ|).
//! E_L never enters the autodiff graph; the value of L means nothing, only its gradient.

use burn::tensor::{Tensor, TensorData};

/// Centred, clipped local energies E_L − Ē as a constant on the host, `[walkers]`.
///
/// Clipping (before centring) limits each E_L to median ± `width`·(mean absolute deviation
/// from the median); `width <= 0` turns it off. The reported energy never uses these.
pub fn centred_clipped(local_energies: &[f64], width: f64) -> Vec<f64> {
    let clipped: Vec<f64> = if width > 0.0 {
        let median = median(local_energies);
        let mad = local_energies
            .iter()
            .map(|e| (e - median).abs())
            .sum::<f64>()
            / local_energies.len() as f64;
        let (lo, hi) = (median - width * mad, median + width * mad);
        local_energies.iter().map(|e| e.clamp(lo, hi)).collect()
    } else {
        local_energies.to_vec()
    };
    let mean = clipped.iter().sum::<f64>() / clipped.len() as f64;
    clipped.iter().map(|e| e - mean).collect()
}

/// L = 2·mean(ΔE·log|ψ|) with ΔE a constant: `log_psi` is the autodiff tensor `[walkers]`.
pub fn surrogate_loss(centred: &[f64], log_psi: Tensor<1>) -> Tensor<1> {
    let delta = Tensor::<1>::from_data(
        TensorData::new(centred.to_vec(), [centred.len()]),
        &log_psi.device(),
    );
    (delta * log_psi).mean() * 2.0
}

/// The median by selection (linear time; the same value as sorting).
fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    let n = v.len();
    let (lower, &mut upper, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        upper
    } else {
        let below = lower
            .iter()
            .copied()
            .max_by(f64::total_cmp)
            .expect("n ≥ 2 when even");
        0.5 * (below + upper)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_limits_outliers_and_centres() {
        let e = [1.0, 1.0, 1.0, 1.0, 100.0];
        let c = centred_clipped(&e, 5.0);
        assert!(c.iter().sum::<f64>().abs() < 1e-12);
        // median 1, MAD = 99/5 = 19.8: the outlier is cut to 1 + 99 = 100 → unchanged here;
        // with width 1 it is cut to 20.8.
        let c1 = centred_clipped(&e, 1.0);
        let spread = c1.iter().cloned().fold(f64::MIN, f64::max) - c1[0];
        assert!((spread - 19.8).abs() < 1e-12);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, -1.0, 7.0, 2.0, 5.0]), 3.0);
        assert_eq!(median(&[4.0, 1.0, 9.0, 2.0]), 3.0);
        assert_eq!(median(&[2.5]), 2.5);
    }
}
