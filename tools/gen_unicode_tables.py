#!/usr/bin/env python3
"""Generates engine/unicode_tables.c and engine/unicode_tables.h from Python's unicodedata.

The BERT uncased basic tokenizer (Hugging Face BertTokenizer / BertWordPieceTokenizer with lowercase=True,
strip_accents=True, tokenize_chinese_chars=True) needs, per code point:
  - a class: dropped (control/format/unassigned/private use, NUL, U+FFFD), whitespace, CJK ideograph,
    punctuation, nonspacing mark (dropped after NFD), or a combining character that NFD reorders;
  - a mapping: lowercase (Python str.lower of the single code point, as HF's PreTrainedTokenizer.tokenize
    lowercases one character at a time), then canonical decomposition (NFD), then nonspacing marks (Mn)
    removed. Hangul syllables decompose algorithmically in C and are not tabled.

Usage:  python3 tools/gen_unicode_tables.py            (writes both files next to engine/)
        python3 tools/gen_unicode_tables.py --check    (also cross-checks the tables against a direct
                                                         Python port of HF's BasicTokenizer on random text)
The output depends only on the Unicode version of the Python that runs it (printed in the header); the
committed files were produced by /usr/bin/python3 (3.11, Unicode 14.0.0). Deterministic: same Python, same bytes.
"""
import os
import random
import sys
import unicodedata as ud

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_CP = 0x110000
RUN_BREAK = 0x110000  # in a mapping: a dropped Mn of combining class 0 stood here (it ends a reorder run)

CLASSES = ["OTHER", "DROP", "SPACE", "CJK", "PUNCT", "MARK", "MARK_STARTER", "COMBINING"]
C = {name: i for i, name in enumerate(CLASSES)}

HANGUL_FIRST, HANGUL_LAST = 0xAC00, 0xD7A3


def is_chinese_char(cp):
    # The exact ranges of transformers' BasicTokenizer._is_chinese_char (the Rust crate has 0x2B920 as the
    # start of the fifth range, a typo; Python and tokenizers.js use 0x2B820).
    return ((0x4E00 <= cp <= 0x9FFF) or (0x3400 <= cp <= 0x4DBF) or (0x20000 <= cp <= 0x2A6DF)
            or (0x2A700 <= cp <= 0x2B73F) or (0x2B740 <= cp <= 0x2B81F) or (0x2B820 <= cp <= 0x2CEAF)
            or (0xF900 <= cp <= 0xFAFF) or (0x2F800 <= cp <= 0x2FA1F))


def is_control(ch):  # BasicTokenizer: every C* category, except the three whitespace controls
    return ch not in "\t\n\r" and ud.category(ch).startswith("C")


def is_whitespace(ch):
    # _is_whitespace (" \t\n\r" or Zs), plus what whitespace_tokenize's str.split() also splits on and
    # _clean_text keeps (U+2028, U+2029): every such character separates words.
    return ch in " \t\n\r" or ud.category(ch) == "Zs" or ch.isspace()


def is_punctuation(cp):
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return ud.category(chr(cp)).startswith("P")


def char_class(cp):
    ch = chr(cp)
    if cp == 0 or cp == 0xFFFD or is_control(ch):
        return C["DROP"]
    if is_whitespace(ch):
        return C["SPACE"]
    if is_chinese_char(cp):
        return C["CJK"]
    if is_punctuation(cp):
        return C["PUNCT"]
    if ud.category(ch) == "Mn":
        return C["MARK"] if ud.combining(ch) else C["MARK_STARTER"]
    if ud.combining(ch):
        return C["COMBINING"]
    return C["OTHER"]


def mapping(cp):
    """lower, NFD, Mn removed (RUN_BREAK where a class-0 Mn was)."""
    out = []
    for x in ud.normalize("NFD", chr(cp).lower()):
        if ud.category(x) == "Mn":
            if ud.combining(x) == 0:
                out.append(RUN_BREAK)
        else:
            out.append(ord(x))
    return out


