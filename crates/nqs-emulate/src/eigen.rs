//! Eigenpairs of real symmetric matrices (nalgebra's symmetric QR algorithm), ascending.

use nalgebra::{DMatrix, SymmetricEigen};

/// Eigenvalues ascending and the matching unit eigenvectors (`vectors[k]`, length n) of the
/// symmetric n × n row-major `matrix`.
pub fn symmetric_eigen(matrix: &[f64], n: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
    let m = DMatrix::from_row_slice(n, n, matrix);
    let eig = SymmetricEigen::new(m);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| eig.eigenvalues[a].total_cmp(&eig.eigenvalues[b]));
    let values = order.iter().map(|&k| eig.eigenvalues[k]).collect();
    let vectors = order
        .iter()
        .map(|&k| eig.eigenvectors.column(k).iter().copied().collect())
        .collect();
    (values, vectors)
}

/// Solve the symmetric positive (semi-)definite system A x = b in the least-squares sense
/// (SVD with small singular values cut at `1e-14` of the largest).
pub fn solve_least_squares(a: &[f64], rows: usize, cols: usize, b: &[f64]) -> Vec<f64> {
    let m = DMatrix::from_row_slice(rows, cols, a);
    let rhs = nalgebra::DVector::from_column_slice(b);
    let svd = m.svd(true, true);
    let cut = svd.singular_values.max() * 1e-14;
    svd.solve(&rhs, cut)
        .map(|x| x.iter().copied().collect())
        .unwrap_or_else(|_| vec![0.0; cols])
}
