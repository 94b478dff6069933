/* trainer.c — one SimCSE step: two dropout views of N sentences → pooled z, z' → normalise → objective →
 * backward through the normalisation and the encoder → clip → AdamW/SGD. And STS evaluation. */
#include "trainer.h"

#include "encoder_internal.h"
#include "profile.h"
#include "metrics_sts.h"
#include "sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

dsp_train_config dsp_train_default(void) {
    dsp_train_config c;
    memset(&c, 0, sizeof c);
    c.objective = dsp_objective_default(DSP_OBJ_INFONCE);
    c.optim = dsp_optim_default();
    c.pooler = DSP_POOL_MEAN;
    c.batch_size = 64;
    c.max_len = 32;
    c.seed = 42;
    c.threads = 1;
    c.kernels = DSP_KERNELS_AUTO;
    return c;
}

int dsp_train_validate(const dsp_train_config *c, dsp_err *err) {
    if (c->batch_size < 2) return dsp_fail(err, "batch size %d is too small: a contrastive batch needs >= 2 sentences",
                                           c->batch_size);
    if (c->batch_size > 4096) return dsp_fail(err, "batch size %d is too large (at most 4096)", c->batch_size);
    if (c->max_len < 3) return dsp_fail(err, "max length %d is too small (>= 3: [CLS], a token, [SEP])", c->max_len);
    if (c->threads < 1 || c->threads > 256) return dsp_fail(err, "threads %d must be in 1 .. 256", c->threads);
    if (dsp_objective_validate(&c->objective, err)) return -1;
    if (dsp_optim_validate(&c->optim, err)) return -1;
    return 0;
}

struct dsp_trainer {
    dsp_train_config cfg;
    dsp_model *model;
    const dsp_token_set *corpus;
    dsp_pool *pool;
    dsp_encoder *enc;
    dsp_optimizer opt;
    float *grads;
    uint8_t *trainable;
    dsp_sampler sampler;
    int *ids, *seq_off, *seq_len;
    float *pooled, *dpooled;
    double *z, *h, *norms, *dh, *dz;
    int steps;
    int last_T;
    double last_grad_norm;
    /* The word-embedding gradient (the first tensor of the layout, [vocab, H]) is zero outside the rows of the
     * last backward's tokens: grad_rows, sorted. The next step zeroes those rows and the dense rest instead of
     * the whole table (12 MB for the tiny model), and the norm skips the zeros. */
    int *grad_rows, n_grad_rows;
    int grads_zeroed_once;
    uint8_t *row_seen; /* [vocab] scratch */
};

static void mark_trainable(dsp_trainer *t) {
    const dsp_layout *L = &t->model->layout;
    memset(t->trainable, 1, L->total);
    for (int i = 0; i < L->count; i++) {
        const char *n = L->tensors[i].name;
        int frozen = strncmp(n, "pooler.", 7) == 0 ||
                     (strncmp(n, "mlp.", 4) == 0 && t->cfg.pooler != DSP_POOL_CLS_MLP);
        if (frozen) memset(t->trainable + L->tensors[i].offset, 0, L->tensors[i].numel);
    }
}

int dsp_trainer_create(dsp_trainer **out, dsp_model *model, const dsp_token_set *corpus, const dsp_train_config *cfg,
                       dsp_err *err) {
    *out = NULL;
    if (dsp_train_validate(cfg, err)) return -1;
    if (dsp_max_len_validate(&model->cfg, cfg->max_len, err)) return -1;
    if (corpus->count < cfg->batch_size)
        return dsp_fail(err, "the corpus has %d sentence%s, fewer than the batch size %d", corpus->count,
                        corpus->count == 1 ? "" : "s", cfg->batch_size);
    dsp_trainer *t = calloc(1, sizeof *t);
    if (!t) return dsp_fail(err, "out of memory");
    t->cfg = *cfg;
    t->model = model;
    t->corpus = corpus;
    const size_t N = (size_t)cfg->batch_size, H = (size_t)model->cfg.hidden_size, P = model->layout.total;
    t->pool = dsp_pool_create(cfg->threads);
    t->grads = dsp_alloc_lines(P); /* parallel tasks write neighbouring gradient tensors */
    t->trainable = malloc(P);
    t->ids = malloc(2 * N * (size_t)cfg->max_len * sizeof(int));
    t->seq_off = malloc(2 * N * sizeof(int));
    t->seq_len = malloc(2 * N * sizeof(int));
    t->pooled = malloc(2 * N * H * sizeof(float));
    t->dpooled = malloc(2 * N * H * sizeof(float));
    t->z = malloc(2 * N * H * sizeof(double));
    t->h = malloc(2 * N * H * sizeof(double));
    t->norms = malloc(2 * N * sizeof(double));
    t->dh = malloc(2 * N * H * sizeof(double));
    t->dz = malloc(2 * N * H * sizeof(double));
    t->grad_rows = malloc(2 * N * (size_t)cfg->max_len * sizeof(int));
    t->row_seen = calloc((size_t)model->cfg.vocab_size, 1);
    int sampler_failed = dsp_sampler_init(&t->sampler, corpus->count, cfg->seed);
    if (sampler_failed || !t->pool || !t->grads || !t->trainable || !t->ids || !t->seq_off || !t->seq_len || !t->pooled ||
        !t->dpooled || !t->z || !t->h || !t->norms || !t->dh || !t->dz || !t->grad_rows || !t->row_seen) {
        dsp_trainer_free(t);
        return dsp_fail(err, "out of memory creating the trainer");
    }
    if (dsp_optimizer_init(&t->opt, &cfg->optim, P, err) ||
        dsp_encoder_create(&t->enc, model, t->pool, cfg->kernels, err)) {
        dsp_trainer_free(t);
        return -1;
    }
    t->opt.pool = t->pool;
    t->opt.kernels = dsp_encoder_kctx(t->enc)->set;
    mark_trainable(t);
    *out = t;
    return 0;
}

