/* test_training.c — reproducibility and failure behaviour of the trainer:
 *  - 1, 2 and 4 threads give bit-identical losses and weights after several steps (every kernel set);
 *  - the same seed twice gives identical runs, another seed a different one;
 *  - a NaN/Inf stops the step before the update and leaves the weights as they were;
 *  - impossible configurations are rejected with a message;
 *  - the sparse handling of the word-embedding gradient (only the last batch's rows are zeroed, the norm skips the
 *    rest) gives the dense results: untouched rows are zero after every step and the norm has the dense bits;
 *  - what the determinism checks cannot see (each of these survived a mutation audit of the suite): the learning-rate
 *    schedule, the optimiser's step (Adam's bias correction, SGD's weight decay, clipping), a new shuffle every
 *    epoch, new dropout masks every step, truncation that keeps [SEP], and evaluation of cls_mlp without the MLP;
 *  - a profiled step (`dissipate bench --profile`) records its parts and trains to the same bits. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */
#include "dissipate.h"
#include "encoder_internal.h"
#include "profile.h"
#include "sampler.h"
#include "testutil.h"
#include "trainer.h"

#include <time.h>

#define V 60
#include "small_model.h"

/* 40 synthetic sentences "[CLS] w.. [SEP]" of lengths 3..12. */
static void make_corpus(dsp_token_set *ts) {
    const int n = 40;
    ts->count = n;
    ts->ids = malloc(n * 12 * sizeof(int));
    ts->offset = malloc(n * sizeof(int));
    ts->len = malloc(n * sizeof(int));
    unsigned long long s = 5;
    int off = 0;
    for (int i = 0; i < n; i++) {
        int len = 3 + i % 10;
        ts->offset[i] = off;
        ts->len[i] = len;
        ts->ids[off] = 2;
        for (int t = 1; t < len - 1; t++) ts->ids[off + t] = 5 + (int)((dsp_test_rand(&s) + 1.0f) * 0.5f * (V - 6));
        ts->ids[off + len - 1] = 3;
        off += len;
    }
    ts->total = (size_t)off;
}

static void small_model(dsp_model *m) { small_model_with(m, 16); }

/* Runs `steps` steps; returns the final weights (malloc'd) and the losses. */
static float *run(const dsp_token_set *ts, int threads, dsp_kernels k, uint64_t seed, int steps, double *losses,
                  dsp_objective_kind obj) {
    dsp_model m = {0};
    small_model(&m);
    dsp_train_config cfg = dsp_train_default();
    cfg.batch_size = 8;
    cfg.max_len = 12;
    cfg.threads = threads;
    cfg.kernels = k;
    cfg.seed = seed;
    cfg.optim.lr = 1e-3f;
    cfg.objective = dsp_objective_default(obj);
    dsp_trainer *t = NULL;
    dsp_err err = {{0}};
    CHECK_OK(dsp_trainer_create(&t, &m, ts, &cfg, &err), &err);
    for (int s = 0; s < steps && t; s++) {
        dsp_step_record r;
        CHECK_OK(dsp_trainer_step(t, &r, &err), &err);
        losses[s] = r.loss;
        CHECK(r.step == s + 1);
    }
    dsp_trainer_free(t);
    float *w = malloc(m.layout.total * sizeof(float));
    memcpy(w, m.params, m.layout.total * sizeof(float));
    dsp_model_free(&m);
    return w;
}

static size_t n_params(void) {
    dsp_model m = {0};
    small_model(&m);
    size_t n = m.layout.total;
    dsp_model_free(&m);
    return n;
}

/* Where size_t is 32 bits (WebAssembly), a batch whose buffers would need more than it can count is refused with
 * a message; before, a wrapped product allocated a small buffer that the forward then overran. The same for a
 * model's parameter layout. Natively these are merely large (8.6 GB of attention), so this runs only in 32-bit
 * builds. */
