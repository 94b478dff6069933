/* kernels_f64.h — double-precision references of the kernels' mathematics, for the kernel tests only.
 *
 * test_kernels.c compares every kernel set's float results with these (tolerances from rounding-error
 * bounds); test_kernel_grads.c differentiates these forwards by central differences and compares the
 * kernels' float backwards with the result. Written from the formulas in kernels.h, not from the engine's
 * code. Layouts and dropout indices follow kernels.h exactly.
 */
#ifndef DSP_KERNELS_F64_H
#define DSP_KERNELS_F64_H

#include "kernels.h"
#include "testutil.h"

#include <math.h>
#include <stdlib.h>

/* Unit roundoff of float and the classic bound γ_n = n·u/(1 − n·u) on n successive roundings. */
#define F64_U (1.0 / 16777216.0)
static inline double f64_gamma(int n) { return n * F64_U / (1.0 - n * F64_U); }

/* out[T,OC] = inp[T,C]·w[OC,C]ᵀ + b (b may be NULL); bound[t,o] (may be NULL) = γ_{C+1}·(|b| + Σ|inp·w|): any
 * float evaluation that adds the C products and the bias one rounding at a time (with or without FMA, in any
 * order) is within it. */
static inline void f64_matmul(double *out, double *bound, const double *inp, const double *w, const double *b, int T,
                       int C, int OC) {
    for (int t = 0; t < T; t++)
        for (int o = 0; o < OC; o++) {
            double s = b ? b[o] : 0.0, a = b ? fabs(b[o]) : 0.0;
            for (int c = 0; c < C; c++) {
                double p = inp[(size_t)t * C + c] * w[(size_t)o * C + c];
                s += p;
                a += fabs(p);
            }
            out[(size_t)t * OC + o] = s;
            if (bound) bound[(size_t)t * OC + o] = f64_gamma(C + 1) * a;
        }
}

/* layernorm of one row in double: y = (x − mean)/sqrt(var + eps)·w + b */
static inline void f64_layernorm(double *out, const double *x, const double *w, const double *b, int T, int C,
                                 double eps) {
    for (int t = 0; t < T; t++) {
        const double *r = x + (size_t)t * C;
        double m = 0, v = 0;
        for (int c = 0; c < C; c++) m += r[c];
        m /= C;
        for (int c = 0; c < C; c++) v += (r[c] - m) * (r[c] - m);
        v /= C;
        double rs = 1.0 / sqrt(v + eps);
        for (int c = 0; c < C; c++) out[(size_t)t * C + c] = (r[c] - m) * rs * w[c] + b[c];
    }
}

static inline double f64_gelu(double x) { return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }
static inline double f64_gelu_grad(double x) {
    return 0.5 * (1.0 + erf(x / sqrt(2.0))) + x * exp(-0.5 * x * x) / sqrt(2.0 * 3.14159265358979323846);
}

static inline void f64_softmax_row(double *out, const double *in, int n) {
    double mx = in[0], s = 0;
    for (int j = 1; j < n; j++) mx = in[j] > mx ? in[j] : mx;
    for (int j = 0; j < n; j++) s += (out[j] = exp(in[j] - mx));
    for (int j = 0; j < n; j++) out[j] /= s;
}

/* A ragged attention problem: lengths, offsets and the att offsets of kernels.h. */
typedef struct {
    int B, H, A, T;
    int *seq_off, *seq_len;
    size_t *att_off;
    size_t att_total;
} f64_attn_shape;

static inline void f64_attn_shape_make(f64_attn_shape *s, const int *lens, int B, int H, int A) {
    s->B = B;
    s->H = H;
    s->A = A;
    s->seq_off = malloc(sizeof(int) * (size_t)B);
    s->seq_len = malloc(sizeof(int) * (size_t)B);
    s->att_off = malloc(sizeof(size_t) * (size_t)B);
    int t = 0;
    size_t a = 0;
    for (int b = 0; b < B; b++) {
        s->seq_off[b] = t;
        s->seq_len[b] = lens[b];
        s->att_off[b] = a;
        t += lens[b];
        a += (size_t)A * lens[b] * lens[b];
    }
    s->T = t;
    s->att_total = a;
}

static inline void f64_attn_shape_free(f64_attn_shape *s) {
    free(s->seq_off);
    free(s->seq_len);
    free(s->att_off);
}

