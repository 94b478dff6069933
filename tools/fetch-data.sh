#!/usr/bin/env bash
# fetch-data.sh — for users outside this environment: downloads the evaluation sets and the training sentences from
# their public sources and converts them into Dissipate's formats, in the layout of the project's ../shared/data
# (the folder DSP_DATA_DIR names), which the CLI commands of the README, tools/study/run_study.py and
# tools/build-site.mjs read:
#   DEST/stsb/{train,dev,test}.tsv      STS Benchmark, score<TAB>s1<TAB>s2, from the official Stsbenchmark.tar.gz (raw,
#                                       cased text, as ../shared/data has it; SentEval's copy is Moses-tokenized)
#   DEST/sts/STS12 .. STS16/<subset>.tsv SentEval's STS12–16 test sets, one file per subset (a folder = one set)
#   DEST/sts/SICKR.tsv                  SICK relatedness, test split (scores 1–5)
#   DEST/corpus/                        the training corpus, ~56.5k sentences; the tools train on every corpus/*.txt:
#     wiki1m_head.txt                   the head of SimCSE's wiki1m as ../shared/data has it (its first 11,914 lines,
#                                       whitespace collapsed, blanks and repeats dropped: 11,548 sentences); also the
#                                       default of `dissipate bench`, bench_torch.py and the browser tests
#     wikisplit_complex.txt             WikiSplit's validation/tune/test sentences (14,997), detokenized
#     wikisplit_split.txt               their split halves (29,958)
#   DEST/wiki1m/wiki1m_for_simcse.txt   SimCSE's full 10^6 Wikipedia sentences (~120 MB), kept OUT of corpus/: every
#                                       tool takes all of corpus/*.txt, and with it there they would train on ~1.06M
#                                       sentences (the head twice) and build-site.mjs would pack 120 MB into the site.
#                                       To train on it: dissipate train --corpus DEST/wiki1m/wiki1m_for_simcse.txt …
#   DEST/raw/                           the downloads as fetched
# The three STS-B and the three corpus files are checked against ../shared/data's SHA-256 sums; a mismatch is
# reported (the upstream files changed), not fatal. Not made here: stsb/senteval/ (SentEval's Moses-tokenized STS-B, which only
# tools/build-model's GloVe baseline reads) nor pretrain/.
# Sources: the STS Benchmark's official archive (ixa2.si.ehu.eus stswiki), SimCSE's mirror of the SentEval data
# (STS12-16, SICK) and of wiki1m (the same files its download scripts use), and google-research-datasets/wiki-split
# at a pinned commit.
# Downloads go to *.part and are renamed when complete, so an interrupted one is resumed, never taken as done; a
# rerun skips what is complete. Needs curl, tar, python3 and internet access (not the project's build machines).
set -euo pipefail
usage() {
  echo "usage: tools/fetch-data.sh DEST    (the data folder to make; then export DSP_DATA_DIR=DEST)"
  echo "Downloads STS-B, STS12-16, SICK-R, SimCSE's wiki1m and WikiSplit (about 250 MB) into DEST; see the top of"
  echo "this script for the layout. The full wiki1m goes to DEST/wiki1m/, not corpus/."
}
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  '') usage >&2; exit 2 ;;
  -*) echo "fetch-data: unknown option '$1'" >&2; usage >&2; exit 2 ;;
