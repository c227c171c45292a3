//! Checkpoints through the real binary: bit-identical resume, SIGKILL at any moment,
//! Ctrl-C, corrupted checkpoints, rollback after non-finite steps, and refused resumes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nqs-train"))
}

fn config(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../configs/{name}.toml"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nqs-ckpt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Small, fast settings shared by every run of a test.
const SMALL: [&str; 6] = [
    "--set",
    "sampler.walkers=128",
    "--set",
    "eval.samples_per_walker=20",
    "--set",
    "run.checkpoint_every=5",
];

fn ok(o: &Output) {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn train(name: &str, out: &Path, extra: &[&str]) -> Output {
    bin()
        .arg("--config")
        .arg(config(name))
        .arg("--out")
        .arg(out)
        .args(SMALL)
        .args(extra)
        .output()
        .unwrap()
}

fn resume(out: &Path, extra: &[&str]) -> Output {
    bin().arg("--resume").arg(out).args(extra).output().unwrap()
}

/// The deterministic columns of metrics.csv (everything but timings).
fn metrics(out: &Path) -> Vec<String> {
    std::fs::read_to_string(out.join("metrics.csv"))
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!(
                "{},{},{},{},{},{},{}",
                f[0], f[1], f[2], f[3], f[4], f[5], f[10]
            )
        })
        .collect()
}

fn energy(out: &Path) -> String {
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    s["energy"].to_string()
}

fn checkpoints(out: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(out.join("checkpoints"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "ckpt"));
    v.sort();
    v
}

/// K steps, stop, resume for K more: identical parameters, metrics and energy to 2K steps.
#[test]
fn resume_is_bit_identical_to_an_uninterrupted_run() {
    let (full, split) = (scratch("full"), scratch("split"));
    ok(&train("qd2d_n6_sj", &full, &["--steps", "20"]));
    ok(&train("qd2d_n6_sj", &split, &["--steps", "10"]));
    ok(&resume(&split, &["--steps", "20"]));
    assert_eq!(metrics(&full), metrics(&split));
    assert_eq!(energy(&full), energy(&split));
    // Walkers after the evaluation depend on every parameter and random number.
    assert_eq!(
        std::fs::read(full.join("sampler.json")).unwrap(),
        std::fs::read(split.join("sampler.json")).unwrap()
    );
    std::fs::remove_dir_all(&full).unwrap();
    std::fs::remove_dir_all(&split).unwrap();
}

/// The same with stochastic reconfiguration on the backflow config: the CG warm start (the
/// last δ) travels in the checkpoint, so CG iterations, residuals and energies match too.
#[test]
fn sr_resume_is_bit_identical_to_an_uninterrupted_run() {
    let (full, split) = (scratch("sr-full"), scratch("sr-split"));
    let small = [
        "--set",
        "model.factors.0.hidden=[4]",
        "--set",
        "sampler.burn_in=50",
    ];
    let with = |steps: &'static str| {
        let mut v = vec!["--steps", steps];
        v.extend(small);
        v
    };
    ok(&train("qd2d_n6_backflow", &full, &with("12")));
    ok(&train("qd2d_n6_backflow", &split, &with("6")));
    ok(&resume(&split, &["--steps", "12"]));
    let cg = |out: &Path| -> Vec<String> {
        std::fs::read_to_string(out.join("metrics.csv"))
            .unwrap()
            .lines()
            .map(|l| l.split(',').skip(11).take(2).collect::<Vec<_>>().join(","))
            .collect()
    };
    assert_eq!(metrics(&full), metrics(&split));
    assert_eq!(cg(&full), cg(&split));
    assert_eq!(energy(&full), energy(&split));
    std::fs::remove_dir_all(&full).unwrap();
    std::fs::remove_dir_all(&split).unwrap();
}

/// SIGKILL mid-run: the resumed run loses only the steps since the last checkpoint and ends
/// exactly where an uninterrupted run ends; metrics.csv has every step once.
#[test]
fn a_killed_run_resumes_from_its_last_checkpoint() {
    let (full, killed) = (scratch("k-full"), scratch("killed"));
    let args = ["--steps", "150", "--set", "sampler.walkers=256"];
    ok(&train("qd2d_n12_sj", &full, &args));
    let mut child = bin()
        .arg("--config")
        .arg(config("qd2d_n12_sj"))
        .arg("--out")
        .arg(&killed)
        .args(SMALL)
        .args(args)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while checkpoints(&killed).len() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no checkpoint appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(37)); // somewhere between two checkpoints
    child.kill().unwrap(); // SIGKILL
    let _ = child.wait();
    assert!(
        !killed.join("summary.json").exists(),
        "the run finished before the kill"
    );
    ok(&resume(&killed, &[]));
    assert_eq!(metrics(&full), metrics(&killed));
    assert_eq!(energy(&full), energy(&killed));
    std::fs::remove_dir_all(&full).unwrap();
    std::fs::remove_dir_all(&killed).unwrap();
}

