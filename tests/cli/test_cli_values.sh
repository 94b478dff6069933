#!/usr/bin/env bash
# Values a run cannot use are refused before it starts, with a message that names them, and flags that change
# nothing are named in a warning: config files from a pipe, word embeddings a model cannot hold, empty STS
# sentences, numbers with a leading space or '+', ranges checked on the value as given, warm-up, evaluation set
# names, and pretraining steps that mask no token.
source "$(dirname "$0")/lib.sh"

make_vocab "$TMP/vocab.txt"
"$DSP" init --vocab "$TMP/vocab.txt" --out "$TMP/model" --hidden 32 --intermediate 64 --seed 3 >/dev/null || fail init
M=$TMP/model
C=$TMP/c64.txt
head -64 "$DATA/corpus/wiki1m_head.txt" > "$C"
head -40 "$DATA/stsb/dev.tsv" > "$TMP/sts40.tsv"
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
expect_ok "the F32 model loads" "$DSP" eval --model "$TMP/i4" --sts "$TMP/sts40.tsv"

# an STS pair with an empty sentence is refused, not scored
printf '4.0\tA man sits.\t\n3.0\tA dog runs.\t\n1.0\tx\t\n' > "$TMP/e.tsv"
expect_fail "eval empty sentence" "e.tsv:1: sentence 2 is empty" "$DSP" eval --model "$M" --sts "$TMP/e.tsv"

# numbers: no leading space or '+' (" -4" once passed as a seed of 2^64 - 4), on the command line or in a config
expect_fail "seed with a space" "--seed expects an integer with no leading space or '+', got ' -4'" "$DSP" "${T[@]}" \
  --seed " -4"
expect_fail "steps with a plus" "--steps expects an integer with no leading space or '+'" "$DSP" "${T[@]}" --steps +5
expect_fail "lr with a space" "--lr expects a number with no leading space" "$DSP" "${T[@]}" --lr " 1e-4"
echo '{"steps": " 5"}' > "$TMP/space.json"
expect_fail "config string with a space" "got ' 5'" "$DSP" "${T[@]}" --config "$TMP/space.json"

# ranges are checked on the value given, before it is rounded to a 32-bit float, and objective values must fit one
expect_fail "margin beyond float" "--margin 1e308 is outside the range of a 32-bit float" "$DSP" "${T[@]}" \
  --objective mat --margin 1e308

finish