void dsp_trainer_free(dsp_trainer *t) {
    if (!t) return;
    dsp_encoder_free(t->enc);
    dsp_optimizer_free(&t->opt);
    dsp_pool_free(t->pool);
    dsp_sampler_free(&t->sampler);
    free(t->grads); free(t->trainable); free(t->ids); free(t->seq_off); free(t->seq_len);
    free(t->pooled); free(t->dpooled); free(t->z); free(t->h); free(t->norms); free(t->dh); free(t->dz);
    free(t->grad_rows); free(t->row_seen);
    free(t);
}

int dsp_trainer_steps_done(const dsp_trainer *t) { return t->steps; }

void dsp_trainer_set_profile(dsp_trainer *t, struct dsp_prof *prof) { dsp_encoder_kctx(t->enc)->prof = prof; }
dsp_encoder *dsp_trainer_encoder(dsp_trainer *t) { return t->enc; }
const dsp_train_config *dsp_trainer_config(const dsp_trainer *t) { return &t->cfg; }

/* Sentences for step s are positions s·N .. s·N+N−1 of the endless sequence of shuffled epochs. Sequence i is
 * view 1 of sentence i, sequence N+i view 2 (the same tokens; dropout makes them differ). */
static int assemble_batch(dsp_trainer *t, dsp_batch *b, int *epoch_out) {
    const int N = t->cfg.batch_size;
    const dsp_token_set *ts = t->corpus;
    int off = 0;
    for (int i = 0; i < N; i++) {
        int epoch;
        int s = dsp_sampler_at(&t->sampler, (long long)t->steps * N + i, &epoch);
        if (i == 0) *epoch_out = epoch;
        int len = ts->len[s] < t->cfg.max_len ? ts->len[s] : t->cfg.max_len;
        memcpy(t->ids + off, ts->ids + ts->offset[s], (size_t)len * sizeof(int));
        if (len < ts->len[s]) t->ids[off + len - 1] = ts->ids[ts->offset[s] + ts->len[s] - 1]; /* keep [SEP] */
        t->seq_off[i] = off;
        t->seq_len[i] = len;
        off += len;
    }
    for (int i = 0; i < N; i++) {
        t->seq_off[N + i] = t->seq_off[i];
        t->seq_len[N + i] = t->seq_len[i];
    }
    b->ids = t->ids;
    b->seq_off = t->seq_off;
    b->seq_len = t->seq_len;
    b->B = 2 * N;
    b->T = off;
    t->last_T = off;
    return 2 * off;
}

/* Zeroes the gradients for a backward of the current batch: all of them the first time, afterwards the last
 * batch's word-embedding rows and everything past the table; then lists this batch's rows (the ones its
 * backward writes) for the next step and for the norm. */
static void zero_grads(dsp_trainer *t) {
    const size_t H = (size_t)t->model->cfg.hidden_size, V = (size_t)t->model->cfg.vocab_size;
    const size_t P = t->model->layout.total, VH = V * H;
    dsp_kctx *k = dsp_encoder_kctx(t->enc);
    if (!t->grads_zeroed_once) {
        dsp_vec_zero(k, t->grads, P);
        t->grads_zeroed_once = 1;
    } else {
        for (int i = 0; i < t->n_grad_rows; i++) memset(t->grads + (size_t)t->grad_rows[i] * H, 0, H * sizeof(float));
        dsp_vec_zero(k, t->grads + VH, P - VH);
    }
    for (int i = 0; i < t->last_T; i++) t->row_seen[t->ids[i]] = 1;
    int n = 0;
    for (size_t id = 0; id < V; id++) /* in increasing order, as the norm wants them */
        if (t->row_seen[id]) {
            t->row_seen[id] = 0;
            t->grad_rows[n++] = (int)id;
        }
    t->n_grad_rows = n;
}

