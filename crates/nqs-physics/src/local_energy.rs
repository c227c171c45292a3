//! Local energy E_L = (Hψ)/ψ = −(ħ²/2m) Σ_k [∂_k² log|ψ| + (∂_k log|ψ|)²] + V(x)
//! (PHYSICS.md §2), split into the kinetic part and each potential term.
//!
//! With spin-isospin amplitudes, ψ_s(x) = Φ(x) χ_s(x) summed over s, the local energy is
//! E_L = Σ_s χ_s (Hψ)_s / (Φ q), q = Σ_s χ_s². The kinetic part is the scalar formula for
//! log|ψ| = log Φ + ½ log q plus (ħ²/2m)(Σ_s |∇χ_s|²/q − |∇ log|χ||²) ≥ 0 (the norm of a
//! vector bends less than its components), and each spin operator O_q of a potential term
//! enters through ⟨χ|O_q|χ⟩/q at the walker. The parameter gradient then needs one more
//! vector per walker ([`LocalEnergy::spin_residual`]).

use burn::tensor::Tensor;
use nqs_model::factors::SpinAmplitudes;
use nqs_model::threads::{blocks, run_blocks, worker_threads};
use nqs_model::{Order, WaveFunction, row_sum};

use crate::hamiltonian::{Hamiltonian, SpinOperators, sum_terms};

/// Local energy of a batch, all `[walkers]`.
#[derive(Debug, Clone)]
pub struct LocalEnergy {
    /// Kinetic part −(ħ²/2m)(∇² log|ψ| + |∇ log|ψ||²).
    pub kinetic: Tensor<1>,
    /// Potential V(x), the sum of `terms`.
    pub potential: Tensor<1>,
    /// Each potential term, in the order of [`Hamiltonian::term_names`].
    pub terms: Vec<Tensor<1>>,
    /// With spin-isospin amplitudes χ: r_s/q per walker, `[walkers, S]`, where r is the part
    /// of (Hψ)_s/Φ orthogonal to χ. The exact energy gradient is
    /// 2⟨(E_L − E) ∂ log|ψ| + Σ_s (r_s/q) ∂χ_s⟩: the usual covariance term misses the
    /// second part when the spin states are summed rather than sampled.
    pub spin_residual: Option<Tensor<2>>,
}

impl LocalEnergy {
    /// E_L = kinetic + potential.
    pub fn total(&self) -> Tensor<1> {
        self.kinetic.clone() + self.potential.clone()
    }
}

/// E_L at the walkers `x: [walkers, N·d]`; `psi` must live on a plain (non-autodiff)
/// device: the Laplacian comes from the forward-Laplacian pass, which records no tape.
pub fn local_energy(psi: &WaveFunction, hamiltonian: &Hamiltonian, x: &Tensor<2>) -> LocalEnergy {
    // A Padé–Jastrow's jet gives Σ 1/r on the way, so the Coulomb term needs no pair pass.
    let (out, spin, inverse_distance_sum) =
        psi.forward_with_inverse_distance_sum(x, Order::Laplacian);
    let grad = out.expect_grad();
    let grad_sq = row_sum(grad.clone().square());
    let kinetic = (out.expect_lap() + grad_sq) * -hamiltonian.kinetic_prefactor();
    let terms = hamiltonian.potential_terms_given(x, inverse_distance_sum.as_ref());
    match (spin, psi.spin_correlator()) {
        (Some(amplitudes), Some(correlator)) => {
            let operators = hamiltonian.spin_operators(correlator.basis());
            with_spin(hamiltonian, x, kinetic, terms, grad, amplitudes, &operators)
        }
        _ => {
            let potential = sum_terms(&terms, x);
            LocalEnergy {
                kinetic,
                potential,
                terms,
                spin_residual: None,
            }
        }
    }
}

