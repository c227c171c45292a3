//! Run-time choice of the burn device and its floating-point precision.

use burn::tensor::{Device, DeviceKind, FloatDType};
use serde::{Deserialize, Serialize};

use crate::TrainError;

/// Compute backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// burn-flex, the pure-Rust CPU backend (default).
    Flex,
    /// burn-ndarray, the older CPU backend.
    Ndarray,
    /// wgpu (Vulkan, Metal, DirectX; Mesa's lavapipe on a machine without a GPU).
    Wgpu,
}

/// Floating-point precision of every tensor of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// 64-bit (default on CPU backends).
    F64,
    /// 32-bit (default on wgpu).
    F32,
}

impl Backend {
    /// Name as written on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::Ndarray => "ndarray",
            Backend::Wgpu => "wgpu",
        }
    }

    /// Default precision: f64 on CPU, f32 on wgpu.
    pub fn default_precision(self) -> Precision {
        match self {
            Backend::Wgpu => Precision::F32,
            _ => Precision::F64,
        }
    }
}

impl Precision {
    /// Name as written on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F64 => "f64",
            Precision::F32 => "f32",
        }
    }
}

/// The plain (non-autodiff) device for `backend` with `precision` as its float type.
///
/// f64 on wgpu is refused: Mesa's software Vulkan returns silently wrong f64 results
/// (../shared/notes/burn-0.22.md §3), and GPU f64 support varies by driver.
pub fn device(backend: Backend, precision: Precision) -> Result<Device, TrainError> {
    if backend == Backend::Wgpu && precision == Precision::F64 {
        return Err(TrainError::Unsupported(
            "--precision f64 is not supported on --backend wgpu (software Vulkan returns wrong f64 results); use --precision f32 or a CPU backend (flex, ndarray)".into(),
        ));
    }
    #[allow(deprecated)]
    let mut device = match backend {
        Backend::Flex => Device::flex(),
        Backend::Ndarray => Device::ndarray(),
        Backend::Wgpu => Device::wgpu(DeviceKind::DefaultDevice),
    };
    let dtype = match precision {
        Precision::F64 => FloatDType::F64,
        Precision::F32 => FloatDType::F32,
    };
    // Optimiser state loaded from a checkpoint is first created on the default device, which
    // the binary pins to flex (see main): give flex the run's float type too.
    if backend != Backend::Flex {
        let mut flex = Device::flex();
        if flex.settings().float_dtype != dtype {
            let _ = flex.configure(dtype);
        }
    }
    if device.configure(dtype).is_err() {
        // Already configured in this process (tests): accept it only if it agrees.
        let current = device.settings().float_dtype;
        if current != dtype {
            return Err(TrainError::Unsupported(format!(
                "backend {} is already configured with {current:?} in this process; cannot switch to {}",
                backend.name(),
                precision.name()
            )));
        }
    }
    Ok(device)
}

/// Whether `device` runs the host passes of `nqs-model` (flex in f64): the moves' value pass,
/// the Hermite Slater and Padé jets, the kept log|det| and the factorised Slater gradient.
pub fn runs_host_passes(device: &Device) -> bool {
    device.clone().without_autodiff() == Device::flex()
        && device.settings().float_dtype == burn::tensor::FloatDType::F64
}

/// Whether `device` is one of the CPU backends (flex, ndarray).
pub fn is_cpu(device: &Device) -> bool {
    #[allow(deprecated)]
    let ndarray = Device::ndarray();
    let plain = device.clone().without_autodiff();
    plain == Device::flex() || plain == ndarray
}
