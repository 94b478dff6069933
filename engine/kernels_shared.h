/* kernels_shared.h — what the kernel files (kernels.c, kernels_ref.c, kernels_simd.c, gemm_simd.c) must agree on:
 * the dropout factor of an element, the layout of the attention backward's scratch, and how rows are cut
 * into tasks. Internal to those files. */
#ifndef DSP_KERNELS_SHARED_H
#define DSP_KERNELS_SHARED_H

#include "kernels.h"
#include "rng_inline.h"

#include <math.h>
#include <string.h>

/* The factor a kept element is multiplied by: 1/(1-p), rounded to float once. */
static inline float dsp_dropout_scale(float p) { return p < 1.0f ? 1.0f / (1.0f - p) : 0.0f; }

/* Element idx's dropout factor: `scale` if kept (uniform >= p), else 0. p >= 1 drops everything. `key` is
 * dsp_stream_key(seed, stream), computed once per loop. */
static inline float dsp_dropout_keyed(uint64_t key, uint64_t idx, float p, float scale) {
    return dsp_keyed_uniform(key, idx) >= p ? scale : 0.0f;
}

/* dsp_dropout_apply's tasks: fixed blocks of elements (a multiple of every vector width), so the split never
 * depends on the thread count (the mask does not either: it is a function of the index). */
#define DSP_DROPOUT_PER_TASK 16384
typedef struct {
    float *x;
    size_t n;
    uint64_t key; /* dsp_stream_key(seed, stream) */
    float p, scale;
    uint8_t *keep; /* the recorded mask, or NULL */
    const float *residual; /* added after the mask (dsp_dropout_add), or NULL */
    const int *row_index;  /* NULL, or x holds rows of row_len floats that are rows row_index[r] of the site */
    size_t row_len;
} dsp_dropout_job;

/* The generator index of element i: i itself, or, for a row of a compact tensor, the element's place in the
 * site's full tensor (so that a compact row gets the mask bits of the row it stands for). */
static inline uint64_t dsp_dropout_index(const dsp_dropout_job *j, size_t i) {
    if (!j->row_index) return i;
    size_t r = i / j->row_len;
    return (uint64_t)j->row_index[r] * j->row_len + (i - r * j->row_len);
}

/* The end of the run of elements from i whose generator indices are consecutive: end, or the end of i's row. */
static inline size_t dsp_dropout_run_end(const dsp_dropout_job *j, size_t i, size_t end) {
    if (!j->row_index) return end;
    size_t row_end = (i / j->row_len + 1) * j->row_len;
    return row_end < end ? row_end : end;
}

/* The end of task `task`'s block of n elements. */
static inline size_t dsp_dropout_task_end(size_t n, int task) {
    size_t end = ((size_t)task + 1) * DSP_DROPOUT_PER_TASK;
    return end < n ? end : n;
}

/* Runs a kernel set's dropout task over n elements, one task per block. */
static inline void dsp_dropout_run(const dsp_kctx *k, dsp_task_fn task, float *x, size_t n, dsp_dropout d,
                                   uint8_t *keep, const float *residual, const int *row_index, int row_len) {
    dsp_dropout_job j = {.x = x, .n = n, .key = dsp_stream_key(d.seed, d.stream), .p = d.p,
                         .scale = dsp_dropout_scale(d.p), .keep = keep, .residual = residual,
                         .row_index = row_index, .row_len = (size_t)(row_len > 0 ? row_len : 1)};
    dsp_pool_run(k->pool, task, &j, (int)((n + DSP_DROPOUT_PER_TASK - 1) / DSP_DROPOUT_PER_TASK));
}

/* The integer form of "uniform >= p": the uniform is u·2⁻²⁴ for the hash's top 24 bits u (exact in float), so
 * it is >= p exactly when u >= ⌈p·2²⁴⌉ (p·2²⁴ is exact too). */
static inline int32_t dsp_dropout_threshold(float p) {
    if (!(p <= 1.0f)) return 16777217; /* p > 1 or NaN: nothing is kept, as "u·2⁻²⁴ >= p" is then always false */
    if (p <= 0.0f) return 0;
    return (int32_t)ceil((double)p * 16777216.0);
}

/* The scalar task (the reference, and the vector tasks' tails): elements [i, end). */
static inline void dsp_dropout_span(const dsp_dropout_job *j, size_t i, size_t end) {
    for (; i < end; i++) {
        float f = dsp_dropout_keyed(j->key, dsp_dropout_index(j, i), j->p, j->scale);
        if (j->keep) j->keep[i] = f != 0.0f;
        j->x[i] *= f;
        if (j->residual) j->x[i] += j->residual[i];
    }
}

