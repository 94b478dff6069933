#!/usr/bin/env bash
# build.sh — rebuilds the default model models/tiny bit for bit: the vocabulary and GloVe word embeddings
# (build_vocab.mjs), then `dissipate init` (BERT initialisation of the rest, seed 1, F16 storage).
# Usage: tools/build-model/build.sh [path/to/dissipate] (default build/dissipate)
set -euo pipefail
cd "$(dirname "$0")/../.."
dsp=${1:-build/dissipate}
node --max-old-space-size=4096 tools/build-model/build_vocab.mjs --out build/model
"$dsp" init --vocab build/model/vocab.txt --word-embeddings build/model/word_embeddings.safetensors --seed 1 \
    --out models/tiny --f16 --force
