#!/usr/bin/env bash
# test_fetch_data.sh — tools/fetch-data.sh's conversion, offline: the downloads are put in place beforehand as small
# archives with the upstream layouts (the official STS Benchmark archive made from ../shared/data's verbatim copy,
# SentEval's with STS/ and SICK/ at its top, WikiSplit TSVs, a wiki1m), so the script fetches nothing and converts
# them. STS-B must come out byte for byte as ../shared/data's (its SHA-256 check stays quiet), every STS12-16 subset
# and SICK-R as score<TAB>s1<TAB>s2 with unscored pairs dropped, and the corpus files be made.
# Usage (ctest): bash test_fetch_data.sh path/to/dissipate   (the binary is not used)
source "$(dirname "$0")/lib.sh"
SRC=${DSP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ ! -s "$DATA/stsb/original/sts-dev.csv" ]; then
  echo "skipped: no $DATA/stsb/original (the verbatim STS Benchmark files)"
  exit 77
fi

D=$TMP/data
mkdir -p "$D/raw" "$D/wiki1m" "$TMP/mk/stsbenchmark" "$TMP/mk/STS" "$TMP/mk/SICK"
cp "$DATA"/stsb/original/sts-{train,dev,test}.csv "$TMP/mk/stsbenchmark/"
tar -czf "$D/raw/Stsbenchmark.tar.gz" -C "$TMP/mk" stsbenchmark
for y in 12 13 14 15 16; do
  f=$TMP/mk/STS/STS$y-en-test
  mkdir -p "$f"
  printf 'A man plays.\tA man is playing.\nA cat.\tA dog.\nNo score here.\tNone.\n' > "$f/STS.input.news.txt"
  printf '4.5\n1\n\n' > "$f/STS.gs.news.txt"
  printf 'Only input.\tNo gold file.\n' > "$f/STS.input.nogold.txt"
done
mkdir -p "$TMP/mk/STS/STSBenchmark"
printf 'main-captions\tMSRvid\t2012test\t0000\t5.000\ta man .\ta man .\n' > "$TMP/mk/STS/STSBenchmark/sts-dev.csv"
printf 'pair_ID\tsentence_A\tsentence_B\trelatedness_score\tentailment_judgment\n1\tA boy runs.\tA kid runs.\t4.6\tENTAILMENT\n' \
  > "$TMP/mk/SICK/SICK_test_annotated.txt"
tar -cf "$D/raw/senteval.tar" -C "$TMP/mk" STS SICK
for part in validation tune test; do
  printf "It is , he said , a test .\tIt is a test . <::::> He said so .\n" > "$D/raw/wikisplit-$part.tsv"
done
printf 'First  sentence.\nSecond sentence.\nFirst sentence.\n' > "$D/wiki1m/wiki1m_for_simcse.txt"

# A proxy on a closed port: were anything fetched, curl would fail at once rather than reach the internet.
expect_ok "fetch-data converts" env https_proxy=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9 \
  timeout 120 bash "$SRC/tools/fetch-data.sh" "$D"
grep -q "STS-B file(s) named above differ" "$TMP/err" && fail "STS-B differs from ../shared/data's: $(cat "$TMP/err")" || ok
for s in train dev test; do
  cmp -s "$D/stsb/$s.tsv" "$DATA/stsb/$s.tsv" && ok || fail "stsb/$s.tsv differs from ../shared/data's"
done
[ "$(cat "$D/sts/STS12/news.tsv")" = "$(printf '4.5\tA man plays.\tA man is playing.\n1\tA cat.\tA dog.')" ] && ok ||
  fail "STS12/news.tsv: $(cat "$D/sts/STS12/news.tsv")"
[ -e "$D/sts/STS16/news.tsv" ] && [ ! -e "$D/sts/STS16/nogold.tsv" ] && ok || fail "STS16: $(ls "$D/sts/STS16")"
[ "$(cat "$D/sts/SICKR.tsv")" = "$(printf '4.6\tA boy runs.\tA kid runs.')" ] && ok || fail "SICKR.tsv: $(cat "$D/sts/SICKR.tsv")"
[ "$(cat "$D/corpus/wiki1m_head.txt")" = "$(printf 'First sentence.\nSecond sentence.')" ] && ok ||
  fail "wiki1m_head.txt: $(cat "$D/corpus/wiki1m_head.txt")"
[ "$(cat "$D/corpus/wikisplit_complex.txt")" = "It is, he said, a test." ] && ok ||
  fail "wikisplit_complex.txt: $(cat "$D/corpus/wikisplit_complex.txt")"
# the made STS-B is what the CLI reads
expect_ok "eval on the made folder" "$DSP" eval --model "$SRC/models/tiny" --sts "$D/sts/STS12" --max-len 16
finish
