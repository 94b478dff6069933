#!/usr/bin/env bash
# build-wasm.sh — configures and builds both WebAssembly variants of the engine from the top-level CMakeLists.txt:
#   build-wasm/     threads + SIMD: wasm/dissipate-mt.{mjs,wasm} (+ .worker.js from Emscripten before 3.1.58), and
#                   the unit tests (ctest runs them in node)
#   build-wasm-st/  single-threaded SIMD (-DDSP_THREADS=OFF): wasm/dissipate-st.{mjs,wasm}, the unit tests and
#                   wasm/bench-gemm.js (the GEMM table in V8, for tools/bench-wasm.mjs)
# Usage: tools/build-wasm.sh [--no-tests] [--dist DIR] [--mt DIR] [--st DIR]
#   --no-tests  build only the engine modules, not the unit tests
#   --dist DIR  also gather both variants and wasm/js/*.mjs into DIR: a folder a page can import lab.mjs from
#   --mt DIR, --st DIR  other build folders for the two variants (tools/test-wasm-current.sh builds with a second
#               Emscripten into build-wasm-current/ and build-wasm-st-current/)
# Environment: DSP_DATA_DIR (default ../shared/data), JOBS (default: the core count).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
data=${DSP_DATA_DIR:-$root/../shared/data}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
target=()
dist=
mt=build-wasm
st=build-wasm-st
while [ $# -gt 0 ]; do
  case "$1" in
    --no-tests) target=(--target dissipate_wasm) ;;
    --dist) dist=${2:?--dist needs a folder}; shift ;;
    --mt) mt=${2:?--mt needs a folder}; shift ;;
    --st) st=${2:?--st needs a folder}; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-wasm: unknown argument '$1' (--no-tests, --dist DIR, --mt DIR, --st DIR)" >&2; exit 2 ;;
  esac
  shift
done

command -v emcmake >/dev/null || { echo "build-wasm: emcmake not found (apt-get install emscripten)" >&2; exit 1; }
node=$(command -v node) || { echo "build-wasm: node not found" >&2; exit 1; }
# Every emcc link runs JS tools that need Debian's acorn & co (else: "Cannot find module 'acorn'").
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
echo "build-wasm: Emscripten $(emcc -dumpversion), node $("$node" --version)"

# The test emulator. emcmake's own passes --experimental-wasm-threads, which node 20 rejects. Emscripten 3.1.6
# output tries node's global fetch to read its .wasm from disk, which fails, so node 20 runs it with
# --no-experimental-fetch; node 24 rejects that flag, and current Emscripten output reads its .wasm with fs under
# node anyway. So: the flag exactly where this node accepts it.
emulator=$node
if "$node" --no-experimental-fetch -e 0 2>/dev/null; then emulator="$node;--no-experimental-fetch"; fi

build() { # folder threads
  emcmake cmake -S . -B "$1" -DCMAKE_BUILD_TYPE=Release -DDSP_THREADS="$2" -DDSP_BUILD_TESTS=ON \
    -DDSP_DATA_DIR="$data" -DCMAKE_CROSSCOMPILING_EMULATOR="$emulator" >/dev/null
  cmake --build "$1" -j"$jobs" "${target[@]}"
}
build "$mt" ON
build "$st" OFF

if [ -n "$dist" ]; then
  mkdir -p "$dist"
  # dissipate-mt.* includes the pthread worker file where the Emscripten version makes one (3.1.6: .worker.js).
  cp "$mt"/wasm/dissipate-mt.* "$st"/wasm/dissipate-st.* wasm/js/*.mjs "$dist/"
  echo "build-wasm: gathered both variants and the JS runtime in $dist"
fi
