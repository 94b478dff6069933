// make_fixture.mjs — reference ids for tests/unit/test_tokenizer.c from the Hugging Face JS tokenizers.
//
//   cd tools/tokenizer-reference && npm ci && node make_fixture.mjs
//
// Writes into tests/fixtures/tokenizer/:
//   vocab.txt              a realistic WordPiece vocab built here, deterministically, from the corpus
//   reference.txt          sentences (STS-B dev, corpus, crafted hard cases) and their ids
//   unicode_vocab.txt      a vocab holding every character the sweep below can produce ("x" and "##x")
//   unicode_reference.txt  a sweep over Unicode: "a" + one character, for a few thousand code points
// Reads ../shared/data (or $DSP_DATA_DIR) and asks python3 (/usr/bin/python3 if present) for its Unicode
// categories, so that the sweep keeps only characters that the engine's tables (Python's Unicode) and node's
// ICU classify alike. Same inputs, same package version, same bytes out.
//
// Line format of the reference files: `text<TAB>ids`, ids space-separated including [CLS] and [SEP], no
// truncation. In text, `\\` is a backslash, `\xHH` a raw byte and `\u{H..}` a code point; every other byte
// is literal UTF-8 (controls, separators and marks are always escaped, so the files stay readable).
//
// Where tokenizers.js itself departs from Hugging Face's Python and Rust tokenizers, the input it is given
// is adjusted to what those do, and the C side gets the original text (see hfEquivalentInput):
//   - it lowercases the whole string (String.toLowerCase applies the final-sigma rule), while HF lowercases
//     one character at a time (PreTrainedTokenizer.tokenize's per-character regex; Rust's per-char
//     to_lowercase), so a word-final capital sigma becomes σ there, never ς: we pass Σ as σ;
//   - it finds CJK ideographs by UTF-16 code unit, so it misses those above U+FFFF (CJK Extension B and
//     later) that HF spaces out: we put the spaces around them;
//   - it keeps unassigned code points (Cn), which HF drops as "control": the sweep leaves them out.
import { Tokenizer } from "@huggingface/tokenizers";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const data = process.env.DSP_DATA_DIR ?? path.resolve(repo, "../shared/data");
const outDir = path.join(repo, "tests/fixtures/tokenizer");
const SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

// ---------------------------------------------------------------- tokenizers.js setup
function makeTokenizer(vocabList) {
  const vocab = {};
  vocabList.forEach((t, i) => {
    if (t in vocab) throw new Error(`duplicate vocab token ${JSON.stringify(t)}`);
    vocab[t] = i;
  });
  const special = (t) => ({ id: vocab[t], content: t, single_word: false, lstrip: false, rstrip: false,
                            normalized: false, special: true });
  const seq = (t) => ({ SpecialToken: { id: t, type_id: 0 } });
  const json = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map(special),
    normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null,
                  lowercase: true },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [seq("[CLS]"), { Sequence: { id: "A", type_id: 0 } }, seq("[SEP]")],
      pair: [seq("[CLS]"), { Sequence: { id: "A", type_id: 0 } }, seq("[SEP]"),
             { Sequence: { id: "B", type_id: 1 } }, { SpecialToken: { id: "[SEP]", type_id: 1 } }],
      special_tokens: Object.fromEntries(["[CLS]", "[SEP]"].map((t) => [t, { id: t, ids: [vocab[t]], tokens: [t] }])),
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: { type: "WordPiece", unk_token: "[UNK]", continuing_subword_prefix: "##", max_input_chars_per_word: 100,
             vocab },
  };
  return new Tokenizer(json, { do_lower_case: true, model_max_length: 512 });
}

const isSuppCjk = (cp) => cp >= 0x20000 && cp <= 0x2a6df || cp >= 0x2a700 && cp <= 0x2ceaf ||
  cp >= 0x2f800 && cp <= 0x2fa1f;

// See the header: what HF's Python/Rust tokenizers do where tokenizers.js differs.
function hfEquivalentInput(text) {
  let out = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0);
    if (ch === "\u03a3") out += "\u03c3";
    else if (isSuppCjk(cp)) out += ` ${ch} `;
    else out += ch;
  }
  return out;
}

const CATEGORIES = ["Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps", "Pe", "Pi",
  "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn"];
