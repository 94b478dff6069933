/* test_compact.c — a [CLS] pooler's compact last layer (the [CLS] rows alone query the last attention, and the
 * dense, LayerNorms and FFN after it run on those rows only) against the full layer:
 *  - dsp_dropout_add_rows gives each compact row the mask bits of its place in the full tensor: the same bits as
 *    dsp_dropout_add over the full tensor, rows gathered, for every kernel set, row lengths that are and are not a
 *    multiple of the vector width, and p = 0;
 *  - a training forward and backward (dropout on) with cls and cls_mlp give the same pooled vectors and the same
 *    gradients, bit for bit, compact or full, for every kernel set at 1 and 2 threads; so does an evaluation;
 *  - the compact forward really is compact (no final hidden state to hand out), a hidden-state backward after it is
 *    refused by name, and mean pooling keeps the full layer. */
#include "dissipate.h"
#include "encoder_internal.h"
#include "testutil.h"

#include <string.h>

#define V 60
#include "small_model.h"

static const dsp_kernels sets[] = {DSP_KERNELS_SCALAR, DSP_KERNELS_SIMD128, DSP_KERNELS_SIMD128_SSE2,
                                   DSP_KERNELS_AUTO};
#define NSETS (sizeof sets / sizeof sets[0])

static void test_dropout_rows(void) {
    enum { FULL_ROWS = 15, ROWS = 6 };
    const int row_index[ROWS] = {0, 3, 4, 9, 13, 14};
    const int lens[] = {16, 13, 1};
    dsp_pool *pool = dsp_pool_create(2);
    for (size_t k = 0; k < NSETS; k++)
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
            for (int pi = 0; pi < 2; pi++) {
                const int len = lens[li];
                const size_t n = (size_t)FULL_ROWS * len, nc = (size_t)ROWS * len;
                dsp_err err = {{0}};
                dsp_kctx ctx = {.pool = pool};
                if (dsp_kernels_resolve(sets[k], &ctx.set, &err)) continue; /* not on this CPU */
                float x[FULL_ROWS * 16], res[FULL_ROWS * 16], xc[ROWS * 16], resc[ROWS * 16];
                uint8_t keep[FULL_ROWS * 16], keepc[ROWS * 16];
                unsigned long long s = 5 + li;
                for (size_t i = 0; i < n; i++) {
                    x[i] = dsp_test_rand(&s);
                    res[i] = dsp_test_rand(&s);
                }
                for (int r = 0; r < ROWS; r++) {
                    memcpy(xc + (size_t)r * len, x + (size_t)row_index[r] * len, (size_t)len * sizeof(float));
                    memcpy(resc + (size_t)r * len, res + (size_t)row_index[r] * len, (size_t)len * sizeof(float));
                }
                dsp_dropout d = {pi ? 0.3f : 0.0f, 77, 9};
                memset(keep, 2, sizeof keep);
                memset(keepc, 2, sizeof keepc);
                dsp_dropout_add(&ctx, x, n, d, keep, res);
                dsp_dropout_add_rows(&ctx, xc, ROWS, len, row_index, d, keepc, resc);
                int same = 1, dropped = 0;
                for (int r = 0; r < ROWS; r++)
                    for (int h = 0; h < len; h++) {
                        size_t f = (size_t)row_index[r] * len + h, c = (size_t)r * len + h;
                        same &= memcmp(&x[f], &xc[c], sizeof(float)) == 0;
                        if (pi) same &= keep[f] == keepc[c];
                        dropped += pi && !keepc[c];
                    }
                CHECK_MSG(same, "kernels %s, rows of %d, p %g: compact rows differ from the full tensor's",
                          dsp_kernels_name(sets[k]), len, (double)d.p);
                if (pi && len == 16) CHECK(dropped > 0 && dropped < (int)nc); /* the mask is not trivial */
            }
    dsp_pool_free(pool);
}

/* A batch of 12 sequences of 1..15 tokens. */
enum { B = 12 };
static int lens_of(int i) { return 1 + (i * 5) % 15; }

