//! Slater determinant det↑ · det↓ of Hermite-function orbitals (PHYSICS.md §4).
//!
//! φ_n(x) = H_n(√(αω) x) e^{−αω x²/2}, a product over dimensions, filled shell by shell.
//! The Gaussian is common to every orbital of a row, so
//! log|ψ_S| = log|det P↑| + log|det P↓| − (αω/2) Σ_i r_i², with P_ij = Π_a H_{n_ja}(√(αω) x_ia).
//! Row i of P depends only on particle i, so the forward Laplacian of log|det P| collapses to
//! per-row terms: ∂_{ia} log|det P| = Σ_j ∂_a P_ij (P⁻¹)_ji and
//! ∇² log|det P| = Σ_{i,a} [ Σ_j ∂_a² P_ij (P⁻¹)_ji − (∂_{ia} log|det P|)² ].

use burn::module::{Module, Param};
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::slater_monomials;
use crate::derivatives::LogPsi;
use crate::dual::Dual;
use crate::{
    Geometry, LogDetCache, ModelError, Order, init::param1, log_det, row_sum, shell_quantum_numbers,
};

/// Configuration of the Slater determinant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SlaterConfig {
    /// Initial variational exponent α of the orbitals (1 is the non-interacting optimum).
    #[serde(default = "one")]
    pub alpha: f64,
}

fn one() -> f64 {
    1.0
}

impl Default for SlaterConfig {
    fn default() -> Self {
        Self { alpha: 1.0 }
    }
}

/// Slater determinant factor.
#[derive(Module, Debug)]
pub struct SlaterDeterminant {
    /// Variational exponent α, `[1]`.
    pub alpha: Param<Tensor<1>>,
    /// Trap frequency ω.
    pub omega: f64,
    #[module(skip)]
    geometry: Geometry,
    /// Quantum numbers n_ja, `[orbital][dimension]`.
    #[module(skip)]
    orbitals: Vec<Vec<usize>>,
    /// Blocks' log|det| kept by a local-energy pass for the gradient pass; shared by every
    /// copy.
    #[module(skip)]
    log_dets: LogDetCache,
}

impl SlaterConfig {
    /// Build the factor; N must fill closed shells with equal spin populations.
    pub fn init(
        &self,
        geometry: Geometry,
        omega: f64,
        device: &Device,
    ) -> Result<SlaterDeterminant, ModelError> {
        geometry.check_closed_shell()?;
        Ok(SlaterDeterminant {
            alpha: param1(&[self.alpha], device),
            omega,
            geometry,
            orbitals: shell_quantum_numbers(geometry.dimensions, geometry.n_up),
            log_dets: LogDetCache::default(),
        })
    }
}

impl SlaterDeterminant {
    /// Orbitals per spin block (N/2).
    pub fn n_orbitals(&self) -> usize {
        self.orbitals.len()
    }

    /// Quantum numbers n_ja of the orbitals, `[orbital][dimension]`.
    pub fn orbitals(&self) -> &[Vec<usize>] {
        &self.orbitals
    }

    /// The blocks that local-energy passes keep for the gradient pass of the same walkers
    /// (the trainer's step: [`LogDetCache::keep`], then [`LogDetCache::release`]).
    pub fn log_dets(&self) -> &LogDetCache {
        &self.log_dets
    }

    /// The kept blocks of every walker of `xs` (`[walkers, n_coords]` row-major) at α,
    /// where all are kept.
    fn kept(&self, alpha: f64, xs: &[f64], n_coords: usize) -> Option<crate::log_det_cache::Batch> {
        if !self.log_dets.keeping() {
            return None;
        }
        self.log_dets.batch(alpha * self.omega, xs, n_coords)
    }