const categoryRegex = CATEGORIES.map((c) => [c, new RegExp(`^\\p{gc=${c}}$`, "u")]);
const jsCategory = (ch) => categoryRegex.find(([, re]) => re.test(ch))?.[0] ?? "Cn";

function escapeText(text) {
  let out = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0);
    if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).toUpperCase().padStart(2, "0")}`;
    else if (ch === "\\") out += "\\\\";
    else if (cp >= 0x80 && /^[CZM]/.test(jsCategory(ch))) out += `\\u{${cp.toString(16).toUpperCase()}}`;
    else out += ch;
  }
  return out;
}

function writeReference(file, tokenizer, texts, title) {
  const lines = [`# ${title}`,
    "# Generated by tools/tokenizer-reference/make_fixture.mjs with @huggingface/tokenizers " +
    JSON.parse(fs.readFileSync(path.join(here, "node_modules/@huggingface/tokenizers/package.json"))).version +
    `; node ${process.versions.node}, Unicode ${process.versions.unicode}. Do not edit: rerun it.`,
    "# text<TAB>ids ([CLS] ... [SEP], untruncated); escapes: \\\\ backslash, \\xHH byte, \\u{H..} code point"];
  for (const text of texts) {
    const { ids } = tokenizer.encode(hfEquivalentInput(text));
    lines.push(`${escapeText(text)}\t${ids.join(" ")}`);
  }
  fs.writeFileSync(path.join(outDir, file), lines.join("\n") + "\n");
  return texts.length;
}

// ---------------------------------------------------------------- sentences
const readLines = (f) => fs.readFileSync(f, "utf8").split(/\r?\n/).filter((l) => l.length > 0);
const every = (arr, n) => arr.filter((_, i) => i % Math.max(1, Math.floor(arr.length / n)) === 0).slice(0, n);

const corpusFiles = ["wiki1m_head.txt", "wikisplit_complex.txt", "wikisplit_split.txt"]
  .map((f) => path.join(data, "corpus", f));
const corpus = corpusFiles.flatMap(readLines);
const stsDev = readLines(path.join(data, "stsb/dev.tsv")).flatMap((l) => l.split("\t").slice(1, 3));

