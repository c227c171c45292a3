//! Slater determinant det↑ · det↓ of real plane waves in a periodic cell (the Hartree–Fock
//! state of the homogeneous electron gas): P_ij = cos(k_j·x_i − s_j), s_j ∈ {0, π/2}
//! ([`crate::plane_waves`]).
//!
//! Row i depends only on particle i, so, as for the Hermite determinant,
//! ∂_{ia} log|det P| = Σ_j ∂_a P_ij (P⁻¹)_ji with ∂_a P_ij = −k_ja sin(k_j·x_i − s_j), and
//! ∇² log|det P| = Σ_i [Σ_j ∇²P_ij (P⁻¹)_ji − |∇_i log|det P||²] with ∇²P_ij = −k_j² P_ij.
//! The state has no parameters: a closed shell of plane waves is fixed by N and L.

use std::f64::consts::{FRAC_PI_2, PI};

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::derivatives::LogPsi;
use crate::factors::slater::{spin_product, trace_rows};
use crate::plane_waves::{PlaneWave, plane_wave_orbitals};
use crate::{Geometry, ModelError, Order, log_det, row_sum};

/// Configuration of the plane-wave determinant (`kind = "plane_wave_slater"`); it has no
/// fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PlaneWaveSlaterConfig {}

/// Plane-wave Slater determinant.
#[derive(Module, Debug)]
pub struct PlaneWaveSlater {
    #[module(skip)]
    geometry: Geometry,
    /// Wave vectors k_j, `[d][orbital]` (row a holds k_ja).
    #[module(skip)]
    k: Vec<Vec<f64>>,
    /// Phase shifts s_j (0 for cosines, π/2 for sines).
    #[module(skip)]
    shift: Vec<f64>,
}

impl PlaneWaveSlaterConfig {
    /// Build the factor: a periodic cell and equal spin populations that fill closed
    /// plane-wave shells.
    pub fn init(&self, geometry: Geometry, index: usize) -> Result<PlaneWaveSlater, ModelError> {
        PlaneWaveSlater::new(geometry, index)
    }
}

impl PlaneWaveSlater {
    /// The closed-shell plane-wave determinant of `geometry` (factor `index`, for errors).
    pub fn new(geometry: Geometry, index: usize) -> Result<Self, ModelError> {
        let Some(length) = geometry.cell else {
            return Err(ModelError::InvalidFactor {
                index,
                field: "kind",
                value: "\"plane_wave_slater\"".into(),
                reason: "plane waves need a periodic system (e.g. kind = \"electron_gas\"); use slater for a trapped one".into(),
            });
        };
        geometry.check_closed_shell()?;
        let d = geometry.dimensions;
        let orbitals: Vec<PlaneWave> = plane_wave_orbitals(d, geometry.n_up);
        let k = (0..d)
            .map(|a| {
                orbitals
                    .iter()
                    .map(|o| 2.0 * PI * o.m[a] as f64 / length)
                    .collect()
            })
            .collect();
        let shift = orbitals
            .iter()
            .map(|o| if o.sine { FRAC_PI_2 } else { 0.0 })
            .collect();
        Ok(Self { geometry, k, shift })
    }

    /// Orbitals per spin block (N/2).
    pub fn n_orbitals(&self) -> usize {
        self.shift.len()
    }

    /// The phases k_j·y_i − s_j of rows y `[rows, d]`, `[rows, n_orb]`.
    pub(crate) fn phases(&self, y: Tensor<2>) -> Tensor<2> {
        let device = y.device();
        y.matmul(self.k_matrix(&device)) - self.shift_row(&device)
    }

    /// k_ja of every orbital as a row, `[1, n_orb]`.
    pub(crate) fn k_row(&self, a: usize, device: &Device) -> Tensor<2> {
        row(&self.k[a], device)
    }

    fn k_matrix(&self, device: &Device) -> Tensor<2> {
        let d = self.k.len();
        let flat: Vec<f64> = self.k.iter().flatten().copied().collect();
        Tensor::from_data(TensorData::new(flat, [d, self.n_orbitals()]), device)
    }

    fn shift_row(&self, device: &Device) -> Tensor<2> {
        row(&self.shift, device)
    }

    /// log|det↑ det↓| with derivatives, and the sign of the product.
    ///
    /// # Shapes
    /// - x: `[walkers, N·d]`
    pub fn forward(&self, x: &Tensor<2>, order: Order) -> (LogPsi, Tensor<1>) {
        let [w, nd] = x.dims();
        let (n, d, n_orb) = (
            self.geometry.n_particles,
            self.geometry.dimensions,
            self.n_orbitals(),
        );
        let device = x.device();
        let phase = self.phases(x.clone().reshape([w * n, d])); // [w·N, n_orb]
        let p = phase.clone().cos();
        let det = log_det(p.clone().reshape([2 * w, n_orb, n_orb]), order.gradient());
        let (value, sign) = spin_product(det.log_abs, det.sign, w);
        let Some(inv) = det.inverse else {
            return (
                LogPsi {
                    value,
                    grad: None,
                    lap: None,
                },
                sign,
            );
        };
        let inv_t = inv.swap_dims(1, 2);
        let minus_sin = phase.sin().neg();
        let grads: Vec<Tensor<3>> = (0..d)
            .map(|a| trace_rows(minus_sin.clone() * self.k_row(a, &device), &inv_t))
            .collect();
        let lap = order.laplacian().then(|| {
            let k2: Vec<f64> = (0..n_orb)
                .map(|j| self.k.iter().map(|k| k[j] * k[j]).sum())
                .collect();
            let own = trace_rows(p * row(&k2, &device).neg(), &inv_t); // [2w, n_orb, 1]
            let squares = grads
                .iter()
                .map(|g| g.clone().square())
                .reduce(|s, t| s + t)
                .expect("d >= 1");
            row_sum((own - squares).reshape([w, n]))
        });
        // [2w, n_orb, d] is [w, N, d] (up particles first) → [w, N·d]
        let grad = Tensor::cat(grads, 2).reshape([w, nd]);
        (
            LogPsi {
                value,
                grad: Some(grad),
                lap,
            },
            sign,
        )
    }
}

fn row(values: &[f64], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values.to_vec(), [1, values.len()]), device)
}
