#!/usr/bin/env bash
# Nothing a command reads, or writes itself, is replaced by another of its outputs, and a refused command changes
# nothing: --log, and encode's and parity-dump's --out, are checked before any work against the model folder, the
# inputs, the config file and the run's own saves (however the path is spelled); train and pretrain refuse an --out
# that already holds a model, and a --log that already holds records, unless --force; a run that fails on its inputs
# leaves no --out folder behind.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/small_setup.sh"
model_sum=$(cat "$M"/* | md5sum)
T=(train --model "$M" --corpus "$C" --steps 2 --batch 4)

# --log: not a file of the model, not the config file, not a file the run saves into --out
expect_fail "log over the weights" "--log $M/model.safetensors is the model.safetensors of the --model folder" "$DSP" "${T[@]}" \
  --log "$M/model.safetensors"
expect_fail "log over config.json" "is the config.json of the --model folder" "$DSP" "${T[@]}" --log "$M/config.json"
expect_fail "log over vocab.txt, spelled otherwise" "is the vocab.txt of the --model folder" "$DSP" "${T[@]}" \
  --log "$TMP/./model/../model/vocab.txt"
expect_fail "pretrain log over the weights" "is the model.safetensors of the --model folder" "$DSP" pretrain --model "$M" --corpus "$C" \
  --out "$TMP/p1" --steps 2 --batch 4 --log "$M/model.safetensors"
echo '{"steps": 2}' > "$TMP/run.json"
cp "$TMP/run.json" "$TMP/run.bak"
expect_fail "log is the config file" "is the --config file" "$DSP" train --config "$TMP/run.json" --model "$M" \
  --corpus "$C" --batch 4 --log "$TMP/../$(basename "$TMP")/run.json"
cmp -s "$TMP/run.json" "$TMP/run.bak" && ok || fail "a refused run changed its config file"
expect_fail "log is out's config.json" "--log $TMP/o/config.json is one of the files the run saves into --out" \
  "$DSP" "${T[@]}" --out "$TMP/o" --log "$TMP/o/config.json"
[ ! -e "$TMP/o" ] && ok || fail "a refused run created its --out"
mkdir "$TMP/o"
expect_fail "log is out's weights, spelled otherwise" "one of the files the run saves into --out" "$DSP" "${T[@]}" \
  --out "$TMP/o" --log "$TMP/o/../o/model.safetensors"
expect_fail "pretrain log is out's vocab" "one of the files the run saves into --out" "$DSP" pretrain --model "$M" \
  --corpus "$C" --out "$TMP/o" --steps 2 --batch 4 --log "$TMP/o/vocab.txt"
[ -z "$(ls -A "$TMP/o")" ] && ok || fail "a refused run wrote into --out"
expect_ok "log in the out folder" "$DSP" "${T[@]}" --out "$TMP/o2" --log "$TMP/o2/train.jsonl"
[ -s "$TMP/o2/model.safetensors" ] && grep -q '"type":"step"' "$TMP/o2/train.jsonl" && ok ||
  fail "a log beside the saved model lost either"

# encode and parity-dump --out: checked before the model loads (a missing model is not reached)
head -5 "$C" > "$TMP/in.txt"
cp "$TMP/in.txt" "$TMP/in.bak"
E=(encode --model "$M" --text-file "$TMP/in.txt")
expect_fail "encode over the weights" "--out $M/model.safetensors is the model.safetensors of the --model folder" "$DSP" "${E[@]}" \
  --out "$M/model.safetensors"
expect_fail "encode over its input" "--out $TMP/in.txt is also an input" "$DSP" "${E[@]}" --out "$TMP/in.txt"
cmp -s "$TMP/in.txt" "$TMP/in.bak" && ok || fail "a refused encode changed its input"
printf '{"model": "%s", "text-file": "%s", "out": "%s/enc.json"}' "$M" "$TMP/in.txt" "$TMP" > "$TMP/enc.json"
cp "$TMP/enc.json" "$TMP/enc.bak"
expect_fail "encode over its config file" "--out $TMP/enc.json is the --config file" "$DSP" encode --config "$TMP/enc.json"
cmp -s "$TMP/enc.json" "$TMP/enc.bak" && ok || fail "a refused encode changed its config file"
printf '{"model": "%s", "corpus": "%s", "out": "%s/par.json"}' "$M" "$C" "$TMP" > "$TMP/par.json"
cp "$TMP/par.json" "$TMP/par.bak"
expect_fail "parity-dump over its config file" "--out $TMP/par.json is the --config file" "$DSP" parity-dump \
  --config "$TMP/./par.json"
cmp -s "$TMP/par.json" "$TMP/par.bak" && ok || fail "a refused parity-dump changed its config file"
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
# its metadata names the kernel set that ran: "auto" resolved to a real set, and a chosen set by its name
meta_kernels() { head -c 4096 "$1" | grep -ao '"kernels":"[a-z0-9]*"' | head -1; }
case "$(meta_kernels "$TMP/new2/sub/e.st")" in
  '"kernels":"scalar"' | '"kernels":"simd128"' | '"kernels":"sse2"' | '"kernels":"avx2"' | '"kernels":"avx512"') ok ;;
  *) fail "encode's metadata names no resolved kernel set: '$(meta_kernels "$TMP/new2/sub/e.st")'" ;;
esac
expect_ok "encode --kernels scalar" "$DSP" "${E[@]}" --kernels scalar --out "$TMP/new2/scalar.st"
[ "$(meta_kernels "$TMP/new2/scalar.st")" = '"kernels":"scalar"' ] && ok ||
  fail "encode --kernels scalar: metadata says '$(meta_kernels "$TMP/new2/scalar.st")'"
expect_fail "parity over config.json" "--out $M/config.json is the config.json of the --model folder" "$DSP" parity-dump \
  --model "$M" --corpus "$C" --out "$M/config.json"
expect_fail "parity over its corpus" "--out $C is also an input" "$DSP" parity-dump --model "$M" --corpus "$C" \
  --out "$C"
expect_fail "parity empty out" "--out is an empty path" "$DSP" parity-dump --model "$TMP/no-model" --corpus "$C" \
  --out ""
[ "$(cat "$M"/* | md5sum)" = "$model_sum" ] && ok || fail "a refused command changed the model"
# a file beside the model's own (a log, embeddings) loses nothing: allowed, and the model stays as it was
expect_ok "log beside the model" "$DSP" "${T[@]}" --log "$M/run.jsonl"
expect_ok "encode beside the model" "$DSP" "${E[@]}" --out "$M/emb.safetensors"
[ -s "$M/run.jsonl" ] && [ -s "$M/emb.safetensors" ] && rm "$M/run.jsonl" "$M/emb.safetensors" &&
  [ "$(cat "$M"/* | md5sum)" = "$model_sum" ] && ok || fail "writing beside the model changed it"

# an --out that holds a model is replaced only with --force, as init's
expect_ok "train into a new folder" "$DSP" "${T[@]}" --out "$TMP/o3"
o3_sum=$(md5sum < "$TMP/o3/model.safetensors")
expect_fail "train over a model" "--out $TMP/o3 already holds a model (config.json); pass --force" "$DSP" "${T[@]}" \
  --out "$TMP/o3" --seed 7
expect_fail "pretrain over a model" "already holds a model (config.json); pass --force" "$DSP" pretrain --model "$M" \
  --corpus "$C" --out "$TMP/o3" --steps 2 --batch 4
[ "$(md5sum < "$TMP/o3/model.safetensors")" = "$o3_sum" ] && ok || fail "a refused run replaced the model in --out"
expect_ok "train --force" "$DSP" "${T[@]}" --out "$TMP/o3" --seed 7 --force
[ "$(md5sum < "$TMP/o3/model.safetensors")" != "$o3_sum" ] && ok || fail "train --force did not replace the model"

# a --log that holds an earlier run's records is replaced only with --force; an empty one loses nothing
expect_ok "train with a log" "$DSP" "${T[@]}" --log "$TMP/l1.jsonl"
l1_sum=$(md5sum < "$TMP/l1.jsonl")
expect_fail "train over a log" "--log $TMP/l1.jsonl already holds" "$DSP" "${T[@]}" --log "$TMP/l1.jsonl" --seed 7
expect_fail "pretrain over a log" "pass --force to replace it" "$DSP" pretrain --model "$M" --corpus "$C" \
  --out "$TMP/p9" --steps 2 --batch 4 --log "$TMP/l1.jsonl"
[ "$(md5sum < "$TMP/l1.jsonl")" = "$l1_sum" ] && [ ! -e "$TMP/p9" ] && ok ||
  fail "a refused run changed its --log or made its --out"
expect_ok "train --force over a log" "$DSP" "${T[@]}" --log "$TMP/l1.jsonl" --seed 7 --force
[ "$(md5sum < "$TMP/l1.jsonl")" != "$l1_sum" ] && grep -q '"seed":7' "$TMP/l1.jsonl" && ok ||
  fail "train --force did not replace the log"
: > "$TMP/l2.jsonl"
expect_ok "train into an empty log" "$DSP" "${T[@]}" --log "$TMP/l2.jsonl"
[ -s "$TMP/l2.jsonl" ] && ok || fail "the run wrote nothing into the empty log"

# a run refused on its inputs leaves no --out folder (it is made once they have loaded)
expect_fail "train, corpus absent" "nosuch.txt" "$DSP" train --model "$M" --corpus "$TMP/nosuch.txt" --out "$TMP/o4/x"
expect_fail "pretrain, model absent" "no-model" "$DSP" pretrain --model "$TMP/no-model" --corpus "$C" --out "$TMP/o5"
[ ! -e "$TMP/o4" ] && [ ! -e "$TMP/o5" ] && ok || fail "a failed run left an --out folder behind"
finish
