#!/usr/bin/env bash
# Values a run cannot use are refused before it starts, with a message that names them, and flags that change
# nothing are named in a warning: config files from a pipe, word embeddings a model cannot hold, empty STS
# sentences, numbers with a leading space or '+', ranges checked on the value as given, warm-up, evaluation set
# names, and pretraining steps that mask no token.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/small_setup.sh"
T=(train --model "$M" --corpus "$C" --batch 4)

# --config is read to its end like the corpus, so a pipe works; a failure says why
expect_ok "config from a pipe" "$DSP" "${T[@]}" --config <(echo '{"steps": 1}') --log "$TMP/pipe.jsonl"
[ "$(grep -c '"type":"step"' "$TMP/pipe.jsonl")" = 1 ] && ok || fail "the piped config's steps were not applied"
mkdir "$TMP/cdir"
expect_fail "config is a folder" "--config: cannot read $TMP/cdir: it is a directory" "$DSP" "${T[@]}" --config "$TMP/cdir"
expect_fail "config absent" "No such file or directory" "$DSP" "${T[@]}" --config "$TMP/none.json"

# init refuses word embeddings the written model could not be loaded with, naming the tensor and the index
V=$(wc -l < "$TMP/vocab.txt")
/usr/bin/python3 - "$V" "$TMP" <<'PY' || fail "writing the embedding files"
import json, struct, sys
V, H, d = int(sys.argv[1]), 32, sys.argv[2]
def write(name, index, value):
    vals = [0.01] * (V * H)
    vals[index] = value
    data = struct.pack("<%df" % len(vals), *vals)
    head = json.dumps({"word_embeddings": {"dtype": "F32", "shape": [V, H], "data_offsets": [0, len(data)]}}).encode()
    head += b" " * (-len(head) % 8)
    open(f"{d}/{name}", "wb").write(struct.pack("<Q", len(head)) + head + data)
write("nan.st", 5 * H + 3, float("nan"))
write("inf.st", 7, float("-inf"))
write("big.st", 2 * H + 1, 1e5)
PY
I=(init --vocab "$TMP/vocab.txt" --hidden 32 --intermediate 64)
expect_fail "init NaN embedding" "nan.st: word_embeddings\[5, 3\] (index 163) is nan" "$DSP" "${I[@]}" \
  --word-embeddings "$TMP/nan.st" --out "$TMP/i1"
expect_fail "init Inf embedding" "word_embeddings\[0, 7\] (index 7) is -inf" "$DSP" "${I[@]}" \
  --word-embeddings "$TMP/inf.st" --out "$TMP/i2"
expect_fail "init F16 overflow" "word_embeddings\[2, 1\] (index 65) is 100000, beyond the range of F16" "$DSP" \
  "${I[@]}" --word-embeddings "$TMP/big.st" --f16 --out "$TMP/i3"
[ ! -e "$TMP/i1" ] && [ ! -e "$TMP/i2" ] && [ ! -e "$TMP/i3" ] && ok || fail "a refused init wrote a model"
expect_ok "init 1e5 in F32" "$DSP" "${I[@]}" --word-embeddings "$TMP/big.st" --out "$TMP/i4"
expect_ok "the F32 model loads" "$DSP" eval --model "$TMP/i4" --sts "$STS40"

# an STS pair with an empty sentence is refused, not scored
printf '4.0\tA man sits.\t\n3.0\tA dog runs.\t\n1.0\tx\t\n' > "$TMP/e.tsv"
expect_fail "eval empty sentence" "e.tsv:1: sentence 2 is empty" "$DSP" eval --model "$M" --sts "$TMP/e.tsv"

# numbers: no leading space or '+' (" -4" once passed as a seed of 2^64 - 4), on the command line or in a config
expect_fail "seed with a space" "--seed expects a non-negative integer with no leading space or '+', got ' -4'" "$DSP" "${T[@]}" \
  --seed " -4"
expect_fail "steps with a plus" "--steps expects an integer with no leading space or '+'" "$DSP" "${T[@]}" --steps +5
expect_fail "lr with a space" "--lr expects a number with no leading space" "$DSP" "${T[@]}" --lr " 1e-4"
echo '{"steps": " 5"}' > "$TMP/space.json"
expect_fail "config string with a space" "got ' 5'" "$DSP" "${T[@]}" --config "$TMP/space.json"