/// Ctrl-C writes a checkpoint at the current step and exits with status 130.
#[test]
fn sigint_writes_a_checkpoint_and_exits() {
    let out = scratch("sigint");
    let child = bin()
        .arg("--config")
        .arg(config("qd2d_n12_sj"))
        .arg("--out")
        .arg(&out)
        .args(SMALL)
        .args(["--steps", "400", "--set", "run.checkpoint_every=1000"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while std::fs::read_to_string(out.join("metrics.csv"))
        .map(|m| m.lines().count() < 4)
        .unwrap_or(true)
    {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no training steps appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let files = checkpoints(&out);
    assert_eq!(files.len(), 1, "{files:?}");
    let rows = metrics(&out).len() - 1;
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(name, format!("step-{rows:09}.ckpt"));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--resume"));
    ok(&resume(&out, &["--steps", &(rows + 3).to_string()]));
    assert_eq!(metrics(&out).len() - 1, rows + 3);
    std::fs::remove_dir_all(&out).unwrap();
}

/// A truncated newest checkpoint is reported by name and the previous one is used.
#[test]
fn a_corrupted_checkpoint_falls_back_to_the_previous_one() {
    let out = scratch("corrupt");
    ok(&train("qd2d_n6_sj", &out, &["--steps", "15"]));
    let files = checkpoints(&out);
    assert_eq!(files.len(), 3, "keep_checkpoints = 3: {files:?}");
    let newest = files.last().unwrap();
    let bytes = std::fs::read(newest).unwrap();
    std::fs::write(newest, &bytes[..bytes.len() / 2]).unwrap();
    let o = resume(&out, &["--steps", "20"]);
    ok(&o);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("step-000000015.ckpt"), "{stderr}");
    assert!(stderr.contains("step=10"), "resumed from step 10: {stderr}");
    assert_eq!(metrics(&out).len() - 1, 20);
    std::fs::remove_dir_all(&out).unwrap();
}

/// A learning rate that sends the orbital exponent negative gives non-finite local
/// energies: with the default policy the run rolls back, halves the learning rate, records
/// the rollbacks in metrics.csv and finishes; with `stop` it fails with a one-line error.
/// No checkpoint ever holds a non-finite value.
#[test]
fn non_finite_steps_roll_back_or_stop() {
    let out = scratch("nonfinite");
    let wild = [
        "--steps",
        "30",
        "--set",
        "optimizer.learning_rate=4",
        "--set",
        "run.max_rollbacks=8",
    ];
    let o = train("qd2d_n6_sj", &out, &wild);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains("rolled back"));
    let rows = metrics(&out);
    assert_eq!(rows.len() - 1, 30);
    let last: Vec<&str> = rows.last().unwrap().split(',').collect();
    assert!(
        last[6].parse::<usize>().unwrap() >= 1,
        "rollbacks recorded: {last:?}"
    );
    assert!(
        last[5].parse::<f64>().unwrap() < 2.0,
        "learning rate reduced: {last:?}"
    );
    for row in &rows[1..] {
        assert!(
            row.split(',')
                .all(|v| !v.contains("NaN") && !v.contains("inf")),
            "{row}"
        );
    }
    std::fs::remove_dir_all(&out).unwrap();

    let stop = scratch("nonfinite-stop");
    let o = train(
        "qd2d_n6_sj",
        &stop,
        &[
            "--steps",
            "30",
            "--set",
            "optimizer.learning_rate=4",
            "--set",
            "run.on_nonfinite=\"stop\"",
        ],
    );
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("error") && l.contains("non-finite")),
        "{stderr}"
    );
    assert!(!stop.join("summary.json").exists());
    std::fs::remove_dir_all(&stop).unwrap();
}

