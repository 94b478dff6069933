/* kernels.h — the compute kernels the encoder is built from (internal to the engine).
 *
 * Every kernel has a scalar reference (kernels_ref.c) and SIMD paths (kernels_simd.c and gemm_simd.c, written
 * once against the vector vocabulary of simd.h and compiled for 128-bit — SSE natively, wasm_simd128 in the
 * browser — and, natively, for 256-bit AVX2+FMA). dsp_kctx picks the set; the public dsp_* entry points below dispatch on it.
 *
 * Determinism: work is split into tasks whose outputs are disjoint, and each output element is reduced in one
 * fixed order that does not depend on the thread count, so 1, 2 or 4 threads give bit-identical results.
 * The scalar and SIMD128 paths use separate multiply and add (no FMA contraction) so that the native 128-bit
 * build and the WebAssembly build compute the same bits.
 *
 * Shapes: T tokens (rows), C input features, OC output features, H hidden, A heads, B sequences.
 * "+=" marks outputs that are accumulated into (gradients); everything else is overwritten.
 */
#ifndef DSP_KERNELS_H
#define DSP_KERNELS_H

#include "dissipate.h"

struct dsp_prof;
typedef struct {
    dsp_pool *pool;        /* may be NULL: serial */
    dsp_kernels set;       /* resolved: SCALAR, SIMD128 or AVX2 */
    struct dsp_prof *prof; /* NULL, or each kernel call's wall time is added to it under the kernel's name
                            * (profile.h) */
} dsp_kctx;

/* Inverted dropout driven by the counter-based generator: element idx is kept iff
 * dsp_uniform(seed, stream, idx) >= p, and a kept element is scaled by 1/(1-p). p == 0 disables it. */
typedef struct { float p; uint64_t seed; uint64_t stream; } dsp_dropout;

/* ---- matmul (nn.Linear) */
/* out[T,OC] = inp[T,C] · w[OC,C]ᵀ + b[OC]   (b may be NULL) */
void dsp_matmul_forward(const dsp_kctx *k, float *out, const float *inp, const float *w, const float *b,
                        int T, int C, int OC);
/* dinp[T,C] += dout[T,OC] · w[OC,C]       (dinp may be NULL)
 * dw[OC,C]  += dout[T,OC]ᵀ · inp[T,C]
 * db[OC]    += Σ_t dout[t,OC]             (db may be NULL) */
void dsp_matmul_backward(const dsp_kctx *k, float *dinp, float *dw, float *db, const float *dout,
                         const float *inp, const float *w, int T, int C, int OC);
/* The same, except that dinp is overwritten: dinp = dout · w, the bits of accumulating into zeros, without a
 * zeroing pass and without reading dinp. */
void dsp_matmul_backward_overwrite(const dsp_kctx *k, float *dinp, float *dw, float *db, const float *dout,
                                   const float *inp, const float *w, int T, int C, int OC);
/* The backward of out = gelu(pre)·wᵀ + b, through the GELU: dinp[T,C] = (dout · w) ∘ gelu'(pre) (overwritten; cdf:
 * the forward's Φ(pre), or NULL), dw and db as above. The SIMD sets apply the GELU to each block of dinp while it is
 * in cache instead of in a second pass. The bits are those of dsp_matmul_backward_overwrite followed by
 * dsp_gelu_backward; in the 256-bit set only when C is a multiple of 8 (otherwise a row's last elements may take the
 * GELU's scalar form where the two passes took its vector form, which can differ by an ulp). */
void dsp_matmul_backward_gelu(const dsp_kctx *k, float *dinp, float *dw, float *db, const float *dout,
                              const float *inp, const float *w, const float *pre, const float *cdf, int T, int C,
                              int OC);

/* ---- layernorm over the last dimension */
/* out[T,C] = (inp - mean)·rstd·w + b; mean[T], rstd[T] are saved for the backward. */
void dsp_layernorm_forward(const dsp_kctx *k, float *out, float *mean, float *rstd, const float *inp,
                           const float *w, const float *b, int T, int C, float eps);
/* dinp[T,C] = ... (overwritten: the bits of accumulating into zeros; dinp may be dout itself), dw[C] += ...,
 * db[C] += ... */
void dsp_layernorm_backward(const dsp_kctx *k, float *dinp, float *dw, float *db, const float *dout,
                            const float *inp, const float *w, const float *mean, const float *rstd, int T, int C);

/* ---- GELU, the erf form: x·Φ(x), Φ(x) = ½(1 + erf(x/√2))
 * cdf (may be NULL) receives Φ(inp) for the backward, which then skips the erf. */
void dsp_gelu_forward(const dsp_kctx *k, float *out, float *cdf, const float *inp, size_t n);
/* dinp[n] = dout · gelu'(inp), overwritten (the bits of accumulating into zeros); cdf: the forward's, or NULL */
void dsp_gelu_backward(const dsp_kctx *k, float *dinp, const float *inp, const float *cdf, const float *dout,
                       size_t n);

