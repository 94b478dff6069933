/* mlm.c — masked-language-model pre-training (see mlm.h).
 * Masking follows BERT: of the non-special tokens, mask_prob are chosen; of those 80% become [MASK], 10% a random
 * word, 10% stay. The choice is a function of (seed, step, token position), like every draw in the engine. */
#include "mlm.h"

#include "encoder_internal.h"
#include "sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct dsp_mlm {
    dsp_mlm_config cfg;
    dsp_model *model;
    const dsp_token_set *corpus;
    dsp_sampler sampler;
    dsp_pool *pool;
    dsp_encoder *enc;
    dsp_optimizer opt, opt_bias;
    float *grads, *bias, *dbias;
    uint8_t *trainable;
    int *ids, *seq_off, *seq_len, *rows, *labels;
    float *hid, *dhid_m, *logits, *dhidden;
    int steps;
    int special[5], n_special; /* the ids of [PAD] [UNK] [CLS] [SEP] [MASK] present, ascending, distinct */
};

/* Special tokens are never masked, nor drawn as a random replacement. They are tested by id, not by position:
 * Google's vocab has them at 0 and 100-103, another vocab may put them last. */
static int is_special(const dsp_mlm *t, int id) {
    for (int k = 0; k < t->n_special; k++)
        if (t->special[k] == id) return 1;
    return 0;
}

/* The r-th non-special id (r < V - n_special): r, moved past each special id at or below it. */
static int nth_word(const dsp_mlm *t, int r) {
    for (int k = 0; k < t->n_special; k++)
        if (t->special[k] <= r) r++;
    return r;
}

dsp_mlm_config dsp_mlm_default(void) {
    dsp_mlm_config c;
    memset(&c, 0, sizeof c);
    c.batch_size = 64;
    c.max_len = 32;
    c.mask_prob = 0.15f;
    c.seed = 1;
    c.threads = 1;
    c.kernels = DSP_KERNELS_AUTO;
    c.optim = dsp_optim_default();
    c.optim.lr = 5e-4f;
    c.optim.weight_decay = 0.01f;
    return c;
}

void dsp_mlm_free(dsp_mlm *t) {
    if (!t) return;
    dsp_encoder_free(t->enc);
    dsp_optimizer_free(&t->opt);
    dsp_optimizer_free(&t->opt_bias);
    dsp_pool_free(t->pool);
    dsp_sampler_free(&t->sampler);
    free(t->grads); free(t->bias); free(t->dbias); free(t->trainable);
    free(t->ids); free(t->seq_off); free(t->seq_len); free(t->rows); free(t->labels);
    free(t->hid); free(t->dhid_m); free(t->logits); free(t->dhidden);
    free(t);
}

int dsp_mlm_validate(const dsp_mlm_config *cfg, dsp_err *err) {
    if (cfg->batch_size < 1 || cfg->batch_size > 4096) return dsp_fail(err, "batch size %d must be in 1 .. 4096", cfg->batch_size);
    if (cfg->max_len < 3) return dsp_fail(err, "max length %d must be >= 3", cfg->max_len);
    /* 1 is allowed: every non-special token is then predicted, and BERT's 80/10/10 split still leaves a tenth of them
     * in place as context (the draw is in [0, 1), so p = 1 chooses them all); only 0 would predict nothing */
    if (!(cfg->mask_prob > 0 && cfg->mask_prob <= 1))
        return dsp_fail(err, "mask probability %g must be in (0, 1]", cfg->mask_prob);
    if (cfg->threads < 1 || cfg->threads > 256) return dsp_fail(err, "threads %d must be in 1 .. 256", cfg->threads);
    return dsp_optim_validate(&cfg->optim, err);
}