# ranges are checked on the value given, before it is rounded to a 32-bit float, and objective values must fit one
expect_fail "momentum rounds to 1" "--momentum must be in \[0, 1), got 0.999999999, which a 32-bit float rounds to 1" \
  "$DSP" "${T[@]}" --optimizer sgd --momentum 0.999999999
expect_fail "dropout rounds to 1" "--dropout must be in \[0, 1), got 0.99999999999" "$DSP" "${T[@]}" --dropout 0.99999999999
expect_fail "mask-prob above 1" "--mask-prob must be in (0, 1], got 1.0000000001" "$DSP" pretrain --model "$M" \
  --corpus "$C" --out "$TMP/pt0" --mask-prob 1.0000000001
# ... and 1, inside that range, is accepted by the engine too (it once said "(0, 1)"); --help states the range
expect_ok "mask-prob 1" "$DSP" pretrain --model "$M" --corpus "$C" --out "$TMP/pt1m" --mask-prob 1 --steps 2 --batch 4
"$DSP" pretrain --help | grep -q -- "--mask-prob P .*in (0, 1\]" && ok ||
  fail "pretrain --help does not state --mask-prob's range"
expect_fail "margin beyond float" "--margin 1e308 is outside the range of a 32-bit float" "$DSP" "${T[@]}" \
  --objective mat --margin 1e308

# warm-up must end before the run does, as pretrain's
expect_fail "train warmup >= steps" "--warmup must be fewer than --steps" "$DSP" "${T[@]}" --steps 2 --warmup 1000

# flags with no effect are named
expect_ok "flags without effect" "$DSP" "${T[@]}" --steps 1 --save-every 1 --eval-every 5 --momentum 0.5 --force
for w in "--save-every does not apply without --out" "--eval-every does not apply without --eval" \
         "--force does not apply without --out or --log" \
         "--momentum does not apply to the adamw optimizer"; do
  grep -q -- "warning: $w; it is ignored" "$TMP/err" && ok || fail "no warning '$w': $(cat "$TMP/err")"
done
expect_ok "sgd momentum" "$DSP" "${T[@]}" --steps 1 --optimizer sgd --momentum 0.5
! grep -q warning "$TMP/err" && ok || fail "a warning for flags that apply: $(cat "$TMP/err")"
expect_ok "eval-every 0 without --eval" "$DSP" "${T[@]}" --steps 1 --eval-every 0
! grep -q warning "$TMP/err" && ok || fail "--eval-every 0 (no evaluations) warned without --eval: $(cat "$TMP/err")"

# evaluation sets of the same stem get names that tell them apart; one file given twice is refused
mkdir -p "$TMP/a" "$TMP/b"
cp "$STS40" "$TMP/a/dev.tsv"
head -30 "$STS40" > "$TMP/b/dev.tsv"
expect_ok "two dev.tsv" "$DSP" "${T[@]}" --steps 1 --eval "$TMP/a/dev.tsv" "$TMP/b/dev.tsv" "$STS40" \
  --log "$TMP/sets.jsonl" --quiet
/usr/bin/python3 - "$TMP/sets.jsonl" <<'PY' && ok || fail "evaluation set names"
import json, sys
sets = [(r["set"], r["pairs"]) for r in map(json.loads, open(sys.argv[1])) if r["type"] == "eval"]
assert sets[:3] == [("a/dev", 40), ("b/dev", 30), ("sts40", 40)], sets
PY
expect_fail "one set twice" "--eval $TMP/a/dev.tsv is given twice" "$DSP" "${T[@]}" --steps 1 \
  --eval "$TMP/a/dev.tsv" "$TMP/a/dev.tsv"
# ... however it is spelled: the same file is refused (it would be scored, and averaged, twice), in eval and train
ln -s a/dev.tsv "$TMP/link.tsv"
expect_fail "one file, two spellings" "--sts ./a/dev.tsv is given twice: it is the same file as a/dev.tsv" \
  bash -c 'cd "$1" && shift && exec "$@"' _ "$TMP" "$DSP" eval --model "$M" --sts a/dev.tsv ./a/dev.tsv