/* ---- softmax over rows: out[R,C] = softmax(inp[R,C]) (max-subtracted) */
void dsp_softmax_forward(const dsp_kctx *k, float *out, const float *inp, int R, int C);

/* ---- multi-head self-attention over a ragged batch (each sequence attends to its own tokens only)
 * qkv[T,3H]: per token the query (H), key (H) and value (H) vectors; head a uses features [a·d, (a+1)·d), d = H/A.
 * att: softmax probabilities before dropout, for sequence b and head a a len_b × len_b block at
 *      att_off[b] + a·len_b² (att_off[b] = A·Σ_{b'<b} len_b'²; the caller sizes it).
 * out[T,H] = concat_a( dropout(softmax(q kᵀ/√d)) · v ).
 * Dropout index of element (b, a, i, j) is att_off[b] + a·len_b² + i·len_b + j; keep (as many bytes as att, or
 * NULL) records the mask there, 1 for a kept probability, for the backward.
 * cls_only: only each sequence's first token ([CLS]) queries: its row of out, att and keep is computed, the other
 * rows are left as they were; the backward then takes dout on those rows only (the others as zero), and gives
 * the bits the full backward gives with the others' dout zero. */
void dsp_attention_forward(const dsp_kctx *k, float *out, float *att, const float *qkv, const int *seq_off,
                           const int *seq_len, const size_t *att_off, int B, int H, int A, dsp_dropout drop,
                           uint8_t *keep, int cls_only);
/* dqkv[T,3H] is overwritten (not accumulated). scratch holds dsp_attention_scratch_floats(max_len, threads).
 * keep: the forward's recorded mask (the same bits as hashing every element again, which NULL does). */
void dsp_attention_backward(const dsp_kctx *k, float *dqkv, const float *dout, const float *qkv,
                            const float *att, const int *seq_off, const int *seq_len, const size_t *att_off,
                            int B, int H, int A, dsp_dropout drop, const uint8_t *keep, float *scratch,
                            int cls_only);
size_t dsp_attention_scratch_floats(int max_len, int n_threads);

/* ---- dropout (in place). The mask comes from the generator; `keep` (n bytes, or NULL) records it, 1 for a kept
 * element and 0 for a dropped one, so that the backward applies the same mask with dsp_dropout_apply_kept instead
 * of hashing every element again (the hash is most of dropout's cost). */
void dsp_dropout_apply(const dsp_kctx *k, float *x, size_t n, dsp_dropout drop, uint8_t *keep);
/* x = dropout(x) + residual, the bits of dsp_dropout_apply followed by dsp_vec_add(x, residual) in one pass over x
 * (a residual connection: the sublayer's output, dropped out, plus the layer's input). keep as dsp_dropout_apply. */
void dsp_dropout_add(const dsp_kctx *k, float *x, size_t n, dsp_dropout drop, uint8_t *keep, const float *residual);
/* dsp_dropout_add over a compact tensor: x[rows, len] (and residual) are rows row_index[r] of the site's full
 * tensor, and each element gets the mask bit of its place there, so the result is those rows of dsp_dropout_add
 * over the full tensor, bit for bit. keep records the mask compactly (rows·len bytes). */
void dsp_dropout_add_rows(const dsp_kctx *k, float *x, int rows, int len, const int *row_index, dsp_dropout drop,
                          uint8_t *keep, const float *residual);
/* out[i] = x[i] · (keep[i] ? 1/(1-p) : 0), the bits of dsp_dropout_apply with the mask it recorded; out may be x. */
void dsp_dropout_apply_kept(const dsp_kctx *k, float *out, const float *x, size_t n, float p, const uint8_t *keep);

/* ---- AdamW's update of n elements (the optimiser's inner loop; dsp_optimizer_step splits, masks and clips):
 * g = grad·scale, m = β1·m + (1−β1)·g, v = β2·v + (1−β2)·g·g, p −= lr·((m/bc1)/(√(v/bc2) + ε) + wd·p).
 * Division and square root are correctly rounded in every vector lane, and no multiply-add is fused, so every
 * set computes the same bits; the wider ones only divide more lanes at once (the divider is the limit here). */
typedef struct {
    float beta1, beta2, lr, scale, eps, weight_decay, bc1, bc2; /* bc = 1 − β^t, the bias corrections */
} dsp_adamw_hyper;
typedef void (*dsp_adamw_span_fn)(float *p, float *m, float *v, const float *grad, size_t n, const dsp_adamw_hyper *h);
dsp_adamw_span_fn dsp_adamw_span_for(dsp_kernels set); /* AUTO: the widest this CPU runs */

/* ---- memory for buffers that parallel tasks write: every buffer starts on a 64-byte cache line (with malloc's
 * 16-byte alignment, the rows of two tasks could share a line and make both cores wait on it), and it is aligned
 * for any vector width. dsp_pad_to_line rounds a float count up to whole lines, so that buffers laid out one after
 * another stay aligned. Free with free(). */
