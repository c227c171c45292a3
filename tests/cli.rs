//! The `nqs-train` binary: run files, `eval`, and one-line errors for bad input that write
//! nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nqs-train"))
}

fn config(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../configs/{name}.toml"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nqs-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn a_short_run_writes_config_metrics_and_summary_then_eval_reuses_it() {
    let out = scratch("run");
    let status = bin()
        .args(["--config"])
        .arg(config("qd2d_n2_sj"))
        .args(["--out"])
        .arg(&out)
        .args([
            "--set",
            "run.steps=5",
            "--set",
            "sampler.walkers=64",
            "--set",
            "eval.samples_per_walker=10",
            "--seed",
            "3",
        ])
        .output()
        .expect("run nqs-train");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let mut lines = metrics.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("step,energy,energy_error,variance,acceptance")
    );
    assert_eq!(lines.count(), 5);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for key in [
        "energy",
        "energy_error",
        "variance",
        "acceptance",
        "steps",
        "wall_seconds",
        "backend",
        "precision",
        "n_parameters",
    ] {
        assert!(summary.get(key).is_some(), "summary.json lacks {key}");
    }
    assert_eq!(summary["steps"], 5);
    assert_eq!(summary["backend"], "flex");
    assert_eq!(summary["precision"], "f64");
    let resolved = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(
        resolved.contains("seed = 3") && resolved.contains("steps = 5"),
        "{resolved}"
    );

    // A second run into the same directory is refused without --force and changes nothing.
    let before = std::fs::read(out.join("summary.json")).unwrap();
    let again = bin()
        .arg("--config")
        .arg(config("qd2d_n2_sj"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(before, std::fs::read(out.join("summary.json")).unwrap());

    let eval = bin()
        .args(["eval", "--from"])
        .arg(&out)
        .args(["--samples", "8"])
        .output()
        .unwrap();
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    let e: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("eval.json")).unwrap()).unwrap();
    assert_eq!(e["samples"], 64 * 8);

    // fit-rbm's resume refuses a training run by name (its checkpoints looked corrupt).
    let wrong = bin()
        .args(["fit-rbm", "--resume"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        err.contains("is a training run, not a fit-rbm run"),
        "{err}"
    );
    // A resume that trains on removes eval.json, which described the parameters before it.
    let resumed = bin()
        .arg("--resume")
        .arg(&out)
        .args(["--steps", "6"])
        .output()
        .unwrap();
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert!(!out.join("eval.json").exists(), "a stale eval.json stayed");
    std::fs::remove_dir_all(&out).unwrap();
}