int dsp_mlm_create(dsp_mlm **out, dsp_model *m, const dsp_token_set *corpus, const dsp_mlm_config *cfg, dsp_err *err) {
    *out = NULL;
    if (dsp_mlm_validate(cfg, err) || dsp_max_len_validate(&m->cfg, cfg->max_len, err)) return -1;
    if (corpus->count < cfg->batch_size)
        return dsp_fail(err, "the corpus has %d sentence%s, fewer than the batch size %d", corpus->count,
                        corpus->count == 1 ? "" : "s", cfg->batch_size);
    dsp_special_ids sp = dsp_vocab_special(m->vocab);
    if (sp.mask < 0) return dsp_fail(err, "the vocabulary has no [MASK] token: MLM pre-training needs one");
    dsp_mlm *t = calloc(1, sizeof *t);
    if (!t) return dsp_fail(err, "out of memory");
    t->cfg = *cfg;
    t->model = m;
    t->corpus = corpus;
    const size_t P = m->layout.total, V = (size_t)m->cfg.vocab_size, H = (size_t)m->cfg.hidden_size;
    const size_t rows = (size_t)cfg->batch_size * (size_t)cfg->max_len;
    const int ids[5] = {sp.pad, sp.unk, sp.cls, sp.sep, sp.mask};
    for (int k = 0; k < 5; k++) { /* insertion into the ascending list, skipping absent (< 0) and repeated ids */
        if (ids[k] < 0 || is_special(t, ids[k])) continue;
        int j = t->n_special++;
        for (; j > 0 && t->special[j - 1] > ids[k]; j--) t->special[j] = t->special[j - 1];
        t->special[j] = ids[k];
    }
    if ((size_t)t->n_special >= V) {
        free(t);
        return dsp_fail(err, "the vocabulary has no token besides the special ones: nothing to mask");
    }
    t->pool = dsp_pool_create(cfg->threads);
    t->grads = malloc(P * sizeof(float));
    t->bias = calloc(V, sizeof(float));
    t->dbias = malloc(V * sizeof(float));
    t->trainable = malloc(P);
    t->ids = malloc(rows * sizeof(int));
    t->seq_off = malloc((size_t)cfg->batch_size * sizeof(int));
    t->seq_len = malloc((size_t)cfg->batch_size * sizeof(int));
    t->rows = malloc(rows * sizeof(int));
    t->labels = malloc(rows * sizeof(int));
    t->hid = malloc(rows * H * sizeof(float));
    t->dhid_m = malloc(rows * H * sizeof(float));
    t->logits = malloc(rows * V * sizeof(float));
    t->dhidden = malloc(rows * H * sizeof(float));
    int sampler_failed = dsp_sampler_init(&t->sampler, corpus->count, cfg->seed);
    if (sampler_failed || !t->pool || !t->grads || !t->bias || !t->dbias || !t->trainable || !t->ids || !t->seq_off ||
        !t->seq_len || !t->rows || !t->labels || !t->hid || !t->dhid_m || !t->logits || !t->dhidden) {
        dsp_mlm_free(t);
        return dsp_fail(err, "out of memory creating the MLM trainer");
    }
    if (dsp_optimizer_init(&t->opt, &cfg->optim, P, err) || dsp_optimizer_init(&t->opt_bias, &cfg->optim, V, err) ||
        dsp_encoder_create(&t->enc, m, t->pool, cfg->kernels, err)) {
        dsp_mlm_free(t);
        return -1;
    }
    t->opt.pool = t->pool;
    t->opt.kernels = t->opt_bias.kernels = dsp_encoder_kctx(t->enc)->set;
    memset(t->trainable, 1, P);
    for (int i = 0; i < m->layout.count; i++) {
        const dsp_tensor_info *ti = &m->layout.tensors[i];
        if (strncmp(ti->name, "pooler.", 7) == 0 || strncmp(ti->name, "mlp.", 4) == 0)
            memset(t->trainable + ti->offset, 0, ti->numel);
    }
    *out = t;
    return 0;
}

/* Builds the batch and chooses the masked positions; returns their count. */
static int mask_batch(dsp_mlm *t, dsp_batch *b, int *epoch) {
    const int N = t->cfg.batch_size, V = t->model->cfg.vocab_size;
    const int mask_id = dsp_vocab_special(t->model->vocab).mask;
    const dsp_token_set *ts = t->corpus;
    const uint64_t stream = 0x6d6c6dULL /* "mlm" */ + ((uint64_t)t->steps << 20);
    int off = 0, M = 0;
    for (int i = 0; i < N; i++) {
        int s = dsp_sampler_at(&t->sampler, (long long)t->steps * N + i, i == 0 ? epoch : NULL);
        int len = ts->len[s] < t->cfg.max_len ? ts->len[s] : t->cfg.max_len;
        memcpy(t->ids + off, ts->ids + ts->offset[s], (size_t)len * sizeof(int));
        for (int p = 0; p < len; p++) {
            int id = t->ids[off + p];
            uint64_t idx = (uint64_t)(off + p);
            if (is_special(t, id) || dsp_uniform(t->cfg.seed, stream, 3 * idx) >= t->cfg.mask_prob) continue;
            t->rows[M] = off + p;
            t->labels[M] = id;
            M++;
            float how = dsp_uniform(t->cfg.seed, stream, 3 * idx + 1);
            if (how < 0.8f) t->ids[off + p] = mask_id;
            else if (how < 0.9f)
                t->ids[off + p] =
                    nth_word(t, (int)(dsp_hash64(t->cfg.seed, stream, 3 * idx + 2) % (uint64_t)(V - t->n_special)));
        }
        t->seq_off[i] = off;
        t->seq_len[i] = len;
        off += len;
    }
    b->ids = t->ids;
    b->seq_off = t->seq_off;
    b->seq_len = t->seq_len;
    b->B = N;
    b->T = off;
    return M;
}

