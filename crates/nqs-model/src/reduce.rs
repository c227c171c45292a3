//! Row sums as products with a column of ones.
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