expect_fail "one file, through a link" "--eval $TMP/link.tsv is given twice: it is the same file as $TMP/a/dev.tsv" \
  "$DSP" "${T[@]}" --steps 1 --eval "$TMP/a/dev.tsv" "$TMP/link.tsv"
# a set whose stem another shares is named by its stem when the other's folder tells them apart ("dev", not
# "dev.tsv"), and a leading ./ is no folder of its name ("dev", not "./dev")
head -20 "$STS40" > "$TMP/dev.tsv"
for first in dev.tsv ./dev.tsv; do
  (cd "$TMP" && "$DSP" eval --model "$M" --sts "$first" a/dev.tsv --json) >"$TMP/out" 2>"$TMP/err" || fail "eval $first"
  /usr/bin/python3 - "$TMP/out" <<'PY' && ok || fail "set names of $first and a/dev.tsv: $(cat "$TMP/out" "$TMP/err")"
import json, sys
assert [s["name"] for s in json.load(open(sys.argv[1]))["sets"]] == ["dev", "a/dev"]
PY
done
# a folder of pair files is one multi-subset set for train as for eval: at step 0 (weights as loaded) the log's
# Spearman is eval's "all" over the same subsets
mkdir -p "$TMP/sts12"
head -25 "$STS40" > "$TMP/sts12/a.tsv"; tail -15 "$STS40" > "$TMP/sts12/b.tsv"
expect_ok "train --eval folder" "$DSP" "${T[@]}" --steps 1 --eval "$TMP/sts12" --log "$TMP/folder.jsonl" --quiet
expect_ok "eval folder" "$DSP" eval --model "$M" --sts "$TMP/sts12" --json
/usr/bin/python3 - "$TMP/folder.jsonl" "$TMP/out" <<'PY' && ok || fail "train --eval on a folder: $(head -c 600 "$TMP/out")"
import json, sys
e = [r for r in map(json.loads, open(sys.argv[1])) if r["type"] == "eval" and r["step"] == 0][0]
s = json.load(open(sys.argv[2]))["sets"][0]
assert e["set"] == "sts12" and e["pairs"] == 40 == s["pairs"], (e, s)
assert abs(e["spearman"] - s["spearman"]) < 1e-4, (e, s)  # "all": the subsets' pairs together
assert abs(s["spearman"] - s["mean"]) > 1e-3, s  # ... which the mean of the subsets' is not, here
PY
mkdir -p "$TMP/empty-set"
expect_fail "train --eval empty folder" "empty-set has no" "$DSP" "${T[@]}" --steps 1 --eval "$TMP/empty-set"

# eval names its columns the same way
expect_ok "eval two dev.tsv" "$DSP" eval --model "$M" --sts "$TMP/a/dev.tsv" "$TMP/b/dev.tsv" --json
/usr/bin/python3 - "$TMP/out" <<'PY' && ok || fail "eval set names: $(cat "$TMP/out")"
import json, sys
sets = [(s["name"], s["pairs"]) for s in json.load(open(sys.argv[1]))["sets"]]
assert sets == [("a/dev", 40), ("b/dev", 30)], sets
PY

# pretrain: a step that masks no token logs null, not a loss of 0, and stays out of the smoothed loss; a run in which
# no step masked a token is an error and saves nothing
P=(pretrain --model "$M" --corpus "$C" --batch 2)
expect_fail "pretrain masks nothing" "no step masked a token" "$DSP" "${P[@]}" --out "$TMP/pt1" --steps 3 \
  --mask-prob 1e-6 --log "$TMP/pt1.jsonl"
[ ! -e "$TMP/pt1" ] && ok || fail "a pretrain run that learnt nothing left its --out"
expect_ok "pretrain, some steps mask nothing" "$DSP" "${P[@]}" --out "$TMP/pt2" --steps 20 --mask-prob 0.03 \
  --log "$TMP/pt2.jsonl"
