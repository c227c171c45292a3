//! The same code path on every backend: short trainings of the shipped configs on wgpu
//! (Mesa's software Vulkan in CI) agree with the same runs on flex f32, and f64 on wgpu is
//! refused. Runs go through the real binary, since a process can configure a backend's
//! float type only once.

use std::path::{Path, PathBuf};
use std::process::Command;

fn config(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../configs/{name}.toml"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nqs-backends-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Train `name` briefly on `backend` in f32 and return (energy, error).
fn short_run(name: &str, backend: &str) -> (f64, f64) {
    run_with(name, backend, "f32", &[])
}

/// Train `name` briefly on `backend` with `precision` and return (energy, error).
fn run_with(name: &str, backend: &str, precision: &str, extra: &[&str]) -> (f64, f64) {
    let out = scratch(&format!("{name}-{backend}-{precision}"));
    let o = Command::new(env!("CARGO_BIN_EXE_nqs-train"))
        .arg("--config")
        .arg(config(name))
        .arg("--out")
        .arg(&out)
        .args(["--backend", backend, "--precision", precision])
        .args([
            "--set",
            "sampler.walkers=128",
            "--set",
            "sampler.burn_in=100",
            // One walker block, as on the GPU, so that both backends follow the same chain.
            "--set",
            "sampler.threads=1",
        ])
        .args([
            "--set",
            "run.steps=15",
            "--set",
            "eval.samples_per_walker=60",
        ])
        .args(extra)
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .expect("run nqs-train");
    assert!(
        o.status.success(),
        "{name} on {backend}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["backend"], backend);
    assert_eq!(summary["precision"], precision);
    std::fs::remove_dir_all(&out).unwrap();
    (
        summary["energy"].as_f64().unwrap(),
        summary["energy_error"].as_f64().unwrap(),
    )
}

fn agree(name: &str) {
    let (e_gpu, s_gpu) = short_run(name, "wgpu");
    let (e_cpu, s_cpu) = short_run(name, "flex");
    let sigma = (s_gpu * s_gpu + s_cpu * s_cpu).sqrt();
    eprintln!("{name}: wgpu {e_gpu} ± {s_gpu}, flex f32 {e_cpu} ± {s_cpu}");
    assert!(
        (e_gpu - e_cpu).abs() < 3.0 * sigma,
        "{name}: wgpu {e_gpu} ± {s_gpu} vs flex f32 {e_cpu} ± {s_cpu}"
    );
}

#[test]
fn wgpu_matches_flex_f32_two_electrons() {
    agree("qd2d_n2_sj");
    agree("qd2d_n2_rbm");
    agree("qd2d_n2_ffnn");
}

#[test]
fn wgpu_matches_flex_f32_six_electrons() {
    agree("qd2d_n6_sj");
    agree("qd2d_n6_slater_rbm");
    agree("qd2d_n6_slater_ffnn");
}

#[test]
fn wgpu_matches_flex_f32_larger_dots() {
    agree("qd3d_n8_sj");
    agree("qd2d_n12_sj");
}

/// The older CPU backend runs the same code path in f64.
#[test]
fn ndarray_matches_flex_in_f64() {
    let (e_nd, s_nd) = run_with("qd2d_n6_sj", "ndarray", "f64", &[]);
    let (e_fl, s_fl) = run_with("qd2d_n6_sj", "flex", "f64", &[]);
    assert!(
        (e_nd - e_fl).abs() < 3.0 * (s_nd * s_nd + s_fl * s_fl).sqrt(),
        "ndarray {e_nd} ± {s_nd} vs flex {e_fl} ± {s_fl}"
    );
}

#[test]
fn f64_on_wgpu_is_refused() {
    let out = scratch("f64");
    let o = Command::new(env!("CARGO_BIN_EXE_nqs-train"))
        .arg("--config")
        .arg(config("qd2d_n2_sj"))
        .arg("--out")
        .arg(&out)
        .args(["--backend", "wgpu", "--precision", "f64"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("f64"));
    assert!(!out.exists());
}

/// The backflow determinant (dense determinant jet, pair networks) on wgpu against flex f32,
/// with Adam (SR needs f64) and small networks.
#[test]
fn wgpu_matches_flex_f32_backflow() {
    let extra = [
        "--set",
        "optimizer.kind=\"adam\"",
        "--set",
        "optimizer.learning_rate=0.003",
        "--set",
        "model.factors.0.hidden=[4]",
        "--set",
        "model.factors.0.output_gain=0.3",
    ];
    let (e_gpu, s_gpu) = run_with("qd2d_n6_backflow", "wgpu", "f32", &extra);
    let (e_cpu, s_cpu) = run_with("qd2d_n6_backflow", "flex", "f32", &extra);
    let sigma = (s_gpu * s_gpu + s_cpu * s_cpu).sqrt();
    eprintln!("backflow: wgpu {e_gpu} ± {s_gpu}, flex f32 {e_cpu} ± {s_cpu}");
    assert!(
        (e_gpu - e_cpu).abs() < 3.0 * sigma,
        "backflow: wgpu {e_gpu} ± {s_gpu} vs flex f32 {e_cpu} ± {s_cpu}"
    );
}
