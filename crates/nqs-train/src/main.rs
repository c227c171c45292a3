//! `nqs-train`: train a neural-network quantum state by variational Monte Carlo.
//!
//! ```text
//! nqs-train --config configs/qd2d_n6_sj.toml [--backend flex|ndarray|wgpu] [--out DIR] [--set KEY=VALUE]... [--seed N]
//! nqs-train eval --from DIR [--samples N]
//! nqs-train emulate --from SWEEP_DIR [--size n] [--predict a:b:n] [--out DIR]
//! ```

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use nqs_train::run_dir::{RunDir, Summary};
use nqs_train::session::{self, Target};
use nqs_train::{Backend, Config, Precision, Trainer, backend, compare};

/// Every tensor op allocates its output; glibc's malloc handed those buffers back to the
/// kernel and page-faulted them in again, and mimalloc keeps them: log|ψ| of N = 6 at
/// 1024 walkers 0.82 → 0.35 ms (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(
    name = "nqs-train",
    version,
    about = "Variational Monte Carlo with neural-network quantum states"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    train: TrainArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a model (the default when no subcommand is given).
    Train(TrainArgs),
    /// Re-evaluate a trained run at frozen parameters.
    Eval(EvalArgs),
    /// Time optimisation steps (sampling / local energy / gradient) and print a table.
    Bench(BenchArgs),
    /// Compare runs (or configs, trained first): table, energy plot.
    Compare(CompareArgs),
    /// Train one run per value of a swept config key: table and plots against the value.
    Sweep(SweepArgs),
    /// Emulate the energy across a swept parameter with a parametric matrix model.
    Emulate(EmulateArgs),
}

#[derive(Args, Debug, Clone)]
struct EmulateArgs {
    /// A sweep directory (its sweep.csv) or a CSV whose rows are c, E, σ.
    #[arg(long)]
    from: PathBuf,
    /// The swept key (checked against the sweep's), e.g. system.omega.
    #[arg(long)]
    key: Option<String>,
    /// Matrix size n (default: the smallest of 1, 2, 3 that fits the data within their error
    /// bars, else the one with the smallest leave-one-out error).
    #[arg(long)]
    size: Option<usize>,
    /// Prediction grid START:END:POINTS (default: the training range and a quarter beyond).
    #[arg(long, value_name = "START:END:POINTS")]
    predict: Option<String>,
    /// Output directory (default: FROM/emulator for a sweep, FROM's stem + "-emulator").
    #[arg(long)]
    out: Option<PathBuf>,
    /// Seed of the fits' random starts and of the bootstrap.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Args, Debug, Clone)]
struct CompareArgs {
    /// Run directories, or config files to train first (into OUT/<config name>).
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// Where to write comparison.md, comparison.csv and energy.png/svg.
    #[arg(long, default_value = "runs/compare")]
    out: PathBuf,
    /// Override a config key for configs trained here (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args, Debug, Clone)]
struct SweepArgs {
    /// Base configuration.
    #[arg(long)]
    config: PathBuf,
    /// KEY=V1,V2,... sweeps KEY (exactly one such); KEY=VALUE fixes a key.
    #[arg(long = "set", value_name = "KEY=VALUE[,VALUE...]", required = true)]
    set: Vec<String>,
    /// Output directory (one run per value inside, resumable).
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args, Debug, Clone)]
struct BenchArgs {
    /// Configs to benchmark (repeatable).
    #[arg(long, required = true)]
    config: Vec<PathBuf>,
    /// Walker counts (repeatable; default: each config's own).
    #[arg(long)]
    walkers: Vec<usize>,
    /// Timed steps after warm-up.
    #[arg(long, default_value_t = 20)]
    steps: usize,
    /// Untimed warm-up steps (after the burn-in).
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// Also run each config's whole training and evaluation and report its wall time.
    #[arg(long)]
    full: bool,
    /// Override a config key for every config (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Where to write the rows as JSON.
    #[arg(long, default_value = "bench.json")]
    json: PathBuf,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args, Debug, Clone)]
struct DeviceArgs {
    /// Compute backend.
    #[arg(long, value_enum, default_value = "flex")]
    backend: Backend,
    /// Float precision (default: f64 on CPU backends, f32 on wgpu).
    #[arg(long, value_enum)]
    precision: Option<Precision>,
}

