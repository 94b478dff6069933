// stsb.mjs — read the shared data files and score STS the SentEval way (Spearman ×100 of cosines).

import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './glove.mjs';

export const DATA_DIR = process.env.DSP_DATA_DIR || path.join(REPO_ROOT, '..', 'shared', 'data');

// "score<TAB>sentence1<TAB>sentence2" per line -> [{score, a, b}]
export function readPairs(file) {
    return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length).map((l, i) => {
        const f = l.split('\t');
        if (f.length !== 3 || !Number.isFinite(Number(f[0]))) throw new Error(`${file}:${i + 1}: expected score<TAB>s1<TAB>s2`);
        return { score: Number(f[0]), a: f[1], b: f[2] };
    });
}

export function readLines(file) {
    return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length);
}

// The unsupervised SimCSE corpus: every corpus/*.txt, one sentence per line.
export function corpusSentences(dataDir = DATA_DIR) {
    const dir = path.join(dataDir, 'corpus');
    if (!fs.existsSync(dir)) throw new Error(`${dir}: no such folder (set DSP_DATA_DIR to the data folder)`);
    return fs.readdirSync(dir).filter((f) => f.endsWith('.txt')).sort().flatMap((f) => readLines(path.join(dir, f)));
}

// Ranks 1..n with ties given their average rank.
function ranks(x) {
    const idx = x.map((_, i) => i).sort((a, b) => x[a] - x[b] || a - b);
    const r = new Float64Array(x.length);
    for (let i = 0; i < idx.length;) {
        let j = i;
        while (j + 1 < idx.length && x[idx[j + 1]] === x[idx[i]]) j++;
        for (let k = i; k <= j; k++) r[idx[k]] = (i + j) / 2 + 1;
        i = j + 1;
    }
    return r;
}

function pearson(a, b) {
    const n = a.length;
    let ma = 0, mb = 0;
    for (let i = 0; i < n; i++) { ma += a[i]; mb += b[i]; }
    ma /= n; mb /= n;
    let sab = 0, saa = 0, sbb = 0;
    for (let i = 0; i < n; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) ** 2; sbb += (b[i] - mb) ** 2; }
    return sab / Math.sqrt(saa * sbb);
}

export const spearman = (a, b) => pearson(ranks(a), ranks(b));

export function cosine(a, b) {
    let s = 0, na = 0, nb = 0;
    for (let i = 0; i < a.length; i++) { s += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
    return na > 0 && nb > 0 ? s / Math.sqrt(na * nb) : 0;
}
