//! Physical systems: what is simulated, in which units, with which Hamiltonian, and what it
//! should give.
//!
//! A system ([`SystemConfig`], `[system]` in a run config with `kind = "quantum_dot" |
//! "nucleus" | "electron_gas"`) supplies the particles and their layout ([`nqs_model::Geometry`]), the
//! kinetic prefactor ħ²/2m in its units, the potential terms ([`Hamiltonian`]), the length
//! scale its trial states start from, and its reference energies. The trainer takes a
//! system and trains whatever it is handed.
//!
//! A new system is one new module here plus one variant of [`SystemConfig`]; a new
//! potential term is one file in `hamiltonian/` implementing [`PotentialTerm`].

pub mod electron_gas;
mod error;
pub mod hamiltonian;
pub mod local_energy;
pub mod nucleus;
pub mod quantum_dot;
pub mod reference;
mod system;

pub use electron_gas::ElectronGasConfig;
pub use error::PhysicsError;
pub use hamiltonian::{Hamiltonian, PotentialTerm};
pub use local_energy::{LocalEnergy, local_energy, local_energy_parallel};
pub use nucleus::{Nucleus, NucleusConfig};
pub use quantum_dot::{Interaction, QuantumDotConfig};
pub use reference::Reference;
pub use system::SystemConfig;