/// Resuming needs a checkpoint and the same model.
#[test]
fn bad_resumes_are_refused_with_one_line() {
    let empty = scratch("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = resume(&empty, &[]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("config.toml"));

    let out = scratch("shape");
    ok(&train("qd2d_n6_slater_ffnn", &out, &["--steps", "5"]));
    let before = std::fs::read(out.join("metrics.csv")).unwrap();
    let o = resume(
        &out,
        &["--set", "model.factors.1.hidden=[8]", "--steps", "10"],
    );
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("[model]"), "{stderr}");
    assert_eq!(before, std::fs::read(out.join("metrics.csv")).unwrap());
    // Options a resume would not honour: another directory, another seed, fewer steps.
    for (extra, needle) in [
        (
            &["--out", "elsewhere", "--steps", "10"][..],
            "--out elsewhere",
        ),
        (&["--seed", "7", "--steps", "10"][..], "run.seed = 7"),
        (&["--steps", "3"][..], "run.steps = 3"),
    ] {
        let o = resume(&out, extra);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{extra:?}");
        assert!(stderr.contains(needle), "{extra:?}: {stderr}");
        assert_eq!(before, std::fs::read(out.join("metrics.csv")).unwrap());
    }
    assert!(!Path::new("elsewhere").exists());

    std::fs::remove_dir_all(out.join("checkpoints")).unwrap();
    let o = resume(&out, &[]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no checkpoint"));
    std::fs::remove_dir_all(&out).unwrap();
    std::fs::remove_dir_all(&empty).unwrap();
}

fn eval_energy(out: &Path, extra: &[&str]) -> (f64, f64) {
    let o = bin()
        .args(["eval", "--from"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    ok(&o);
    let e: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("eval.json")).unwrap()).unwrap();
    (
        e["energy"].as_f64().unwrap(),
        e["energy_error"].as_f64().unwrap(),
    )
}

/// A run trained in f32 (as on a GPU) is evaluated and resumed in f64, and one trained in
/// f64 is evaluated in f32: the parameters are cast to the run's precision on loading
/// (they kept the file's precision before, and the first op mixing them panicked).
#[test]
fn runs_are_evaluated_and_resumed_in_the_other_precision() {
    for (trained, other) in [("f32", "f64"), ("f64", "f32")] {
        let out = scratch(&format!("precision-{trained}"));
        ok(&train(
            "qd2d_n6_slater_ffnn",
            &out,
            &["--steps", "5", "--precision", trained],
        ));
        let (e_same, s_same) = eval_energy(&out, &["--precision", trained]);
        let (e_other, s_other) = eval_energy(&out, &["--precision", other]);
        let sigma = (s_same * s_same + s_other * s_other).sqrt();
        assert!(
            (e_same - e_other).abs() < 4.0 * sigma,
            "trained in {trained}: {e_same} ± {s_same} in {trained}, {e_other} ± {s_other} in {other}"
        );
        ok(&resume(&out, &["--steps", "7", "--precision", other]));
        if trained == "f64" {
            // A run trained by SR (f64 only) is still evaluated in f32, as on a GPU.
            let sr = scratch("precision-sr");
            ok(&train(
                "qd2d_n6_backflow",
                &sr,
                &["--steps", "2", "--set", "sampler.walkers=32"],
            ));
            eval_energy(&sr, &["--precision", "f32", "--samples", "4"]);
            std::fs::remove_dir_all(&sr).unwrap();
        }
        let s: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap())
                .unwrap();
        assert_eq!(s["steps"], 7);
        assert_eq!(s["precision"], other);
        assert!(s["energy"].as_f64().unwrap().is_finite());
        std::fs::remove_dir_all(&out).unwrap();
    }
}

/// `--force` replaces a run: the old run's results (model, summary, eval.json) go with its
/// checkpoints, so that `eval --from` cannot read the old model under the new config.
#[test]
fn force_removes_the_old_runs_results() {
    let out = scratch("force");
    ok(&train("qd2d_n2_sj", &out, &["--steps", "5"]));
    eval_energy(&out, &[]);
    let keep = out.join("notes.txt");
    std::fs::write(&keep, "mine").unwrap();
    ok(&train(
        "qd2d_n2_sj",
        &out,
        &["--steps", "3", "--set", "system.omega=0.5", "--force"],
    ));
    assert!(!out.join("eval.json").exists());
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["steps"], 3);
    assert_eq!(metrics(&out).len() - 1, 3);
    assert_eq!(std::fs::read_to_string(&keep).unwrap(), "mine");
    std::fs::remove_dir_all(&out).unwrap();
}

