#!/usr/bin/env bash
# run_parity_case.sh — one engine-vs-PyTorch parity case: make a small model, let the engine dump one training step
# (`dissipate parity-dump`), and recompute it in float64 with tools/reference/check_parity.py.
#
# usage: run_parity_case.sh path/to/dissipate [driver flags] [parity-dump flags...]
#   --model-kind init   `dissipate init` (BERT initialisation: zero biases, LayerNorm 1/0), L=2 H=32 A=2 I=64 (default)
#   --model-kind hf     make_hf_model.py's random BERT of the same size, with non-zero biases and LayerNorm parameters
#   --no-dropout        set both dropout probabilities of config.json to 0 (no masks are recorded)
#   --replay K          dump steps 1 .. K+1 (--steps-before 0 .. K) and check step K+1 with the Adam moments
#                       replayed from the first K dumps (check_parity --history)
#   --train STEPS       first train the model STEPS InfoNCE steps (batch 4, lr 5e-3, scalar kernels): its embeddings
#                       spread out enough that some cross-view cosines turn negative and the floors of mpt/mat act
#   --require-floor     passed to check_parity: inconclusive unless an active hinge sits at its floor
# Exit status: check_parity's (0 pass, 1 mismatch, 3 inconclusive case), 1 if the engine fails, 77 without PyTorch.
source "$(dirname "$0")/../cli/lib.sh"
shift
SRC=${DSP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PY=${DSP_PYTHON:-/usr/bin/python3}
REF=$SRC/tools/reference
[ -x "$PY" ] || { echo "skipped: $PY not found (the reference needs Debian's python3 with python3-torch)"; exit 77; }

kind=init; no_dropout=0; replay=0; train=0; check_args=(); dump_args=()
while [ $# -gt 0 ]; do
  case $1 in
    --model-kind) kind=$2; shift 2 ;;
    --no-dropout) no_dropout=1; shift ;;
    --replay) replay=$2; shift 2 ;;
    --train) train=$2; shift 2 ;;
    --require-floor) check_args+=(--require-floor); shift ;;
    *) dump_args+=("$1"); shift ;;
  esac
done

# A vocabulary: the bundled model's, else one built from the corpus (as the CLI tests do), cached across cases.
vocab=$SRC/models/tiny/vocab.txt
if [ ! -f "$vocab" ]; then
  vocab=${DSP_TMP_DIR:-/tmp}/reference-vocab.txt
  if [ ! -s "$vocab" ]; then
    make_vocab "$TMP/vocab.txt" && mv -f "$TMP/vocab.txt" "$vocab"  # rename is atomic: parallel cases may race
  fi
fi

model=$TMP/model
case $kind in
  init) "$DSP" init --vocab "$vocab" --out "$model" --hidden 32 --heads 2 --intermediate 64 --layers 2 --max-pos 64 \
          --seed 3 >/dev/null || { echo "FAIL: dissipate init"; exit 1; } ;;
  hf) "$PY" "$REF/make_hf_model.py" --out "$model" --vocab "$vocab" --hidden 32 --heads 2 --intermediate 64 \
          --layers 2 --max-pos 64 --seed 5 --no-reference >/dev/null || { echo "FAIL: make_hf_model.py"; exit 1; } ;;
  *) echo "unknown --model-kind $kind"; exit 2 ;;
esac
if [ "$no_dropout" = 1 ]; then
  "$PY" - "$model/config.json" <<'EOF' || exit 1
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg["hidden_dropout_prob"] = cfg["attention_probs_dropout_prob"] = 0.0
json.dump(cfg, open(sys.argv[1], "w"), indent=2)
EOF
fi
head -n 256 "$DATA/corpus/wiki1m_head.txt" > "$TMP/corpus.txt"
if [ "$train" -gt 0 ]; then
  "$DSP" train --model "$model" --corpus "$TMP/corpus.txt" --objective infonce --steps "$train" --batch 4 --lr 5e-3 \
    --kernels scalar --eval-every 0 --quiet --out "$TMP/trained" >"$TMP/train.log" 2>&1 ||
    { echo "FAIL: dissipate train"; cat "$TMP/train.log"; exit 1; }
  model=$TMP/trained
fi

dump() {  # dump STEPS_BEFORE OUT
  "$DSP" parity-dump --model "$model" --corpus "$TMP/corpus.txt" "${dump_args[@]}" --steps-before "$1" --out "$2" \
    >/dev/null || { echo "FAIL: dissipate parity-dump ${dump_args[*]} --steps-before $1"; exit 1; }
}
history=()
for ((k = 0; k < replay; k++)); do
  dump "$k" "$TMP/step$k.safetensors"
  history+=("$TMP/step$k.safetensors")
done
dump "$replay" "$TMP/step.safetensors"
extra=("${check_args[@]}")
[ "${#history[@]}" -gt 0 ] && extra+=(--history "${history[@]}")
"$PY" "$REF/check_parity.py" --model "$model" --dump "$TMP/step.safetensors" "${extra[@]}"
