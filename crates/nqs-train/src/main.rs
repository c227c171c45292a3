//! `nqs-train`: train a neural-network quantum state by variational Monte Carlo.
//!
//! ```text
//! nqs-train --config configs/qd2d_n6_sj.toml [--backend flex|ndarray|wgpu] [--out DIR] [--set KEY=VALUE]... [--seed N]
//! nqs-train eval --from DIR [--samples N]
//! nqs-train emulate --from SWEEP_DIR [--size n] [--predict a:b:n] [--out DIR]
//! nqs-train fit-rbm --config configs/rbm_ising_l4_t2.27.toml [--data FILE] [--out DIR]
//! nqs-train ising-samples --side 4 --temperature 2.27 --samples 10000 --out FILE
//! nqs-train tfim-samples --sites 10 --field 1 --samples 10000 --out FILE
//! mpirun -np R nqs-train --config FILE [--walkers-per-rank N]   (built with --features mpi)
//! ```

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use nqs_train::distributed::{self, Comm};
use nqs_train::run_dir::{RunDir, Summary};
use nqs_train::session::{self, Target};
use nqs_train::{Backend, Config, Precision, TrainError, Trainer, backend, compare};

/// Every tensor op allocates its output: small blocks from mimalloc, large ones from a
/// C-library `malloc` that keeps its memory (`nqs_train::allocator`, docs/performance.md).
#[global_allocator]
static GLOBAL: nqs_train::allocator::Hybrid = nqs_train::allocator::Hybrid;

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
    /// Train a restricted Boltzmann machine on data (CD/PCD, exact or AIS likelihoods).
    FitRbm(FitRbmArgs),
    /// Write samples of the 2D Ising model (exact for side ≤ 4, else Wolff Monte Carlo).
    IsingSamples(IsingArgs),
    /// Write σᶻ samples of the transverse-field Ising chain's ground state (exact diagonalisation).
    TfimSamples(TfimArgs),
    /// Ising observables of several fit-rbm runs against temperature: table and plots.
    RbmThermo(RbmThermoArgs),
}

#[derive(Args, Debug, Clone)]
struct RbmThermoArgs {
    /// fit-rbm run directories with an Ising target.
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// Where to write thermo.md and the plots.
    #[arg(long, default_value = "runs/rbm-thermo")]
    out: PathBuf,
}

