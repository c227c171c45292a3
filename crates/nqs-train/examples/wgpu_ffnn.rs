use burn::tensor::{Device, DeviceKind, FloatDType};
use nqs_train::{Config, Trainer};
fn run(mut device: Device) {
    let _ = device.configure(FloatDType::F32);
    let cfg = Config::load(
        std::path::Path::new("configs/qd2d_n6_slater_ffnn.toml"),
        &["sampler.walkers=128".into(), "sampler.burn_in=100".into()],
    )
    .unwrap();
    let mut t = Trainer::new(cfg, device).unwrap();
    for _ in 0..3 {
        let r = t.train_step();
        println!(
            "{:?} finite params {}",
            r.as_ref().map(|m| m.energy),
            nqs_train::checkpoint::parameters_finite(&t.model)
        );
        let psi = t.frozen();
        let lp = nqs_train::to_host(psi.log_psi(&t.sampler.x));
        println!(
            "  log_psi finite {}  min {:?}",
            lp.iter().all(|v| v.is_finite()),
            lp.iter().cloned().fold(f64::MAX, f64::min)
        );
        let e = nqs_train::local_energy::local_energy(&psi, &t.hamiltonian, &t.sampler.x);
        let k = nqs_train::to_host(e.kinetic);
        let v = nqs_train::to_host(e.potential);
        println!(
            "  kinetic nonfinite {} potential nonfinite {}",
            k.iter().filter(|v| !v.is_finite()).count(),
            v.iter().filter(|v| !v.is_finite()).count()
        );
    }
}
fn main() {
    run(Device::flex());
    println!("----");
    run(Device::wgpu(DeviceKind::DefaultDevice));
}
