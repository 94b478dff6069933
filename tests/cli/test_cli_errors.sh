#!/usr/bin/env bash
# Bad input gets a clear message and a non-zero exit: unknown commands and flags, missing or malformed files,
# impossible values. --help works for every subcommand.
source "$(dirname "$0")/lib.sh"

make_vocab "$TMP/vocab.txt"
expect_ok "init" "$DSP" init --vocab "$TMP/vocab.txt" --out "$TMP/model" --hidden 32 --intermediate 64 --seed 3
C="$DATA/corpus/wiki1m_head.txt"
DEV="$DATA/stsb/dev.tsv"

for cmd in train eval init bench; do
  if "$DSP" $cmd --help >"$TMP/out" 2>&1 && grep -q "usage: dissipate $cmd" "$TMP/out"; then ok; else fail "$cmd --help"; fi
done
expect_fail "unknown command" "unknown command" "$DSP" frobnicate
expect_fail "unknown flag" "unknown flag '--bogus'" "$DSP" train --model "$TMP/model" --corpus "$C" --bogus 1
expect_fail "missing model" "model" "$DSP" train --corpus "$C"
expect_fail "model dir absent" "$TMP/nope" "$DSP" train --model "$TMP/nope" --corpus "$C" --steps 1
expect_fail "corpus absent" "$TMP/none.txt" "$DSP" train --model "$TMP/model" --corpus "$TMP/none.txt" --steps 1
expect_fail "batch 1" "batch size 1" "$DSP" train --model "$TMP/model" --corpus "$C" --batch 1 --steps 1
expect_fail "nan lr" "learning rate" "$DSP" train --model "$TMP/model" --corpus "$C" --lr nan --steps 1
expect_fail "lr not a number" "expects a number" "$DSP" train --model "$TMP/model" --corpus "$C" --lr fast
expect_fail "tau 0" "tau" "$DSP" train --model "$TMP/model" --corpus "$C" --tau 0 --steps 1
expect_fail "lambda 2" "lambda" "$DSP" train --model "$TMP/model" --corpus "$C" --objective au --lambda 2 --steps 1
expect_fail "unknown objective" "unknown objective 'simclr'" "$DSP" train --model "$TMP/model" --corpus "$C" --objective simclr
expect_fail "steps 0" "steps" "$DSP" train --model "$TMP/model" --corpus "$C" --steps 0
expect_fail "threads 0" "threads" "$DSP" train --model "$TMP/model" --corpus "$C" --threads 0 --steps 1
expect_fail "negative seed" "expects a non-negative integer" "$DSP" train --model "$TMP/model" --corpus "$C" --seed -4

expect_fail "unknown kernels" "unknown kernel set 'sse4'" "$DSP" train --model "$TMP/model" --corpus "$C" --kernels sse4
# sse2 (simd128 in SSE2 encoding, on x86-64) trains to simd128's bits; elsewhere it is refused with a reason
if "$DSP" train --model "$TMP/model" --corpus "$C" --batch 8 --steps 3 --kernels sse2 --out "$TMP/k_sse2" \
     >"$TMP/out" 2>&1; then
  expect_ok "train simd128" "$DSP" train --model "$TMP/model" --corpus "$C" --batch 8 --steps 3 --kernels simd128 \
    --out "$TMP/k_simd128"
  if cmp -s "$TMP/k_sse2/model.safetensors" "$TMP/k_simd128/model.safetensors"; then ok
  else fail "simd128 and sse2 trained to different weights"; fi
elif grep -q "SSE2 encoding" "$TMP/out"; then ok
else fail "train --kernels sse2: $(cat "$TMP/out")"; fi

