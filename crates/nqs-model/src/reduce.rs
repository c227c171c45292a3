//! Row sums as products with a column of ones, and rows broadcast as products with ones.
//!
//! On flex, `sum_dim(1)` of a `[4096, 15]` f64 tensor takes 47 µs and the product with a
//! `[15, 1]` column of ones 10.5 µs (`cargo run --release -p nqs-train --example op_costs`);
//! the value passes of the sampler sum many such rows per move. Sums over a middle axis
//! (particles or pairs of `[W, n, k]` features) are a host loop where the tensor allows one.

use burn::tensor::{Tensor, TensorData};

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

/// Σ_j t[r, j, k] for every r and k: on the host for a flex f64 tensor without an autodiff
/// graph (contiguous rows added in order of j), `sum_dim(1)` otherwise (flex's reduction over
/// a middle axis walks the strides element by element).
///
/// # Shapes
/// - t: `[rows, m, k]` → `[rows, k]`
pub fn sum_middle(t: Tensor<3>) -> Tensor<2> {
    let [rows, m, k] = t.dims();
    if crate::host_tanh::eligible(&t) {
        let device = t.device();
        let values = t.into_data();
        let values = values.as_slice::<f64>().expect("f64 checked above");
        let mut out = vec![0.0; rows * k];
        for (o, block) in out.chunks_exact_mut(k).zip(values.chunks_exact(m * k)) {
            for row in block.chunks_exact(k) {
                for (a, v) in o.iter_mut().zip(row) {
                    *a += v;
                }
            }
        }
        return Tensor::from_data(TensorData::new(out, [rows, k]), &device);
    }
    t.sum_dim(1).reshape([rows, k])
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

    #[test]
    fn middle_sums_agree_on_the_host_and_in_burn_ops() {
        let mut device = Device::flex();
        let _ = device.configure(FloatDType::F64);
        let values: Vec<f64> = (0..2 * 3 * 4).map(|v| (v as f64 * 0.37).sin()).collect();
        let t = Tensor::<3>::from_data(TensorData::new(values.clone(), [2, 3, 4]), &device);
        let host: Vec<f64> = sum_middle(t.clone()).into_data().try_to_vec().expect("f64");
        let ops: Vec<f64> = sum_middle(t.autodiff())
            .inner()
            .into_data()
            .try_to_vec()
            .expect("f64");
        let direct: Vec<f64> = (0..2)
            .flat_map(|r| {
                let values = &values;
                (0..4).map(move |c| (0..3).map(|j| values[r * 12 + j * 4 + c]).sum::<f64>())
            })
            .collect();
        assert_eq!(host, direct);
        for (o, d) in ops.iter().zip(&direct) {
            assert!((o - d).abs() < 1e-15, "{o} against {d}");
        }
    }
}
