/* encoder.c — the BERT encoder's forward and backward over a ragged batch (spec/encoder.md).
 *
 * A batch is B sequences concatenated into T token rows; nothing is padded. Each layer is post-LN:
 *   qkv = x·Wqkvᵀ + b → attention (per sequence, per head) → dense → dropout → + x → LN1 → y
 *   y·W1ᵀ + b1 → GELU → ·W2ᵀ + b2 → dropout → + y → LN2 → next x
 * Activations live in one flat buffer laid out by one size table (act_layout), grown on demand.
 * Dropout masks come from the counter-based generator (a function of each element's place), recorded by a training
 * forward for its backward.
 *
 * A [CLS] pooler reads one row per sequence of the last layer's output, and after the last attention every row is
 * computed from its own row alone: so, unless the caller wants the whole final hidden state, the last layer is
 * "compact": only the B [CLS] rows query its attention (every token still gives keys and values), and its dense,
 * LayerNorms and FFN run on those rows alone. Their results are the full computation's bit for bit (every kernel
 * computes a row, or sums over rows, in the same order, the rows left out would add only zeros, and each dropout
 * element keeps the mask bit of its place in the full tensor). For the tiny model that is over a third of the
 * step's matmul work.
 */
#include "encoder_internal.h"
#include "profile.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- activation size table */
enum { ACT_EMB_SUM, ACT_X0, ACT_EMB_MEAN, ACT_EMB_RSTD, ACT_POOL_PRE, ACT_CLS_CTX, ACT_CLS_X, ACT_GLOBAL_COUNT };
enum { LACT_QKV, LACT_ATT, LACT_CTX, LACT_RES1, LACT_Y1, LACT_MEAN1, LACT_RSTD1, LACT_FFN_PRE, LACT_FFN_ACT,
       LACT_FFN_CDF, LACT_RES2, LACT_X, LACT_MEAN2, LACT_RSTD2, LACT_COUNT };

static size_t act_sizes(const dsp_config *c, int T, int B, size_t att_total, int train, size_t *global, size_t *layer) {
    const size_t H = (size_t)c->hidden_size, I = (size_t)c->intermediate_size, t = (size_t)T;
    global[ACT_EMB_SUM] = t * H;  /* word + position + type, LayerNorm input */
    global[ACT_X0] = t * H;       /* dropout(LayerNorm(sum)): layer 0 input */
    global[ACT_EMB_MEAN] = t;
    global[ACT_EMB_RSTD] = t;
    global[ACT_POOL_PRE] = (size_t)B * H; /* [CLS] rows (cls_mlp input) */
    global[ACT_CLS_CTX] = (size_t)B * H;  /* a compact last layer's inputs: the [CLS] rows of its attention output */
    global[ACT_CLS_X] = (size_t)B * H;    /* and of its input x (the residual) */
    layer[LACT_QKV] = t * 3 * H;
    layer[LACT_ATT] = att_total;
    layer[LACT_CTX] = t * H;      /* attention output before the dense */
    layer[LACT_RES1] = t * H;     /* x + dropout(dense(ctx)): LN1 input */
    layer[LACT_Y1] = t * H;
    layer[LACT_MEAN1] = t;
    layer[LACT_RSTD1] = t;
    layer[LACT_FFN_PRE] = t * I;  /* GELU input */
    layer[LACT_FFN_ACT] = t * I;  /* GELU output */
    layer[LACT_FFN_CDF] = train ? t * I : 0; /* Φ(GELU input), kept for the backward of a training forward */
    layer[LACT_RES2] = t * H;     /* y + dropout(ffn): LN2 input */
    layer[LACT_X] = t * H;        /* layer output */
    layer[LACT_MEAN2] = t;
    layer[LACT_RSTD2] = t;
    /* Each buffer starts on a cache line, so that tasks writing neighbouring buffers never share one. */
    for (int i = 0; i < ACT_GLOBAL_COUNT; i++) global[i] = dsp_pad_to_line(global[i]);
    for (int i = 0; i < LACT_COUNT; i++) layer[i] = dsp_pad_to_line(layer[i]);
    size_t total = 0;
    for (int i = 0; i < ACT_GLOBAL_COUNT; i++) total += global[i];
    size_t per = 0;
    for (int i = 0; i < LACT_COUNT; i++) per += layer[i];
    return total + per * (size_t)c->num_hidden_layers;
}

typedef struct {
    float *g[ACT_GLOBAL_COUNT];
    float *l[DSP_MAX_LAYERS][LACT_COUNT];
} act_view;

static void act_view_make(act_view *v, const dsp_config *c, float *base, const size_t *global, const size_t *layer) {
    float *p = base;
    for (int i = 0; i < ACT_GLOBAL_COUNT; i++) { v->g[i] = p; p += global[i]; }
    for (int l = 0; l < c->num_hidden_layers; l++)
        for (int i = 0; i < LACT_COUNT; i++) { v->l[l][i] = p; p += layer[i]; }
}

