/* kernels_shared.h — what the kernel files (kernels.c, kernels_ref.c, kernels_simd.c) must agree on:
 * the dropout factor of an element, the layout of the attention backward's scratch, and how rows are cut
 * into tasks. Internal to those files. */
#ifndef DSP_KERNELS_SHARED_H
#define DSP_KERNELS_SHARED_H

#include "kernels.h"

/* The factor a kept element is multiplied by: 1/(1-p), rounded to float once. */
static inline float dsp_dropout_scale(float p) { return p < 1.0f ? 1.0f / (1.0f - p) : 0.0f; }

/* Element idx's dropout factor: `scale` if kept (uniform >= p), else 0. p >= 1 drops everything. */
static inline float dsp_dropout_factor(dsp_dropout d, uint64_t idx, float scale) {
    return dsp_uniform(d.seed, d.stream, idx) >= d.p ? scale : 0.0f;
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

/* Rows per task for row-parallel kernels: about 4 tasks per thread (so a slow thread is covered), and at
 * least `min_rows` rows so that a task is worth the hand-off. The split never changes a row's arithmetic. */
static inline int dsp_rows_per_task(const dsp_kctx *k, int rows, int min_rows) {
    int threads = dsp_pool_threads(k->pool);
    int per = (rows + 4 * threads - 1) / (4 * threads);
    if (per < min_rows) per = min_rows;
    return per < 1 ? 1 : per;
}

#endif
