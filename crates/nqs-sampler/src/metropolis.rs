//! Metropolis with Gaussian proposals and Metropolis–Hastings with Langevin drift.
//!
//! Langevin (D = ½): F = 2∇log|ψ|, x' = x + ½δt F(x) + √δt χ, accepted with
//! min(1, G(x←x')|ψ(x')|² / (G(x'←x)|ψ(x)|²)), G(y←x) ∝ exp(−|y − x − ½δt F(x)|²/(2δt)).
//! Each drift is evaluated at its own point (PHYSICS.md §5).

use nqs_model::{Order, WaveFunction};

use crate::Noise;
use crate::state::{Cache, SamplerState};

/// One all-walker move.
pub(crate) fn step(state: &mut SamplerState, psi: &WaveFunction, langevin: bool) {
    let x = state.x.clone();
    let [w, n_coords] = x.dims();
    let device = x.device();
    let cache = refresh_cache(state, psi, langevin);
    let chi = state.rng.normal(w, n_coords, &device);
    let log_u = state.rng.uniform(w, 1, &device).log().reshape([w]);
    let dt = state.step_size;

    let (proposal, new_log_psi, new_drift, log_ratio) = if langevin {
        let drift = cache.drift.clone().expect("Langevin cache holds the drift");
        let proposal = x.clone() + drift * (0.5 * dt) + chi.clone() * dt.sqrt();
        let new = psi.forward(&proposal, Order::Gradient);
        let new_drift = new.expect_grad() * 2.0;
        // log G(x'←x) = −|χ|²/2; log G(x←x') = −|x − x' − ½δt F(x')|²/(2δt).
        let log_g_forward = chi.square().sum_dim(1).reshape([w]) * -0.5;
        let back = x.clone() - proposal.clone() - new_drift.clone() * (0.5 * dt);
        let log_g_backward = back.square().sum_dim(1).reshape([w]) * (-0.5 / dt);
        let log_ratio =
            (new.value.clone() - cache.log_psi.clone()) * 2.0 + log_g_backward - log_g_forward;
        (proposal, new.value, Some(new_drift), log_ratio)
    } else {
        let proposal = x.clone() + chi * state.step_size;
        let new_log_psi = psi.log_psi(&proposal);
        let log_ratio = (new_log_psi.clone() - cache.log_psi.clone()) * 2.0;
        (proposal, new_log_psi, None, log_ratio)
    };

    // Arithmetic blend instead of a masked select: old + acc·(new − old).
    let acc = log_u.lower(log_ratio).float(); // [w]
    let acc_col = acc.clone().unsqueeze_dim::<2>(1); // [w, 1]
    state.x = x.clone() + (proposal - x) * acc_col.clone();
    let log_psi = cache.log_psi.clone() + (new_log_psi - cache.log_psi) * acc.clone();
    let drift = match (cache.drift, new_drift) {
        (Some(old), Some(new)) => Some(old.clone() + (new - old) * acc_col),
        _ => None,
    };
    state.cache = Some(Cache { log_psi, drift });
    state.count(acc);
}

/// log|ψ| (and the drift for Langevin) at the current walkers, computed once per
/// parameter set.
fn refresh_cache(state: &mut SamplerState, psi: &WaveFunction, langevin: bool) -> Cache {
    let stale = match &state.cache {
        None => true,
        Some(c) => langevin && c.drift.is_none(),
    };
    if stale {
        let cache = if langevin {
            let out = psi.forward(&state.x, Order::Gradient);
            Cache {
                drift: Some(out.expect_grad() * 2.0),
                log_psi: out.value,
            }
        } else {
            Cache {
                log_psi: psi.log_psi(&state.x),
                drift: None,
            }
        };
        state.cache = Some(cache);
    }
    state.cache.clone().expect("cache was just filled")
}