struct dsp_encoder {
    dsp_config cfg;
    const dsp_layout *layout;
    dsp_kctx k;
    /* the last forward's batch (copied) and settings */
    int *ids, *seq_off, *seq_len;
    size_t *att_off;
    int B, T, capB, capT, max_len;
    size_t att_total;
    dsp_pooler pooler;
    int train, have_forward;
    int full_last_layer; /* setting: compute every row of the last layer (dsp_encoder_set_full_last_layer) */
    int compact;         /* the last forward computed only the [CLS] rows after the last attention */
    uint64_t mask_seed;
    /* activations and backward scratch */
    float *acts;
    size_t acts_cap;
    size_t gsz[ACT_GLOBAL_COUNT], lsz[LACT_COUNT];
    act_view av;
    float *dx, *dres, *dqkv, *dctx, *dffn, *dpool, *dcls, *att_scratch;
    /* a training forward's dropout masks, for the backward: the 1 + 2L hidden-state sites (T·H bytes each), then
     * each layer's attention probabilities (att_total bytes each) */
    uint8_t *keep;
    size_t keep_cap;
    size_t att_scratch_cap, dpool_cap, dcls_cap;
    size_t scratch_T;
    /* parity recording of dropout masks */
    float *rec;
    size_t rec_cap, rec_len;
};

int dsp_encoder_create(dsp_encoder **out, const dsp_model *m, dsp_pool *pool, dsp_kernels kernels, dsp_err *err) {
    *out = NULL;
    dsp_kernels got;
    if (dsp_kernels_resolve(kernels, &got, err)) return -1;
    dsp_encoder *e = calloc(1, sizeof *e);
    if (!e) return dsp_fail(err, "out of memory creating the encoder");
    e->cfg = m->cfg;
    e->layout = &m->layout;
    e->k.pool = pool;
    e->k.set = got;
    *out = e;
    return 0;
}

void dsp_encoder_free(dsp_encoder *e) {
    if (!e) return;
    free(e->ids); free(e->seq_off); free(e->seq_len); free(e->att_off);
    free(e->acts);
    free(e->keep);
    free(e->dx); free(e->dres); free(e->dqkv); free(e->dctx); free(e->dffn); free(e->dpool); free(e->dcls);
    free(e->att_scratch);
    free(e);
}

dsp_kctx *dsp_encoder_kctx(dsp_encoder *e) { return &e->k; }

void dsp_encoder_set_full_last_layer(dsp_encoder *e, int on) { e->full_last_layer = on != 0; }

/* Buffers sized by the batch grow with a margin (dsp_grow_capacity) and never shrink. */
static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t want = dsp_grow_capacity(need);
    void *q = realloc(*p, want * elem);
    if (!q) return -1;
    *p = q;
    *cap = want;
    return 0;
}

/* grow() for float buffers that are rewritten before every use: no copy, cache-line aligned. */
static int grow_lines(float **p, size_t *cap, size_t need) {
    if (need <= *cap) return 0;
    size_t want = dsp_grow_capacity(need);
    free(*p);
    *p = dsp_alloc_lines(want);
    *cap = *p ? want : 0;
    return *p ? 0 : -1;
}

/* The bytes of the recorded hidden-state masks (1 + 2L sites of T·H), which come first in e->keep. */
static size_t hidden_keep_bytes(const dsp_encoder *e) {
    return (size_t)(1 + 2 * e->cfg.num_hidden_layers) * e->T * e->cfg.hidden_size;
}

/* Whether every buffer a batch needs can be sized in size_t, which is 32 bits in WebAssembly: the sizes below
 * are products of T, H, I and the attention matrices, and a product that wrapped would allocate a small buffer for
 * a large batch. Counted in double (exact far beyond these sizes) as an upper bound on the sum of the activations,
 * the backward's scratch and the dropout masks, with the growth margin: if that sum fits in half of size_t, so
 * does every product and sum that makes it up. */
static int fits_address_space(const dsp_config *c, double T, double B, double sum_len2, int train) {
    const double H = c->hidden_size, I = c->intermediate_size, L = c->num_hidden_layers;
    const double att = c->num_attention_heads * sum_len2; /* every sequence's A·len² probabilities */
    const double acts = T * (2 * H + 2) + 3 * B * H + L * (T * (8 * H + 3 * I + 4) + att);
    const double scratch = T * (6 * H + I) + 2 * B * H;
    const double keep = train ? (1 + 2 * L) * T * H + L * att : 0; /* bytes */
    const double bytes = 1.25 * (sizeof(float) * (acts + scratch) + keep) + 64.0 * 64;
    return bytes <= (double)(SIZE_MAX / 2);
}

