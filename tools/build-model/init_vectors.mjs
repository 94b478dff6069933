// init_vectors.mjs — a starting vector (in GloVe's 100-d space) for every vocabulary token, and why.
//
// Rules, first match wins (the builder writes each token's rule to init_rules.tsv):
//   1. the token is a GloVe word (or punctuation mark): its own vector ("##£" ← £ for the symbols GloVe has);
//   2. a typographic variant of one (– — − ‚ „ « » ‹ › ′ ″): the ASCII mark's vector;
//   3. numbers GloVe lacks: their English names ("7" ← seven, "42" ← forty-two, "300" ← mean(three, hundred),
//      "000" ← thousand); a year ← the mean of the early-/mid-/late-<decade>s phrases GloVe has ("1994" ←
//      mid-1990s, late-1990s, early-1990s), else mid-<century> ("1613" ← mid-17th); "##7" ← seven;
//   4. one-letter words GloVe lacks: "a" ← an (the same article before a vowel); "i" ← mean(me, my, we, you)
//      (the other first- and second-person pronouns, which share its contexts); "s" ← mean(his, its, is) and
//      "t" ← not, because the tokenizer splits "John's" and "don't" into … ' s / … ' t, which is how "s" and
//      "t" are mostly used (measured on the corpus: 90% and 68% of their occurrences follow an apostrophe);
//   5. "##" continuation pieces, and the other one-letter tokens (b, c, …, which start a word no vocabulary word
//      prefixes: "g" in "gdansk"): the Zipf-weighted mean of the left-out GloVe words (rank < LEARN_MAX_RANK, the
//      same words the pieces were learned from) whose tokenization uses the token — the average meaning of the
//      words it helps spell — rescaled to those words' mean norm (a mean of many vectors is shorter than any
//      of them, and would otherwise sit below the position embeddings once scaled);
//   6. nothing known (Greek and Cyrillic letters, most symbols, [UNK] [CLS] [SEP] [MASK]): null,
//      i.e. BERT's own initialisation N(0, 0.02²) in the model space; [PAD] is zero, as Hugging Face does.

import { wordPiece } from './bert_tokenizer.mjs';
import { leftOutWords, longestEntry, SPECIALS } from './vocab_plan.mjs';

const DIGIT_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
const TEEN_WORDS = ['ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS_WORDS = [null, null, 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const VARIANTS = { '–': '-', '—': '-', '−': '-', '‚': "'", '„': '"', '«': '"', '»': '"', '‹': "'", '›': "'", '′': "'", '″': '"' };
const LETTER_WORDS = { a: ['an'], i: ['me', 'my', 'we', 'you'], s: ['his', 'its', 'is'], t: ['not'] };

const ordinal = (n) => n + ((n % 100 >= 11 && n % 100 <= 13) ? 'th' : ['th', 'st', 'nd', 'rd'][n % 10] || 'th');

// GloVe words whose mean starts a number token (a string of digits), or null.
function numberWords(glove, t) {
    const n = Number(t);
    if (t === '000') return ['thousand'];
    if (t.length === 4) {
        const decade = Math.floor(n / 10) * 10;
        const phrases = ['early', 'mid', 'late'].map((p) => `${p}-${decade}s`).filter((w) => glove.rank.has(w));
        return phrases.length ? phrases : [`mid-${ordinal(Math.floor(n / 100) + 1)}`];
    }
    if (n < 10) return [DIGIT_WORDS[n]];
    if (n < 20) return [TEEN_WORDS[n - 10]];
    if (n < 100) return [n % 10 ? `${TENS_WORDS[Math.floor(n / 10)]}-${DIGIT_WORDS[n % 10]}` : TENS_WORDS[n / 10]];
    if (n === 100) return ['hundred'];
    if (n % 100 === 0 && n < 1000) return [DIGIT_WORDS[n / 100], 'hundred'];
    return null;
}

// The GloVe words a token starts from (rules 1–4), or null.
function sourceWords(glove, token) {
    if (token.startsWith('##')) {
        const bare = token.slice(2);
        if (/^[0-9]$/.test(bare)) return [DIGIT_WORDS[Number(bare)]];
        if ([...bare].length === 1 && !/[a-z]/.test(bare) && glove.rank.has(bare)) return [bare]; // ##£ ← £
        return null; // learned pieces and ##letters: rule 5
    }
    if (glove.rank.has(token)) return [token];
    if (Object.hasOwn(VARIANTS, token)) return [VARIANTS[token]];
    if (/^[0-9]+$/.test(token)) return numberWords(glove, token);
    return Object.hasOwn(LETTER_WORDS, token) ? LETTER_WORDS[token] : null;
}

function meanOf(glove, words) {
    const m = new Float64Array(glove.dims);
    for (const w of words) {
        const v = glove.vector(w);
        if (!v) throw new Error(`init rule names ${JSON.stringify(w)}, which GloVe lacks`);
        for (let d = 0; d < m.length; d++) m[d] += v[d];
    }
    for (let d = 0; d < m.length; d++) m[d] /= words.length;
    return m;
}

const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

// Rule 5 for the tokens in `wanted`: one pass over the left-out GloVe words.
function pieceVectors(glove, vocab, wanted) {
    const dims = glove.dims, sum = new Map(), weightSum = new Map(), normSum = new Map(), words = new Map();
    const maxLen = longestEntry(vocab);
    for (const [w, weight] of leftOutWords(glove, vocab)) {
        const p = wordPiece(w, vocab, maxLen);
        if (!p) continue;
        let v = null;
        for (let i = 0; i < p.length; i++) {
            if (!wanted.has(p[i])) continue;
            v = v || glove.vector(w);
            if (!sum.has(p[i])) { sum.set(p[i], new Float64Array(dims)); weightSum.set(p[i], 0); normSum.set(p[i], 0); words.set(p[i], 0); }
            const s = sum.get(p[i]);
            for (let d = 0; d < dims; d++) s[d] += weight * v[d];
            weightSum.set(p[i], weightSum.get(p[i]) + weight);
            normSum.set(p[i], normSum.get(p[i]) + weight * norm(v));
            words.set(p[i], words.get(p[i]) + 1);
        }
    }
    const out = new Map();
    for (const [piece, s] of sum) {
        const target = normSum.get(piece) / weightSum.get(piece), n = norm(s);
        if (!(n > 0)) continue;
        for (let d = 0; d < dims; d++) s[d] *= target / n;
        out.set(piece, { vec: s, words: words.get(piece) });
    }
    return out;
}

// Returns an array, in id order, of {vec: Float64Array(100) | null, rule: string}.
export function initialVectors(glove, vocab) {
    const tokens = [...vocab.keys()];
    const result = tokens.map((t) => {
        const src = sourceWords(glove, t);
        if (src) return { vec: meanOf(glove, src), rule: src.length === 1 && src[0] === t ? 'glove' : 'glove:' + src.join('+') };
        return null;
    });
    const wanted = new Set(tokens.filter((t, i) => !result[i] && !SPECIALS.includes(t)));
    const pieces = pieceVectors(glove, vocab, wanted);
    return tokens.map((t, i) => {
        if (result[i]) return result[i];
        if (pieces.has(t)) return { vec: pieces.get(t).vec, rule: `pieces-mean(${pieces.get(t).words} words)` };
        return { vec: null, rule: t === '[PAD]' ? 'zero' : 'bert-init' };
    });
}