#[derive(Args, Debug, Clone)]
struct FitRbmArgs {
    /// Fit configuration (TOML).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data file (same as --set data.path=FILE).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Run directory (default: runs/<config name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override a config key, e.g. --set model.hidden=32 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Seed (same as --set training.seed=N).
    #[arg(long)]
    seed: Option<u64>,
    /// Total epochs (same as --set training.epochs=N; extends a resumed run).
    #[arg(long)]
    epochs: Option<usize>,
    /// Continue the run in this directory from its newest good checkpoint.
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
    /// Overwrite a non-empty run directory.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args, Debug, Clone)]
struct IsingArgs {
    /// Lattice side L (L × L spins, periodic).
    #[arg(long)]
    side: usize,
    /// Temperature T (k_B = 1).
    #[arg(long, allow_negative_numbers = true)]
    temperature: f64,
    /// Coupling J.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    coupling: f64,
    /// Number of samples.
    #[arg(long)]
    samples: usize,
    /// Exact sampling (side ≤ 4) or Wolff cluster Monte Carlo (default: exact when possible).
    #[arg(long, value_parser = ["exact", "wolff"])]
    method: Option<String>,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output file (0/1 rows; refused if it exists, unless --force).
    #[arg(long)]
    out: PathBuf,
    /// Overwrite an existing output file.
    #[arg(long)]
    force: bool,
}

#[derive(Args, Debug, Clone)]
struct TfimArgs {
    /// Number of spins N (2 to 16).
    #[arg(long)]
    sites: usize,
    /// Transverse field h.
    #[arg(long, allow_negative_numbers = true)]
    field: f64,
    /// Coupling J.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    coupling: f64,
    /// Periodic chain (default: open).
    #[arg(long)]
    periodic: bool,
    /// Number of samples.
    #[arg(long)]
    samples: usize,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output file (0/1 rows, 1 = σᶻ up; refused if it exists, unless --force).
    #[arg(long)]
    out: PathBuf,
    /// Overwrite an existing output file.
    #[arg(long)]
    force: bool,
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
    #[arg(long, value_name = "START:END:POINTS", allow_hyphen_values = true)]
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
    /// Walkers on each MPI rank (sets sampler.walkers to this times the number of ranks).
    #[arg(long)]
    walkers_per_rank: Option<usize>,
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
    nqs_train::allocator::configure();
    quiet_on_closed_stdout();
    // burn 0.22 materialises a loaded optimiser state on `Device::default()`, which is wgpu
    // when wgpu is compiled in; pin the default to the CPU backend unless the user chose one.
    if std::env::var_os("BURN_DEVICE").is_none() {
        // SAFETY: at the start of `main`, before any other thread exists, so no thread can
        // read the environment concurrently.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var("BURN_DEVICE", "flex");
        }
    }
    let mpi = match distributed::Session::init() {
        Ok(session) => session,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let comm = mpi.comm;
    // Only rank 0 logs; the others report errors only.
    let filter = if comm.is_root() {
        tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
    } else {
        tracing_subscriber::EnvFilter::new("error")
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    // The ranks agree on whether to go on before any of them leaves: a parse error, --help,
    // --version or a subcommand that does not run across ranks is printed once (by the
    // lowest rank that met it; each rank's copy interleaved into one garbled line) and every
    // rank finalises MPI. A rank that left alone (its own arguments, MPMD) would leave the
    // others waiting in the first collective for ever.
    let parsed = Cli::try_parse();
    let refused =
        |cli: &Cli| comm.size() > 1 && !matches!(cli.command, None | Some(Command::Train(_)));
    let verdict = match &parsed {
        Ok(cli) if refused(cli) => 1.0,
        Ok(_) => 0.0,
        Err(_) => 2.0,
    };
    let verdicts = comm.gather(&[verdict]);
    if let Some(first) = verdicts.iter().position(|&v| v != 0.0) {
        if comm.rank() == first {
            match &parsed {
                Err(e) => {
                    let _ = e.print();
                }
                Ok(_) => eprintln!(
                    "error: only training (nqs-train --config FILE, or --resume DIR) runs across MPI ranks; run this subcommand as one process"
                ),
            }
        }
        let code = match &parsed {
            Err(e) if verdicts[first] == 2.0 => e.exit_code(),
            _ => 1,
        };
        drop(mpi);
        std::process::exit(code);
    }
    let cli = parsed.expect("every rank parsed its command line");
    // A panic on one rank of several would unwind into MPI_Finalize while the others wait
    // in a collective, for ever: it ends every rank through MPI_Abort instead (the panic's
    // message is already printed by the hook).
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(cli, comm)));
    let result = match outcome {
        Ok(result) => result,
        Err(_) if comm.size() > 1 => {
            eprintln!(
                "error (rank {}): the panic above ended this rank; ending every rank",
                comm.rank()
            );
            comm.abort(101);
        }
        Err(payload) => std::panic::resume_unwind(payload),
    };
    if let Err(err) = &result
        && err.downcast_ref::<Interrupted>().is_some()
    {
        // Every rank stopped at the same step; finalise MPI before leaving.
        drop(mpi);
        std::process::exit(130);
    }
    if let Err(err) = result {
        // One line: the error and its causes.
        let chain: Vec<String> = err.chain().map(|e| e.to_string()).collect();
        if comm.size() > 1 {
            // MPI_Abort ends every rank, including those waiting in a collective. An error
            // every rank meets (bad input) is printed once, by rank 0, whose abort ends the
            // others during their pause; an error of one other rank alone is printed after it.
            if !comm.is_root() {
                // Long enough for rank 0's abort to arrive on a loaded machine (with 1 s,
                // three ranks often printed the same bad-input error three times).
                std::thread::sleep(std::time::Duration::from_secs(5));
            }
            eprintln!("error (rank {}): {}", comm.rank(), chain.join(": "));
            comm.abort(1);
        }
        eprintln!("error: {}", chain.join(": "));
        std::process::exit(1);
    }
    drop(mpi); // MPI_Finalize
}

