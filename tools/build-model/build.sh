#!/usr/bin/env bash
# build.sh — rebuilds the default model models/tiny bit for bit: the vocabulary and GloVe word embeddings
# (build_vocab.mjs), then `dissipate init` (BERT initialisation of the rest, seed 1, F16 storage).
# Usage: tools/build-model/build.sh [path/to/dissipate] (default build/dissipate)
set -euo pipefail
usage() {
  echo "usage: tools/build-model/build.sh [path/to/dissipate]   (default: build/dissipate)"
  echo "Rebuilds build/model/ (vocabulary and GloVe embeddings: a 1 GB parse, about a minute) and then replaces"
  echo "models/tiny with 'dissipate init --force'."
}
# The argument is checked before any work: anything else (--help included) used to start the rebuild.
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  -*) echo "build.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
esac
[ $# -le 1 ] || { echo "build.sh: one argument at most, the dissipate binary" >&2; usage >&2; exit 2; }
dsp=${1:-}
[ -z "$dsp" ] || case $dsp in /*) ;; *) dsp=$PWD/$dsp ;; esac  # given: relative to where it was typed
cd "$(dirname "$0")/../.."
dsp=${dsp:-$PWD/build/dissipate}
if [ ! -f "$dsp" ] || [ ! -x "$dsp" ]; then
  echo "build.sh: $dsp is not an executable file (build it: cmake --build build --target dissipate, or pass its path)" >&2
  exit 2
fi
node --max-old-space-size=4096 tools/build-model/build_vocab.mjs --out build/model
"$dsp" init --vocab build/model/vocab.txt --word-embeddings build/model/word_embeddings.safetensors --seed 1 \
    --out models/tiny --f16 --force