def build():
    classes = [C["DROP"] if 0xD800 <= cp <= 0xDFFF else char_class(cp) for cp in range(MAX_CP)]
    runs = []  # (first code point, class) at every change of class
    for cp, k in enumerate(classes):
        if not runs or runs[-1][1] != k:
            runs.append((cp, k))
    maps = []  # (cp, outputs) where the mapping differs from the class's own handling of cp
    for cp in range(MAX_CP):
        k = classes[cp]
        if k in (C["DROP"], C["SPACE"]) or HANGUL_FIRST <= cp <= HANGUL_LAST:
            continue
        out = mapping(cp)
        implied = {C["MARK"]: [], C["MARK_STARTER"]: [RUN_BREAK]}.get(k, [cp])
        if out != implied:
            maps.append((cp, out))
    ccc = [(cp, ud.combining(chr(cp))) for cp in range(MAX_CP) if classes[cp] == C["COMBINING"]]
    # What the C code relies on: a mapped output is never dropped/whitespace by class (those are decided on
    # the original character, as HF cleans text before it lowercases and decomposes), and is short.
    for cp, out in maps:
        for o in out:
            assert o == RUN_BREAK or classes[o] not in (C["DROP"], C["SPACE"], C["MARK"], C["MARK_STARTER"]), \
                (hex(cp), hex(o))
    for cp in range(HANGUL_FIRST, HANGUL_LAST + 1):
        assert [ord(x) for x in ud.normalize("NFD", chr(cp))] == hangul(cp) and classes[cp] == C["OTHER"]
    return classes, runs, maps, ccc


