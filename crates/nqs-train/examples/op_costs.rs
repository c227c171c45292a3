//! Costs of single burn ops on flex f64 at VMC shapes (for docs/performance.md).
use burn::tensor::{Int, Tensor, TensorData};
use nqs_train::{Backend, Precision, backend};
use std::time::Instant;
#[path = "shared/probe.rs"]
mod probe;
use probe::{arg, time_us as time};
#[global_allocator]
static GLOBAL: nqs_train::allocator::Hybrid = nqs_train::allocator::Hybrid;
fn main() {
    nqs_train::allocator::configure();
    let device = backend::device(Backend::Flex, Precision::F64).unwrap();
    let w = arg(1, 4096);
    let p = 15;
    let a = Tensor::<2>::random(
        [w, p],
        burn::tensor::Distribution::Uniform(0.5, 1.5),
        &device,
    );
    let b = Tensor::<2>::random(
        [w, p],
        burn::tensor::Distribution::Uniform(0.5, 1.5),
        &device,
    );
    let row = Tensor::<2>::random(
        [1, p],
        burn::tensor::Distribution::Uniform(0.5, 1.5),
        &device,
    );
    let x = Tensor::<2>::random([w, 12], burn::tensor::Distribution::Normal(0., 1.), &device);
    let s = |t: Tensor<2>| {
        let _ = t.into_data();
    };
    println!("W = {w}, [W, {p}] f64 unless noted");
    // The bias gradient of a dense layer on pair rows (backflow, N = 6, 512 walkers):
    // autodiff's broadcast backward sums over rows; the same sum as a product with ones.
    let rows = Tensor::<2>::random(
        [7680, 16],
        burn::tensor::Distribution::Normal(0., 1.),
        &device,
    );
    let ones = Tensor::<2>::ones([1, 7680], &device);
    time("sum_dim(0) [7680,16]", 50, || s(rows.clone().sum_dim(0)));
    time("ones [1,7680]·[7680,16]", 50, || {
        s(ones.clone().matmul(rows.clone()))
    });
    for (r, c) in [(2048, 15), (512, 190)] {
        let t = Tensor::<2>::random([r, c], burn::tensor::Distribution::Normal(0., 1.), &device);
        let o = Tensor::<2>::ones([1, r], &device);
        time(&format!("sum_dim(0) [{r},{c}]"), 50, || {
            s(t.clone().sum_dim(0))
        });
        time(&format!("ones [1,{r}]·[{r},{c}]"), 50, || {
            s(o.clone().matmul(t.clone()))
        });
    }
    time("add", 50, || s(a.clone() + b.clone()));
    time("mul", 50, || s(a.clone() * b.clone()));
    time("div", 50, || s(a.clone() / b.clone()));
    time("mul broadcast [1,P]", 50, || s(a.clone() * row.clone()));
    time("add_scalar", 50, || s(a.clone().add_scalar(1.0)));
    time("mul_scalar", 50, || s(a.clone() * 2.0));
    time("sqrt", 50, || s(a.clone().sqrt()));
    time("square", 50, || s(a.clone().square()));
    time("powi_scalar 3", 50, || s(a.clone().powi_scalar(3)));
    time("recip", 50, || s(a.clone().recip()));
    time("exp", 50, || s(a.clone().exp()));
    time("log", 50, || s(a.clone().log()));
    time("abs", 50, || s(a.clone().abs()));
    time("sum_dim(1)", 50, || {
        let _ = a.clone().sum_dim(1).into_data();
    });
    time("clone+into_data (sync only)", 50, || s(a.clone()));
    let idx = Tensor::<1, Int>::from_data(
        TensorData::new((0..p as i64).map(|i| i % 12).collect::<Vec<_>>(), [p]),
        &device,
    );
    time("select [W,12]->[W,15]", 50, || {
        s(x.clone().select(1, idx.clone()))
    });
    let m = Tensor::<2>::random([12, p], burn::tensor::Distribution::Normal(0., 1.), &device);
    time("matmul [W,12]x[12,15]", 50, || {
        s(x.clone().matmul(m.clone()))
    });
    let m30 = Tensor::<2>::random(
        [12, 30],
        burn::tensor::Distribution::Normal(0., 1.),
        &device,
    );
    time("matmul [W,12]x[12,30]", 50, || {
        s(x.clone().matmul(m30.clone()))
    });
    let x3 = x.clone().reshape([w, 6, 2]);
    time("swap_dims(1,2)+reshape [W,6,2]", 50, || {
        s(x3.clone().swap_dims(1, 2).reshape([w, 12]))
    });
    time("narrow cols 0..6 of [W,12]", 50, || {
        s(x.clone().narrow(1, 0, 6))
    });
    time("cat two [W,6]", 50, || {
        s(Tensor::cat(
            vec![x.clone().narrow(1, 0, 6), x.clone().narrow(1, 6, 6)],
            1,
        ))
    });
    let t3 = Tensor::<3>::random(
        [2 * w, 3, 3],
        burn::tensor::Distribution::Normal(0., 1.),
        &device,
    );
    let s3 = |t: Tensor<3>| {
        let _ = t.into_data();
    };
    time("mul [2W,3,3]", 50, || s3(t3.clone() * t3.clone()));
    time("narrow [2W,3,3] col k", 50, || {
        s3(t3.clone().narrow(2, 1, 1))
    });
    time("batched matmul [2W,1,3]x[2W,3,3]", 50, || {
        s3(t3.clone().narrow(1, 0, 1).matmul(t3.clone()))
    });
    time("mask_where", 50, || {
        s(a.clone()
            .mask_where(a.clone().greater(b.clone()), b.clone()))
    });
    time("greater+float", 50, || {
        s(a.clone().greater(b.clone()).float())
    });
    time("argmax(1)", 50, || {
        let _ = a.clone().argmax(1).into_data();
    });
    let host: Vec<f64> = vec![0.5; w * p];
    time("from_data [W,15]", 50, || {
        s(Tensor::<2>::from_data(
            TensorData::new(host.clone(), [w, p]),
            &device,
        ))
    });
    time("random Normal [W,12]", 50, || {
        s(Tensor::<2>::random(
            [w, 12],
            burn::tensor::Distribution::Normal(0., 1.),
            &device,
        ))
    });
    println!("-- reductions and gathers of the N = 6 value pass");
    let diff3 = Tensor::<3>::random(
        [w, 15, 2],
        burn::tensor::Distribution::Normal(0., 1.),
        &device,
    );
    time("sum_dim(2) [W,15,2]", 50, || s3(diff3.clone().sum_dim(2)));
    time("narrow+add instead [W,15,2]", 50, || {
        s3(diff3.clone().narrow(2, 0, 1) + diff3.clone().narrow(2, 1, 1))
    });
    let flat30 = Tensor::<2>::random([w, 30], burn::tensor::Distribution::Normal(0., 1.), &device);
    time("narrow+add halves [W,30]", 50, || {
        s(flat30.clone().narrow(1, 0, 15) + flat30.clone().narrow(1, 15, 15))
    });
    time("sum_dim(1) [W,12]", 50, || s(x.clone().sum_dim(1)));
    let idx30 = Tensor::<1, Int>::from_data(
        TensorData::new((0..30i64).map(|i| i % 12).collect::<Vec<_>>(), [30]),
        &device,
    );
    time("select [W,12]->[W,30]", 50, || {
        s(x.clone().select(1, idx30.clone()))
    });
    let dmat = Tensor::<2>::random(
        [12, 30],
        burn::tensor::Distribution::Normal(0., 1.),
        &device,
    );
    time("matmul [W,12]x[12,30] (diff by ±1 matrix)", 50, || {
        s(x.clone().matmul(dmat.clone()))
    });
    let h = Tensor::<2>::random(
        [6 * w, 4],
        burn::tensor::Distribution::Normal(0., 1.),
        &device,
    );
    let idx3 = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1, 0], [3]), &device);
    time("select [6W,4]->[6W,3]", 50, || {
        s(h.clone().select(1, idx3.clone()))
    });
    let hm = Tensor::<2>::random([4, 3], burn::tensor::Distribution::Normal(0., 1.), &device);
    time("matmul [6W,4]x[4,3]", 50, || {
        s(h.clone().matmul(hm.clone()))
    });
    let c9 = Tensor::<2>::random(
        [2 * w, 9],
        burn::tensor::Distribution::Normal(0., 1.),
        &device,
    );
    time("select [2W,9]->[2W,3]", 50, || {
        s(c9.clone().select(1, idx3.clone()))
    });
    let c9t = c9.clone().transpose();
    time("select rows [9,2W]->[3,2W] (feature-major)", 50, || {
        s(c9t.clone().select(0, idx3.clone()))
    });
    let hs = vec![h.clone().narrow(1, 0, 2), h.clone().narrow(1, 2, 2)];
    time("stack two [6W,2] on dim 2", 50, || {
        s3(Tensor::stack::<3>(hs.clone(), 2))
    });
    time("cat two [6W,2] on dim 1", 50, || {
        s(Tensor::cat(hs.clone(), 1))
    });
    let ones15 = Tensor::<2>::ones([15, 1], &device);
    time("sum_dim(1) [W,15]", 50, || s(a.clone().sum_dim(1)));
    time("matmul ones [W,15]x[15,1]", 50, || {
        s(a.clone().matmul(ones15.clone()))
    });
    let xi = Tensor::<3>::random(
        [6 * w, 2, 1],
        burn::tensor::Distribution::Normal(0., 1.),
        &device,
    );
    let crow = Tensor::<3>::random(
        [1, 2, 3],
        burn::tensor::Distribution::Normal(0., 1.),
        &device,
    );
    time("broadcast [6W,2,1]*[1,2,3]", 50, || {
        s3(xi.clone() * crow.clone())
    });
    time("Horner step: acc*xi + c", 50, || {
        s3((xi.clone() * crow.clone()) * xi.clone() + crow.clone())
    });
    let h3 = xi.clone() * crow.clone();
    time("narrow(1,a)+reshape [6W,3] product", 50, || {
        s(h3.clone().narrow(1, 0, 1).reshape([6 * w, 3])
            * h3.clone().narrow(1, 1, 1).reshape([6 * w, 3]))
    });
    println!("-- first layer of the pair network, [15W, 2] -> 16");
    let inp = Tensor::<2>::random(
        [15 * w, 2],
        burn::tensor::Distribution::Normal(0., 1.),
        &device,
    );
    let w2 = Tensor::<2>::random([2, 16], burn::tensor::Distribution::Normal(0., 1.), &device);
    time("GEMM [15W,2]x[2,16]", 20, || {
        s(inp.clone().matmul(w2.clone()))
    });
    time("two column-broadcast multiply-adds", 20, || {
        s(inp.clone().narrow(1, 0, 1) * w2.clone().narrow(0, 0, 1)
            + inp.clone().narrow(1, 1, 1) * w2.clone().narrow(0, 1, 1))
    });
    let h16 = Tensor::<2>::random(
        [15 * w, 16],
        burn::tensor::Distribution::Normal(0., 1.),
        &device,
    );
    time("sigmoid [15W,16]", 20, || {
        s(burn::tensor::activation::sigmoid(h16.clone()))
    });
    time("exp [15W,16]", 20, || s(h16.clone().exp()));
    time("tanh [15W,16]", 20, || s(h16.clone().tanh()));
    let jet_tanh = |v: Tensor<2>| {
        nqs_model::Jet {
            value: v,
            grad: None,
            lap: None,
        }
        .tanh()
        .value
    };
    time("nqs tanh (host pass) [15W,16], input shared", 20, || {
        s(jet_tanh(h16.clone()))
    });
    time("scalar add [15W,16] (for scale)", 20, || {
        s(h16.clone().add_scalar(1.0))
    });
    time(
        "scalar add, then into_data + from_data [15W,16]",
        20,
        || {
            let mut d = h16.clone().add_scalar(1.0).into_data();
            d.as_mut_slice::<f64>().unwrap()[0] = 1.0;
            s(Tensor::<2>::from_data(d, &device))
        },
    );
    time("scalar add, then nqs tanh [15W,16]", 20, || {
        s(jet_tanh(h16.clone().add_scalar(1.0)))
    });
    println!("-- batch-last layout [6, 6, 2W] against batch-first [2W, 6, 6]");
    let bl = Tensor::<3>::random(
        [6, 6, 2 * w],
        burn::tensor::Distribution::Normal(0., 1.),
        &device,
    );
    let bf = Tensor::<3>::random(
        [2 * w, 6, 6],
        burn::tensor::Distribution::Normal(0., 1.),
        &device,
    );
    time("outer batch-last [5,1,B]*[1,5,B]", 50, || {
        s3(bl.clone().narrow(0, 0, 5).narrow(1, 0, 1) * bl.clone().narrow(0, 0, 1).narrow(1, 0, 5))
    });
    time("outer batch-first [B,5,1]*[B,1,5]", 50, || {
        s3(bf.clone().narrow(1, 0, 5).narrow(2, 0, 1) * bf.clone().narrow(1, 0, 1).narrow(2, 0, 5))
    });
    time("sum_dim(0) [6,6,B]", 50, || s3(bl.clone().sum_dim(0)));
    time("argmax(0) [6,B]", 50, || {
        let _ = bl
            .clone()
            .narrow(1, 0, 1)
            .reshape([6, 2 * w])
            .argmax(0)
            .into_data();
    });
    time(
        "row pick batch-last: mul [6,1,B]*[6,6,B] + sum_dim(0)",
        50,
        || s3((bl.clone().narrow(1, 0, 1) * bl.clone()).sum_dim(0)),
    );
    time("sub [6,6,B]", 50, || s3(bl.clone() - bl.clone()));
    time("permute [B,6,6] -> [6,6,B] contiguous", 50, || {
        s3(bf.clone().permute([1, 2, 0]) * 1.0)
    });
    // One Gauss–Jordan round on [2W, 6, 12] (N = 12 spin blocks with [A | I]).
    let (b, n, wd) = (2 * w, 6, 12);
    let m = Tensor::<3>::random(
        [b, n, wd],
        burn::tensor::Distribution::Normal(0., 1.),
        &device,
    );
    let col = m.clone().narrow(2, 1, 1).reshape([b, n]);
    let avail = Tensor::<2>::ones([b, n], &device);
    let rows: Tensor<2, Int> = Tensor::<1, Int>::arange(0..n as i64, &device)
        .unsqueeze::<2>()
        .expand([b, n]);
    let p = col.clone().argmax(1);
    let onehot = rows.clone().equal(p.clone().expand([b, n])).float();
    let row = m.clone().narrow(1, 0, 1);
    println!("-- GJ round pieces, [2W, 6, 12]");
    time("narrow col + reshape [B,n]", 50, || {
        s(m.clone().narrow(2, 1, 1).reshape([b, n]))
    });
    time("abs*avail [B,n]", 50, || {
        s(col.clone().abs() * avail.clone())
    });
    time("argmax(1) [B,n]", 50, || {
        let _ = col.clone().argmax(1).into_data();
    });
    time("equal(expand)+float [B,n]", 50, || {
        s(rows.clone().equal(p.clone().expand([b, n])).float())
    });
    time("gather row [B,1,w]", 50, || {
        s3(m.clone()
            .gather(1, p.clone().unsqueeze_dim::<3>(2).expand([b, 1, wd])))
    });
    time("onehot matmul row [B,1,n]x[B,n,w]", 50, || {
        s3(onehot.clone().unsqueeze_dim::<3>(1).matmul(m.clone()))
    });
    time("mul+sum_dim(1) row", 50, || {
        s3((m.clone() * onehot.clone().unsqueeze_dim::<3>(2)).sum_dim(1))
    });
    time("outer [B,n,1]*[B,1,w]", 50, || {
        s3(col.clone().unsqueeze_dim::<3>(2) * row.clone())
    });
    time("sub [B,n,w]", 50, || s3(m.clone() - m.clone()));
    time("m - outer (fused expr)", 50, || {
        s3(m.clone() - col.clone().unsqueeze_dim::<3>(2) * row.clone())
    });
    time("row / pivot [B,1,w]/[B,1,1]", 50, || {
        s3(row.clone() / row.clone().narrow(2, 0, 1))
    });
    let big = Tensor::<2>::random(
        [w * 6, 16],
        burn::tensor::Distribution::Normal(0., 1.),
        &device,
    );
    let w16 = Tensor::<2>::random(
        [16, 16],
        burn::tensor::Distribution::Normal(0., 1.),
        &device,
    );
    time("matmul [6W,16]x[16,16]", 20, || {
        s(big.clone().matmul(w16.clone()))
    });
    let sq = Tensor::<2>::random(
        [256, 256],
        burn::tensor::Distribution::Normal(0., 1.),
        &device,
    );
    let t = Instant::now();
    for _ in 0..20 {
        s(sq.clone().matmul(sq.clone()));
    }
    let dt = t.elapsed().as_secs_f64() / 20.0;
    println!(
        "matmul 256^3: {:.1} µs = {:.2} GFLOP/s",
        dt * 1e6,
        2.0 * 256f64.powi(3) / dt / 1e9
    );
    let sq = Tensor::<2>::random(
        [1024, 1024],
        burn::tensor::Distribution::Normal(0., 1.),
        &device,
    );
    let t = Instant::now();
    for _ in 0..5 {
        s(sq.clone().matmul(sq.clone()));
    }
    let dt = t.elapsed().as_secs_f64() / 5.0;
    println!(
        "matmul 1024^3: {:.1} ms = {:.2} GFLOP/s",
        dt * 1e3,
        2.0 * 1024f64.powi(3) / dt / 1e9
    );
}
