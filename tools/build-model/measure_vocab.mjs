#!/usr/bin/env node
// measure_vocab.mjs — how candidate vocabularies tokenize the SimCSE corpus and STS-B dev, what the model
// files would weigh, (--probe) how the embedding scale shows through the embedding LayerNorm, and (--facts)
// the corpus facts and vector statistics behind the card's other vocabulary choices.
//
// Usage: node --max-old-space-size=4096 tools/build-model/measure_vocab.mjs
//            [--sizes 16000,20000,24000,26000] [--pieces 0,1000,2000] [--probe SIZE:PIECES] [--facts]
// --facts replaces the size table (it is about the built vocabulary, SIZE and PIECES of build_vocab.mjs).
// Reads ../shared/data (or $DSP_DATA_DIR). Numbers go to stdout as Markdown tables for the model card.

import path from 'node:path';
import { loadGlove } from './glove.mjs';
import { basicTokenize, wordPiece } from './bert_tokenizer.mjs';
import { planVocab, longestEntry } from './vocab_plan.mjs';
import { initialVectors } from './init_vectors.mjs';
import { embeddingMatrix, HIDDEN, BERT_INIT_STD } from './embeddings.mjs';
import { DATA_DIR, readPairs, corpusSentences, spearman, cosine } from './stsb.mjs';
import { SplitMix64 } from './prng.mjs';
import { SEED, RMS_TARGET, SIZE, PIECES } from './build_vocab.mjs';
import { corpusFacts, meanPairwiseCosine, corpusLearnedVocab } from './vocab_facts.mjs';

const MAX_LEN = 32; // SimCSE's max_seq_length, the engine's default

// Parameters of the tiny preset besides the word embeddings (L=2, H=128, A=2, I=512, P=512, T=2), counting
// HF's NSP pooler and SimCSE's MLP head too, so the estimate is an upper bound.
function otherParams(H = 128, L = 2, I = 512, P = 512, T = 2) {
    const layer = 4 * (H * H + H) + 2 * H + (I * H + I) + (H * I + H) + 2 * H;
    return P * H + T * H + 2 * H + L * layer + 2 * (H * H + H);
}
const HEADER_BYTES = 8192; // safetensors JSON header for ~40 tensors, generous

const USAGE = `usage: node --max-old-space-size=4096 tools/build-model/measure_vocab.mjs
           [--sizes 16000,20000,24000,26000] [--pieces 0,1000,2000] [--probe SIZE:PIECES] [--facts]
  --sizes LIST        vocabulary sizes of the table, comma-separated (default 16000,20000,24000,26000)
  --pieces LIST       learned ## pieces per size, comma-separated (default 0,1000,2000)
  --probe SIZE:PIECES also the embedding-scale probe on STS-B dev for that vocabulary
  --facts             the card's other vocabulary figures instead of the table
Reads ../shared/data (or $DSP_DATA_DIR): corpus/*.txt and stsb/dev.tsv.`;

class UsageError extends Error {}

// Every value is checked here, before the GloVe parse (a minute and 1 GB of heap) starts.
function args(argv = process.argv.slice(2)) {
    const a = { sizes: [16000, 20000, 24000, 26000], pieces: [0, 1000, 2000], probe: null, facts: false, help: false };
    const list = (k, v, sep, n) => {
        const xs = v.split(sep).map((x) => (x.trim() === '' ? NaN : Number(x)));
        if (!xs.every((x) => Number.isInteger(x) && x >= 0) || (n && xs.length !== n))
            throw new UsageError(`${k} ${v}: expected ${n ? `${n} whole numbers joined by '${sep}'` : `whole numbers joined by '${sep}'`}`);
        return xs;
    };
    for (let i = 0; i < argv.length; i++) {
        const k = argv[i];
        if (k === '--help' || k === '-h') { a.help = true; continue; }
        if (k === '--facts') { a.facts = true; continue; }
        if (!['--sizes', '--pieces', '--probe'].includes(k)) throw new UsageError(`unknown option ${k}`);
        const v = argv[++i];
        if (v === undefined || v.startsWith('--')) throw new UsageError(`option ${k} needs a value`);
        if (k === '--sizes') a.sizes = list(k, v, ',');
        else if (k === '--pieces') a.pieces = list(k, v, ',');
        else a.probe = list(k, v, ':', 2);
    }
    return a;
}

// sentences -> {sents: [[word]], counts: Map word -> n}
function prepare(sentences) {
    const sents = sentences.map(basicTokenize), counts = new Map();
    for (const s of sents) for (const w of s) counts.set(w, (counts.get(w) || 0) + 1);
    return { sents, counts };
}

