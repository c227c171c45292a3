//! Metropolis with Gaussian proposals and Metropolis–Hastings with Langevin drift. In a
//! periodic cell the walkers are wrapped back into the cell after every move.
//!
//! Langevin (D = ½): F = 2∇log|ψ|, x' = x + ½δt F(x) + √δt χ, accepted with
//! min(1, G(x←x')|ψ(x')|² / (G(x'←x)|ψ(x)|²)), G(y←x) ∝ exp(−|y − x − ½δt F(x)|²/(2δt)).
//! Each drift is evaluated at its own point (PHYSICS.md §5).
//!
//! Near a node ∇log|ψ| diverges, the proposal overshoots, and a walker that starts there is
//! never accepted away: the chain keeps the excess of walkers that the initial distribution
//! put near the nodes, and the energy is biased (measured: −27σ for four 1D fermions).
//! As in Umrigar, Nightingale & Runge, J. Chem. Phys. 99, 2865 (1993), the drift velocity
//! v = ∇log|ψ| is limited per walker, v̄ = v·2/(1 + √(1 + 2|v|²δt)), in the proposal and in
//! both Green's functions; the Metropolis–Hastings test keeps the chain exact.

use burn::tensor::Tensor;
use nqs_model::{Order, WaveFunction, row_sum};

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

    let (proposal, new_log_psi, new_grad, log_ratio) = if langevin {
        let velocity = cache
            .grad_log_psi
            .clone()
            .expect("Langevin cache holds ∇log|ψ|");
        let proposal = x.clone() + limited(velocity, dt) * dt + chi.clone() * dt.sqrt();
        let new = psi.forward(&proposal, Order::Gradient);
        let new_grad = new.expect_grad();
        // log G(x'←x) = −|χ|²/2; log G(x←x') = −|x − x' − δt v̄(x')|²/(2δt).
        let log_g_forward = row_sum(chi.square()) * -0.5;
        let back = x.clone() - proposal.clone() - limited(new_grad.clone(), dt) * dt;
        let log_g_backward = row_sum(back.square()) * (-0.5 / dt);
        let log_ratio =
            (new.value.clone() - cache.log_psi.clone()) * 2.0 + log_g_backward - log_g_forward;
        (proposal, new.value, Some(new_grad), log_ratio)
    } else {
        let proposal = x.clone() + chi * state.step_size;
        let new_log_psi = psi.log_psi(&proposal);
        let log_ratio = (new_log_psi.clone() - cache.log_psi.clone()) * 2.0;
        (proposal, new_log_psi, None, log_ratio)
    };

    // Arithmetic select acc·new + (1 − acc)·old: exact for acc ∈ {0, 1} and finite values
    // (so a restored chain continues bit for bit), and cheaper than a masked select.
    let acc = log_u.lower(log_ratio).float(); // [w]
    let rej = acc.clone().neg().add_scalar(1.0);
    let (acc_col, rej_col) = (
        acc.clone().unsqueeze_dim::<2>(1),
        rej.clone().unsqueeze_dim::<2>(1),
    );
    let moved = proposal * acc_col.clone() + x * rej_col.clone();
    // In a periodic cell ψ is periodic: keep the walkers in [0, L)^d (ψ, and so the cache,
    // is unchanged by the wrap up to rounding).
    state.x = match psi.geometry().cell {
        Some(l) => moved.clone() - (moved / l).floor() * l,
        None => moved,
    };
    let log_psi = new_log_psi * acc.clone() + cache.log_psi * rej;
    let grad_log_psi = match (cache.grad_log_psi, new_grad) {
        (Some(old), Some(new)) => Some(new * acc_col + old * rej_col),
        _ => None,
    };
    state.cache = Some(Cache {
        log_psi,
        grad_log_psi,
    });
    state.count(acc);
}

/// log|ψ| (and the drift for Langevin) at the current walkers, computed once per
/// parameter set.
fn refresh_cache(state: &mut SamplerState, psi: &WaveFunction, langevin: bool) -> Cache {
    let stale = match &state.cache {
        None => true,
        Some(c) => langevin && c.grad_log_psi.is_none(),
    };
    if stale {
        let cache = if langevin {
            let out = psi.forward(&state.x, Order::Gradient);
            Cache {
                grad_log_psi: Some(out.expect_grad()),
                log_psi: out.value,
            }
        } else {
            Cache {
                log_psi: psi.log_psi(&state.x),
                grad_log_psi: None,
            }
        };
        state.cache = Some(cache);
    }
    state.cache.clone().expect("cache was just filled")
}

/// Umrigar–Nightingale–Runge limited velocity v̄ = v·2/(1 + √(1 + 2|v|²δt)) per walker
/// (equal to v for small |v|²δt, bounded by √(2/δt) near nodes).
///
/// # Shapes
/// - velocity: `[walkers, N·d]`
fn limited(velocity: Tensor<2>, dt: f64) -> Tensor<2> {
    let [w, _] = velocity.dims();
    let v2 = row_sum(velocity.clone().square()).reshape([w, 1]);
    let factor = ((v2 * (2.0 * dt)).add_scalar(1.0).sqrt().add_scalar(1.0)).recip() * 2.0;
    velocity * factor
}
