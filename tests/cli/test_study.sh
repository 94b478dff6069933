#!/usr/bin/env bash
# test_study.sh — tools/study/run_study.py at a toy scale (a hidden-32 model, 4 steps of batch 8, 40 STS pairs):
# its outputs go where it is told and nowhere else, a resumed study never reuses or silently replaces a log of other
# settings, and bad arguments get a message, not a traceback, before anything is written.
# Usage (ctest): bash test_study.sh path/to/dissipate
source "$(dirname "$0")/lib.sh"
SRC=${DSP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PY=${DSP_PYTHON:-/usr/bin/python3}
STUDY=$SRC/tools/study/run_study.py
[ -x "$PY" ] || { echo "SKIP: $PY not found"; exit 77; }

# A data folder of the layout the study reads, small enough for a run in about a second.
D=$TMP/data
mkdir -p "$D/corpus" "$D/stsb"
head -200 "$DATA/corpus/wiki1m_head.txt" > "$D/corpus/c.txt"
head -40 "$DATA/stsb/dev.tsv" > "$D/stsb/dev.tsv"
head -40 "$DATA/stsb/test.tsv" > "$D/stsb/test.tsv"
"$DSP" init --vocab "$SRC/models/tiny/vocab.txt" --out "$TMP/model" --hidden 32 --intermediate 64 --seed 3 \
  >/dev/null || fail init
study() { DSP_DATA_DIR=$D "$PY" "$STUDY" --dissipate "$DSP" --model "$TMP/model" --seeds 1 --steps 4 \
  --eval-every 2 "$@"; }
# expect_refused "what" "needle" args...: exits non-zero, says needle, no traceback.
expect_refused() {
  local what=$1 needle=$2; shift 2
  expect_fail "$what" "$needle" "$@"
  if grep -q Traceback "$TMP/err"; then fail "$what: a traceback"; fi
}

# Arguments: refused up front, nothing created.
E=$TMP/never
expect_refused "no data folder" "no corpus/ folder" env DSP_DATA_DIR=/nonexistent "$PY" "$STUDY" --dissipate "$DSP" --out "$E"
expect_refused "no binary" "no executable" study --dissipate "$TMP/none" --out "$E"
expect_refused "negative seed" "seeds are integers >= 0" study --out "$E" --seeds -1
[ ! -e "$E" ] && ok || fail "a refused --seeds made $E"
expect_refused "--jobs 0" "--jobs: must be at least 1" study --jobs 0 --out "$E"
expect_refused "--only unknown" "au_t2, au_t6" study --only nothing --out "$E"
expect_refused "--report (retired)" "--report-dir" study --report "$TMP/r.md" --out "$E"
expect_refused "a seed twice" "given twice" study --seeds 2 2 --out "$E"
expect_refused "--momentum 1" "momentum 1.0: must be in .0, 1)" study --momentum 1 --optimizer sgd --out "$E"
expect_refused "no model" "no config.json" study --model "$TMP/none" --out "$E"
[ -e "$E" ] && fail "a refused study created $E" || ok
expect_ok "--help" "$PY" "$STUDY" --help
grep -q "au_t6" "$TMP/out" && ok || fail "--help does not list the --only names"

if ! "$PY" -c "import matplotlib" 2>/dev/null; then
  finish || exit 1
  echo "SKIP: the runs need matplotlib for $PY (apt-get install python3-matplotlib)"; exit 77
fi

# A study; its outputs go into --out (no --report-dir), and the repository's docs are not touched.
docs_sum() { (cd "$SRC/docs" && cat study_table.md study_summary.json img/study_*.png 2>/dev/null | cksum); }
before=$(docs_sum)
S=$TMP/st
expect_ok "first study" study --out "$S" --only infonce --batch 8 --lr 1e-4
for f in infonce_seed1.jsonl study_table.md study_summary.json img/study_stsb_dev.png img/study_gd_gradh.png \
         img/study_align_uniform.png; do
  [ -s "$S/$f" ] && ok || fail "first study did not write $S/$f"
done
[ "$(docs_sum)" = "$before" ] && ok || fail "a study with --out elsewhere changed docs/"
cp "$S/infonce_seed1.jsonl" "$TMP/log1"
# The summary's scores are the log's: best dev, test at that step, and dev and test at the last evaluation.
"$PY" - "$S/infonce_seed1.jsonl" "$S/study_summary.json" <<'EOF' && ok || fail "the summary does not match the log"
import json, sys
ev = [r for r in map(json.loads, open(sys.argv[1])) if r.get("type") == "eval"]
dev = [r for r in ev if r["set"] == "dev"]
test = {r["step"]: r["spearman"] for r in ev if r["set"] == "test"}
best = max(dev, key=lambda r: r["spearman"])
got = json.load(open(sys.argv[2]))["infonce"][0]
want = {"best_dev": best["spearman"], "best_step": best["step"], "test_at_best": test[best["step"]],
        "final_dev": dev[-1]["spearman"], "final_test": test[dev[-1]["step"]]}
bad = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
if bad: print(bad, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF

# Other settings over the same logs: refused, naming the difference, the log kept.
expect_refused "other settings" "batch 8 (asked 32)" study --out "$S" --only infonce --batch 32 --lr 5e-3
grep -q "lr 0.0001 (asked 0.005)" "$TMP/err" && ok || fail "the refusal does not name the lr: $(cat "$TMP/err")"
cmp -s "$S/infonce_seed1.jsonl" "$TMP/log1" && ok || fail "a refused study changed the log"

# The same settings: nothing runs again.
expect_ok "resume" study --out "$S" --only infonce --batch 8 --lr 1e-4
grep -q "^run:" "$TMP/out" && fail "a complete log of the same settings was run again" || ok

# The same settings over a model changed in place (same path, other weights): refused, naming the file.
cp "$TMP/model/model.safetensors" "$TMP/weights"
"$DSP" init --vocab "$SRC/models/tiny/vocab.txt" --out "$TMP/model" --hidden 32 --intermediate 64 --seed 4 --force \
  >/dev/null || fail "init --seed 4"
expect_refused "model changed in place" "model.safetensors changed since this log" \
  study --out "$S" --only infonce --batch 8 --lr 1e-4
cmp -s "$S/infonce_seed1.jsonl" "$TMP/log1" && ok || fail "a refused study changed the log"
cp "$TMP/weights" "$TMP/model/model.safetensors"
expect_ok "resume, the model as it was" study --out "$S" --only infonce --batch 8 --lr 1e-4
grep -q "^run:" "$TMP/out" && fail "a complete log of the same settings and inputs was run again" || ok

# --force reruns over it with the settings asked.
expect_ok "--force" study --out "$S" --only infonce --batch 32 --lr 5e-3 --force
grep -q "rerun (--force)" "$TMP/out" && ok || fail "--force does not say what it reruns"
head -1 "$S/infonce_seed1.jsonl" | grep -q '"batch":32' && ok || fail "--force did not rerun with batch 32"

# An interrupted run (a log cut short) is run again; the objective's name selects its variants; --report-dir.
head -3 "$S/infonce_seed1.jsonl" > "$TMP/cut" && mv "$TMP/cut" "$S/infonce_seed1.jsonl"
expect_ok "incomplete log" study --out "$S" --only infonce --batch 32 --lr 5e-3
grep -q "incomplete" "$TMP/out" && ok || fail "an incomplete log was not said to be run again"
expect_ok "--only au, --report-dir" study --out "$S" --only au --batch 8 --report-dir "$TMP/rep"
[ -s "$S/au_t2_seed1.jsonl" ] && [ -s "$S/au_t6_seed1.jsonl" ] && ok || fail "--only au did not run both variants"
[ -s "$TMP/rep/study_table.md" ] && [ -s "$TMP/rep/img/study_stsb_dev.png" ] && ok || fail "--report-dir not written"
[ "$(grep -c '^| au' "$TMP/rep/study_table.md")" = 2 ] && ok || fail "table: $(cat "$TMP/rep/study_table.md")"
# a table of its own (a header row), and one seed gives means without a spread (a ± 0.00 would be no measurement)
head -2 "$TMP/rep/study_table.md" | grep -q '^|---|' && ! grep -q '±' "$TMP/rep/study_table.md" && ok ||
  fail "one-seed table: $(cat "$TMP/rep/study_table.md")"

# --optimizer sgd reaches the runs (with its momentum), and a log of it is not taken for an AdamW one
G=$TMP/sgd
expect_ok "--optimizer sgd" study --out "$G" --only infonce --batch 8 --optimizer sgd --momentum 0.5 --lr 0.1
head -1 "$G/infonce_seed1.jsonl" | grep -q '"optimizer":"sgd"' && head -1 "$G/infonce_seed1.jsonl" | grep -q '"momentum":0.5' &&
  ok || fail "--optimizer sgd: $(head -1 "$G/infonce_seed1.jsonl")"
head -1 "$G/study_table.md" | grep -q '^| objective (sgd, lr 0.1), one seed |' && ok ||
  fail "the table's header does not say how the runs trained: $(head -1 "$G/study_table.md")"
expect_refused "an SGD log asked as AdamW" "optimizer sgd (asked adamw)" study --out "$G" --only infonce --batch 8 --lr 0.1

# Ctrl-C during a run: the run is stopped (not waited for), the message says how to resume, no traceback, and the
# log so far is kept. The study starts with SIGINT at its default (a background job of a script would inherit it
# ignored, and Python then installs no KeyboardInterrupt handler); the signal goes to the study alone, as a
# terminal's would to the foreground group, minus the runs, which the study itself must stop.
I=$TMP/interrupted
DSP_DATA_DIR=$D "$PY" -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])' \
  "$PY" "$STUDY" --dissipate "$DSP" --model "$TMP/model" --seeds 1 --steps 1000000 --eval-every 500000 \
  --only infonce --batch 8 --out "$I" >"$TMP/out" 2>"$TMP/err" &
pid=$!
for _ in $(seq 300); do grep -q '"type":"step"' "$I/infonce_seed1.jsonl" 2>/dev/null && break; sleep 0.1; done
grep -q '"type":"step"' "$I/infonce_seed1.jsonl" && ok || fail "Ctrl-C: the run never started: $(cat "$TMP/err")"
kill -INT "$pid"
for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then # still waiting for its run: stop both, or the suite would hang
  fail "Ctrl-C: the study had not stopped 20 s later"
  kill -KILL "$pid"; pkill -KILL -f -- "$I/infonce_seed1.jsonl"
fi
wait "$pid" && fail "Ctrl-C: the study exited 0" || ok
grep -q "interrupted; the runs under way were stopped" "$TMP/err" && ! grep -q Traceback "$TMP/err" && ok ||
  fail "Ctrl-C: $(cat "$TMP/err")"
sleep 0.5
pgrep -f -- "$I/infonce_seed1.jsonl" >/dev/null && fail "Ctrl-C: the run is still going" || ok
[ -s "$I/infonce_seed1.jsonl" ] && ok || fail "Ctrl-C: the log so far was not kept"
finish