int dsp_mlm_step(dsp_mlm *t, dsp_mlm_record *rec, dsp_err *err) {
    dsp_model *m = t->model;
    const int H = m->cfg.hidden_size, V = m->cfg.vocab_size;
    const size_t P = m->layout.total;
    memset(rec, 0, sizeof *rec);
    dsp_batch b;
    int M = mask_batch(t, &b, &rec->epoch);
    rec->tokens = b.T;
    rec->masked = M;
    if (M == 0) { /* a batch of very short sentences drew no mask: nothing to learn from, nothing to change */
        t->steps++;
        rec->step = t->steps;
        /* no token to score: a loss of 0 would read as a perfect prediction and pull an average down */
        rec->loss = rec->accuracy = rec->grad_norm = NAN;
        return 0;
    }
    if (dsp_encoder_forward(t->enc, m->params, &b, DSP_POOL_CLS, 1, t->cfg.seed, (uint64_t)t->steps, NULL, err))
        return -1;
    const float *hidden = dsp_encoder_hidden(t->enc);
    for (int r = 0; r < M; r++) memcpy(t->hid + (size_t)r * H, hidden + (size_t)t->rows[r] * H, (size_t)H * sizeof(float));
    dsp_param_view p, g;
    dsp_param_view_make(&p, &m->layout, &m->cfg, m->params);
    dsp_param_view_make(&g, &m->layout, &m->cfg, t->grads);
    dsp_kctx *k = dsp_encoder_kctx(t->enc);
    /* logits[M, V] = hid · Eᵀ + bias, then softmax in place; cross-entropy from the probabilities */
    dsp_matmul_forward(k, t->logits, t->hid, p.word_emb, t->bias, M, H, V);
    dsp_softmax_forward(k, t->logits, t->logits, M, V);
    double loss = 0;
    int correct = 0;
    for (int r = 0; r < M; r++) {
        float *row = t->logits + (size_t)r * V;
        int best = 0;
        for (int v = 1; v < V; v++)
            if (row[v] > row[best]) best = v;
        correct += best == t->labels[r];
        double pr = row[t->labels[r]];
        loss -= log(pr > 1e-30 ? pr : 1e-30);
        /* ∂(mean CE)/∂logits = (p − onehot)/M, written over the probabilities */
        row[t->labels[r]] -= 1.0f;
        for (int v = 0; v < V; v++) row[v] /= (float)M;
    }
    loss /= M;
    if (!isfinite(loss))
        return dsp_fail(err, "step %d: the MLM loss is %g; stopping before the update, the model is unchanged",
                        t->steps + 1, loss);
    memset(t->grads, 0, P * sizeof(float));
    memset(t->dbias, 0, (size_t)V * sizeof(float));
    memset(t->dhid_m, 0, (size_t)M * H * sizeof(float));
    dsp_matmul_backward(k, t->dhid_m, g.word_emb, t->dbias, t->logits, t->hid, p.word_emb, M, H, V);
    memset(t->dhidden, 0, (size_t)b.T * H * sizeof(float));
    for (int r = 0; r < M; r++) {
        float *d = t->dhidden + (size_t)t->rows[r] * H;
        const float *s = t->dhid_m + (size_t)r * H;
        for (int h = 0; h < H; h++) d[h] += s[h];
    }
    if (dsp_encoder_backward_hidden(t->enc, m->params, t->dhidden, t->grads, err)) return -1;
    /* one global norm over the model's gradients and the decoder bias, so clipping treats them as one vector */
    double n1 = dsp_grad_norm_pool(t->pool, t->grads, P), n2 = dsp_grad_norm(t->dbias, (size_t)V);
    double gnorm = sqrt(n1 * n1 + n2 * n2);
    if (!isfinite(gnorm))
        return dsp_fail(err, "step %d: the gradient norm is %g; stopping before the update, the model is unchanged",
                        t->steps + 1, gnorm);
    rec->lr = dsp_optimizer_step(&t->opt, m->params, t->grads, gnorm, t->trainable);
    dsp_optimizer_step(&t->opt_bias, t->bias, t->dbias, gnorm, NULL);
    t->steps++;
    rec->step = t->steps;
    rec->loss = loss;
    rec->accuracy = (double)correct / M;
    rec->grad_norm = gnorm;
    return 0;
}