def hangul(cp):  # the algorithm that engine/unicode_tables.c implements
    s = cp - HANGUL_FIRST
    out = [0x1100 + s // 588, 0x1161 + (s % 588) // 28]
    if s % 28:
        out.append(0x11A7 + s % 28)
    return out


def c_array(ctype, name, values, per_line=10, fmt="0x{:X}"):
    lines = [f"static const {ctype} {name}[{len(values)}] = {{"]
    for i in range(0, len(values), per_line):
        lines.append("    " + ", ".join(fmt.format(v) for v in values[i:i + per_line]) + ",")
    lines.append("};")
    return "\n".join(lines)


def write(classes, runs, maps, ccc):
    version = ud.unidata_version
    max_out = max(len(out) for _, out in maps)
    pool, offsets = [], []
    for _, out in maps:
        offsets.append(len(pool))
        pool.extend(out)
    offsets.append(len(pool))
    assert len(pool) < 65536

    header = f"""/* unicode_tables.h — Unicode properties of the BERT basic tokenizer (GENERATED, do not edit).
 *
 * Generated by tools/gen_unicode_tables.py from Python's unicodedata, Unicode {version}. Rerun the script to
 * change anything. Only engine/tokenizer.c uses this header. */
#ifndef DSP_UNICODE_TABLES_H
#define DSP_UNICODE_TABLES_H

#include <stdint.h>

#define DSP_UC_UNICODE_VERSION "{version}"

/* What the basic tokenizer does with a code point (decided on the original character, before lowercase). */
enum {{
    DSP_UC_OTHER = 0,        /* part of a word */
    DSP_UC_DROP = 1,         /* control, format, surrogate, private use, unassigned, NUL, U+FFFD: removed */
    DSP_UC_SPACE = 2,        /* whitespace: ends a word */
    DSP_UC_CJK = 3,          /* CJK ideograph (HF's _is_chinese_char ranges): a word of its own */
    DSP_UC_PUNCT = 4,        /* ASCII punctuation ranges or a P* category: a word of its own */
    DSP_UC_MARK = 5,         /* nonspacing mark (Mn) with a combining class: removed (strip accents) */
    DSP_UC_MARK_STARTER = 6, /* nonspacing mark of combining class 0: removed, and ends a reorder run */
    DSP_UC_COMBINING = 7     /* kept character with a nonzero combining class: NFD may reorder it */
}};

/* In a mapping: a removed class-0 nonspacing mark stood here (canonical reordering does not cross it). */
#define DSP_UC_RUN_BREAK 0x110000u
/* The longest mapping (lowercase + NFD + marks removed) of one code point, Hangul syllables included. */
#define DSP_UC_MAP_MAX {max(max_out, 3)}

int dsp_uc_class(uint32_t cp);
/* The code point lowercased (as str.lower), canonically decomposed, nonspacing marks removed: writes up to
 * DSP_UC_MAP_MAX code points (possibly DSP_UC_RUN_BREAK) and returns the count, or -1 when cp maps to itself
 * (for DSP_UC_MARK: to nothing; for DSP_UC_MARK_STARTER: to a run break). */
int dsp_uc_map(uint32_t cp, uint32_t *out);
/* Canonical combining class of a DSP_UC_COMBINING code point (0 for any other). */
int dsp_uc_ccc(uint32_t cp);

#endif
"""
    ascii_classes = classes[:128]
    run_words = [(first << 8) | k for first, k in runs]
    body = f"""/* unicode_tables.c — Unicode properties of the BERT basic tokenizer (GENERATED, do not edit).
 *
 * Generated by tools/gen_unicode_tables.py from Python's unicodedata, Unicode {version}:
 * {len(runs)} class runs, {len(maps)} mappings (lowercase + NFD + nonspacing marks removed), {len(ccc)} reorderable
 * combining characters. Lookups are binary searches; ASCII has a direct table. */
#include "unicode_tables.h"

#include <stddef.h>

{c_array("uint8_t", "ascii_class", ascii_classes, 16, "{}")}

/* Runs over the whole code space: (first code point << 8) | class; a run ends where the next begins. */
{c_array("uint32_t", "class_runs", run_words, 8)}

/* Mapped code points (sorted) and their outputs: map_pool[map_off[i] .. map_off[i+1]). */
{c_array("uint32_t", "map_cp", [cp for cp, _ in maps], 10)}

{c_array("uint16_t", "map_off", offsets, 12, "{}")}

{c_array("uint32_t", "map_pool", pool, 10)}

/* (code point, canonical combining class) of the DSP_UC_COMBINING characters, sorted. */
{c_array("uint16_t", "ccc_value", [v for _, v in ccc], 16, "{}")}
{c_array("uint32_t", "ccc_cp", [cp for cp, _ in ccc], 10)}

int dsp_uc_class(uint32_t cp) {{
    if (cp < 128) return ascii_class[cp];
    if (cp >= 0x110000u) return DSP_UC_DROP;
    size_t lo = 0, hi = sizeof class_runs / sizeof class_runs[0]; /* last run with first <= cp */
    while (hi - lo > 1) {{
        size_t mid = (lo + hi) / 2;
        if ((class_runs[mid] >> 8) <= cp) lo = mid; else hi = mid;
    }}
    return (int)(class_runs[lo] & 0xFFu);
}}

static int find_sorted(const uint32_t *keys, size_t n, uint32_t cp) {{
    size_t lo = 0, hi = n;
    while (lo < hi) {{
        size_t mid = (lo + hi) / 2;
        if (keys[mid] < cp) lo = mid + 1; else hi = mid;
    }}
    return (lo < n && keys[lo] == cp) ? (int)lo : -1;
}}

int dsp_uc_map(uint32_t cp, uint32_t *out) {{
    if (cp < 0x41) return -1;
    if (cp >= 0xAC00u && cp <= 0xD7A3u) {{ /* Hangul syllable: L V [T] jamo (Unicode ch. 3.12) */
        uint32_t s = cp - 0xAC00u;
        out[0] = 0x1100u + s / 588u;
        out[1] = 0x1161u + (s % 588u) / 28u;
        if (s % 28u == 0) return 2;
        out[2] = 0x11A7u + s % 28u;
        return 3;
    }}
    int i = find_sorted(map_cp, sizeof map_cp / sizeof map_cp[0], cp);
    if (i < 0) return -1;
    int n = map_off[i + 1] - map_off[i];
    for (int k = 0; k < n; k++) out[k] = map_pool[map_off[i] + k];
    return n;
}}

int dsp_uc_ccc(uint32_t cp) {{
    int i = find_sorted(ccc_cp, sizeof ccc_cp / sizeof ccc_cp[0], cp);
    return i < 0 ? 0 : ccc_value[i];
}}
"""
    assert all(cp >= 0x41 for cp, _ in maps)
    with open(os.path.join(ROOT, "engine", "unicode_tables.h"), "w", newline="\n") as f:
        f.write(header)
    with open(os.path.join(ROOT, "engine", "unicode_tables.c"), "w", newline="\n") as f:
        f.write(body)
    print(f"Unicode {version}: {len(runs)} runs, {len(maps)} mappings ({len(pool)} pooled), {len(ccc)} ccc")


# ---------------------------------------------------------------- self-check against HF's algorithm
def hf_basic_tokenize(text):
    """transformers' BertTokenizer path (PreTrainedTokenizer.tokenize lowercases each character, then
    BasicTokenizer: clean, CJK spacing, whitespace split, lower, NFD + drop Mn, punctuation split)."""
    text = "".join(ch.lower() for ch in text)
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or is_control(ch):
            continue
        out.append(" " if ch in " \t\n\r" or ud.category(ch) == "Zs" else ch)  # HF's _is_whitespace
    text = "".join(" " + ch + " " if is_chinese_char(ord(ch)) else ch for ch in out)
    words = []
    for token in text.strip().split():
        token = "".join(x for x in ud.normalize("NFD", token.lower()) if ud.category(x) != "Mn")
        cur = []
        for ch in token:
            if is_punctuation(ord(ch)):
                if cur:
                    words.append("".join(cur))
                    cur = []
                words.append(ch)
            else:
                cur.append(ch)
        if cur:
            words.append("".join(cur))
    return words


def table_basic_tokenize(text, classes, mapdict, cccdict):
    """The algorithm of engine/tokenizer.c over the generated tables."""
    words, cur, ccls = [], [], []
    run_start = [0]

    def flush():
        if cur:
            words.append("".join(chr(c) for c in cur))
        cur.clear()
        ccls.clear()
        run_start[0] = 0

    def append(o):
        k = classes[o]
        if k == C["PUNCT"]:
            flush()
            words.append(chr(o))
            return
        c = cccdict.get(o, 0)
        if c == 0:
            cur.append(o)
            ccls.append(0)
            run_start[0] = len(cur)
            return
        pos = len(cur)
        while pos > run_start[0] and ccls[pos - 1] > c:
            pos -= 1
        cur.insert(pos, o)
        ccls.insert(pos, c)

    for ch in text:
        cp = ord(ch)
        k = classes[cp]
        if k == C["DROP"]:
            continue
        if k == C["SPACE"]:
            flush()
            continue
        if k == C["CJK"]:
            flush()
        if HANGUL_FIRST <= cp <= HANGUL_LAST:
            outs = hangul(cp)
        elif cp in mapdict:
            outs = mapdict[cp]
        else:
            outs = {C["MARK"]: [], C["MARK_STARTER"]: [RUN_BREAK]}.get(k, [cp])
        for o in outs:
            if o == RUN_BREAK:
                run_start[0] = len(cur)
            else:
                append(o)
        if k == C["CJK"]:
            flush()
    flush()
    return words


def check(classes, maps, ccc, n=20000, seed=1):
    rng = random.Random(seed)
    mapdict = dict(maps)
    cccdict = dict(ccc)
    interesting = [cp for cp, _ in maps] + [cp for cp, _ in ccc] + [
        cp for cp in range(MAX_CP) if classes[cp] in (C["MARK"], C["MARK_STARTER"], C["PUNCT"], C["SPACE"])]
    for i in range(n):
        chars = []
        for _ in range(rng.randint(0, 24)):
            r = rng.random()
            if r < 0.3:
                cp = rng.choice(interesting)
            elif r < 0.5:
                cp = rng.randint(0x41, 0x7A)
            elif r < 0.6:
                cp = rng.choice([0x20, 0x1D165, 0x1D16D, 0x1D16E, 0x0F73, 0x302E, 0x3099, 0x0301, 0x1100, 0x03A3])
            else:
                cp = rng.randint(0, MAX_CP - 1)
            if 0xD800 <= cp <= 0xDFFF:
                cp = 0x61
            chars.append(chr(cp))
        text = "".join(chars)
        a, b = hf_basic_tokenize(text), table_basic_tokenize(text, classes, mapdict, cccdict)
        if a != b:
            print("MISMATCH", [hex(ord(c)) for c in text], a, b)
            return False
    print(f"check: {n} random strings agree with the Python port of BasicTokenizer")
    return True


if __name__ == "__main__":
    args = sys.argv[1:]
    if any(a in ("-h", "--help") for a in args):
        print(__doc__.strip())
        sys.exit(0)
    unknown = [a for a in args if a != "--check"]
    if unknown:  # checked before anything is written: a typo must not regenerate the committed files
        sys.exit(f"gen_unicode_tables: unknown argument {unknown[0]!r} (--check, --help)")
    classes, runs, maps, ccc = build()
    write(classes, runs, maps, ccc)
    if "--check" in args and not check(classes, maps, ccc):
        sys.exit(1)
