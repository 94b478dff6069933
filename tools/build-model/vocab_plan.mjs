// vocab_plan.mjs — which tokens the tiny model's WordPiece vocabulary holds, in id order.
//
// A pure function of the GloVe word list and a few constants, so that the vocabulary is rebuilt bit for bit:
//   specials  [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4
//   chars     every character the basic tokenizer can emit that English Wikipedia text needs: ASCII
//             punctuation, digits and letters; common non-ASCII punctuation; the Latin letters that survive
//             lowercasing + accent stripping (ø æ ß ł …); the Greek and Cyrillic lowercase alphabets; a few
//             symbols (£ € ° ² …)
//   ##chars   continuation forms of every character that can sit inside a word (not punctuation, which the
//             basic tokenizer always splits off), so any such word is covered and never becomes [UNK]
//   numbers   0–100, 200…900, "000" (from "1,000"), the years 1500–2029 (GloVe here has no numbers at all)
//   words     the most frequent GloVe words that are one BERT token (lowercase a–z/0–9 only)
//   pieces    "##…" continuation pieces learned from the GloVe words left out (see learnPieces)

import { wordPiece, isPunctuation } from './bert_tokenizer.mjs';

export const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const fromCodes = (a, b) => range(a, b).map((c) => String.fromCodePoint(c));
// A character can reach WordPiece only if lowercasing and NFD + dropping marks leave it as it is.
const survivesBasic = (ch) => ch.toLowerCase() === ch && ch.normalize('NFD') === ch;

export const ASCII_PUNCT = range(33, 126).map((c) => String.fromCharCode(c)).filter((c) => !/[A-Za-z0-9]/.test(c));
export const DIGITS = [...'0123456789'];
export const LETTERS = [...'abcdefghijklmnopqrstuvwxyz'];
// Non-ASCII punctuation (Unicode P*): always split off as a token of its own.
export const EXTRA_PUNCT = [...'–—‘’‚“”„…•·«»‹›′″†‡§¶¡¿'];
// Letters that survive accent stripping, then Greek α–ω and Cyrillic а–я plus the Serbian/Ukrainian extras.
export const EXTRA_LETTERS = [...'øæœßłđðþıħŋə', ...fromCodes(0x3B1, 0x3C9), ...fromCodes(0x430, 0x44F),
    ...fromCodes(0x452, 0x45F), 'ґ'].filter(survivesBasic);
// Symbols that are not punctuation to BERT, so they stay inside words ("£5", "20°c", "m²").
export const EXTRA_SYMBOLS = [...'£€¥¢°×÷−±²³½¼¾µ©®™'];

export const NUMBERS = [...range(0, 100), ...range(2, 9).map((h) => 100 * h)].map(String)
    .concat(['000'], range(1500, 2029).map(String));

// A GloVe word is a vocabulary word if the basic tokenizer leaves it whole and unchanged.
export const isSingleToken = (w) => /^[a-z0-9]+$/.test(w);

for (const c of EXTRA_PUNCT) if (!isPunctuation(c)) throw new Error(`EXTRA_PUNCT: ${c} is not punctuation`);
for (const c of [...EXTRA_LETTERS, ...EXTRA_SYMBOLS]) if (isPunctuation(c) || !survivesBasic(c)) throw new Error(`bad char ${c}`);

// Everything except the GloVe words and the learned pieces, as [token, kind] in id order.
export function fixedTokens() {
    const inWord = [...DIGITS, ...LETTERS, ...EXTRA_LETTERS, ...EXTRA_SYMBOLS];
    return [
        ...SPECIALS.map((t) => [t, 'special']),
        ...[...ASCII_PUNCT, ...DIGITS, ...LETTERS, ...EXTRA_PUNCT, ...EXTRA_LETTERS, ...EXTRA_SYMBOLS].map((t) => [t, 'char']),
        ...inWord.map((t) => ['##' + t, 'contchar']),
        ...NUMBERS.filter((n) => !DIGITS.includes(n)).map((t) => [t, 'number']),
    ];
}

export function longestEntry(vocab) {
    let m = 0;
    for (const t of vocab.keys()) m = Math.max(m, t.startsWith('##') ? t.length - 2 : t.length);
    return m;
}

// The GloVe words left out of the vocabulary, with Zipf weights 1/(rank+1): GloVe's list is in frequency
// order, so this stands in for their (unshipped) counts. maxRank bounds the tail (deep-tail words are mostly
// misspellings and foreign names; measured: 100k, 150k or all 341k ranks change pieces-per-word by < 0.001).
export const LEARN_MAX_RANK = 100000;
export function leftOutWords(glove, vocab, maxRank = LEARN_MAX_RANK) {
    const out = [];
    const n = Math.min(maxRank, glove.words.length);
    for (let r = 0; r < n; r++) {
        const w = glove.words[r];
        if (isSingleToken(w) && !vocab.has(w)) out.push([w, 1 / (r + 1)]);
    }
    return out;
}

// Byte-pair merging restricted to continuation pieces: tokenize the left-out words with the current vocabulary
// (greedy longest match, exactly as the tokenizer will), count each adjacent pair of "##" pieces weighted by
// the word's weight, add the most frequent merges as new "##" pieces, repeat. Words are matched by whole-word
// prefixes first, so merges only ever grow the part after the prefix: the pieces learned are what really
// follows a known word ("##s", "##ing", "##ville", …). `rounds` batches the additions (measured: 5, 10 or 20
// rounds change pieces-per-word by < 0.001). Ties break by string order, so the result is deterministic.
export function learnPieces(vocab, train, count, rounds = 10) {
    const learned = [];
    const perRound = Math.ceil(count / rounds);
    while (learned.length < count) {
        const maxLen = longestEntry(vocab);
        const pairs = new Map();
        for (const [w, weight] of train) {
            const p = wordPiece(w, vocab, maxLen);
            if (!p) continue;
            for (let i = 2; i < p.length; i++) {
                const merged = '##' + p[i - 1].slice(2) + p[i].slice(2);
                pairs.set(merged, (pairs.get(merged) || 0) + weight);
            }
        }
        const best = [...pairs].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
            .slice(0, Math.min(perRound, count - learned.length));
        if (best.length === 0) break;
        for (const [piece] of best) {
            vocab.set(piece, 'piece');
            learned.push(piece);
        }
    }
    return learned;
}

// The whole vocabulary: a Map token -> kind, in id order. size = total tokens, pieces = learned "##" pieces.
export function planVocab(glove, { size, pieces, learnMaxRank = LEARN_MAX_RANK, rounds = 10 }) {
    const vocab = new Map(fixedTokens());
    if (vocab.size !== fixedTokens().length) throw new Error('duplicate fixed tokens');
    const nWords = size - vocab.size - pieces;
    if (nWords < 1) throw new Error(`vocabulary size ${size} leaves no room for words (fixed ${vocab.size}, pieces ${pieces})`);
    let added = 0;
    for (let r = 0; r < glove.words.length && added < nWords; r++) {
        const w = glove.words[r];
        if (isSingleToken(w) && !vocab.has(w)) { vocab.set(w, 'word'); added++; }
    }
    if (added < nWords) throw new Error(`GloVe has only ${added} single-token words, ${nWords} wanted`);
    // Learning order matters: pieces come after the words are fixed, as the tokenizer will see them.
    const wordsOnly = new Map(vocab);
    learnPieces(vocab, leftOutWords(glove, wordsOnly, learnMaxRank), pieces, rounds);
    if (vocab.size !== size) throw new Error(`vocabulary has ${vocab.size} tokens, ${size} wanted`);
    return vocab;
}