/usr/bin/python3 - "$TMP/pt1.jsonl" "$TMP/pt2.jsonl" "$TMP/out" <<'PY' && ok || fail "pretrain records without masks"
import json, re, sys
none = [json.loads(l) for l in open(sys.argv[1])]
assert none[0]["type"] == "config", none[0]  # then the steps
none = none[1:]
assert len(none) == 3 and all(r["masked"] == 0 and r["loss"] is None and r["accuracy"] is None for r in none), none
recs = [r for r in map(json.loads, open(sys.argv[2])) if r["type"] == "mlm"]
empty = [r for r in recs if r["masked"] == 0]
full = [r for r in recs if r["masked"] > 0]
assert empty and full, "the run needs steps with and without masks: %s" % [r["masked"] for r in recs]
assert all(r["loss"] is None and r["accuracy"] is None for r in empty), empty
assert all(r["loss"] > 0 for r in full), full
avg = None
for r in full:
    avg = r["loss"] if avg is None else 0.98 * avg + 0.02 * r["loss"]
said = float(re.search(r"final smoothed MLM loss ([0-9.]+)", open(sys.argv[3]).read()).group(1))
assert abs(said - avg) < 1e-3, (said, avg)
PY
# align is over the pairs scored >= 4: a set with none says so in the table (JSON: null), and the help says it
printf '1\ta b\tc d\n2\te f\tg h\n3\ti j\tk l\n' > "$TMP/low.tsv"
expect_ok "eval, no pair scored >= 4" "$DSP" eval --model "$M" --sts "$TMP/low.tsv"
grep -q "^low: 3 pairs, align n/a (no pair scored >= 4), uniform " "$TMP/out" && ok ||
  fail "align n/a: $(cat "$TMP/out")"
expect_ok "eval --json, no pair scored >= 4" "$DSP" eval --model "$M" --sts "$TMP/low.tsv" --json
/usr/bin/python3 -c 'import json, sys; assert json.load(open(sys.argv[1]))["sets"][0]["align"] is None' "$TMP/out" &&
  ok || fail "eval --json align: $(cat "$TMP/out")"
for cmd in eval train; do
  "$DSP" $cmd --help | tr '\n' ' ' | grep -q "gold score >= 4 only (Wang & Isola" && ok ||
    fail "$cmd --help: align's >= 4"
done

# eval records list their fields in the README's order: step, set, spearman, align, uniform, pairs
expect_ok "eval record order" "$DSP" "${T[@]}" --steps 1 --eval "$STS40" --log "$TMP/order.jsonl" --quiet
/usr/bin/python3 - "$TMP/order.jsonl" <<'PY' && ok || fail "eval record field order: $(grep eval "$TMP/order.jsonl")"
import json, sys
evals = [r for r in map(json.loads, open(sys.argv[1])) if r["type"] == "eval"]
assert evals and all(list(r) == ["type", "step", "set", "spearman", "align", "uniform", "pairs"] for r in evals), evals
PY

# init refuses a model with fewer than 3 positions ([CLS], a token, [SEP]), which no run could use
expect_fail "init max-pos 2" "--max-pos 2 must be >= 3: a sequence needs \[CLS\], a token and \[SEP\]" "$DSP" init \
  --vocab "$TMP/vocab.txt" --out "$TMP/mp2" --max-pos 2
[ ! -e "$TMP/mp2" ] && ok || fail "a refused init wrote a model"
expect_ok "init max-pos 3" "$DSP" init --vocab "$TMP/vocab.txt" --out "$TMP/mp3" --max-pos 3 --hidden 32 \
  --intermediate 64
expect_ok "eval on 3 positions" "$DSP" eval --model "$TMP/mp3" --sts "$STS40" --max-len 3

# encode: singular counts, and a bad id is quoted alone, not with the rest of its line
head -1 "$C" > "$TMP/one.txt"
printf '2\n' > "$TMP/one_id.txt"
expect_ok "encode one sentence" "$DSP" encode --model "$M" --text-file "$TMP/one.txt" --out "$TMP/e1.st"
grep -q ": 1 sequence, [0-9]* tokens, pooler" "$TMP/out" && ok || fail "encode plural: $(cat "$TMP/out")"
expect_ok "encode one id" "$DSP" encode --model "$M" --ids-file "$TMP/one_id.txt" --out "$TMP/e2.st"
grep -q ": 1 sequence, 1 token, pooler" "$TMP/out" && ok || fail "encode plural: $(cat "$TMP/out")"
printf '2 -1 3\n' > "$TMP/bad_ids.txt"
expect_fail "encode bad id" 'bad_ids.txt: sequence 1: "-1" is not a token id' "$DSP" encode --model "$M" \
  --ids-file "$TMP/bad_ids.txt" --out "$TMP/e3.st"
finish
