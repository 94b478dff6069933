// embeddings.mjs — the word-embedding matrix [V, 128] from the per-token GloVe starting vectors.
//
// row = scale · Q · g for a token with a GloVe-derived vector g (100-d), Q the seeded orthonormal 128×100 map;
// row ~ N(0, 0.02²) per element (BERT's initializer_range) for a token with nothing to start from;
// row = 0 for [PAD] (Hugging Face zeroes the padding row; the engine never pads, so it is never read).
// scale is one global factor: the mean norm of the whole-word rows becomes rmsTarget·√128, i.e. their
// per-element RMS is rmsTarget. GloVe's relative norms (short for frequent words, long for rare ones) are kept.

import { seededOrthonormal, applyMap } from './orthonormal.mjs';
import { SplitMix64 } from './prng.mjs';

export const HIDDEN = 128;
export const BERT_INIT_STD = 0.02;

// init: [{vec, rule}] from initialVectors; kinds: the vocabulary's kind per token (same order).
// Returns {rows: Float32Array [V, hidden], scale}.
export function embeddingMatrix(init, kinds, { seed, rmsTarget, hidden = HIDDEN }) {
    const dims = init.find((x) => x.vec).vec.length;
    const q = seededOrthonormal(hidden, dims, seed);
    // A second, independent stream for the random rows, so changing one never moves the other.
    const rng = new SplitMix64(BigInt(seed) ^ 0x5DEECE66Dn);
    let normSum = 0, count = 0;
    init.forEach((x, i) => {
        if (x.vec && kinds[i] === 'word') { normSum += Math.sqrt(x.vec.reduce((s, v) => s + v * v, 0)); count++; }
    });
    if (count === 0) throw new Error('no whole-word rows to set the scale from');
    const scale = (rmsTarget * Math.sqrt(hidden)) / (normSum / count);
    const rows = new Float32Array(init.length * hidden);
    const y = new Float64Array(hidden);
    init.forEach((x, i) => {
        const row = rows.subarray(i * hidden, (i + 1) * hidden);
        if (x.vec) {
            applyMap(q, hidden, dims, x.vec, y);
            for (let d = 0; d < hidden; d++) row[d] = scale * y[d];
        } else if (x.rule === 'bert-init') {
            for (let d = 0; d < hidden; d++) row[d] = BERT_INIT_STD * rng.normal();
        } // 'zero': stays 0
    });
    return { rows, scale };
}
