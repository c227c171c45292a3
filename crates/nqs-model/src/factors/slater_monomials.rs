//! The Slater matrix of a value pass as one matrix product, P = X · S.
//!
//! Every orbital is a product of Hermite polynomials, Π_a H_{n_ja}(q x_ia) with q = √(αω),
//! and H_n(ξ) = Σ_k c_nk ξ^k, so
//! P_ij = Σ_k X_ik S_kj with X_ik = Π_a x_ia^{k_a} and S_kj = q^{|k|} Π_a c_{n_ja, k_a},
//! summed over the exponent vectors k with total degree |k| ≤ K (the highest shell; no
//! orbital has a term beyond it). X holds only the walkers' coordinates; S, `[M, n]` with
//! M = C(K + d, d) rows, is the only tracked factor. A gradient pass then records one product
//! and replays its transpose, instead of one product per dimension, their elementwise
//! product and the backward of both (`docs/performance.md`, "The Slater value as one
//! product").

use burn::tensor::{Device, Int, Tensor, TensorData};

/// The exponent vectors k ∈ ℕ^d with |k| ≤ `degree`, by total degree then lexicographically.
pub(crate) fn exponents(d: usize, degree: usize) -> Vec<Vec<usize>> {
    let mut all = vec![vec![]];
    for _ in 0..d {
        all = all
            .into_iter()
            .flat_map(|k: Vec<usize>| {
                let used: usize = k.iter().sum();
                (0..=degree - used).map(move |e| {
                    let mut next = k.clone();
                    next.push(e);
                    next
                })
            })
            .collect();
    }
    all.sort_by_key(|k| (k.iter().sum::<usize>(), std::cmp::Reverse(k.clone())));
    all
}

/// How each column of X after the first is built: X_k = X_{k − e_a} x_a with a the last axis
/// where k_a > 0, as (the column of k − e_a, a). One product per entry, the same on the host
/// and in burn ops, so both give the same bits.
fn steps(exponents: &[Vec<usize>]) -> Vec<(usize, usize)> {
    exponents[1..]
        .iter()
        .map(|k| {
            let a = k
                .iter()
                .rposition(|&e| e > 0)
                .expect("|k| > 0 after the first");
            let mut parent = k.clone();
            parent[a] -= 1;
            let from = exponents.iter().position(|p| *p == parent);
            (from.expect("graded order lists the parent first"), a)
        })
        .collect()
}

/// X_ik = Π_a x_ia^{k_a} for every row i and exponent vector k: on the host for walkers on
/// flex f64 without an autodiff graph, in burn ops otherwise.
///
/// # Shapes
/// - x_rows: `[rows, d]` → `[rows, M]`, M = `exponents.len()`
pub(crate) fn table(x_rows: Tensor<2>, exponents: &[Vec<usize>]) -> Tensor<2> {
    let [rows, d] = x_rows.dims();
    let m = exponents.len();
    let device = x_rows.device();
    let steps = steps(exponents);
    if let Some(x) = crate::host_tanh::host_values(x_rows.clone()) {
        let mut out = vec![0.0; rows * m];
        for (row, coords) in out.chunks_exact_mut(m).zip(x.chunks_exact(d)) {
            row[0] = 1.0;
            for (j, &(from, a)) in steps.iter().enumerate() {
                row[j + 1] = row[from] * coords[a];
            }
        }
        return Tensor::from_data(TensorData::new(out, [rows, m]), &device);
    }
    let mut columns = vec![Tensor::<2>::ones([rows, 1], &device)];
    for &(from, a) in &steps {
        let next = columns[from].clone() * x_rows.clone().narrow(1, a, 1);
        columns.push(next);
    }
    Tensor::cat(columns, 1)
}

/// Π_a c_{n_ja, k_a}, the coefficient of x^k in orbital j without the factor q^{|k|}.
///
/// # Shapes
/// → `[M, n_orb]`
pub(crate) fn coefficients(
    exponents: &[Vec<usize>],
    orbitals: &[Vec<usize>],
    hermite: impl Fn(usize) -> Vec<f64>,
    device: &Device,
) -> Tensor<2> {
    let c = coefficient_values(exponents, orbitals, hermite);
    Tensor::from_data(
        TensorData::new(c, [exponents.len(), orbitals.len()]),
        device,
    )
}