/// Each bad input: non-zero exit, one error line naming the problem, no run directory.
#[test]
fn bad_input_gets_a_one_line_error_and_writes_nothing() {
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--set".into(), "system.omgea=1".into()], "omgea"),
        (
            vec!["--set".into(), "system.omega=0".into()],
            "system.omega",
        ),
        (
            vec!["--set".into(), "system.particles=4".into()],
            "closed oscillator shell",
        ),
        (
            vec!["--set".into(), "sampler.walkers=0".into()],
            "sampler.walkers",
        ),
        (
            vec!["--set".into(), "sampler.init_width=0".into()],
            "sampler.init_width",
        ),
        (
            vec!["--set".into(), "model.factors.0.alpha=-1".into()],
            "model.factors[0].alpha = -1",
        ),
        (vec!["--set".into(), "=1".into()], "bad --set '=1'"),
        // Three zeros too many: refused from the memory estimate before any allocation.
        (
            vec!["--set".into(), "sampler.walkers=1000000000".into()],
            "is available",
        ),
        (
            vec!["--set".into(), "system.dimensions=\"two\"".into()],
            "dimensions",
        ),
        (
            vec!["--set".into(), "model.factors.0.kind=\"slatr\"".into()],
            "slatr",
        ),
        (
            vec![
                "--backend".into(),
                "wgpu".into(),
                "--precision".into(),
                "f64".into(),
            ],
            "f64",
        ),
        (
            vec![
                "--precision".into(),
                "f32".into(),
                "--set".into(),
                "optimizer.kind=\"sr\"".into(),
            ],
            "sr needs --precision f64",
        ),
        (
            vec!["--set".into(), "optimizer.sr.diag_shift=0".into()],
            "optimizer.sr.diag_shift",
        ),
        // nan and inf are TOML floats: refused by name before they reach the chains.
        (
            vec!["--set".into(), "sampler.init_width=nan".into()],
            "sampler.init_width = NaN",
        ),
        (
            vec!["--set".into(), "model.factors.0.alpha=inf".into()],
            "model.factors.0.alpha = inf",
        ),
        (
            vec!["--set".into(), "eval.observables.blocks=1".into()],
            "eval.observables.blocks",
        ),
        (
            vec!["--set".into(), "run.clip_width=-1".into()],
            "run.clip_width",
        ),
        (
            vec!["--set".into(), "sampler.threads=0".into()],
            "sampler.threads",
        ),
        // 1D Coulomb: the energy is infinite (opposite spins meet), refused by field.
        (
            vec!["--set".into(), "system.dimensions=1".into()],
            "system.interaction",
        ),
        // A flag and a --set of the same key: refused, not one silently winning.
        (
            vec![
                "--steps".into(),
                "3".into(),
                "--set".into(),
                "run.steps=5".into(),
            ],
            "both set run.steps",
        ),
        (
            vec![
                "--set".into(),
                "model.factors.0.kind=\"backflow\"".into(),
                "--set".into(),
                "model.factors.0.alpha=-1".into(),
            ],
            "model.factors[0].alpha",
        ),
    ];
    let set = |pairs: &[&str]| -> Vec<String> {
        pairs
            .iter()
            .flat_map(|p| ["--set".to_string(), p.to_string()])
            .collect()
    };
    // Nuclei: a nucleus the system does not support, a cutoff without constants, a
    // non-positive mass, a quantum-dot factor (Hermite orbitals need a trap).
    let nuclear: Vec<(Vec<String>, &str)> = vec![
        (set(&["system.nucleus=\"5Li\""]), "5Li"),
        (set(&["system.cutoff=3"]), "system.cutoff"),
        (set(&["system.nucleon_mass=-1"]), "system.nucleon_mass"),
        (
            set(&["model.factors.1={ kind = \"slater\" }"]),
            "model.factors[1].kind",
        ),
        (set(&["system.kind=\"neutron_star\""]), "neutron_star"),
        (
            set(&["model.factors.0={ kind = \"pair_jastrow\", hidden = [4] }"]),
            "an envelope factor for a nucleus system",
        ),
    ];
    let cases = cases
        .into_iter()
        .map(|(a, n)| ("qd2d_n6_sj", a, n))
        .chain(nuclear.into_iter().map(|(a, n)| ("nuc_h2_lo4", a, n)));
    for (i, (name, args, needle)) in cases.enumerate() {
        let out = scratch(&format!("bad{i}"));
        let o = bin()
            .arg("--config")
            .arg(config(name))
            .arg("--out")
            .arg(&out)
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        let error_lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
        assert!(!o.status.success(), "{args:?} succeeded");
        assert_eq!(error_lines.len(), 1, "{args:?}: {stderr}");
        assert!(error_lines[0].contains(needle), "{args:?}: {stderr}");
        assert!(!out.exists(), "{args:?} created {}", out.display());
    }
    let missing = bin()
        .args(["--config", "/nonexistent/x.toml"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/x.toml"));
}

const TINY: [&str; 8] = [
    "--set",
    "run.steps=5",
    "--set",
    "sampler.walkers=64",
    "--set",
    "eval.samples_per_walker=10",
    "--set",
    "sampler.burn_in=20",
];

#[test]
fn compare_trains_configs_and_writes_table_and_plots() {
    let out = scratch("compare");
    let o = bin()
        .arg("compare")
        .arg(config("qd2d_n2_sj"))
        .arg(config("qd2d_n2_rbm"))
        .arg("--out")
        .arg(&out)
        .args(TINY)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.join("comparison.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 3, "{csv}");
    assert!(
        rows[1].starts_with("qd2d_n2_sj,slater*pade_jastrow,3,"),
        "{csv}"
    );
    assert!(rows[2].contains(",3,exact"), "reference 3 (exact): {csv}");
    let md = std::fs::read_to_string(out.join("comparison.md")).unwrap();
    assert!(md.contains("| qd2d_n2_rbm | rbm*pade_jastrow |"), "{md}");
    for f in ["energy.png", "energy.svg"] {
        assert!(std::fs::metadata(out.join(f)).unwrap().len() > 1000, "{f}");
    }
    // Existing run directories are compared as they are.
    let again = bin()
        .arg("compare")
        .arg(out.join("qd2d_n2_sj"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    // The same config with another setting is not answered by the run already there.
    let other = bin()
        .arg("compare")
        .arg(config("qd2d_n2_sj"))
        .arg("--out")
        .arg(&out)
        .args(TINY)
        .args(["--set", "system.omega=0.5"])
        .output()
        .unwrap();
    assert!(!other.status.success());
    assert!(
        String::from_utf8_lossy(&other.stderr).contains("system.omega = 1.0, not 0.5"),
        "{}",
        String::from_utf8_lossy(&other.stderr)
    );
    // A run's directory is not an output folder: its energy.png would be replaced.
    let run = out.join("qd2d_n2_sj");
    let plot = std::fs::read(run.join("energy.png")).unwrap();
    let into_run = bin()
        .arg("compare")
        .arg(&run)
        .arg("--out")
        .arg(&run)
        .output()
        .unwrap();
    assert!(!into_run.status.success());
    let err = String::from_utf8_lossy(&into_run.stderr);
    assert!(err.contains("training run's directory"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_eq!(std::fs::read(run.join("energy.png")).unwrap(), plot);
    assert!(!run.join("comparison.md").exists());
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn sweep_writes_one_run_per_value_and_resumes() {
    let out = scratch("sweep");
    let run_with = |extra: &[&str]| {
        bin()
            .args(["sweep", "--config"])
            .arg(config("qd2d_n2_sj"))
            .args(["--set", "system.omega=0.5,1.0"])
            .args(TINY)
            .args(extra)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap()
    };
    let run = || run_with(&[]);
    let o = run();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 3, "{csv}");
    assert!(
        rows[1].starts_with("0.5,") && rows[2].starts_with("1.0,"),
        "{csv}"
    );
    assert!(rows[2].ends_with(",3"), "reference at ω = 1: {csv}");
    for f in [
        "sweep_energy.png",
        "sweep_parts.svg",
        "system.omega=0.5/summary.json",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    // A second call finds both runs finished and retrains nothing.
    let before = std::fs::read(out.join("system.omega=1.0/metrics.csv")).unwrap();
    let o = run();
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("already finished"));
    assert_eq!(
        before,
        std::fs::read(out.join("system.omega=1.0/metrics.csv")).unwrap()
    );

    // Another fixed setting: refused by name before anything trains; the runs stay.
    let o = run_with(&["--set", "system.particles=6"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(stderr.contains("system.particles = 2, not 6"), "{stderr}");
    assert_eq!(
        before,
        std::fs::read(out.join("system.omega=1.0/metrics.csv")).unwrap()
    );
    // More steps: every point goes on from its last checkpoint; fewer: refused.
    let o = run_with(&["--set", "run.steps=7"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("system.omega=0.5/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["steps"], 7);
    let o = run_with(&["--set", "run.steps=6"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("more than run.steps = 6"));
    // Refused before the first point trains: its error message.
    let fresh = scratch("sweep_bad_value");
    let refused = |values: &str| {
        let o = bin()
            .args(["sweep", "--config"])
            .arg(config("qd2d_n2_sj"))
            .args(["--set", &format!("system.omega={values}")])
            .args(TINY)
            .arg("--out")
            .arg(&fresh)
            .output()
            .unwrap();
        assert!(!o.status.success(), "{values}");
        assert!(!fresh.exists(), "{values}");
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    // A bad value anywhere in the list.
    assert!(refused("0.5,abc").contains("abc"));
    // The same value twice, however written.
    let err = refused("0.5,1,0.50");
    assert!(
        err.contains("the value 0.50 is swept twice (also as 0.5)"),
        "{err}"
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn sweep_over_a_nuclear_cutoff_reports_each_reference_and_the_terms() {
    let out = scratch("sweep_nuclear");
    let o = bin()
        .args(["sweep", "--config"])
        .arg(config("nuc_h2_lo4"))
        .args(["--set", "system.cutoff=2,6"])
        .args(TINY)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 3, "{csv}");
    // The exact deuteron energies of the two cutoffs (nuclear_ecg.csv).
    assert!(rows[1].ends_with(",-2.2245738"), "{csv}");
    assert!(rows[2].ends_with(",-2.2257278"), "{csv}");
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("system.cutoff=6/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["system"]["kind"], "nucleus");
    assert_eq!(summary["terms"][0]["name"], "v2");
    assert!(summary["rms_radius"].as_f64().unwrap() > 0.0);
    std::fs::remove_dir_all(&out).unwrap();
}

/// A binary built without the `mpi` feature, started by an MPI launcher with several ranks,
/// refuses to run instead of running R copies that overwrite each other's files. (The
/// launcher is recognised by the variables Open MPI, MPICH and Slurm set; the MPI build's
/// own tests run under a real `mpirun`.)
#[test]
fn without_mpi_a_launch_on_several_ranks_is_refused() {
    if nqs_train::distributed::WITH_MPI {
        return; // the MPI build's behaviour is tests/distributed.rs's
    }
    for var in ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"] {
        let out = scratch("no-mpi");
        let o = bin()
            .env(var, "2")
            .args(["--config"])
            .arg(config("qd2d_n2_sj"))
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(stderr.contains("built without MPI"), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(!out.exists(), "nothing is written");
    }
    // One rank is a plain run, and NQS_NO_MPI lets side-by-side independent runs start.
    let o = bin()
        .env("OMPI_COMM_WORLD_SIZE", "1")
        .arg("--version")
        .output()
        .unwrap();
    assert!(o.status.success());
    let o = bin()
        .env("OMPI_COMM_WORLD_SIZE", "4")
        .env("NQS_NO_MPI", "1")
        .arg("--version")
        .output()
        .unwrap();
    assert!(o.status.success());
    // Under a real mpirun, where one is installed (CI installs Open MPI).
    let out = scratch("no-mpi-mpirun");
    let Ok(o) = Command::new("mpirun")
        .args(["-np", "2", "--oversubscribe"])
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .arg(env!("CARGO_BIN_EXE_nqs-train"))
        .args(["--config"])
        .arg(config("qd2d_n2_sj"))
        .arg("--out")
        .arg(&out)
        .output()
    else {
        return;
    };
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("built without MPI"), "{stderr}");
    assert!(!out.exists(), "nothing is written");
}

/// Outputs and inputs a shell user meets: a closed stdout (`| head -1`) ends the program
/// quietly (SIGPIPE, no panic), an impossible `ising-samples` size and error bars below the
/// energies' precision get one error line, and `rbm-thermo` reads a fit without a
/// validation split (its validation likelihood is NaN, written as null).
#[test]
fn closed_pipes_impossible_sizes_and_null_likelihoods() {
    use std::os::unix::process::ExitStatusExt;
    let dir = scratch("shell");
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = bin()
        .arg("--config")
        .arg(config("qd2d_n2_sj"))
        .arg("--out")
        .arg(dir.join("run"))
        .args(TINY)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(o.status.signal(), Some(13), "{:?}: {stderr}", o.status);

    let one_error = |o: &std::process::Output, needle: &str| {
        let stderr = String::from_utf8_lossy(&o.stderr);
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
        assert!(!o.status.success(), "{stderr}");
        assert_eq!(errors.len(), 1, "{stderr}");
        assert!(errors[0].contains(needle), "{stderr}");
    };
    let o = bin()
        .args(["ising-samples", "--side", "100000", "--temperature", "2"])
        .args(["--samples", "1", "--out"])
        .arg(dir.join("huge.txt"))
        .output()
        .unwrap();
    one_error(&o, "of memory needed");
    assert!(!dir.join("huge.txt").exists());

    let csv = dir.join("tiny_errors.csv");
    std::fs::write(
        &csv,
        "c,E,s\n0.1,0.44141,1e-150\n0.28,1.02217,1e-150\n0.5,1.66025,1e-150\n1.0,3.00052,1e-150\n",
    )
    .unwrap();
    let o = bin()
        .args(["emulate", "--from"])
        .arg(&csv)
        .arg("--out")
        .arg(dir.join("emulator"))
        .output()
        .unwrap();
    one_error(&o, "below the energies' precision");

    let data = dir.join("ising.txt");
    let o = bin()
        .args(["ising-samples", "--side", "4", "--temperature", "2.27"])
        .args(["--samples", "300", "--out"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let fit = dir.join("fit");
    let o = bin()
        .args(["fit-rbm", "--config"])
        .arg(config("rbm_ising_l4_t2.27"))
        .arg("--data")
        .arg(&data)
        .args(["--epochs", "2", "--set", "data.validation_fraction=0"])
        .arg("--out")
        .arg(&fit)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = bin()
        .arg("rbm-thermo")
        .arg(&fit)
        .arg("--out")
        .arg(dir.join("thermo"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(dir.join("thermo/thermo.md").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A run driven off to a state whose local energies are finite but whose squares overflow
/// (an RBM at learning rate 1000: E ≈ −2e197) ends with an error naming the variance,
/// instead of printing E ± inf with exit status 0.
#[test]
fn a_state_without_antisymmetry_is_warned_about() {
    // Six electrons (three of each spin) in an RBM × Padé state: symmetric, so bosonic.
    let run = |config_name: &str, out: &Path| {
        let o = bin()
            .arg("--config")
            .arg(config(config_name))
            .arg("--out")
            .arg(out)
            .args(["--set", "run.steps=0", "--set", "sampler.walkers=16"])
            .args([
                "--set",
                "eval.samples_per_walker=2",
                "--set",
                "sampler.burn_in=2",
            ])
            .args(["--set", "system.particles=6"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let out = scratch("bosons");
    let err = run("qd2d_n2_rbm", &out);
    assert!(err.contains("(bosons)"), "{err}");
    std::fs::remove_dir_all(&out).unwrap();
    let out = scratch("fermions");
    let err = run("qd2d_n2_sj", &out);
    assert!(!err.contains("(bosons)"), "{err}");
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn an_overflowing_variance_is_an_error() {
    let out = scratch("overflow");
    let o = bin()
        .arg("--config")
        .arg(config("qd2d_n2_rbm"))
        .arg("--out")
        .arg(&out)
        .args(TINY)
        .args([
            "--set",
            "run.steps=10",
            "--set",
            "optimizer.learning_rate=1e3",
        ])
        .args(["--set", "optimizer.kind=\"sgd\""])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{stderr}");
    assert!(
        stderr.contains("non-finite local-energy variance"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&out);
}
