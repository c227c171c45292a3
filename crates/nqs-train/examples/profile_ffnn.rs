use nqs_model::{Geometry, Order, WaveFunctionConfig};
use nqs_train::{Backend, Precision, backend};
use std::time::Instant;
fn main() {
    let device = backend::device(Backend::Flex, Precision::F64).unwrap();
    let cfg: WaveFunctionConfig = toml::from_str("[[factors]]\nkind=\"slater\"\n[[factors]]\nkind=\"ffnn\"\nhidden=[16]\n[[factors]]\nkind=\"pade_jastrow\"\n").unwrap();
    let g = Geometry::balanced(6, 2);
    let psi = cfg.init(g, 1.0, 1, &device).unwrap();
    let x = burn::tensor::Tensor::<2>::random(
        [1024, 12],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &device,
    );
    for order in [Order::Value, Order::Gradient, Order::Laplacian] {
        for f in 0..3 {
            let t = Instant::now();
            for _ in 0..10 {
                let o = psi.factors[f].forward(&x, order).0;
                let _ = o.value.into_data();
            }
            println!(
                "{order:?} factor {f}: {:.2} ms",
                t.elapsed().as_secs_f64() * 100.0
            );
        }
    }
}
#[allow(dead_code)]
fn ops() {}
