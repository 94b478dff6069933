/* test_encoder_grads.c — the whole encoder's backward against central finite differences, end to end:
 * embeddings, every layer, dropout (fixed masks), ragged attention, and each pooler.
 *
 * Loss L = Σ pooled ⊙ R for a fixed random R, so ∂L/∂pooled = R. The encoder runs in float32; the loss is summed
 * in double. With ε = 1e-2 on weights of scale ~0.1–1, the central difference's truncation error is O(ε²·L''') ≈ 1e-4
 * and its rounding error is about (float32 ulp of the pooled sums ≈ 1e-7 · Σ|pooled·R| ≈ 1e-5) / ε ≈ 1e-3, so we
 * accept |analytic − numeric| ≤ 3e-3 + 3e-2·|numeric|. A wrong backward (a missing term, a transposed index) is off
 * by O(|gradient|), far outside this band; the test also requires most checked entries to have a non-trivial gradient
 * so that it cannot pass on zeros. */
#include "dissipate.h"
#include "testutil.h"

#define V 40
static const char *VOCAB_HEAD = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";

static dsp_vocab *make_vocab(void) {
    char text[2048];
    size_t n = (size_t)snprintf(text, sizeof text, "%s", VOCAB_HEAD);
    for (int i = 5; i < V; i++) n += (size_t)snprintf(text + n, sizeof text - n, "w%d\n", i);
    dsp_vocab *v = NULL;
    dsp_err err;
    if (dsp_vocab_from_text(&v, text, n, &err)) {
        fprintf(stderr, "vocab: %s\n", err.msg);
        exit(1);
    }
    return v;
}

static double loss_of(dsp_encoder *e, const dsp_model *m, const dsp_batch *b, dsp_pooler pooler, float *pooled,
                      const float *R, int B, int H) {
    dsp_err err;
    if (dsp_encoder_forward(e, m->params, b, pooler, 1, 7, 3, pooled, &err)) {
        fprintf(stderr, "forward: %s\n", err.msg);
        exit(1);
    }
    double L = 0;
    for (int i = 0; i < B * H; i++) L += (double)pooled[i] * R[i];
    return L;
}

static void check_pooler(dsp_pooler pooler, dsp_kernels kernels) {
    dsp_config cfg = dsp_config_tiny(V);
    cfg.hidden_size = 8;
    cfg.num_attention_heads = 2;
    cfg.intermediate_size = 12;
    cfg.max_position_embeddings = 8;
    cfg.hidden_dropout_prob = 0.2f;
    cfg.attention_probs_dropout_prob = 0.2f;
    dsp_model m = {0};
    dsp_err err = {{0}};
    CHECK_OK(dsp_model_init(&m, &cfg, make_vocab(), 11, &err), &err);
    /* BERT init (std 0.02) makes the layers nearly linear; larger weights exercise GELU, softmax and LayerNorm. */
    unsigned long long s = 99;
    for (size_t i = 0; i < m.layout.total; i++) m.params[i] += 0.3f * dsp_test_rand(&s);

    /* ragged: lengths 1, 3, 5 (a lone [CLS]-only row too) */
    int ids[] = {2, 2, 7, 3, 2, 9, 10, 11, 3};
    int off[] = {0, 1, 4}, len[] = {1, 3, 5};
    dsp_batch b = {ids, off, len, 3, 9};
    const int B = 3, H = cfg.hidden_size;
    float R[3 * 8], pooled[3 * 8];
    for (int i = 0; i < B * H; i++) R[i] = dsp_test_rand(&s);

    dsp_pool *pool = dsp_pool_create(2);
    dsp_encoder *e = NULL;
    CHECK_OK(dsp_encoder_create(&e, &m, pool, kernels, &err), &err);
    float *grads = calloc(m.layout.total, sizeof(float));
    loss_of(e, &m, &b, pooler, pooled, R, B, H);
    CHECK_OK(dsp_encoder_backward(e, m.params, R, grads, &err), &err);

    int checked = 0, nontrivial = 0;
    for (int ti = 0; ti < m.layout.count; ti++) {
        const dsp_tensor_info *t = &m.layout.tensors[ti];
        if (strncmp(t->name, "pooler.", 7) == 0) continue;                       /* never used: NSP head */
        if (strncmp(t->name, "mlp.", 4) == 0 && pooler != DSP_POOL_CLS_MLP) continue;
        /* word rows of unused ids have zero gradient: probe the ids present; positions < 5 */
        int probes = 0, tensor_nontrivial = 0;
        for (size_t k = 0; k < t->numel && probes < 6; k += 1 + t->numel / 7) {
            size_t idx = t->offset + k;
            if (strcmp(t->name, "embeddings.word_embeddings.weight") == 0) idx = t->offset + (size_t)ids[probes + 3] * H + (k % H);
            float keep = m.params[idx];
            const float eps = 1e-2f;
            m.params[idx] = keep + eps;
            double lp = loss_of(e, &m, &b, pooler, pooled, R, B, H);
            m.params[idx] = keep - eps;
            double lm = loss_of(e, &m, &b, pooler, pooled, R, B, H);
            m.params[idx] = keep;
            double num = (lp - lm) / (2.0 * eps);
            CHECK_MSG(fabs(grads[idx] - num) <= 3e-3 + 3e-2 * fabs(num), "%s[%zu] (%s, %s): analytic %.6g numeric %.6g",
                      t->name, idx - t->offset, dsp_pooler_name(pooler), dsp_kernels_name(kernels), grads[idx], num);
            checked++;
            if (fabs(num) > 1e-3) nontrivial++, tensor_nontrivial++;
            probes++;
        }
        /* A tensor whose probes all see a zero gradient would pass the comparison above without testing anything.
         * Except the key bias: it adds q·b to every score of a query's row, which the softmax cancels, so its true
         * gradient is zero (and the comparison above holds the analytic one to that). */
        int zero_by_design = strstr(t->name, "attention.self.key.bias") != NULL;
        CHECK_MSG(tensor_nontrivial > 0 || zero_by_design, "%s (%s, %s): none of its %d probes has a gradient above 1e-3", t->name,
                  dsp_pooler_name(pooler), dsp_kernels_name(kernels), probes);
    }
    CHECK_MSG(nontrivial > checked / 2, "only %d of %d probes had a gradient above 1e-3", nontrivial, checked);
    free(grads);
    dsp_encoder_free(e);
    dsp_pool_free(pool);
    dsp_model_free(&m);
}

int main(void) {
    const dsp_pooler poolers[] = {DSP_POOL_CLS, DSP_POOL_CLS_MLP, DSP_POOL_MEAN};
    for (int p = 0; p < 3; p++) {
        check_pooler(poolers[p], DSP_KERNELS_SCALAR);
        check_pooler(poolers[p], DSP_KERNELS_SIMD128);
    }
    return dsp_test_end("test_encoder_grads");
}