/// Send SIGINT to `child` once `ready` holds (polled), and return its output.
fn interrupt_when(mut child: std::process::Child, ready: impl Fn() -> bool) -> Output {
    let start = Instant::now();
    while !ready() {
        if child.try_wait().unwrap().is_some() {
            let o = child.wait_with_output().unwrap();
            panic!("exited early: {}", String::from_utf8_lossy(&o.stderr));
        }
        assert!(start.elapsed() < Duration::from_secs(120), "never ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    child.wait_with_output().unwrap()
}

/// Ctrl-C ends a burn-in and an evaluation too, not only the steps: exit 130 and a
/// checkpoint from which a resume finishes the run.
#[test]
fn sigint_ends_the_burn_in_and_the_evaluation() {
    let spawn = |out: &Path, extra: &[&str]| {
        bin()
            .arg("--config")
            .arg(config("qd2d_n6_sj"))
            .arg("--out")
            .arg(out)
            .args(SMALL)
            .args(extra)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // A burn-in of millions of moves: the checkpoint is the start.
    let out = scratch("sigint-burn-in");
    let child = spawn(&out, &["--steps", "3", "--set", "sampler.burn_in=50000000"]);
    let o = interrupt_when(child, || out.join("config.toml").exists());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted in the burn-in"), "{stderr}");
    assert_eq!(checkpoints(&out).len(), 1);
    ok(&resume(&out, &["--set", "sampler.burn_in=100"]));
    assert_eq!(metrics(&out).len() - 1, 3);
    std::fs::remove_dir_all(&out).unwrap();

    // An evaluation of 20 000 samples per walker: the trained state is the last checkpoint.
    let out = scratch("sigint-eval");
    let child = spawn(
        &out,
        &["--steps", "3", "--set", "eval.samples_per_walker=20000"],
    );
    let o = interrupt_when(child, || {
        std::fs::read_to_string(out.join("metrics.csv")).is_ok_and(|m| m.lines().count() > 3)
    });
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted in the final evaluation"),
        "{stderr}"
    );
    assert!(!out.join("summary.json").exists());
    ok(&resume(&out, &["--set", "eval.samples_per_walker=20"]));
    assert!(energy(&out).parse::<f64>().unwrap().is_finite());
    assert_eq!(metrics(&out).len() - 1, 3);
    std::fs::remove_dir_all(&out).unwrap();
}

/// `fit-rbm` stops on Ctrl-C as the trainer does: a checkpoint at the epoch reached, exit
/// 130, and a resume that goes on from there.
#[test]
fn sigint_stops_a_fit_with_a_checkpoint() {
    let dir = scratch("fit-sigint");
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("ising.txt");
    ok(&bin()
        .args(["ising-samples", "--side", "4", "--temperature", "2.27"])
        .args(["--samples", "500", "--out"])
        .arg(&data)
        .output()
        .unwrap());
    let out = dir.join("fit");
    let child = bin()
        .args(["fit-rbm", "--config"])
        .arg(config("rbm_ising_l4_t2.27"))
        .arg("--data")
        .arg(&data)
        .args([
            "--epochs",
            "1000000",
            "--set",
            "training.checkpoint_every=1000000",
        ])
        .arg("--out")
        .arg(&out)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let o = interrupt_when(child, || out.join("config.toml").exists());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("fit-rbm --resume"), "{stderr}");
    let files = checkpoints(&out);
    assert_eq!(files.len(), 1, "{files:?}");
    let epoch: usize = files[0].file_stem().unwrap().to_string_lossy()["step-".len()..]
        .parse()
        .unwrap();
    ok(&bin()
        .args(["fit-rbm", "--resume"])
        .arg(&out)
        .args(["--epochs", &(epoch + 1).to_string()])
        .output()
        .unwrap());
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["epochs"], epoch + 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A resume that trains no step but changes a setting (here ω) evaluates under it and
/// writes a checkpoint that carries it: the next resume goes on with ω = 0.5, as config.toml
/// says, not silently with the checkpoint's ω = 1.
#[test]
fn a_resume_without_steps_keeps_its_new_settings() {
    let out = scratch("settings");
    ok(&train("qd2d_n2_sj", &out, &["--steps", "5"]));
    ok(&resume(&out, &["--set", "system.omega=0.5"]));
    let omega = |out: &Path| {
        let s: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap())
                .unwrap();
        s["system"]["omega"].as_f64().unwrap()
    };
    assert_eq!(omega(&out), 0.5);
    ok(&resume(&out, &["--steps", "6"]));
    assert_eq!(omega(&out), 0.5);
    assert!(
        std::fs::read_to_string(out.join("config.toml"))
            .unwrap()
            .contains("omega = 0.5")
    );
    std::fs::remove_dir_all(&out).unwrap();
}

/// A run of 0 steps (a trial state evaluated) leaves its start as a checkpoint, so that it
/// can be trained later with `--resume DIR --steps N` (it had none, and resume refused).
#[test]
fn a_zero_step_run_can_be_resumed() {
    let out = scratch("zero");
    ok(&train("qd2d_n2_sj", &out, &["--steps", "0"]));
    assert_eq!(checkpoints(&out).len(), 1);
    ok(&resume(&out, &["--steps", "3"]));
    assert_eq!(metrics(&out).len() - 1, 3);
    std::fs::remove_dir_all(&out).unwrap();
}
