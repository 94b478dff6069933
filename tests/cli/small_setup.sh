# small_setup.sh — sourced after lib.sh by tests that only need a run to start: a model of hidden size 32 over the
# corpus vocabulary ($M), the first 64 corpus lines ($C) and the first 40 STS-B dev pairs ($STS40), which keep a
# command to a fraction of a second on a slow machine.
make_vocab "$TMP/vocab.txt"
"$DSP" init --vocab "$TMP/vocab.txt" --out "$TMP/model" --hidden 32 --intermediate 64 --seed 3 >/dev/null || fail init
M=$TMP/model
C=$TMP/c64.txt
STS40=$TMP/sts40.tsv
head -64 "$DATA/corpus/wiki1m_head.txt" > "$C"
head -40 "$DATA/stsb/dev.tsv" > "$STS40"