/* Copies the batch, checks ids and lengths, and sizes every buffer for it (and for a backward when train). */
static int prepare(dsp_encoder *e, const dsp_batch *b, int train, dsp_err *err) {
    const dsp_config *c = &e->cfg;
    if (b->B < 1) return dsp_fail(err, "empty batch");
    size_t T = 0;
    int max_len = 0;
    double sum_len2 = 0; /* Σ len², for the size check below */
    for (int i = 0; i < b->B; i++) {
        int len = b->seq_len[i];
        if (len < 1) return dsp_fail(err, "sequence %d of the batch is empty", i);
        if (len > c->max_position_embeddings)
            return dsp_fail(err, "sequence %d has %d tokens, more than max_position_embeddings %d", i, len,
                            c->max_position_embeddings);
        if (b->seq_off[i] < 0 || (size_t)b->seq_off[i] + (size_t)len > (size_t)b->T)
            return dsp_fail(err, "sequence %d lies outside the batch's %d tokens", i, b->T);
        for (int t = 0; t < len; t++) {
            int id = b->ids[b->seq_off[i] + t];
            if (id < 0 || id >= c->vocab_size)
                return dsp_fail(err, "token id %d in sequence %d is outside the vocabulary (size %d)", id, i,
                                c->vocab_size);
        }
        T += (size_t)len;
        sum_len2 += (double)len * len;
        if (len > max_len) max_len = len;
    }
    if (!fits_address_space(c, (double)T, b->B, sum_len2, train))
        return dsp_fail(err, "a batch of %zu tokens needs more memory than this build can address (32-bit in "
                        "WebAssembly): lower the batch or the max length", T);
    size_t capB = (size_t)e->capB, capT = (size_t)e->capT;
    if (grow((void **)&e->seq_off, &capB, (size_t)b->B, sizeof(int))) goto oom;
    capB = (size_t)e->capB;
    if (grow((void **)&e->seq_len, &capB, (size_t)b->B, sizeof(int))) goto oom;
    capB = (size_t)e->capB;
    if (grow((void **)&e->att_off, &capB, (size_t)b->B, sizeof(size_t))) goto oom;
    e->capB = (int)capB;
    if (grow((void **)&e->ids, &capT, T, sizeof(int))) goto oom;
    e->capT = (int)capT;
    /* Re-pack the batch contiguously in sequence order: T rows, sequence i at seq_off[i]. */
    const int A = c->num_attention_heads;
    size_t off = 0, att = 0;
    for (int i = 0; i < b->B; i++) {
        int len = b->seq_len[i];
        memcpy(e->ids + off, b->ids + b->seq_off[i], (size_t)len * sizeof(int));
        e->seq_off[i] = (int)off;
        e->seq_len[i] = len;
        e->att_off[i] = att;
        off += (size_t)len;
        att += (size_t)A * (size_t)len * (size_t)len;
    }
    e->B = b->B;
    e->T = (int)T;
    e->att_total = att;
    e->max_len = max_len;
    size_t need = act_sizes(c, (int)T, b->B, att, train, e->gsz, e->lsz);
    if (grow_lines(&e->acts, &e->acts_cap, need)) goto oom;
    act_view_make(&e->av, c, e->acts, e->gsz, e->lsz);
    const size_t keep_bytes = hidden_keep_bytes(e) + (size_t)c->num_hidden_layers * att;
    if (train && grow((void **)&e->keep, &e->keep_cap, keep_bytes, 1)) goto oom;
    return 0;
oom:
    return dsp_fail(err, "out of memory for a batch of %zu tokens", T);
}

/* Dropout sites: each gets its own generator stream; elements are indexed by their flat position. */
static uint64_t site_stream(int layer, int site) { return 1 + (uint64_t)layer * 8 + (uint64_t)site; }
enum { SITE_ATT_PROBS = 1, SITE_ATT_OUT = 2, SITE_FFN_OUT = 3 };

/* The recorded mask of a hidden-state site: the embeddings' (layer 0, site 0), or a layer's SITE_ATT_OUT or
 * SITE_FFN_OUT; NULL when the forward was not a training one (dropout is off then). */
static uint8_t *keep_at(const dsp_encoder *e, int layer, int site) {
    if (!e->train) return NULL;
    int slot = site == 0 ? 0 : 1 + 2 * layer + (site == SITE_FFN_OUT);
    return e->keep + (size_t)slot * e->T * e->cfg.hidden_size;
}

/* The recorded mask of layer l's attention probabilities (indexed like att), or NULL outside training. */
static uint8_t *att_keep_at(const dsp_encoder *e, int layer) {
    return e->train ? e->keep + hidden_keep_bytes(e) + (size_t)layer * e->att_total : NULL;
}

/* Dropout is on only in a training forward (and its backward). */
static float drop_p(const dsp_encoder *e, float p) { return e->train ? p : 0.0f; }

static dsp_dropout drop_at(const dsp_encoder *e, float p, uint64_t stream) {
    dsp_dropout d = {drop_p(e, p), e->mask_seed, stream};
    return d;
}

static void record_mask(dsp_encoder *e, dsp_dropout d, size_t n) {
    if (!e->rec || d.p <= 0) return;
    float scale = 1.0f / (1.0f - d.p);
    for (size_t i = 0; i < n && e->rec_len < e->rec_cap; i++)
        e->rec[e->rec_len++] = dsp_uniform(d.seed, d.stream, i) >= d.p ? scale : 0.0f;
}

size_t dsp_encoder_dropout_record(dsp_encoder *e, float *buf, size_t cap) {
    e->rec = buf;
    e->rec_cap = buf ? cap : 0;
    e->rec_len = 0;
    return 0;
}

size_t dsp_encoder_dropout_recorded(const dsp_encoder *e) { return e->rec_len; }

/* The per-sequence steps around the layers (embedding sums, pooling, the pooling's gradient) run on the pool in
 * blocks of sequences; every element is computed by one task in the serial loop's order. */
#define SEQS_PER_TASK 8

typedef struct {
    const dsp_encoder *e;
    const dsp_param_view *p;
    const float *in; /* pool: the last hidden state [T,H]; unpool: ∂L/∂pooled [B,H] */
    float *out;      /* pool: pooled [B,H]; unpool: ∂L/∂hidden [T,H] */
} seq_job;

static int seq_tasks(const dsp_encoder *e) { return (e->B + SEQS_PER_TASK - 1) / SEQS_PER_TASK; }
static int seq_block_end(const dsp_encoder *e, int task) {
    return (task + 1) * SEQS_PER_TASK < e->B ? (task + 1) * SEQS_PER_TASK : e->B;
}

