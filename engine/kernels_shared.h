/* kernels_shared.h — what the kernel files (kernels.c, kernels_ref.c, kernels_simd.c) must agree on:
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

/* Element idx's dropout factor: `scale` if kept (uniform >= p), else 0. p >= 1 drops everything. */
static inline float dsp_dropout_factor(dsp_dropout d, uint64_t idx, float scale) {
    return dsp_uniform_inline(d.seed, d.stream, idx) >= d.p ? scale : 0.0f;
}

/* Attention backward scratch: per thread, two rows of the longest sequence (dropout factors, dP), each
 * rounded up to 16 floats so that every thread's block starts 64-byte aligned relative to the base. */
static inline size_t dsp_attention_scratch_stride(int max_len) {
    size_t row = ((size_t)(max_len > 0 ? max_len : 1) + 15) & ~(size_t)15;
    return 2 * row;
}

static inline int dsp_max_seq_len(const int *seq_len, int B) {
    int m = 0;
    for (int b = 0; b < B; b++) m = seq_len[b] > m ? seq_len[b] : m;
    return m;
}

/* The arguments of the attention kernels, and one (sequence, head) block of them: task = h·B + b. Head-major
 * order keeps the two heads of one sequence (whose gradients share the rows of dqkv, and may share a cache line
 * at the heads' boundary) out of the pool at the same moment. */
typedef struct {
    float *out, *att, *dqkv, *scratch;
    const float *qkv, *dout, *att_in;
    const int *seq_off, *seq_len;
    const size_t *att_off;
    int B, H, A, max_len;
    dsp_dropout drop;
} dsp_attn_job;

typedef struct {
    int len, off, d;    /* tokens, first token, head size */
    size_t blk;         /* offset of the block's len×len probabilities in att */
    size_t row, q, k, v; /* floats per token in qkv (3H); offsets of head h's q, k, v within a token's row */
    float scale, keep;  /* 1/√d; the dropout factor of a kept probability */
} dsp_attn_block;

