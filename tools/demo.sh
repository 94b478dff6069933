#!/usr/bin/env bash
# demo.sh — sets up, builds the native CLI and both WebAssembly variants, packs the site (default model, training
# sentences, STS-B dev) and serves it with COOP/COEP at http://127.0.0.1:${PORT:-8080}.
#   DSP_DATA_DIR  the data folder (default ../shared/data)    PORT  the port (default 8080)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
data=${DSP_DATA_DIR:-$root/../shared/data}
jobs=$(nproc 2>/dev/null || echo 2)

bash tools/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DDSP_DATA_DIR="$data" >/dev/null
cmake --build build -j"$jobs" --target dissipate
bash tools/build-wasm.sh
node tools/build-site.mjs --data "$data" --out site
echo "demo: serving site/ at http://127.0.0.1:${PORT:-8080}/ (Ctrl-C stops)"
exec node tools/serve.mjs site --port "${PORT:-8080}"
