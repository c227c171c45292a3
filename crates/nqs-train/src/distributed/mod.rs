//! Walkers across processes: the communicator a run computes with.
//!
//! A run with R ranks splits `sampler.walkers` into R consecutive blocks (rank r owns block
//! r, [`Comm::walkers`]); each rank samples and differentiates its own block and the ranks
//! combine, per step,
//!
//! - the local energies, gathered in rank order ([`Comm::gather`]) so that every rank
//!   computes the same mean, error, clipping window and centring as one process would;
//! - the gradient (and the SR force and every S·v product), summed ([`Comm::sum`]) by a
//!   reduction to rank 0 and a broadcast, so that every rank holds the same bits and applies
//!   the same update;
//! - the acceptance, weighted by walkers, and the stop request.
//!
//! With one rank every operation is the identity and no MPI call is made: the binary built
//! without the `mpi` feature and `mpirun -np 1` compute exactly what they computed before.

pub mod chains;
#[cfg(feature = "mpi")]
mod mpi;

/// How many ranks the MPI launcher that started this process asked for, read from the
/// environment variables that Open MPI (`mpirun`), MPICH/Hydra (`mpiexec`) and PMI/PMIx
/// launchers (Slurm's `srun --mpi=…`) set; `None` when no launcher started it, or when
/// `NQS_NO_MPI` is set to anything but "" or "0" (independent runs started side by side by a launcher, e.g. one
/// training per Slurm task with its own `--out`).
pub fn launched_ranks() -> Option<usize> {
    if std::env::var_os("NQS_NO_MPI").is_some_and(|v| !v.is_empty() && v != "0") {
        return None;
    }
    ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"]
        .iter()
        .find_map(|name| std::env::var(name).ok()?.trim().parse().ok())
}

/// How many ranks of this job share this machine (Open MPI's and MPICH's local-size
/// variables; 1 without a launcher).
pub fn ranks_on_this_node() -> usize {
    ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"]
        .iter()
        .find_map(|name| std::env::var(name).ok()?.trim().parse().ok())
        .unwrap_or(1)
}

/// Whether this binary was built with the `mpi` feature.
pub const WITH_MPI: bool = cfg!(feature = "mpi");

/// The ranks of a run and the collective operations between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Comm {
    rank: usize,
    size: usize,
}

/// Keeps MPI initialised while it lives; finalises it when dropped.
pub struct Session {
    /// MPI's universe when an MPI launcher started this process.
    #[cfg(feature = "mpi")]
    _universe: Option<::mpi::environment::Universe>,
    /// This process's communicator.
    pub comm: Comm,
}

impl Session {
    /// Initialise MPI (funnelled: only the main thread calls it) when an MPI launcher
    /// started this process; one process otherwise. Fails when MPI cannot start, or when
    /// this binary has no MPI and a launcher asked for more than one rank.
    pub fn init() -> Result<Self, String> {
        #[cfg(feature = "mpi")]
        {
            if launched_ranks().is_none() {
                return Ok(Self {
                    _universe: None,
                    comm: Comm::single(),
                });
            }
            mpi::init()
        }
        #[cfg(not(feature = "mpi"))]
        {
            match launched_ranks() {
                Some(r) if r > 1 => Err(format!(
                    "started by an MPI launcher with {r} ranks, but this nqs-train was built without MPI: \
                     each rank would run the whole job alone and overwrite the others' files; rebuild with \
                     `cargo build --release -p nqs-train --features mpi` (needs Open MPI) or run one process"
                )),
                _ => Ok(Self {
                    comm: Comm::single(),
                }),
            }
        }
    }
}

impl Comm {
    /// One process: every collective is the identity.
    pub const fn single() -> Self {
        Self { rank: 0, size: 1 }
    }

    /// This process's rank.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// Number of ranks.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Whether this is rank 0, the one that writes files and logs.
    pub fn is_root(&self) -> bool {
        self.rank == 0
    }

    /// The walkers of every rank, `(start, len)` in rank order, for `total` walkers.
    pub fn blocks(&self, total: usize) -> Vec<(usize, usize)> {
        nqs_sampler::blocks(total, self.size)
    }

    /// This rank's walkers `(start, len)` out of `total`.
    pub fn walkers(&self, total: usize) -> (usize, usize) {
        self.blocks(total)[self.rank]
    }