    /// log|ψ_S| with derivatives, and the sign of the determinant product. Untracked walkers
    /// and α on flex f64 take the host pass ([`crate::host_slater`]).
    ///
    /// # Shapes
    /// - x: `[walkers, N·d]`
    pub fn forward(&self, x: &Tensor<2>, order: Order) -> (LogPsi, Tensor<1>) {
        let [w, _] = x.dims();
        let g = self.geometry;
        let (n, d, n_orb) = (g.n_particles, g.dimensions, g.n_up);
        let device = x.device();
        if n_orb == 1 {
            // One particle per spin in the ground orbital: det P = H_0 = 1, only the Gaussian.
            return (
                gaussian(x, self.alpha.val(), self.omega, order),
                Tensor::ones([w], &device),
            );
        }
        if let Some(host) = crate::host_slater::slater_jet(
            x,
            &g,
            self.alpha.val(),
            self.omega,
            &self.orbitals,
            order,
            &self.log_dets,
        ) {
            return host;
        }
        let degree = self.degree();
        if !order.gradient()
            && let Some(factorised) = self.factorised(x, degree)
        {
            return factorised;
        }
        let alpha_omega = self.alpha.val() * self.omega; // [1]
        let q = alpha_omega.clone().sqrt(); // √(αω), [1]
        let x_rows = x.clone().reshape([w * n, d]);
        if !order.gradient() {
            // A value pass (the gradient passes) with the walkers elsewhere than untracked
            // on flex f64, or an open shell: P = X · S in one product.
            let p = self.monomial_product(x_rows, q, degree);
            let blocks = p.reshape([2 * w, n_orb, n_orb]);
            let det = log_det(blocks, false);
            let (log_det, sign) = spin_product(det.log_abs, det.sign, w);
            let gaussian = row_sum(x.clone().square()) * (-0.5 * self.omega) * self.alpha.val();
            let value = LogPsi {
                value: log_det + gaussian,
                grad: None,
                lap: None,
            };
            return (value, sign);
        }
        // H_{n_ja}(ξ) = Σ_k c_k ξ^k with ξ = q x: for each dimension a, the powers of the
        // walkers' coordinates X_a = [1, x_a, …, x_a^K] ([w·n, K + 1], no parameter in them)
        // times the monomial coefficients scaled by q^k ([K + 1, n_orb], the only tracked
        // factor): one matrix product per dimension and derivative, whose backward is a
        // product too, instead of 2K row-broadcast ops on [w·n, n_orb] and their backward.
        let powers: Vec<Tensor<2>> = (0..d)
            .map(|a| powers(x_rows.clone().narrow(1, a, 1), degree))
            .collect();
        let q_powers = scalar_powers(q.clone(), degree); // [K + 1, 1]
        let hermite = |deriv: usize| -> Vec<Tensor<2>> {
            (0..d)
                .map(|a| {
                    let scaled = q_powers.clone() * self.coefficients(a, deriv, degree, &device);
                    powers[a].clone().matmul(scaled)
                })
                .collect()
        };
        let value_a = hermite(0);
        let product_except = |skip: usize| -> Option<Tensor<2>> {
            (0..d)
                .filter(|&b| b != skip)
                .map(|b| value_a[b].clone())
                .reduce(|p, t| p * t)
        };
        let p = value_a
            .iter()
            .cloned()
            .reduce(|acc, t| acc * t)
            .expect("d >= 1");
        // Particles are ordered up then down and n_up = n_down = n_orb, so [w·n, n_orb] is
        // already the batch of 2w square blocks (walker-major: up block, then down block).
        let blocks = |m: Tensor<2>| -> Tensor<3> { m.reshape([2 * w, n_orb, n_orb]) };
        let det = log_det(blocks(p), order.gradient());
        let (log_det, sign) = spin_product(det.log_abs.clone(), det.sign.clone(), w);
        let value = log_det + row_sum(x.clone().square()) * (-0.5 * self.omega) * self.alpha.val();

        let (grad, lap) = if let Some(inv) = det.inverse {
            let inv_t = inv.swap_dims(1, 2); // (P⁻¹)ᵀ: inv_t[i, j] = (P⁻¹)_ji
            let h1 = hermite(1);
            let h2 = order.laplacian().then(|| hermite(2));
            let trace_rows = |m: Tensor<2>| trace_rows(m, &inv_t);
            let mut grads = Vec::with_capacity(d);
            let mut lap_rows: Option<Tensor<3>> = None;
            for a in 0..d {
                let others = product_except(a);
                let times_others = |t: Tensor<2>| match &others {
                    Some(o) => t * o.clone(),
                    None => t,
                };
                let dp = times_others(h1[a].clone()) * q.clone().unsqueeze::<2>();
                let g_a = trace_rows(dp); // [2w, n_orb, 1]
                if let Some(h2) = &h2 {
                    let d2p = times_others(h2[a].clone()) * alpha_omega.clone().unsqueeze::<2>();
                    let term = trace_rows(d2p) - g_a.clone().square();
                    lap_rows = Some(match lap_rows {
                        Some(l) => l + term,
                        None => term,
                    });
                }
                grads.push(g_a);
            }
            // [2w, n_orb, d] is [w, n, d] (up particles first) → [w, n·d]
            let g = Tensor::cat(grads, 2).reshape([w, n * d]);
            let grad = g - x.clone() * alpha_omega.clone().unsqueeze::<2>();
            let lap =
                lap_rows.map(|l| row_sum(l.reshape([w, n])) - alpha_omega.clone() * (n * d) as f64);
            (Some(grad), lap)
        } else {
            (None, None)
        };
        (LogPsi { value, grad, lap }, sign)
    }