static int all_finite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

int dsp_trainer_step(dsp_trainer *t, dsp_step_record *rec, dsp_err *err) {
    const int N = t->cfg.batch_size, H = t->model->cfg.hidden_size;
    const size_t NH = (size_t)N * H, P = t->model->layout.total;
    memset(rec, 0, sizeof *rec);
    dsp_prof *prof = dsp_encoder_kctx(t->enc)->prof;
    dsp_batch b;
    int epoch = 0;
    dsp_prof_begin(prof);
    rec->tokens = assemble_batch(t, &b, &epoch);
    dsp_prof_end(prof, "batch");
    rec->epoch = epoch;
    if (dsp_encoder_forward(t->enc, t->model->params, &b, t->cfg.pooler, 1, t->cfg.seed, (uint64_t)t->steps, t->pooled,
                            err))
        return -1;
    if (!all_finite(t->pooled, 2 * NH))
        return dsp_fail(err, "step %d: the encoder produced a non-finite embedding (NaN or Inf); stopping before the "
                        "update, the model is unchanged", t->steps + 1);
    dsp_prof_begin(prof); /* the objective in double, from the pooled vectors to their gradient: two spans */
    for (size_t i = 0; i < 2 * NH; i++) t->z[i] = t->pooled[i];
    dsp_normalize_forward(t->z, t->h, t->norms, 2 * N, H);
    dsp_objective_diag diag;
    int bad = dsp_objective_eval(&t->cfg.objective, t->h, t->h + NH, N, H, t->dh, t->dh + NH, &diag, err);
    dsp_prof_end(prof, "objective");
    if (bad) return dsp_fail_prefix(err, "step %d: ", t->steps + 1);
    if (!isfinite(diag.loss))
        return dsp_fail(err, "step %d: the loss is %g; stopping before the update, the model is unchanged",
                        t->steps + 1, diag.loss);
    dsp_prof_begin(prof);
    dsp_normalize_backward(t->h, t->norms, t->dh, t->dz, 2 * N, H);
    for (size_t i = 0; i < 2 * NH; i++) t->dpooled[i] = (float)t->dz[i];
    dsp_prof_end(prof, "objective");
    dsp_prof_begin(prof);
    zero_grads(t);
    dsp_prof_end(prof, "zeroing gradients");
    if (dsp_encoder_backward(t->enc, t->model->params, t->dpooled, t->grads, err)) return -1;
    /* a finite sum of squares means every gradient is finite: no separate scan */
    dsp_prof_begin(prof);
    double gnorm = dsp_grad_norm_rows(t->pool, t->grads, P, (size_t)H, (size_t)t->model->cfg.vocab_size, t->grad_rows,
                                      t->n_grad_rows);
    dsp_prof_end(prof, "gradient norm");
    if (!isfinite(gnorm))
        return dsp_fail(err, "step %d: the gradient norm is %g; stopping before the update, the model is unchanged",
                        t->steps + 1, gnorm);
    t->last_grad_norm = gnorm;
    dsp_prof_begin(prof);
    rec->lr = dsp_optimizer_step(&t->opt, t->model->params, t->grads, gnorm, t->trainable);
    dsp_prof_end(prof, "optimizer");
    t->steps++;
    rec->step = t->steps;
    rec->loss = diag.loss;
    rec->gd = diag.gd;
    rec->grad_h = diag.grad_h;
    rec->grad_h_pos = diag.grad_h_pos;
    rec->grad_h_neg = diag.grad_h_neg;
    rec->pos_cos = diag.pos_cos;
    rec->neg_cos = diag.neg_cos;
    rec->grad_norm = gnorm;
    return 0;
}

void dsp_trainer_debug_view(const dsp_trainer *t, dsp_trainer_debug *d) {
    /* the batch holds view 1 then view 2 over the same token rows: B = 2N sequences over T rows */
    d->ids = t->ids;
    d->seq_len = t->seq_len;
    d->B = 2 * t->cfg.batch_size;
    d->T = t->last_T;
    d->pooled = t->pooled;
    d->dh = t->dh;
    d->grads = t->grads;
    d->grad_norm = t->last_grad_norm;
}

/* ---------------------------------------------------------------- evaluation */
int dsp_sts_tokens_build(dsp_sts_tokens *st, const dsp_sts *sts, const dsp_vocab *v, int max_len, dsp_err *err) {
    memset(st, 0, sizeof *st);
    if (sts->count < 2) return dsp_fail(err, "an STS set needs at least 2 pairs, this one has %d", sts->count);
    st->gold = malloc((size_t)sts->count * sizeof(double));
    if (!st->gold) return dsp_fail(err, "out of memory");
    for (int i = 0; i < sts->count; i++) st->gold[i] = sts->gold[i];
    st->count = sts->count;
    if (dsp_token_set_build(&st->s1, v, sts->s1, sts->count, max_len, err) ||
        dsp_token_set_build(&st->s2, v, sts->s2, sts->count, max_len, err)) {
        dsp_sts_tokens_free(st);
        return -1;
    }
    return 0;
}

