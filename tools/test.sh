#!/usr/bin/env bash
# test.sh — sets up and runs every test: the native ctest suite (Release), the same suite under
# AddressSanitizer + UndefinedBehaviorSanitizer, the WebAssembly builds' suite under node, and the browser tests.
#   DSP_DATA_DIR   the data folder (default ../shared/data)
#   DSP_SKIP_ASAN=1, DSP_SKIP_WASM=1, DSP_SKIP_BROWSER=1 leave a stage out (and say so: nothing is skipped silently)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
data=${DSP_DATA_DIR:-$root/../shared/data}
jobs=$(nproc 2>/dev/null || echo 2)

bash tools/setup.sh
[ -d "$data/stsb" ] || { echo "test: no data folder at $data (set DSP_DATA_DIR)"; exit 1; }

stage() { printf '\n==== %s\n' "$*"; }

stage "native build (Release) and ctest"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DDSP_DATA_DIR="$data" >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

if [ "${DSP_SKIP_ASAN:-0}" = 1 ]; then
  stage "sanitizer pass LEFT OUT (DSP_SKIP_ASAN=1)"
else
  stage "AddressSanitizer + UndefinedBehaviorSanitizer build and ctest"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DDSP_SANITIZE=ON -DDSP_DATA_DIR="$data" >/dev/null
  cmake --build build-asan -j"$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE slow
fi

if [ -x tools/build-wasm.sh ] && [ "${DSP_SKIP_WASM:-0}" != 1 ]; then
  stage "WebAssembly builds (threads, single-thread) and their ctest under node"
  bash tools/build-wasm.sh
  ctest --test-dir build-wasm --output-on-failure -j"$jobs"
  ctest --test-dir build-wasm-st --output-on-failure -j"$jobs"
elif [ "${DSP_SKIP_WASM:-0}" = 1 ]; then
  stage "WebAssembly stage LEFT OUT (DSP_SKIP_WASM=1)"
fi
