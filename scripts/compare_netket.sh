#!/usr/bin/env bash
# nqs against NetKet on the same machine, one session (docs/performance.md):
# 2D Slater-Jastrow quantum dots, N = 2, 6, 12, 1024 and 4096 samples per step,
# 2N all-particle Metropolis moves per sample, f64, peak memory from /usr/bin/time -v.
#
# Usage: NETKET_PY=/path/to/venv/bin/python PEER=/path/to/netket_qdot.py \
#        PEER_OUT=/tmp/peer-out scripts/compare_netket.sh > comparison.txt
# NetKet runs first (40 steps, timing after 5 JIT steps, 64 chains), then converged runs
# (300 steps, 32768 evaluation samples, 1024 samples per step) for the energies, then nqs
# (median of 40 steps, as NetKet's median of its 35 timed steps).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${NETKET_PY:?path to the python of a venv with netket 3.23}"
: "${PEER:?path to netket_qdot.py}"
export PEER_OUT="${PEER_OUT:-/tmp/peer-out}"
mkdir -p "$PEER_OUT/logs"
bin="${CARGO_TARGET_DIR:-target}/release/nqs-train"
[ -x "$bin" ] || cargo build --release -p nqs-train >&2
peak() { grep "Maximum resident" "$1" | awk '{printf "%.0f", $6/1024}'; }
echo "## NetKet timing runs"
for n in 2 6 12; do
  for s in 1024 4096; do
    log="$PEER_OUT/logs/time_N${n}_${s}.txt"
    /usr/bin/time -v "$NETKET_PY" "$PEER" --N "$n" --ansatz sj --samples "$s" --iters 40 \
      --eval-samples 0 --tag "_t$s" > "$log" 2>&1
    step=$(grep -o '"s_per_step": [0-9.e-]*' "$PEER_OUT/results.jsonl" | tail -1 | awk '{print $2}')
    echo "netket N=$n samples=$s s/step=$step peakMiB=$(peak "$log")"
  done
done
echo "## NetKet converged energies (1024 samples per step, 300 steps)"
for n in 2 6 12; do
  "$NETKET_PY" "$PEER" --N "$n" --ansatz sj --samples 1024 --iters 300 --eval-samples 32768 \
    --tag "_E" > "$PEER_OUT/logs/energy_N$n.txt" 2>&1
  tail -1 "$PEER_OUT/results.jsonl" | grep -o '"N": [0-9]*\|"E": [0-9.e-]*\|"err": [0-9.e-]*' | tr '\n' ' '
  echo
done
echo "## nqs timing runs"
for n in 2 6 12; do
  for s in 1024 4096; do
    log="$PEER_OUT/logs/nqs_N${n}_${s}.txt"
    /usr/bin/time -v "$bin" bench --config "configs/qd2d_n${n}_sj.toml" --walkers "$s" \
      --set "sampler.moves_per_sample=$((2 * n))" --steps 40 > "$log" 2>&1
    echo "nqs $(grep '^| qd2d' "$log" | cut -d'|' -f2,6,8,9) peakMiB=$(peak "$log")"
  done
done
