/* json.c — a strict JSON reader (RFC 8259) and writer helpers.
 * Hand-written rather than vendored: the engine compiles unchanged to WebAssembly with no dependencies.
 * Recursive descent over a byte range; every error names the line and column where it was noticed. */
#include "json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- UTF-8 */
int dsp_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
    if (n == 0) return 0;
    unsigned c = s[0];
    if (c < 0x80) { *cp = c; return 1; }
    int len;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; v = c & 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; v = c & 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; v = c & 0x07; min = 0x10000; }
    else return 0; /* continuation byte, overlong lead C0/C1, or F5..FF */
    if ((size_t)len > n) return 0;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0; /* overlong, too big, surrogate */
    *cp = v;
    return len;
}

size_t dsp_utf8_invalid_at(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        if ((unsigned char)s[i] < 0x80) { /* ASCII, most of any text */
            i++;
            continue;
        }
        uint32_t cp;
        int k = dsp_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (k == 0) return i;
        i += (size_t)k;
    }
    return n;
}

int dsp_utf8_encode(uint32_t cp, char *out) {
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---------------------------------------------------------------- reader */
typedef struct {
    const unsigned char *s;
    size_t len, pos;
    int depth;
    dsp_err *err;
} parser;

/* Reports an error at byte offset `at`, computing line and column only now (errors are rare). */
static int fail_at(parser *p, size_t at, const char *what) {
    int line = 1, col = 1;
    for (size_t i = 0; i < at && i < p->len; i++) {
        if (p->s[i] == '\n') { line++; col = 1; }
        else col++;
    }
    return dsp_fail(p->err, "JSON error at line %d, column %d: %s", line, col, what);
}

static void skip_ws(parser *p) {
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static void free_contents(dsp_json *j) {
    free(j->string);
    for (int i = 0; i < j->count; i++) {
        free_contents(&j->items[i]);
        if (j->keys) free(j->keys[i]);
    }
    free(j->items);
    free(j->keys);
    memset(j, 0, sizeof *j);
}

static int hex4(parser *p, size_t at, uint32_t *out) {
    if (p->len - at < 4) return fail_at(p, at, "\\u needs four hex digits");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p->s[at + i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= c - '0';
        else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
        else return fail_at(p, at + i, "\\u needs four hex digits");
    }
    *out = v;
    return 0;
}

/* Parses a string starting at the opening quote into a malloc'd NUL-terminated buffer. The decoded text is
 * never longer than the source, so one allocation of the remaining length bounds it. */
static int parse_string(parser *p, char **out) {
    size_t start = ++p->pos, end = start;
    while (end < p->len && p->s[end] != '"') end += (p->s[end] == '\\') ? 2 : 1;
    if (end >= p->len) return fail_at(p, start - 1, "unterminated string");
    char *buf = malloc(end - start + 1);
    if (!buf) return dsp_fail(p->err, "out of memory parsing JSON");
    size_t o = 0;
    while (p->s[p->pos] != '"') {
        size_t at = p->pos;
        unsigned c = p->s[at];
        if (c < 0x20) { free(buf); return fail_at(p, at, "control character in string (must be escaped)"); }
        if (c != '\\') {
            uint32_t cp;
            int n = dsp_utf8_decode(p->s + at, end - at, &cp);
            if (!n) { free(buf); return fail_at(p, at, "invalid UTF-8 in string"); }
            memcpy(buf + o, p->s + at, (size_t)n);
            o += (size_t)n;
            p->pos += (size_t)n;
            continue;
        }
        unsigned e = p->s[at + 1];
        p->pos += 2;
        switch (e) {
        case '"': buf[o++] = '"'; break;
        case '\\': buf[o++] = '\\'; break;
        case '/': buf[o++] = '/'; break;
        case 'b': buf[o++] = '\b'; break;
        case 'f': buf[o++] = '\f'; break;
        case 'n': buf[o++] = '\n'; break;
        case 'r': buf[o++] = '\r'; break;
        case 't': buf[o++] = '\t'; break;
        case 'u': {
            uint32_t cp;
            if (hex4(p, p->pos, &cp)) { free(buf); return -1; }
            p->pos += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                free(buf);
                return fail_at(p, at, "lone low surrogate in \\u escape");
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo;
                if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
                    free(buf);
                    return fail_at(p, at, "high surrogate \\u escape not followed by a low surrogate");
                }
                if (hex4(p, p->pos + 2, &lo)) { free(buf); return -1; }
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    free(buf);
                    return fail_at(p, at, "high surrogate \\u escape not followed by a low surrogate");
                }
                p->pos += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (cp == 0) { free(buf); return fail_at(p, at, "\\u0000 is not supported in strings"); }
            o += (size_t)dsp_utf8_encode(cp, buf + o);
            break;
        }
        default: free(buf); return fail_at(p, at, "invalid escape in string");
        }
    }
    p->pos++; /* closing quote */
    buf[o] = 0;
    *out = buf;
    return 0;
}

static int is_digit(unsigned c) { return c >= '0' && c <= '9'; }

