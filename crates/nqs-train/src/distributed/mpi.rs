//! The collectives of [`super::Comm`] over MPI's world communicator (rsmpi).

use ::mpi::Threading;
use ::mpi::collective::SystemOperation;
use ::mpi::datatype::PartitionMut;
use ::mpi::topology::SimpleCommunicator;
use ::mpi::traits::{Communicator, CommunicatorCollectives, Equivalence, Root};

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
        world.all_gather_into(&count(local), &mut counts[..]);
        let displs = displacements(&counts);
        (counts, displs)
    }

    /// Every rank's items in rank order, on every rank, with the counts and offsets.
    fn all_gathered<T: Equivalence + Default + Clone>(
        &self,
        local: &[T],
    ) -> (Vec<T>, Vec<i32>, Vec<i32>) {
        let (counts, displs) = self.counts(local.len());
        let mut out = vec![T::default(); total(&counts)];
        {
            let mut partition = PartitionMut::new(&mut out[..], counts.clone(), displs.clone());
            self.comm().all_gather_varcount_into(local, &mut partition);
        }
        (out, counts, displs)
    }

    pub fn gather(&self, local: &[f64]) -> Vec<f64> {
        self.all_gathered(local).0
    }

    pub fn gather_bytes(&self, local: &[u8]) -> Vec<Vec<u8>> {
        let (out, counts, displs) = self.all_gathered(local);
        split(&out, &counts, &displs)
    }

    /// Counts and displacements of every rank's `local` items, on rank 0 only.
    fn counts_at_root(&self, local: usize) -> Option<(Vec<i32>, Vec<i32>)> {
        let world = self.comm();
        let root = world.process_at_rank(0);
        let mine = count(local);
        if world.rank() != 0 {
            root.gather_into(&mine);
            return None;
        }
        let mut counts = vec![0i32; world.size() as usize];
        root.gather_into_root(&mine, &mut counts[..]);
        let displs = displacements(&counts);
        Some((counts, displs))
    }

    /// Every rank's items in rank order, on rank 0 only, with the counts and offsets.
    fn root_gathered<T: Equivalence + Default + Clone>(
        &self,
        local: &[T],
    ) -> Option<(Vec<T>, Vec<i32>, Vec<i32>)> {
        let world = self.comm();
        let root = world.process_at_rank(0);
        let Some((counts, displs)) = self.counts_at_root(local.len()) else {
            root.gather_varcount_into(local);
            return None;
        };
        let mut out = vec![T::default(); total(&counts)];
        {
            let mut partition = PartitionMut::new(&mut out[..], counts.clone(), displs.clone());
            root.gather_varcount_into_root(local, &mut partition);
        }
        Some((out, counts, displs))
    }

    pub fn gather_to_root(&self, local: &[f64]) -> Option<Vec<f64>> {
        self.root_gathered(local).map(|(out, _, _)| out)
    }

    pub fn gather_bytes_to_root(&self, local: &[u8]) -> Option<Vec<Vec<u8>>> {
        self.root_gathered(local)
            .map(|(out, counts, displs)| split(&out, &counts, &displs))
    }

    pub fn abort(&self, code: i32) {
        self.comm().abort(code)
    }
}

/// An MPI count (a C int): more than 2³¹ − 1 items from one rank is beyond MPI's counts.
fn count(items: usize) -> i32 {
    i32::try_from(items).expect("more than 2^31 - 1 items in one MPI message")
}

/// Offsets of consecutive blocks of `counts` items (C ints, as MPI takes them).
fn displacements(counts: &[i32]) -> Vec<i32> {
    let mut at = 0i32;
    counts
        .iter()
        .map(|&c| {
            let d = at;
            at = at
                .checked_add(c)
                .expect("more than 2^31 - 1 items gathered in one MPI message");
            d
        })
        .collect()
}

fn total(counts: &[i32]) -> usize {
    counts.iter().map(|&c| c as usize).sum()
}

/// The blocks of `out` given by `counts` and `displs`.
fn split(out: &[u8], counts: &[i32], displs: &[i32]) -> Vec<Vec<u8>> {
    counts
        .iter()
        .zip(displs)
        .map(|(&c, &d)| out[d as usize..(d + c) as usize].to_vec())
        .collect()
}
