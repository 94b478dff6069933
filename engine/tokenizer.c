/* tokenizer.c — the BERT uncased tokenizer: vocab.txt, basic tokenizer, WordPiece.
 *
 * Matches Hugging Face BertTokenizer / BertTokenizerFast (do_lower_case, strip_accents and
 * tokenize_chinese_chars on), per code point of Unicode as Python's unicodedata knows it (unicode_tables.h):
 *   1. exact occurrences of the vocab's special tokens ("[SEP]", ...) in the raw text are kept whole
 *      (HF splits them out before anything else);
 *   2. control/format/unassigned characters, NUL and U+FFFD are dropped, whitespace separates words,
 *      each CJK ideograph is a word of its own;
 *   3. each character is lowercased on its own (HF lowercases one character at a time, so a final capital
 *      sigma becomes σ, not ς), decomposed (NFD, with canonical reordering) and stripped of nonspacing marks;
 *   4. punctuation characters become words of their own;
 *   5. WordPiece: greedy longest match with "##" continuations; a word of more than 100 characters, or one
 *      that cannot be covered, is one [UNK].
 * Nothing here allocates per sentence: a word lives in a fixed buffer (a word longer than 100 characters
 * is [UNK] whatever it holds, so only its length is tracked past that), and the vocab is an open-addressing
 * hash table over one pool of token bytes. */
#include "dissipate.h"
#include "fileio.h"
#include "json.h"
#include "unicode_tables.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORD_CHARS 100 /* HF WordPiece max_input_chars_per_word */

struct dsp_vocab {
    int count;            /* V: lines of vocab.txt; ids are line numbers 0..V-1 */
    char *pool;           /* every token, NUL-terminated, in id order */
    size_t *offset;       /* [V] start of each token in pool */
    int *length;          /* [V] bytes of each token */
    int *slots;           /* [n_slots] token id or -1 (open addressing, linear probing) */
    uint32_t n_slots;     /* a power of two, at least 2V */
    int max_token_bytes;  /* no candidate longer than this can match */
    dsp_special_ids special;
};

/* UTF-8 is json.h's: dsp_utf8_decode is strict (no overlong forms, surrogates or values past U+10FFFF). */

/* ---------------------------------------------------------------- vocab hash table */

/* FNV-1a, streamed so that "##" + piece hashes without building the string. */
#define FNV_SEED 2166136261u
static uint32_t fnv1a(uint32_t h, const char *s, size_t len) {
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* Id of the token `(continuation ? "##" : "") + s[0..len)`, or -1. */
static int vocab_find(const dsp_vocab *v, int continuation, const char *s, int len) {
    int prefix = continuation ? 2 : 0;
    if (len + prefix > v->max_token_bytes) return -1;
    uint32_t h = fnv1a(continuation ? fnv1a(FNV_SEED, "##", 2) : FNV_SEED, s, (size_t)len);
    uint32_t mask = v->n_slots - 1;
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        int id = v->slots[i];
        if (id < 0) return -1;
        const char *t = v->pool + v->offset[id];
        if (v->length[id] == len + prefix && (!prefix || (t[0] == '#' && t[1] == '#')) &&
            memcmp(t + prefix, s, (size_t)len) == 0)
            return id;
    }
}

/* Later lines win over earlier duplicates, as in HF's load_vocab (an OrderedDict filled line by line) and
 * the Rust WordPiece (a HashMap insert per line); the earlier id keeps its line but is never produced. */
static void vocab_insert(dsp_vocab *v, int id) {
    const char *t = v->pool + v->offset[id];
    uint32_t mask = v->n_slots - 1;
    for (uint32_t i = fnv1a(FNV_SEED, t, (size_t)v->length[id]) & mask;; i = (i + 1) & mask) {
        int other = v->slots[i];
        if (other < 0 || (v->length[other] == v->length[id] &&
                          memcmp(v->pool + v->offset[other], t, (size_t)v->length[id]) == 0)) {
            v->slots[i] = id;
            return;
        }
    }
}

/* ---------------------------------------------------------------- vocab load / save */

void dsp_vocab_free(dsp_vocab *vocab) {
    if (!vocab) return;
    free(vocab->pool);
    free(vocab->offset);
    free(vocab->length);
    free(vocab->slots);
    free(vocab);
}

/* Line ends are "\n", "\r\n" or "\r" (Python's universal newlines, as HF's load_vocab reads the file).
 * Returns the length of the line at text[pos..len) and sets *next past its terminator. */
