//! Distributed training through the real binary under `mpirun` (built with `--features mpi`;
//! run by `.ci/run`): two ranks against one process, bit-for-bit repeatability, identical
//! parameters on every rank, checkpoints resumed on 2, 1 and 3 ranks, and a rank killed
//! mid-run.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_nqs-train")
}

fn config(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../configs/{name}.toml"))
        .display()
        .to_string()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nqs-mpi-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// `mpirun -np ranks nqs-train args…`, allowed as root and on more ranks than cores.
fn mpirun(ranks: usize) -> Command {
    let mut c = Command::new("mpirun");
    c.args([
        "-np",
        &ranks.to_string(),
        "--oversubscribe",
        "--bind-to",
        "none",
    ])
    .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
    .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    // Containers often forbid the cross-memory-attach syscalls of the shared-memory
    // transport: copy through the shared segment instead.
    .env("OMPI_MCA_btl_vader_single_copy_mechanism", "none")
    .arg(bin());
    c
}

/// One process, without a launcher.
fn single() -> Command {
    Command::new(bin())
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "status {:?}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Small settings shared by every run (one thread per rank: two ranks fill two cores).
const SMALL: [&str; 10] = [
    "--set",
    "sampler.walkers=256",
    "--set",
    "sampler.threads=1",
    "--set",
    "eval.samples_per_walker=40",
    "--set",
    "run.checkpoint_every=5",
    "--set",
    "sampler.burn_in=100",
];

fn train(mut cmd: Command, name: &str, out: &Path, extra: &[&str]) -> Output {
    cmd.arg("--config")
        .arg(config(name))
        .arg("--out")
        .arg(out)
        .args(SMALL)
        .args(extra)
        .output()
        .expect("run nqs-train")
}

fn resume(mut cmd: Command, out: &Path, extra: &[&str]) -> Output {
    cmd.arg("--resume")
        .arg(out)
        .args(extra)
        .output()
        .expect("run nqs-train")
}

/// The deterministic columns of metrics.csv (everything but timings).
fn metrics(out: &Path) -> Vec<String> {
    std::fs::read_to_string(out.join("metrics.csv"))
        .expect("metrics.csv")
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            [0, 1, 2, 3, 4, 5, 10, 11, 12]
                .iter()
                .map(|&i| f[i])
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

fn summary(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary"))
        .expect("summary json")
}

/// (E, σ) of a finished run.
fn energy(out: &Path) -> (f64, f64) {
    let s = summary(out);
    (
        s["energy"].as_f64().expect("energy"),
        s["energy_error"].as_f64().expect("error"),
    )
}

fn assert_agree(a: &Path, b: &Path, what: &str) {
    let ((ea, sa), (eb, sb)) = (energy(a), energy(b));
    let tolerance = 3.0 * (sa * sa + sb * sb).sqrt();
    eprintln!("{what}: {ea:.5} ± {sa:.5} vs {eb:.5} ± {sb:.5}");
    assert!(
        (ea - eb).abs() < tolerance,
        "{what}: {ea} ± {sa} vs {eb} ± {sb}"
    );
}

/// The (value, error) column pairs after the first column of a CSV curve agree bin by bin
/// within 4σ in all but a few bins, their sums within 5 %, and their error bars in size.
fn assert_same_curve(a: &Path, b: &Path, file: &str) {
    let read = |dir: &Path| -> Vec<Vec<f64>> {
        std::fs::read_to_string(dir.join(file))
            .expect(file)
            .lines()
            .skip(1)
            .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
            .collect()
    };
    let (ra, rb) = (read(a), read(b));
    assert_eq!(ra.len(), rb.len());
    let (mut off, mut bins, mut sum_a, mut sum_b) = (0, 0, 0.0, 0.0);
    let (mut error_a, mut error_b) = (0.0, 0.0);
    for (x, y) in ra.iter().zip(&rb) {
        for c in (1..x.len()).step_by(2) {
            let sigma = (x[c + 1].powi(2) + y[c + 1].powi(2)).sqrt();
            bins += 1;
            off += usize::from((x[c] - y[c]).abs() > 4.0 * sigma + 1e-12);
            sum_a += x[c];
            sum_b += y[c];
            error_a += x[c + 1];
            error_b += y[c + 1];
        }
    }
    eprintln!(
        "{file}: {off} of {bins} bins beyond 4σ, sums {sum_a:.4} and {sum_b:.4}, summed errors {error_a:.4} and {error_b:.4}"
    );
    assert!(off * 20 <= bins, "{file}: {off} of {bins} bins differ");
    assert!(
        (sum_a / sum_b - 1.0).abs() < 0.05,
        "{file}: {sum_a} vs {sum_b}"
    );
    // The same number of samples gives the same error bars: one rank's histogram alone
    // would have errors √2 larger.
    let ratio = error_b / error_a;
    assert!((0.8..1.2).contains(&ratio), "{file}: error ratio {ratio}");
}

/// Every rank ended with the same parameters.
fn assert_same_parameters(out: &Path, ranks: usize) {
    let s = summary(out);
    assert_eq!(s["ranks"].as_u64(), Some(ranks as u64));
    let sums: Vec<&str> = s["parameter_checksums"]
        .as_array()
        .expect("checksums")
        .iter()
        .map(|v| v.as_str().expect("hex"))
        .collect();
    assert_eq!(sums.len(), ranks);
    assert!(sums.iter().all(|c| *c == sums[0]), "{sums:?}");
}

#[test]
fn two_ranks_agree_with_one_process_and_repeat_bit_for_bit() {
    let (one, one_mpi, a, b) = (
        scratch("one"),
        scratch("one-mpi"),
        scratch("a"),
        scratch("b"),
    );
    let steps = ["--steps", "20"];
    ok(&train(single(), "qd2d_n6_sj", &one, &steps));
    ok(&train(mpirun(1), "qd2d_n6_sj", &one_mpi, &steps));
    ok(&train(mpirun(2), "qd2d_n6_sj", &a, &steps));
    ok(&train(mpirun(2), "qd2d_n6_sj", &b, &steps));
    // mpirun -np 1 is the plain run; two -np 2 runs of one seed are the same run.
    assert_eq!(metrics(&one), metrics(&one_mpi));
    assert_eq!(energy(&one), energy(&one_mpi));
    assert_eq!(metrics(&a), metrics(&b));
    assert_eq!(energy(&a), energy(&b));
    assert_eq!(
        std::fs::read(a.join("sampler.json")).unwrap(),
        std::fs::read(b.join("sampler.json")).unwrap()
    );
    assert_same_parameters(&a, 2);
    assert_eq!(summary(&a)["samples"], summary(&one)["samples"]);
    assert_agree(&one, &a, "Slater-Jastrow, Adam: one process vs two ranks");
    // The ranks' density histograms add up to the one-process density (a missed or doubled
    // rank would put every bin off by a factor of two).
    assert_same_curve(&one, &a, "density_radial.csv");
    assert_same_curve(&one, &a, "pair_distribution.csv");
    // Only rank 0 logs.
    let log = train(mpirun(2), "qd2d_n6_sj", &b, &["--steps", "2", "--force"]);
    ok(&log);
    let stderr = String::from_utf8_lossy(&log.stderr);
    assert_eq!(stderr.matches("burn-in done").count(), 1, "{stderr}");
    for d in [one, one_mpi, a, b] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn stochastic_reconfiguration_of_a_neural_backflow_state_across_ranks() {
    let (one, two) = (scratch("sr-one"), scratch("sr-two"));
    let extra = ["--steps", "12", "--set", "model.factors.0.hidden=[4]"];
    ok(&train(single(), "qd2d_n6_backflow", &one, &extra));
    ok(&train(mpirun(2), "qd2d_n6_backflow", &two, &extra));
    assert_same_parameters(&two, 2);
    let cg: Vec<u64> = metrics(&two)
        .iter()
        .skip(1)
        .map(|l| l.split(',').nth(7).unwrap().parse().unwrap())
        .collect();
    assert!(cg.iter().all(|&i| i > 0), "CG iterations {cg:?}");
    assert_agree(&one, &two, "backflow, SR: one process vs two ranks");
    for d in [one, two] {
        let _ = std::fs::remove_dir_all(d);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.join("checkpoints")).unwrap();
    for sub in ["", "checkpoints"] {
        for e in std::fs::read_dir(from.join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                std::fs::copy(&p, to.join(sub).join(p.file_name().unwrap())).unwrap();
            }
        }
    }
}

fn walkers_saved(out: &Path) -> u64 {
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sampler.json")).unwrap()).unwrap();
    s["walkers"].as_u64().unwrap()
}

#[test]
fn checkpoints_of_two_ranks_resume_on_two_one_and_three() {
    let (full, split, on_one, on_three) = (
        scratch("ck-full"),
        scratch("ck-split"),
        scratch("ck-one"),
        scratch("ck-three"),
    );
    ok(&train(mpirun(2), "qd2d_n6_sj", &full, &["--steps", "20"]));
    ok(&train(mpirun(2), "qd2d_n6_sj", &split, &["--steps", "10"]));
    copy_dir(&split, &on_one);
    copy_dir(&split, &on_three);
    ok(&resume(mpirun(2), &split, &["--steps", "20"]));
    assert_eq!(metrics(&full), metrics(&split));
    assert_eq!(energy(&full), energy(&split));
    assert_eq!(
        std::fs::read(full.join("sampler.json")).unwrap(),
        std::fs::read(split.join("sampler.json")).unwrap()
    );
    ok(&resume(single(), &on_one, &["--steps", "20"]));
    ok(&resume(mpirun(3), &on_three, &["--steps", "20"]));
    for (dir, ranks) in [(&on_one, 1), (&on_three, 3)] {
        let m = metrics(dir);
        assert_eq!(m.len(), 21, "header and 20 steps");
        // Steps up to the checkpoint are the two-rank run's.
        assert_eq!(m[..11], metrics(&full)[..11]);
        assert_eq!(walkers_saved(dir), 256);
        assert_eq!(summary(dir)["samples"], summary(&full)["samples"]);
        assert_same_parameters(dir, ranks);
        assert_agree(&full, dir, &format!("resumed on {ranks} rank(s)"));
    }
    for d in [full, split, on_one, on_three] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// The pid of rank `rank` of a running job writing to `out` (read from /proc).
fn rank_pid(out: &Path, rank: usize) -> Option<u32> {
    let want = format!("OMPI_COMM_WORLD_RANK={rank}");
    let out = out.display().to_string();
    std::fs::read_dir("/proc").ok()?.find_map(|e| {
        let e = e.ok()?;
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
        let cmdline = String::from_utf8_lossy(&cmdline);
        if !cmdline.contains(&out) || !cmdline.starts_with(bin()) {
            return None;
        }
        let env = std::fs::read(e.path().join("environ")).ok()?;
        String::from_utf8_lossy(&env)
            .split('\0')
            .any(|v| v == want)
            .then_some(pid)
    })
}

fn rows(out: &Path) -> usize {
    std::fs::read_to_string(out.join("metrics.csv"))
        .map(|t| t.lines().count().saturating_sub(1))
        .unwrap_or(0)
}

/// A two-rank training of `qd2d_n6_sj` into `out`, running in the background (its output
/// discarded, so that no full pipe can stall it).
fn spawn_two_ranks(out: &Path, extra: &[&str]) -> Child {
    mpirun(2)
        .arg("--config")
        .arg(config("qd2d_n6_sj"))
        .arg("--out")
        .arg(out)
        .args(SMALL)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mpirun")
}

/// Wait until `job` has written `n` rows of metrics.csv (it must still be running).
fn wait_for_rows(job: &mut Child, out: &Path, n: usize) {
    let start = Instant::now();
    while rows(out) < n {
        assert!(start.elapsed() < Duration::from_secs(120), "no progress");
        assert!(job.try_wait().unwrap().is_none(), "job ended early");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The exit status of `job`, which must end within 60 s of `after`.
fn wait_for_exit(job: &mut Child, after: &str) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = job.try_wait().unwrap() {
            return s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "mpirun still running 60 s after {after}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_killed_rank_ends_the_job_and_resume_finishes_it() {
    let out = scratch("kill");
    let steps = 1500;
    let mut job = spawn_two_ranks(&out, &["--steps", &steps.to_string()]);
    wait_for_rows(&mut job, &out, 12);
    let pid = rank_pid(&out, 1).expect("rank 1 is running");
    let killed = Instant::now();
    Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    let status = wait_for_exit(&mut job, "SIGKILL of rank 1");
    eprintln!(
        "mpirun ended {:.1} s after SIGKILL of rank 1, status {status:?}",
        killed.elapsed().as_secs_f64()
    );
    assert!(!status.success());
    let before = metrics(&out);
    assert!(before.len() - 1 < steps, "the job was not cut short");
    let checkpoint_step = std::fs::read_dir(out.join("checkpoints"))
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_prefix("step-")?
                .strip_suffix(".ckpt")?
                .parse::<usize>()
                .ok()
        })
        .max()
        .expect("a checkpoint");
    ok(&resume(mpirun(2), &out, &[]));
    let after = metrics(&out);
    assert_eq!(after.len(), steps + 1, "every step once");
    let step_numbers: Vec<usize> = after[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(step_numbers, (1..=steps).collect::<Vec<_>>());
    // Nothing up to the checkpoint was lost or redone differently.
    assert_eq!(after[..=checkpoint_step], before[..=checkpoint_step]);
    assert_same_parameters(&out, 2);
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn only_training_runs_across_ranks() {
    let o = mpirun(2)
        .args([
            "ising-samples",
            "--side",
            "2",
            "--temperature",
            "2",
            "--samples",
            "3",
        ])
        .args(["--out", "/nonexistent/never-written"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("only training"), "{stderr}");
}

/// An error that only rank 0 sees (its run directory is not empty) ends every rank at once
/// through MPI_Abort, and nothing already written changes.
#[test]
fn an_error_on_one_rank_ends_every_rank() {
    let out = scratch("abort");
    ok(&train(mpirun(2), "qd2d_n6_sj", &out, &["--steps", "2"]));
    let before = std::fs::read(out.join("metrics.csv")).unwrap();
    let start = Instant::now();
    let o = train(mpirun(2), "qd2d_n6_sj", &out, &["--steps", "4"]);
    assert!(!o.status.success());
    assert!(start.elapsed() < Duration::from_secs(30), "the job hung");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("error (rank 0):") && stderr.contains("not empty"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(out.join("metrics.csv")).unwrap(), before);
    let _ = std::fs::remove_dir_all(out);
}

/// Ranks that resolved different configs (a stale copy of the file on one node, a flag that
/// reached one rank) are refused by key before anything is written; a walker count that
/// differed panicked on one rank while the other waited in a collective for ever.
#[test]
fn ranks_with_different_configs_are_refused_by_key() {
    let out = scratch("mismatch");
    // Open MPI's MPMD form, rank 0 and rank 1 with their own extra arguments, under
    // `timeout`: a regression that hangs fails the test instead of stalling it.
    let mpmd = |extras: [&[&str]; 2]| {
        let mut cmd = Command::new("timeout");
        cmd.args(["120", "mpirun"])
            .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
            .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
            .env("OMPI_MCA_btl_vader_single_copy_mechanism", "none")
            .args(["--oversubscribe", "--bind-to", "none"]);
        for (k, extra) in extras.iter().enumerate() {
            if k > 0 {
                cmd.arg(":");
            }
            cmd.args(["-np", "1", bin(), "--config"])
                .arg(config("qd2d_n6_sj"))
                .arg("--out")
                .arg(&out)
                .args(SMALL)
                .args(["--steps", "2"])
                .args(*extra);
        }
        let start = Instant::now();
        let o = cmd.output().unwrap();
        assert!(!o.status.success());
        assert!(start.elapsed() < Duration::from_secs(60), "the job hung");
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let stderr = mpmd([&[], &["--set", "sampler.walkers=384"]]);
    assert!(
        stderr.contains(
            "rank 1 resolved another config than rank 0: sampler.walkers = 384 there, 256 on rank 0"
        ),
        "{stderr}"
    );
    assert!(!out.exists(), "{} was created", out.display());
    // A command line only one rank cannot parse: printed once, every rank leaves.
    let stderr = mpmd([&[], &["--bogus"]]);
    assert_eq!(
        stderr.matches("unexpected argument '--bogus'").count(),
        1,
        "{stderr}"
    );
    assert!(!out.exists(), "{} was created", out.display());
}

/// SIGUSR1 to mpirun (forwarded to every rank): the ranks agree on a step, rank 0 writes a
/// checkpoint there, every rank exits, and `--resume` continues bit for bit.
#[test]
fn sigusr1_stops_every_rank_at_one_step_with_a_checkpoint() {
    let (full, split) = (scratch("usr1-full"), scratch("usr1-split"));
    let steps = ["--steps", "300", "--set", "run.checkpoint_every=1000"];
    ok(&train(mpirun(2), "qd2d_n6_sj", &full, &steps));
    let mut job = spawn_two_ranks(&split, &steps);
    wait_for_rows(&mut job, &split, 5);
    Command::new("kill")
        .args(["-USR1", &job.id().to_string()])
        .status()
        .unwrap();
    let status = wait_for_exit(&mut job, "SIGUSR1");
    assert!(!status.success(), "an interrupted run exits non-zero");
    let done = rows(&split);
    assert!(done < 300, "stopped early");
    let checkpoint = split
        .join("checkpoints")
        .join(format!("step-{done:09}.ckpt"));
    assert!(checkpoint.is_file(), "checkpoint at the stop step {done}");
    ok(&resume(mpirun(2), &split, &[]));
    assert_eq!(metrics(&full), metrics(&split));
    assert_eq!(energy(&full), energy(&split));
    for d in [full, split] {
        let _ = std::fs::remove_dir_all(d);
    }
}