static void embed_task(void *vctx, int task, int thread) {
    const seq_job *j = vctx;
    const dsp_encoder *e = j->e;
    const int H = e->cfg.hidden_size;
    for (int b = task * SEQS_PER_TASK; b < seq_block_end(e, task); b++)
        for (int t = 0; t < e->seq_len[b]; t++) {
            size_t row = (size_t)(e->seq_off[b] + t);
            const float *w = j->p->word_emb + (size_t)e->ids[row] * H;
            const float *pos = j->p->pos_emb + (size_t)t * H;
            float *o = j->out + row * H;
            for (int h = 0; h < H; h++) o[h] = w[h] + pos[h] + j->p->type_emb[h];
        }
}

static void embed_forward(dsp_encoder *e, const dsp_param_view *p) {
    seq_job j = {e, p, NULL, e->av.g[ACT_EMB_SUM]};
    dsp_pool_run(e->k.pool, embed_task, &j, seq_tasks(e));
}

/* Mean: each feature adds its tokens in order (t outer, so the rows are read whole), then divides. */
static void pool_task(void *vctx, int task, int thread) {
    const seq_job *j = vctx;
    const dsp_encoder *e = j->e;
    const int H = e->cfg.hidden_size;
    for (int b = task * SEQS_PER_TASK; b < seq_block_end(e, task); b++) {
        const int off = e->seq_off[b], len = e->seq_len[b];
        float *o = j->out + (size_t)b * H;
        if (e->pooler == DSP_POOL_MEAN) {
            for (int h = 0; h < H; h++) o[h] = 0;
            for (int t = 0; t < len; t++) {
                const float *x = j->in + (size_t)(off + t) * H;
                for (int h = 0; h < H; h++) o[h] += x[h];
            }
            for (int h = 0; h < H; h++) o[h] = o[h] / (float)len;
        } else {
            memcpy(o, j->in + (size_t)off * H, (size_t)H * sizeof(float));
        }
    }
}

static void pool_forward(dsp_encoder *e, const dsp_param_view *p, const float *x, float *pooled) {
    const int H = e->cfg.hidden_size;
    if (e->compact) { /* x holds the [CLS] rows already */
        memcpy(pooled, x, (size_t)e->B * H * sizeof(float));
    } else {
        seq_job j = {e, p, x, pooled};
        dsp_prof_begin(e->k.prof);
        dsp_pool_run(e->k.pool, pool_task, &j, seq_tasks(e));
        dsp_prof_end(e->k.prof, "pooling");
    }
    if (e->pooler == DSP_POOL_CLS_MLP) {
        float *cls = e->av.g[ACT_POOL_PRE];
        memcpy(cls, pooled, (size_t)e->B * H * sizeof(float));
        dsp_matmul_forward(&e->k, pooled, cls, p->mlp_w, p->mlp_b, e->B, H, H);
        for (size_t i = 0; i < (size_t)e->B * H; i++) pooled[i] = tanhf(pooled[i]);
    }
}

/* out[b] = the first H floats of token row seq_off[b] of a tensor whose token rows are `stride` floats apart: the
 * [CLS] rows of a [T, H] tensor (stride H), or their q columns in qkv (stride 3H). out is [B, H]. */
static void gather_cls_rows(const dsp_encoder *e, float *out, const float *rows, size_t stride) {
    const size_t H = (size_t)e->cfg.hidden_size;
    for (int b = 0; b < e->B; b++)
        memcpy(out + (size_t)b * H, rows + (size_t)e->seq_off[b] * stride, H * sizeof(float));
}

/* The inverse: the first H floats of token row seq_off[b] (rows `stride` floats apart) = cls[b]. */
static void put_cls_rows(const dsp_encoder *e, float *rows, size_t stride, const float *cls) {
    const size_t H = (size_t)e->cfg.hidden_size;
    for (int b = 0; b < e->B; b++)
        memcpy(rows + (size_t)e->seq_off[b] * stride, cls + (size_t)b * H, H * sizeof(float));
}

/* out[seq_off[b]] = rows[b], every other row of the [T, H] tensor out zero: the [CLS] rows' gradients placed back. */
static void scatter_cls_rows(const dsp_encoder *e, float *out, const float *rows) {
    dsp_vec_zero(&e->k, out, (size_t)e->T * e->cfg.hidden_size);
    put_cls_rows(e, out, (size_t)e->cfg.hidden_size, rows);
}

/* A compact last layer's q, k, v [T, 3H] (qkv_w holds q's rows, then k's, then v's): k and v for every token, q for
 * the [CLS] rows alone, the only queries (x_cls: x's [CLS] rows; q_cls: [B, H] scratch). k and v are computed as
 * [T, 2H] at the start of qkv and spread to their columns from the last row back (no row overwrites one not yet
 * moved); the other rows' q columns are left unwritten, and the attention reads none of them. */
static void qkv_forward_cls(dsp_encoder *e, const dsp_layer_view *w, float *qkv, const float *x, const float *x_cls,
                            float *q_cls) {
    const size_t H = (size_t)e->cfg.hidden_size;
    dsp_matmul_forward(&e->k, qkv, x, w->qkv_w + H * H, w->qkv_b + H, e->T, (int)H, 2 * (int)H);
    for (size_t t = (size_t)e->T; t-- > 0;) memmove(qkv + t * 3 * H + H, qkv + t * 2 * H, 2 * H * sizeof(float));
    dsp_matmul_forward(&e->k, q_cls, x_cls, w->qkv_w, w->qkv_b, e->B, (int)H, (int)H);
    put_cls_rows(e, qkv, 3 * H, q_cls);
}