static void test_batch_beyond_address_space(void) {
#if SIZE_MAX <= UINT32_MAX
    dsp_config cfg = dsp_config_tiny(V);
    cfg.hidden_size = 32;
    cfg.intermediate_size = 64;
    cfg.num_hidden_layers = 1;
    cfg.max_position_embeddings = 4096;
    dsp_model m = {0};
    dsp_err err;
    CHECK_OK(dsp_model_init(&m, &cfg, make_vocab(), 3, &err), &err);
    enum { B = 64, LEN = 4096 }; /* attention: 2 heads x 4096^2 x 64 = 2^31 floats, 8 GB */
    int *ids = calloc((size_t)B * LEN, sizeof(int)), off[B], len[B];
    for (int i = 0; i < B; i++) { off[i] = i * LEN; len[i] = LEN; }
    dsp_batch b = {ids, off, len, B, B * LEN};
    dsp_encoder *e = NULL;
    float pooled[B * 32];
    CHECK_OK(dsp_encoder_create(&e, &m, NULL, DSP_KERNELS_AUTO, &err), &err);
    if (e && ids)
        CHECK_FAILS(dsp_encoder_forward(e, m.params, &b, DSP_POOL_MEAN, 1, 1, 0, pooled, &err), &err,
                    "more memory than this build can address");
    dsp_encoder_free(e);
    free(ids);
    dsp_model_free(&m);
    /* and a model whose parameters cannot be counted in bytes: 2^23 words x 512 floats wrapped to a tiny layout */
    dsp_config big = dsp_config_tiny(1 << 23);
    big.hidden_size = 512;
    big.num_attention_heads = 8;
    dsp_layout layout;
    CHECK_FAILS(dsp_layout_build(&layout, &big, &err), &err, "too large for this build");
#endif
}

/* The schedule at hand-computed points: a linear warm-up that reaches lr at its last step (steps count from 0), then
 * a linear decay from lr at the end of warm-up to 0 at total_steps, and 0 after (transformers' linear schedule).
 * Without warm-up the decay starts at step 0; without total_steps the rate is constant. */
static void test_lr_schedule(void) {
    dsp_optim_config c = dsp_optim_default();
    c.lr = 1.0f;
    c.warmup_steps = 4;
    c.total_steps = 10;
    const double warm[12] = {0.25, 0.5, 0.75, 1, 1, 5 / 6.0, 4 / 6.0, 3 / 6.0, 2 / 6.0, 1 / 6.0, 0, 0};
    for (int s = 0; s < 12; s++) CHECK_NEAR(dsp_lr_at(&c, s), warm[s], 1e-6, 0);
    c.warmup_steps = 0;
    const double plain[4][2] = {{0, 1}, {5, 0.5}, {9, 0.1}, {10, 0}};
    for (int i = 0; i < 4; i++) CHECK_NEAR(dsp_lr_at(&c, (int)plain[i][0]), plain[i][1], 1e-6, 0);
    c.total_steps = 0;
    CHECK(dsp_lr_at(&c, 0) == 1.0f && dsp_lr_at(&c, 1000) == 1.0f);
}

/* Three optimiser steps on four parameters against the textbook updates in double:
 *  - AdamW (PyTorch's): bias corrections 1 − β^t at t = 1, 2, 3 and decoupled weight decay lr·wd·p. test_kernels
 *    checks the element loop for given corrections; this checks the t that the step gives it.
 *  - SGD with momentum, the weight decay inside the momentum (PyTorch's SGD): m = μm + g + wd·p, p −= lr·m.
 *  - clipping: a norm above clip_norm scales the gradient by clip/(norm + 1e-6), a norm below leaves it. SGD shows
 *    it; Adam's update hardly depends on the gradient's scale.
 * The float engine stays within 1e-6 of the double updates; each of those mistakes moves a parameter by 1e-3 or more. */