    /// Element-wise sum over ranks, in place; every rank receives the same bits (reduced
    /// to rank 0 in the library's fixed order, then broadcast).
    pub fn sum(&self, values: &mut [f64]) {
        if self.size > 1 {
            self.multi().sum(values);
        }
    }

    /// Every rank's `local` values concatenated in rank order (on every rank).
    pub fn gather(&self, local: &[f64]) -> Vec<f64> {
        if self.size == 1 {
            return local.to_vec();
        }
        self.multi().gather(local)
    }

    /// Every rank's bytes, in rank order (on every rank).
    pub fn gather_bytes(&self, local: &[u8]) -> Vec<Vec<u8>> {
        if self.size == 1 {
            return vec![local.to_vec()];
        }
        unframe(self.multi().gather_bytes(&framed(local)))
    }

    /// Every rank's `local` values concatenated in rank order, on rank 0 (`None` elsewhere).
    pub fn gather_to_root(&self, local: &[f64]) -> Option<Vec<f64>> {
        if self.size == 1 {
            return Some(local.to_vec());
        }
        self.multi().gather_to_root(local)
    }

    /// Every rank's bytes in rank order, on rank 0 (`None` elsewhere).
    pub fn gather_bytes_to_root(&self, local: &[u8]) -> Option<Vec<Vec<u8>>> {
        if self.size == 1 {
            return Some(vec![local.to_vec()]);
        }
        self.multi()
            .gather_bytes_to_root(&framed(local))
            .map(unframe)
    }

    /// Whether `flag` is true on any rank.
    pub fn any(&self, flag: bool) -> bool {
        if self.size == 1 {
            return flag;
        }
        let mut v = [f64::from(u8::from(flag))];
        self.sum(&mut v);
        v[0] > 0.0
    }

    /// End every rank of the job with `code` (no rank is left waiting in a collective).
    pub fn abort(&self, code: i32) -> ! {
        if self.size > 1 {
            self.multi().abort(code);
        }
        std::process::exit(code)
    }

    #[cfg(feature = "mpi")]
    fn multi(&self) -> mpi::World {
        mpi::World
    }

    #[cfg(not(feature = "mpi"))]
    fn multi(&self) -> NoMpi {
        NoMpi
    }
}

/// `bytes` behind one leading byte: MPI refuses a gather whose messages are all empty.
fn framed(bytes: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(bytes.len() + 1);
    v.push(0);
    v.extend_from_slice(bytes);
    v
}

/// The messages of [`framed`] without their leading byte.
fn unframe(parts: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    parts.into_iter().map(|p| p[1..].to_vec()).collect()
}

/// Stands in for MPI in a build without it, where no [`Comm`] has more than one rank.
#[cfg(not(feature = "mpi"))]
struct NoMpi;

#[cfg(not(feature = "mpi"))]
impl NoMpi {
    fn sum(&self, _: &mut [f64]) {
        unreachable!("a Comm with several ranks exists only with the mpi feature")
    }
    fn gather(&self, _: &[f64]) -> Vec<f64> {
        unreachable!("a Comm with several ranks exists only with the mpi feature")
    }
    fn gather_bytes(&self, _: &[u8]) -> Vec<Vec<u8>> {
        unreachable!("a Comm with several ranks exists only with the mpi feature")
    }
    fn gather_to_root(&self, _: &[f64]) -> Option<Vec<f64>> {
        unreachable!("a Comm with several ranks exists only with the mpi feature")
    }
    fn gather_bytes_to_root(&self, _: &[u8]) -> Option<Vec<Vec<u8>>> {
        unreachable!("a Comm with several ranks exists only with the mpi feature")
    }
    fn abort(&self, _: i32) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rank_is_the_identity() {
        let c = Comm::single();
        let mut v = [1.5, -2.0];
        c.sum(&mut v);
        assert_eq!(v, [1.5, -2.0]);
        assert_eq!(c.gather(&v), vec![1.5, -2.0]);
        assert_eq!(c.walkers(7), (0, 7));
        assert!(c.any(true) && !c.any(false));
    }

    #[test]
    fn walkers_split_in_order_and_cover_the_total() {
        let c = Comm { rank: 2, size: 3 };
        assert_eq!(c.blocks(10), vec![(0, 4), (4, 3), (7, 3)]);
        assert_eq!(c.walkers(10), (7, 3));
    }
}