/// The subcommand's work.
fn run(cli: Cli, comm: Comm) -> Result<()> {
    match cli.command {
        Some(Command::Train(args)) => train(args, comm),
        Some(Command::Eval(args)) => eval(args),
        Some(Command::Bench(args)) => bench(args),
        Some(Command::Compare(args)) => compare_runs(args),
        Some(Command::Sweep(args)) => sweep(args),
        Some(Command::Emulate(args)) => emulate(args),
        Some(Command::FitRbm(args)) => fit_rbm(args),
        Some(Command::IsingSamples(args)) => ising_samples(args),
        Some(Command::TfimSamples(args)) => tfim_samples(args),
        Some(Command::RbmThermo(args)) => nqs_train::run_dir::refuse_run_directory(&args.out)
            .and_then(|()| nqs_train::generative::thermo_plot::write(&args.runs, &args.out))
            .map(|table| {
                println!("{table}");
                println!("-> {}", args.out.display());
            })
            .map_err(Into::into),
        None => train(cli.train, comm),
    }
}

fn device_for(args: &DeviceArgs) -> Result<(burn::tensor::Device, Backend, Precision)> {
    let precision = args
        .precision
        .unwrap_or_else(|| args.backend.default_precision());
    let device = backend::device(args.backend, precision)?;
    Ok((device, args.backend, precision))
}

/// Ctrl-C (SIGINT), SIGTERM or SIGUSR1: finish the current step, write a checkpoint, exit
/// with status 130. Under `mpirun` the terminal's Ctrl-C reaches mpirun, which sends its
/// ranks SIGTERM and soon after SIGKILL; SIGUSR1 sent to mpirun is forwarded to every rank
/// and gives a stop with no deadline (`kill -USR1 <mpirun pid>`; Slurm: `scancel
/// --signal=USR1`, or `#SBATCH --signal=USR1@120` before the time limit).
fn stop_flag() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    // A second SIGTERM while the first is pending ends the process at once.
    let _ = signal_hook::flag::register_conditional_shutdown(
        signal_hook::consts::SIGTERM,
        143,
        stop.clone(),
    );
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGUSR1] {
        let _ = signal_hook::flag::register(signal, stop.clone());
    }
    stop
}

fn target(args: &DeviceArgs) -> Result<Target> {
    let (device, backend, precision) = device_for(args)?;
    Ok(Target {
        device,
        backend,
        precision,
        progress: std::io::stderr().is_terminal(),
        comm: Comm::single(),
    })
}

/// A closed standard output (`nqs-train … | head -1`) ends the process by SIGPIPE, quietly,
/// as it ends other Unix tools; Rust ignores SIGPIPE, and `println!` then panicked.
fn quiet_on_closed_stdout() {
    #[cfg(unix)]
    {
        const SIGPIPE: i32 = 13;
        const SIG_DFL: usize = 0;
        #[allow(unsafe_code)]
        unsafe extern "C" {
            fn signal(signum: i32, handler: usize) -> usize;
        }
        // SAFETY: at the start of `main`, before any thread exists; restores the default
        // disposition of one signal (no handler code runs).
        #[allow(unsafe_code)]
        unsafe {
            signal(SIGPIPE, SIG_DFL);
        }
    }
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

/// A training that stopped on request (a checkpoint was written): exit status 130.
#[derive(Debug)]
struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted (a checkpoint was written)")
    }
}

impl std::error::Error for Interrupted {}

/// Print a finished training's summary (rank 0), or report the interruption.
fn finished(summary: Option<Summary>, dir: &Path, comm: Comm) -> Result<()> {
    match summary {
        Some(s) if comm.is_root() => print_summary(&s, dir),
        Some(_) => {}
        None => return Err(Interrupted.into()),
    }
    Ok(())
}

