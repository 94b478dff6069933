#!/usr/bin/env bash
# A --log write that fails part way through a run (here: past the file-size limit, ulimit -f, with SIGXFSZ ignored
# so that the write fails with EFBIG) stops train and pretrain at the end of that step, before its save, with a
# message naming the log, the error, the step and what --out holds; --out keeps the model of the last step whose
# records were written, bit for bit that of a run stopped there. The model is made tiny (a few KB) so that it fits
# under the limit the log reaches.
source "$(dirname "$0")/lib.sh"
C=$TMP/c200.txt
head -200 "$DATA/corpus/wiki1m_head.txt" > "$C"
{ printf '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n'; printf '%s\n' a b c d e f g h i j k l m n o p q r s t u v w x y z; } \
  > "$TMP/vocab.txt"
"$DSP" init --vocab "$TMP/vocab.txt" --out "$TMP/model" --hidden 8 --heads 1 --intermediate 8 --layers 1 --max-pos 16 \
  >/dev/null || fail init
M=$TMP/model
# run LIMIT_KB cmd...: the command under a file-size limit of LIMIT_KB kilobytes
limited() { (trap '' XFSZ; ulimit -f "$1"; shift; exec "$@"); }

T=(train --model "$M" --corpus "$C" --batch 4 --max-len 16 --schedule constant --seed 3)
if limited 16 "$DSP" "${T[@]}" --steps 300 --save-every 1 --out "$TMP/ck" --log "$TMP/t.jsonl" --quiet \
    >"$TMP/out" 2>"$TMP/err"; then
  fail "train: a log past the file-size limit passed silently"
else
  done_steps=$(($(wc -l < "$TMP/t.jsonl") - 1)) # the lines ended by a newline, less the config record
  stop=$((done_steps + 1))
  said="cannot write the log $TMP/t.jsonl: File too large; the run stopped at step $stop"
  if [ "$done_steps" -ge 2 ] && grep -q "$said; $TMP/ck holds the model saved at step $done_steps" "$TMP/err"; then ok
  else fail "train's message after $done_steps logged steps: $(cat "$TMP/err")"; fi
  # --out holds the last logged step's model: a run of that many steps saves the same bytes
  expect_ok "train, reference run" "$DSP" "${T[@]}" --steps "$done_steps" --out "$TMP/ref"
  cmp -s "$TMP/ck/model.safetensors" "$TMP/ref/model.safetensors" && ok ||
    fail "--out does not hold the model of step $done_steps, the last one logged"
fi

P=(pretrain --model "$M" --corpus "$C" --batch 4 --max-len 16 --seed 3)
if limited 8 "$DSP" "${P[@]}" --steps 300 --save-every 1 --out "$TMP/pck" --log "$TMP/p.jsonl" \
    >"$TMP/out" 2>"$TMP/err"; then
  fail "pretrain: a log past the file-size limit passed silently"
else
  done_steps=$(($(wc -l < "$TMP/p.jsonl") - 1))
  said="cannot write the log $TMP/p.jsonl: File too large; the run stopped at step $((done_steps + 1))"
  if [ "$done_steps" -ge 2 ] && grep -q "$said; $TMP/pck holds the model saved at step $done_steps" "$TMP/err"; then ok
  else fail "pretrain's message after $done_steps logged steps: $(cat "$TMP/err")"; fi
  [ -s "$TMP/pck/model.safetensors" ] && ok || fail "pretrain's --out lost the model saved before the log failed"
fi
finish