static void test_optimizer_steps(void) {
    enum { n = 4 };
    const float g[n] = {0.5f, -2.0f, 1e-3f, 0.0f}, p0[n] = {1.0f, -0.5f, 0.25f, 2.0f};
    const double norms[3] = {4.0, 0.5, 0.5}; /* the first step is clipped, the others are not */
    for (int sgd = 0; sgd < 2; sgd++) {
        dsp_optim_config c = dsp_optim_default();
        c.kind = sgd ? DSP_OPT_SGD : DSP_OPT_ADAMW;
        c.lr = 0.1f;
        c.weight_decay = 0.01f;
        c.clip_norm = 1.0f;
        dsp_optimizer o;
        dsp_err err;
        CHECK_OK(dsp_optimizer_init(&o, &c, n, &err), &err);
        float p[n], grad[n];
        double pd[n], md[n] = {0}, vd[n] = {0};
        memcpy(p, p0, sizeof p);
        for (int i = 0; i < n; i++) pd[i] = p0[i];
        for (int t = 1; t <= 3; t++) {
            memcpy(grad, g, sizeof grad);
            CHECK(dsp_optimizer_step(&o, p, grad, norms[t - 1], NULL) == c.lr);
            const double scale = norms[t - 1] > c.clip_norm ? c.clip_norm / (norms[t - 1] + 1e-6) : 1.0;
            const double b1 = c.beta1, b2 = c.beta2, lr = c.lr, wd = c.weight_decay;
            for (int i = 0; i < n; i++) {
                double gi = g[i] * scale;
                if (sgd) {
                    md[i] = c.momentum * md[i] + gi + wd * pd[i];
                    pd[i] -= lr * md[i];
                } else {
                    md[i] = b1 * md[i] + (1 - b1) * gi;
                    vd[i] = b2 * vd[i] + (1 - b2) * gi * gi;
                    double mhat = md[i] / (1 - pow(b1, t)), vhat = vd[i] / (1 - pow(b2, t));
                    pd[i] -= lr * (mhat / (sqrt(vhat) + c.eps) + wd * pd[i]);
                }
                CHECK_MSG(fabs(p[i] - pd[i]) <= 1e-6, "%s step %d: p[%d] = %.9g, the textbook update gives %.9g",
                          sgd ? "sgd" : "adamw", t, i, p[i], pd[i]);
            }
        }
        dsp_optimizer_free(&o);
    }
}

/* Each epoch of the sampler's stream is a permutation of the sentences, reports its epoch, and is shuffled anew
 * (SimCSE reshuffles every epoch: an order repeated each epoch trains on the same batches); an epoch's order
 * depends only on (seed, epoch), so going back to epoch 0 gives its order again. */
static void test_sampler_epochs(void) {
    enum { n = 10, E = 3 };
    dsp_sampler s;
    CHECK(dsp_sampler_init(&s, n, 42) == 0);
    int order[E][n];
    for (int e = 0; e < E; e++) {
        int seen[n] = {0};
        for (int i = 0; i < n; i++) {
            int epoch = -1;
            order[e][i] = dsp_sampler_at(&s, (long long)e * n + i, &epoch);
            CHECK(epoch == e && order[e][i] >= 0 && order[e][i] < n);
            if (order[e][i] >= 0 && order[e][i] < n) seen[order[e][i]]++;
        }
        for (int k = 0; k < n; k++) CHECK_MSG(seen[k] == 1, "epoch %d holds sentence %d %d times", e, k, seen[k]);
    }
    CHECK_MSG(memcmp(order[0], order[1], sizeof order[0]) != 0 && memcmp(order[1], order[2], sizeof order[0]) != 0,
              "the epochs repeat one order");
    for (int i = 0; i < n; i++) CHECK(dsp_sampler_at(&s, i, NULL) == order[0][i]);
    dsp_sampler_free(&s);
}

/* A trainer of the small model over ts: batch 8, the default settings otherwise; NULL (and a failed check) if refused. */
static dsp_trainer *small_trainer(dsp_model *m, const dsp_token_set *ts, int max_len) {
    small_model(m);
    dsp_train_config cfg = dsp_train_default();
    cfg.batch_size = 8;
    cfg.max_len = max_len;
    dsp_trainer *t = NULL;
    dsp_err err = {{0}};
    CHECK_OK(dsp_trainer_create(&t, m, ts, &cfg, &err), &err);
    return t;
}

/* A profiled step (profile.h) records its kernels and passes, each once per outermost span, never more time than the
 * step took, and trains to the same bits as an unprofiled one; after the profile is unset nothing more is recorded. */
