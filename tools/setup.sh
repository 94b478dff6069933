#!/usr/bin/env bash
# setup.sh — installs what a fresh Debian 12 machine lacks to build, test and serve Dissipate. Idempotent.
#   Debian: a C toolchain, cmake, Emscripten (the browser build), Chromium (browser tests), PyTorch (the float64
#   reference for parity tests), OpenBLAS (the bench's side-by-side GEMM), matplotlib (study plots), and on x86-64 an
#   AArch64 cross compiler and qemu (the NEON build's unit tests), debootstrap (a Debian sid chroot with a current
#   Emscripten: tools/test-wasm-current.sh).
#   npm: Chart.js, coi-serviceworker, playwright-core (drives Debian's Chromium), the GloVe vectors of the model builder.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: tools/setup.sh [--help]

Installs what a fresh Debian 12 machine lacks to build, test and serve Dissipate, and nothing it already has
(idempotent): the Debian packages with apt-get (through sudo unless run as root), then the npm packages with npm ci
when node_modules is missing or older than package-lock.json. It takes no arguments and reads no settings.
USAGE
}
. "$(dirname "$0")/only_help.sh"
only_help setup "" "$@"
cd "$(dirname "$0")/.."

need=()
pkgs_all=(build-essential cmake emscripten chromium python3-torch python3-numpy python3-matplotlib libopenblas-dev nodejs npm)
# a Debian sid chroot with a current Emscripten, for tools/test-wasm-current.sh
pkgs_all+=(debootstrap)
# on x86-64, what the AArch64 cross-check of tools/test.sh needs (an ARM host tests NEON natively)
[ "$(uname -m)" = x86_64 ] && pkgs_all+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user)
for pkg in "${pkgs_all[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
# nodejs/npm may come from outside Debian on this image: accept any node >= 20 on PATH.
if command -v node >/dev/null && node -e 'process.exit(parseInt(process.versions.node) >= 20 ? 0 : 1)'; then
  need=("${need[@]/nodejs}"); need=("${need[@]/npm}")
fi
pkgs=()
for p in "${need[@]}"; do [ -n "$p" ] && pkgs+=("$p"); done
if [ ${#pkgs[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "setup: installing ${pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
