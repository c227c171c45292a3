//! Local energy E_L = (Hψ)/ψ = −(ħ²/2m) Σ_k [∂_k² log|ψ| + (∂_k log|ψ|)²] + V(x)
//! (PHYSICS.md §2), split into the kinetic part and each potential term.

use burn::tensor::Tensor;
use nqs_model::threads::{blocks, worker_threads};
use nqs_model::{Order, WaveFunction, row_sum};

use crate::hamiltonian::{Hamiltonian, sum_terms};

/// Local energy of a batch, all `[walkers]`.
#[derive(Debug, Clone)]
pub struct LocalEnergy {
    /// Kinetic part −(ħ²/2m)(∇² log|ψ| + |∇ log|ψ||²).
    pub kinetic: Tensor<1>,
    /// Potential V(x), the sum of `terms`.
    pub potential: Tensor<1>,
    /// Each potential term, in the order of [`Hamiltonian::term_names`].
    pub terms: Vec<Tensor<1>>,
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
    let out = psi.forward(x, Order::Laplacian);
    let grad_sq = row_sum(out.expect_grad().square());
    let kinetic = (out.expect_lap() + grad_sq) * -hamiltonian.kinetic_prefactor();
    let terms = hamiltonian.potential_terms(x);
    let potential = sum_terms(&terms, x);
    LocalEnergy {
        kinetic,
        potential,
        terms,
    }
}

/// [`local_energy`] with the walkers split into `threads` blocks evaluated on parallel
/// threads (burn's CPU ops run on one core). Each walker's value does not depend on the
/// others in its batch, so the result equals the one-thread result.
pub fn local_energy_parallel(
    psi: &WaveFunction,
    hamiltonian: &Hamiltonian,
    x: &Tensor<2>,
    threads: usize,
) -> LocalEnergy {
    let [w, coords] = x.dims();
    let threads = worker_threads(threads, w, coords);
    if threads == 1 {
        return local_energy(psi, hamiltonian, x);
    }
    let parts: Vec<LocalEnergy> = std::thread::scope(|scope| {
        let handles: Vec<_> = blocks(w, threads)
            .into_iter()
            .map(|(start, len)| {
                let psi = psi.clone();
                let block = x.clone().narrow(0, start, len);
                scope.spawn(move || local_energy(&psi, hamiltonian, &block))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a local-energy thread panicked"))
            .collect()
    });
    let cat =
        |pick: &dyn Fn(&LocalEnergy) -> Tensor<1>| Tensor::cat(parts.iter().map(pick).collect(), 0);
    LocalEnergy {
        kinetic: cat(&|p| p.kinetic.clone()),
        potential: cat(&|p| p.potential.clone()),
        terms: (0..parts[0].terms.len())
            .map(|t| cat(&|p| p.terms[t].clone()))
            .collect(),
    }
}