/// [`coefficients`] on the host, `[M, n_orb]` row-major.
pub(crate) fn coefficient_values(
    exponents: &[Vec<usize>],
    orbitals: &[Vec<usize>],
    hermite: impl Fn(usize) -> Vec<f64>,
) -> Vec<f64> {
    let n_orb = orbitals.len();
    // Each H_n's coefficients once, not once per entry.
    let highest = orbitals.iter().flatten().copied().max().unwrap_or(0);
    let polys: Vec<Vec<f64>> = (0..=highest).map(hermite).collect();
    let mut c = vec![0.0; exponents.len() * n_orb];
    for (row, k) in c.chunks_exact_mut(n_orb).zip(exponents) {
        for (entry, quanta) in row.iter_mut().zip(orbitals) {
            *entry = k
                .iter()
                .zip(quanta)
                .map(|(&e, &n)| polys[n].get(e).copied().unwrap_or(0.0))
                .product();
        }
    }
    c
}

/// The total degree |k| of every exponent vector, to pick q^{|k|} from [1, q, …, q^K].
///
/// # Shapes
/// → `[M]`
pub(crate) fn total_degrees(exponents: &[Vec<usize>], device: &Device) -> Tensor<1, Int> {
    let degrees: Vec<i64> = exponents
        .iter()
        .map(|k| k.iter().sum::<usize>() as i64)
        .collect();
    Tensor::from_data(TensorData::new(degrees, [exponents.len()]), device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host_tanh::testing::{flex_f64, normal, values};
    use crate::shell_quantum_numbers;

    /// H_n(ξ) by the recurrence H_{k+1} = 2ξ H_k − 2k H_{k−1}.
    fn hermite_by_recurrence(n: usize, xi: f64) -> f64 {
        let (mut prev, mut cur) = (1.0, 2.0 * xi);
        if n == 0 {
            return prev;
        }
        for k in 1..n {
            (prev, cur) = (cur, 2.0 * xi * cur - 2.0 * k as f64 * prev);
        }
        cur
    }

    /// X · S at q equals Π_a H_{n_ja}(q x_ia) for the closed shells of 2D N = 30 (degree 4)
    /// and 3D N = 40 (degree 3), and the host table equals the burn-op table (tracked rows).
    #[test]
    fn monomial_product_equals_the_hermite_products() {
        let device = flex_f64();
        for (d, n_up) in [(2, 15), (3, 20)] {
            let orbitals = shell_quantum_numbers(d, n_up);
            let degree = orbitals.iter().flatten().copied().max().unwrap();
            let k = exponents(d, degree);
            let rows = 37;
            let x = normal([rows, d], 1.3, &device);
            let q = 0.8_f64;
            let host = table(x.clone(), &k);
            let ops = table(x.clone().autodiff(), &k);
            let (host_v, ops_v) = (values(host.clone()), values(ops));
            assert_eq!(host_v, ops_v, "host table against burn ops, d = {d}");
            let q_rows: Vec<f64> = k
                .iter()
                .map(|e| q.powi(e.iter().sum::<usize>() as i32))
                .collect();
            let c = coefficients(
                &k,
                &orbitals,
                super::super::slater::hermite_coefficients,
                &device,
            );
            let s = Tensor::<2>::from_data(TensorData::new(q_rows, [k.len(), 1]), &device) * c;
            let p = values(host.matmul(s));
            let xs = values(x);
            for i in 0..rows {
                for (j, quanta) in orbitals.iter().enumerate() {
                    let expected: f64 = quanta
                        .iter()
                        .enumerate()
                        .map(|(a, &n)| hermite_by_recurrence(n, q * xs[i * d + a]))
                        .product();
                    let got = p[i * n_up + j];
                    assert!(
                        (got - expected).abs() <= 1e-12 * (1.0 + expected.abs()),
                        "d = {d}, row {i}, orbital {j}: {got} against {expected}"
                    );
                }
            }
        }
    }

    #[test]
    fn exponents_are_every_vector_up_to_the_degree_once() {
        assert_eq!(
            exponents(2, 2),
            vec![
                vec![0, 0],
                vec![1, 0],
                vec![0, 1],
                vec![2, 0],
                vec![1, 1],
                vec![0, 2]
            ]
        );
        // C(K + d, d) of them.
        assert_eq!(exponents(2, 4).len(), 15);
        assert_eq!(exponents(3, 3).len(), 20);
        assert_eq!(exponents(1, 5).len(), 6);
    }
}