/* AdamW on element i (dsp_adamw_hyper): the scalar reference, and the vector kernels' tails. */
static inline void dsp_adamw_elem(float *p, float *m, float *v, const float *grad, size_t i, const dsp_adamw_hyper *h) {
    float g = grad[i] * h->scale;
    m[i] = h->beta1 * m[i] + (1.0f - h->beta1) * g;
    v[i] = h->beta2 * v[i] + (1.0f - h->beta2) * g * g;
    p[i] -= h->lr * ((m[i] / h->bc1) / (sqrtf(v[i] / h->bc2) + h->eps) + h->weight_decay * p[i]);
}

/* Attention backward scratch, per thread: P' = P∘m and dS of one block (len × len each), and one row of
 * dropout factors and one gathered column, each part rounded up to 16 floats so that every thread's area
 * starts 64-byte aligned relative to the base. */
static inline size_t dsp_attention_row_floats(int max_len) {
    return ((size_t)(max_len > 0 ? max_len : 1) + 15) & ~(size_t)15;
}
static inline size_t dsp_attention_square_floats(int max_len) {
    size_t row = dsp_attention_row_floats(max_len);
    return (row * row + 15) & ~(size_t)15;
}
static inline size_t dsp_attention_scratch_stride(int max_len) {
    return 2 * dsp_attention_square_floats(max_len) + 2 * dsp_attention_row_floats(max_len);
}

static inline int dsp_max_seq_len(const int *seq_len, int B) {
    int m = 0;
    for (int b = 0; b < B; b++) m = seq_len[b] > m ? seq_len[b] : m;
    return m;
}

/* The arguments of the attention kernels, and one (sequence, head) block of them: task = b·A + h. Sequence-major,
 * like the row order of the matmuls before and after: the pool hands each thread a contiguous range of tasks
 * first, so a thread reads the rows of qkv (or writes the rows of dqkv) that its share of those matmuls wrote
 * (or will read), and the heads of one sequence, whose gradients share rows of dqkv (and may share a cache line
 * at the heads' boundary), run one after the other on one thread. */
typedef struct {
    float *out, *att, *dqkv, *scratch;
    const float *qkv, *dout, *att_in;
    const int *seq_off, *seq_len;
    const size_t *att_off;
    uint8_t *keep_out;      /* forward: the probabilities' dropout mask is recorded here (or NULL) */
    const uint8_t *keep_in; /* backward: the recorded mask (or NULL: hash again) */
    int B, H, A, max_len;
    dsp_dropout drop;
    int cls_only; /* only each sequence's first token queries (dsp_attention_forward) */
} dsp_attn_job;

typedef struct {
    int len, off, d;    /* tokens, first token, head size */
    size_t blk;         /* offset of the block's len×len probabilities in att */
    size_t row, q, k, v; /* floats per token in qkv (3H); offsets of head h's q, k, v within a token's row */
    float scale, keep;  /* 1/√d; the dropout factor of a kept probability */
} dsp_attn_block;

static inline dsp_attn_block dsp_attn_block_of(const dsp_attn_job *a, int task) {
    int b = task / a->A, h = task % a->A, d = a->H / a->A;
    dsp_attn_block B;
    B.len = a->seq_len[b];
    B.off = a->seq_off[b];
    B.d = d;
    B.blk = a->att_off[b] + (size_t)h * B.len * B.len;
    B.row = (size_t)3 * a->H;
    B.q = (size_t)h * d;
    B.k = (size_t)a->H + B.q;
    B.v = (size_t)2 * a->H + B.q;
    B.scale = 1.0f / sqrtf((float)d);
    B.keep = dsp_dropout_scale(a->drop.p);
    return B;
}

/* Token t's q (or k, v: pass B->k, B->v) of the block's head. */
static inline const float *dsp_attn_vec(const dsp_attn_job *a, const dsp_attn_block *B, int t, size_t part) {
    return a->qkv + (size_t)(B->off + t) * B->row + part;
}

/* dqkv of the block's rows and head: owned by this block alone, overwritten (zeroed, then accumulated). */
static inline void dsp_attn_zero_grads(const dsp_attn_job *a, const dsp_attn_block *B) {
    for (int i = 0; i < B->len; i++) {
        float *g = a->dqkv + (size_t)(B->off + i) * B->row;
        memset(g + B->q, 0, (size_t)B->d * sizeof(float));
        memset(g + B->k, 0, (size_t)B->d * sizeof(float));
        memset(g + B->v, 0, (size_t)B->d * sizeof(float));
    }
}