/* The backward of qkv_forward_cls. dqkv [T, 3H] comes from the attention (q's columns zero off the [CLS] rows);
 * dcls [B, H] holds the residual path's part of ∂L/∂x on the [CLS] rows; dx [T, H] receives ∂L/∂x (overwritten).
 * x is the layer's input. A full backward sums each element of dx over q's columns, then k's and v's, in order:
 * so q's product adds onto the [CLS] rows first (from a gathered copy), then k and v's onto every row (compacted to
 * [T, 2H] in place, first row first), which gives the full backward's bits. */
static void qkv_backward_cls(dsp_encoder *e, const dsp_layer_view *w, const dsp_layer_view *gw, float *dqkv,
                             float *dcls, float *dx, const float *x) {
    const size_t H = (size_t)e->cfg.hidden_size;
    float *dq = e->dres; /* [B, H] */
    gather_cls_rows(e, dq, dqkv, 3 * H);
    dsp_matmul_backward(&e->k, dcls, gw->qkv_w, gw->qkv_b, dq, e->av.g[ACT_CLS_X], w->qkv_w, e->B, (int)H, (int)H);
    scatter_cls_rows(e, dx, dcls);
    for (size_t t = 0; t < (size_t)e->T; t++) memmove(dqkv + t * 2 * H, dqkv + t * 3 * H + H, 2 * H * sizeof(float));
    dsp_matmul_backward(&e->k, dx, gw->qkv_w + H * H, gw->qkv_b + H, dqkv, x, w->qkv_w + H * H, e->T, (int)H,
                        2 * (int)H);
}

/* Layer l after its attention, over n rows of ctx and of x (the layer's input): all T tokens, or a compact last
 * layer's B [CLS] rows (token_rows: where they sit in the batch, for their dropout mask bits). Writes the layer's
 * activations from row 0:
 *   res1 = x + dropout(ctx·Woᵀ + bo) → LN1 → y1;  res2 = y1 + dropout(gelu(y1·W1ᵀ + b1)·W2ᵀ + b2) → LN2 → x. */
static void layer_tail_forward(dsp_encoder *e, const dsp_layer_view *w, int l, const float *ctx, const float *x,
                               int n, const int *token_rows) {
    const dsp_config *c = &e->cfg;
    const int H = c->hidden_size, I = c->intermediate_size;
    const size_t TH = (size_t)e->T * H; /* a recording holds each site's whole mask, whatever rows are computed */
    float **L = e->av.l[l];
    dsp_matmul_forward(&e->k, L[LACT_RES1], ctx, w->attn_out_w, w->attn_out_b, n, H, H);
    dsp_dropout d = drop_at(e, c->hidden_dropout_prob, site_stream(l, SITE_ATT_OUT));
    dsp_dropout_add_rows(&e->k, L[LACT_RES1], n, H, token_rows, d, keep_at(e, l, SITE_ATT_OUT), x);
    record_mask(e, d, TH);
    dsp_layernorm_forward(&e->k, L[LACT_Y1], L[LACT_MEAN1], L[LACT_RSTD1], L[LACT_RES1], w->ln1_w, w->ln1_b, n, H,
                          c->layer_norm_eps);
    dsp_matmul_forward(&e->k, L[LACT_FFN_PRE], L[LACT_Y1], w->ffn_in_w, w->ffn_in_b, n, H, I);
    dsp_gelu_forward(&e->k, L[LACT_FFN_ACT], e->train ? L[LACT_FFN_CDF] : NULL, L[LACT_FFN_PRE], (size_t)n * I);
    dsp_matmul_forward(&e->k, L[LACT_RES2], L[LACT_FFN_ACT], w->ffn_out_w, w->ffn_out_b, n, I, H);
    d = drop_at(e, c->hidden_dropout_prob, site_stream(l, SITE_FFN_OUT));
    dsp_dropout_add_rows(&e->k, L[LACT_RES2], n, H, token_rows, d, keep_at(e, l, SITE_FFN_OUT), L[LACT_Y1]);
    record_mask(e, d, TH);
    dsp_layernorm_forward(&e->k, L[LACT_X], L[LACT_MEAN2], L[LACT_RSTD2], L[LACT_RES2], w->ln2_w, w->ln2_b, n, H,
                          c->layer_norm_eps);
}

