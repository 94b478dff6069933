/* data.c — the text files of training and evaluation: a corpus (one sentence per line) and STS pairs
 * (`score<TAB>sentence1<TAB>sentence2`). Both are read line by line with CR and trailing whitespace stripped,
 * blank lines skipped, and every error names the file and, where there is one, the line. A line must be UTF-8
 * without NUL bytes or a CR inside it: the tokenizer would drop invalid bytes (merging the text around them) and
 * a file of CR-only line ends would read as one line, both silently. */
#include "dissipate.h"
#include "fileio.h"
#include "json.h" /* dsp_utf8_invalid_at */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_LIMIT ((size_t)1 << (sizeof(size_t) > 4 ? 34 : 30))

/* Called for each non-blank line (NUL-terminated in place, trailing whitespace removed). */
typedef int (*line_fn)(void *ctx, char *line, size_t len, const char *path, int lineno, dsp_err *err);

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

/* keep_tabs: tabs separate fields (STS), so a trailing tab marks an empty last field and must stay. */
static int for_each_line(const char *path, int keep_tabs, line_fn fn, void *ctx, dsp_err *err) {
    char *text;
    size_t len;
    if (dsp_read_file(path, TEXT_LIMIT, &text, &len, err)) return -1;
    size_t i = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) i = 3; /* a byte order mark some editors write */
    int r = 0;
    for (int lineno = 1; i < len && r == 0; lineno++) {
        size_t start = i;
        while (i < len && text[i] != '\n') i++;
        size_t end = i;
        if (i < len) i++;
        while (end > start && is_space(text[end - 1]) && !(keep_tabs && text[end - 1] == '\t')) end--;
        text[end] = 0; /* the '\n' or the terminating NUL dsp_read_file added */
        if (lineno == 0x7fffffff) { /* checked on blank lines too: the count must never pass INT_MAX */
            r = dsp_fail(err, "%s: too many lines", path);
            break;
        }
        if (end == start) continue;
        size_t bad;
        if (memchr(text + start, 0, end - start))
            r = dsp_fail(err, "%s:%d: the line holds a NUL byte (is this a text file?)", path, lineno);
        else if (memchr(text + start, '\r', end - start)) /* the tokenizer would take the rest for one more word */
            r = dsp_fail(err, "%s:%d: a carriage return inside the line (lines ending in CR alone, as on old Macs?): "
                              "lines must end in LF or CRLF", path, lineno);
        else if ((bad = dsp_utf8_invalid_at(text + start, end - start)) < end - start) /* else silently dropped */
            r = dsp_fail(err, "%s:%d: not valid UTF-8 (byte 0x%02X at byte %zu of the line); convert the file to "
                              "UTF-8 (e.g. iconv -f latin1 -t utf-8)", path, lineno, (unsigned char)text[start + bad],
                         bad + 1);
        else
            r = fn(ctx, text + start, end - start, path, lineno, err);
    }
    free(text);
    return r;
}

/* Grows a malloc'd array of `count` elements of `size` bytes to hold one more. */
static int grow(void **arr, int count, int *cap, size_t size, dsp_err *err) {
    if (count < *cap) return 0;
    if (*cap > 0x3fffffff) return dsp_fail(err, "too many lines");
    int ncap = *cap ? *cap * 2 : 1024;
    if ((size_t)ncap > SIZE_MAX / size) return dsp_fail(err, "out of memory");
    void *p = realloc(*arr, (size_t)ncap * size);
    if (!p) return dsp_fail(err, "out of memory");
    *arr = p;
    *cap = ncap;
    return 0;
}

