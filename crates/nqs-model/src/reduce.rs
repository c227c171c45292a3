//! Row sums as products with a column of ones, and rows broadcast as products with ones.
//!
//! On flex, `sum_dim(1)` of a `[4096, 15]` f64 tensor takes 47 µs and the product with a
//! `[15, 1]` column of ones 10.5 µs (`cargo run --release -p nqs-train --example op_costs`);
//! the value passes of the sampler sum many such rows per move.

use burn::tensor::Tensor;

/// Σ_k t[r, k] for every row r.
///
/// # Shapes
/// - t: `[rows, k]` → `[rows]`
pub fn row_sum(t: Tensor<2>) -> Tensor<1> {
    let [rows, k] = t.dims();
    let ones = Tensor::<2>::ones([k, 1], &t.device());
    t.matmul(ones).reshape([rows])
}

/// `row` (`[1, k]`) repeated over `rows` rows for a broadcast op: as the product
/// ones`[rows, 1]`·row when it is tracked, so that autodiff takes its gradient as a product
/// with ones instead of flex's `sum_dim(0)` over the rows (12–20× slower: 423 against 35 µs
/// for [7680, 16], 317 against 15 µs for [512, 190], `examples/op_costs.rs`); untracked, as
/// it is (the op broadcasts it).
///
/// # Shapes
/// - row: `[1, k]` → `[rows, k]` when tracked, `[1, k]` otherwise
pub fn rows_of(row: Tensor<2>, rows: usize) -> Tensor<2> {
    if row.is_tracked() {
        Tensor::<2>::ones([rows, 1], &row.device()).matmul(row)
    } else {
        row
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, FloatDType, TensorData};

    #[test]
    fn row_sum_adds_each_row() {
        let mut device = Device::flex();
        let _ = device.configure(FloatDType::F64);
        let t = Tensor::<2>::from_data(
            TensorData::new(vec![1.0, 2.0, 3.0, -4.0, 0.5, 0.25], [2, 3]),
            &device,
        );
        let s: Vec<f64> = row_sum(t).into_data().try_to_vec().expect("f64");
        assert_eq!(s, vec![6.0, -3.25]);
    }
}
