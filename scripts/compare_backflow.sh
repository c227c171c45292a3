#!/usr/bin/env bash
# nqs against the peer (NetKet 3.23's Hessian path and the plain-JAX folx forward-Laplacian
# path of netket_qdot.py) on the backflow Slater-Jastrow step, same machine, one session
# (docs/performance.md): 2D quantum dots N = 6 and 12, 1024 and 4096 samples per step,
# 2N all-particle Metropolis moves per sample, f64, Adam on both sides, peak memory from
# /usr/bin/time -v.
#
# Usage: NETKET_PY=/path/to/venv/bin/python PEER=/path/to/netket_qdot.py \
#        PEER_OUT=/tmp/peer-out-bf scripts/compare_backflow.sh > comparison.txt
set -euo pipefail
cd "$(dirname "$0")/.."
: "${NETKET_PY:?path to the python of a venv with netket 3.23 and folx}"
: "${PEER:?path to netket_qdot.py}"
export PEER_OUT="${PEER_OUT:-/tmp/peer-out-bf}"
ITERS="${ITERS:-25}"  # NS="6 12" and SAMPLES="1024 4096" select the rows
mkdir -p "$PEER_OUT/logs"
bin="${CARGO_TARGET_DIR:-target}/release/nqs-train"
[ -x "$bin" ] || cargo build --release -p nqs-train >&2
peak() { grep "Maximum resident" "$1" | awk '{printf "%.0f", $6/1024}'; }
for n in ${NS:-6 12}; do
  for s in ${SAMPLES:-1024 4096}; do
    for lap in folx hessian; do
      log="$PEER_OUT/logs/bf_${lap}_N${n}_${s}.txt"
      /usr/bin/time -v "$NETKET_PY" "$PEER" --N "$n" --ansatz bf --laplacian "$lap" \
        --samples "$s" --iters "$ITERS" --eval-samples 0 --tag "_bf_${lap}_$s" > "$log" 2>&1
      step=$(grep -o '"s_per_step": [0-9.e-]*' "$PEER_OUT/results.jsonl" | tail -1 | awk '{print $2}')
      echo "peer-$lap N=$n samples=$s s/step=$step peakMiB=$(peak "$log")"
    done
    log="$PEER_OUT/logs/nqs_bf_N${n}_${s}.txt"
    /usr/bin/time -v "$bin" bench --config "configs/qd2d_n${n}_backflow.toml" --walkers "$s" \
      --set "sampler.moves_per_sample=$((2 * n))" --set 'optimizer.kind="adam"' \
      --steps "$ITERS" --json "$PEER_OUT/nqs_bf_N${n}_${s}.json" > "$log" 2>&1
    echo "nqs $(grep '^| qd2d' "$log" | cut -d'|' -f2,6,8,9) peakMiB=$(peak "$log")"
  done
done