int dsp_encoder_forward(dsp_encoder *e, const float *params, const dsp_batch *batch, dsp_pooler pooler, int train,
                        uint64_t dropout_seed, uint64_t step, float *pooled, dsp_err *err) {
    e->have_forward = 0;
    if (pooler != DSP_POOL_CLS && pooler != DSP_POOL_CLS_MLP && pooler != DSP_POOL_MEAN)
        return dsp_fail(err, "unknown pooler %d", (int)pooler);
    if (prepare(e, batch, train, err)) return -1;
    e->pooler = pooler;
    e->train = train;
    e->compact = pooled && pooler != DSP_POOL_MEAN && !e->full_last_layer;
    e->mask_seed = dsp_hash64(dropout_seed, 0x64726f706f7574ULL /* "dropout" */, step);
    e->rec_len = 0;
    const dsp_config *c = &e->cfg;
    const int H = c->hidden_size, A = c->num_attention_heads, T = e->T;
    const size_t TH = (size_t)T * H;
    dsp_param_view p;
    dsp_param_view_make(&p, e->layout, c, (float *)params);
    act_view *a = &e->av;

    dsp_prof_begin(e->k.prof);
    embed_forward(e, &p);
    dsp_prof_end(e->k.prof, "embedding sums");
    dsp_layernorm_forward(&e->k, a->g[ACT_X0], a->g[ACT_EMB_MEAN], a->g[ACT_EMB_RSTD], a->g[ACT_EMB_SUM], p.emb_ln_w,
                          p.emb_ln_b, T, H, c->layer_norm_eps);
    dsp_dropout d = drop_at(e, c->hidden_dropout_prob, site_stream(0, 0));
    dsp_dropout_apply(&e->k, a->g[ACT_X0], TH, d, keep_at(e, 0, 0));
    record_mask(e, d, TH);

    const float *x = a->g[ACT_X0];
    const int last = c->num_hidden_layers - 1;
    for (int l = 0; l <= last; l++) {
        const dsp_layer_view *w = &p.layer[l];
        float **L = a->l[l];
        const int compact = e->compact && l == last;
        if (compact) {
            gather_cls_rows(e, a->g[ACT_CLS_X], x, (size_t)H);
            qkv_forward_cls(e, w, L[LACT_QKV], x, a->g[ACT_CLS_X], a->g[ACT_CLS_CTX]);
        } else {
            dsp_matmul_forward(&e->k, L[LACT_QKV], x, w->qkv_w, w->qkv_b, T, H, 3 * H);
        }
        d = drop_at(e, c->attention_probs_dropout_prob, site_stream(l, SITE_ATT_PROBS));
        dsp_attention_forward(&e->k, L[LACT_CTX], L[LACT_ATT], L[LACT_QKV], e->seq_off, e->seq_len, e->att_off,
                              e->B, H, A, d, att_keep_at(e, l), compact);
        record_mask(e, d, e->att_total);
        if (compact) {
            gather_cls_rows(e, a->g[ACT_CLS_CTX], L[LACT_CTX], (size_t)H);
            layer_tail_forward(e, w, l, a->g[ACT_CLS_CTX], a->g[ACT_CLS_X], e->B, e->seq_off);
        } else {
            layer_tail_forward(e, w, l, L[LACT_CTX], x, T, NULL);
        }
        x = L[LACT_X];
    }
    if (pooled) pool_forward(e, &p, x, pooled);
    e->have_forward = 1;
    return 0;
}

const float *dsp_encoder_hidden(const dsp_encoder *e) {
    return e->have_forward && !e->compact ? e->av.l[e->cfg.num_hidden_layers - 1][LACT_X] : NULL;
}

int dsp_encoder_tokens(const dsp_encoder *e) { return e->T; }

size_t dsp_encoder_bytes(const dsp_encoder *e) {
    const size_t H = (size_t)e->cfg.hidden_size, I = (size_t)e->cfg.intermediate_size;
    const size_t floats = e->acts_cap + e->scratch_T * (6 * H + I) + e->att_scratch_cap + e->dpool_cap + e->dcls_cap;
    return floats * sizeof(float) + e->keep_cap + (size_t)e->capT * sizeof(int) +
           (size_t)e->capB * (2 * sizeof(int) + sizeof(size_t));
}

static int ensure_scratch(dsp_encoder *e, dsp_err *err) {
    const size_t T = (size_t)e->T, H = (size_t)e->cfg.hidden_size, I = (size_t)e->cfg.intermediate_size;
    if (T > e->scratch_T) {
        const size_t cap = dsp_grow_capacity(T);
        free(e->dx); free(e->dres); free(e->dqkv); free(e->dctx); free(e->dffn);
        e->dx = dsp_alloc_lines(cap * H);
        e->dres = dsp_alloc_lines(cap * H);
        e->dqkv = dsp_alloc_lines(cap * 3 * H);
        e->dctx = dsp_alloc_lines(cap * H);
        e->dffn = dsp_alloc_lines(cap * I);
        e->scratch_T = cap;
        if (!e->dx || !e->dres || !e->dqkv || !e->dctx || !e->dffn) {
            e->scratch_T = 0;
            return dsp_fail(err, "out of memory for the backward of %zu tokens", T);
        }
    }
    size_t need = dsp_attention_scratch_floats(e->max_len, dsp_pool_threads(e->k.pool));
    if (grow_lines(&e->att_scratch, &e->att_scratch_cap, need))
        return dsp_fail(err, "out of memory for attention scratch");
    if (grow_lines(&e->dpool, &e->dpool_cap, (size_t)e->B * H)) return dsp_fail(err, "out of memory");
    if (e->compact && grow_lines(&e->dcls, &e->dcls_cap, (size_t)e->B * H)) return dsp_fail(err, "out of memory");
    return 0;
}

/* The embedding tables' gradients: every token adds its row of ∂L/∂(embedding sum) (d [T, H]) to its word, position
 * and type rows, tokens in batch order, so each element sums in the same order whatever the pool. On the calling
 * thread: a split by tokens would race on repeated words, and a split by columns, where every task reads a strip of
 * every row of d (just written by all threads), measured more than twice as slow at 2 threads as this loop alone
 * (`dissipate bench --profile` shows the loop as "embedding gradients"). */