# malformed STS file: the message names the file and line
printf '4.0\tA man.\tA man sits.\nnot-a-score\tx\ty\n' > "$TMP/bad.tsv"
expect_fail "bad sts" "bad.tsv:2" "$DSP" eval --model "$TMP/model" --sts "$TMP/bad.tsv"
# malformed config.json and safetensors
cp -r "$TMP/model" "$TMP/broken"; echo '{"hidden_size": 32,' > "$TMP/broken/config.json"
expect_fail "bad config" "config.json" "$DSP" eval --model "$TMP/broken" --sts "$DEV"
cp -r "$TMP/model" "$TMP/trunc"; head -c 1000 "$TMP/model/model.safetensors" > "$TMP/trunc/model.safetensors"
expect_fail "truncated weights" "model.safetensors" "$DSP" eval --model "$TMP/trunc" --sts "$DEV"
cp -r "$TMP/model" "$TMP/relu"; sed -i 's/"gelu"/"relu"/' "$TMP/relu/config.json"
expect_fail "relu activation" "relu" "$DSP" eval --model "$TMP/relu" --sts "$DEV"
# H not divisible by A
expect_fail "H % A" "divisible" "$DSP" init --vocab "$TMP/vocab.txt" --out "$TMP/x" --hidden 30 --heads 4
# bench: an unknown kernel set is refused; a chosen one is the only set timed, at every thread count, with the
# median and the fastest step, under the machine's load average
expect_fail "bench kernels" "--kernels takes all, scalar, simd128, sse2, avx2 or avx512" "$DSP" bench --kernels nope
expect_ok "bench one set" "$DSP" bench --model "$TMP/model" --corpus "$C" --batch 4 --steps 2 --threads-max 2 \
  --kernels simd128 --no-gemm
if grep -q "best ms" "$TMP/out" && [ "$(grep -cE '^simd128 +[12] ' "$TMP/out")" -eq 2 ] &&
   grep -qE '^load average at start \(other work on this machine slows every row\): [0-9.]+ ' "$TMP/out" &&
   ! grep -qE '^(scalar|avx2) ' "$TMP/out"; then ok; else fail "bench --kernels simd128: $(cat "$TMP/out")"; fi
# ... beside the set's arithmetic ceiling and the step time it bounds (ceiling x time = the step's FLOPs, which
# the header prints to 3 significant digits), and the same loop on both threads at once with its ratio to one core (printed
# to 2 decimals; the machine decides the figure, only the arithmetic and a sane range are checked: with --steps 2 the
# one-core figure is the fastest of only a few runs, and a slow spell once made the ratio 2.42). The rates are
# printed to 1 decimal, so the tolerances grow where they are small (a sanitizer build: about 2 GFLOP/s).
if awk '/^training step:/ { for (i = 1; i <= NF; i++) if ($i == "GFLOP/step") flop = $(i - 1) }
        /^  simd128 +[0-9.]+ GFLOP\/s: [0-9.]+ ms at 1 thread; 2 threads at once [0-9.]+ GFLOP\/s: [0-9.]+x$/ {
          n++; g = $2; ms = $4; all = $13; x = $15; sub(/x$/, "", x); x += 0 } # a number again after sub()
        END { exit !(n == 1 && g > 0 && ms > 0 &&
                     (g * ms / 1000 - flop) ^ 2 <= (0.005 + 0.01 * flop + 0.05 * flop / g) ^ 2 &&
                     x > 0.3 && x < 3 && (all / g - x) ^ 2 <= (0.006 + 0.05 / g + 0.05 * all / (g * g)) ^ 2) }' "$TMP/out"
then ok; else fail "bench ceiling line: $(cat "$TMP/out")"; fi
# --profile: where the step goes, a row per part with ms and share at 1 and 2 threads and the speedup; the parts
# cover the step (what no part holds is a small share, and no part is negative), and every row's two shares are
# its ms over the step's
expect_ok "bench profile" "$DSP" bench --model "$TMP/model" --corpus "$C" --batch 4 --steps 3 --threads-max 2 \
  --kernels simd128 --no-gemm --profile