static size_t next_line(const char *text, size_t len, size_t pos, size_t *next) {
    size_t e = pos;
    while (e < len && text[e] != '\n' && text[e] != '\r') e++;
    *next = e;
    if (e < len) *next = (text[e] == '\r' && e + 1 < len && text[e + 1] == '\n') ? e + 2 : e + 1;
    return e - pos;
}

/* The first fault of the token wins: an invalid byte before any NUL, else the NUL. */
static int check_token(const char *t, size_t n, int line, dsp_err *err) {
    const char *nul = memchr(t, 0, n);
    size_t upto = nul ? (size_t)(nul - t) : n, bad = dsp_utf8_invalid_at(t, upto);
    if (bad < upto)
        return dsp_fail(err, "vocab line %d: token is not valid UTF-8 (byte 0x%02X at offset %zu)", line,
                        (unsigned char)t[bad], bad);
    if (nul) return dsp_fail(err, "vocab line %d: token contains a NUL byte", line);
    return 0;
}

static int require_special(const dsp_vocab *v, int id, const char *name, dsp_err *err) {
    if (id >= 0) return 0;
    const char *hint = "";
    if (v->count > 0 && v->length[0] >= 3 && memcmp(v->pool, "\xEF\xBB\xBF", 3) == 0)
        hint = " (the file starts with a UTF-8 byte-order mark, which becomes part of the first token)";
    return dsp_fail(err, "vocab has no %s token: a BERT vocab.txt needs [PAD], [UNK], [CLS] and [SEP]%s", name,
                    hint);
}

int dsp_vocab_from_text(dsp_vocab **out, const char *text, size_t len, dsp_err *err) {
    if (!out) return dsp_fail(err, "dsp_vocab_from_text: out is NULL");
    *out = NULL;
    if (!text && len) return dsp_fail(err, "dsp_vocab_from_text: text is NULL");
    size_t lines = 0, pool_bytes = 0;
    for (size_t pos = 0, next; pos < len; pos = next) {
        pool_bytes += next_line(text, len, pos, &next) + 1;
        lines++;
    }
    /* ids are ints, and the slot table (2-4 per token) must be countable in bytes where size_t is 32 bits */
    if (lines > (size_t)INT_MAX / 4 || lines > SIZE_MAX / 4 / sizeof(int))
        return dsp_fail(err, "vocab has too many lines (%zu)", lines);
    dsp_vocab *v = calloc(1, sizeof *v);
    if (!v) return dsp_fail(err, "out of memory for the vocab");
    v->count = (int)lines;
    v->n_slots = 16;
    while (v->n_slots < 2 * lines) v->n_slots *= 2;
    v->pool = malloc(pool_bytes + 1);
    v->offset = malloc((lines + 1) * sizeof *v->offset);
    v->length = malloc((lines + 1) * sizeof *v->length);
    v->slots = malloc(v->n_slots * sizeof *v->slots);
    if (!v->pool || !v->offset || !v->length || !v->slots) {
        dsp_vocab_free(v);
        return dsp_fail(err, "out of memory for a vocab of %zu tokens", lines);
    }
    memset(v->slots, 0xFF, v->n_slots * sizeof *v->slots); /* all -1 */
    size_t at = 0;
    int id = 0;
    for (size_t pos = 0, next; pos < len; pos = next, id++) {
        size_t n = next_line(text, len, pos, &next);
        if (n > (size_t)INT_MAX / 2) {
            dsp_vocab_free(v);
            return dsp_fail(err, "vocab line %d: token of %zu bytes is too long", id + 1, n);
        }
        if (check_token(text + pos, n, id + 1, err) != 0) {
            dsp_vocab_free(v);
            return -1;
        }
        memcpy(v->pool + at, text + pos, n);
        v->pool[at + n] = 0;
        v->offset[id] = at;
        v->length[id] = (int)n;
        if ((int)n > v->max_token_bytes) v->max_token_bytes = (int)n;
        at += n + 1;
        vocab_insert(v, id);
    }
    v->special.pad = dsp_vocab_id(v, "[PAD]");
    v->special.unk = dsp_vocab_id(v, "[UNK]");
    v->special.cls = dsp_vocab_id(v, "[CLS]");
    v->special.sep = dsp_vocab_id(v, "[SEP]");
    v->special.mask = dsp_vocab_id(v, "[MASK]");
    if (require_special(v, v->special.pad, "[PAD]", err) || require_special(v, v->special.unk, "[UNK]", err) ||
        require_special(v, v->special.cls, "[CLS]", err) || require_special(v, v->special.sep, "[SEP]", err)) {
        dsp_vocab_free(v);
        return -1;
    }
    *out = v;
    return 0;
}

