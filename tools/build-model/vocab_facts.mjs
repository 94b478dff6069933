// vocab_facts.mjs — the corpus facts and vector statistics the model card gives for its vocabulary choices,
// for measure_vocab.mjs --facts. Kept apart so that the size table's code stays short.

import { learnPieces } from './vocab_plan.mjs';

// Word counts behind "why numbers and single letters have their own tokens". sents: [[word]] from the basic
// tokenizer, so "words" include punctuation, as everywhere in the card.
export function corpusFacts(sents) {
    const f = { words: 0, numbers: 0, years: 0, yearsInVocab: 0, upTo100: 0, after: { s: {}, t: {} }, total: { s: 0, t: 0 } };
    for (const s of sents) s.forEach((w, i) => {
        f.words++;
        if (/^[0-9]+$/.test(w)) {
            f.numbers++;
            const n = Number(w);
            // The vocabulary's own spellings only: "1994" is a year and "42" is 0–100, "01994" and "042" are not.
            if (w.length === 4 && n >= 1000 && n <= 2099) { f.years++; if (n >= 1500 && n <= 2029) f.yearsInVocab++; }
            if (String(n) === w && n <= 100) f.upTo100++;
        }
        if (w === 's' || w === 't') {
            // The word before: "'" is the basic tokenizer's split of "john's" / "don't".
            const prev = i > 0 ? s[i - 1] : '';
            f.total[w]++;
            f.after[w][prev] = (f.after[w][prev] || 0) + 1;
        }
    });
    return f;
}

// Mean cosine over all distinct pairs of vectors, exactly but in O(n): with u_i the unit vectors,
// Σ_{i≠j} u_i·u_j = |Σ u_i|² − n. (22k word vectors make 243M pairs, too many to visit in node.)
export function meanPairwiseCosine(vecs) {
    const n = vecs.length, sum = new Float64Array(vecs[0].length);
    for (const v of vecs) {
        const len = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
        for (let d = 0; d < sum.length; d++) sum[d] += v[d] / len;
    }
    const sq = sum.reduce((s, x) => s + x * x, 0);
    return (sq - n) / (n * (n - 1));
}

// The alternative the card compares the learned pieces with: the same words, but the "##" pieces learned from
// the corpus itself (every corpus word, weighted by its count) instead of from GloVe's left-out words.
// wordsOnly: the vocabulary without pieces (planVocab with size − pieces, 0 pieces: the same words).
export function corpusLearnedVocab(wordsOnly, counts, pieces) {
    const vocab = new Map(wordsOnly);
    learnPieces(vocab, [...counts], pieces);
    return vocab;
}