static void test_step_profile(const dsp_token_set *ts) {
    dsp_model m1 = {0}, m2 = {0};
    dsp_trainer *t1 = small_trainer(&m1, ts, 12), *t2 = small_trainer(&m2, ts, 12);
    if (!t1 || !t2) return;
    dsp_err err = {{0}};
    dsp_step_record rec;
    dsp_prof p;
    dsp_prof_reset(&p);
    dsp_trainer_set_profile(t1, &p);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    CHECK_OK(dsp_trainer_step(t1, &rec, &err), &err);
    clock_gettime(CLOCK_MONOTONIC, &b);
    const double wall = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) * 1e-6;
    CHECK_OK(dsp_trainer_step(t2, &rec, &err), &err);
    CHECK_MSG(memcmp(m1.params, m2.params, m1.layout.total * sizeof(float)) == 0, "profiling changed the weights");
    static const char *expected[] = {"batch", "dsp_matmul_forward", "dsp_attention_forward", "dsp_attention_backward",
                                     "dsp_layernorm_backward", "embedding sums", "embedding gradients", "pooling",
                                     "pooling backward", "objective", "zeroing gradients", "gradient norm", "optimizer"};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        CHECK_MSG(dsp_prof_find(&p, expected[i]) != NULL, "no part \"%s\" in a step's profile", expected[i]);
    const dsp_prof_part *obj = dsp_prof_find(&p, "objective");
    CHECK_MSG(obj && obj->calls == 2, "the objective: %ld spans, expected its forward and its backward",
              obj ? obj->calls : -1L);
    double sum = 0;
    for (int i = 0; i < p.n_parts; i++) sum += p.part[i].ms;
    CHECK_MSG(sum > 0 && sum <= wall, "the parts add up to %g ms in a step of %g ms", sum, wall);
    CHECK(p.depth == 0 && p.dropped == 0);
    int parts = p.n_parts;
    long calls = dsp_prof_find(&p, "optimizer") ? dsp_prof_find(&p, "optimizer")->calls : -1;
    dsp_trainer_set_profile(t1, NULL);
    CHECK_OK(dsp_trainer_step(t1, &rec, &err), &err);
    CHECK(p.n_parts == parts && dsp_prof_find(&p, "optimizer")->calls == calls);
    dsp_trainer_free(t1);
    dsp_trainer_free(t2);
    dsp_model_free(&m1);
    dsp_model_free(&m2);
}

/* A training step draws new dropout masks: they are a function of (seed, step), so with the step left out every
 * step would drop the same positions, which neither the loss nor the determinism checks notice. The recording
 * starts with the embeddings' mask, T·H factors indexed by position: two steps' must differ on the common part. */
static void test_dropout_changes_per_step(const dsp_token_set *ts) {
    dsp_model m = {0};
    dsp_trainer *t = small_trainer(&m, ts, 12);
    dsp_err err = {{0}};
    enum { cap = 4096 };
    float *masks = malloc(2 * cap * sizeof(float));
    size_t got[2] = {0, 0}; /* the embeddings' factors recorded at each step */
    for (int s = 0; s < 2 && t; s++) {
        dsp_encoder *e = dsp_trainer_encoder(t);
        dsp_encoder_dropout_record(e, masks + s * cap, cap);
        dsp_step_record r;
        CHECK_OK(dsp_trainer_step(t, &r, &err), &err);
        got[s] = (size_t)dsp_encoder_tokens(e) * m.cfg.hidden_size;
        CHECK(got[s] <= dsp_encoder_dropout_recorded(e));
    }
    size_t common = got[0] < got[1] ? got[0] : got[1];
    CHECK_MSG(common > 1000, "only %zu dropout factors compared", common);
    CHECK_MSG(memcmp(masks, masks + cap, common * sizeof(float)) != 0, "steps 1 and 2 drop the same positions");
    if (t) dsp_encoder_dropout_record(dsp_trainer_encoder(t), NULL, 0);
    free(masks);
    dsp_trainer_free(t);
    dsp_model_free(&m);
}

/* A corpus tokenized longer than the trainer's max_len (the API allows it; the CLI tokenizes at max_len) is cut to
 * max_len tokens that still start with [CLS] and end with the sentence's [SEP], as dsp_tokenize truncates. */
static void test_truncation_keeps_sep(const dsp_token_set *ts) {
    dsp_model m = {0};
    dsp_trainer *t = small_trainer(&m, ts, 5); /* the corpus has sentences of 3 .. 12 tokens */
    dsp_err err = {{0}};
    int cut = 0;
    for (int s = 0; s < 3 && t; s++) {
        dsp_step_record r;
        CHECK_OK(dsp_trainer_step(t, &r, &err), &err);
        dsp_trainer_debug d;
        dsp_trainer_debug_view(t, &d);
        /* view 1's sequences lie one after the other; view 2 reuses their rows */
        for (int i = 0, off = 0; i < d.B / 2; off += d.seq_len[i++]) {
            int len = d.seq_len[i];
            CHECK_MSG(len >= 3 && len <= 5 && d.ids[off] == 2 && d.ids[off + len - 1] == 3,
                      "step %d, sentence %d: %d tokens from %d to %d", s + 1, i, len, d.ids[off], d.ids[off + len - 1]);
            cut += len == 5;
        }
    }
    CHECK(cut > 0);
    dsp_trainer_free(t);
    dsp_model_free(&m);
}