if grep -q "^where the step's time goes (simd128; wall ms per step over 3 steps" "$TMP/out" &&
   awk '/^where the step/ { if (!seen) on = 1; seen = 1; next }
        on && NF == 0 { on = 0 }
        on && NF >= 6 && $(NF) ~ /x$/ {
          label = $1; for (i = 2; i <= NF - 5; i++) label = label " " $i
          ms1 = $(NF-4); s1 = $(NF-3); ms2 = $(NF-2); s2 = $(NF-1); sub(/%$/, "", s1); sub(/%$/, "", s2)
          s1 += 0; s2 += 0 # numbers again after sub(): as strings, "5.9" < 25 is false
          if (label == "step") { step1 = ms1; step2 = ms2; next }
          rows++; if (ms1 < 0 || ms2 < 0) bad++
          if (label == "(outside every part)") { out1 = s1; out2 = s2 } else parts[label] = 1
          share[rows] = s1; msv[rows] = ms1; share2[rows] = s2; msv2[rows] = ms2 }
        # printed rounding: the share to 0.05 points, the ms to 0.005 (100·0.005/step points), and the step to
        # 0.005 (share·0.005/step points), plus 0.01 for the second-order terms
        function off(ms, step, sh) { d = ms / step * 100 - sh; return d * d > (0.06 + (0.5 + 0.005 * sh) / step) ^ 2 }
        END { for (r = 1; r <= rows; r++) if (off(msv[r], step1, share[r]) || off(msv2[r], step2, share2[r])) bad++
              exit !(step1 > 0 && step2 > 0 && bad == 0 && out1 != "" && out1 < 25 && out2 < 25 &&
                     ("matmul_forward" in parts) && ("attention_backward" in parts) && ("optimizer" in parts) &&
                     ("objective" in parts) && ("embedding gradients" in parts)) }' "$TMP/out"
then ok; else fail "bench --profile: $(cat "$TMP/out")"; fi
# --pooler cls: the step's FLOPs count the compact last layer (fewer than mean pooling's), and it says so
mean_flop=$(awk '/^training step:/ { for (i = 1; i <= NF; i++) if ($i == "GFLOP/step") print $(i - 1) }' "$TMP/out")
expect_fail "bench pooler" "--pooler takes mean, cls or cls_mlp" "$DSP" bench --pooler first
expect_ok "bench cls" "$DSP" bench --model "$TMP/model" --corpus "$C" --batch 4 --steps 1 --threads-max 1 \
  --kernels simd128 --no-gemm --pooler cls
cls_flop=$(awk '/^training step:/ { for (i = 1; i <= NF; i++) if ($i == "GFLOP/step") print $(i - 1) }' "$TMP/out")
if grep -q '^pooler cls: the last layer computes the \[CLS\] rows only' "$TMP/out" &&
   awk -v m="$mean_flop" -v c="$cls_flop" 'BEGIN { exit !(c > 0 && c < m) }'
then ok; else fail "bench --pooler cls ($cls_flop against mean's $mean_flop GFLOP): $(cat "$TMP/out")"; fi
# the GEMM table follows --kernels too: 4 shapes x 3 products, each simd128 cell "fastest/median" with fastest >= median
expect_ok "bench gemm table" "$DSP" bench --model "$TMP/model" --corpus "$C" --batch 4 --steps 1 --threads-max 1 \
  --kernels simd128
# columns: scalar simd128 sse2 avx2 avx512 openblas, 3 ratios; sse2 (simd128 in SSE2 encoding) is timed iff simd128
# runs AVX's
vex=0; grep -q "simd128 runs as 128-bit AVX encoding" "$TMP/out" && vex=1
if awk -v vex=$vex '$1 == "1" && $(NF-7) ~ /\// { n++; split($(NF-7), r, "/"); split($(NF-6), e, "/")
                                         if ($(NF-8) != "-" || $(NF-5) != "-" || $(NF-4) != "-") bad++
                                         if (!(r[1] + 0 >= r[2] + 0 && r[2] + 0 > 0)) bad++
                                         if (vex ? !(e[1] + 0 >= e[2] + 0 && e[2] + 0 > 0) : $(NF-6) != "-") bad++ }
        END { exit !(n == 12 && bad == 0) }' "$TMP/out" && grep -q "fastest/median of 15 runs" "$TMP/out"; then ok
