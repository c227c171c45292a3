//! The Padé–Jastrow jet as one host pass over the walkers: value, gradient and Laplacian of
//! Σ_{i<j} u(r_ij), u(r) = a r / (1 + β r), for walkers on flex f64 and untracked β (the
//! local energies, Langevin drifts).
//!
//! The same closed forms as the factor's burn ops ([`crate::factors::PadeJastrow::forward`]):
//! u′ = a/(1 + βr)², u″ = −2aβ/(1 + βr)³, ∇_i u(r_ij) = (u′/r)(x_i − x_j) = −∇_j u(r_ij) and
//! ∇_i² u(r_ij) = u″ + (d − 1) u′/r for each of the two particles. In burn ops the jet is
//! about forty ops on [W, P] tensors, each with a fixed cost that dominates at small N; here
//! it is one pass with the walker's coordinates in the cache (the tests compare the two).
//! Open space only: a periodic cell's cutoff stays with the burn ops.

use burn::tensor::{Tensor, TensorData};

use crate::{Geometry, LogPsi, Order};

/// Σ_{i<j} u(r_ij) with derivatives up to `order` for walkers `x` (`[walkers, N·d]`, flex
/// f64, not tracked) and pairs (i, j, a_ij, β_ij); `None` where `x` is not such a tensor.
pub(crate) fn pade_jet(
    x: &Tensor<2>,
    geometry: &Geometry,
    pairs: &[(usize, usize, f64, f64)],
    order: Order,
) -> Option<LogPsi> {
    if !crate::host_tanh::eligible(x) || geometry.cell.is_some() {
        return None;
    }
    let [w, n_coords] = x.dims();
    let data = x.clone().into_data();
    let xs = data.as_slice::<f64>().ok()?;
    let d = geometry.dimensions;
    let (with_grad, with_lap) = (order.gradient(), order.laplacian());
    let mut value = vec![0.0; w];
    let mut grad = vec![0.0; if with_grad { w * n_coords } else { 0 }];
    let mut lap = vec![0.0; if with_lap { w } else { 0 }];
    let mut sep = vec![0.0; d];
    for k in 0..w {
        let walker = &xs[k * n_coords..(k + 1) * n_coords];
        let (mut v, mut l) = (0.0, 0.0);
        for &(i, j, a, beta) in pairs {
            let mut r2 = 0.0;
            for (b, s) in sep.iter_mut().enumerate() {
                *s = walker[i * d + b] - walker[j * d + b];
                r2 += *s * *s;
            }
            let r = r2.sqrt();
            let denom = 1.0 + beta * r;
            v += a * r / denom;
            if with_grad {
                let du = a / (denom * denom);
                let c = du / r;
                let g = &mut grad[k * n_coords..(k + 1) * n_coords];
                for (b, &s) in sep.iter().enumerate() {
                    g[i * d + b] += c * s;
                    g[j * d + b] -= c * s;
                }
                if with_lap {
                    let d2u = -2.0 * a * beta / (denom * denom * denom);
                    l += 2.0 * (d2u + c * (d as f64 - 1.0));
                }
            }
        }
        value[k] = v;
        if with_lap {
            lap[k] = l;
        }
    }
    let device = x.device();
    Some(LogPsi {
        value: Tensor::from_data(TensorData::new(value, [w]), &device),
        grad: with_grad.then(|| Tensor::from_data(TensorData::new(grad, [w, n_coords]), &device)),
        lap: with_lap.then(|| Tensor::from_data(TensorData::new(lap, [w]), &device)),
    })
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Tensor, TensorData};

    use crate::factors::{Factor, PadeJastrowConfig};
    use crate::host_tanh::testing::{flex_f64, max_diff, ndarray_f64, values};
    use crate::{Geometry, Order};

    /// The host jet (flex) equals the factor's burn ops (ndarray) to 1e-13 for value,
    /// gradient and Laplacian at every order, 2D N = 6 and 2, 3D N = 5 (unequal β).
    #[test]
    fn host_jet_equals_the_burn_ops() {
        let mut rng = crate::ParamRng::new(23);
        let config = PadeJastrowConfig {
            beta_parallel: 0.37,
            beta_antiparallel: 1.3,
        };
        for (n, d) in [(6, 2), (5, 3), (2, 2)] {
            let geometry = Geometry::balanced(n, d);
            let w = 41;
            let x: Vec<f64> = (0..w * n * d).map(|_| 1.5 * rng.normal()).collect();
            let jet = |flex: bool, order: Order| {
                let device = if flex { flex_f64() } else { ndarray_f64() };
                let pade = config.init(geometry, 0, &device).expect("valid");
                let x = Tensor::<2>::from_data(TensorData::new(x.clone(), [w, n * d]), &device);
                let pairs = pade.host_pairs();
                let host = pairs.and_then(|p| super::pade_jet(&x, &geometry, &p, order));
                assert_eq!(host.is_some(), flex, "the host pass runs on flex only");
                Factor::Pade(pade).forward(&x, order).0
            };
            for order in [Order::Value, Order::Gradient, Order::Laplacian] {
                let (host, ops) = (jet(true, order), jet(false, order));
                let context = format!("N = {n}, d = {d}, {order:?}");
                let worst = max_diff(&values(host.value), &values(ops.value));
                assert!(worst < 1e-13, "value {worst:e}, {context}");
                if let (Some(a), Some(b)) = (host.grad, ops.grad) {
                    let worst = max_diff(&values(a), &values(b));
                    assert!(worst < 1e-13, "gradient {worst:e}, {context}");
                }
                if let (Some(a), Some(b)) = (host.lap, ops.lap) {
                    let worst = max_diff(&values(a), &values(b));
                    assert!(worst < 1e-12, "Laplacian {worst:e}, {context}");
                }
            }
        }
    }
}