/// The spin-isospin parts of the local energy (module docs).
fn with_spin(
    hamiltonian: &Hamiltonian,
    x: &Tensor<2>,
    kinetic: Tensor<1>,
    mut terms: Vec<Tensor<1>>,
    grad_log_psi: Tensor<2>,
    amplitudes: SpinAmplitudes,
    operators: &SpinOperators,
) -> LocalEnergy {
    let prefactor = hamiltonian.kinetic_prefactor();
    let chi = amplitudes.chi;
    let grad_chi = amplitudes.grad.expect("amplitude gradients"); // [w, N·d, S]
    let lap_chi = amplitudes.lap.expect("amplitude Laplacians"); // [w, S]
    let [w, n, s] = grad_chi.dims();
    let q = row_sum(chi.clone().square()).unsqueeze_dim::<2>(1); // [w, 1]
    // ∇ log|χ| = Σ_s χ_s ∇χ_s / q.
    let grad_log_chi = (grad_chi.clone() * chi.clone().unsqueeze_dim::<3>(1))
        .sum_dim(2)
        .reshape([w, n])
        / q.clone();
    let grad_chi_sq = row_sum(grad_chi.clone().square().reshape([w, n * s]));
    let kinetic = kinetic
        + (grad_chi_sq / q.clone().reshape([w]) - row_sum(grad_log_chi.clone().square()))
            * prefactor;
    // The non-scalar part of (Hψ)_s/Φ: −(ħ²/2m)(2∇log Φ·∇χ_s + ∇²χ_s) + Σ_q f_q (O_q χ)_s.
    let grad_log_phi = grad_log_psi - grad_log_chi;
    let mut vector = ((grad_chi * grad_log_phi.unsqueeze_dim::<3>(2))
        .sum_dim(1)
        .reshape([w, s])
        * 2.0
        + lap_chi)
        * -prefactor;
    for (term, part) in terms.iter_mut().zip(hamiltonian.operator_parts(x)) {
        let Some(part) = part else { continue };
        let applied = operators.apply(part.operator, &chi); // [w, P, S]
        let pairs = part.expectation.len();
        let expectation = (applied.clone() * chi.clone().unsqueeze_dim::<3>(1))
            .sum_dim(2)
            .reshape([w, pairs])
            / q.clone();
        let reference = crate::hamiltonian::pair_row(&part.expectation, x);
        *term = term.clone() + row_sum(part.coefficients.clone() * (expectation - reference));
        vector = vector
            + (applied * part.coefficients.unsqueeze_dim::<3>(2))
                .sum_dim(1)
                .reshape([w, s]);
    }
    // r = w − (χ·w/q) χ, reported as r/q.
    let along = row_sum(vector.clone() * chi.clone()).unsqueeze_dim::<2>(1) / q.clone();
    let residual = (vector - chi * along) / q;
    let potential = sum_terms(&terms, x);
    LocalEnergy {
        kinetic,
        potential,
        terms,
        spin_residual: Some(residual),
    }
}

/// [`local_energy`] with the walkers split into `threads` blocks evaluated on parallel
/// threads (burn's CPU ops run on one core), each block in consecutive chunks of at most
/// `chunk` walkers (the jets of a large wave function fall out of the caches at a few
/// thousand walkers: docs/performance.md). Each walker's value does not depend on the
/// others in its batch, so the result equals the one-thread, one-chunk result.
pub fn local_energy_parallel(
    psi: &WaveFunction,
    hamiltonian: &Hamiltonian,
    x: &Tensor<2>,
    threads: usize,
    chunk: usize,
) -> LocalEnergy {
    let [w, coords] = x.dims();
    let threads = worker_threads(threads, w, coords);
    if threads == 1 {
        return local_energy_chunked(psi, hamiltonian, x, chunk);
    }
    let parts = run_blocks(blocks(w, threads), |(start, len)| {
        let psi = psi.clone();
        let block = x.clone().narrow(0, start, len);
        local_energy_chunked(&psi, hamiltonian, &block, chunk)
    });
    concat(parts)
}

/// [`local_energy`] of consecutive chunks of at most `chunk` walkers, joined.
fn local_energy_chunked(
    psi: &WaveFunction,
    hamiltonian: &Hamiltonian,
    x: &Tensor<2>,
    chunk: usize,
) -> LocalEnergy {
    let [w, _] = x.dims();
    let chunk = chunk.max(1);
    if w <= chunk {
        return local_energy(psi, hamiltonian, x);
    }
    concat(
        (0..w)
            .step_by(chunk)
            .map(|start| {
                let len = chunk.min(w - start);
                local_energy(psi, hamiltonian, &x.clone().narrow(0, start, len))
            })
            .collect(),
    )
}

/// The walkers of consecutive blocks' local energies, in order.
fn concat(parts: Vec<LocalEnergy>) -> LocalEnergy {
    let cat =
        |pick: &dyn Fn(&LocalEnergy) -> Tensor<1>| Tensor::cat(parts.iter().map(pick).collect(), 0);
    LocalEnergy {
        kinetic: cat(&|p| p.kinetic.clone()),
        potential: cat(&|p| p.potential.clone()),
        terms: (0..parts[0].terms.len())
            .map(|t| cat(&|p| p.terms[t].clone()))
            .collect(),
        spin_residual: parts
            .iter()
            .map(|p| p.spin_residual.clone())
            .collect::<Option<Vec<_>>>()
            .map(|r| Tensor::cat(r, 0)),
    }
}
