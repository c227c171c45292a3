//! Forward-Laplacian jet of log|det A| when every entry of A depends on all `n_in` input
//! coordinates (backflow orbitals; PHYSICS.md §3):
//!
//! ∂_k log|det A| = tr(A⁻¹ ∂_k A),
//! ∇² log|det A| = Σ_k [ tr(A⁻¹ ∂_k² A) − tr(A⁻¹ ∂_k A A⁻¹ ∂_k A) ],
//!
//! and only Σ_k ∂_k² A (the Laplacian of each entry) is needed for the first trace. Plain
//! orbitals, whose row i depends on particle i alone, take the much cheaper per-row path in
//! the Slater factor instead.

use burn::tensor::Tensor;

use crate::{log_det, row_sum};

/// log|det A| with its sign and, when the entry jets are given, its gradient and Laplacian.
#[derive(Debug, Clone)]
pub struct LogDetJet {
    /// log|det A|, `[batch]`.
    pub log_abs: Tensor<1>,
    /// sign(det A), `[batch]`.
    pub sign: Tensor<1>,
    /// ∂_k log|det A|, `[batch, n_in]`.
    pub grad: Option<Tensor<2>>,
    /// Σ_k ∂_k² log|det A|, `[batch]`.
    pub lap: Option<Tensor<1>>,
}