/* Evaluation encodes a cls_mlp model as cls: SimCSE trains through the MLP and evaluates without it (spec
 * objectives.md). The model's MLP is its random initialisation, so encoding through it would give other rows. */
static void test_eval_without_mlp(const dsp_token_set *ts) {
    dsp_model m = {0};
    small_model(&m);
    const size_t nh = (size_t)ts->count * m.cfg.hidden_size;
    float *cls = malloc(nh * sizeof(float)), *mlp = malloc(nh * sizeof(float));
    dsp_encoder *e = NULL;
    dsp_err err = {{0}};
    CHECK_OK(dsp_encoder_create(&e, &m, NULL, DSP_KERNELS_AUTO, &err), &err);
    if (e) {
        CHECK_OK(dsp_encode_sentences(e, &m, ts, DSP_POOL_CLS, cls, &err), &err);
        CHECK_OK(dsp_encode_sentences(e, &m, ts, DSP_POOL_CLS_MLP, mlp, &err), &err);
        CHECK_MSG(memcmp(cls, mlp, nh * sizeof(float)) == 0, "cls_mlp is evaluated through its MLP");
    }
    dsp_encoder_free(e);
    free(cls);
    free(mlp);
    dsp_model_free(&m);
}

int main(void) {
    test_batch_beyond_address_space();
    dsp_token_set ts = {0};
    make_corpus(&ts);
    test_lr_schedule();
    test_optimizer_steps();
    test_sampler_epochs();
    test_dropout_changes_per_step(&ts);
    test_step_profile(&ts);
    test_truncation_keeps_sep(&ts);
    test_eval_without_mlp(&ts);
    const size_t P = n_params();
    const int S = 6; /* 6 steps of 8 sentences: crosses the epoch boundary of 40 sentences */
    const dsp_kernels sets[] = {DSP_KERNELS_SCALAR, DSP_KERNELS_SIMD128, DSP_KERNELS_SIMD128_SSE2, DSP_KERNELS_AVX2,
                                DSP_KERNELS_AVX512};
    float *w_simd128 = NULL, *w_avx2 = NULL;
    for (int k = 0; k < 5; k++) {
        dsp_kernels got;
        if (dsp_kernels_resolve(sets[k], &got, NULL)) continue; /* absent on this CPU/build */
        double l1[6], l2[6], l4[6];
        float *w1 = run(&ts, 1, got, 42, S, l1, DSP_OBJ_INFONCE);
        float *w2 = run(&ts, 2, got, 42, S, l2, DSP_OBJ_INFONCE);
        float *w4 = run(&ts, 4, got, 42, S, l4, DSP_OBJ_INFONCE);
        CHECK_MSG(memcmp(w1, w2, P * sizeof(float)) == 0, "%s: 1 vs 2 threads differ", dsp_kernels_name(got));
        CHECK_MSG(memcmp(w1, w4, P * sizeof(float)) == 0, "%s: 1 vs 4 threads differ", dsp_kernels_name(got));
        CHECK(memcmp(l1, l2, sizeof l1) == 0 && memcmp(l1, l4, sizeof l1) == 0);
        /* the 128-bit set's two native encodings train to the same bits (the browser's, test_parity checks) */
        if (got == DSP_KERNELS_SIMD128) w_simd128 = w1;
        if (got == DSP_KERNELS_SIMD128_SSE2)
            CHECK_MSG(w_simd128 && memcmp(w1, w_simd128, P * sizeof(float)) == 0,
                      "simd128 in SSE2 and in AVX's encoding train to different weights");
        /* and the avx512 set (avx2's kernels, 512-bit matmuls) trains to avx2's bits */
        if (got == DSP_KERNELS_AVX2) w_avx2 = w1;
        if (got == DSP_KERNELS_AVX512)
            CHECK_MSG(w_avx2 && memcmp(w1, w_avx2, P * sizeof(float)) == 0,
                      "avx512 and avx2 train to different weights");
        if (w1 != w_simd128 && w1 != w_avx2) free(w1);
        free(w2); free(w4);
    }
    free(w_simd128);
    free(w_avx2);
    /* same seed → same run; another seed → another run */
    double a[6], b[6], c[6];
    float *wa = run(&ts, 2, DSP_KERNELS_AUTO, 42, S, a, DSP_OBJ_AU);
    float *wb = run(&ts, 2, DSP_KERNELS_AUTO, 42, S, b, DSP_OBJ_AU);
    float *wc = run(&ts, 2, DSP_KERNELS_AUTO, 43, S, c, DSP_OBJ_AU);
    CHECK(memcmp(wa, wb, P * sizeof(float)) == 0 && memcmp(a, b, sizeof a) == 0);
    CHECK(memcmp(wa, wc, P * sizeof(float)) != 0 && memcmp(a, c, sizeof a) != 0);
    free(wa); free(wb); free(wc);

    /* The norm over listed rows equals the dense norm bit for bit, for rows that straddle its 4096-float blocks
     * (row_len 100), a region that ends inside a block, and no rows at all. */
    {
        const size_t rl = 100, region_rows = 200, n = region_rows * rl + 5000;
        float *g = calloc(n, sizeof(float));
        const int rows[] = {0, 40, 41, 81, 82, 163, 199};
        const int nr = (int)(sizeof rows / sizeof rows[0]);
        unsigned long long seed = 11;
        for (int i = 0; i < nr; i++)
            for (size_t j = 0; j < rl; j++) g[(size_t)rows[i] * rl + j] = dsp_test_rand(&seed);
        for (size_t j = region_rows * rl; j < n; j++) g[j] = dsp_test_rand(&seed);
        dsp_pool *pool = dsp_pool_create(2);
        double dense = dsp_grad_norm_pool(pool, g, n), sparse = dsp_grad_norm_rows(pool, g, n, rl, region_rows, rows, nr);
        CHECK_MSG(memcmp(&dense, &sparse, sizeof dense) == 0, "norm over rows %.17g, dense %.17g", sparse, dense);
        memset(g, 0, region_rows * rl * sizeof(float));
        dense = dsp_grad_norm_pool(pool, g, n);
        sparse = dsp_grad_norm_rows(pool, g, n, rl, region_rows, NULL, 0);
        CHECK(memcmp(&dense, &sparse, sizeof dense) == 0);
        dsp_pool_free(pool);
        free(g);
    }
    /* The norm of a vector long enough to split into several tasks (64 blocks of 4096 each) is the same bits at 1,
     * 2 and 4 threads, and equals a serial sum of the block sums in order (the toy model above is one task). */
    {
        const size_t n = 1000003;
        float *g = malloc(n * sizeof(float));
        unsigned long long seed = 5;
        for (size_t i = 0; i < n; i++) g[i] = dsp_test_rand(&seed);
        double norms[3], serial = 0;
        for (int k = 0; k < 3; k++) {
            dsp_pool *pool = dsp_pool_create(1 << k);
            norms[k] = dsp_grad_norm_pool(pool, g, n);
            dsp_pool_free(pool);
        }
        for (size_t lo = 0; lo < n; lo += 4096) {
            double s = 0;
            for (size_t i = lo; i < n && i < lo + 4096; i++) s += (double)g[i] * g[i];
            serial += s;
        }
        serial = sqrt(serial);
        CHECK_MSG(memcmp(&norms[0], &norms[1], sizeof serial) == 0 && memcmp(&norms[0], &norms[2], sizeof serial) == 0,
                  "norm at 1/2/4 threads: %.17g %.17g %.17g", norms[0], norms[1], norms[2]);
        CHECK_MSG(memcmp(&norms[0], &serial, sizeof serial) == 0, "norm %.17g, blocks summed in order %.17g", norms[0],
                  serial);
        free(g);
    }
    /* In training: after every step, word-embedding rows of tokens outside the batch are zero (the last batch's
     * rows were cleared), and the reported norm is the dense one. */
    {
        dsp_model m = {0};
        small_model(&m);
        dsp_train_config cfg = dsp_train_default();
        cfg.batch_size = 8;
        cfg.max_len = 12;
        dsp_trainer *t = NULL;
        dsp_err err = {{0}};
        CHECK_OK(dsp_trainer_create(&t, &m, &ts, &cfg, &err), &err);
        const size_t H = (size_t)m.cfg.hidden_size;
        for (int s = 0; s < S && t; s++) {
            dsp_step_record r;
            CHECK_OK(dsp_trainer_step(t, &r, &err), &err);
            dsp_trainer_debug d;
            dsp_trainer_debug_view(t, &d);
            char in_batch[V] = {0};
            for (int i = 0; i < d.T; i++) in_batch[d.ids[i]] = 1;
            size_t stale = 0;
            for (int id = 0; id < V; id++)
                for (size_t j = 0; j < H && !in_batch[id]; j++) stale += d.grads[(size_t)id * H + j] != 0.0f;
            CHECK_MSG(stale == 0, "step %d: %zu gradient entries of rows outside the batch are not zero", s + 1, stale);
            double dense = dsp_grad_norm(d.grads, m.layout.total);
            CHECK_MSG(memcmp(&dense, &r.grad_norm, sizeof dense) == 0, "step %d: norm %.17g, dense %.17g", s + 1,
                      r.grad_norm, dense);
        }
        dsp_trainer_free(t);
        dsp_model_free(&m);
    }

    /* A huge learning rate drives the weights to overflow: the failing step must not touch them. */
    {
        dsp_model m = {0};
        small_model(&m);
        dsp_train_config cfg = dsp_train_default();
        cfg.batch_size = 8;
        cfg.max_len = 12;
        cfg.optim.lr = 1e37f;
        cfg.optim.total_steps = 0;
        dsp_trainer *t = NULL;
        dsp_err err = {{0}};
        CHECK_OK(dsp_trainer_create(&t, &m, &ts, &cfg, &err), &err);
        float *before = malloc(m.layout.total * sizeof(float));
        int failed_at = -1;
        for (int s = 0; s < 20 && t; s++) {
            memcpy(before, m.params, m.layout.total * sizeof(float));
            dsp_step_record r;
            if (dsp_trainer_step(t, &r, &err)) { failed_at = s; break; }
        }
        CHECK_MSG(failed_at >= 0, "a learning rate of 1e37 never produced a non-finite loss or gradient");
        if (failed_at >= 0) {
            CHECK_MSG(strstr(err.msg, "unchanged") != NULL, "message: %s", err.msg);
            CHECK(memcmp(before, m.params, m.layout.total * sizeof(float)) == 0);
            CHECK(dsp_trainer_steps_done(t) == failed_at);
        }
        free(before);
        dsp_trainer_free(t);
        dsp_model_free(&m);
    }

    /* impossible configurations */
    {
        dsp_model m = {0};
        small_model(&m);
        dsp_err err;
        dsp_trainer *t = NULL;
        dsp_train_config cfg = dsp_train_default();
        cfg.batch_size = 1;
        CHECK_FAILS(dsp_trainer_create(&t, &m, &ts, &cfg, &err), &err, "batch size");
        cfg = dsp_train_default();
        cfg.batch_size = 41;
        cfg.max_len = 12;
        CHECK_FAILS(dsp_trainer_create(&t, &m, &ts, &cfg, &err), &err, "fewer than the batch size");
        cfg.batch_size = 8;
        cfg.max_len = 17; /* the model has 16 positions: refused before a long sentence could come up */
        CHECK_FAILS(dsp_trainer_create(&t, &m, &ts, &cfg, &err), &err,
                    "max length 17 is more than the model's max_position_embeddings 16");
        cfg = dsp_train_default();
        cfg.batch_size = 8;
        cfg.max_len = 12;
        cfg.optim.lr = NAN;
        CHECK_FAILS(dsp_trainer_create(&t, &m, &ts, &cfg, &err), &err, "learning rate");
        cfg.optim = dsp_optim_default();
        cfg.objective.tau = 0;
        CHECK_FAILS(dsp_trainer_create(&t, &m, &ts, &cfg, &err), &err, "tau");
        dsp_model_free(&m);
    }
    free(ts.ids); free(ts.offset); free(ts.len);
    return dsp_test_end("test_training");
}
