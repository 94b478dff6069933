#!/usr/bin/env bash
# build-wasm.sh — configures and builds both WebAssembly variants of the engine from the top-level CMakeLists.txt:
#   build-wasm/     threads + SIMD: wasm/dissipate-mt.{mjs,wasm,worker.js}, and the unit tests (ctest runs them in node)
#   build-wasm-st/  single-threaded SIMD (-DDSP_THREADS=OFF): wasm/dissipate-st.{mjs,wasm}, the unit tests and
#                   wasm/bench-gemm.js (the GEMM table in V8, for tools/bench-wasm.mjs)
# Usage: tools/build-wasm.sh [--no-tests] [--dist DIR]
#   --no-tests  build only the engine modules, not the unit tests
#   --dist DIR  also gather both variants and wasm/js/*.mjs into DIR: a folder a page can import lab.mjs from
# Environment: DSP_DATA_DIR (default ../shared/data), JOBS (default: the core count).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
data=${DSP_DATA_DIR:-$root/../shared/data}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
target=()
dist=
while [ $# -gt 0 ]; do
  case "$1" in
    --no-tests) target=(--target dissipate_wasm) ;;
    --dist) dist=${2:?--dist needs a folder}; shift ;;
    *) echo "build-wasm: unknown argument '$1' (--no-tests, --dist DIR)" >&2; exit 2 ;;
  esac
  shift
done

command -v emcmake >/dev/null || { echo "build-wasm: emcmake not found (apt-get install emscripten)" >&2; exit 1; }
node=$(command -v node) || { echo "build-wasm: node not found" >&2; exit 1; }
# Every emcc link runs JS tools that need Debian's acorn & co (else: "Cannot find module 'acorn'").
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}

build() { # folder threads
  # emcmake's own test emulator passes --experimental-wasm-threads, which node 20 rejects; node 20 also needs
  # --no-experimental-fetch to run Emscripten 3.1.6 output that reads its .wasm from disk.
  emcmake cmake -S . -B "$1" -DCMAKE_BUILD_TYPE=Release -DDSP_THREADS="$2" -DDSP_BUILD_TESTS=ON \
    -DDSP_DATA_DIR="$data" -DCMAKE_CROSSCOMPILING_EMULATOR="$node;--no-experimental-fetch" >/dev/null
  cmake --build "$1" -j"$jobs" "${target[@]}"
}
build build-wasm ON
build build-wasm-st OFF

if [ -n "$dist" ]; then
  mkdir -p "$dist"
  # dissipate-mt.* includes the pthread worker file where the Emscripten version makes one (3.1.6: .worker.js).
  cp build-wasm/wasm/dissipate-mt.* build-wasm-st/wasm/dissipate-st.* wasm/js/*.mjs "$dist/"
  echo "build-wasm: gathered both variants and the JS runtime in $dist"
fi