/* A malloc'd copy of a line. */
static char *copy(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* ---------------------------------------------------------------- corpus */
typedef struct {
    dsp_corpus *c;
    int cap;
    int added; /* sentences from the current file */
} corpus_ctx;

static int corpus_line(void *ctx, char *line, size_t len, const char *path, int lineno, dsp_err *err) {
    corpus_ctx *x = ctx;
    if (grow((void **)&x->c->text, x->c->count, &x->cap, sizeof(char *), err)) return -1;
    char *s = copy(line);
    if (!s) return dsp_fail(err, "out of memory");
    x->c->text[x->c->count++] = s;
    x->added++;
    return 0;
}

int dsp_corpus_load(dsp_corpus *c, const char *const *paths, int n_paths, dsp_err *err) {
    memset(c, 0, sizeof *c);
    if (n_paths < 1 || !paths) return dsp_fail(err, "no corpus files given");
    corpus_ctx x = {c, 0, 0};
    for (int f = 0; f < n_paths; f++) {
        x.added = 0;
        if (for_each_line(paths[f], 0, corpus_line, &x, err)) {
            dsp_corpus_free(c);
            return -1;
        }
        if (x.added == 0) {
            dsp_corpus_free(c);
            return dsp_fail(err, "%s: no sentences (the file is empty or blank)", paths[f]);
        }
    }
    return 0;
}

void dsp_corpus_free(dsp_corpus *c) {
    if (!c) return;
    for (int i = 0; i < c->count; i++) free(c->text[i]);
    free(c->text);
    memset(c, 0, sizeof *c);
}

/* ---------------------------------------------------------------- STS pairs */
typedef struct {
    dsp_sts *s;
    int cap;
} sts_ctx;

/* The three parallel arrays grow together. */
static int sts_reserve(sts_ctx *x, dsp_err *err) {
    dsp_sts *s = x->s;
    if (s->count < x->cap) return 0;
    int cap = x->cap;
    if (grow((void **)&s->gold, s->count, &cap, sizeof *s->gold, err)) return -1;
    cap = x->cap;
    if (grow((void **)&s->s1, s->count, &cap, sizeof *s->s1, err)) return -1;
    cap = x->cap;
    if (grow((void **)&s->s2, s->count, &cap, sizeof *s->s2, err)) return -1;
    x->cap = cap;
    return 0;
}

static int sts_line(void *ctx, char *line, size_t len, const char *path, int lineno, dsp_err *err) {
    sts_ctx *x = ctx;
    dsp_sts *s = x->s;
    char *field[3] = {line, NULL, NULL};
    int n = 1; /* fields; split on every tab so that the message can say how many there were */
    for (char *p = strchr(line, '\t'); p; p = strchr(p + 1, '\t')) {
        *p = 0;
        if (n < 3) field[n] = p + 1;
        n++;
    }
    if (n != 3)
        return dsp_fail(err, "%s:%d: expected 3 tab-separated fields (score, sentence1, sentence2), found %d", path,
                        lineno, n);
    char *end;
    double score = strtod(field[0], &end);
    if (end == field[0] || *end != 0 || !isfinite(score))
        return dsp_fail(err, "%s:%d: the score \"%.40s\" is not a finite number", path, lineno, field[0]);
    if (score < 0 || score > 5) return dsp_fail(err, "%s:%d: the score %g is outside [0, 5]", path, lineno, score);
    for (int f = 1; f <= 2; f++) { /* an empty sentence embeds as [CLS][SEP] alone and scores as noise */
        const char *p = field[f];
        while (is_space(*p)) p++;
        if (!*p) return dsp_fail(err, "%s:%d: sentence %d is empty", path, lineno, f);
    }
    if (sts_reserve(x, err)) return -1;
    char *a = copy(field[1]), *b = copy(field[2]);
    if (!a || !b) {
        free(a);
        free(b);
        return dsp_fail(err, "out of memory");
    }
    s->gold[s->count] = (float)score;
    s->s1[s->count] = a;
    s->s2[s->count] = b;
    s->count++;
    return 0;
}

int dsp_sts_load(dsp_sts *s, const char *path, dsp_err *err) {
    memset(s, 0, sizeof *s);
    sts_ctx x = {s, 0};
    if (for_each_line(path, 1, sts_line, &x, err)) {
        dsp_sts_free(s);
        return -1;
    }
    if (s->count == 0) {
        dsp_sts_free(s);
        return dsp_fail(err, "%s: no sentence pairs (the file is empty or blank)", path);
    }
    int n = s->count, constant = 1;
    float first = s->gold[0];
    for (int i = 1; i < n && constant; i++) constant = s->gold[i] == first;
    if (n < 2 || constant) { /* a rank correlation needs two different gold scores */
        dsp_sts_free(s);
        return n < 2 ? dsp_fail(err, "%s: an STS set needs at least 2 pairs, it has 1", path)
                     : dsp_fail(err, "%s: every pair has the same score %g, so Spearman's correlation is undefined",
                                path, first);
    }
    return 0;
}

void dsp_sts_free(dsp_sts *s) {
    if (!s) return;
    for (int i = 0; i < s->count; i++) {
        free(s->s1[i]);
        free(s->s2[i]);
    }
    free(s->gold);
    free(s->s1);
    free(s->s2);
    memset(s, 0, sizeof *s);
}