static void emb_scatter(const dsp_encoder *e, const float *d, const dsp_param_view *g) {
    const int H = e->cfg.hidden_size;
    float *restrict gt = g->type_emb;
    for (int b = 0; b < e->B; b++)
        for (int t = 0; t < e->seq_len[b]; t++) {
            size_t row = (size_t)(e->seq_off[b] + t);
            const float *restrict dr = d + row * H;
            float *restrict gw = g->word_emb + (size_t)e->ids[row] * H;
            float *restrict gp = g->pos_emb + (size_t)t * H;
            for (int h = 0; h < H; h++) {
                gw[h] += dr[h];
                gp[h] += dr[h];
                gt[h] += dr[h];
            }
        }
}

/* The backward of layer_tail_forward over its n rows: dx [n, H] holds ∂L/∂(layer output) and leaves with the
 * residual path's part of ∂L/∂x; dctx [n, H] receives ∂L/∂ctx (overwritten); the parameters' gradients add up. */
static void layer_tail_backward(dsp_encoder *e, const dsp_layer_view *w, const dsp_layer_view *gw, int l, float *dx,
                                const float *ctx, float *dctx, int n) {
    const dsp_config *c = &e->cfg;
    const int H = c->hidden_size, I = c->intermediate_size;
    const size_t nH = (size_t)n * H;
    float **L = e->av.l[l], *dres = e->dres;
    /* LN2, in place: dx = ∂L/∂res2; res2 = y1 + dropout(ffn), so y1 receives it directly (dx now accumulates
     * ∂L/∂y1) and the FFN output its dropped-out copy */
    dsp_layernorm_backward(&e->k, dx, gw->ln2_w, gw->ln2_b, dx, L[LACT_RES2], w->ln2_w, L[LACT_MEAN2], L[LACT_RSTD2],
                           n, H);
    dsp_dropout_apply_kept(&e->k, dres, dx, nH, drop_p(e, c->hidden_dropout_prob), keep_at(e, l, SITE_FFN_OUT));
    /* the FFN's output layer and the GELU before it in one call: ∂L/∂(pre-activation) lands in dffn */
    dsp_matmul_backward_gelu(&e->k, e->dffn, gw->ffn_out_w, gw->ffn_out_b, dres, L[LACT_FFN_ACT], w->ffn_out_w,
                             L[LACT_FFN_PRE], e->train ? L[LACT_FFN_CDF] : NULL, n, I, H);
    dsp_matmul_backward(&e->k, dx, gw->ffn_in_w, gw->ffn_in_b, e->dffn, L[LACT_Y1], w->ffn_in_w, n, H, I);
    /* LN1, in place: dx now accumulates ∂L/∂x (the residual path) */
    dsp_layernorm_backward(&e->k, dx, gw->ln1_w, gw->ln1_b, dx, L[LACT_RES1], w->ln1_w, L[LACT_MEAN1], L[LACT_RSTD1],
                           n, H);
    dsp_dropout_apply_kept(&e->k, dres, dx, nH, drop_p(e, c->hidden_dropout_prob), keep_at(e, l, SITE_ATT_OUT));
    dsp_matmul_backward_overwrite(&e->k, dctx, gw->attn_out_w, gw->attn_out_b, dres, ctx, w->attn_out_w, n, H, H);
}

/* Backward through the layers and embeddings, starting from ∂L/∂(final hidden): in e->dx [T, H], or for a compact
 * forward in e->dcls [B, H] (the [CLS] rows). */
static void backward_layers(dsp_encoder *e, const dsp_param_view *p, const dsp_param_view *g) {
    const dsp_config *c = &e->cfg;
    const int H = c->hidden_size, A = c->num_attention_heads, T = e->T, last = c->num_hidden_layers - 1;
    const size_t TH = (size_t)T * H;
    act_view *a = &e->av;
    float *dx = e->dx, *dres = e->dres;
    for (int l = last; l >= 0; l--) {
        const dsp_layer_view *w = &p->layer[l];
        const dsp_layer_view *gw = &g->layer[l];
        float **L = a->l[l];
        const float *x_in = l == 0 ? a->g[ACT_X0] : a->l[l - 1][LACT_X];
        const int compact = e->compact && l == last;
        if (compact) {
            /* the [CLS] rows; ∂L/∂ctx then goes back to its rows, zero elsewhere (dqkv serves as scratch for the
             * compact ∂L/∂ctx until the attention's backward overwrites it) */
            layer_tail_backward(e, w, gw, l, e->dcls, a->g[ACT_CLS_CTX], e->dqkv, e->B);
            scatter_cls_rows(e, e->dctx, e->dqkv);
        } else {
            layer_tail_backward(e, w, gw, l, dx, L[LACT_CTX], e->dctx, T);
        }
        dsp_attention_backward(&e->k, e->dqkv, e->dctx, L[LACT_QKV], L[LACT_ATT], e->seq_off, e->seq_len, e->att_off,
                               e->B, H, A, drop_at(e, c->attention_probs_dropout_prob, site_stream(l, SITE_ATT_PROBS)),
                               att_keep_at(e, l), e->att_scratch, compact);
        if (compact)
            qkv_backward_cls(e, w, gw, e->dqkv, e->dcls, dx, x_in);
        else
            dsp_matmul_backward(&e->k, dx, gw->qkv_w, gw->qkv_b, e->dqkv, x_in, w->qkv_w, T, H, 3 * H);
    }
    /* embeddings: dropout, LayerNorm, then scatter into the tables in token order (deterministic) */
    dsp_dropout_apply_kept(&e->k, dx, dx, TH, drop_p(e, c->hidden_dropout_prob), keep_at(e, 0, 0));
    dsp_layernorm_backward(&e->k, dres, g->emb_ln_w, g->emb_ln_b, dx, a->g[ACT_EMB_SUM], p->emb_ln_w,
                           a->g[ACT_EMB_MEAN], a->g[ACT_EMB_RSTD], T, H);
    dsp_prof_begin(e->k.prof);
    emb_scatter(e, dres, g);
    dsp_prof_end(e->k.prof, "embedding gradients");
}