/* Dropout factor of att element idx: the kernels.h rule, evaluated in float as the kernels do. */
static inline double f64_drop_factor(dsp_dropout d, size_t idx) {
    if (d.p <= 0.0f) return 1.0;
    float scale = 1.0f / (1.0f - d.p);
    return dsp_uniform(d.seed, d.stream, idx) >= d.p ? (double)scale : 0.0;
}

/* Forward in double: att[att_total] (pre-dropout probabilities), out[T,H]. qkv is double [T,3H]. */
static inline void f64_attention(double *out, double *att, const double *qkv, const f64_attn_shape *s,
                                 dsp_dropout drop) {
    int H = s->H, d = H / s->A;
    double scale = 1.0 / sqrt((double)d);
    double *row = malloc(sizeof(double) * (size_t)(s->T > 0 ? s->T : 1));
    for (int b = 0; b < s->B; b++)
        for (int h = 0; h < s->A; h++) {
            int len = s->seq_len[b], off = s->seq_off[b];
            size_t blk = s->att_off[b] + (size_t)h * len * len;
            for (int i = 0; i < len; i++) {
                const double *q = qkv + (size_t)(off + i) * 3 * H + h * d;
                for (int j = 0; j < len; j++) {
                    const double *k = qkv + (size_t)(off + j) * 3 * H + H + h * d;
                    double dot = 0;
                    for (int c = 0; c < d; c++) dot += q[c] * k[c];
                    row[j] = dot * scale;
                }
                f64_softmax_row(att + blk + (size_t)i * len, row, len);
                double *o = out + (size_t)(off + i) * H + h * d;
                for (int c = 0; c < d; c++) o[c] = 0;
                for (int j = 0; j < len; j++) {
                    double p = att[blk + (size_t)i * len + j] * f64_drop_factor(drop, blk + (size_t)i * len + j);
                    const double *v = qkv + (size_t)(off + j) * 3 * H + 2 * H + h * d;
                    for (int c = 0; c < d; c++) o[c] += p * v[c];
                }
            }
        }
    free(row);
}

static inline double *f64_from_float(const float *x, size_t n) {
    double *y = malloc(sizeof(double) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) y[i] = x[i];
    return y;
}

/* Deterministic float test data in [-scale, scale). */
static inline float *f64_test_data(size_t n, unsigned long long *seed, float scale) {
    float *x = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) x[i] = dsp_test_rand(seed) * scale;
    return x;
}

/* The kernel sets to test: scalar, SIMD128, and SIMD128_SSE2, AVX2 and AVX512 when this build and CPU have them.
 * Returns the count. */
#define F64_MAX_SETS 5 /* scalar, simd128, its SSE2 encoding where simd128 runs AVX's, avx2, avx512 */
static inline int f64_kernel_sets(dsp_kernels sets[F64_MAX_SETS]) {
    dsp_err err;
    dsp_kernels got;
    int n = 0;
    sets[n++] = DSP_KERNELS_SCALAR;
    sets[n++] = DSP_KERNELS_SIMD128; /* natively: AVX's encoding where the CPU has AVX */
    if (dsp_kernels_resolve(DSP_KERNELS_SIMD128_SSE2, &got, &err) == 0) sets[n++] = DSP_KERNELS_SIMD128_SSE2;
    if (dsp_kernels_resolve(DSP_KERNELS_AVX2, &got, &err) == 0) sets[n++] = DSP_KERNELS_AVX2;
    else printf("note: AVX2 kernels not tested here: %s\n", err.msg);
    if (dsp_kernels_resolve(DSP_KERNELS_AVX512, &got, &err) == 0) sets[n++] = DSP_KERNELS_AVX512;
    else printf("note: AVX-512 matmuls not tested here: %s\n", err.msg);
    return n;
}

/* The sets whose multiply-adds are fused (one rounding): AVX2, and AVX512, which is AVX2's but for its matmuls. */
static inline int f64_fuses(dsp_kernels s) { return s == DSP_KERNELS_AVX2 || s == DSP_KERNELS_AVX512; }

/* The 128-bit sets, whose results must be the scalar reference's bits. */
static inline int f64_is_simd128(dsp_kernels s) { return s == DSP_KERNELS_SIMD128 || s == DSP_KERNELS_SIMD128_SSE2; }

#endif
