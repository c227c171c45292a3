//! `nqs-train emulate` on a real sweep: the 2D N = 2 quantum dot trained with the shipped
//! Slater–Jastrow config at ω ∈ {0.1, 0.28, 0.5, 1.0}; the emulator must pass through every
//! trained energy within its error bar. Its prediction at ω = 1/6 against Taut's exact 2/3
//! is in docs/gallery.md.

use std::path::{Path, PathBuf};
use std::process::Command;

use nqs_emulate::Emulator;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nqs-train"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nqs-emulate-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn emulator_of_a_quantum_dot_sweep_passes_through_the_trained_energies() {
    let out = scratch("sweep");
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/qd2d_n2_sj.toml");
    let o = bin()
        .args(["sweep", "--config"])
        .arg(&config)
        .args([
            "--set",
            "system.omega=0.1,0.28,0.5,1.0",
            "--set",
            "eval.samples_per_walker=100",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = bin()
        .args(["emulate", "--from"])
        .arg(&out)
        .args(["--key", "system.omega", "--predict", "0.05:1.5:50"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dir = out.join("emulator");
    for f in [
        "emulator.json",
        "prediction.csv",
        "emulator.md",
        "emulator.png",
        "emulator.svg",
    ] {
        assert!(dir.join(f).exists(), "{f}");
    }
    let emulator: Emulator =
        serde_json::from_str(&std::fs::read_to_string(dir.join("emulator.json")).unwrap()).unwrap();
    assert_eq!(emulator.samples.len(), 4);
    for s in &emulator.samples {
        let e = emulator.pmm.eigenvalues(&[s.c])[0];
        assert!(
            (e - s.energy).abs() <= s.error,
            "ω = {}: emulator {e} vs trained {} ± {}",
            s.c,
            s.energy,
            s.error
        );
    }
    let taut = emulator.pmm.eigenvalues(&[1.0 / 6.0])[0];
    eprintln!(
        "{}\nω = 1/6: emulator {taut} against Taut's exact 2/3",
        String::from_utf8_lossy(&o.stdout)
    );
    // A wrong key for this sweep is a one-line error.
    let o = bin()
        .args(["emulate", "--from"])
        .arg(&out)
        .args(["--key", "system.particles", "--out"])
        .arg(out.join("bad"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--key") && err.contains("system.omega"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!out.join("bad").exists());
    std::fs::remove_dir_all(&out).unwrap();
}
