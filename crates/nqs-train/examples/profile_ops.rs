use burn::tensor::{Distribution, Tensor};
use nqs_model::pairs::{PairIndex, Pairs, parallel_spins};
use nqs_model::{Geometry, Jet, Mlp, Order, ParamRng};
use nqs_train::{Backend, Precision, backend};
use std::time::Instant;
fn time<F: FnMut() -> Tensor<2>>(name: &str, mut f: F) {
    let _ = f().into_data();
    let t = Instant::now();
    for _ in 0..20 {
        let _ = f().into_data();
    }
    println!("{name}: {:.3} ms", t.elapsed().as_secs_f64() * 50.0);
}
fn main() {
    let device = backend::device(Backend::Flex, Precision::F64).unwrap();
    let g = Geometry::balanced(6, 2);
    let x = Tensor::<2>::random([1024, 12], Distribution::Normal(0.0, 1.0), &device);
    time("Pairs::new r2", || {
        Pairs::new(&x, &g).r2.reshape([1024, 36])
    });
    time("PairIndex::new", || {
        let _ = PairIndex::new(6, &device);
        x.clone()
    });
    let idx = PairIndex::new(6, &device);
    let pairs = Pairs::new(&x, &g);
    time("gather", || idx.gather(pairs.r2.clone()));
    let s = idx.gather(pairs.r2.clone());
    time("spin gather+expand", || {
        idx.gather(parallel_spins(&g, &device)).expand([1024, 15])
    });
    let spin = idx.gather(parallel_spins(&g, &device)).expand([1024, 15]);
    time("stack", || {
        Tensor::stack::<3>(vec![s.clone(), spin.clone()], 2).reshape([15360, 2])
    });
    let input = Tensor::stack::<3>(vec![s.clone(), spin.clone()], 2).reshape([15360, 2]);
    let mut rng = ParamRng::new(1);
    let mlp = Mlp::new(2, &[16], 0.01, &mut rng, &device);
    time("mlp value", || {
        mlp.forward(Jet::input(input.clone(), 1, Order::Value))
            .value
    });
    time("scatter", || idx.scatter(s.clone(), 6).reshape([1024, 36]));
}