fn train(args: TrainArgs, comm: Comm) -> Result<()> {
    let stop = stop_flag();
    refuse_flag_and_set(
        &args.set,
        &[
            (
                args.walkers_per_rank.is_some(),
                "--walkers-per-rank",
                "sampler.walkers",
            ),
            (args.seed.is_some(), "--seed", "run.seed"),
            (args.steps.is_some(), "--steps", "run.steps"),
        ],
    )?;
    let mut overrides = args.set.clone();
    if let Some(per_rank) = args.walkers_per_rank {
        overrides.push(format!("sampler.walkers={}", per_rank * comm.size()));
    }
    if let Some(seed) = args.seed {
        overrides.push(format!("run.seed={seed}"));
    }
    if let Some(steps) = args.steps {
        overrides.push(format!("run.steps={steps}"));
    }
    if let Some(dir) = args.resume.clone() {
        same_kind_of_run(&dir, false)?;
        if let Some(out) = &args.out {
            bail!(
                "--out {} with --resume {}: a resumed run goes on in its own directory (copy it first to continue elsewhere)",
                out.display(),
                dir.display()
            );
        }
        let config = args
            .config
            .as_ref()
            .map(|p| Config::load(p, &overrides))
            .transpose()?;
        let target = Target {
            comm,
            ..target(&args.device)?
        };
        let summary = session::resume(&dir, config, &overrides, &target, &stop)?;
        return finished(summary, &dir, comm);
    }
    let Some(config_path) = args.config.clone() else {
        bail!(
            "missing --config FILE (e.g. nqs-train --config configs/qd2d_n2_sj.toml) or --resume DIR"
        );
    };
    let config = Config::load(&config_path, &overrides)?;
    let target = Target {
        comm,
        ..target(&args.device)?
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&config_path));
    let summary = session::start(config, &out, args.force, &target, &stop)?;
    finished(summary, &out, comm)
}

/// A flag and a `--set` of the key it sets, (given, flag, key): one would silently win.
fn refuse_flag_and_set(set: &[String], flags: &[(bool, &str, &str)]) -> Result<()> {
    for &(given, flag, key) in flags {
        if given
            && set
                .iter()
                .any(|s| s.split_once('=').is_some_and(|(k, _)| k.trim() == key))
        {
            bail!("{flag} and --set {key}=… both set {key}: give one of them");
        }
    }
    Ok(())
}

/// A resume of the other command's run directory is refused by name (its checkpoints
/// looked corrupt to the wrong reader: "bad metadata: missing field 'step'").
fn same_kind_of_run(dir: &Path, fit: bool) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(dir.join("config.toml")) else {
        return Ok(()); // the resume itself names what is missing
    };
    let Ok(table) = text.parse::<toml::Table>() else {
        return Ok(());
    };
    let is_fit = table.contains_key("data") && !table.contains_key("system");
    match (fit, is_fit) {
        (false, true) => bail!(
            "{} is a fit-rbm run: continue it with nqs-train fit-rbm --resume {}",
            dir.display(),
            dir.display()
        ),
        (true, false) => bail!(
            "{} is a training run, not a fit-rbm run: continue it with nqs-train --resume {}",
            dir.display(),
            dir.display()
        ),
        _ => Ok(()),
    }
}

fn eval(args: EvalArgs) -> Result<()> {
    let run = RunDir::open(&args.from)?;
    let config = Config::load(&run.file("config.toml"), &[])?;
    let (device, backend, precision) = device_for(&args.device)?;
    let mut trainer = Trainer::for_evaluation(config, device)?;
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
    trainer.stop = Some(stop_flag());
    let evaluation = match trainer.evaluate(samples) {
        Err(TrainError::Stopped) => {
            tracing::warn!("evaluation interrupted: nothing written");
            return Err(Interrupted.into());
        }
        e => e?,
    };
    let summary = Summary::new(&trainer, &evaluation, 0.0, backend.name(), precision.name());
    run.write_atomic("eval.json", &serde_json::to_vec_pretty(&summary)?)?;
    print_summary(&summary, &args.from);
    Ok(())
}

