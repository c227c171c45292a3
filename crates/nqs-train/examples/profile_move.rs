//! Times the pieces of one Metropolis move (for docs/performance.md).
use burn::tensor::Tensor;
use nqs_model::{Geometry, Order, WaveFunctionConfig};
use nqs_sampler::Noise;
use nqs_train::{Backend, Precision, backend};
use rand::SeedableRng;
use std::time::Instant;
#[path = "shared/probe.rs"]
mod probe;
use probe::arg;
#[global_allocator]
static GLOBAL: nqs_train::allocator::Hybrid = nqs_train::allocator::Hybrid;
fn time<T>(name: &str, reps: usize, mut f: impl FnMut() -> T, sync: impl Fn(T)) {
    sync(f());
    let t = Instant::now();
    for _ in 0..reps {
        sync(f());
    }
    println!(
        "{name:40} {:8.3} ms",
        t.elapsed().as_secs_f64() * 1e3 / reps as f64
    );
}
fn main() {
    nqs_train::allocator::configure();
    let device = backend::device(Backend::Flex, Precision::F64).unwrap();
    let w = arg(1, 4096);
    let n = arg(2, 6);
    let cfg: WaveFunctionConfig =
        toml::from_str("[[factors]]\nkind=\"slater\"\n[[factors]]\nkind=\"pade_jastrow\"\n")
            .unwrap();
    let g = Geometry::balanced(n, 2);
    let psi = cfg.init(g, 1.0, 1, &device).unwrap();
    let x = Tensor::<2>::random(
        [w, 2 * n],
        burn::tensor::Distribution::Normal(0.0, 1.5),
        &device,
    );
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let s1 = |t: Tensor<1>| {
        let _ = t.into_data();
    };
    let s2 = |t: Tensor<2>| {
        let _ = t.into_data();
    };
    println!("W = {w}, N = {n}");
    time(
        "host normals + upload [W, 2N]",
        20,
        || rng.normal(w, 2 * n, &device),
        s2,
    );
    let host_pass = |factors: &str| {
        let cfg: WaveFunctionConfig = toml::from_str(factors).unwrap();
        let psi = cfg.init(g.clone(), 1.0, 1, &device).unwrap();
        nqs_model::HostLogPsi::new(&psi).expect("a host pass")
    };
    let xs = x.clone().into_data().try_to_vec::<f64>().unwrap();
    let mut out = vec![0.0; w];
    for (name, factors) in [
        ("host pass: slater", "[[factors]]\nkind=\"slater\"\n"),
        (
            "host pass: slater + pade",
            "[[factors]]\nkind=\"slater\"\n[[factors]]\nkind=\"pade_jastrow\"\n",
        ),
    ] {
        let host = host_pass(factors);
        time(name, 20, || host.log_psi(&xs, &mut out), |_| ());
    }
    time(
        "slater log|psi|",
        20,
        || psi.factors[0].forward(&x, Order::Value).0.value,
        s1,
    );
    time(
        "pade log|psi|",
        20,
        || psi.factors[1].forward(&x, Order::Value).0.value,
        s1,
    );
    time("log|psi| (product)", 20, || psi.log_psi(&x), s1);
    time(
        "slater laplacian",
        10,
        || psi.factors[0].forward(&x, Order::Laplacian).0.value,
        s1,
    );
    let caches = psi.log_det_caches();
    for cache in &caches {
        cache.keep(w);
    }
    time(
        "slater laplacian, blocks kept",
        10,
        || psi.factors[0].forward(&x, Order::Laplacian).0.value,
        s1,
    );
    for cache in &caches {
        cache.release();
    }
    time(
        "pade laplacian",
        10,
        || psi.factors[1].forward(&x, Order::Laplacian).0.value,
        s1,
    );
    time(
        "Pairs::new (constants built and uploaded)",
        20,
        || nqs_model::pairs::Pairs::new(&x, &g).r2,
        s2,
    );
    let d_matrix = Tensor::<2>::random(
        [2 * n, n * (n - 1)],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &device,
    );
    time(
        "  of which the product x·D alone",
        20,
        || x.clone().matmul(d_matrix.clone()),
        s2,
    );
    let a = Tensor::<3>::random(
        [2 * w, n / 2, n / 2],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &device,
    );
    time(
        "log_det [2W, n, n]",
        20,
        || nqs_model::log_det(a.clone(), false).log_abs,
        s1,
    );
    time(
        "log_det with inverse",
        20,
        || nqs_model::log_det(a.clone(), true).log_abs,
        s1,
    );
    let chunk = Tensor::<3>::random(
        [2 * 188.min(w), n / 2, n / 2],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &device,
    );
    for want_inverse in [false, true] {
        time(
            &format!("log_det of 2 x 188 walkers, inverse {want_inverse}"),
            200,
            || nqs_model::log_det(chunk.clone(), want_inverse).log_abs,
            s1,
        );
    }
    let lp = psi.log_psi(&x);
    time(
        "accept + blend",
        20,
        || {
            let u = Tensor::<1>::random([w], burn::tensor::Distribution::Default, &device).log();
            let acc = u.lower(lp.clone() * 2.0).float();
            let rej = acc.clone().neg().add_scalar(1.0);
            x.clone() * acc.unsqueeze_dim::<2>(1) + x.clone() * rej.unsqueeze_dim::<2>(1)
        },
        s2,
    );
}