else fail "bench gemm table: $(cat "$TMP/out")"; fi
# ... and the 1-thread GEMM as a share of the ceiling, for each vector set timed (simd128, and sse2 where it differs,
# held to the same 128-bit units' ceiling)
if [ "$(grep -cE '^  (simd128|sse2) +ceiling +[0-9.]+ GFLOP/s, GEMM +[0-9]+- *[0-9]+%$' "$TMP/out")" -eq $((1 + vex)) ] &&
   ! grep -qE '^  avx2 +ceiling' "$TMP/out"; then ok; else fail "bench gemm ceiling shares: $(cat "$TMP/out")"; fi
# config file: bad key and bad value type
echo '{"steps": 2, "bogus": 1}' > "$TMP/cfg.json"
expect_fail "config unknown key" "unknown setting \"bogus\"" "$DSP" train --config "$TMP/cfg.json" --model "$TMP/model" --corpus "$C"
echo '{"steps": 2.5}' > "$TMP/cfg.json"
expect_fail "config non-integer" "integer" "$DSP" train --config "$TMP/cfg.json" --model "$TMP/model" --corpus "$C"
# output paths are checked before any work: a bad --out fails at once, before the log gets a single step
touch "$TMP/afile"
expect_fail "out under a file" "--out $TMP/afile/sub" "$DSP" train --model "$TMP/model" --corpus "$C" --steps 200 \
  --batch 4 --out "$TMP/afile/sub" --log "$TMP/early.jsonl"
[ ! -e "$TMP/early.jsonl" ] && ok || fail "a bad --out was found only after training started"
expect_fail "pretrain out under a file" "--out $TMP/afile/sub" "$DSP" pretrain --model "$TMP/model" --corpus "$C" \
  --out "$TMP/afile/sub" --steps 5
expect_fail "log is the corpus" "also an input" "$DSP" train --model "$TMP/model" --corpus "$TMP/afile" "$C" \
  --log "$TMP/afile"
# nothing replaces a model without being asked: init over a model folder, and a run saving into its own --model
# (through another spelling of the path), are refused and leave the model as it was; init --force replaces it
sum_before=$(cat "$TMP/model/model.safetensors" "$TMP/model/config.json" | md5sum)
expect_fail "init over a model" "already holds a model (config.json); pass --force" "$DSP" init \
  --vocab "$TMP/vocab.txt" --out "$TMP/model" --hidden 32 --intermediate 64 --seed 4
expect_fail "train out is the model" "is the --model folder" "$DSP" train --model "$TMP/model" --corpus "$C" \
  --steps 1 --batch 4 --out "$TMP/./model/"
expect_fail "pretrain out is the model" "is the --model folder" "$DSP" pretrain --model "$TMP/model" --corpus "$C" \
  --steps 2 --batch 4 --out "$TMP/model"
[ "$(cat "$TMP/model/model.safetensors" "$TMP/model/config.json" | md5sum)" = "$sum_before" ] && ok ||
  fail "a refused command changed the model"
mkdir -p "$TMP/half" && : > "$TMP/half/model.safetensors"
expect_fail "init over weights alone" "already holds a model (model.safetensors)" "$DSP" init --vocab "$TMP/vocab.txt" \
  --out "$TMP/half"
expect_ok "init --force" "$DSP" init --vocab "$TMP/vocab.txt" --out "$TMP/half" --hidden 32 --intermediate 64 --force
[ -s "$TMP/half/model.safetensors" ] && ok || fail "init --force did not write the model"
# a max length the position embeddings cannot hold is refused before training, not when a long sentence comes up
expect_fail "max-len > positions" "--max-len against $TMP/model/config.json: max length 513 is more than the model's max_position_embeddings 512" \
  "$DSP" train --model "$TMP/model" --corpus "$C" --max-len 513 --steps 1
# a corpus smaller than a batch is refused naming the file (the engine's own check cannot)
head -3 "$C" > "$TMP/c3.txt"
expect_fail "corpus < batch" "--corpus $TMP/c3.txt has 3 sentences, fewer than --batch 4" "$DSP" train --model "$TMP/model" \
  --corpus "$TMP/c3.txt" --batch 4 --steps 1
expect_fail "pretrain corpus < batch" "--corpus $TMP/c3.txt has 3 sentences, fewer than --batch 8" "$DSP" pretrain \
  --model "$TMP/model" --corpus "$TMP/c3.txt" --out "$TMP/pt3" --batch 8 --steps 1
