#!/usr/bin/env bash
# test.sh — sets up and passes every test:
#   1. the native build (Release) and the two WebAssembly builds (threads, single-thread); their unit tests under node
#   2. the demo site, then the whole native ctest suite: unit tests, gradient checks, CLI end to end, parity with the
#      PyTorch float64 reference, wasm-vs-native parity, and the browser tests in headless Chromium
#   3. the same unit and CLI tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   4. the two WebAssembly builds again with a current Emscripten (Debian sid's, in a chroot): their unit tests, the
#      page API tests and the browser tests on them (tools/test-wasm-current.sh)
#   5. on x86-64: a 64-bit ARM build (NEON) cross-compiled, its unit tests under qemu (an ARM host runs NEON in 1-4),
#      and one training run under qemu that must match the native run bit for bit
# DSP_DATA_DIR is the data folder (default ../shared/data). Any failure fails the script.
# Usage: tools/test.sh   (no arguments: any, --help among them, prints this instead of starting a run of many minutes)
set -euo pipefail
if [ $# -gt 0 ]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  case "$1" in -h|--help) exit 0 ;; *) echo "test.sh: unknown argument '$1' (it takes none)" >&2; exit 2 ;; esac
fi
cd "$(dirname "$0")/.."
root=$(pwd)
data=${DSP_DATA_DIR:-$root/../shared/data}
export DSP_DATA_DIR=$data
jobs=$(nproc 2>/dev/null || echo 2)
stage() { printf '\n==== %s\n' "$*"; }
# ctest counts a skipped test (exit 77: a missing prerequisite such as PyTorch, a wasm build or the data) as passed.
# Here every test must run: a skip fails the script, like a failure.
ctest_all() {
  local log
  log=$(mktemp)
  ctest "$@" 2>&1 | tee "$log"
  if grep -q "tests did not run" "$log"; then
    rm -f "$log"
    echo "test: the tests listed as not run above were skipped; every test must run here" >&2
    exit 1
  fi
  rm -f "$log"
}

bash tools/setup.sh
[ -d "$data/stsb" ] || { echo "test: no data folder at $data (set DSP_DATA_DIR)"; exit 1; }

stage "native build (Release)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DDSP_DATA_DIR="$data" >/dev/null
cmake --build build -j"$jobs"

stage "WebAssembly builds and their unit tests under node"
bash tools/build-wasm.sh
ctest_all --test-dir build-wasm --output-on-failure -j"$jobs"
ctest_all --test-dir build-wasm-st --output-on-failure -j"$jobs"

stage "demo site"
node tools/build-site.mjs --data "$data" --out site

stage "native ctest: unit, CLI, reference parity, wasm parity, browser"
cmake -S . -B build >/dev/null   # registers the browser tests now that the site exists
ctest_all --test-dir build --output-on-failure -j"$jobs"

stage "AddressSanitizer + UndefinedBehaviorSanitizer: unit and CLI tests"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DDSP_SANITIZE=ON -DDSP_DATA_DIR="$data" \
  -DDSP_BROWSER_TESTS=OFF >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest_all --test-dir build-asan --output-on-failure -j"$jobs" -LE "slow|wasm|reference"

stage "WebAssembly with a current Emscripten (Debian sid in a chroot): builds, unit tests, page API, browser"
bash tools/test-wasm-current.sh

[ "$(uname -m)" = x86_64 ] || exit 0
stage "AArch64 (NEON): cross build, unit tests under qemu"
cmake -S . -B build-aarch64 -DCMAKE_BUILD_TYPE=Release -DCMAKE_TOOLCHAIN_FILE=tools/cross/aarch64-linux-gnu.cmake \
  -DDSP_DATA_DIR="$data" >/dev/null
cmake --build build-aarch64 -j"$jobs"
ctest_all --test-dir build-aarch64 --output-on-failure -j"$jobs"

stage "AArch64 (NEON) against x86-64: the same training run, bit for bit"
# The 128-bit kernels promise the same arithmetic everywhere: 3 steps of au at 2 threads with an evaluation, under
# qemu and natively, must save the same weights and log the same step and evaluation records (timings aside).
xh=$(mktemp -d)
head -64 "$data/corpus/wiki1m_head.txt" > "$xh/corpus.txt"
head -100 "$data/stsb/dev.tsv" > "$xh/dev.tsv"
for side in x86 arm; do
  run=(build/dissipate)
  [ $side = arm ] && run=(qemu-aarch64 -L /usr/aarch64-linux-gnu build-aarch64/dissipate)
  "${run[@]}" train --model models/tiny --corpus "$xh/corpus.txt" --eval "$xh/dev.tsv" --batch 8 --steps 3 \
    --eval-every 3 --kernels simd128 --threads 2 --objective au --out "$xh/$side" --log "$xh/$side.jsonl" --quiet >/dev/null
  grep -v '"config"' "$xh/$side.jsonl" | sed 's/,"ms":[^,}]*//' > "$xh/$side.records"
done
if cmp "$xh/x86/model.safetensors" "$xh/arm/model.safetensors" && cmp "$xh/x86.records" "$xh/arm.records" &&
   [ "$(grep -c '"eval"' "$xh/arm.records")" = 2 ]; then
  echo "test: AArch64 and x86-64 trained to the same weights and records ($(wc -l < "$xh/arm.records") records)"
  rm -rf "$xh"
else
  echo "test: AArch64 and x86-64 differ (files in $xh)" >&2
  exit 1
fi
