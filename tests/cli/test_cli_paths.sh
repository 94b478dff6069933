#!/usr/bin/env bash
# Nothing a command reads, or writes itself, is replaced by another of its outputs, and a refused command changes
# nothing: --log, and encode's and parity-dump's --out, are checked before any work against the model folder, the
# inputs, the config file and the run's own saves (however the path is spelled); train and pretrain refuse an --out
# that already holds a model unless --force; a run that fails on its inputs leaves no --out folder behind.
source "$(dirname "$0")/lib.sh"

make_vocab "$TMP/vocab.txt"
"$DSP" init --vocab "$TMP/vocab.txt" --out "$TMP/model" --hidden 32 --intermediate 64 --seed 3 >/dev/null || fail init
M=$TMP/model
C=$TMP/c64.txt
head -64 "$DATA/corpus/wiki1m_head.txt" > "$C"
model_sum=$(cat "$M"/* | md5sum)
T=(train --model "$M" --corpus "$C" --steps 2 --batch 4)

# encode and parity-dump --out: checked before the model loads (a missing model is not reached)
head -5 "$C" > "$TMP/in.txt"
cp "$TMP/in.txt" "$TMP/in.bak"
E=(encode --model "$M" --text-file "$TMP/in.txt")
expect_fail "encode over the weights" "--out $M/model.safetensors is inside the --model folder" "$DSP" "${E[@]}" \
  --out "$M/model.safetensors"
expect_fail "encode over its input" "--out $TMP/in.txt is also an input" "$DSP" "${E[@]}" --out "$TMP/in.txt"
cmp -s "$TMP/in.txt" "$TMP/in.bak" && ok || fail "a refused encode changed its input"
expect_fail "encode empty out" "--out is an empty path" "$DSP" encode --model "$TMP/no-model" --text-file "$TMP/in.txt" \
  --out ""
expect_fail "encode out is a folder" "--out $TMP is a folder" "$DSP" "${E[@]}" --out "$TMP"
touch "$TMP/afile"
expect_fail "encode out under a file" "--out $TMP/afile/e.st: $TMP/afile is not a folder" "$DSP" encode \
  --model "$TMP/no-model" --text-file "$TMP/in.txt" --out "$TMP/afile/e.st"
expect_fail "encode fails on its input" "nosuch.txt" "$DSP" encode --model "$M" --text-file "$TMP/nosuch.txt" \
  --out "$TMP/new1/e.st"
[ ! -e "$TMP/new1" ] && ok || fail "a failed encode left its --out folder behind"
expect_ok "encode into a new folder" "$DSP" "${E[@]}" --out "$TMP/new2/sub/e.st"
[ -s "$TMP/new2/sub/e.st" ] && ok || fail "encode did not create the folder of its --out"
expect_fail "parity over config.json" "--out $M/config.json is inside the --model folder" "$DSP" parity-dump \
  --model "$M" --corpus "$C" --out "$M/config.json"
expect_fail "parity over its corpus" "--out $C is also an input" "$DSP" parity-dump --model "$M" --corpus "$C" \
  --out "$C"
expect_fail "parity empty out" "--out is an empty path" "$DSP" parity-dump --model "$TMP/no-model" --corpus "$C" \
  --out ""
[ "$(cat "$M"/* | md5sum)" = "$model_sum" ] && ok || fail "a refused command changed the model"

finish
