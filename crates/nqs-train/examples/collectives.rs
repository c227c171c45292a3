//! Times the collectives a distributed training step makes, on this machine's MPI:
//! `mpirun -np R target/release/examples/collectives` (build with
//! `cargo build --release -p nqs-train --features mpi --example collectives`).
//! Prints one row per operation and size: the sum (reduce to rank 0 and broadcast) of the
//! gradient or an SR product of P values, and the gather of every walker's local energy.

use std::time::Instant;

use nqs_train::distributed::Session;

fn main() {
    let session = match Session::init() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let comm = session.comm;
    let repeats = 200;
    let mut rows = Vec::new();
    for &p in &[2usize, 1_000, 10_000, 100_000, 1_000_000] {
        let mut v = vec![1.0f64; p];
        comm.sum(&mut v); // warm-up
        let start = Instant::now();
        for _ in 0..repeats {
            comm.sum(&mut v);
        }
        rows.push(("sum", p, start.elapsed().as_secs_f64() / repeats as f64));
    }
    for &w in &[1_024usize, 4_096, 16_384] {
        let local = vec![1.0f64; w];
        let _ = comm.gather(&local);
        let start = Instant::now();
        for _ in 0..repeats {
            let _ = comm.gather(&local);
        }
        rows.push(("gather", w, start.elapsed().as_secs_f64() / repeats as f64));
    }
    if comm.is_root() {
        println!("| ranks | operation | values per rank | bytes per rank | µs |");
        println!("|---|---|---|---|---|");
        for (op, n, t) in rows {
            println!(
                "| {} | {op} | {n} | {} | {:.1} |",
                comm.size(),
                8 * n,
                t * 1e6
            );
        }
    }
}
