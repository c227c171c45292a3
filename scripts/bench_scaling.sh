#!/usr/bin/env bash
# Scaling benchmark for docs/performance.md: 2D Slater-Jastrow and Slater x FFNN quantum dots,
# N = 2, 6, 12, 20, 30, at 1024 and 4096 walkers, flex f64 (or the backend given as $1).
# Usage: scripts/bench_scaling.sh [flex|ndarray|wgpu] > scaling.md
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-flex}"
bin="${CARGO_TARGET_DIR:-target}/release/nqs-train"
[ -x "$bin" ] || cargo build --release -p nqs-train >&2
header=1
for config in qd2d_n6_sj qd2d_n6_slater_ffnn; do
  for n in 2 6 12 20 30; do
    out=$("$bin" bench --config "configs/$config.toml" --set "system.particles=$n" \
      --walkers 1024 --walkers 4096 --steps 5 --warmup 1 --set sampler.burn_in=10 --backend "$backend" \
      --json "/tmp/bench-$config-$n.json" 2>/dev/null)
    if [ $header = 1 ]; then echo "$out"; header=0; else echo "$out" | tail -n +3; fi
  done
done
