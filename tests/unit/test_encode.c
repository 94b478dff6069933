/* test_encode.c — the inference passes of dsp_encode_sentences (evaluation, try-it, `dissipate encode`):
 *  - dsp_encode_chunk: at most DSP_ENCODE_CHUNK_SENTENCES sentences and DSP_ENCODE_CHUNK_TOKENS tokens a pass, a
 *    sentence longer than that alone, and the passes cover every sentence once, in order;
 *  - a sentence's embedding has the same bits whatever shares its pass: all sentences at once equal each alone,
 *    for every kernel set at 1 and 2 threads (so the token bound, or any other, changes no result);
 *  - an evaluation no longer grows the encoder past the training batch: after a training step, encoding a set
 *    whose 128-sentence pass would hold more tokens than the batch leaves the activation buffer where it was. */
#include "dissipate.h"
#include "testutil.h"
#include "trainer.h"

#define V 60
#define MAXLEN 40
#include "small_model.h"

/* n sentences "[CLS] w.. [SEP]" of lengths lens(i). */
static void make_set(dsp_token_set *ts, int n, int (*lens)(int)) {
    size_t total = 0;
    for (int i = 0; i < n; i++) total += (size_t)lens(i);
    ts->count = n;
    ts->ids = malloc(total * sizeof(int));
    ts->offset = malloc((size_t)n * sizeof(int));
    ts->len = malloc((size_t)n * sizeof(int));
    unsigned long long s = 11;
    int off = 0;
    for (int i = 0; i < n; i++) {
        int len = lens(i);
        ts->offset[i] = off;
        ts->len[i] = len;
        for (int t = 0; t < len; t++) ts->ids[off + t] = 5 + (int)((dsp_test_rand(&s) + 1.0f) * 0.5f * (V - 6));
        ts->ids[off] = 2;
        ts->ids[off + len - 1] = 3;
        off += len;
    }
    ts->total = total;
}

static int len_ten(int i) { (void)i; return 10; }
static int len_five(int i) { (void)i; return 5; }
static int len_varied(int i) { return 3 + (i * 7) % (MAXLEN - 2); }
static int len_one_long(int i) { return i == 2 ? 3000 : 4; }

/* The passes of ts: each within the bounds, together every sentence once and in order. Returns how many. */
static int check_passes(const dsp_token_set *ts) {
    int passes = 0, s0 = 0;
    for (int n; (n = dsp_encode_chunk(ts, s0)) > 0; s0 += n, passes++) {
        size_t tokens = 0;
        for (int i = 0; i < n; i++) tokens += (size_t)ts->len[s0 + i];
        CHECK_MSG(n <= DSP_ENCODE_CHUNK_SENTENCES, "pass at %d has %d sentences", s0, n);
        CHECK_MSG(n == 1 || tokens <= DSP_ENCODE_CHUNK_TOKENS, "pass at %d has %zu tokens", s0, tokens);
        /* and it is as long as the bounds allow: the next sentence would break one */
        if (s0 + n < ts->count)
            CHECK_MSG(n == DSP_ENCODE_CHUNK_SENTENCES || tokens + (size_t)ts->len[s0 + n] > DSP_ENCODE_CHUNK_TOKENS,
                      "pass at %d stops early at %d sentences", s0, n);
    }
    CHECK(s0 == ts->count);
    CHECK(dsp_encode_chunk(ts, ts->count) == 0);
    return passes;
}

static void test_chunk_bounds(void) {
    dsp_token_set ts = {0};
    make_set(&ts, 300, len_ten); /* 102 sentences of 10 tokens fit in 1024 */
    CHECK(check_passes(&ts) == 3);
    CHECK(dsp_encode_chunk(&ts, 0) == 102);
    CHECK(dsp_encode_chunk(&ts, 204) == 96);
    dsp_token_set_free(&ts);
    make_set(&ts, 200, len_five); /* 128 sentences of 5 tokens: the sentence bound */
    CHECK(check_passes(&ts) == 2);
    CHECK(dsp_encode_chunk(&ts, 0) == DSP_ENCODE_CHUNK_SENTENCES);
    dsp_token_set_free(&ts);
    make_set(&ts, 6, len_one_long); /* a sentence over the token bound is a pass of its own */
    CHECK(check_passes(&ts) == 3);
    CHECK(dsp_encode_chunk(&ts, 0) == 2 && dsp_encode_chunk(&ts, 2) == 1 && dsp_encode_chunk(&ts, 3) == 3);
    dsp_token_set_free(&ts);
    make_set(&ts, 500, len_varied);
    check_passes(&ts);
    dsp_token_set_free(&ts);
}

static void small_model(dsp_model *m) { small_model_with(m, MAXLEN); }

