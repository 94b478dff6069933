/* kernels.c — the public kernel entry points: each dispatches on the context's kernel set to the scalar
 * reference (kernels_ref.c) or a SIMD build (kernels_simd.c). Also: choosing and naming the set, dropout,
 * the attention scratch size, and cache-line aligned buffers.
 *
 * The AVX2 object and the VEX-encoded 128-bit object exist only in native x86-64 builds (CMake defines
 * DSP_HAVE_AVX2 then); elsewhere a request for AVX2 (or for SIMD128_SSE2) resolves to an error, and a context
 * that names it anyway runs the 128-bit kernels. The 128-bit set runs its VEX object where the CPU has AVX:
 * the same operations in the same order, so the same bits, in three-operand instructions with a broadcast load.
 * The AVX-512 object (DSP_HAVE_AVX512) holds the GEMM alone: the avx512 set runs it for the matmuls and the AVX2
 * object for everything else. Its micro-kernel adds each element's products one fused multiply-add at a time in
 * increasing k, as AVX2's does, so the two sets give the same bits; it exists for the speed of CPUs whose 512-bit
 * units are full width (Zen 5: twice AVX2's multiply-adds per cycle).
 */
#include "kernels.h"
#include "kernels_shared.h"
#include "profile.h"

#include <stdlib.h>
#include <string.h>

const char *dsp_kernels_name(dsp_kernels k) {
    switch (k) {
    case DSP_KERNELS_AUTO: return "auto";
    case DSP_KERNELS_SCALAR: return "scalar";
    case DSP_KERNELS_SIMD128: return "simd128";
    case DSP_KERNELS_AVX2: return "avx2";
    case DSP_KERNELS_SIMD128_SSE2: return "sse2";
    case DSP_KERNELS_AVX512: return "avx512";
    }
    return "unknown";
}