/* The attention algorithm, written once; each kernel set passes its arithmetic, which inlines here:
 *   dots(x, y0, stride, cnt, n, out)   out[j] = Σ x·y_j, y_j = y0 + j·stride, each in the set's own order
 *                                      whatever cnt (several chains in flight at once, x loaded once for them)
 *   gemv(y, coef, x0, stride, cnt, n)  y += Σ_j coef[j]·x_j, x_j = x0 + j·stride, j increasing for every element
 *                                      (the bits of cnt passes of y += a·x, with y held in registers in between:
 *                                      such passes would each wait on the previous one's stores)
 *   softmax(out, in, n)
 * Per block: scores = q·kᵀ/√d over the sequence's own tokens, softmax (saved in att, before dropout),
 * out = dropout(P)·v. */
typedef void (*dsp_dots_fn)(const float *x, const float *y0, size_t stride, int count, int n, float *out);
typedef void (*dsp_gemv_fn)(float *y, const float *coef, const float *x0, size_t stride, int count, int n);
typedef void (*dsp_softmax_fn)(float *out, const float *in, int n);

/* dst[j] = dot(x, token j's vector at `part`) · scale for j in [0, len). */
static inline void dsp_attn_dots(const dsp_attn_job *a, const dsp_attn_block *B, const float *x, size_t part,
                                 float scale, float *dst, dsp_dots_fn dots) {
    dots(x, dsp_attn_vec(a, B, 0, part), B->row, B->len, B->d, dst);
    for (int j = 0; j < B->len; j++) dst[j] = dst[j] * scale;
}

#define DSP_ATTN_CHUNK 64 /* probabilities per gemv call in the forward (a stack buffer; any length works) */

static inline void dsp_attn_forward_block(const dsp_attn_job *a, int task, dsp_dots_fn dots, dsp_gemv_fn gemv,
                                          dsp_softmax_fn softmax) {
    dsp_attn_block B = dsp_attn_block_of(a, task);
    float *P = a->att + B.blk; /* [len, len] */
    const uint64_t key = dsp_stream_key(a->drop.seed, a->drop.stream);
    const int queries = a->cls_only ? 1 : B.len;
    const float drop_p = a->drop.p;
    uint8_t *keep_out = a->keep_out; /* locals: a store through a byte pointer would make gcc reload a's fields */
    for (int i = 0; i < queries; i++) {
        const float *q = dsp_attn_vec(a, &B, i, B.q); /* [d] */
        float *row = P + (size_t)i * B.len;
        dsp_attn_dots(a, &B, q, B.k, B.scale, row, dots);
        softmax(row, row, B.len);
        float *o = a->out + (size_t)(B.off + i) * a->H + B.q; /* [d] */
        memset(o, 0, (size_t)B.d * sizeof(float));
        for (int j0 = 0; j0 < B.len; j0 += DSP_ATTN_CHUNK) {
            int n = B.len - j0 < DSP_ATTN_CHUNK ? B.len - j0 : DSP_ATTN_CHUNK;
            float coef[DSP_ATTN_CHUNK]; /* the probabilities after dropout */
            for (int j = 0; j < n; j++) {
                float p = row[j0 + j];
                if (drop_p > 0.0f) {
                    size_t idx = B.blk + (size_t)i * B.len + j0 + j;
                    float f = dsp_dropout_keyed(key, idx, drop_p, B.keep);
                    if (keep_out) keep_out[idx] = f != 0.0f;
                    p *= f;
                }
                coef[j] = p;
            }
            gemv(o, coef, dsp_attn_vec(a, &B, j0, B.v), B.row, n, B.d);
        }
    }
}

/* With P the saved probabilities, m the dropout factors and P' = P∘m the probabilities that multiplied V:
 *   dP'[i,j] = dout_i·v_j,  dP = dP'∘m,  dS[i,j] = scale·P[i,j]·(dP[i,j] − Σ_j' P[i,j']·dP[i,j']),
 *   dq_i = Σ_j dS[i,j]·k_j,  dv_j = Σ_i P'[i,j]·dout_i,  dk_j = Σ_i dS[i,j]·q_i.
 * A first pass over the rows i computes P' and dS into the thread's scratch and dq; a second pass over the
 * columns j gathers column j and sums dv_j and dk_j over i in registers. Every gradient element adds its terms
 * one at a time, i (or j) increasing, onto zero: the block's rows of dqkv belong to this task alone. With
 * cls_only, the rows i > 0 (whose dout is zero) are skipped: they would add only zeros. */
