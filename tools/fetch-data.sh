#!/usr/bin/env bash
# fetch-data.sh — for users outside this environment: downloads the evaluation sets and SimCSE's training sentences
# from their public sources and converts them into Dissipate's pair format (score<TAB>s1<TAB>s2), in the layout the
# CLI expects:
#   DEST/stsb/{train,dev,test}.tsv      STS Benchmark
#   DEST/sts/STS12 .. STS16/<subset>.tsv SentEval's STS12–16 test sets, one file per subset (a folder = one set)
#   DEST/sts/SICKR.tsv                  SICK relatedness, test split (scores 1–5)
#   DEST/corpus/wiki1m_for_simcse.txt   SimCSE's 10^6 Wikipedia sentences
#   DEST/corpus/wiki1m_head.txt         its head as ../shared/data has it (the first 11,914 lines, whitespace
#                                       collapsed, blanks and repeats dropped: 11,548 sentences), the default corpus
#                                       of `dissipate bench`, tools/reference/bench_torch.py and the browser tests
# Not made here: stsb/senteval/ (SentEval's Moses-tokenized STS-B, which only tools/build-model's GloVe baseline reads).
# Sources: SimCSE's mirror of the SentEval data and of wiki1m (the same files its download scripts use).
# This cannot run inside the project's build machines (no internet); it needs curl, tar and python3.
# Usage: tools/fetch-data.sh DEST
set -euo pipefail
dest=${1:?usage: tools/fetch-data.sh DEST}
base=https://huggingface.co/datasets/princeton-nlp/datasets-for-simcse/resolve/main
mkdir -p "$dest"/{stsb,sts,corpus} "$dest/raw"
cd "$dest"
[ -f raw/senteval.tar ] || curl -fL --retry 3 -o raw/senteval.tar "$base/senteval.tar"
[ -f corpus/wiki1m_for_simcse.txt ] || curl -fL --retry 3 -o corpus/wiki1m_for_simcse.txt "$base/wiki1m_for_simcse.txt"
tar -xf raw/senteval.tar -C raw
python3 - raw/SentEval/data/downstream . <<'PY'
import csv, glob, os, sys
src, dest = sys.argv[1], sys.argv[2]

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
    with open(f"{src}/STS/STSBenchmark/sts-{split}.csv", encoding="utf-8") as f:
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
# The head the benchmarks read by default; this transform of the first 11,914 lines gives ../shared/data's file
# exactly (checked against its verbatim 1,280,000-byte head).
python3 - corpus/wiki1m_for_simcse.txt corpus/wiki1m_head.txt <<'PY'
import sys
seen, out = set(), []
with open(sys.argv[1], encoding="utf-8", newline="") as f:
    for i, line in enumerate(f):
        if i == 11914:
            break
        text = " ".join(line.split())
        if text and text not in seen:
            seen.add(text)
            out.append(text)
with open(sys.argv[2], "w", encoding="utf-8") as f:
    f.write("\n".join(out) + "\n")
print(f"{sys.argv[2]}: {len(out)} sentences")
PY
echo "done. Evaluate as SimCSE reports: dissipate eval --model M --sts $dest/sts/STS1{2,3,4,5,6} $dest/stsb/test.tsv $dest/sts/SICKR.tsv"