/* 300 sentences of 3..39 tokens (several passes) encoded at once, then each alone: the same bits. */
static void test_pass_independence(void) {
    dsp_model m = {0};
    small_model(&m);
    dsp_token_set ts = {0};
    make_set(&ts, 300, len_varied);
    const int H = m.cfg.hidden_size;
    float *all = malloc((size_t)ts.count * H * sizeof(float)), *one = malloc((size_t)H * sizeof(float));
    const dsp_kernels sets[] = {DSP_KERNELS_SCALAR, DSP_KERNELS_SIMD128, DSP_KERNELS_AUTO};
    const dsp_pooler poolers[] = {DSP_POOL_MEAN, DSP_POOL_CLS};
    for (size_t k = 0; k < sizeof sets / sizeof sets[0]; k++)
        for (int threads = 1; threads <= 2; threads++)
            for (size_t p = 0; p < sizeof poolers / sizeof poolers[0]; p++) {
                dsp_pool *pool = dsp_pool_create(threads);
                dsp_encoder *enc = NULL;
                dsp_err err = {{0}};
                CHECK_OK(dsp_encoder_create(&enc, &m, pool, sets[k], &err), &err);
                CHECK_OK(dsp_encode_sentences(enc, &m, &ts, poolers[p], all, &err), &err);
                int same = 1;
                for (int i = 0; i < ts.count && enc; i++) {
                    dsp_token_set alone = {ts.ids + ts.offset[i], (int[]){0}, &ts.len[i], 1, (size_t)ts.len[i]};
                    CHECK_OK(dsp_encode_sentences(enc, &m, &alone, poolers[p], one, &err), &err);
                    same &= memcmp(one, all + (size_t)i * H, (size_t)H * sizeof(float)) == 0;
                }
                CHECK_MSG(same, "kernels %s, %d thread(s), pooler %s: a sentence's embedding depends on its pass",
                          dsp_kernels_name(sets[k]), threads, dsp_pooler_name(poolers[p]));
                dsp_encoder_free(enc);
                dsp_pool_free(pool);
            }
    free(all);
    free(one);
    dsp_token_set_free(&ts);
    dsp_model_free(&m);
}

/* A trainer's encoder, sized by a training batch of 8 × 2 views of <= 12 tokens, evaluates 300 sentences of up to
 * 39 tokens (a 128-sentence pass would be ~2,700 tokens) and holds less than an encoder that ran one pass of 128
 * of those sentences: the evaluation's passes are bounded by tokens, not only by sentences. */
static void test_eval_memory(void) {
    dsp_model m = {0};
    small_model(&m);
    dsp_token_set train = {0}, eval = {0};
    make_set(&train, 40, len_ten);
    make_set(&eval, 300, len_varied);
    dsp_train_config cfg = dsp_train_default();
    cfg.batch_size = 8;
    cfg.max_len = 12;
    dsp_trainer *t = NULL;
    dsp_err err = {{0}};
    CHECK_OK(dsp_trainer_create(&t, &m, &train, &cfg, &err), &err);
    dsp_step_record r;
    if (t) CHECK_OK(dsp_trainer_step(t, &r, &err), &err);
    float *out = malloc((size_t)eval.count * m.cfg.hidden_size * sizeof(float));
    if (t) {
        dsp_encoder *enc = dsp_trainer_encoder(t);
        CHECK_OK(dsp_encode_sentences(enc, &m, &eval, DSP_POOL_MEAN, out, &err), &err);
        const size_t cap = dsp_encoder_bytes(enc);
        dsp_token_set big = {0};
        make_set(&big, DSP_ENCODE_CHUNK_SENTENCES, len_varied);
        dsp_encoder *fresh = NULL;
        dsp_pool *pool = dsp_pool_create(1);
        CHECK_OK(dsp_encoder_create(&fresh, &m, pool, DSP_KERNELS_AUTO, &err), &err);
        dsp_batch b = {big.ids, big.offset, big.len, big.count, (int)big.total};
        float *pooled = malloc((size_t)big.count * m.cfg.hidden_size * sizeof(float));
        CHECK_OK(dsp_encoder_forward(fresh, m.params, &b, DSP_POOL_MEAN, 0, 0, 0, pooled, &err), &err);
        CHECK_MSG(cap < dsp_encoder_bytes(fresh),
                  "after evaluating, the encoder holds %zu bytes, as much as after a 128-sentence pass (%zu)",
                  cap, dsp_encoder_bytes(fresh));
        free(pooled);
        dsp_encoder_free(fresh);
        dsp_pool_free(pool);
        dsp_token_set_free(&big);
    }
    free(out);
    dsp_trainer_free(t);
    dsp_token_set_free(&train);
    dsp_token_set_free(&eval);
    dsp_model_free(&m);
}

int main(void) {
    test_chunk_bounds();
    test_pass_independence();
    test_eval_memory();
    return dsp_test_end("test_encode");
}
