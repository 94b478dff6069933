#!/usr/bin/env bash
# End to end: a small model trained with InfoNCE for a few hundred steps on the shared corpus lowers its training
# loss, evaluates on STS-B dev, produces no NaN, and saves a model that `eval` reproduces. A NaN stop keeps the log
# and the earlier checkpoint intact. Settings from a JSON config file equal the same flags.
source "$(dirname "$0")/lib.sh"

make_vocab "$TMP/vocab.txt"
"$DSP" init --vocab "$TMP/vocab.txt" --out "$TMP/model" --hidden 64 --heads 2 --intermediate 128 --seed 5 >/dev/null || fail "init"
CORPUS=("$DATA"/corpus/wiki1m_head.txt "$DATA"/corpus/wikisplit_complex.txt "$DATA"/corpus/wikisplit_split.txt)
DEV="$DATA/stsb/dev.tsv"

expect_ok "train" "$DSP" train --model "$TMP/model" --corpus "${CORPUS[@]}" --eval "$DEV" --steps 240 --batch 32 \
  --lr 3e-4 --eval-every 80 --threads 2 --seed 1 --log "$TMP/run.jsonl" --out "$TMP/trained"
/usr/bin/python3 - "$TMP/run.jsonl" <<'PY' && ok || fail "log checks"
import json, math, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert recs[0]["type"] == "config" and recs[0]["objective"] == "infonce", recs[0]
steps = [r for r in recs if r["type"] == "step"]
evals = [r for r in recs if r["type"] == "eval"]
assert [r["step"] for r in steps] == list(range(1, 241)), "one record per step"
for r in steps:
    for k in ("loss", "gd", "grad_h", "grad_h_pos", "grad_h_neg", "grad_norm", "pos_cos", "neg_cos", "lr"):
        assert r[k] is not None and math.isfinite(r[k]), (k, r)
first = sum(r["loss"] for r in steps[:20]) / 20
last = sum(r["loss"] for r in steps[-20:]) / 20
assert last < 0.7 * first, f"loss did not fall: {first:.4f} -> {last:.4f}"
assert [e["step"] for e in evals] == [0, 80, 160, 240], [e["step"] for e in evals]
for e in evals:
    assert e["set"] == "dev" and e["pairs"] == 1500 and math.isfinite(e["spearman"]) and -100 <= e["spearman"] <= 100, e
print(f"loss {first:.4f} -> {last:.4f}; dev spearman {evals[0]['spearman']:.2f} -> {evals[-1]['spearman']:.2f}")
PY
# the saved model evaluates to the logged final Spearman
"$DSP" eval --model "$TMP/trained" --sts "$DEV" --json > "$TMP/eval.json" 2>"$TMP/err" || fail "eval trained: $(cat "$TMP/err")"
/usr/bin/python3 - "$TMP/run.jsonl" "$TMP/eval.json" <<'PY' && ok || fail "saved model reproduces the logged score"
import json, sys
last = [json.loads(l) for l in open(sys.argv[1]) if '"eval"' in l][-1]
got = json.load(open(sys.argv[2]))["sets"][0]["spearman"]
assert abs(got - last["spearman"]) < 1e-3, (got, last["spearman"])
PY

# a config file gives the same run as the flags
printf '{"steps": 5, "batch": 16, "lr": 3e-4, "seed": 9, "objective": "au", "corpus": ["%s"]}\n' "${CORPUS[0]}" > "$TMP/cfg.json"
"$DSP" train --config "$TMP/cfg.json" --model "$TMP/model" --log "$TMP/a.jsonl" >/dev/null 2>&1 || fail "train from config"
"$DSP" train --model "$TMP/model" --corpus "${CORPUS[0]}" --steps 5 --batch 16 --lr 3e-4 --seed 9 --objective au \
  --log "$TMP/b.jsonl" >/dev/null 2>&1 || fail "train from flags"
if diff <(grep '"step"' "$TMP/a.jsonl" | sed 's/"ms":[^,}]*//') <(grep '"step"' "$TMP/b.jsonl" | sed 's/"ms":[^,}]*//') >/dev/null; then ok; else fail "config file and flags differ"; fi

# the config record can repeat the run: integers exactly (a 64-bit seed, from the command line or a config file),
# every setting that changes it (dropout, corpus, eval), and paths as JSON strings (quote and backslash escaped)
cp -r "$TMP/model" "$TMP/my\"model"; head -40 "$DEV" > "$TMP/dev\\x.tsv"
expect_ok "train, odd paths" "$DSP" train --model "$TMP/my\"model" --corpus "${CORPUS[0]}" --eval "$TMP/dev\\x.tsv" \
  --steps 1 --batch 4 --seed 18446744073709551615 --dropout 0 --log "$TMP/odd.jsonl"
printf '{"seed": 9007199254740993, "steps": 1, "batch": 4}\n' > "$TMP/seed.json"
expect_ok "train, seed from JSON" "$DSP" train --config "$TMP/seed.json" --model "$TMP/model" --corpus "${CORPUS[0]}" \
  --log "$TMP/seed.jsonl"
/usr/bin/python3 - "$TMP/odd.jsonl" "$TMP/seed.jsonl" "$TMP" "${CORPUS[0]}" <<'PY' && ok || fail "config record"
import json, sys
odd = [json.loads(l) for l in open(sys.argv[1])]  # every line parses
c = odd[0]
assert c["model"] == sys.argv[3] + '/my"model' and c["eval"] == [sys.argv[3] + '/dev\\x.tsv'], c
assert c["seed"] == 18446744073709551615 and c["corpus"] == [sys.argv[4]], c
assert c["hidden_dropout"] == 0 and c["attention_dropout"] == 0 and c["out"] is None, c
assert [e["set"] for e in odd if e["type"] == "eval"] == ["dev\\x", "dev\\x"], odd
assert json.loads(open(sys.argv[2]).readline())["seed"] == 9007199254740993
PY

# NaN stop: a huge learning rate overflows the weights; the run stops with a message, the log keeps the steps
# before it, and the checkpoint saved before it still loads.
if "$DSP" train --model "$TMP/model" --corpus "${CORPUS[0]}" --steps 50 --batch 16 --lr 1e37 --schedule constant \
    --log "$TMP/nan.jsonl" --out "$TMP/ckpt" --save-every 1 >"$TMP/out" 2>"$TMP/err"; then
  fail "a learning rate of 1e37 trained without complaint"
else
  grep -qi "unchanged" "$TMP/err" && ok || fail "NaN message: $(cat "$TMP/err")"
  n=$(grep -c '"type":"step"' "$TMP/nan.jsonl")
  [ "$n" -ge 1 ] && ok || fail "no step records kept before the NaN"
  # the checkpoint loads (weights near 1e37 are finite), and eval refuses the non-finite embeddings it gives
  # instead of ranking NaNs into a score
  if "$DSP" eval --model "$TMP/ckpt" --sts "$DEV" >/dev/null 2>"$TMP/err"; then
    fail "eval scored a model whose embeddings overflow"
  else
    grep -q "embedding is not finite" "$TMP/err" && ok || fail "checkpoint before the NaN: $(cat "$TMP/err")"
  fi
fi
finish
