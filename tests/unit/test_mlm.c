/* test_mlm.c — masked-language-model pre-training: the loss falls on a small corpus it can memorise, about
 * mask_prob of the non-special tokens are predicted, runs are bit-identical for 1 and 2 threads, and a vocabulary
 * without [MASK] is refused. */
#include "dissipate.h"
#include "mlm.h"
#include "testutil.h"

#define V 40

/* with_mask: 0 none, 1 [MASK] at id 4 after the other specials, 2 [MASK] on the last line (id V - 1) */
static dsp_vocab *make_vocab(int with_mask) {
    char text[2048];
    size_t n = (size_t)snprintf(text, sizeof text, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n%s", with_mask == 1 ? "[MASK]\n" : "x\n");
    for (int i = 5; i < V; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, with_mask == 2 && i == V - 1 ? "[MASK]\n" : "w%d\n", i);
    dsp_vocab *v = NULL;
    dsp_err err;
    if (dsp_vocab_from_text(&v, text, n, &err)) { fprintf(stderr, "%s\n", err.msg); exit(1); }
    return v;
}

static void make_model(dsp_model *m, int with_mask) {
    dsp_config cfg = dsp_config_tiny(V);
    cfg.hidden_size = 16;
    cfg.num_attention_heads = 2;
    cfg.intermediate_size = 32;
    cfg.max_position_embeddings = 16;
    dsp_err err;
    if (dsp_model_init(m, &cfg, make_vocab(with_mask), 4, &err)) { fprintf(stderr, "%s\n", err.msg); exit(1); }
}

/* 16 sentences with a fixed pattern: token t+1 follows token t, so masked tokens are predictable. */
static void make_corpus(dsp_token_set *ts) {
    const int n = 16, len = 10;
    ts->count = n;
    ts->ids = malloc(n * len * sizeof(int));
    ts->offset = malloc(n * sizeof(int));
    ts->len = malloc(n * sizeof(int));
    for (int i = 0; i < n; i++) {
        ts->offset[i] = i * len;
        ts->len[i] = len;
        ts->ids[i * len] = 2;
        for (int t = 1; t < len - 1; t++) ts->ids[i * len + t] = 5 + (i + t) % (V - 5);
        ts->ids[i * len + len - 1] = 3;
    }
    ts->total = (size_t)n * len;
}

static double run_vocab(const dsp_token_set *ts, int vocab, int threads, int steps, float *weights_out, double *first,
                        int *masked) {
    dsp_model m = {0};
    make_model(&m, vocab);
    dsp_mlm_config cfg = dsp_mlm_default();
    cfg.batch_size = 8;
    cfg.max_len = 10;
    cfg.threads = threads;
    cfg.optim.lr = 1e-2f;
    cfg.optim.weight_decay = 0;
    dsp_mlm *t = NULL;
    dsp_err err = {{0}};
    CHECK_OK(dsp_mlm_create(&t, &m, ts, &cfg, &err), &err);
    double last = 0, sum_first = 0, sum_last = 0;
    *masked = 0;
    for (int s = 0; s < steps && t; s++) {
        dsp_mlm_record r;
        CHECK_OK(dsp_mlm_step(t, &r, &err), &err);
        *masked += r.masked;
        if (s < 10) sum_first += r.loss;
        if (s >= steps - 10) sum_last += r.loss;
        last = r.loss;
    }
    (void)last;
    *first = sum_first / 10;
    if (weights_out) memcpy(weights_out, m.params, m.layout.total * sizeof(float));
    dsp_mlm_free(t);
    dsp_model_free(&m);
    return sum_last / 10;
}

static double run(const dsp_token_set *ts, int threads, int steps, float *weights_out, double *first, int *masked) {
    return run_vocab(ts, 1, threads, steps, weights_out, first, masked);
}

int main(void) {
    dsp_token_set ts = {0};
    make_corpus(&ts);
    dsp_model probe = {0};
    make_model(&probe, 1);
    const size_t P = probe.layout.total;
    dsp_model_free(&probe);
    float *w1 = malloc(P * sizeof(float)), *w2 = malloc(P * sizeof(float));
    double first1, first2;
    int masked1, masked2;
    const int steps = 600;
    double last1 = run(&ts, 1, steps, w1, &first1, &masked1);
    double last2 = run(&ts, 2, steps, w2, &first2, &masked2);
    fprintf(stderr, "mlm loss %.3f -> %.3f\n", first1, last1);
    CHECK_MSG(last1 < 0.6 * first1, "MLM loss did not fall below 0.6x its start: %.3f -> %.3f", first1, last1);
    CHECK(memcmp(w1, w2, P * sizeof(float)) == 0 && last1 == last2 && masked1 == masked2);
    /* 8 sentences x 8 maskable tokens per step */
    double frac = (double)masked1 / (steps * 8.0 * 8.0);
    CHECK_MSG(frac > 0.12 && frac < 0.18, "masked fraction %.3f, expected about 0.15", frac);
    free(w1);
    free(w2);
    /* special tokens are found by id, not as "every id below the largest special": with [MASK] on the last line of
     * the vocab, the words before it are still masked (they were all taken for specials, and nothing was) */
    int masked_last;
    run_vocab(&ts, 2, 1, 40, NULL, &first1, &masked_last);
    frac = (double)masked_last / (40 * 8.0 * 8.0);
    CHECK_MSG(frac > 0.1 && frac < 0.2, "[MASK] last: masked fraction %.3f, expected about 0.15", frac);

    dsp_model m = {0};
    make_model(&m, 0);
    dsp_mlm_config cfg = dsp_mlm_default();
    cfg.batch_size = 8;
    cfg.max_len = 17; /* the model has 16 positions */
    dsp_mlm *t = NULL;
    dsp_err err;
    CHECK_FAILS(dsp_mlm_create(&t, &m, &ts, &cfg, &err), &err, "max_position_embeddings 16");
    cfg.max_len = 10;
    CHECK_FAILS(dsp_mlm_create(&t, &m, &ts, &cfg, &err), &err, "[MASK]");
    cfg.mask_prob = 0;
    dsp_model_free(&m);
    make_model(&m, 1);
    CHECK_FAILS(dsp_mlm_create(&t, &m, &ts, &cfg, &err), &err, "mask probability");
    /* mask_prob 1, the top of its range (0, 1] as the CLI states it: every non-special token is predicted */
    cfg.mask_prob = 1;
    CHECK_OK(dsp_mlm_create(&t, &m, &ts, &cfg, &err), &err);
    if (t) {
        dsp_mlm_record r;
        CHECK_OK(dsp_mlm_step(t, &r, &err), &err);
        CHECK_MSG(r.masked == 8 * 8 && isfinite(r.loss), "mask_prob 1: %d of 64 tokens masked, loss %g", r.masked,
                  r.loss);
        dsp_mlm_free(t);
    }
    cfg.mask_prob = 1.5f;
    CHECK_FAILS(dsp_mlm_create(&t, &m, &ts, &cfg, &err), &err, "must be in (0, 1]");
    dsp_model_free(&m);
    free(ts.ids); free(ts.offset); free(ts.len);
    return dsp_test_end("test_mlm");
}
