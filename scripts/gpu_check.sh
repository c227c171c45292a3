#!/usr/bin/env bash
# The GPU check (issue 12), run ON the GPU machine by the device tool from the repository
# root, with gpu/ and .gl/ carried (scripts/gpu_prepare.sh makes them here). Under 10
# minutes: the wgpu-against-CPU tests, `nqs-train bench` of 2D Slater–Jastrow and backflow
# at N = 6, 30, 56 with 4096 and 16384 walkers in f32 on wgpu, and a short N = 6 training
# on wgpu whose energy is compared with the same training on the CPU (flex f64). Writes
# one table, $OUT/gpu_check.md (and the raw bench JSON beside it).
set -uo pipefail
# Sizes (override for a dry run on a CPU machine: NS="6" WALKERS="256" STEPS=20).
ns="${NS:-6 30 56}"
walkers="${WALKERS:-4096 16384}"
train_steps="${STEPS:-200}"
out="${OUT:-/tmp/gpu_check}"
mkdir -p "$out"
report="$out/gpu_check.md"
log() { echo "$*" | tee -a "$report"; }
: > "$report"

# Vulkan loaders (the device tool's README), then the binaries.
for f in .gl/*.deb; do [ -e "$f" ] && dpkg -x "$f" /; done
ldconfig
if [ -e /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
mkdir -p /tmp/nqs
xz -dc gpu/nqs-train.xz > /tmp/nqs/nqs-train && chmod +x /tmp/nqs/nqs-train
xz -dc gpu/backends-test.xz > /tmp/nqs/backends-test && chmod +x /tmp/nqs/backends-test
bin=/tmp/nqs/nqs-train

log "# GPU check, $(date -u +%F)"
log ""
log "\`\`\`"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee -a "$report"
log "\`\`\`"
log ""
log "## wgpu against CPU (tests/backends.rs)"
log "\`\`\`"
timeout 90 /tmp/nqs/backends-test --test-threads 1 2>&1 | grep -E "^test |test result" | tee -a "$report"
log "\`\`\`"
log ""

# Step benchmarks: each line a bench table row; a config that does not finish in its time
# is reported as such.
log "## Step benchmarks (wgpu, f32, Adam)"
log ""
header=1
for config in qd2d_n6_sj qd2d_n6_backflow; do
  for n in $ns; do
    walker_args=$(for w in $walkers; do printf -- '--walkers %s ' "$w"; done)
    # SR needs f64 (its O·v products are finite differences): in f32 the backflow step is
    # timed with Adam.
    rows=$(timeout 50 "$bin" bench --config "configs/$config.toml" --set "system.particles=$n" \
      $walker_args --steps 3 --warmup 1 --set sampler.burn_in=10 --set 'optimizer.kind="adam"' \
      --backend wgpu --precision f32 --json "$out/bench-$config-$n.json" 2>"$out/bench-$config-$n.err")
    if [ "$(echo "$rows" | grep -c '^| qd')" = 0 ]; then
      log "| $config N = $n | did not finish in 50 s, or failed: $(tail -1 "$out/bench-$config-$n.err") |"
      continue
    fi
    if [ $header = 1 ]; then echo "$rows" | tee -a "$report"; header=0; else echo "$rows" | tail -n +3 | tee -a "$report"; fi
  done
done
log ""

# N = 6 energy: the same seeded training on the GPU (f32) and on the CPU (f64).
log "## N = 6 Slater–Jastrow: GPU against CPU"
log ""
log "| backend | energy | error |"
log "|---|---|---|"
for b in "wgpu f32" "flex f64"; do
  set -- $b
  rm -rf "/tmp/nqs/run-$1"
  timeout 90 "$bin" --config configs/qd2d_n6_sj.toml --backend "$1" --precision "$2" \
    --out "/tmp/nqs/run-$1" --set "run.steps=$train_steps" > "/tmp/nqs/run-$1.log" 2>&1
  e=$(grep -o '"energy": [-0-9.e]*' "/tmp/nqs/run-$1/summary.json" 2>/dev/null | head -1 | cut -d' ' -f2)
  s=$(grep -o '"energy_error": [-0-9.e]*' "/tmp/nqs/run-$1/summary.json" 2>/dev/null | head -1 | cut -d' ' -f2)
  log "| $1 $2, trained | ${e:-failed} | ${s:-} |"
done
# The CPU-trained parameters evaluated on the GPU: the same state, so the energies differ
# only by the chains and by f32 rounding.
timeout 90 "$bin" eval --from /tmp/nqs/run-flex --backend wgpu --precision f32 \
  > /tmp/nqs/eval-wgpu.log 2>&1
e=$(grep -o '"energy": [-0-9.e]*' /tmp/nqs/run-flex/eval.json 2>/dev/null | head -1 | cut -d' ' -f2)
s=$(grep -o '"energy_error": [-0-9.e]*' /tmp/nqs/run-flex/eval.json 2>/dev/null | head -1 | cut -d' ' -f2)
log "| flex f64 trained, evaluated on wgpu f32 | ${e:-failed: $(tail -1 /tmp/nqs/eval-wgpu.log)} | ${s:-} |"
log ""
log "Agreement within error bars is the check (issue 12). The two trainings use seed 1 but"
log "different precisions and backends, so their chains and parameter paths differ; the last"
log "row evaluates the CPU-trained parameters on the GPU, the same state as the flex row."
