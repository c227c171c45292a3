//! `[system]`: the tagged choice of physical system.

use nqs_model::Geometry;
use serde::{Deserialize, Serialize};

use crate::electron_gas::ElectronGasConfig;
use crate::nucleus::NucleusConfig;
use crate::quantum_dot::QuantumDotConfig;
use crate::{Hamiltonian, PhysicsError, Reference};

/// `[system]` with `kind = "quantum_dot"` (the default when `kind` is absent),
/// `kind = "nucleus"` or `kind = "electron_gas"`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SystemConfig {
    /// Electrons in a harmonic trap (Hartree units).
    QuantumDot(QuantumDotConfig),
    /// A light nucleus (MeV, fm).
    Nucleus(NucleusConfig),
    /// The homogeneous electron gas in a periodic cube (Hartree units).
    ElectronGas(ElectronGasConfig),
}

impl SystemConfig {
    /// The `kind` name.
    pub fn kind(&self) -> &'static str {
        match self {
            SystemConfig::QuantumDot(_) => "quantum_dot",
            SystemConfig::Nucleus(_) => "nucleus",
            SystemConfig::ElectronGas(_) => "electron_gas",
        }
    }

    /// Field checks, each error naming its field.
    pub fn validate(&self) -> Result<(), PhysicsError> {
        match self {
            SystemConfig::QuantumDot(c) => c.validate(),
            SystemConfig::Nucleus(c) => c.validate(),
            SystemConfig::ElectronGas(c) => c.validate(),
        }
    }

    /// Particle layout.
    pub fn geometry(&self) -> Geometry {
        match self {
            SystemConfig::QuantumDot(c) => c.geometry(),
            SystemConfig::Nucleus(c) => c.geometry(),
            SystemConfig::ElectronGas(c) => c.geometry(),
        }
    }

    /// The trial states' scale ω (inverse length squared): the trap frequency of a quantum
    /// dot (Hermite orbitals, network inputs), 1/trial_length² for a nucleus, 1/r_s² for
    /// the electron gas.
    pub fn trial_scale(&self) -> f64 {
        match self {
            SystemConfig::QuantumDot(c) => c.omega,
            SystemConfig::Nucleus(c) => 1.0 / (c.trial_length * c.trial_length),
            SystemConfig::ElectronGas(c) => 1.0 / (c.rs * c.rs),
        }
    }

    /// Whether the system is self-bound (no external potential): its trial states must be
    /// translation invariant, and observables are measured about the centre of mass.
    pub fn self_bound(&self) -> bool {
        matches!(self, SystemConfig::Nucleus(_))
    }

    /// The Hamiltonian.
    pub fn hamiltonian(&self) -> Hamiltonian {
        match self {
            SystemConfig::QuantumDot(c) => c.hamiltonian(),
            SystemConfig::Nucleus(c) => c.hamiltonian(),
            SystemConfig::ElectronGas(c) => c.hamiltonian(),
        }
    }

    /// The recommended reference energy, when one is known, for trial states with
    /// (`spin_amplitudes`) or without spin-isospin amplitudes: a nucleus without them lives
    /// in the spatially symmetric sector, whose value is higher than the unrestricted one.
    pub fn reference(&self, spin_amplitudes: bool) -> Option<Reference> {
        match self {
            SystemConfig::QuantumDot(c) => c.reference(),
            SystemConfig::Nucleus(c) => c.reference(spin_amplitudes),
            SystemConfig::ElectronGas(c) => c.reference(),
        }
    }

    /// A title for plots and logs.
    pub fn title(&self) -> String {
        match self {
            SystemConfig::QuantumDot(c) => c.title(),
            SystemConfig::Nucleus(c) => c.title(),
            SystemConfig::ElectronGas(c) => c.title(),
        }
    }

    /// Energy unit: "Hartree" or "MeV".
    pub fn energy_unit(&self) -> &'static str {
        match self {
            SystemConfig::QuantumDot(_) | SystemConfig::ElectronGas(_) => "Hartree",
            SystemConfig::Nucleus(_) => "MeV",
        }
    }

    /// Length unit: "a.u." (oscillator units) or "fm".
    pub fn length_unit(&self) -> &'static str {
        match self {
            SystemConfig::QuantumDot(_) | SystemConfig::ElectronGas(_) => "a.u.",
            SystemConfig::Nucleus(_) => "fm",
        }
    }
}