int dsp_kernels_parse(const char *name, dsp_kernels *out) {
    static const dsp_kernels all[] = {DSP_KERNELS_AUTO, DSP_KERNELS_SCALAR, DSP_KERNELS_SIMD128, DSP_KERNELS_AVX2,
                                      DSP_KERNELS_SIMD128_SSE2, DSP_KERNELS_AVX512};
    if (!name) return -1;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(name, dsp_kernels_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    return -1;
}

/* Does this build contain the AVX2 kernels, and does this CPU run them? */
static int avx2_available(void) {
#if defined(DSP_HAVE_AVX2) && (defined(__GNUC__) || defined(__clang__))
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/* Does this build contain the 512-bit GEMM, and does this CPU run it (and the AVX2 kernels beside it)? */
static int avx512_available(void) {
#if defined(DSP_HAVE_AVX512) && (defined(__GNUC__) || defined(__clang__))
    return avx2_available() && __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

/* Does this build contain the VEX-encoded 128-bit kernels, and does this CPU run them? */
#ifdef DSP_HAVE_AVX2
static int vex128_available(void) {
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_cpu_supports("avx");
#else
    return 0;
#endif
}
#endif

int dsp_kernels_resolve(dsp_kernels want, dsp_kernels *got, dsp_err *err) {
    switch (want) {
    case DSP_KERNELS_AUTO:
        *got = avx512_available() ? DSP_KERNELS_AVX512 : avx2_available() ? DSP_KERNELS_AVX2 : DSP_KERNELS_SIMD128;
        return 0;
    case DSP_KERNELS_SCALAR:
    case DSP_KERNELS_SIMD128:
        *got = want;
        return 0;
    case DSP_KERNELS_AVX2:
#ifndef DSP_HAVE_AVX2
        return dsp_fail(err, "kernels \"avx2\": this build has no AVX2 kernels (they exist only in native x86-64 "
                             "builds); use \"simd128\" or \"auto\"");
#else
        if (!avx2_available())
            return dsp_fail(err, "kernels \"avx2\": this CPU lacks AVX2 or FMA; use \"simd128\" or \"auto\"");
        *got = want;
        return 0;
#endif
    case DSP_KERNELS_AVX512:
#ifndef DSP_HAVE_AVX512
        return dsp_fail(err, "kernels \"avx512\": this build has no AVX-512 GEMM (it exists only in native x86-64 "
                             "builds); use \"avx2\", \"simd128\" or \"auto\"");
#else
        if (!avx512_available())
            return dsp_fail(err, "kernels \"avx512\": this CPU lacks AVX-512F (or AVX2 and FMA); use \"auto\"");
        *got = want;
        return 0;
#endif
    case DSP_KERNELS_SIMD128_SSE2:
#ifndef DSP_HAVE_AVX2
        return dsp_fail(err, "kernels \"sse2\": only native x86-64 builds have the SSE2 encoding; use \"simd128\"");
#else
        *got = want;
        return 0;
#endif
    }
    return dsp_fail(err, "kernels: unknown kernel set %d (expected auto, scalar, simd128, sse2, avx2 or avx512)",
                    (int)want);
}

/* The compiled object a set runs on. */
typedef enum { OBJ_SCALAR, OBJ_SIMD128, OBJ_SIMD128_VEX, OBJ_AVX2, OBJ_AVX512 } kernel_object;

/* The object a context really runs: AUTO (an unresolved context) is resolved here; SIMD128 takes the VEX object
 * where the CPU has AVX; AVX2 and SIMD128_SSE2 fall back to the 128-bit kernels where they are not built in, AVX512
 * to AVX2 (the same bits) where it is not. */
static kernel_object object_for(dsp_kernels s) {
    if (s == DSP_KERNELS_AUTO) dsp_kernels_resolve(s, &s, NULL);
    switch (s) {
    case DSP_KERNELS_SCALAR: return OBJ_SCALAR;
#ifdef DSP_HAVE_AVX2
    case DSP_KERNELS_AVX2: return OBJ_AVX2;
#ifdef DSP_HAVE_AVX512
    case DSP_KERNELS_AVX512: return OBJ_AVX512;
#else
    case DSP_KERNELS_AVX512: return OBJ_AVX2;
#endif
    case DSP_KERNELS_SIMD128: return vex128_available() ? OBJ_SIMD128_VEX : OBJ_SIMD128;
#endif
    default: return OBJ_SIMD128;
    }
}

const char *dsp_kernels_encoding(dsp_kernels set) {
    switch (object_for(set)) {
    case OBJ_SCALAR: return "scalar C";
#if defined(__EMSCRIPTEN__)
    case OBJ_SIMD128: return "wasm simd128";
#elif defined(__aarch64__)
    case OBJ_SIMD128: return "128-bit NEON";
#else
    case OBJ_SIMD128: return "128-bit SSE2";
#endif
    case OBJ_SIMD128_VEX: return "128-bit AVX encoding";
    case OBJ_AVX2: return "256-bit AVX2 + FMA";
    case OBJ_AVX512: return "512-bit AVX-512F matmuls, 256-bit AVX2 + FMA elsewhere";
    }
    return "?";
}

/* Every dispatch is a part of the step's profile (k->prof, profile.h), named after the public function that makes
 * it, so that dsp_matmul_backward_gelu and dsp_matmul_backward show apart. */
#ifdef DSP_HAVE_AVX2
#define DISPATCH(name, ...)                                              \
    dsp_prof_begin(k->prof);                                             \
    switch (object_for(k->set)) {                                        \
    case OBJ_SCALAR: name##_scalar(__VA_ARGS__); break;                  \
    case OBJ_AVX2:                                                       \
    case OBJ_AVX512: /* AVX2's, but for the matmuls (DISPATCH_GEMM) */   \
        name##_avx2(__VA_ARGS__);                                        \
        break;                                                           \
    case OBJ_SIMD128_VEX: name##_simd128vex(__VA_ARGS__); break;         \
    default: name##_simd128(__VA_ARGS__); break;                         \
    }                                                                    \
    dsp_prof_end(k->prof, __func__);
#else
#define DISPATCH(name, ...)                                              \
    dsp_prof_begin(k->prof);                                             \
    switch (object_for(k->set)) {                                        \
    case OBJ_SCALAR: name##_scalar(__VA_ARGS__); break;                  \
    default: name##_simd128(__VA_ARGS__); break;                         \
    }                                                                    \
    dsp_prof_end(k->prof, __func__);
#endif
#ifdef DSP_HAVE_AVX512 /* the matmuls: the avx512 set's own object */
#define DISPATCH_GEMM(name, ...)                                         \
    if (object_for(k->set) == OBJ_AVX512) {                              \
        dsp_prof_begin(k->prof);                                         \
        name##_avx512(__VA_ARGS__);                                      \
        dsp_prof_end(k->prof, __func__);                                 \
    } else {                                                             \
        DISPATCH(name, __VA_ARGS__)                                      \
    }
#else
#define DISPATCH_GEMM DISPATCH
#endif

dsp_adamw_span_fn dsp_adamw_span_for(dsp_kernels set) {
    switch (object_for(set)) {
    case OBJ_SCALAR: return dsp_adamw_span_scalar;
#ifdef DSP_HAVE_AVX2
    case OBJ_AVX2:
    case OBJ_AVX512: return dsp_adamw_span_avx2;
    case OBJ_SIMD128_VEX: return dsp_adamw_span_simd128vex;
#endif
    default: return dsp_adamw_span_simd128;
    }
}

dsp_peak_fn dsp_peak_for(dsp_kernels set, int *lanes) {
    switch (object_for(set)) {
    case OBJ_SCALAR: return NULL;
#ifdef DSP_HAVE_AVX2
    case OBJ_AVX2: *lanes = 8; return dsp_peak_madd_avx2;
#ifdef DSP_HAVE_AVX512
    case OBJ_AVX512: *lanes = 16; return dsp_peak_madd_avx512;
#endif
    case OBJ_SIMD128_VEX: *lanes = 4; return dsp_peak_madd_simd128vex;
#endif
    default: *lanes = 4; return dsp_peak_madd_simd128;
    }
}

void dsp_matmul_forward(const dsp_kctx *k, float *out, const float *inp, const float *w, const float *b, int T,
                        int C, int OC) {
    DISPATCH_GEMM(dsp_matmul_forward, k, out, inp, w, b, T, C, OC)
}

void dsp_matmul_backward(const dsp_kctx *k, float *dinp, float *dw, float *db, const float *dout,
                         const float *inp, const float *w, int T, int C, int OC) {
    DISPATCH_GEMM(dsp_matmul_backward, k, dinp, dw, db, dout, inp, w, T, C, OC, 0, NULL, NULL)
}

void dsp_matmul_backward_overwrite(const dsp_kctx *k, float *dinp, float *dw, float *db, const float *dout,
                                   const float *inp, const float *w, int T, int C, int OC) {
    DISPATCH_GEMM(dsp_matmul_backward, k, dinp, dw, db, dout, inp, w, T, C, OC, 1, NULL, NULL)
}

void dsp_matmul_backward_gelu(const dsp_kctx *k, float *dinp, float *dw, float *db, const float *dout,
                              const float *inp, const float *w, const float *pre, const float *cdf, int T, int C,
                              int OC) {
    DISPATCH_GEMM(dsp_matmul_backward, k, dinp, dw, db, dout, inp, w, T, C, OC, 1, pre, cdf)
}

void dsp_layernorm_forward(const dsp_kctx *k, float *out, float *mean, float *rstd, const float *inp,
                           const float *w, const float *b, int T, int C, float eps) {
    DISPATCH(dsp_layernorm_forward, k, out, mean, rstd, inp, w, b, T, C, eps)
}

void dsp_layernorm_backward(const dsp_kctx *k, float *dinp, float *dw, float *db, const float *dout,
                            const float *inp, const float *w, const float *mean, const float *rstd, int T, int C) {
    DISPATCH(dsp_layernorm_backward, k, dinp, dw, db, dout, inp, w, mean, rstd, T, C)
}

void dsp_gelu_forward(const dsp_kctx *k, float *out, float *cdf, const float *inp, size_t n) {
    DISPATCH(dsp_gelu_forward, k, out, cdf, inp, n)
}

void dsp_gelu_backward(const dsp_kctx *k, float *dinp, const float *inp, const float *cdf, const float *dout,
                       size_t n) {
    DISPATCH(dsp_gelu_backward, k, dinp, inp, cdf, dout, n)
}

void dsp_softmax_forward(const dsp_kctx *k, float *out, const float *inp, int R, int C) {
    DISPATCH(dsp_softmax_forward, k, out, inp, R, C)
}

void dsp_attention_forward(const dsp_kctx *k, float *out, float *att, const float *qkv, const int *seq_off,
                           const int *seq_len, const size_t *att_off, int B, int H, int A, dsp_dropout drop,
                           uint8_t *keep, int cls_only) {
    DISPATCH(dsp_attention_forward, k, out, att, qkv, seq_off, seq_len, att_off, B, H, A, drop, keep, cls_only)
}

void dsp_attention_backward(const dsp_kctx *k, float *dqkv, const float *dout, const float *qkv, const float *att,
                            const int *seq_off, const int *seq_len, const size_t *att_off, int B, int H, int A,
                            dsp_dropout drop, const uint8_t *keep, float *scratch, int cls_only) {
    DISPATCH(dsp_attention_backward, k, dqkv, dout, qkv, att, seq_off, seq_len, att_off, B, H, A, drop, keep, scratch,
             cls_only)
}

size_t dsp_attention_scratch_floats(int max_len, int n_threads) {
    return dsp_attention_scratch_stride(max_len) * (size_t)(n_threads > 0 ? n_threads : 1);
}

/* ---------------------------------------------------------------- dropout */

typedef struct {
    float *out;
    const float *x;
    float scale;
    size_t n;
    const uint8_t *kept;
} dropout_kept_job;

void dsp_dropout_apply(const dsp_kctx *k, float *x, size_t n, dsp_dropout drop, uint8_t *keep) {
    if (drop.p <= 0.0f || n == 0) return;
    DISPATCH(dsp_dropout_apply, k, x, n, drop, keep, NULL, NULL, 0)
}

/* dsp_dropout_add and dsp_dropout_add_rows: row_index NULL for a whole tensor. */
static void dropout_add(const dsp_kctx *k, float *x, size_t n, dsp_dropout drop, uint8_t *keep, const float *residual,
                        const int *row_index, int row_len) {
    if (n == 0) return;
    dsp_prof_begin(k->prof); /* one part, whichever way it goes */
    if (drop.p <= 0.0f) {
        dsp_vec_add(k, x, residual, n);
    } else {
        DISPATCH(dsp_dropout_apply, k, x, n, drop, keep, residual, row_index, row_len)
    }
    dsp_prof_end(k->prof, __func__);
}

void dsp_dropout_add(const dsp_kctx *k, float *x, size_t n, dsp_dropout drop, uint8_t *keep, const float *residual) {
    dropout_add(k, x, n, drop, keep, residual, NULL, 0);
}

void dsp_dropout_add_rows(const dsp_kctx *k, float *x, int rows, int len, const int *row_index, dsp_dropout drop,
                          uint8_t *keep, const float *residual) {
    const size_t n = (size_t)(rows > 0 ? rows : 0) * (size_t)(len > 0 ? len : 0);
    dropout_add(k, x, n, drop, keep, residual, row_index, len);
}

/* out[i] = x[i]·(scale·kept[i]) for i in [0, n): scale · 1 or scale · 0, the factors (scale, 0.0f) of the recording
 * pass. In blocks of a fixed 64 through a local buffer, so that gcc's -O2 vectorises both loops: written directly,
 * the byte array (which may alias anything) and out (which may be x) kept the loop scalar, reloading the scale at
 * every element. The same multiplications either way. */
static void kept_span(float *out, const float *x, const uint8_t *kept, float scale, size_t n) {
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        float y[64];
        for (int u = 0; u < 64; u++) y[u] = x[i + u] * (scale * (float)kept[i + u]);
        memcpy(out + i, y, sizeof y);
    }
    for (; i < n; i++) out[i] = x[i] * (scale * (float)kept[i]);
}

static void dropout_kept_task(void *vctx, int task, int thread) {
    const dropout_kept_job *j = vctx;
    size_t i = (size_t)task * DSP_DROPOUT_PER_TASK, end = dsp_dropout_task_end(j->n, task);
    kept_span(j->out + i, j->x + i, j->kept + i, j->scale, end - i);
}

void dsp_dropout_apply_kept(const dsp_kctx *k, float *out, const float *x, size_t n, float p, const uint8_t *keep) {
    if (n == 0) return;
    if (p <= 0.0f) { /* no dropout: a copy, if out is elsewhere */
        if (out != x) memcpy(out, x, n * sizeof(float));
        return;
    }
    dropout_kept_job j = {out, x, dsp_dropout_scale(p), n, keep};
    dsp_prof_begin(k->prof);
    dsp_pool_run(k->pool, dropout_kept_task, &j, (int)((n + DSP_DROPOUT_PER_TASK - 1) / DSP_DROPOUT_PER_TASK));
    dsp_prof_end(k->prof, __func__);
}

/* ---------------------------------------------------------------- aligned buffers */

size_t dsp_pad_to_line(size_t floats) {
    const size_t per_line = DSP_LINE_BYTES / sizeof(float);
    return (floats + per_line - 1) / per_line * per_line;
}

float *dsp_alloc_lines(size_t floats) {
    return aligned_alloc(DSP_LINE_BYTES, dsp_pad_to_line(floats > 0 ? floats : 1) * sizeof(float));
}

size_t dsp_grow_capacity(size_t need) { return need <= SIZE_MAX / 5 * 4 ? need + need / 4 : need; }

/* ---------------------------------------------------------------- element-wise helpers */
#define VEC_PER_TASK 32768

typedef struct { float *y; const float *x; size_t n; } vec_job;

static void vec_zero_task(void *ctx, int task, int thread) {
    const vec_job *j = ctx;
    size_t lo = (size_t)task * VEC_PER_TASK, hi = lo + VEC_PER_TASK < j->n ? lo + VEC_PER_TASK : j->n;
    memset(j->y + lo, 0, (hi - lo) * sizeof(float));
}

static void vec_add_task(void *ctx, int task, int thread) {
    const vec_job *j = ctx;
    size_t lo = (size_t)task * VEC_PER_TASK, hi = lo + VEC_PER_TASK < j->n ? lo + VEC_PER_TASK : j->n;
    float *restrict y = j->y;
    const float *restrict x = j->x;
    for (size_t i = lo; i < hi; i++) y[i] += x[i];
}

void dsp_vec_zero(const dsp_kctx *k, float *y, size_t n) {
    vec_job j = {y, NULL, n};
    dsp_prof_begin(k->prof);
    dsp_pool_run(k->pool, vec_zero_task, &j, (int)((n + VEC_PER_TASK - 1) / VEC_PER_TASK));
    dsp_prof_end(k->prof, __func__);
}

void dsp_vec_add(const dsp_kctx *k, float *y, const float *x, size_t n) {
    vec_job j = {y, x, n};
    dsp_prof_begin(k->prof);
    dsp_pool_run(k->pool, vec_add_task, &j, (int)((n + VEC_PER_TASK - 1) / VEC_PER_TASK));
    dsp_prof_end(k->prof, __func__);
}