    /// log|ψ_S| of a value pass with α tracked and the walkers constants on flex f64, through
    /// det P = det X · det S (`None` where that does not hold or the walkers are elsewhere).
    ///
    /// A closed shell's orbitals span every polynomial of degree ≤ K, as many as the
    /// monomials (M = n_orb), so X (`[n_orb, M]` per block) is square and
    /// log|det P| = log|det X| + log|det S|: only the n_orb × n_orb matrix S(α) depends on α.
    /// Per walker, log|ψ_S|(α) = c + 2·log|det S(α)| − (αω/2) Σ x², with the constant
    /// c = log|det P↑| + log|det P↓| − 2·log|det S(ᾱ)| from the blocks a local-energy pass
    /// kept (or an untracked product and elimination). That function of α is evaluated in
    /// forward mode (`dual.rs`: S(α) and its elimination on dual numbers, α the variable)
    /// and handed to burn as y = f + D·(α − ᾱ): autodiff records three ops on `[walkers]`
    /// where the reverse-mode pass recorded about twenty (S, its determinant, the Gaussian),
    /// each with a fixed cost (docs/performance.md, fourteenth session).
    fn factorised(&self, x: &Tensor<2>, degree: usize) -> Option<(LogPsi, Tensor<1>)> {
        let g = self.geometry;
        let (n, d, n_orb) = (g.n_particles, g.dimensions, self.orbitals.len());
        let exponents = slater_monomials::exponents(d, degree);
        let alpha = self.alpha.val();
        if exponents.len() != n_orb
            || !alpha.is_autodiff()
            || !crate::host_tanh::on_flex_f64(&alpha)
            || !crate::host_tanh::eligible(x)
        {
            return None;
        }
        let [w, n_coords] = x.dims();
        let alpha_bar = alpha.clone().inner();
        let alpha_value = crate::host_values(alpha_bar.clone())?[0];
        let view = crate::host_tanh::HostView::new(x)?;
        let xs = view.values();
        let (log_abs, sign) = match self.kept(alpha_value, xs, n_coords) {
            Some(kept) => (kept.log_abs, kept.sign),
            None => {
                let table = slater_monomials::table(x.clone().reshape([w * n, d]), &exponents);
                let q = (alpha_bar.clone() * self.omega).sqrt();
                let s = self.monomial_coefficients(q, &exponents, degree);
                let det = log_det(table.matmul(s).reshape([2 * w, n_orb, n_orb]), false);
                (
                    crate::host_values(det.log_abs)?,
                    crate::host_values(det.sign)?,
                )
            }
        };
        let c =
            slater_monomials::coefficient_values(&exponents, &self.orbitals, hermite_coefficients);
        let log_det_s = |alpha: Dual| -> Dual {
            let q = (alpha * self.omega).sqrt();
            let s: Vec<Dual> = exponents
                .iter()
                .zip(c.chunks_exact(n_orb))
                .flat_map(|(k, row)| {
                    let q_k = (0..k.iter().sum::<usize>()).fold(Dual::constant(1.0), |p, _| p * q);
                    row.iter().map(move |&c| q_k * c)
                })
                .collect();
            crate::dual::log_abs_det(s, n_orb, Dual::ln_abs)
        };
        let at = Dual::variable(alpha_value);
        let det_s = log_det_s(at);
        let (mut f, mut tangent) = (Vec::with_capacity(w), Vec::with_capacity(w));
        for (blocks, walker) in log_abs.chunks_exact(2).zip(xs.chunks_exact(n_coords)) {
            let constant = blocks[0] + blocks[1] - 2.0 * det_s.value;
            let squares: f64 = walker.iter().map(|v| v * v).sum();
            let y = Dual::constant(constant) + det_s * 2.0 + at * (-0.5 * self.omega * squares);
            f.push(y.value);
            tangent.push(y.tangent);
        }
        let sign: Vec<f64> = sign.chunks_exact(2).map(|s| s[0] * s[1]).collect();
        let device = alpha_bar.device();
        let vector = |v: Vec<f64>| Tensor::<1>::from_data(TensorData::new(v, [w]), &device);
        let value = vector(f) + vector(tangent) * (alpha - alpha_bar);
        Some((
            LogPsi {
                value,
                grad: None,
                lap: None,
            },
            vector(sign),
        ))
    }

