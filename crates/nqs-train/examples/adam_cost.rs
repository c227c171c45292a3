use burn::optim::AdamConfig;
use burn::tensor::{Tensor, TensorData};
use nqs_model::factors::{PadeJastrowConfig, SlaterConfig};
use nqs_model::{FactorConfig, Geometry, Order, WaveFunctionConfig};
use nqs_train::backend::{self, Backend, Precision};
use std::time::Instant;
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn main() {
    let device = backend::device(Backend::Flex, Precision::F64).unwrap();
    let ad = device.clone().autodiff();
    let mut psi = WaveFunctionConfig {
        factors: vec![
            FactorConfig::Slater(SlaterConfig { alpha: 1.0 }),
            FactorConfig::PadeJastrow(PadeJastrowConfig::default()),
        ],
    }
    .init(Geometry::balanced(2, 2), 1.0, 1, &ad)
    .unwrap();
    let w = 1024;
    let x = Tensor::<2>::random([w, 4], burn::tensor::Distribution::Normal(0., 1.), &device);
    let u: Vec<f64> = (0..w).map(|i| (i as f64).sin() * 1e-3).collect();
    let mut opt = AdamConfig::new().init();
    let reps = 3000;
    let (mut tg, mut to) = (0.0, 0.0);
    for r in 0..reps + 200 {
        let t0 = Instant::now();
        let lp = psi.forward(&x.clone().autodiff(), Order::Value);
        let uu = Tensor::<1>::from_data(TensorData::new(u.clone(), [w]), &ad);
        let grads =
            burn::optim::GradientsParams::from_grads((uu * lp.value).sum().backward(), &psi);
        let t1 = Instant::now();
        psi = opt.step(1e-4, psi, grads);
        let t2 = Instant::now();
        if r >= 200 {
            tg += (t1 - t0).as_secs_f64();
            to += (t2 - t1).as_secs_f64();
        }
    }
    println!(
        "gradient {:.1} us, adam step {:.1} us",
        tg / reps as f64 * 1e6,
        to / reps as f64 * 1e6
    );
}
