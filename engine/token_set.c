/* token_set.c — sentences tokenized once, up front, into one flat id array, so that training steps and
 * evaluations slice ids instead of re-running the tokenizer. (Separate from data.c so that the text readers
 * do not depend on the tokenizer.) */
#include "dissipate.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

int dsp_token_set_build(dsp_token_set *ts, const dsp_vocab *v, char *const *text, int count, int max_len,
                        dsp_err *err) {
    memset(ts, 0, sizeof *ts);
    if (!v) return dsp_fail(err, "dsp_token_set_build: no vocabulary");
    if (max_len < 2) return dsp_fail(err, "max_len %d is too small: [CLS] and [SEP] need 2 tokens", max_len);
    if (count < 0 || (count > 0 && !text)) return dsp_fail(err, "dsp_token_set_build: bad sentence list");
    size_t n = count ? (size_t)count : 1;
    ts->offset = malloc(n * sizeof *ts->offset);
    ts->len = malloc(n * sizeof *ts->len);
    int *scratch = malloc((size_t)max_len * sizeof *scratch); /* [max_len] */
    /* Start from a typical sentence length and grow by doubling: count * max_len can be far too much. No capacity
     * goes past the INT_MAX ids the offsets allow, nor past what size_t can count in bytes (32 bits in wasm). */
    const size_t limit = (size_t)INT_MAX < SIZE_MAX / sizeof(int) ? (size_t)INT_MAX : SIZE_MAX / sizeof(int);
    const size_t typical = (size_t)(max_len < 24 ? max_len : 24);
    size_t cap = n > limit / typical ? limit : n * typical;
    ts->ids = malloc(cap * sizeof *ts->ids);
    int r = 0;
    if (!ts->offset || !ts->len || !scratch || !ts->ids) r = dsp_fail(err, "out of memory tokenizing %d sentences", count);
    for (int i = 0; i < count && r == 0; i++) {
        int k = dsp_tokenize(v, text[i] ? text[i] : "", max_len, scratch);
        if (k < 0 || k > max_len) {
            r = dsp_fail(err, "the tokenizer returned %d ids for sentence %d (max_len %d)", k, i, max_len);
            break;
        }
        /* offsets are ints: the whole set must stay below INT_MAX ids */
        if (ts->total + (size_t)k > (size_t)INT_MAX) {
            r = dsp_fail(err, "too many tokens: more than %d in %d sentences", INT_MAX, count);
            break;
        }
        if (ts->total + (size_t)k > cap) {
            size_t ncap = cap > (limit - (size_t)max_len) / 2 ? limit : cap * 2 + (size_t)max_len;
            int *p = ncap >= ts->total + (size_t)k ? realloc(ts->ids, ncap * sizeof *p) : NULL;
            if (!p) {
                r = dsp_fail(err, "out of memory tokenizing %d sentences", count);
                break;
            }
            ts->ids = p;
            cap = ncap;
        }
        memcpy(ts->ids + ts->total, scratch, (size_t)k * sizeof *scratch);
        ts->offset[i] = (int)ts->total;
        ts->len[i] = k;
        ts->total += (size_t)k;
    }
    free(scratch);
    if (r) {
        dsp_token_set_free(ts);
        return -1;
    }
    ts->count = count;
    return 0;
}

void dsp_token_set_free(dsp_token_set *ts) {
    if (!ts) return;
    free(ts->ids);
    free(ts->offset);
    free(ts->len);
    memset(ts, 0, sizeof *ts);
}