    /// S = diag(q^{|k|}) · C: row k holds the coefficients of x^k in every orbital column,
    /// q = √(αω) ([`slater_monomials`]).
    ///
    /// # Shapes
    /// - q: `[1]` → `[M, n_orb]`
    fn monomial_coefficients(
        &self,
        q: Tensor<1>,
        exponents: &[Vec<usize>],
        degree: usize,
    ) -> Tensor<2> {
        let device = q.device();
        // q^{|k|} for every row k, [M, 1].
        let degrees = slater_monomials::total_degrees(exponents, &device);
        let q_rows = scalar_powers(q, degree).select(0, degrees);
        let c = slater_monomials::coefficients(
            exponents,
            &self.orbitals,
            hermite_coefficients,
            &device,
        );
        q_rows * c
    }

    /// The Slater matrices P = X · S of the walkers' rows ([`slater_monomials`]), q = √(αω).
    ///
    /// # Shapes
    /// - x_rows: `[w·N, d]`, q: `[1]` → `[w·N, n_orb]`
    fn monomial_product(&self, x_rows: Tensor<2>, q: Tensor<1>, degree: usize) -> Tensor<2> {
        let exponents = slater_monomials::exponents(self.geometry.dimensions, degree);
        let table = slater_monomials::table(x_rows, &exponents);
        table.matmul(self.monomial_coefficients(q, &exponents, degree))
    }

    /// For column a·n_orb + j, the dimension a it reads: `[d·n_orb]`.
    pub(crate) fn column_dimension(&self, device: &Device) -> Tensor<1, Int> {
        let n_orb = self.orbitals.len();
        let d = self.geometry.dimensions;
        let index: Vec<i64> = (0..d * n_orb).map(|c| (c / n_orb) as i64).collect();
        Tensor::from_data(TensorData::new(index, [d * n_orb]), device)
    }

    /// The highest Hermite degree K of the orbitals.
    fn degree(&self) -> usize {
        self.orbitals.iter().flatten().copied().max().unwrap_or(0)
    }