function tokenStats(vocab, data, randomRow) {
    const maxLen = longestEntry(vocab), pieces = new Map();
    for (const w of data.counts.keys()) pieces.set(w, wordPiece(w, vocab, maxLen));
    let words = 0, unk = 0, total = 0, split = 0, noGlove = 0, truncated = 0, sentTokens = 0;
    for (const s of data.sents) {
        let n = 2;
        for (const w of s) {
            const p = pieces.get(w);
            words++;
            if (!p) { unk++; total++; n++; noGlove++; continue; }
            total += p.length; n += p.length;
            if (p.length > 1) split++;
            for (const t of p) if (randomRow.has(t)) noGlove++;
        }
        sentTokens += Math.min(n, MAX_LEN);
        if (n > MAX_LEN) truncated++;
    }
    const pct = (x, y) => (100 * x / y).toFixed(2);
    return { unk: pct(unk, words), ppw: (total / words).toFixed(3), split: pct(split, words),
        noGlove: pct(noGlove, total), trunc: pct(truncated, data.sents.length), tokens: (sentTokens / data.sents.length).toFixed(1) };
}

function fileBytes(vocab) {
    let vocabTxt = 0;
    for (const t of vocab.keys()) vocabTxt += Buffer.byteLength(t) + 1;
    const model = 2 * (vocab.size * HIDDEN + otherParams()) + HEADER_BYTES;
    return { vocabTxt, model, total: vocabTxt + model + 1024 /* config.json */ };
}

// Embedding layer only: (word + position + type) -> LayerNorm -> mean over [CLS] … [SEP] -> cosine.
function probe(rows, vocab, pairs, seed) {
    const rng = new SplitMix64(seed), H = HIDDEN;
    const pos = Float64Array.from({ length: MAX_LEN * H }, () => BERT_INIT_STD * rng.normal());
    const type0 = Float64Array.from({ length: H }, () => BERT_INIT_STD * rng.normal());
    const ids = [...vocab.keys()].reduce((m, t, i) => m.set(t, i), new Map()), maxLen = longestEntry(vocab);
    const embed = (sentence) => {
        const toks = ['[CLS]', ...basicTokenize(sentence).flatMap((w) => wordPiece(w, vocab, maxLen) || ['[UNK]']), '[SEP]'];
        const seq = toks.length > MAX_LEN ? [...toks.slice(0, MAX_LEN - 1), '[SEP]'] : toks;
        const out = new Float64Array(H), x = new Float64Array(H);
        seq.forEach((t, p) => {
            const r = ids.get(t) * H;
            let mean = 0;
            for (let d = 0; d < H; d++) { x[d] = rows[r + d] + pos[p * H + d] + type0[d]; mean += x[d]; }
            mean /= H;
            let v = 0;
            for (let d = 0; d < H; d++) v += (x[d] - mean) ** 2;
            const inv = 1 / Math.sqrt(v / H + 1e-12);
            for (let d = 0; d < H; d++) out[d] += (x[d] - mean) * inv / seq.length;
        });
        return out;
    };
    const cos = pairs.map((p) => cosine(embed(p.a), embed(p.b)));
    return (100 * spearman(cos, pairs.map((p) => p.score))).toFixed(2);
}

// The card's "why numbers and single letters have their own tokens", the diversity of the rule-5 starting
// vectors, and the pieces learned from GloVe against pieces learned from the corpus itself.
function facts(glove, corpus, dev) {
    const f = corpusFacts(corpus.sents);
    const pct = (x, y) => (100 * x / y).toFixed(2);
    console.log(`Corpus facts (SimCSE corpus, ${f.words} basic-tokenizer words, punctuation included)\n\n` +
        '| words | count | % |\n| --- | --- | --- |\n' +
        `| pure numbers ([0-9]+) | ${f.numbers} | ${pct(f.numbers, f.words)} of words |\n` +
        `| years 1000–2099 (4 digits) | ${f.years} | ${pct(f.years, f.words)} of words |\n` +
        `| … of them in 1500–2029 (the vocabulary's years) | ${f.yearsInVocab} | ${pct(f.yearsInVocab, f.years)} of those years |\n` +
        `| 0–100 (no leading zeros) | ${f.upTo100} | ${pct(f.upTo100, f.words)} of words |`);
    for (const w of ['s', 't']) {
        const ascii = f.after[w]["'"] || 0, curly = f.after[w]['’'] || 0;
        console.log(`| \`${w}\` right after \`'\` | ${ascii} of ${f.total[w]} | ${pct(ascii, f.total[w])} (after \`’\`: ${curly} more) |`);
    }

    const vocab = planVocab(glove, { size: SIZE, pieces: PIECES });
    const init = initialVectors(glove, vocab), kinds = [...vocab.values()];
    // Rule 5 rows (learned pieces, ##letters, other single letters) against the whole-word rows (rule 1).
    // Cosines are those of the 100-d starts: the orthonormal map and the one global scale keep them.
    const pieceVecs = init.filter((x) => x.rule.startsWith('pieces-mean')).map((x) => x.vec);
    const wordVecs = init.filter((x, i) => kinds[i] === 'word').map((x) => x.vec);
    console.log(`\nStarting vectors, V=${SIZE} with ${PIECES} pieces: mean pairwise cosine of the ${pieceVecs.length} rule-5 ` +
        `(piece) rows ${meanPairwiseCosine(pieceVecs).toFixed(3)}, of the ${wordVecs.length} whole-word rows ${meanPairwiseCosine(wordVecs).toFixed(3)}`);

    // Same words, pieces learned from the corpus (in-sample: the easiest case for the corpus-learned pieces).
    const wordsOnly = planVocab(glove, { size: SIZE - PIECES, pieces: 0 });
    const fromCorpus = corpusLearnedVocab(wordsOnly, corpus.counts, PIECES);
    const none = new Set();
    console.log(`\nLearned pieces, V=${SIZE} with ${PIECES} pieces, same words: pieces/word\n\n` +
        '| pieces learned from | corpus | STS-B dev |\n| --- | --- | --- |');
    for (const [name, v] of [["GloVe's left-out words (the build)", vocab], ['the corpus itself (weighted by count)', fromCorpus]])
        console.log(`| ${name} | ${tokenStats(v, corpus, none).ppw} | ${tokenStats(v, dev, none).ppw} |`);
}