#define DSP_LINE_BYTES 64
size_t dsp_pad_to_line(size_t floats);
float *dsp_alloc_lines(size_t floats); /* NULL if memory is short; a size of 0 gets one line */
/* The capacity to give a buffer that grows with the batch: a quarter more than `need`. Token counts of
 * successive batches differ by a few percent; without the margin every new largest batch reallocates, and the
 * fresh pages fault in on first touch (about 50 ms a time for the tiny model's training buffers). */
size_t dsp_grow_capacity(size_t need);

/* ---- element-wise helpers split over the pool (memory-bound: no SIMD variants needed) */
void dsp_vec_zero(const dsp_kctx *k, float *y, size_t n);               /* y[n] = 0 */
void dsp_vec_add(const dsp_kctx *k, float *y, const float *x, size_t n); /* y[n] += x[n] */

/* ---- per-set implementations, for tests and benchmarks (the dispatchers above call these) */
#define DSP_DECLARE_KERNEL_SET(sfx)                                                                          \
    void dsp_matmul_forward_##sfx(const dsp_kctx *k, float *out, const float *inp, const float *w,         \
                                  const float *b, int T, int C, int OC);                                    \
    void dsp_matmul_backward_##sfx(const dsp_kctx *k, float *dinp, float *dw, float *db, const float *dout, \
                                   const float *inp, const float *w, int T, int C, int OC, int dinp_set,    \
                                   const float *gelu_pre, const float *gelu_cdf);                           \
    void dsp_layernorm_forward_##sfx(const dsp_kctx *k, float *out, float *mean, float *rstd,               \
                                     const float *inp, const float *w, const float *b, int T, int C,        \
                                     float eps);                                                            \
    void dsp_layernorm_backward_##sfx(const dsp_kctx *k, float *dinp, float *dw, float *db,                 \
                                      const float *dout, const float *inp, const float *w,                  \
                                      const float *mean, const float *rstd, int T, int C);                  \
    void dsp_gelu_forward_##sfx(const dsp_kctx *k, float *out, float *cdf, const float *inp, size_t n);    \
    void dsp_gelu_backward_##sfx(const dsp_kctx *k, float *dinp, const float *inp, const float *cdf,       \
                                 const float *dout, size_t n);                                              \
    void dsp_softmax_forward_##sfx(const dsp_kctx *k, float *out, const float *inp, int R, int C);         \
    void dsp_attention_forward_##sfx(const dsp_kctx *k, float *out, float *att, const float *qkv,          \
                                     const int *seq_off, const int *seq_len, const size_t *att_off, int B,  \
                                     int H, int A, dsp_dropout drop, uint8_t *keep, int cls_only);          \
    void dsp_attention_backward_##sfx(const dsp_kctx *k, float *dqkv, const float *dout, const float *qkv, \
                                      const float *att, const int *seq_off, const int *seq_len,             \
                                      const size_t *att_off, int B, int H, int A, dsp_dropout drop,         \
                                      const uint8_t *keep, float *scratch, int cls_only);                   \
    void dsp_dropout_apply_##sfx(const dsp_kctx *k, float *x, size_t n, dsp_dropout drop, uint8_t *keep,   \
                                 const float *residual, const int *row_index, int row_len);                 \
    void dsp_adamw_span_##sfx(float *p, float *m, float *v, const float *grad, size_t n,                   \
                              const dsp_adamw_hyper *h);

DSP_DECLARE_KERNEL_SET(scalar)
DSP_DECLARE_KERNEL_SET(simd128)
DSP_DECLARE_KERNEL_SET(simd128vex)
DSP_DECLARE_KERNEL_SET(avx2)
/* The avx512 set is avx2's but for the matmuls, which its 512-bit object (gemm_simd.c alone) provides. */
void dsp_matmul_forward_avx512(const dsp_kctx *k, float *out, const float *inp, const float *w, const float *b, int T,
                               int C, int OC);
void dsp_matmul_backward_avx512(const dsp_kctx *k, float *dinp, float *dw, float *db, const float *dout,
                                const float *inp, const float *w, int T, int C, int OC, int dinp_set,
                                const float *gelu_pre, const float *gelu_cdf);

/* ---- the arithmetic ceiling of a vector set, for benchmarks: `reps` rounds of DSP_PEAK_CHAINS independent
 * accumulations c += x·m with the set's multiply-add (vf_madd, as its GEMM micro-kernel uses it: fused in AVX2, a
 * multiply then an add in the 128-bit sets), x read from L1 and c kept in registers, so that only the multiply and
 * add units limit it. Returns a value that depends on every operation, so that none is optimised away. The work is
 * reps · DSP_PEAK_CHAINS · lanes · 2 flops. */
#define DSP_PEAK_CHAINS 10
typedef float (*dsp_peak_fn)(long reps);
/* The set's ceiling loop and its lanes, or NULL for the scalar reference (which makes no claim to speed). */
dsp_peak_fn dsp_peak_for(dsp_kernels set, int *lanes);
float dsp_peak_madd_simd128(long reps);
float dsp_peak_madd_simd128vex(long reps);
float dsp_peak_madd_avx2(long reps);
float dsp_peak_madd_avx512(long reps);

#endif