const crafted = [
  "", "   ", "\t\n", "Hello, world!", "Café naïve Ångström", "CAFÉ NAÏVE ÅNGSTRÖM résumé",
  "combining forms: cafe\u0301 nai\u0308ve A\u030angstro\u0308m n\u0303o\u0302",
  "我爱北京 天安门", "北京大学的学生们。他说：“你好！”", "mixed中文english混合text",
  "Supplementary CJK \u{20000}\u{20001}x\u{2A700}y \u{2F800} compat 豈 \uF900",
  // (no NUL: the C API takes NUL-terminated text, so a NUL ends the sentence there)
  "Control\u0002chars\u0001are\u0007dropped\u001b[0m here\u007f \u0080\u009f c1 controls",
  "Replacement \uFFFD char and ab\uFFFDcd",
  "Emoji 😀 and 👍🏽 thumbs, family 👨\u200D👩\u200D👧 (ZWJ) 🇫🇷 flag",
  "zero\u200Bwidth\u200Djoiner\u200Cnon\u2060joiner\uFEFFbom \u00ADsoft\u00ADhyphen",
  "bidi \u202Eoverride\u202C and \u200Emarks\u200F",
  "“Quotes” ‘single’ «guillemets» „low“ ‹angle› 「corner」 『white』",
  "dashes — em – en ‒ figure ― bar ‐ hyphen ‑ nb … ellipsis ‥ two-dot",
  "Punctuation!?.,;:'\"()[]{}<>@#$%^&*_-+=~`|\\/",
  "¿Qué? ¡Olé! ·middle· §section ¶pilcrow †dagger ‡ • bullet ‰ ′prime″ ‼ ⁇ ※",
  "Math ∑ ∫ √ ≤ ≥ ≠ ± × ÷ ∞ °C 2² x³ ½ ¼",
  "Currency $5 €10 £3 ¥100 ₹50 ¢ ₿",
  "a".repeat(100), "a".repeat(101), "b".repeat(99) + " " + "b".repeat(100) + " " + "b".repeat(101),
  "the " + "supercalifragilisticexpialidocious".repeat(3) + " end",
  "café".repeat(25) + " " + "café".repeat(26), "é".repeat(100) + " x " + "é".repeat(101),
  "words not coverable: qzxqzx ŋŋŋ ꙮ xyzzy plugh",
  "tabs\tand\nnewlines\r\nand  multiple   spaces\u00A0nbsp\u2003emspace\u3000ideographic\u2009thin",
  "line\u2028separator and paragraph\u2029separator, vertical\u000Btab, form\u000Cfeed, next\u0085line",
  "MiXeD CaSe WoRdS and ALLCAPS and lowercase",
  "Greek: ΑΘΗΝΑ Ελληνικά ΟΔΥΣΣΕΥΣ σοφία ΣΟΦΙΑ Ἀθῆναι ἄνθρωπος",
  "Cyrillic: МОСКВА Москва Ёлка ёж Її Ґґ ЎЎ",
  "Turkish: İstanbul ISTANBUL ıi İİ Iı",
  "German: Straße STRASSE ß ẞ Grüße",
  "Full-width: ＡＢＣ１２３！？ ｆｕｌｌｗｉｄｔｈ （括弧） ，。",
  "Ligatures ﬁne ﬂow ﬀ and Roman Ⅻ ⅻ circled Ⓐ ⓐ Kelvin \u212A Angstrom \u212B Ohm \u2126",
  "Titlecase digraphs ǅ ǈ ǋ Ǆ ǆ",
  "Hangul 한국어 텍스트 입니다", "Japanese ひらがな カタカナ ガギグ パピプ 日本語です。",
  "Arabic العربية، Hebrew עִבְרִית, Devanagari हिन्दी, Thai ภาษาไทย",
  "Vietnamese: Tiếng Việt có dấu; Ỡ ự",
  "Deseret 𐐀𐐨 and math bold 𝐀𝐁𝐂 𝒜 script",
  "Special [SEP] tokens [CLS] in [MASK] text [sep] [UNK] [PAD]",
  "[SEP][SEP]a[PAD]b[ CLS] [CLS ] [[CLS]] [MASK",
  "Numbers 3.14159, 1,000,000 and 2nd 3rd 42nd 0x1F",
  "URLs https://example.com/path?q=1&x=y e-mail foo.bar@example.org #hashtag @user",
  "can't won't it's rock'n'roll o’clock",
  "Private use \uE000 char \u{F0000} plane 15",
  "\u0130", "İ", "Σ", "ΑΣ", "ß", "ǅ",
  "A very long sentence that goes on and on, with many many words, far more than thirty-two word pieces, " +
    "so that truncation to the maximum length is exercised by the test on a real reference sequence.",
];