/* Checks the RFC 8259 number grammar, then converts with strtod: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? */
static int parse_number(parser *p, double *out, char **literal_out) {
    size_t start = p->pos, i = start;
    const unsigned char *s = p->s;
    if (i < p->len && s[i] == '-') i++;
    if (i >= p->len || !is_digit(s[i])) return fail_at(p, start, "invalid number");
    if (s[i] == '0') {
        i++;
        if (i < p->len && is_digit(s[i])) return fail_at(p, start, "invalid number (leading zero)");
    } else {
        while (i < p->len && is_digit(s[i])) i++;
    }
    if (i < p->len && s[i] == '.') {
        i++;
        if (i >= p->len || !is_digit(s[i])) return fail_at(p, i, "invalid number (digit expected after '.')");
        while (i < p->len && is_digit(s[i])) i++;
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < p->len && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= p->len || !is_digit(s[i])) return fail_at(p, i, "invalid number (digit expected in exponent)");
        while (i < p->len && is_digit(s[i])) i++;
    }
    /* strtod needs a NUL-terminated copy; the grammar check above guarantees it consumes all of it. The copy is
     * kept as the number's literal: an integer beyond 2^53 (a seed) must not go through a double. */
    size_t n = i - start;
    char *text = malloc(n + 1);
    if (!text) return dsp_fail(p->err, "out of memory parsing JSON");
    memcpy(text, s + start, n);
    text[n] = 0;
    double v = strtod(text, NULL);
    if (!isfinite(v)) {
        free(text);
        return fail_at(p, start, "number out of range");
    }
    p->pos = i;
    *out = v;
    *literal_out = text;
    return 0;
}

static int literal(parser *p, const char *word) {
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) return fail_at(p, p->pos, "invalid literal");
    p->pos += n;
    return 0;
}

static int parse_value(parser *p, dsp_json *out);

/* Grows the parallel item/key arrays of a container to hold one more element. */
static int grow(parser *p, dsp_json *j, int *cap, int with_keys) {
    if (j->count < *cap) return 0;
    if (*cap > (1 << 28)) return dsp_fail(p->err, "JSON container too large");
    int ncap = *cap ? *cap * 2 : 8;
    if ((size_t)ncap > SIZE_MAX / sizeof(dsp_json)) return dsp_fail(p->err, "JSON container too large");
    dsp_json *items = realloc(j->items, (size_t)ncap * sizeof *items);
    if (!items) return dsp_fail(p->err, "out of memory parsing JSON");
    j->items = items;
    if (with_keys) {
        char **keys = realloc(j->keys, (size_t)ncap * sizeof *keys);
        if (!keys) return dsp_fail(p->err, "out of memory parsing JSON");
        j->keys = keys;
    }
    *cap = ncap;
    return 0;
}

static int cmp_key(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorting a copy of the keys finds duplicates in O(n log n): safetensors headers can have thousands. */
static int check_duplicate_keys(parser *p, const dsp_json *j, size_t at) {
    if (j->count < 2) return 0;
    char **sorted = malloc((size_t)j->count * sizeof *sorted);
    if (!sorted) return dsp_fail(p->err, "out of memory parsing JSON");
    memcpy(sorted, j->keys, (size_t)j->count * sizeof *sorted);
    qsort(sorted, (size_t)j->count, sizeof *sorted, cmp_key);
    for (int i = 1; i < j->count; i++) {
        if (strcmp(sorted[i - 1], sorted[i]) == 0) {
            char what[160];
            snprintf(what, sizeof what, "duplicate key \"%.100s\" in the object starting here", sorted[i]);
            free(sorted);
            return fail_at(p, at, what);
        }
    }
    free(sorted);
    return 0;
}

/* Arrays and objects share one loop; objects read "key": before each value. */
static int parse_container(parser *p, dsp_json *out, int is_object) {
    size_t open = p->pos++;
    if (++p->depth > DSP_JSON_MAX_DEPTH) return fail_at(p, open, "nesting deeper than 64 levels");
    out->type = is_object ? DSP_JSON_OBJECT : DSP_JSON_ARRAY;
    const char close = is_object ? '}' : ']';
    int cap = 0;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        p->depth--;
        return 0;
    }
    for (;;) {
        if (grow(p, out, &cap, is_object)) goto fail;
        char *key = NULL;
        if (is_object) {
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != '"') {
                fail_at(p, p->pos, "expected a string key");
                goto fail;
            }
            if (parse_string(p, &key)) goto fail;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') {
                free(key);
                fail_at(p, p->pos, "expected ':' after an object key");
                goto fail;
            }
            p->pos++;
        }
        dsp_json item;
        if (parse_value(p, &item)) {
            free(key);
            goto fail;
        }
        if (is_object) out->keys[out->count] = key;
        out->items[out->count++] = item;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == close) {
            p->pos++;
            break;
        }
        fail_at(p, p->pos, is_object ? "expected ',' or '}' in object" : "expected ',' or ']' in array");
        goto fail;
    }
    if (is_object && check_duplicate_keys(p, out, open)) goto fail;
    p->depth--;
    return 0;
fail:
    free_contents(out);
    return -1;
}