[ ! -e "$TMP/pt3" ] && ok || fail "a refused pretrain made its --out"
expect_fail "pretrain max-len" "max_position_embeddings 512" "$DSP" pretrain --model "$TMP/model" --corpus "$C" \
  --out "$TMP/pt" --max-len 600 --steps 5
expect_fail "eval max-len" "max_position_embeddings 512" "$DSP" eval --model "$TMP/model" --sts "$DEV" --max-len 600
# a flag missing its value does not swallow the next flag
expect_fail "log needs a value" "--log needs a value before --quiet" "$DSP" train --model "$TMP/model" --corpus "$C" \
  --steps 1 --log --quiet
expect_fail "corpus needs a value" "--corpus needs a value before --eval" "$DSP" train --model "$TMP/model" \
  --corpus --eval "$DEV"
# a config file gives a path as a string, not a number (which once left a dangling pointer)
echo '{"out": 7}' > "$TMP/cfg.json"
expect_fail "config number for a path" '"out" must be a string' "$DSP" train --config "$TMP/cfg.json" \
  --model "$TMP/model" --corpus "$C"
echo '{"corpus": [1]}' > "$TMP/cfg.json"
expect_fail "config list of numbers" '"corpus" must be a list of strings' "$DSP" train --config "$TMP/cfg.json" \
  --model "$TMP/model"
expect_fail "dropout < 0" "--dropout must be in" "$DSP" train --model "$TMP/model" --corpus "$C" --dropout -0.5
expect_fail "dropout nan" "--dropout must be in" "$DSP" train --model "$TMP/model" --corpus "$C" --dropout nan
expect_fail "lr underflows" "outside the range of a 32-bit float" "$DSP" train --model "$TMP/model" --corpus "$C" \
  --lr 1e-50
expect_fail "init hidden 0" "hidden_size 0" "$DSP" init --vocab "$TMP/vocab.txt" --out "$TMP/h0" --hidden 0
expect_fail "init heads -1" "num_attention_heads -1 must be >= 1" "$DSP" init --vocab "$TMP/vocab.txt" \
  --out "$TMP/hm" --heads -1
expect_fail "parity negative steps" "--steps-before must be >= 0" "$DSP" parity-dump --model "$TMP/model" \
  --corpus "$C" --out "$TMP/pd.st" --steps-before -5
expect_fail "bench threads" "--threads-max must be in 1 .. 256" "$DSP" bench --threads-max 1000
expect_fail "bench batch" "--batch must be >= 2" "$DSP" bench --batch 1
expect_fail "init preset named" "unknown --preset 'small' (known: tiny)" "$DSP" init --vocab "$TMP/vocab.txt" \
  --out "$TMP/ps" --preset small
expect_fail "version takes no argument" "unexpected argument 'x'" "$DSP" version x
expect_ok "version --help" "$DSP" version --help
grep -q "usage: dissipate version" "$TMP/out" && ok || fail "version --help: $(cat "$TMP/out")"
expect_fail "unknown flag, help named once" "unknown flag '--bogus' (see dissipate train --help)" "$DSP" train \
  --model "$TMP/model" --corpus "$C" --bogus 1
expect_fail "pretrain warmup" "--warmup must be fewer than --steps" "$DSP" pretrain --model "$TMP/model" \
  --corpus "$C" --out "$TMP/pt" --steps 20 --warmup 20
# the default warm-up (500) is cut to a tenth of a short run: the learning rate peaks at step 2 and then decays
expect_ok "pretrain short run" "$DSP" pretrain --model "$TMP/model" --corpus "$C" --out "$TMP/pt" --steps 20 \
  --batch 4 --log "$TMP/pt.jsonl"