// ---------------------------------------------------------------- realistic vocab from the corpus
function buildVocab(sentences) {
  const probe = makeTokenizer([...SPECIALS]);
  const words = (t) => probe.pre_tokenizer(probe.normalizer(hfEquivalentInput(t)));
  const freq = new Map();
  for (const s of sentences) for (const w of words(s)) freq.set(w, (freq.get(w) ?? 0) + 1);
  const byFreq = (m) => [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const vocab = [...SPECIALS.slice(0, 1), ...Array.from({ length: 10 }, (_, i) => `[unused${i}]`),
                 ...SPECIALS.slice(1)];
  const seen = new Set(vocab);
  const add = (t) => { if (!seen.has(t)) { seen.add(t); vocab.push(t); } };
  // Characters: printable ASCII, every character of the crafted cases (normalized), frequent corpus
  // characters; each also as a continuation. Emoji, and a few letters on purpose, stay unknown.
  const unknownOnPurpose = new Set([..."ŋꙮ"]);
  const chars = new Map();
  for (const [w, n] of freq) for (const ch of w) chars.set(ch, (chars.get(ch) ?? 0) + n);
  const charList = [];
  for (let c = 33; c < 127; c++) if (!(c >= 65 && c <= 90)) charList.push(String.fromCharCode(c));
  for (const s of crafted) for (const w of words(s)) for (const ch of w) charList.push(ch);
  for (const [ch, n] of byFreq(chars)) if (n >= 20) charList.push(ch);
  for (const ch of charList) {
    if (unknownOnPurpose.has(ch) || /\p{Extended_Pictographic}/u.test(ch)) continue;
    add(ch);
  }
  for (const ch of [...seen].filter((t) => [...t].length === 1 && /[\p{L}\p{N}]/u.test(t))) add(`##${ch}`);
  // Words: the most frequent ones.
  const topWords = byFreq(freq).filter(([w]) => [...w].length > 1).slice(0, 5200).map(([w]) => w);
  topWords.forEach(add);
  // Continuations: the commonest 2-4 character endings of the words left out.
  const suffix = new Map();
  const known = new Set(topWords);
  for (const [w, n] of freq) {
    const cs = [...w];
    if (known.has(w) || cs.length < 5) continue;
    for (let k = 2; k <= 4; k++) {
      const s = cs.slice(cs.length - k).join("");
      suffix.set(s, (suffix.get(s) ?? 0) + n);
    }
  }
  byFreq(suffix).slice(0, 900).forEach(([s]) => add(`##${s}`));
  for (const w of ["cafe", "naive", "angstrom", "istanbul", "strasse", "##fragil", "##istic", "##expi", "##ali",
                   "##docious", "super", "##cali"]) add(w);
  return vocab;
}

// ---------------------------------------------------------------- Unicode sweep
function pythonCategories() {
  const py = fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  const script = "import unicodedata as u, sys\n" +
    "print(u.unidata_version)\n" +
    "sys.stdout.write(''.join(u.category(chr(c)) for c in range(0x110000)))\n";
  const r = spawnSync(py, ["-c", script], { encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  const [version, cats] = r.stdout.split("\n");
  return { version, category: (cp) => cats.slice(2 * cp, 2 * cp + 2) };
}

function sweep() {
  const py = pythonCategories();
  let seed = 12345; // xorshift32: the sample is the same on every run
  const rand = () => {
    seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
    return seed / 4294967296;
  };
  const picked = [];
  for (let cp = 0x80; cp < 0x110000; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const ch = String.fromCodePoint(cp);
    const cat = py.category(cp);
    if (cat === "Cn" || cat !== jsCategory(ch)) continue; // unassigned, or classified differently
    const hangul = cp >= 0xac00 && cp <= 0xd7a3;
    const cjk = cp >= 0x3400 && cp <= 0x9fff || cp >= 0xf900 && cp <= 0xfaff || cp >= 0x20000 && cp <= 0x3ffff;
    const interesting = !hangul && !cjk && (ch.toLowerCase() !== ch || ch.normalize("NFD") !== ch ||
                                            /^[PZCMS]/.test(cat) && !["So", "Sm", "Co"].includes(cat));
    const p = interesting ? 1 : cat === "Co" ? 0.0002 : hangul || cjk ? 0.001 : 0.01;
    if (rand() < p) picked.push(ch);
  }
  const probe = makeTokenizer([...SPECIALS]);
  const outChars = new Set();
  for (const ch of picked)
    for (const w of probe.pre_tokenizer(probe.normalizer(hfEquivalentInput(`a${ch}`)))) for (const c of w) outChars.add(c);
  const sorted = [...outChars].sort((x, y) => x.codePointAt(0) - y.codePointAt(0));
  const vocab = [...SPECIALS, ...sorted, ...sorted.map((c) => `##${c}`)];
  const texts = [];
  for (let i = 0; i < picked.length; i += 24) texts.push(picked.slice(i, i + 24).map((c) => `a${c}`).join(" "));
  return { vocab, texts, pythonUnicode: py.version, count: picked.length };
}

// ---------------------------------------------------------------- main
fs.mkdirSync(outDir, { recursive: true });
const vocab = buildVocab(corpus);
fs.writeFileSync(path.join(outDir, "vocab.txt"), vocab.join("\n") + "\n");
const tokenizer = makeTokenizer(vocab);
const sentences = [...every(stsDev, 200), ...every(corpus, 150), ...crafted];
const n = writeReference("reference.txt", tokenizer, sentences,
  "STS-B dev, corpus and crafted sentences with tests/fixtures/tokenizer/vocab.txt");
const sw = sweep();
fs.writeFileSync(path.join(outDir, "unicode_vocab.txt"), sw.vocab.join("\n") + "\n");
const m = writeReference("unicode_reference.txt", makeTokenizer(sw.vocab), sw.texts,
  `Unicode sweep: "a" + one code point, ${sw.count} code points whose category agrees between Python ` +
  `(Unicode ${sw.pythonUnicode}) and node; vocab tests/fixtures/tokenizer/unicode_vocab.txt`);
console.log(`vocab.txt: ${vocab.length} tokens; reference.txt: ${n} sentences; ` +
            `unicode_vocab.txt: ${sw.vocab.length} tokens; unicode_reference.txt: ${m} lines (${sw.count} code points)`);