    /// Monomial coefficients of the `deriv`-th derivative of H_{n_ja} for dimension a: entry
    /// (k, j) multiplies ξ^k in orbital column j.
    ///
    /// # Shapes
    /// → `[degree + 1, n_orb]`
    fn coefficients(&self, a: usize, deriv: usize, degree: usize, device: &Device) -> Tensor<2> {
        let n_orb = self.orbitals.len();
        let mut c = vec![0.0; (degree + 1) * n_orb];
        for (j, quanta) in self.orbitals.iter().enumerate() {
            let poly = derivative(&hermite_coefficients(quanta[a]), deriv);
            for (k, &value) in poly.iter().enumerate() {
                c[k * n_orb + j] = value;
            }
        }
        Tensor::from_data(TensorData::new(c, [degree + 1, n_orb]), device)
    }

    /// The `deriv`-th ξ-derivative of H_{n_ja}(ξ_a) in every column a·n_orb + j, by Horner's
    /// rule on the monomial coefficients.
    ///
    /// # Shapes
    /// - xi: `[rows, d·n_orb]` (ξ_a in column a·n_orb + j) → `[rows, d·n_orb]`
    pub(crate) fn hermite(&self, xi: &Tensor<2>, deriv: usize, device: &Device) -> Tensor<2> {
        let d = self.geometry.dimensions;
        let polys: Vec<Vec<f64>> = (0..d)
            .flat_map(|a| self.orbitals.iter().map(move |qn| qn[a]))
            .map(|k| derivative(&hermite_coefficients(k), deriv))
            .collect();
        horner(xi, &polys, device)
    }
}

/// [1, t, t², …, t^K] for every row of the column `t`; on the host for walkers on flex f64
/// without an autodiff graph.
///
/// # Shapes
/// - t: `[rows, 1]` → `[rows, K + 1]`
fn powers(t: Tensor<2>, degree: usize) -> Tensor<2> {
    let [rows, _] = t.dims();
    if crate::host_tanh::eligible(&t) {
        let device = t.device();
        let values = t
            .into_data()
            .try_to_vec::<f64>()
            .expect("f64 checked above");
        let mut out = vec![0.0; rows * (degree + 1)];
        for (row, &v) in out.chunks_exact_mut(degree + 1).zip(&values) {
            let mut p = 1.0;
            for o in row.iter_mut() {
                *o = p;
                p *= v;
            }
        }
        return Tensor::from_data(TensorData::new(out, [rows, degree + 1]), &device);
    }
    let mut columns = vec![Tensor::<2>::ones([rows, 1], &t.device())];
    for k in 1..=degree {
        let next = columns[k - 1].clone() * t.clone();
        columns.push(next);
    }
    Tensor::cat(columns, 1)
}

/// [1, q, q², …, q^K] of a scalar q (`[1]`) as a column, `[K + 1, 1]`.
fn scalar_powers(q: Tensor<1>, degree: usize) -> Tensor<2> {
    let mut p = vec![Tensor::<1>::ones([1], &q.device())];
    for k in 1..=degree {
        let next = p[k - 1].clone() * q.clone();
        p.push(next);
    }
    Tensor::cat(p, 0).reshape([degree + 1, 1])
}

/// Column c holds polynomial `polys[c]` (monomial coefficients) at `xi`'s column c, by
/// Horner's rule.
///
/// # Shapes
/// - xi: `[rows, cols]` (or `[rows, 1]`, broadcast) → `[rows, cols]`, cols = `polys.len()`
fn horner(xi: &Tensor<2>, polys: &[Vec<f64>], device: &Device) -> Tensor<2> {
    let degree = polys.iter().map(Vec::len).max().unwrap_or(1).max(1) - 1;
    let cols = polys.len();
    let row = |power: usize| {
        let c: Vec<f64> = polys
            .iter()
            .map(|p| p.get(power).copied().unwrap_or(0.0))
            .collect();
        Tensor::<2>::from_data(TensorData::new(c, [1, cols]), device)
    };
    let [rows, _] = xi.dims();
    let mut acc = row(degree).expand([rows, cols]);
    for power in (0..degree).rev() {
        acc = acc * xi.clone() + row(power);
    }
    acc
}