fn bench(args: BenchArgs) -> Result<()> {
    if let Some(parent) = args.json.parent()
        && !parent.as_os_str().is_empty()
        && !parent.is_dir()
    {
        bail!(
            "--json {}: the folder {} does not exist",
            args.json.display(),
            parent.display()
        );
    }
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
    nqs_train::run_dir::refuse_run_directory(&args.out)?;
    // Configs (trained into OUT/<name>) and run directories; every config is checked, and
    // any run of it already in OUT, before the first one trains.
    let mut entries = Vec::new();
    for path in &args.runs {
        if path.is_file() {
            let config = Config::load(path, &args.set)?;
            let dir = args
                .out
                .join(default_out(path).file_name().unwrap_or_default());
            session::check_reusable(&config, &dir)?;
            entries.push((dir, Some(config)));
        } else if path.join("config.toml").is_file() {
            if !args.set.is_empty() {
                bail!(
                    "--set applies to configs, and {} is a run directory (compared as it is); train it anew from its config.toml to change a setting",
                    path.display()
                );
            }
            entries.push((path.clone(), None));
        } else {
            bail!(
                "{}: neither a config file nor a run directory (no config.toml in it)",
                path.display()
            );
        }
    }
    let mut dirs = Vec::new();
    for (dir, config) in entries {
        if let Some(config) = config {
            report(session::complete(config, &dir, &target, &stop)?, &dir);
        }
        dirs.push(dir);
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
    // Every point's config is checked before the first one trains.
    let configs = plan
        .values
        .iter()
        .map(|value| {
            let mut overrides = plan.fixed.clone();
            overrides.push(format!("{}={value}", plan.key));
            Ok((value, Config::load(&args.config, &overrides)?))
        })
        .collect::<Result<Vec<_>>>()?;
    nqs_train::run_dir::refuse_run_directory(&out)?;
    let dir_of = |value: &str| out.join(format!("{}={value}", plan.key));
    for (value, config) in &configs {
        session::check_reusable(config, &dir_of(value))?;
    }
    let mut points = Vec::new();
    for (value, config) in configs {
        let dir = dir_of(value);
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
    nqs_train::run_dir::refuse_run_directory(&out)?;
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

fn fit_rbm(args: FitRbmArgs) -> Result<()> {
    use nqs_train::generative::{self, FitConfig};
    let (device, _, _) = device_for(&args.device)?;
    let stop = stop_flag();
    let summary = if let Some(dir) = &args.resume {
        same_kind_of_run(dir, true)?;
        if args.config.is_some()
            || args.data.is_some()
            || !args.set.is_empty()
            || args.out.is_some()
            || args.seed.is_some()
        {
            bail!(
                "--resume DIR continues in DIR with the run's own config.toml and data; only --epochs may change (not --config, --data, --set, --out, --seed)"
            );
        }
        generative::resume(dir, args.epochs, device, &stop)?
    } else {
        let Some(path) = &args.config else {
            bail!(
                "missing --config FILE (e.g. nqs-train fit-rbm --config configs/rbm_ising_l4_t2.27.toml) or --resume DIR"
            );
        };
        refuse_flag_and_set(
            &args.set,
            &[
                (args.data.is_some(), "--data", "data.path"),
                (args.seed.is_some(), "--seed", "training.seed"),
                (args.epochs.is_some(), "--epochs", "training.epochs"),
            ],
        )?;
        let mut overrides = args.set.clone();
        if let Some(data) = &args.data {
            overrides.push(format!("data.path={:?}", data.display().to_string()));
        }
        if let Some(seed) = args.seed {
            overrides.push(format!("training.seed={seed}"));
        }
        if let Some(epochs) = args.epochs {
            overrides.push(format!("training.epochs={epochs}"));
        }
        let config = FitConfig::load(path, &overrides)?;
        let out = args.out.clone().unwrap_or_else(|| default_out(path));
        generative::start(config, &out, args.force, device, &stop)?
    };
    let Some(summary) = summary else {
        return Err(Interrupted.into());
    };
    let l = &summary.likelihood;
    println!(
        "log-likelihood per sample: train {:.5}, validation {:.5} (log Z = {:.5} ± {:.5}, {}){}",
        l.train,
        l.valid,
        l.log_z,
        l.log_z_error,
        summary.log_z_method,
        summary
            .exact_valid_ll
            .map(|v| format!("; exact distribution {v:.5}"))
            .unwrap_or_default()
    );
    if let Some(kl) = l.kl {
        println!("KL(target ‖ RBM) = {kl:.5} nats");
    }
    if let Some(f) = l.fidelity {
        println!("fidelity |<psi|sqrt(p_RBM)>|^2 = {f:.6}");
    }
    if let Some(o) = &summary.observables {
        let row = |name: &str,
                   r: &nqs_train::generative::thermo::Estimate,
                   d: &nqs_train::generative::thermo::Estimate,
                   x: Option<f64>| {
            println!(
                "{name:<18} RBM {:.5} ± {:.5}   data {:.5} ± {:.5}{}",
                r.value,
                r.error,
                d.value,
                d.error,
                x.map(|x| format!("   exact {x:.5}")).unwrap_or_default()
            )
        };
        if let Some(q) = o.rbm_enumerated {
            println!(
                "RBM distribution summed exactly: e {:.5}, |m| {:.5}, susceptibility {:.5}, specific heat {:.5}",
                q.energy, q.abs_magnetisation, q.susceptibility, q.specific_heat
            );
        }
        row(
            "energy per spin",
            &o.rbm.energy,
            &o.data.energy,
            o.exact.map(|e| e.energy),
        );
        row(
            "|m|",
            &o.rbm.abs_magnetisation,
            &o.data.abs_magnetisation,
            o.exact.map(|e| e.abs_magnetisation),
        );
        row(
            "susceptibility",
            &o.rbm.susceptibility,
            &o.data.susceptibility,
            o.exact.map(|e| e.susceptibility),
        );
        row(
            "specific heat",
            &o.rbm.specific_heat,
            &o.data.specific_heat,
            o.exact.map(|e| e.specific_heat),
        );
    }
    println!(
        "{} visible, {} hidden, {} epochs, {:.1} s training",
        summary.visible, summary.hidden, summary.epochs, summary.train_seconds
    );
    Ok(())
}

/// Write `text` to `path`, refusing to replace an existing file unless `force`.
fn write_new(path: &Path, text: &str, force: bool) -> Result<()> {
    if path.exists() && !force {
        bail!(
            "{} exists (use --force to overwrite, or --out to choose another)",
            path.display()
        );
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn ising_samples(args: IsingArgs) -> Result<()> {
    use nqs_boltzmann::Ising;
    let ising = Ising {
        side: args.side,
        coupling: args.coupling,
        temperature: args.temperature,
    };
    ising.validate("--")?;
    if args.samples == 0 {
        bail!("--samples 0: need at least 1 sample");
    }
    // The chain's spins and cluster stack, the rows, and the text written (two bytes a site).
    let sites = (ising.side as f64).powi(2);
    let needed = sites * 9.0 + sites * args.samples as f64 * 3.0;
    if let Some(available) = nqs_train::memory::available_bytes()
        && needed > available
    {
        bail!(
            "--side {} with --samples {}: about {} of memory needed, {} available",
            ising.side,
            args.samples,
            nqs_train::memory::human(needed),
            nqs_train::memory::human(available)
        );
    }
    let exact = match args.method.as_deref() {
        Some("exact") => true,
        Some(_) => false,
        None => ising.side <= nqs_boltzmann::ising::MAX_EXACT_SIDE,
    };
    let rows = if exact {
        ising.exact_samples(args.samples, args.seed)?
    } else {
        ising.wolff_samples(args.samples, args.seed)
    };
    let header = vec![
        format!(
            "2D Ising model, {0} x {0} periodic, J = {1}, T = {2}, {3} samples ({4}), seed {5}",
            ising.side,
            ising.coupling,
            ising.temperature,
            args.samples,
            if exact {
                "exact sampling"
            } else {
                "Wolff cluster Monte Carlo"
            },
            args.seed
        ),
        "site i = row*L + col, spin s = 2x - 1".into(),
    ];
    write_new(
        &args.out,
        &nqs_boltzmann::data::format_binary_rows(&header, &rows),
        args.force,
    )?;
    println!("{} samples -> {}", rows.len(), args.out.display());
    Ok(())
}

fn tfim_samples(args: TfimArgs) -> Result<()> {
    use nqs_boltzmann::TransverseIsing;
    let chain = TransverseIsing {
        sites: args.sites,
        field: args.field,
        coupling: args.coupling,
        periodic: args.periodic,
    };
    chain.validate("--")?;
    if args.samples == 0 {
        bail!("--samples 0: need at least 1 sample");
    }
    let gs = chain.ground_state()?;
    let p: Vec<f64> = gs.amplitudes.iter().map(|a| a * a).collect();
    let rows = nqs_boltzmann::ising::sample_states(&p, chain.sites, args.samples, args.seed);
    let header = vec![
        format!(
            "transverse-field Ising chain, N = {}, J = {}, h = {}, {}, ground-state energy {:.12} (residual {:.1e})",
            chain.sites,
            chain.coupling,
            chain.field,
            if chain.periodic { "periodic" } else { "open" },
            gs.energy,
            gs.residual
        ),
        format!(
            "{} samples of |psi(sigma)|^2 in the sigma^z basis, x = 1 for spin up, seed {}",
            args.samples, args.seed
        ),
    ];
    write_new(
        &args.out,
        &nqs_boltzmann::data::format_binary_rows(&header, &rows),
        args.force,
    )?;
    println!(
        "E0 = {:.12}; {} samples -> {}",
        gs.energy,
        rows.len(),
        args.out.display()
    );
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
