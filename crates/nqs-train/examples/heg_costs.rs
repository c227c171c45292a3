//! Where the time of an electron-gas local energy goes (flex f64, one thread): the Ewald
//! term against the wave function's forward Laplacian (for docs/performance.md).
//! Usage: `heg_costs [walkers] [rs]`.
use burn::tensor::{Tensor, TensorData};
use nqs_physics::ElectronGasConfig;
use nqs_physics::hamiltonian::PotentialTerm;
use nqs_train::{Backend, Precision, backend};
#[path = "shared/probe.rs"]
mod probe;
use probe::{arg, time_us as time};
#[global_allocator]
static GLOBAL: nqs_train::allocator::Hybrid = nqs_train::allocator::Hybrid;
fn main() {
    nqs_train::allocator::configure();
    let device = backend::device(Backend::Flex, Precision::F64).unwrap();
    let w = arg(1, 1024);
    let rs = arg(2, 5) as f64;
    let system = ElectronGasConfig {
        particles: 14,
        rs,
        dimensions: 3,
    };
    let g = system.geometry();
    let l = g.cell.unwrap();
    let mut rng = nqs_model::ParamRng::new(3);
    let v: Vec<f64> = (0..w * 42).map(|_| l * rng.uniform()).collect();
    let x = Tensor::<2>::from_data(TensorData::new(v, [w, 42]), &device);
    println!("W = {w}, N = 14, r_s = {rs}, f64, one thread");
    for tolerance in [1e-10, 1e-8, 1e-7] {
        let ewald = nqs_physics::hamiltonian::Ewald::new(g, l, tolerance);
        time(
            &format!(
                "Ewald potential, tolerance {tolerance:e} ({} images, {} k)",
                ewald.image_count(),
                ewald.wavevector_count()
            ),
            5,
            || {
                let _ = ewald.potential(&x).into_data();
            },
        );
    }
    for (name, factors) in [
        (
            "plane_wave_slater",
            "[[factors]]\nkind = \"plane_wave_slater\"\n",
        ),
        ("pade_jastrow", "[[factors]]\nkind = \"pade_jastrow\"\n"),
        (
            "pair_jastrow [16,16]",
            "[[factors]]\nkind = \"pair_jastrow\"\n",
        ),
        (
            "backflow (plane waves) [16,16]",
            "[[factors]]\nkind = \"backflow\"\norbitals = \"plane_waves\"\n",
        ),
    ] {
        #[derive(serde::Deserialize)]
        struct Wrapper {
            factors: Vec<nqs_model::FactorConfig>,
        }
        let wrapper: Wrapper = toml::from_str(factors).unwrap();
        let mut prng = nqs_model::ParamRng::new(1);
        let factor = wrapper.factors[0]
            .init(g, 1.0 / (rs * rs), 0, &mut prng, &device)
            .unwrap();
        let psi = nqs_model::WaveFunction::from_factors(vec![factor], g);
        time(&format!("{name}: Laplacian pass"), 5, || {
            let _ = psi
                .forward(&x, nqs_model::Order::Laplacian)
                .value
                .into_data();
        });
        time(&format!("{name}: value pass"), 5, || {
            let _ = psi.log_psi(&x).into_data();
        });
    }
}
