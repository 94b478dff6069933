#!/usr/bin/env bash
# train --save-best: --out ends up holding the model of the evaluation that scored best on the first --eval set
# (SimCSE's checkpoint selection), not the last step's. Checked bit for bit: with a constant learning rate, a run
# stopped at the best step saves the same weights. The flag is refused where it would save nothing it promises.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/small_setup.sh"

# settings under which dev peaks before the last step (else the test could not tell "best" from "last")
T=(train --model "$M" --corpus "$C" --batch 16 --lr 1e-2 --schedule constant --seed 4 --quiet)
expect_ok "train --save-best" "$DSP" "${T[@]}" --eval "$STS40" --eval-every 1 --steps 8 --log "$TMP/run.jsonl" \
  --out "$TMP/best" --save-best
best=$(/usr/bin/python3 - "$TMP/run.jsonl" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert recs[0]["save_best"] == 1, recs[0]
evals = [r for r in recs if r["type"] == "eval"]
assert [e["step"] for e in evals] == list(range(9)), [e["step"] for e in evals]
best = max(evals, key=lambda e: e["spearman"])  # the first of equal scores, as the CLI keeps
assert 0 < best["step"] < 8, f"dev must peak inside the run for this test to mean anything: {best}"
print(best["step"], best["spearman"])
PY
) && ok || fail "log: $best"
read -r best_step best_score <<<"$best"
if grep -qx "saved the model of step $best_step to $TMP/best" "$TMP/out"; then ok; else fail "stdout: $(cat "$TMP/out")"; fi

# the saved model scores what the log says the best step scored ...
"$DSP" eval --model "$TMP/best" --sts "$STS40" --json > "$TMP/eval.json" 2>"$TMP/err" || fail "eval: $(cat "$TMP/err")"
/usr/bin/python3 - "$TMP/eval.json" "$best_score" <<'PY' && ok || fail "saved model's score"
import json, sys
got = json.load(open(sys.argv[1]))["sets"][0]["spearman"]
assert abs(got - float(sys.argv[2])) < 1e-3, (got, sys.argv[2])
PY
# ... and is, bit for bit, the model of a run stopped at that step
expect_ok "train to the best step" "$DSP" "${T[@]}" --steps "$best_step" --out "$TMP/upto"
if cmp -s "$TMP/best/model.safetensors" "$TMP/upto/model.safetensors"; then ok; else fail "weights differ from step $best_step's"; fi

# refused before any work where it cannot do what it says
expect_fail "no --out" "--save-best needs --out" "$DSP" "${T[@]}" --eval "$STS40" --steps 2 --save-best
expect_fail "no --eval" "--save-best needs --out" "$DSP" "${T[@]}" --steps 2 --out "$TMP/x" --save-best
expect_fail "with --save-every" "give one of them" "$DSP" "${T[@]}" --eval "$STS40" --steps 2 --out "$TMP/x" \
  --save-best --save-every 1
if [ ! -e "$TMP/x" ]; then ok; else fail "a refused run left $TMP/x"; fi
finish