static inline void dsp_attn_backward_block(const dsp_attn_job *a, int task, int thread, dsp_dots_fn dots,
                                           dsp_gemv_fn gemv) {
    dsp_attn_block B = dsp_attn_block_of(a, task);
    const float *P = a->att_in + B.blk; /* [len, len] */
    const size_t row = dsp_attention_row_floats(a->max_len), sq = dsp_attention_square_floats(a->max_len);
    float *Pm = a->scratch + (size_t)thread * dsp_attention_scratch_stride(a->max_len); /* [len, len] P' */
    float *dS = Pm + sq;                                                              /* [len, len] */
    float *mrow = dS + sq, *col = mrow + row;                                         /* [len] each */
    const uint64_t key = dsp_stream_key(a->drop.seed, a->drop.stream);
    const int L = B.len, queries = a->cls_only ? 1 : L;
    dsp_attn_zero_grads(a, &B);
    for (int i = 0; i < queries; i++) {
        const float *p = P + (size_t)i * L;
        const float *go = a->dout + (size_t)(B.off + i) * a->H + B.q; /* [d] */
        float *pm = Pm + (size_t)i * L, *ds = dS + (size_t)i * L;
        const size_t at = B.blk + (size_t)i * L; /* the row's dropout index */
        if (!(a->drop.p > 0.0f))
            for (int j = 0; j < L; j++) mrow[j] = 1.0f;
        else if (a->keep_in) /* the forward's factors, B.keep or 0, without hashing again; as 1·keep or 0·keep (the
                              * same values), since a branch on a random mask bit is mispredicted often enough to
                              * show in the backward's time */
            for (int j = 0; j < L; j++) mrow[j] = (float)a->keep_in[at + j] * B.keep;
        else
            for (int j = 0; j < L; j++) mrow[j] = dsp_dropout_keyed(key, at + j, a->drop.p, B.keep);
        dots(go, dsp_attn_vec(a, &B, 0, B.v), B.row, L, B.d, ds); /* dP' (unscaled) */
        float rowdot = 0.0f;
        for (int j = 0; j < L; j++) {
            pm[j] = p[j] * mrow[j];
            ds[j] = ds[j] * mrow[j]; /* dP */
            rowdot += p[j] * ds[j];
        }
        for (int j = 0; j < L; j++) ds[j] = p[j] * (ds[j] - rowdot) * B.scale;
        gemv(a->dqkv + (size_t)(B.off + i) * B.row + B.q, ds, dsp_attn_vec(a, &B, 0, B.k), B.row, L, B.d);
    }
    for (int j = 0; j < L; j++) {
        float *dkv = a->dqkv + (size_t)(B.off + j) * B.row;
        for (int i = 0; i < queries; i++) col[i] = Pm[(size_t)i * L + j];
        gemv(dkv + B.v, col, a->dout + (size_t)B.off * a->H + B.q, (size_t)a->H, queries, B.d);
        for (int i = 0; i < queries; i++) col[i] = dS[(size_t)i * L + j];
        gemv(dkv + B.k, col, dsp_attn_vec(a, &B, 0, B.q), B.row, queries, B.d);
    }
}

/* The public entry points' bodies: fill the job, run one task per (sequence, head). */
static inline void dsp_attn_forward_run(const dsp_kctx *k, dsp_task_fn fn, float *out, float *att, const float *qkv,
                                        const int *seq_off, const int *seq_len, const size_t *att_off, int B, int H,
                                        int A, dsp_dropout drop, uint8_t *keep, int cls_only) {
    dsp_attn_job a = {.out = out, .att = att, .qkv = qkv, .seq_off = seq_off, .seq_len = seq_len,
                      .att_off = att_off, .B = B, .H = H, .A = A, .drop = drop, .keep_out = keep,
                      .cls_only = cls_only};
    dsp_pool_run(k->pool, fn, &a, B * A);
}

static inline void dsp_attn_backward_run(const dsp_kctx *k, dsp_task_fn fn, float *dqkv, const float *dout,
                                         const float *qkv, const float *att, const int *seq_off, const int *seq_len,
                                         const size_t *att_off, int B, int H, int A, dsp_dropout drop,
                                         const uint8_t *keep, float *scratch, int cls_only) {
    dsp_attn_job a = {.dqkv = dqkv, .scratch = scratch, .qkv = qkv, .dout = dout, .att_in = att,
                      .seq_off = seq_off, .seq_len = seq_len, .att_off = att_off, .B = B, .H = H, .A = A,
                      .max_len = dsp_max_seq_len(seq_len, B), .drop = drop, .keep_in = keep,
                      .cls_only = cls_only};
    dsp_pool_run(k->pool, fn, &a, B * A);
}

/* Rows per task for row-parallel kernels: about 4 tasks per thread (so a slow thread is covered), and at
 * least `min_rows` rows so that a task is worth the hand-off. The split never changes a row's arithmetic. */
static inline int dsp_rows_per_task(const dsp_kctx *k, int rows, int min_rows) {
    int threads = dsp_pool_threads(k->pool);
    int per = (rows + 4 * threads - 1) / (4 * threads);
    if (per < min_rows) per = min_rows;
    return per < 1 ? 1 : per;
}

#endif