/* A vocab.txt is a few hundred kB (BERT's 30,522 tokens: 232 kB); 256 MB is far past any real one. */
#define VOCAB_FILE_LIMIT ((size_t)1 << 28)

int dsp_vocab_load(dsp_vocab **out, const char *path, dsp_err *err) {
    if (out) *out = NULL;
    if (!path) return dsp_fail(err, "dsp_vocab_load: path is NULL");
    char *text;
    size_t len;
    if (dsp_read_file(path, VOCAB_FILE_LIMIT, &text, &len, err)) return dsp_fail_prefix(err, "vocab: ");
    int rc = dsp_vocab_from_text(out, text, len, err);
    free(text);
    if (rc != 0) return dsp_fail_prefix(err, "%s: ", path);
    return 0;
}

int dsp_vocab_save(const dsp_vocab *vocab, const char *path, dsp_err *err) {
    if (!vocab || !path) return dsp_fail(err, "dsp_vocab_save: vocab or path is NULL");
    FILE *f = fopen(path, "wb");
    if (!f) return dsp_fail(err, "cannot create vocab %s: %s", path, strerror(errno));
    int ok = 1;
    for (int id = 0; id < vocab->count && ok; id++) {
        size_t n = (size_t)vocab->length[id];
        ok = fwrite(vocab->pool + vocab->offset[id], 1, n, f) == n && fputc('\n', f) != EOF;
    }
    if (fclose(f) != 0) ok = 0;
    return ok ? 0 : dsp_fail(err, "error writing vocab %s: %s", path, strerror(errno));
}

int dsp_vocab_size(const dsp_vocab *vocab) { return vocab ? vocab->count : 0; }

const char *dsp_vocab_token(const dsp_vocab *vocab, int id) {
    if (!vocab || id < 0 || id >= vocab->count) return NULL;
    return vocab->pool + vocab->offset[id];
}

int dsp_vocab_id(const dsp_vocab *vocab, const char *token) {
    if (!vocab || !token) return -1;
    size_t n = strlen(token);
    if (n > (size_t)INT_MAX / 2) return -1;
    return vocab_find(vocab, 0, token, (int)n);
}

dsp_special_ids dsp_vocab_special(const dsp_vocab *vocab) {
    dsp_special_ids none = {-1, -1, -1, -1, -1};
    return vocab ? vocab->special : none;
}

/* ---------------------------------------------------------------- tokenization */

typedef struct {
    const dsp_vocab *v;
    int *ids;        /* [cap] output */
    int cap;
    int count;       /* ids produced so far (may exceed cap: then only counted) */
    /* The word being built, in normalized code points. Past MAX_WORD_CHARS only n grows. */
    uint32_t cp[MAX_WORD_CHARS + 1];
    uint8_t ccc[MAX_WORD_CHARS + 1]; /* canonical combining class of each kept character */
    int n;
    int run_start;   /* first index of the current run of nonzero-class characters (NFD reorders within) */
} tok_state;

static void emit(tok_state *st, int id) {
    if (st->count < st->cap) st->ids[st->count] = id;
    st->count++;
}

/* WordPiece over the current word, then starts a new word. */
static void flush_word(tok_state *st) {
    int n = st->n;
    st->n = 0;
    st->run_start = 0;
    if (n == 0) return;
    const dsp_vocab *v = st->v;
    if (n > MAX_WORD_CHARS) {
        emit(st, v->special.unk);
        return;
    }
    char bytes[4 * MAX_WORD_CHARS];
    int at[MAX_WORD_CHARS + 1]; /* byte offset of each character, and of the end */
    int len = 0;
    for (int i = 0; i < n; i++) {
        at[i] = len;
        len += dsp_utf8_encode(st->cp[i], bytes + len);
    }
    at[n] = len;
    int pieces[MAX_WORD_CHARS], n_pieces = 0;
    for (int start = 0; start < n;) {
        int found = -1, end = n;
        int limit = v->max_token_bytes - (start > 0 ? 2 : 0); /* longer candidates cannot match */
        while (end > start && at[end] - at[start] > limit) end--;
        for (; end > start; end--) {
            found = vocab_find(v, start > 0, bytes + at[start], at[end] - at[start]);
            if (found >= 0) break;
        }
        if (found < 0) {
            emit(st, v->special.unk);
            return;
        }
        pieces[n_pieces++] = found;
        start = end;
    }
    for (int i = 0; i < n_pieces; i++) emit(st, pieces[i]);
}

/* Appends one normalized character. NFD orders consecutive nonzero-class characters by class (stably):
 * a character is moved back past those of a higher class within the current run. */
