#!/usr/bin/env bash
# `dissipate eval` over files and a multi-subset folder: the folder's "all" equals the Spearman of its subsets
# concatenated into one file, each subset equals its own file's result, and mean / weighted mean follow from them.
source "$(dirname "$0")/lib.sh"
FIX="$DSP_SOURCE_DIR/tests/fixtures/sts/year"
make_vocab "$TMP/vocab.txt"
"$DSP" init --vocab "$TMP/vocab.txt" --out "$TMP/model" --hidden 32 --intermediate 64 --seed 2 >/dev/null || fail init
cat "$FIX"/subset-a.tsv "$FIX"/subset-b.tsv > "$TMP/concat.tsv"
expect_ok "eval json" "$DSP" eval --model "$TMP/model" --sts "$FIX" "$TMP/concat.tsv" "$FIX/subset-a.tsv" "$FIX/subset-b.tsv" --json
cp "$TMP/out" "$TMP/eval.json"
/usr/bin/python3 - "$TMP/eval.json" <<'PY' && ok || fail "aggregation"
import json, sys
r = json.load(open(sys.argv[1]))
folder, concat, a, b = r["sets"]
assert folder["name"] == "year" and [s["name"] for s in folder["subsets"]] == ["subset-a", "subset-b"], folder
assert folder["pairs"] == 14 and concat["pairs"] == 14
assert abs(folder["spearman"] - concat["spearman"]) < 1e-9, (folder["spearman"], concat["spearman"])
assert abs(folder["subsets"][0]["spearman"] - a["spearman"]) < 1e-9
assert abs(folder["subsets"][1]["spearman"] - b["spearman"]) < 1e-9
assert abs(folder["mean"] - (a["spearman"] + b["spearman"]) / 2) < 1e-6
assert abs(folder["weighted_mean"] - (8 * a["spearman"] + 6 * b["spearman"]) / 14) < 1e-6
assert abs(r["avg"] - sum(s["spearman"] for s in r["sets"]) / 4) < 1e-6
assert abs(folder["align"] - concat["align"]) < 1e-9
PY
# the table layout: one column per set and the average
expect_ok "eval table" "$DSP" eval --model "$TMP/model" --sts "$FIX" "$FIX/subset-a.tsv"
head -1 "$TMP/out" | grep -q "year .*subset-a .*Avg\." && ok || fail "table header: $(head -1 "$TMP/out")"
grep -q "2 subsets: all" "$TMP/out" && ok || fail "folder details"
mkdir -p "$TMP/empty"
expect_fail "empty folder" "no \*.tsv" "$DSP" eval --model "$TMP/model" --sts "$TMP/empty"
finish
