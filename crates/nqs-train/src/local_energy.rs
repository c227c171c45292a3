//! Local energy E_L = (Hψ)/ψ = −½ Σ_k [∂_k² log|ψ| + (∂_k log|ψ|)²] + V(x) (PHYSICS.md §2).

use burn::tensor::Tensor;
use nqs_model::{Order, WaveFunction, row_sum};

use crate::hamiltonian::Hamiltonian;

/// Local energy of a batch, split into its kinetic and potential parts, all `[walkers]`.
#[derive(Debug, Clone)]
pub struct LocalEnergy {
    /// Kinetic part −½(∇² log|ψ| + |∇ log|ψ||²).
    pub kinetic: Tensor<1>,
    /// Potential V(x).
    pub potential: Tensor<1>,
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
    let kinetic = (out.expect_lap() + grad_sq) * -0.5;
    LocalEnergy {
        kinetic,
        potential: hamiltonian.potential(x),
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
    let threads = nqs_sampler::worker_threads(threads, w, coords);
    if threads == 1 {
        return local_energy(psi, hamiltonian, x);
    }
    let blocks: Vec<Tensor<2>> = nqs_sampler::blocks(w, threads)
        .into_iter()
        .map(|(start, len)| x.clone().narrow(0, start, len))
        .collect();
    let parts: Vec<LocalEnergy> = std::thread::scope(|scope| {
        let handles: Vec<_> = blocks
            .into_iter()
            .map(|block| {
                let psi = psi.clone();
                scope.spawn(move || local_energy(&psi, hamiltonian, &block))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a local-energy thread panicked"))
            .collect()
    });
    LocalEnergy {
        kinetic: Tensor::cat(parts.iter().map(|p| p.kinetic.clone()).collect(), 0),
        potential: Tensor::cat(parts.iter().map(|p| p.potential.clone()).collect(), 0),
    }
}