static void push_char(tok_state *st, uint32_t c, int cls) {
    if (cls == DSP_UC_PUNCT) {
        flush_word(st);
        st->cp[0] = c;
        st->n = 1;
        flush_word(st);
        return;
    }
    int ccc = cls == DSP_UC_COMBINING ? dsp_uc_ccc(c) : 0;
    if (st->n >= MAX_WORD_CHARS + 1) { /* already [UNK]: order no longer matters */
        st->n++;
        return;
    }
    int pos = st->n;
    if (ccc > 0) {
        while (pos > st->run_start && st->ccc[pos - 1] > ccc) pos--;
        memmove(st->cp + pos + 1, st->cp + pos, (size_t)(st->n - pos) * sizeof st->cp[0]);
        memmove(st->ccc + pos + 1, st->ccc + pos, (size_t)(st->n - pos));
    }
    st->cp[pos] = c;
    st->ccc[pos] = (uint8_t)ccc;
    st->n++;
    if (ccc == 0) st->run_start = st->n;
}

/* One character of the (cleaned) input: lowercase + NFD + marks removed, then into the word. */
static void push_mapped(tok_state *st, uint32_t c, int cls) {
    uint32_t out[DSP_UC_MAP_MAX];
    int n = c < 0x80 ? -1 : dsp_uc_map(c, out);
    if (n < 0) {
        if (cls == DSP_UC_MARK) return;
        if (cls == DSP_UC_MARK_STARTER) {
            st->run_start = st->n;
            return;
        }
        push_char(st, c, cls);
        return;
    }
    for (int k = 0; k < n; k++) {
        if (out[k] == DSP_UC_RUN_BREAK) st->run_start = st->n;
        else push_char(st, out[k], dsp_uc_class(out[k]));
    }
}

/* Length of the special token spelled at s ("[SEP]", ...), with its id, or 0. */
static int match_special(const dsp_vocab *v, const char *s, int *id) {
    static const char *const names[5] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    const int ids[5] = {v->special.pad, v->special.unk, v->special.cls, v->special.sep, v->special.mask};
    for (int k = 0; k < 5; k++) {
        size_t n = strlen(names[k]);
        if (ids[k] >= 0 && strncmp(s, names[k], n) == 0) {
            *id = ids[k];
            return (int)n;
        }
    }
    return 0;
}

/* Tokenizes utf8 into st; stops early once st->count reaches stop_at. */
static void run_tokenizer(tok_state *st, const char *utf8, int stop_at) {
    const unsigned char *s = (const unsigned char *)(utf8 ? utf8 : "");
    const unsigned char *end = s + strlen((const char *)s);
    st->n = 0;
    st->run_start = 0;
    while (s < end && st->count < stop_at) {
        uint32_t c = *s;
        if (c == '[') {
            int id, n = match_special(st->v, (const char *)s, &id);
            if (n > 0) {
                flush_word(st);
                emit(st, id);
                s += n;
                continue;
            }
        }
        if (c >= 'a' && c <= 'z') { /* the common case, without table lookups */
            push_char(st, c, DSP_UC_OTHER);
            s++;
            continue;
        }
        int k = dsp_utf8_decode(s, (size_t)(end - s), &c);
        if (k == 0) { /* invalid byte: dropped (HF would see U+FFFD, which it drops as well) */
            s++;
            continue;
        }
        s += k;
        if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
        int cls = dsp_uc_class(c);
        switch (cls) {
        case DSP_UC_DROP: break;
        case DSP_UC_SPACE: flush_word(st); break;
        case DSP_UC_CJK:
            flush_word(st);
            push_mapped(st, c, cls);
            flush_word(st);
            break;
        default: push_mapped(st, c, cls); break;
        }
    }
    flush_word(st);
}

int dsp_wordpiece(const dsp_vocab *vocab, const char *utf8, int *ids, int cap) {
    if (!vocab || (!ids && cap > 0) || cap < 0) return -1;
    tok_state st;
    st.v = vocab;
    st.ids = ids;
    st.cap = cap;
    st.count = 0;
    run_tokenizer(&st, utf8, INT_MAX);
    return st.count;
}

int dsp_tokenize(const dsp_vocab *vocab, const char *utf8, int max_len, int *ids) {
    if (!vocab || !ids || max_len < 2) return -1;
    tok_state st;
    st.v = vocab;
    st.ids = ids + 1;
    st.cap = max_len - 2;
    st.count = 0;
    run_tokenizer(&st, utf8, max_len - 2); /* the rest would be truncated away */
    int n = st.count < st.cap ? st.count : st.cap;
    ids[0] = vocab->special.cls;
    ids[n + 1] = vocab->special.sep;
    return n + 2;
}