void dsp_sts_tokens_free(dsp_sts_tokens *st) {
    dsp_token_set_free(&st->s1);
    dsp_token_set_free(&st->s2);
    free(st->gold);
    memset(st, 0, sizeof *st);
}

int dsp_encode_chunk(const dsp_token_set *ts, int first) {
    int n = 0;
    size_t tokens = 0;
    while (first + n < ts->count && n < DSP_ENCODE_CHUNK_SENTENCES) {
        tokens += (size_t)ts->len[first + n];
        if (n > 0 && tokens > DSP_ENCODE_CHUNK_TOKENS) break;
        n++;
    }
    return n;
}

int dsp_encode_pass(const dsp_token_set *ts, int first, int *off, int *len, dsp_batch *b) {
    const int n = dsp_encode_chunk(ts, first);
    if (n == 0) return 0;
    /* the token set is already contiguous: sequence s starts at offset[s] */
    for (int i = 0; i < n; i++) {
        off[i] = ts->offset[first + i] - ts->offset[first];
        len[i] = ts->len[first + i];
    }
    *b = (dsp_batch){ts->ids + ts->offset[first], off, len, n, off[n - 1] + len[n - 1]};
    return n;
}

int dsp_encode_sentences(dsp_encoder *enc, const dsp_model *m, const dsp_token_set *ts, dsp_pooler pooler, float *out,
                         dsp_err *err) {
    const int H = m->cfg.hidden_size;
    if (pooler == DSP_POOL_CLS_MLP) pooler = DSP_POOL_CLS;
    int off[DSP_ENCODE_CHUNK_SENTENCES], len[DSP_ENCODE_CHUNK_SENTENCES];
    dsp_batch b;
    for (int s0 = 0, n; (n = dsp_encode_pass(ts, s0, off, len, &b)) > 0; s0 += n) {
        float *o = out + (size_t)s0 * H;
        if (dsp_encoder_forward(enc, m->params, &b, pooler, 0, 0, 0, o, err)) return -1;
        for (int i = 0; i < n; i++) {
            float *r = o + (size_t)i * H;
            double ss = 0;
            for (int h = 0; h < H; h++) ss += (double)r[h] * r[h];
            if (!isfinite(ss)) /* a NaN would rank as a number and give a meaningless score */
                return dsp_fail(err, "sentence %d: the model's embedding is not finite (NaN or Inf): its weights have "
                                "probably diverged", s0 + i + 1);
            float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
            for (int h = 0; h < H; h++) r[h] *= inv;
        }
    }
    return 0;
}

int dsp_sts_embed(dsp_encoder *enc, const dsp_model *m, const dsp_sts_tokens *st, dsp_pooler pooler, float *a,
                  float *b, double *cos, dsp_err *err) {
    const int H = m->cfg.hidden_size;
    if (dsp_encode_sentences(enc, m, &st->s1, pooler, a, err) || dsp_encode_sentences(enc, m, &st->s2, pooler, b, err))
        return -1;
    for (int i = 0; i < st->count; i++) {
        double d = 0;
        for (int h = 0; h < H; h++) d += (double)a[(size_t)i * H + h] * b[(size_t)i * H + h];
        cos[i] = d;
    }
    return 0;
}

int dsp_evaluate_sts(dsp_encoder *enc, const dsp_model *m, const dsp_sts_tokens *st, dsp_pooler pooler,
                     dsp_sts_result *res, dsp_err *err) {
    const int n = st->count, H = m->cfg.hidden_size;
    float *a = malloc((size_t)n * H * sizeof(float)), *b = malloc((size_t)n * H * sizeof(float));
    double *cos = malloc((size_t)n * sizeof(double));
    float *gold = malloc((size_t)n * sizeof(float));
    int rc = -1;
    if (!a || !b || !cos || !gold) { dsp_fail(err, "out of memory evaluating %d pairs", n); goto done; }
    if (dsp_sts_embed(enc, m, st, pooler, a, b, cos, err)) goto done;
    for (int i = 0; i < n; i++) gold[i] = (float)st->gold[i];
    res->pairs = n;
    res->spearman = 100.0 * dsp_spearman(cos, st->gold, n);
    res->align = dsp_sts_align(a, b, gold, n, H);
    res->uniform = dsp_sts_uniform(a, b, n, H);
    rc = 0;
done:
    free(a); free(b); free(cos); free(gold);
    return rc;
}
