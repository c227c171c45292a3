#!/usr/bin/env bash
# Prepare what scripts/gpu_check.sh needs on the GPU machine (run HERE, on the CPU machine,
# from the repository root): the release binary and the wgpu test binary, stripped and
# compressed into gpu/ (the whole binary is 95 MB, over the device tool's 64 MiB carry
# limit; stripped and xz-compressed it is about 12 MB), and the Vulkan/EGL loader packages
# into .gl/ (the device tool's README: the GPU machine has the NVIDIA driver but may lack
# the loaders). Both folders are git-ignored through .git/info/exclude.
#
# Then, with the device tool (one call, about 10 minutes of device time):
#   run(command="bash scripts/gpu_check.sh", carry=["gpu", ".gl"], timeout_s=600)
# and copy $OUT/gpu_check.md into docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo test --release --workspace --no-run >&2
cargo build --release -p nqs-train >&2
grep -qx '/gpu/' .git/info/exclude 2>/dev/null || echo /gpu/ >> .git/info/exclude
grep -qx '/.gl/' .git/info/exclude 2>/dev/null || echo /.gl/ >> .git/info/exclude
mkdir -p gpu .gl
strip -o gpu/nqs-train "$target/release/nqs-train"
# The newest wgpu-against-CPU test binary.
tests=$(ls -t "$target"/release/deps/backends-* | grep -v '\.d$' | head -1)
strip -o gpu/backends-test "$tests"
xz -T0 -6 -f gpu/nqs-train gpu/backends-test
if ! ls .gl/*.deb >/dev/null 2>&1; then
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  mkdir -p /tmp/amd64/partial
  apt-get $o update >&2
  (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >&2)
fi
du -sh gpu .gl