/// The jet of log|det A| from the jets of the entries.
///
/// # Shapes
/// - a: `[batch, n, n]`
/// - grad: ∂_k A, `[batch, n_in, n, n]` (None: value only)
/// - lap: Σ_k ∂_k² A, `[batch, n, n]` (needs `grad`)
pub fn log_det_jet(a: Tensor<3>, grad: Option<Tensor<4>>, lap: Option<Tensor<3>>) -> LogDetJet {
    let [batch, n, _] = a.dims();
    let det = log_det(a, grad.is_some());
    let Some(da) = grad else {
        return LogDetJet {
            log_abs: det.log_abs,
            sign: det.sign,
            grad: None,
            lap: None,
        };
    };
    let inv = det.inverse.expect("log_det returns the inverse when asked");
    let n_in = da.dims()[1];
    let device = inv.device();
    // M_k = A⁻¹ ∂_k A for every k at once: A⁻¹ [n, n] times ∂A laid out as [j, (k, c)].
    let da_rows = da.permute([0, 2, 1, 3]).reshape([batch, n, n_in * n]); // [b, j, (k, c)]
    let m = inv.clone().matmul(da_rows).reshape([batch, n, n_in, n]); // [b, i, k, c]
    // tr M_k = Σ_i M_k[i, i]: mask the diagonal (i = c) and sum.
    let eye: Tensor<4> = Tensor::<2>::eye(n, &device).reshape([1, n, 1, n]);
    let diag = (m.clone() * eye)
        .permute([0, 2, 1, 3])
        .reshape([batch * n_in, n * n]);
    let grad = row_sum(diag).reshape([batch, n_in]);
    let lap = lap.map(|l| {
        // tr(A⁻¹ L) = Σ_ij (A⁻¹)_ji L_ij
        let tr_l = row_sum((inv.swap_dims(1, 2) * l).reshape([batch, n * n]));
        // Σ_k tr(M_k M_k) = Σ_{k,i,c} M_k[i, c] M_k[c, i]
        let m_t = m.clone().permute([0, 3, 2, 1]); // [b, c, k, i]
        let tr_mm = row_sum((m * m_t).reshape([batch, n * n_in * n]));
        tr_l - tr_mm
    });
    LogDetJet {
        log_abs: det.log_abs,
        sign: det.sign,
        grad: Some(grad),
        lap,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, FloatDType, TensorData};

    fn f64_device() -> Device {
        let mut device = Device::flex();
        let _ = device.configure(FloatDType::F64);
        device
    }

    /// A(x) = M₀ + Σ_k x_k M_k + Σ_k x_k² Q_k + x₀x₁ R: every entry depends on every
    /// coordinate, with ∂_k A = M_k + 2 x_k Q_k (+ x₁ R or x₀ R) and Σ_k ∂_k² A = 2 Σ_k Q_k.
    struct Family {
        n: usize,
        n_in: usize,
        m0: Vec<f64>,
        m: Vec<Vec<f64>>,
        q: Vec<Vec<f64>>,
        r: Vec<f64>,
    }

    impl Family {
        fn new(n: usize, n_in: usize) -> Self {
            let mut rng = crate::ParamRng::new(7);
            let mut mat = |scale: f64| (0..n * n).map(|_| scale * rng.normal()).collect();
            let m0 = mat(1.0);
            let m = (0..n_in).map(|_| mat(0.5)).collect();
            let q = (0..n_in).map(|_| mat(0.3)).collect();
            let r = mat(0.4);
            Self {
                n,
                n_in,
                m0,
                m,
                q,
                r,
            }
        }

        fn value(&self, x: &[f64]) -> Vec<f64> {
            (0..self.n * self.n)
                .map(|e| {
                    self.m0[e]
                        + (0..self.n_in)
                            .map(|k| x[k] * self.m[k][e] + x[k] * x[k] * self.q[k][e])
                            .sum::<f64>()
                        + x[0] * x[1] * self.r[e]
                })
                .collect()
        }

        fn grad(&self, x: &[f64]) -> Vec<f64> {
            let mut out = Vec::new();
            for k in 0..self.n_in {
                for e in 0..self.n * self.n {
                    let cross = match k {
                        0 => x[1] * self.r[e],
                        1 => x[0] * self.r[e],
                        _ => 0.0,
                    };
                    out.push(self.m[k][e] + 2.0 * x[k] * self.q[k][e] + cross);
                }
            }
            out
        }

        fn lap(&self) -> Vec<f64> {
            (0..self.n * self.n)
                .map(|e| 2.0 * (0..self.n_in).map(|k| self.q[k][e]).sum::<f64>())
                .collect()
        }
    }

    #[test]
    fn dense_jet_matches_finite_differences() {
        let device = f64_device();
        for (n, n_in) in [(1, 3), (2, 4), (3, 5), (5, 6)] {
            let f = Family::new(n, n_in);
            let mut rng = crate::ParamRng::new(3);
            let x: Vec<f64> = (0..n_in).map(|_| 0.7 * rng.normal()).collect();
            let t3 = |v: Vec<f64>, b: usize| {
                Tensor::<3>::from_data(TensorData::new(v, [b, n, n]), &device)
            };
            let a = t3(f.value(&x), 1);
            let da = Tensor::<4>::from_data(TensorData::new(f.grad(&x), [1, n_in, n, n]), &device);
            let jet = log_det_jet(a, Some(da), Some(t3(f.lap(), 1)));
            let host = |t: Tensor<1>| t.into_data().try_to_vec::<f64>().expect("f64");
            let grad = jet.grad.expect("grad").reshape([n_in]);
            let (grad, lap) = (host(grad), host(jet.lap.expect("lap"))[0]);
            // Central differences of log|det A(x)| at h and h/2, Richardson-extrapolated.
            let log_abs = |x: &[f64]| host(log_det(t3(f.value(x), 1), false).log_abs)[0];
            let central = |h: f64| {
                let (mut g, mut l) = (vec![0.0; n_in], 0.0);
                let f0 = log_abs(&x);
                for k in 0..n_in {
                    let (mut xp, mut xm) = (x.clone(), x.clone());
                    xp[k] += h;
                    xm[k] -= h;
                    let (fp, fm) = (log_abs(&xp), log_abs(&xm));
                    g[k] = (fp - fm) / (2.0 * h);
                    l += (fp - 2.0 * f0 + fm) / (h * h);
                }
                (g, l)
            };
            let ((g1, _), (g2, _)) = (central(1e-4), central(5e-5));
            let ((_, l1), (_, l2)) = (central(2e-3), central(1e-3));
            for k in 0..n_in {
                let fd = (4.0 * g2[k] - g1[k]) / 3.0;
                assert!(
                    (grad[k] - fd).abs() < 1e-7 * fd.abs().max(1.0),
                    "n = {n}: grad[{k}] {} vs {fd}",
                    grad[k]
                );
            }
            let fd = (4.0 * l2 - l1) / 3.0;
            assert!(
                (lap - fd).abs() < 1e-6 * fd.abs().max(1.0),
                "n = {n}: lap {lap} vs {fd}"
            );
        }
    }
}