static inline dsp_attn_block dsp_attn_block_of(const dsp_attn_job *a, int task) {
    int b = task % a->B, h = task / a->B, d = a->H / a->A;
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

/* The dropout factors of row i of the block's probabilities (1 without dropout). */
static inline void dsp_attn_drop_row(const dsp_attn_job *a, const dsp_attn_block *B, int i, float *m) {
    for (int j = 0; j < B->len; j++)
        m[j] = a->drop.p > 0.0f ? dsp_dropout_factor(a->drop, B->blk + (size_t)i * B->len + j, B->keep) : 1.0f;
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

/* The attention algorithm, written once; each kernel set passes its dot product, axpy (y += a·x) and row
 * softmax, which inline here. Per block: scores = q·kᵀ/√d over the sequence's own tokens, softmax (saved in
 * att, before dropout), out = dropout(P)·v. */
typedef float (*dsp_dot_fn)(const float *x, const float *y, int n);
typedef void (*dsp_axpy_fn)(float *y, float a, const float *x, int n);
typedef void (*dsp_softmax_fn)(float *out, const float *in, int n);

static inline void dsp_attn_forward_block(const dsp_attn_job *a, int task, dsp_dot_fn dot, dsp_axpy_fn axpy,
                                          dsp_softmax_fn softmax) {
    dsp_attn_block B = dsp_attn_block_of(a, task);
    float *P = a->att + B.blk; /* [len, len] */
    for (int i = 0; i < B.len; i++) {
        const float *q = dsp_attn_vec(a, &B, i, B.q); /* [d] */
        float *row = P + (size_t)i * B.len;
        for (int j = 0; j < B.len; j++) row[j] = dot(q, dsp_attn_vec(a, &B, j, B.k), B.d) * B.scale;
        softmax(row, row, B.len);
        float *o = a->out + (size_t)(B.off + i) * a->H + B.q; /* [d] */
        memset(o, 0, (size_t)B.d * sizeof(float));
        for (int j = 0; j < B.len; j++) {
            float p = row[j];
            if (a->drop.p > 0.0f) p *= dsp_dropout_factor(a->drop, B.blk + (size_t)i * B.len + j, B.keep);
            axpy(o, p, dsp_attn_vec(a, &B, j, B.v), B.d);
        }
    }
}

/* Per row i of the block, with P the saved probabilities, m the dropout factors and P' = P∘m the
 * probabilities that multiplied V:
 *   dP'[i,j] = dout_i·v_j,  dv_j += P'[i,j]·dout_i,  dP = dP'∘m,
 *   dS[i,j] = P[i,j]·(dP[i,j] − Σ_j' P[i,j']·dP[i,j']),
 *   dq_i = scale·Σ_j dS[i,j]·k_j,  dk_j += scale·dS[i,j]·q_i.
 * The block's rows of dqkv belong to this task alone; they are zeroed, then accumulated with i increasing.
 * `thread` picks the thread's two scratch rows (dsp_attention_scratch_floats). */
static inline void dsp_attn_backward_block(const dsp_attn_job *a, int task, int thread, dsp_dot_fn dot,
                                           dsp_axpy_fn axpy) {
    dsp_attn_block B = dsp_attn_block_of(a, task);
    const float *P = a->att_in + B.blk; /* [len, len] */
    size_t stride = dsp_attention_scratch_stride(a->max_len);
    float *mrow = a->scratch + (size_t)thread * stride; /* [len] dropout factors */
    float *dprow = mrow + stride / 2;                   /* [len] dP */
    dsp_attn_zero_grads(a, &B);
    for (int i = 0; i < B.len; i++) {
        const float *p = P + (size_t)i * B.len;
        const float *go = a->dout + (size_t)(B.off + i) * a->H + B.q; /* [d] */
        const float *q = dsp_attn_vec(a, &B, i, B.q);
        float *dq = a->dqkv + (size_t)(B.off + i) * B.row + B.q;
        dsp_attn_drop_row(a, &B, i, mrow);
        float rowdot = 0.0f;
        for (int j = 0; j < B.len; j++) {
            float s = dot(go, dsp_attn_vec(a, &B, j, B.v), B.d);
            axpy(a->dqkv + (size_t)(B.off + j) * B.row + B.v, p[j] * mrow[j], go, B.d);
            dprow[j] = s * mrow[j];
            rowdot += p[j] * dprow[j];
        }
        for (int j = 0; j < B.len; j++) {
            float ds = p[j] * (dprow[j] - rowdot) * B.scale;
            axpy(dq, ds, dsp_attn_vec(a, &B, j, B.k), B.d);
            axpy(a->dqkv + (size_t)(B.off + j) * B.row + B.k, ds, q, B.d);
        }
    }
}

/* The public entry points' bodies: fill the job, run one task per (sequence, head). */
static inline void dsp_attn_forward_run(const dsp_kctx *k, dsp_task_fn fn, float *out, float *att, const float *qkv,
                                        const int *seq_off, const int *seq_len, const size_t *att_off, int B, int H,
                                        int A, dsp_dropout drop) {
    dsp_attn_job a = {.out = out, .att = att, .qkv = qkv, .seq_off = seq_off, .seq_len = seq_len,
                      .att_off = att_off, .B = B, .H = H, .A = A, .drop = drop};
    dsp_pool_run(k->pool, fn, &a, B * A);
}

static inline void dsp_attn_backward_run(const dsp_kctx *k, dsp_task_fn fn, float *dqkv, const float *dout,
                                         const float *qkv, const float *att, const int *seq_off, const int *seq_len,
                                         const size_t *att_off, int B, int H, int A, dsp_dropout drop,
                                         float *scratch) {
    dsp_attn_job a = {.dqkv = dqkv, .scratch = scratch, .qkv = qkv, .dout = dout, .att_in = att,
                      .seq_off = seq_off, .seq_len = seq_len, .att_off = att_off, .B = B, .H = H, .A = A,
                      .max_len = dsp_max_seq_len(seq_len, B), .drop = drop};
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