#[derive(Args, Debug, Clone)]
struct TrainArgs {
    /// Run configuration (TOML).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Run directory (default: runs/<config name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override a config key, e.g. --set system.omega=0.5 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Seed (same as --set run.seed=N).
    #[arg(long)]
    seed: Option<u64>,
    /// Continue the run in this directory from its newest good checkpoint.
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
    /// Total number of optimisation steps (same as --set run.steps=N; extends a resumed run).
    #[arg(long)]
    steps: Option<usize>,
    /// Overwrite a non-empty run directory.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args, Debug, Clone)]
struct EvalArgs {
    /// Run directory of a finished training.
    #[arg(long)]
    from: PathBuf,
    /// Measurements per walker (default: the run's eval.samples_per_walker).
    #[arg(long)]
    samples: Option<usize>,
    #[command(flatten)]
    device: DeviceArgs,
}

fn main() {
    // burn 0.22 materialises a loaded optimiser state on `Device::default()`, which is wgpu
    // when wgpu is compiled in; pin the default to the CPU backend unless the user chose one.
    if std::env::var_os("BURN_DEVICE").is_none() {
        // SAFETY: first statement of `main`, before any other thread exists, so no thread can
        // read the environment concurrently.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var("BURN_DEVICE", "flex");
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Train(args)) => train(args),
        Some(Command::Eval(args)) => eval(args),
        Some(Command::Bench(args)) => bench(args),
        Some(Command::Compare(args)) => compare_runs(args),
        Some(Command::Sweep(args)) => sweep(args),
        Some(Command::Emulate(args)) => emulate(args),
        None => train(cli.train),
    };
    if let Err(err) = result {
        // One line: the error and its causes.
        let chain: Vec<String> = err.chain().map(|e| e.to_string()).collect();
        eprintln!("error: {}", chain.join(": "));
        std::process::exit(1);
    }
}

fn device_for(args: &DeviceArgs) -> Result<(burn::tensor::Device, Backend, Precision)> {
    let precision = args
        .precision
        .unwrap_or_else(|| args.backend.default_precision());
    let device = backend::device(args.backend, precision)?;
    Ok((device, args.backend, precision))
}

/// Ctrl-C: finish the current step, write a checkpoint, exit with status 130.
fn stop_flag() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    stop
}

fn target(args: &DeviceArgs) -> Result<Target> {
    let (device, backend, precision) = device_for(args)?;
    Ok(Target {
        device,
        backend,
        precision,
        progress: std::io::stderr().is_terminal(),
    })
}

/// Print a finished run's summary, or exit with 130 when it was interrupted.
fn report(summary: Option<Summary>, dir: &Path) -> Summary {
    match summary {
        Some(s) => {
            print_summary(&s, dir);
            s
        }
        None => std::process::exit(130),
    }
}

fn train(args: TrainArgs) -> Result<()> {
    let stop = stop_flag();
    let mut overrides = args.set.clone();
    if let Some(seed) = args.seed {
        overrides.push(format!("run.seed={seed}"));
    }
    if let Some(steps) = args.steps {
        overrides.push(format!("run.steps={steps}"));
    }
    if let Some(dir) = args.resume.clone() {
        let config = args
            .config
            .as_ref()
            .map(|p| Config::load(p, &overrides))
            .transpose()?;
        let target = target(&args.device)?;
        report(
            session::resume(&dir, config, &overrides, &target, &stop)?,
            &dir,
        );
        return Ok(());
    }
    let Some(config_path) = args.config.clone() else {
        bail!(
            "missing --config FILE (e.g. nqs-train --config configs/qd2d_n2_sj.toml) or --resume DIR"
        );
    };
    let config = Config::load(&config_path, &overrides)?;
    let target = target(&args.device)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&config_path));
    report(
        session::start(config, &out, args.force, &target, &stop)?,
        &out,
    );
    Ok(())
}

fn eval(args: EvalArgs) -> Result<()> {
    let run = RunDir::open(&args.from)?;
    let config = Config::load(&run.file("config.toml"), &[])?;
    let (device, backend, precision) = device_for(&args.device)?;
    let mut trainer = Trainer::new(config, device)?;
    run.load_state(&mut trainer)
        .with_context(|| format!("loading the trained state of {}", args.from.display()))?;
    if let Ok(text) = std::fs::read_to_string(run.file("summary.json"))
        && let Ok(previous) = serde_json::from_str::<Summary>(&text)
    {
        trainer.step = previous.steps;
    }
    let samples = args
        .samples
        .unwrap_or(trainer.config.eval.samples_per_walker);
    if samples < 2 {
        bail!("--samples {samples}: need at least 2 measurements per walker");
    }
    let evaluation = trainer.evaluate(samples)?;
    let summary = Summary::new(&trainer, &evaluation, 0.0, backend.name(), precision.name());
    run.write_atomic("eval.json", &serde_json::to_vec_pretty(&summary)?)?;
    print_summary(&summary, &args.from);
    Ok(())
}

