/* json.h — a small strict JSON reader (RFC 8259) and a few writer helpers, internal to the engine.
 *
 * Why hand-written: the engine must compile unchanged to WebAssembly with no dependencies, and the JSON it
 * reads (config.json, safetensors headers) is small and flat, so a few hundred lines are enough.
 *
 * Reader: UTF-8 only (invalid sequences are errors), \u escapes including surrogate pairs, numbers checked
 * against the JSON grammar and converted with strtod (the C locale's '.' is assumed), nesting limited to
 * DSP_JSON_MAX_DEPTH, duplicate object keys rejected (a later duplicate silently winning hides mistakes).
 * Errors give the line and column (1-based, columns in bytes). Strings cannot hold U+0000 because they are
 * NUL-terminated; "\u0000" is therefore an error. */
#ifndef DSP_JSON_H
#define DSP_JSON_H

#include "dissipate.h"

#include <stddef.h>
#include <stdint.h>

#define DSP_JSON_MAX_DEPTH 64

typedef enum { DSP_JSON_NULL, DSP_JSON_BOOL, DSP_JSON_NUMBER, DSP_JSON_STRING, DSP_JSON_ARRAY, DSP_JSON_OBJECT } dsp_json_type;

typedef struct dsp_json dsp_json;
struct dsp_json {
    dsp_json_type type;
    double number;
    int boolean;
    char *string;    /* NUL-terminated UTF-8; for a number, its literal as written ("1e-3", "18446744073709551615") */
    dsp_json *items; /* [count] array elements or object values */
    char **keys;     /* [count] keys[i] names items[i] for objects, else NULL */
    int count;
};

/* Parses exactly one JSON value (surrounding whitespace allowed) from text[0 .. len). *out is malloc'd;
 * free it with dsp_json_free. On error *out is NULL. */
int dsp_json_parse(dsp_json **out, const char *text, size_t len, dsp_err *err);
void dsp_json_free(dsp_json *j);
/* The value of key in obj; NULL if absent or obj is not an object. */
const dsp_json *dsp_json_get(const dsp_json *obj, const char *key);
/* A human name for a type ("a string", "an object", ...), for error messages. */
const char *dsp_json_type_name(dsp_json_type t);
/* 1 if j is a number with an integral value in [lo, hi], storing it in *out; else 0. */
int dsp_json_to_int64(const dsp_json *j, int64_t lo, int64_t hi, int64_t *out);

/* Growable text buffer: data is always NUL-terminated once anything was appended. */
typedef struct { char *data; size_t len, cap; } dsp_buf;
int dsp_buf_append(dsp_buf *b, const void *bytes, size_t n);
int dsp_buf_printf(dsp_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void dsp_buf_free(dsp_buf *b);
/* Appends s as a quoted JSON string: quote, backslash and control characters escaped, valid UTF-8 passed
 * through, invalid bytes replaced by U+FFFD so that the output is always valid JSON. */
int dsp_buf_json_string(dsp_buf *b, const char *s);
/* Appends the shortest decimal that reads back as the same float ("0.1", "1e-12"); -1 if not finite. */
int dsp_buf_json_float(dsp_buf *b, float f);

/* Decodes one UTF-8 sequence from s[0 .. n): returns its length (1-4) and the code point in *cp, or 0 if the
 * bytes are not a valid, shortest-form encoding of a scalar value. */
int dsp_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
/* The offset of the first byte of s[0 .. n) that does not start a valid UTF-8 sequence (dsp_utf8_decode's rules),
 * or n when all of it is valid. */
size_t dsp_utf8_invalid_at(const char *s, size_t n);
/* Encodes scalar value cp (<= U+10FFFF, not a surrogate) into out[0..4); returns the length. */
int dsp_utf8_encode(uint32_t cp, char *out);

#endif
