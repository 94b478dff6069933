# lib.sh — helpers for the command-line tests: counted assertions and a small model built from the corpus.
# Usage in a test: source "$(dirname "$0")/lib.sh"; ...; finish
set -u
DSP=${1:?usage: test_x.sh path/to/dissipate}
DATA=${DSP_DATA_DIR:?DSP_DATA_DIR is not set}
TMP=$(mktemp -d "${DSP_TMP_DIR:-/tmp}/cli.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
passed=0; failed=0

ok()   { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

# expect_fail "what" "needle in stderr" cmd...: the command must exit non-zero and say `needle`.
expect_fail() {
  local what=$1 needle=$2; shift 2
  if "$@" >"$TMP/out" 2>"$TMP/err"; then fail "$what: succeeded, expected an error"; return; fi
  if grep -qi -- "$needle" "$TMP/err"; then ok; else fail "$what: stderr lacks '$needle': $(cat "$TMP/err")"; fi
}
expect_ok() {
  local what=$1; shift
  if "$@" >"$TMP/out" 2>"$TMP/err"; then ok; else fail "$what: exit $?: $(tail -3 "$TMP/err")"; fi
}

# A vocabulary of the special tokens, single characters and the 3000 most frequent lowercase corpus words.
make_vocab() {
  { printf '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n'
    printf '%s\n' a b c d e f g h i j k l m n o p q r s t u v w x y z 0 1 2 3 4 5 6 7 8 9 . , "'" '"' '(' ')' - : ';' '?' '!'
    cat "$DATA"/corpus/*.txt | tr 'A-Z' 'a-z' | tr -c 'a-z\n' ' ' | tr ' ' '\n' | grep -E '^[a-z]{2,}$' |
      sort | uniq -c | sort -k1,1nr -k2,2 | head -3000 | awk '{print $2}'
  } > "$1"
}

finish() {
  echo "$(basename "$0"): $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