/// log|det↑| + log|det↓| and sign↑·sign↓ per walker, from the `[2w]` values of the
/// walker-major blocks (up block, then down block).
pub(crate) fn spin_product(
    log_abs: Tensor<1>,
    sign: Tensor<1>,
    w: usize,
) -> (Tensor<1>, Tensor<1>) {
    let sign = sign.reshape([w, 2]);
    (
        row_sum(log_abs.reshape([w, 2])),
        (sign.clone().narrow(1, 0, 1) * sign.narrow(1, 1, 1)).reshape([w]),
    )
}

/// Σ_j m_ij (P⁻¹)_ji for every row i of every block, `[2w, n, 1]`, given a table m of the
/// rows, `[2w·n, n]`, and the transposed inverses inv_t[i, j] = (P⁻¹)_ji, `[2w, n, n]`.
pub(crate) fn trace_rows(m: Tensor<2>, inv_t: &Tensor<3>) -> Tensor<3> {
    let [blocks, n, _] = inv_t.dims();
    row_sum((m.reshape([blocks, n, n]) * inv_t.clone()).reshape([blocks * n, n]))
        .reshape([blocks, n, 1])
}

/// The Gaussian part alone, log ψ = −(αω/2) Σ x², with gradient −αω x and Laplacian −αω N·d.
/// Everything but the final product with α stays off the parameter (one tracked op per
/// component in the gradient passes).
pub(crate) fn gaussian(x: &Tensor<2>, alpha: Tensor<1>, omega: f64, order: Order) -> LogPsi {
    let [w, n_coords] = x.dims();
    LogPsi {
        value: row_sum(x.clone().square()) * (-0.5 * omega) * alpha.clone(),
        grad: order
            .gradient()
            .then(|| x.clone() * (-omega) * alpha.clone().unsqueeze::<2>()),
        lap: order
            .laplacian()
            .then(|| (alpha * -(n_coords as f64 * omega)).expand([w])),
    }
}

/// Monomial coefficients c_0..c_n of the physicists' Hermite polynomial H_n
/// (H_{k+1} = 2ξ H_k − 2k H_{k−1}); exact integers in f64 for the shells used here.
pub(super) fn hermite_coefficients(n: usize) -> Vec<f64> {
    let (mut prev, mut cur) = (vec![1.0], vec![0.0, 2.0]);
    if n == 0 {
        return prev;
    }
    for k in 1..n {
        let mut next = vec![0.0; k + 2];
        for (i, c) in cur.iter().enumerate() {
            next[i + 1] += 2.0 * c;
        }
        for (i, c) in prev.iter().enumerate() {
            next[i] -= 2.0 * k as f64 * c;
        }
        (prev, cur) = (cur, next);
    }
    cur
}