esac
[ $# -eq 1 ] || { echo "fetch-data: one argument, the destination folder" >&2; usage >&2; exit 2; }
dest=$1
for tool in curl tar python3; do
  command -v "$tool" >/dev/null || { echo "fetch-data: $tool is needed and not installed" >&2; exit 1; }
done
simcse=https://huggingface.co/datasets/princeton-nlp/datasets-for-simcse/resolve/main
stsbenchmark=http://ixa2.si.ehu.eus/stswiki/images/4/48/Stsbenchmark.tar.gz
wikisplit=https://raw.githubusercontent.com/google-research-datasets/wiki-split/80f5bddf42d1a68201b7b107ee4b8d86d82e9fde

# The highest folder this run creates (none when DEST exists), so that a failed first download can remove the empty
# folders it made rather than leave a DEST behind that looks like a data folder.
top=""
if [ ! -e "$dest" ]; then
  top=$dest
  while [ ! -e "$(dirname -- "$top")" ]; do top=$(dirname -- "$top"); done
fi
mkdir -p "$dest/raw"
[ -z "$top" ] || top=$(cd "$top" && pwd)
cd "$dest"
here=$(pwd)
cleanup_empty() {
  cd /
  rmdir "$here/raw" "$here/wiki1m" 2>/dev/null || true
  local d=$here
  while [ -n "$top" ] && rmdir "$d" 2>/dev/null && [ "$d" != "$top" ]; do d=$(dirname "$d"); done
}
fetch() { # url file: to file.part, resumed if one is there, renamed when curl reports success
  local url=$1 out=$2
  [ -s "$out" ] && return 0
  echo "fetch-data: downloading $url"
  if ! curl -fL --retry 3 -C - -o "$out.part" "$url"; then
    [ -s "$out.part" ] || rm -f "$out.part"
    echo "fetch-data: FAILED to download $url (curl's message above)." >&2
    if [ -e "$out.part" ]; then
      echo "  The part fetched so far is kept in $here/$out.part: run the script again to resume it (or delete it to start over)." >&2
    fi
    echo "  Check the internet connection (a proxy: curl reads https_proxy), then run the script again; what is complete is kept." >&2
    cleanup_empty
    exit 1
  fi
  mv -f "$out.part" "$out"
}

# An earlier version kept the full wiki1m in corpus/, where every tool would train on it: move it out, not fetch it
# again.
if [ -s corpus/wiki1m_for_simcse.txt ] && [ ! -e wiki1m/wiki1m_for_simcse.txt ]; then
  mkdir -p wiki1m
  mv corpus/wiki1m_for_simcse.txt wiki1m/
  echo "fetch-data: moved corpus/wiki1m_for_simcse.txt to wiki1m/ (out of the training corpus)"
fi
mkdir -p wiki1m
fetch "$stsbenchmark" raw/Stsbenchmark.tar.gz
fetch "$simcse/senteval.tar" raw/senteval.tar
fetch "$simcse/wiki1m_for_simcse.txt" wiki1m/wiki1m_for_simcse.txt
for part in validation tune test; do
  fetch "$wikisplit/$part.tsv" "raw/wikisplit-$part.tsv"
done
mkdir -p stsb sts corpus
mkdir -p raw/senteval
tar -xf raw/senteval.tar -C raw/senteval
tar -xzf raw/Stsbenchmark.tar.gz -C raw
python3 - raw . <<'PY'
import glob, os, sys
raw, dest = sys.argv[1], sys.argv[2]

def find(pattern, what):
    hits = sorted(glob.glob(os.path.join(raw, "**", pattern), recursive=True))
    if not hits:
        sys.exit(f"fetch-data: no {pattern} under {raw}/ ({what}): the archive's layout changed; look inside it "
                 "and adjust this script")
    return hits[0]

# SentEval's archive holds STS/ and SICK/ (at its top level in SimCSE's mirror; found wherever they are)
src = os.path.dirname(os.path.dirname(find("STS/STS12-en-test", "SentEval's STS12")))
# the official archive's folder (lowercase), not SentEval's tokenized copy in STS/STSBenchmark/
stsb = os.path.dirname(find("stsbenchmark/sts-dev.csv", "the STS Benchmark's official archive"))

def write(path, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for score, a, b in rows:
            f.write(f"{score}\t{a.strip()}\t{b.strip()}\n")
    print(f"{path}: {len(rows)} pairs")

# STS12–16: STS.input.<subset>.txt (s1<TAB>s2) with STS.gs.<subset>.txt (score, or empty = unscored: skipped)
for year in (12, 13, 14, 15, 16):
    folder = glob.glob(f"{src}/STS/STS{year}-en-test")[0]
    for inp in sorted(glob.glob(f"{folder}/STS.input.*.txt")):
        subset = os.path.basename(inp)[len("STS.input."):-len(".txt")]
        gs = f"{folder}/STS.gs.{subset}.txt"
        if not os.path.exists(gs):
            continue
        rows = []
        with open(inp, encoding="utf-8") as fi, open(gs, encoding="utf-8") as fg:
            for pair, score in zip(fi, fg):
                score = score.strip()
                if score:
                    a, b = pair.rstrip("\n").split("\t")[:2]
                    rows.append((score, a, b))
        write(f"{dest}/sts/STS{year}/{subset}.tsv", rows)

# STS-B: genre filename year id score s1 s2 [sources]
for split in ("train", "dev", "test"):
    rows = []
    with open(f"{stsb}/sts-{split}.csv", encoding="utf-8") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            rows.append((cols[4], cols[5], cols[6]))
    write(f"{dest}/stsb/{split}.tsv", rows)

# SICK-R: pair_ID sentence_A sentence_B relatedness_score entailment_judgment (header line)
rows = []
with open(f"{src}/SICK/SICK_test_annotated.txt", encoding="utf-8") as f:
    next(f)
    for line in f:
        cols = line.rstrip("\n").split("\t")
        rows.append((cols[3], cols[1], cols[2]))
write(f"{dest}/sts/SICKR.tsv", rows)
PY
# The corpus as ../shared/data has it. The head: this transform of the first 11,914 lines gives its file exactly
# (checked against its verbatim 1,280,000-byte head). WikiSplit: PTB-tokenized upstream; the detokenization below
# (wiki-markup '' dropped, clitics and punctuation attached) gives ../shared/data's two files byte for byte from
# the same three TSVs. Each file is written to .part and renamed, like the downloads.
python3 - wiki1m/wiki1m_for_simcse.txt raw corpus <<'PY'
import os, re, sys
wiki1m, raw, corpus = sys.argv[1:4]

def save(name, lines):
    path = os.path.join(corpus, name)
    with open(path + ".part", "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(path + ".part", path)
    print(f"{path}: {len(lines)} sentences")

def unique(lines):
    seen, out = set(), []
    for x in lines:
        if x and x not in seen:
            seen.add(x)
            out.append(x)
    return out

head = []
with open(wiki1m, encoding="utf-8", newline="") as f:
    for i, line in enumerate(f):
        if i == 11914:
            break
        head.append(" ".join(line.split()))
save("wiki1m_head.txt", unique(head))

def detok(s):
    s = (" " + " ".join(s.split()) + " ").replace(" '' ", " ")
    s = re.sub(r" '(s|ve|d|m|re|ll)\b", r"'\1", s, flags=re.I)
    s = re.sub(r" n't\b", "n't", s)
    s = re.sub(r" ([,.;:!?%)\]}])", r"\1", s)
    s = re.sub(r"([(\[{$#]) ", r"\1", s)
    return s.strip()

complex_, split = [], []
for part in ("validation", "tune", "test"):
    with open(os.path.join(raw, f"wikisplit-{part}.tsv"), encoding="utf-8") as f:
        for line in f:
            a, b = line.rstrip("\n").split("\t")[:2]
            complex_.append(detok(a))
            split.extend(detok(x) for x in b.split("<::::>"))
save("wikisplit_complex.txt", unique(complex_))
save("wikisplit_split.txt", unique(split))
PY
# ../shared/data's sums of the same files: a difference means an upstream file changed.
if ! command -v sha256sum >/dev/null; then
  echo "fetch-data: note: no sha256sum here: STS-B and the corpus are not compared with the project's"
elif ! (cd stsb && sha256sum --check --quiet) <<'SUMS'; then
5985668f26aa1479f9b73fe53fd7dc34c01913c7aeb96b2b4bdc68f26efc2d51  train.tsv
fabfa37dc4a26d39c1d015d1f8c99adfefc224f06eb9117ca11a8d5c46f52d7d  dev.tsv
a06144ec553c8f84e8bb90bca18d8167b5d998569c242b1cff28f30e48ae7710  test.tsv
SUMS
  echo "fetch-data: note: the STS-B file(s) named above differ from the project's (an upstream file changed);" \
       "scores will not match docs/ exactly" >&2
fi
if ! command -v sha256sum >/dev/null; then
  :
elif ! (cd corpus && sha256sum --check --quiet) <<'SUMS'; then
28288417fd5e925af5e72cefc426de95344b2c586f3c1debf49ecc6c0dfeaae5  wiki1m_head.txt
81f1ef1f7ae9bc15369ae67020854702983fba55db420b90fff521819180fd96  wikisplit_complex.txt
5de477c58b1731389a2f758e7de4d9d377af229b3546c514331ea8889eab0731  wikisplit_split.txt
SUMS
  echo "fetch-data: note: the corpus file(s) named above differ from the project's (an upstream file changed);" \
       "they are usable, but results will not match docs/ exactly" >&2
fi
echo "done. export DSP_DATA_DIR=$here. Evaluate as SimCSE reports: dissipate eval --model M --sts $here/sts/STS1{2,3,4,5,6} $here/stsb/test.tsv $here/sts/SICKR.tsv"
