#!/usr/bin/env bash
# test_tool_args.sh — the scripts around the engine (tools/reference, tools/build-model, the benchmarks,
# fetch-data.sh) answer --help and bad input with a message of their own, before any long work (a GloVe parse, a
# benchmark, a download) and without a traceback, and never replace a model unasked. Each check takes well under
# a second: nothing here trains, parses GloVe or downloads.
# Usage (ctest): bash test_tool_args.sh path/to/dissipate
source "$(dirname "$0")/lib.sh"
SRC=${DSP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PY=${DSP_PYTHON:-/usr/bin/python3}

# expect_refused "what" "needle" cmd...: exits non-zero, says needle, and no Python or node stack trace.
expect_refused() {
  local what=$1 needle=$2; shift 2
  expect_fail "$what" "$needle" "$@"
  if grep -Eq 'Traceback|^    at |node:internal' "$TMP/err"; then fail "$what: a stack trace: $(head -5 "$TMP/err")"; fi
}
# expect_usage "what" cmd...: exits 0 and prints a usage line.
expect_usage() {
  local what=$1; shift
  expect_ok "$what" "$@"
  grep -qi "usage" "$TMP/out" && ok || fail "$what: no usage on stdout: $(head -3 "$TMP/out")"
}

# ---- tools/reference/make_hf_model.py: an existing model is not replaced unless --force
if "$PY" -c "import numpy" 2>/dev/null; then
  M=$TMP/hfmodel
  mkdir -p "$M"
  cp "$SRC/models/tiny/config.json" "$SRC/models/tiny/vocab.txt" "$M/"
  printf 'weights' > "$M/model.safetensors"
  sums=$(cd "$M" && cksum config.json vocab.txt model.safetensors)
  expect_refused "make_hf_model over a model" "already holds a model" \
    "$PY" "$SRC/tools/reference/make_hf_model.py" --out "$M" --no-reference
  [ "$(cd "$M" && cksum config.json vocab.txt model.safetensors)" = "$sums" ] && ok || fail "make_hf_model changed $M"
  expect_ok "make_hf_model --force" "$PY" "$SRC/tools/reference/make_hf_model.py" --out "$M" --no-reference --force
  expect_ok "make_hf_model into a new folder" "$PY" "$SRC/tools/reference/make_hf_model.py" --out "$TMP/hf2" \
    --no-reference
else
  echo "note: no numpy for $PY: make_hf_model.py not checked"
fi

# ---- tools/reference: bench_torch.py and hf_parity.py check their inputs before any work
if "$PY" -c "import torch" 2>/dev/null; then
  expect_refused "bench_torch: no data folder" "no such file" env DSP_DATA_DIR=/nonexistent \
    "$PY" "$SRC/tools/reference/bench_torch.py" --dissipate "$DSP"
  expect_refused "bench_torch: no binary" "no executable" "$PY" "$SRC/tools/reference/bench_torch.py" \
    --dissipate "$TMP/none"
  expect_refused "bench_torch: --steps 0" "at least 1" "$PY" "$SRC/tools/reference/bench_torch.py" \
    --dissipate "$DSP" --steps 0
  expect_refused "bench_torch: --pooler" "invalid choice" "$PY" "$SRC/tools/reference/bench_torch.py" \
    --dissipate "$DSP" --pooler first
  # --pooler runs both sides with it (PyTorch with SimCSE's MLP, which models/tiny lacks); one short round
  expect_ok "bench_torch --pooler cls_mlp" "$PY" "$SRC/tools/reference/bench_torch.py" --dissipate "$DSP" \
    --batch 4 --steps 1 --rounds 1 --threads 1 2 --pooler cls_mlp
  # a row per thread count, and the arithmetic's bound at each (one core's ceiling, then both at once)
  bound="[0-9.]+ GFLOP/s, a step of [0-9.]+ ms at it; PyTorch's step over that: [0-9.]+x on medians"
  if grep -q "cls_mlp pooling" "$TMP/out" && grep -qE '^ +1 .*x \|.*x \|.*x$' "$TMP/out" &&
     grep -qE '^ +2 .*x \|.*x \|.*x$' "$TMP/out" &&
     grep -qE "^the arithmetic's bound: the engine's step is [0-9.]+ GFLOP" "$TMP/out" &&
     grep -qE "^  1 thread: $bound" "$TMP/out" && grep -qE "^  2 threads: $bound" "$TMP/out"; then ok
  else fail "bench_torch --pooler cls_mlp: $(cat "$TMP/out")"; fi
  expect_refused "hf_parity: no binary" "no executable" "$PY" "$SRC/tools/reference/hf_parity.py" \
    --dissipate "$TMP/none"
else
  echo "note: no PyTorch for $PY: bench_torch.py and hf_parity.py not checked"
fi

# ---- bench_torch.py where PyTorch is missing (a torch module that fails to import stands in for it): --help still
# answers, and a run says what is missing and exits 77 (ctest's "skipped"), never 0
mkdir -p "$TMP/notorch" && echo 'raise ImportError("no torch in this test")' > "$TMP/notorch/torch.py"
expect_usage "bench_torch --help without torch" env PYTHONPATH="$TMP/notorch" "$PY" "$SRC/tools/reference/bench_torch.py" \
  --help
env PYTHONPATH="$TMP/notorch" "$PY" "$SRC/tools/reference/bench_torch.py" --dissipate "$DSP" >"$TMP/out" 2>&1
rc=$?
[ $rc = 77 ] && grep -q "PyTorch is not installed" "$TMP/out" && ok ||
  fail "bench_torch without torch: exit $rc: $(head -3 "$TMP/out")"

# ---- node tools: usage, and bad input refused before the GloVe parse or a benchmark (timeout: a check that
# started the real work would take minutes, so it fails here instead of hanging the suite)
if command -v node >/dev/null; then
  N="timeout 30 node"
  expect_usage "bench-wasm --help" $N "$SRC/tools/bench-wasm.mjs" --help
  expect_refused "bench-wasm --bogus" "unknown option" $N "$SRC/tools/bench-wasm.mjs" --bogus
  expect_refused "bench-wasm: no data folder" "no such file" env DSP_DATA_DIR=/nonexistent $N "$SRC/tools/bench-wasm.mjs"
  expect_refused "bench-wasm --steps 0" ">= 1" $N "$SRC/tools/bench-wasm.mjs" --steps 0
  BB=$SRC/tools/bench-browser.mjs
  expect_usage "bench-browser --help" $N "$BB" --help
  expect_refused "bench-browser --help --bogus" "unknown argument" $N "$BB" --help --bogus
  expect_refused "bench-browser --steps (no value)" "needs a value" $N "$BB" --steps
  expect_refused "bench-browser --steps 1" ">= 2" $N "$BB" --steps 1
  expect_refused "bench-browser --rounds 0" ">= 1" $N "$BB" --rounds 0
  BM=$SRC/tools/build-model
  expect_usage "measure_vocab --help" $N "$BM/measure_vocab.mjs" --help
  expect_refused "measure_vocab --sizes (no value)" "needs a value" $N "$BM/measure_vocab.mjs" --sizes
  expect_refused "measure_vocab --sizes x" "whole numbers" $N "$BM/measure_vocab.mjs" --sizes 1,x
  expect_refused "measure_vocab: no data folder" "no such folder" env DSP_DATA_DIR=/nonexistent \
    $N "$BM/measure_vocab.mjs"
  expect_usage "glove_baseline --help" $N "$BM/glove_baseline.mjs" --help
  expect_refused "glove_baseline: no data folder" "missing" env DSP_DATA_DIR=/nonexistent $N "$BM/glove_baseline.mjs"
  expect_refused "glove_baseline --bogus" "unknown option" $N "$BM/glove_baseline.mjs" --bogus
  : > "$TMP/afile"
  # --glove names no file: should the --out check pass wrongly, the parse fails at once instead of taking a minute
  expect_refused "build_vocab --out over a file" "not a folder" $N "$BM/build_vocab.mjs" --out "$TMP/afile" \
    --glove "$TMP/none.json"
  expect_refused "build_vocab --out unwritable" "cannot write" $N "$BM/build_vocab.mjs" --out /proc/x/y \
    --glove "$TMP/none.json"
  expect_refused "build_vocab, GloVe missing" "none.json" $N "$BM/build_vocab.mjs" --out "$TMP/bv/a" \
    --glove "$TMP/none.json"
  [ -e "$TMP/bv" ] && fail "build_vocab left the folder it made behind" || ok
else
  echo "note: no node: the node tools not checked"
fi

# ---- tools/build-model/build.sh: its argument is checked before the rebuild (never given a real binary here:
# that would rebuild models/tiny)
expect_usage "build.sh --help" timeout 30 bash "$SRC/tools/build-model/build.sh" --help
expect_refused "build.sh --bogus" "unknown option" timeout 30 bash "$SRC/tools/build-model/build.sh" --bogus
expect_refused "build.sh: not a binary" "not an executable" timeout 30 bash "$SRC/tools/build-model/build.sh" "$TMP"

# ---- tools/test-wasm-current.sh: a chroot path that findmnt would print escaped is refused before anything is made
# (the guard before its rm -rf could not see the repository's bind mount below such a path)
expect_refused "test-wasm-current: a space in the chroot path" "a space" \
  env DSP_CURRENT_ROOT="$TMP/a b/root" timeout 30 bash "$SRC/tools/test-wasm-current.sh" --build-only
[ -e "$TMP/a b" ] && fail "test-wasm-current made $TMP/a b before refusing it" || ok

# ---- tools/fetch-data.sh: usage, unknown options, and a failed download (a proxy on a closed port makes curl fail
# at once, online or not) says what failed and leaves no empty data folder behind
FD=$SRC/tools/fetch-data.sh
expect_usage "fetch-data --help" bash "$FD" --help
expect_refused "fetch-data --bogus" "unknown option" bash "$FD" --bogus
expect_refused "fetch-data, no DEST" "usage" bash "$FD"
if command -v curl >/dev/null; then
  expect_refused "fetch-data offline" "FAILED to download" env https_proxy=http://127.0.0.1:9 \
    HTTPS_PROXY=http://127.0.0.1:9 timeout 60 bash "$FD" "$TMP/fd/data"
  [ -e "$TMP/fd" ] && fail "fetch-data left $(find "$TMP/fd") behind" || ok
fi

# ---- tools/test.sh, tools/build-wasm.sh, tools/gen_unicode_tables.py: --help prints their usage and does nothing
# else (test.sh would run the whole suite for many minutes; the generator would rewrite the committed tables), and an
# unknown argument is refused the same way
expect_usage "test.sh --help" timeout 10 bash "$SRC/tools/test.sh" --help
expect_refused "test.sh --bogus" "unknown argument" timeout 10 bash "$SRC/tools/test.sh" --bogus
expect_usage "build-wasm.sh --help" timeout 10 bash "$SRC/tools/build-wasm.sh" --help
expect_refused "build-wasm.sh --bogus" "unknown argument" timeout 10 bash "$SRC/tools/build-wasm.sh" --bogus
tables=$(cd "$SRC/engine" && ls -l --time-style=full-iso unicode_tables.c unicode_tables.h)
expect_usage "gen_unicode_tables --help" timeout 10 "$PY" "$SRC/tools/gen_unicode_tables.py" --help
expect_refused "gen_unicode_tables --bogus" "unknown argument" timeout 10 "$PY" "$SRC/tools/gen_unicode_tables.py" --bogus
[ "$(cd "$SRC/engine" && ls -l --time-style=full-iso unicode_tables.c unicode_tables.h)" = "$tables" ] && ok ||
  fail "gen_unicode_tables --help or --bogus rewrote engine/unicode_tables.*"

finish
