// bert_tokenizer.mjs — a minimal BERT-uncased tokenizer (basic tokenizer + greedy WordPiece) in plain JS.
//
// Used by the model builder (to learn continuation pieces and to initialise their vectors) and by
// measure_vocab.mjs (unknown rate, pieces per word). It follows Hugging Face's BasicTokenizer and
// WordpieceTokenizer (do_lower_case=True, tokenize_chinese_chars=True); the engine's C tokenizer
// (engine/tokenizer.c) is the one that runs in training — this file only serves the build tools.

// Python's _is_control: categories C* except \t \n \r; _is_whitespace: space, \t \n \r and Zs.
const CONTROL = /^\p{C}$/u;
const SPACE_ZS = /^\p{Zs}$/u;
const PUNCT_P = /^\p{P}$/u;
const MARK_MN = /\p{Mn}/gu;

function isWhitespace(ch) {
    return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || SPACE_ZS.test(ch);
}
function isControl(ch) {
    if (ch === '\t' || ch === '\n' || ch === '\r') return false;
    return CONTROL.test(ch);
}
// BERT treats every non-alphanumeric ASCII printable as punctuation ($, ^, `, ... are not Unicode P*).
export function isPunctuation(ch) {
    const cp = ch.codePointAt(0);
    if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
    return PUNCT_P.test(ch);
}
function isCjk(cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
        (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
        (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// Text -> array of words (lowercased, accents stripped, punctuation split off), as BasicTokenizer does.
export function basicTokenize(text) {
    let clean = '';
    for (const ch of text) {
        const cp = ch.codePointAt(0);
        if (cp === 0 || cp === 0xFFFD || isControl(ch)) continue;
        if (isWhitespace(ch)) clean += ' ';
        else if (isCjk(cp)) clean += ' ' + ch + ' ';
        else clean += ch;
    }
    const out = [];
    for (const raw of clean.split(' ')) {
        if (raw === '') continue;
        const token = raw.toLowerCase().normalize('NFD').replace(MARK_MN, '');
        let cur = '';
        for (const ch of token) {
            if (isPunctuation(ch)) {
                if (cur !== '') out.push(cur);
                out.push(ch);
                cur = '';
            } else cur += ch;
        }
        if (cur !== '') out.push(cur);
    }
    return out;
}

// Greedy longest-match-first WordPiece of one word. vocab: a Set or Map of pieces (continuations prefixed
// with "##"). maxPieceChars may give the length of the longest entry (in characters, without "##"):
// longer candidates cannot match, so skipping them changes nothing and saves time.
// Returns the list of pieces, or null when the word cannot be covered (it becomes [UNK]).
export function wordPiece(word, vocab, maxPieceChars = Infinity, maxChars = 100) {
    // ASCII words (nearly all of them) index the string directly; others go through code points.
    const chars = /^[\x00-\x7f]*$/.test(word) ? null : [...word];
    const n = chars ? chars.length : word.length;
    if (n > maxChars) return null;
    const pieces = [];
    let start = 0;
    while (start < n) {
        let end = Math.min(n, start + maxPieceChars), found = null;
        while (start < end) {
            const text = chars ? chars.slice(start, end).join('') : word.slice(start, end);
            const sub = start > 0 ? '##' + text : text;
            if (vocab.has(sub)) { found = sub; break; }
            end--;
        }
        if (found === null) return null;
        pieces.push(found);
        start = end;
    }
    return pieces;
}