function main() {
    const a = args();
    if (a.help) { console.log(USAGE); return; }
    // the data first: a wrong data folder is told in a moment, not after the GloVe parse
    const corpus = prepare(corpusSentences());
    const devPairs = readPairs(path.join(DATA_DIR, 'stsb', 'dev.tsv'));
    const dev = prepare(devPairs.flatMap((p) => [p.a, p.b]));
    const glove = loadGlove();
    console.log(`corpus: ${corpus.sents.length} sentences, ${[...corpus.counts.values()].reduce((x, y) => x + y, 0)} words; ` +
        `STS-B dev: ${dev.sents.length} sentences, ${[...dev.counts.values()].reduce((x, y) => x + y, 0)} words (basic-tokenizer tokens)\n`);
    if (a.facts) facts(glove, corpus, dev);
    else {
        console.log('| V | ## pieces | words | corpus [UNK] % | corpus pieces/word | corpus words split % | corpus tokens no GloVe % | corpus sentences > 32 % | dev [UNK] % | dev pieces/word | dev words split % | dev tokens no GloVe % | vocab.txt + F16 model bytes |');
        console.log('|' + ' --- |'.repeat(13));
        for (const size of a.sizes) for (const np of a.pieces) {
            const vocab = planVocab(glove, { size, pieces: np });
            const kinds = [...vocab.values()];
            const init = initialVectors(glove, vocab);
            const randomRow = new Set([...vocab.keys()].filter((t, i) => !init[i].vec));
            const c = tokenStats(vocab, corpus, randomRow), d = tokenStats(vocab, dev, randomRow);
            const words = kinds.filter((k) => k === 'word').length;
            console.log(`| ${size} | ${np} | ${words} | ${c.unk} | ${c.ppw} | ${c.split} | ${c.noGlove} | ${c.trunc} | ${d.unk} | ${d.ppw} | ${d.split} | ${d.noGlove} | ${fileBytes(vocab).total} |`);
        }
    }
    if (a.probe) {
        const [size, np] = a.probe.length === 2 ? a.probe : [SIZE, PIECES];
        const vocab = planVocab(glove, { size, pieces: np });
        const init = initialVectors(glove, vocab), kinds = [...vocab.values()];
        console.log(`\nEmbedding-layer probe, V=${size}, ${np} pieces: STS-B dev Spearman ×100 of mean-pooled LayerNorm(word + pos + type), ` +
            `pos/type ~ N(0, ${BERT_INIT_STD}²), 3 seeds\n\n| word-row RMS per element | seed 1 | seed 2 | seed 3 |\n| --- | --- | --- | --- |`);
        for (const rms of [0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.5, 2]) {
            const { rows } = embeddingMatrix(init, kinds, { seed: SEED, rmsTarget: rms });
            console.log(`| ${rms}${rms === RMS_TARGET ? ' (chosen)' : ''} | ${[1, 2, 3].map((s) => probe(rows, vocab, devPairs, s)).join(' | ')} |`);
        }
    }
}

try {
    main();
} catch (e) {
    console.error(`measure_vocab: ${e.message}${e instanceof UsageError ? `\n${USAGE}` : ''}`);
    process.exit(e instanceof UsageError ? 2 : 1);
}
