//! The collectives of [`super::Comm`] over MPI's world communicator (rsmpi).

use ::mpi::Threading;
use ::mpi::collective::SystemOperation;
use ::mpi::datatype::PartitionMut;
use ::mpi::topology::SimpleCommunicator;
use ::mpi::traits::{Communicator, CommunicatorCollectives, Root};

use super::{Comm, Session};

/// Initialise MPI with funnelled threading: walker blocks run on threads, but only the main
/// thread calls MPI.
pub fn init() -> Result<Session, String> {
    let (universe, threading) = ::mpi::initialize_with_threading(Threading::Funneled)
        .ok_or("MPI was already initialised")?;
    if threading < Threading::Funneled {
        return Err(format!(
            "the MPI library offers thread level {threading:?}; nqs-train needs Funneled"
        ));
    }
    let world = universe.world();
    let comm = Comm {
        rank: world.rank() as usize,
        size: world.size() as usize,
    };
    Ok(Session {
        _universe: Some(universe),
        comm,
    })
}

/// MPI_COMM_WORLD.
pub struct World;

impl World {
    fn comm(&self) -> SimpleCommunicator {
        SimpleCommunicator::world()
    }

    pub fn sum(&self, values: &mut [f64]) {
        let world = self.comm();
        let root = world.process_at_rank(0);
        if world.rank() == 0 {
            let mut total = vec![0.0; values.len()];
            root.reduce_into_root(&values[..], &mut total[..], SystemOperation::sum());
            values.copy_from_slice(&total);
        } else {
            root.reduce_into(&values[..], SystemOperation::sum());
        }
        root.broadcast_into(values);
    }

    fn counts(&self, local: usize) -> (Vec<i32>, Vec<i32>) {
        let world = self.comm();
        let mut counts = vec![0i32; world.size() as usize];
        world.all_gather_into(&(local as i32), &mut counts[..]);
        let displs = counts
            .iter()
            .scan(0, |at, &c| {
                let d = *at;
                *at += c;
                Some(d)
            })
            .collect();
        (counts, displs)
    }

    pub fn gather(&self, local: &[f64]) -> Vec<f64> {
        let (counts, displs) = self.counts(local.len());
        let mut out = vec![0.0; counts.iter().map(|&c| c as usize).sum()];
        {
            let mut partition = PartitionMut::new(&mut out[..], counts, displs);
            self.comm().all_gather_varcount_into(local, &mut partition);
        }
        out
    }

    pub fn gather_bytes(&self, local: &[u8]) -> Vec<Vec<u8>> {
        let (counts, displs) = self.counts(local.len());
        let mut out = vec![0u8; counts.iter().map(|&c| c as usize).sum()];
        {
            let mut partition = PartitionMut::new(&mut out[..], counts.clone(), displs.clone());
            self.comm().all_gather_varcount_into(local, &mut partition);
        }
        counts
            .iter()
            .zip(&displs)
            .map(|(&c, &d)| out[d as usize..(d + c) as usize].to_vec())
            .collect()
    }

    pub fn abort(&self, code: i32) {
        self.comm().abort(code)
    }
}