static int make_batch(dsp_batch *b, int *ids, int *off, int *len) {
    int T = 0;
    unsigned long long s = 21;
    for (int i = 0; i < B; i++) {
        off[i] = T;
        len[i] = lens_of(i);
        for (int t = 0; t < len[i]; t++) ids[T + t] = 5 + (int)((dsp_test_rand(&s) + 1.0f) * 0.5f * (V - 6));
        ids[T] = 2;
        T += len[i];
    }
    *b = (dsp_batch){ids, off, len, B, T};
    return T;
}

/* One training forward and backward (or an evaluation forward), compact or full: pooled [B, H] and grads. */
static int run(const dsp_model *m, dsp_kernels set, int threads, dsp_pooler pooler, int train, int full,
               const dsp_batch *b, const float *dpooled, float *pooled, float *grads, int *hidden_given) {
    dsp_pool *pool = dsp_pool_create(threads);
    dsp_encoder *e = NULL;
    dsp_err err = {{0}};
    int rc = dsp_encoder_create(&e, m, pool, set, &err);
    if (!rc) {
        dsp_encoder_set_full_last_layer(e, full);
        memset(grads, 0, m->layout.total * sizeof(float));
        rc = dsp_encoder_forward(e, m->params, b, pooler, train, 9, 4, pooled, &err);
        *hidden_given = !rc && dsp_encoder_hidden(e) != NULL;
        if (!rc && train) rc = dsp_encoder_backward(e, m->params, dpooled, grads, &err);
        if (!rc && !full && pooler != DSP_POOL_MEAN) /* a hidden-state backward needs every row */
            CHECK_FAILS(dsp_encoder_backward_hidden(e, m->params, grads, grads, &err), &err, "[CLS] rows");
    }
    if (rc) fprintf(stderr, "%s\n", err.msg);
    dsp_encoder_free(e);
    dsp_pool_free(pool);
    return rc;
}

static void test_compact_equals_full(void) {
    dsp_model m = {0};
    small_model_with(&m, 32);
    const int H = m.cfg.hidden_size;
    int ids[B * 15], off[B], len[B];
    dsp_batch b;
    make_batch(&b, ids, off, len);
    float dpooled[B * 16], pooled[2][B * 16];
    unsigned long long s = 3;
    for (int i = 0; i < B * H; i++) dpooled[i] = dsp_test_rand(&s);
    float *grads[2] = {malloc(m.layout.total * sizeof(float)), malloc(m.layout.total * sizeof(float))};
    const dsp_pooler poolers[] = {DSP_POOL_CLS, DSP_POOL_CLS_MLP, DSP_POOL_MEAN};
    for (size_t k = 0; k < NSETS; k++) {
        dsp_err err = {{0}};
        dsp_kernels got;
        if (dsp_kernels_resolve(sets[k], &got, &err)) continue;
        for (int threads = 1; threads <= 2; threads++)
            for (size_t p = 0; p < sizeof poolers / sizeof poolers[0]; p++)
                for (int train = 0; train <= 1; train++) {
                    int hidden[2] = {0, 0}, rc = 0;
                    for (int full = 0; full <= 1; full++)
                        rc |= run(&m, sets[k], threads, poolers[p], train, full, &b, dpooled, pooled[full],
                                  grads[full], &hidden[full]);
                    CHECK(rc == 0);
                    const char *what = train ? "training" : "evaluation";
                    CHECK_MSG(memcmp(pooled[0], pooled[1], (size_t)B * H * sizeof(float)) == 0,
                              "kernels %s, %d thread(s), pooler %s, %s: pooled vectors differ, compact or full",
                              dsp_kernels_name(sets[k]), threads, dsp_pooler_name(poolers[p]), what);
                    if (train)
                        CHECK_MSG(memcmp(grads[0], grads[1], m.layout.total * sizeof(float)) == 0,
                                  "kernels %s, %d thread(s), pooler %s: gradients differ, compact or full",
                                  dsp_kernels_name(sets[k]), threads, dsp_pooler_name(poolers[p]));
                    CHECK(hidden[1]); /* the full layer hands out its hidden state */
                    CHECK_MSG(hidden[0] == (poolers[p] == DSP_POOL_MEAN),
                              "pooler %s: the forward was%s compact", dsp_pooler_name(poolers[p]),
                              hidden[0] ? " not" : "");
                }
    }
    free(grads[0]);
    free(grads[1]);
    dsp_model_free(&m);
}

int main(void) {
    test_dropout_rows();
    test_compact_equals_full();
    return dsp_test_end("test_compact");
}