/* On failure *out holds nothing that needs freeing. */
static int parse_value(parser *p, dsp_json *out) {
    memset(out, 0, sizeof *out);
    skip_ws(p);
    if (p->pos >= p->len) return fail_at(p, p->pos, "unexpected end of input, expected a value");
    switch (p->s[p->pos]) {
    case '{': return parse_container(p, out, 1);
    case '[': return parse_container(p, out, 0);
    case '"': out->type = DSP_JSON_STRING; return parse_string(p, &out->string);
    case 't': out->type = DSP_JSON_BOOL; out->boolean = 1; return literal(p, "true");
    case 'f': out->type = DSP_JSON_BOOL; return literal(p, "false");
    case 'n': out->type = DSP_JSON_NULL; return literal(p, "null");
    default: out->type = DSP_JSON_NUMBER; return parse_number(p, &out->number, &out->string);
    }
}

int dsp_json_parse(dsp_json **out, const char *text, size_t len, dsp_err *err) {
    *out = NULL;
    parser p = {(const unsigned char *)text, len, 0, 0, err};
    if (!text) p.len = 0;
    /* RFC 8259 §8.1: a parser may ignore a leading byte order mark; editors on some systems add one. */
    if (p.len >= 3 && memcmp(p.s, "\xEF\xBB\xBF", 3) == 0) p.pos = 3;
    dsp_json *root = malloc(sizeof *root);
    if (!root) return dsp_fail(err, "out of memory parsing JSON");
    if (parse_value(&p, root)) {
        free(root);
        return -1;
    }
    skip_ws(&p);
    if (p.pos != p.len) {
        dsp_json_free(root);
        return fail_at(&p, p.pos, "unexpected text after the JSON value");
    }
    *out = root;
    return 0;
}

void dsp_json_free(dsp_json *j) {
    if (!j) return;
    free_contents(j);
    free(j);
}

const dsp_json *dsp_json_get(const dsp_json *obj, const char *key) {
    if (!obj || obj->type != DSP_JSON_OBJECT) return NULL;
    for (int i = 0; i < obj->count; i++)
        if (strcmp(obj->keys[i], key) == 0) return &obj->items[i];
    return NULL;
}

const char *dsp_json_type_name(dsp_json_type t) {
    switch (t) {
    case DSP_JSON_NULL: return "null";
    case DSP_JSON_BOOL: return "a boolean";
    case DSP_JSON_NUMBER: return "a number";
    case DSP_JSON_STRING: return "a string";
    case DSP_JSON_ARRAY: return "an array";
    case DSP_JSON_OBJECT: return "an object";
    }
    return "?";
}

int dsp_json_to_int64(const dsp_json *j, int64_t lo, int64_t hi, int64_t *out) {
    if (!j || j->type != DSP_JSON_NUMBER) return 0;
    double v = j->number;
    /* Compare in double before converting: casting an out-of-range double to int64 is undefined. */
    if (!(v >= (double)lo && v <= (double)hi) || v != floor(v)) return 0;
    if (!(v >= -9.2e18 && v <= 9.2e18)) return 0; /* (double)INT64_MAX rounds up to 2^63 */
    *out = (int64_t)v;
    return 1;
}

/* ---------------------------------------------------------------- writer */
static int reserve(dsp_buf *b, size_t extra) {
    if (extra > SIZE_MAX - b->len - 1) return -1;
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return 0;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < need) ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    char *d = realloc(b->data, ncap);
    if (!d) return -1;
    b->data = d;
    b->cap = ncap;
    return 0;
}

int dsp_buf_append(dsp_buf *b, const void *bytes, size_t n) {
    if (reserve(b, n)) return -1;
    if (n) memcpy(b->data + b->len, bytes, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

int dsp_buf_printf(dsp_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(b, (size_t)n)) return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void dsp_buf_free(dsp_buf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

int dsp_buf_json_string(dsp_buf *b, const char *s) {
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s);
    if (dsp_buf_append(b, "\"", 1)) return -1;
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        const char *esc = NULL;
        char tmp[8];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            if (c < 0x20) {
                snprintf(tmp, sizeof tmp, "\\u%04x", c);
                esc = tmp;
            }
        }
        if (esc) {
            if (dsp_buf_append(b, esc, strlen(esc))) return -1;
            i++;
            continue;
        }
        uint32_t cp;
        int len = dsp_utf8_decode(u + i, n - i, &cp);
        if (len) {
            if (dsp_buf_append(b, u + i, (size_t)len)) return -1;
            i += (size_t)len;
        } else {
            if (dsp_buf_append(b, "\xEF\xBF\xBD", 3)) return -1; /* U+FFFD for a byte that is not UTF-8 */
            i++;
        }
    }
    return dsp_buf_append(b, "\"", 1);
}

int dsp_buf_json_float(dsp_buf *b, float f) {
    if (!isfinite(f)) return -1;
    char tmp[32];
    for (int prec = 1; prec <= 9; prec++) { /* 9 significant digits always round-trip a float */
        snprintf(tmp, sizeof tmp, "%.*g", prec, (double)f);
        if (strtof(tmp, NULL) == f) break;
    }
    return dsp_buf_append(b, tmp, strlen(tmp));
}