fn bench(args: BenchArgs) -> Result<()> {
    let (device, backend, precision) = device_for(&args.device)?;
    let configs = args
        .config
        .iter()
        .map(|p| Ok((p.clone(), Config::load(p, &args.set)?)))
        .collect::<Result<Vec<_>>>()?;
    println!("{}", nqs_train::bench::MARKDOWN_HEADER);
    let mut rows = Vec::new();
    for (path, config) in configs {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let walker_counts = if args.walkers.is_empty() {
            vec![config.sampler.walkers]
        } else {
            args.walkers.clone()
        };
        for walkers in walker_counts {
            let row = nqs_train::bench::bench(
                &name,
                config.clone(),
                walkers,
                args.steps.max(1),
                args.warmup,
                args.full,
                &device,
                (backend.name(), precision.name()),
            )?;
            println!("{}", nqs_train::bench::markdown_row(&row));
            rows.push(row);
        }
    }
    std::fs::write(&args.json, serde_json::to_vec_pretty(&rows)?)
        .with_context(|| format!("writing {}", args.json.display()))?;
    Ok(())
}

fn compare_runs(args: CompareArgs) -> Result<()> {
    let stop = stop_flag();
    let target = target(&args.device)?;
    let mut dirs = Vec::new();
    for path in &args.runs {
        if path.is_file() {
            let config = Config::load(path, &args.set)?;
            let dir = args
                .out
                .join(default_out(path).file_name().unwrap_or_default());
            report(session::complete(config, &dir, &target, &stop)?, &dir);
            dirs.push(dir);
        } else {
            dirs.push(path.clone());
        }
    }
    let rows = compare::load_rows(&dirs)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let table = compare::write(&rows, &args.out)?;
    println!("{table}");
    Ok(())
}

fn sweep(args: SweepArgs) -> Result<()> {
    let stop = stop_flag();
    let plan = compare::SweepPlan::parse(&args.set)?;
    Config::load(&args.config, &plan.fixed)?; // fail early on a bad fixed override
    let target = target(&args.device)?;
    let out = args.out.clone().unwrap_or_else(|| {
        default_out(&args.config).with_file_name(format!(
            "{}-sweep-{}",
            default_out(&args.config)
                .file_name()
                .unwrap_or_default()
                .to_string_lossy(),
            plan.key
        ))
    });
    let mut points = Vec::new();
    for value in &plan.values {
        let mut overrides = plan.fixed.clone();
        overrides.push(format!("{}={value}", plan.key));
        let config = Config::load(&args.config, &overrides)?;
        let dir = out.join(format!("{}={value}", plan.key));
        let summary = report(session::complete(config, &dir, &target, &stop)?, &dir);
        points.push((value.clone(), summary, dir));
    }
    let table = compare::write_sweep(&plan.key, &points, &out)?;
    println!("{table}");
    Ok(())
}

fn emulate(args: EmulateArgs) -> Result<()> {
    let predict = args
        .predict
        .as_deref()
        .map(nqs_train::emulate::parse_grid)
        .transpose()?;
    let out = args.out.clone().unwrap_or_else(|| {
        if args.from.is_dir() {
            args.from.join("emulator")
        } else {
            args.from.with_extension("").with_file_name(format!(
                "{}-emulator",
                args.from.file_stem().unwrap_or_default().to_string_lossy()
            ))
        }
    });
    let table = nqs_train::emulate::run(&nqs_train::emulate::EmulateRequest {
        from: args.from,
        key: args.key,
        size: args.size,
        predict,
        out: out.clone(),
        seed: args.seed,
    })?;
    println!("{table}");
    println!("-> {}", out.display());
    Ok(())
}

fn default_out(config: &Path) -> PathBuf {
    let stem = config
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    PathBuf::from("runs").join(stem)
}

fn print_summary(s: &Summary, dir: &Path) {
    println!(
        "E = {:.6} ± {:.6}  (variance {:.6}, kinetic {:.5}, potential {:.5}, acceptance {:.2}, {} samples)",
        s.energy, s.energy_error, s.variance, s.kinetic, s.potential, s.acceptance, s.samples
    );
    println!(
        "{} parameters, {} steps, {:.2} s/step, {:.1} s total, {} {} -> {}",
        s.n_parameters,
        s.steps,
        s.seconds_per_step,
        s.wall_seconds,
        s.backend,
        s.precision,
        dir.display()
    );
}