int dsp_encoder_backward_hidden(dsp_encoder *e, const float *params, const float *dhidden, float *grads, dsp_err *err) {
    if (!e->have_forward) return dsp_fail(err, "backward called without a forward");
    if (e->compact)
        return dsp_fail(err, "the last forward computed only the [CLS] rows of the last layer: a gradient on every "
                             "hidden state needs a forward without a pooled output, or "
                             "dsp_encoder_set_full_last_layer");
    if (ensure_scratch(e, err)) return -1;
    dsp_param_view p, g;
    dsp_param_view_make(&p, e->layout, &e->cfg, (float *)params);
    dsp_param_view_make(&g, e->layout, &e->cfg, grads);
    memcpy(e->dx, dhidden, (size_t)e->T * e->cfg.hidden_size * sizeof(float));
    backward_layers(e, &p, &g);
    return 0;
}

/* ∂L/∂hidden from ∂L/∂pooled: mean spreads d/len over the tokens, cls puts d on the [CLS] row. */
static void unpool_task(void *vctx, int task, int thread) {
    const seq_job *j = vctx;
    const dsp_encoder *e = j->e;
    const int H = e->cfg.hidden_size;
    for (int b = task * SEQS_PER_TASK; b < seq_block_end(e, task); b++) {
        const int off = e->seq_off[b], len = e->seq_len[b];
        const float *d = j->in + (size_t)b * H;
        if (e->pooler == DSP_POOL_MEAN) {
            float inv = 1.0f / (float)len;
            for (int t = 0; t < len; t++)
                for (int h = 0; h < H; h++) j->out[(size_t)(off + t) * H + h] = d[h] * inv;
        } else {
            memcpy(j->out + (size_t)off * H, d, (size_t)H * sizeof(float));
        }
    }
}

int dsp_encoder_backward(dsp_encoder *e, const float *params, const float *dpooled, float *grads, dsp_err *err) {
    if (!e->have_forward) return dsp_fail(err, "backward called without a forward");
    if (ensure_scratch(e, err)) return -1;
    const int H = e->cfg.hidden_size;
    dsp_param_view p, g;
    dsp_param_view_make(&p, e->layout, &e->cfg, (float *)params);
    dsp_param_view_make(&g, e->layout, &e->cfg, grads);
    const float *dpool = dpooled;
    if (e->pooler == DSP_POOL_CLS_MLP) {
        /* pooled = tanh(u): du = dpooled·(1 − pooled²); pooled is recomputed from the saved [CLS] rows */
        float *u = e->dpool;
        dsp_matmul_forward(&e->k, u, e->av.g[ACT_POOL_PRE], p.mlp_w, p.mlp_b, e->B, H, H);
        for (size_t i = 0; i < (size_t)e->B * H; i++) {
            float y = tanhf(u[i]);
            u[i] = dpooled[i] * (1.0f - y * y);
        }
        float *dcls = e->dres;
        dsp_matmul_backward_overwrite(&e->k, dcls, g.mlp_w, g.mlp_b, u, e->av.g[ACT_POOL_PRE], p.mlp_w, e->B, H, H);
        memcpy(e->dpool, dcls, (size_t)e->B * H * sizeof(float));
        dpool = e->dpool;
    }
    if (e->compact) { /* the last layer's rows are the [CLS] rows */
        memcpy(e->dcls, dpool, (size_t)e->B * H * sizeof(float));
    } else {
        if (e->pooler != DSP_POOL_MEAN) dsp_vec_zero(&e->k, e->dx, (size_t)e->T * H); /* only [CLS] rows get one */
        seq_job j = {e, &p, dpool, e->dx};
        dsp_prof_begin(e->k.prof);
        dsp_pool_run(e->k.pool, unpool_task, &j, seq_tasks(e));
        dsp_prof_end(e->k.prof, "pooling backward");
    }
    backward_layers(e, &p, &g);
    return 0;
}

const char *dsp_pooler_name(dsp_pooler p) {
    switch (p) {
    case DSP_POOL_CLS: return "cls";
    case DSP_POOL_CLS_MLP: return "cls_mlp";
    case DSP_POOL_MEAN: return "mean";
    }
    return "?";
}

int dsp_pooler_parse(const char *name, dsp_pooler *out) {
    static const dsp_pooler all[] = {DSP_POOL_CLS, DSP_POOL_CLS_MLP, DSP_POOL_MEAN};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(name, dsp_pooler_name(all[i])) == 0) { *out = all[i]; return 0; }
    return -1;
}
