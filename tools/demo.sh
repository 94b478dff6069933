#!/usr/bin/env bash
# demo.sh — sets up, builds the native CLI and both WebAssembly variants, packs the site (default model, training
# sentences, STS-B dev) and serves it with COOP/COEP at http://127.0.0.1:${PORT:-8080}.
#   DSP_DATA_DIR  the data folder (default ../shared/data)    PORT  the port (default 8080)
# The data folder and the port are checked before anything is installed or built: otherwise a wrong DSP_DATA_DIR or
# a busy port shows only after minutes of building.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: tools/demo.sh [--help]

Installs what is missing (tools/setup.sh: apt-get and npm ci), builds the native CLI and both WebAssembly engines,
packs site/ (node tools/build-site.mjs) and serves it with COOP/COEP until Ctrl-C. It takes no arguments; set:
  DSP_DATA_DIR  the data folder, holding corpus/*.txt and stsb/dev.tsv (default: ../shared/data beside the
                repository; a relative path is relative to the current folder)
  PORT          the port to serve on at 127.0.0.1 (default 8080)
USAGE
}
. "$(dirname "$0")/only_help.sh"
only_help demo " (settings come from the environment)" "$@"

# A relative DSP_DATA_DIR means the caller's folder: resolve it before moving to the repository.
data=${DSP_DATA_DIR:-}
case $data in ''|/*) ;; *) data=$PWD/$data ;; esac
cd "$(dirname "$0")/.."
root=$(pwd)
data=${data:-$root/../shared/data}
port=${PORT:-8080}
jobs=$(nproc 2>/dev/null || echo 2)

# what tools/build-site.mjs packs from the data folder
if ! compgen -G "$data/corpus/*.txt" >/dev/null || [ ! -f "$data/stsb/dev.tsv" ]; then
  echo "demo: no data folder at $data: it needs corpus/*.txt and stsb/dev.tsv (set DSP_DATA_DIR)" >&2
  exit 1
fi
if ! [[ $port =~ ^[0-9]{1,5}$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
  echo "demo: PORT=$port: expected a port number 1 … 65535" >&2
  exit 1
fi
# Binds the port as serve.mjs will (a connect test would miss a socket bound but not listening).
check_port() {
  local why
  if ! why=$(node -e '
    const s = require("net").createServer();
    s.once("error", (e) => { console.log(e.code); process.exit(1); });
    s.listen(Number(process.argv[1]), "127.0.0.1", () => s.close());' "$port" 2>&1); then
    echo "demo: port $port at 127.0.0.1 is not available ($why): stop what uses it, or set PORT" >&2
    exit 1
  fi
}
port_checked=""
if command -v node >/dev/null; then check_port; port_checked=1; fi

bash tools/setup.sh
[ -n "$port_checked" ] || check_port   # node came with setup
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DDSP_DATA_DIR="$data" >/dev/null
cmake --build build -j"$jobs" --target dissipate
bash tools/build-wasm.sh --no-tests   # the engine modules only: the demo needs no unit tests
node tools/build-site.mjs --data "$data" --out site
echo "demo: serving site/ at http://127.0.0.1:$port/ (Ctrl-C stops)"
exec node tools/serve.mjs site --port "$port"