/// Coefficients of the `order`-th derivative of a polynomial (empty → the zero polynomial).
fn derivative(coefs: &[f64], order: usize) -> Vec<f64> {
    let mut c = coefs.to_vec();
    for _ in 0..order {
        c = c
            .iter()
            .enumerate()
            .skip(1)
            .map(|(k, ck)| k as f64 * ck)
            .collect();
    }
    if c.is_empty() { vec![0.0] } else { c }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host_tanh::testing::{flex_f64, max_diff, normal, values};

    /// A Slater factor of N particles in d dimensions, ω = 1, on `device`.
    fn slater(n: usize, d: usize, alpha: f64, device: &Device) -> SlaterDeterminant {
        SlaterConfig { alpha }
            .init(Geometry::balanced(n, d), 1.0, device)
            .expect("closed shell")
    }

    /// Values log|ψ_S|, signs and ∂/∂α of Σ_w u_w log|ψ_S(x_w)| of a tracked value pass.
    fn tracked_pass(s: &SlaterDeterminant, x: &Tensor<2>, u: &[f64]) -> (Vec<f64>, Vec<f64>, f64) {
        let (log_psi, sign) = s.forward(x, Order::Value);
        let device = log_psi.value.device();
        let weights = Tensor::<1>::from_data(TensorData::new(u.to_vec(), [u.len()]), &device);
        let grads = (weights * log_psi.value.clone()).sum().backward();
        let alpha = s.alpha.val().grad(&grads).expect("α is a parameter");
        (values(log_psi.value), values(sign), values(alpha)[0])
    }

    /// The tracked value pass through det P = det X · det S (walkers on flex f64) gives the
    /// values, signs and ∂/∂α of the pass that builds and eliminates every walker's P (the
    /// walkers as autodiff constants, which the factorised pass does not take), and ∂/∂α of
    /// a central difference of untracked passes in α (h = 10⁻⁵), in closed shells in 1D, 2D
    /// and 3D.
    #[test]
    fn factorised_pass_gives_the_eliminated_value_and_gradient() {
        let mut tracked = flex_f64().autodiff();
        let _ = tracked.configure(burn::tensor::FloatDType::F64);
        for (n, d) in [(6, 1), (6, 2), (20, 2), (30, 2), (8, 3), (20, 3)] {
            let w = 23;
            let x = normal([w, n * d], 1.1, &flex_f64());
            let u: Vec<f64> = (0..w).map(|k| ((k as f64) * 0.7).sin()).collect();
            let s = slater(n, d, 0.9, &tracked);
            assert!(
                s.factorised(&x, s.degree()).is_some(),
                "N = {n}, d = {d}: taken"
            );
            let (value, sign, grad) = tracked_pass(&s, &x, &u);
            let (value_p, sign_p, grad_p) = tracked_pass(&s, &x.clone().autodiff(), &u);
            let scale = value_p.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
            let diff = max_diff(&value, &value_p) / scale;
            assert!(diff < 1e-12, "N = {n}, d = {d}: log|ψ| {diff:e}");
            assert_eq!(sign, sign_p, "N = {n}, d = {d}");
            let rel = (grad - grad_p).abs() / grad_p.abs().max(1.0);
            assert!(
                rel < 1e-10,
                "N = {n}, d = {d}: ∂/∂α {grad} against {grad_p}"
            );
            let h = 1e-5;
            let weighted = |alpha: f64| -> f64 {
                let (log_psi, _) = slater(n, d, alpha, &flex_f64()).forward(&x, Order::Value);
                values(log_psi.value)
                    .iter()
                    .zip(&u)
                    .map(|(v, u)| u * v)
                    .sum()
            };
            let central = (weighted(0.9 + h) - weighted(0.9 - h)) / (2.0 * h);
            let rel = (grad - central).abs() / central.abs().max(1.0);
            assert!(
                rel < 1e-6,
                "N = {n}, d = {d}: ∂/∂α {grad} against {central} by differences"
            );
        }
    }

    #[test]
    fn hermite_coefficients_match_the_closed_forms() {
        assert_eq!(hermite_coefficients(0), vec![1.0]);
        assert_eq!(hermite_coefficients(1), vec![0.0, 2.0]);
        assert_eq!(hermite_coefficients(2), vec![-2.0, 0.0, 4.0]);
        assert_eq!(hermite_coefficients(3), vec![0.0, -12.0, 0.0, 8.0]);
        assert_eq!(hermite_coefficients(4), vec![12.0, 0.0, -48.0, 0.0, 16.0]);
        // H_n' = 2n H_{n−1}
        assert_eq!(
            derivative(&hermite_coefficients(4), 1),
            vec![0.0, -96.0, 0.0, 64.0]
        );
        assert_eq!(derivative(&hermite_coefficients(1), 2), vec![0.0]);
    }
}