/usr/bin/python3 - "$TMP/pt.jsonl" <<'PY' && ok || fail "pretrain's default warm-up on a 20-step run"
import json, sys
lr = [r["lr"] for r in map(json.loads, open(sys.argv[1])) if r["type"] == "mlm"]
assert len(lr) == 20 and max(lr) == lr[1] and lr[-1] < lr[1] / 5, lr
PY
# pretrain's log starts with its config record, as train's does, and names an --eval set by its file's stem
head -40 "$DATA/stsb/dev.tsv" > "$TMP/dev40.tsv"
expect_ok "pretrain with --eval" "$DSP" pretrain --model "$TMP/model" --corpus "$C" --out "$TMP/pt" --force --steps 6 \
  --batch 4 --eval "$TMP/dev40.tsv" --eval-every 3 --log "$TMP/pt2.jsonl"
# ... and its progress lines name the set as the log does (and train's lines), with the smoothed figures said to be
grep -qE "^step 6  dev40 spearman -?[0-9.]+  smoothed mlm loss [0-9.]+  acc [0-9.]+$" "$TMP/err" && ok ||
  fail "pretrain's progress line: $(cat "$TMP/err")"
/usr/bin/python3 - "$TMP/pt2.jsonl" "$TMP/dev40.tsv" "$C" <<'PY' && ok || fail "pretrain's config record or eval set name"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
c = recs[0]
assert c["type"] == "config" and c["command"] == "pretrain", c
assert c["steps"] == 6 and c["batch"] == 4 and c["warmup"] == 0 and c["eval_every"] == 3, c
assert c["eval"] == [sys.argv[2]] and c["corpus"] == [sys.argv[3]] and c["kernels"] != "auto", c
evals = [r for r in recs if r["type"] == "eval"]
assert [r["step"] for r in evals] == [3, 6] and all(r["set"] == "dev40" for r in evals), evals
PY
expect_fail "parity unknown optimizer" "unknown --optimizer" "$DSP" parity-dump --model "$TMP/model" --corpus "$C" \
  --out "$TMP/pd.st" --optimizer adam
# STS sets Spearman cannot rank, and embeddings from a pooler whose weights the model lacks
printf '2\ta\tb\n2\tc\td\n2\te\tf\n' > "$TMP/const.tsv"
expect_fail "constant gold" "const.tsv: every pair has the same score 2" "$DSP" eval --model "$TMP/model" \
  --sts "$TMP/const.tsv"
head -1 "$DEV" > "$TMP/one.tsv"
expect_fail "one pair" "one.tsv: an STS set needs at least 2 pairs" "$DSP" eval --model "$TMP/model" --sts "$TMP/one.tsv"
expect_fail "cls_mlp without mlp" "no mlp.* weights" "$DSP" encode --model "$TMP/model" --text-file "$C" \
  --out "$TMP/e.st" --pooler cls_mlp
printf '2 99999 3\n' > "$TMP/ids.txt"
expect_fail "id outside vocab" "ids.txt: sequence 1: token id 99999 is outside the vocabulary" "$DSP" encode \
  --model "$TMP/model" --ids-file "$TMP/ids.txt" --out "$TMP/e.st"
{ echo "2 3"; yes 7 | head -513 | tr '\n' ' '; echo; } > "$TMP/long_ids.txt"
expect_fail "ids longer than the positions" "long_ids.txt: sequence 2 has 513 ids, more than the model's max_position_embeddings 512" \
  "$DSP" encode --model "$TMP/model" --ids-file "$TMP/long_ids.txt" --out "$TMP/e.st"
# a hyper-parameter the objective does not read is named, not silently dropped
expect_ok "tau with au" "$DSP" train --model "$TMP/model" --corpus "$C" --objective au --tau 0.1 --steps 1 --batch 4
grep -q "warning: --tau does not apply to the au objective" "$TMP/err" && ok || fail "no warning for --tau with au"
# usage errors exit 2 whichever check finds them (the parser or the command's)
"$DSP" train --model "$TMP/model" --corpus "$C" --kernels foo >/dev/null 2>&1; a=$?
"$DSP" eval --model "$TMP/model" --sts "$DEV" --kernels foo >/dev/null 2>&1; b=$?
"$DSP" train --model "$TMP/model" --corpus "$C" --bogus >/dev/null 2>&1; c=$?
[ "$a$b$c" = 222 ] && ok || fail "usage errors exit $a $b $c, expected 2 2 2"
finish
