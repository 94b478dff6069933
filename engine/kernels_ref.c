/* kernels_ref.c — the scalar reference kernels (suffix _scalar): plain loops, the ground truth the SIMD
 * kernels are tested against.
 *
 * Summation orders are part of the contract (kernels.h): a matmul output starts from its bias (or 0, or the
 * existing gradient for "+=" outputs) and adds the products in increasing k, one at a time. The SIMD128 GEMM
 * keeps exactly this order with separate multiplies and adds, so it matches this file bit for bit; row
 * reductions (layernorm statistics, softmax sums) are sequential here and lane-split in the SIMD files.
 * Work is split over the pool by output rows only, which never changes an element's arithmetic.
 */
#include "kernels.h"
#include "kernels_shared.h"
#include "mathfn.h"

#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------- matmul */

typedef struct {
    float *out, *dinp, *dw, *db;
    const float *inp, *w, *b, *dout;
    int T, C, OC, rows_per_task;
    int dinp_set; /* dinp is overwritten, not accumulated into */
} mm_args;

static void mm_forward_task(void *vctx, int task, int thread) {
    const mm_args *a = vctx;
    int t0 = task * a->rows_per_task, t1 = t0 + a->rows_per_task < a->T ? t0 + a->rows_per_task : a->T;
    for (int t = t0; t < t1; t++) {
        const float *x = a->inp + (size_t)t * a->C; /* [C] */
        for (int o = 0; o < a->OC; o++) {
            const float *wo = a->w + (size_t)o * a->C; /* [C] */
            float acc = a->b ? a->b[o] : 0.0f;
            for (int c = 0; c < a->C; c++) acc += x[c] * wo[c];
            a->out[(size_t)t * a->OC + o] = acc;
        }
    }
}

void dsp_matmul_forward_scalar(const dsp_kctx *k, float *out, const float *inp, const float *w, const float *b,
                               int T, int C, int OC) {
    if (T <= 0 || OC <= 0) return;
    mm_args a = {.out = out, .inp = inp, .w = w, .b = b, .T = T, .C = C, .OC = OC};
    a.rows_per_task = dsp_rows_per_task(k, T, 8);
    dsp_pool_run(k->pool, mm_forward_task, &a, (T + a.rows_per_task - 1) / a.rows_per_task);
}

/* dinp rows: dinp[t,c] += Σ_o dout[t,o]·w[o,c], o increasing (the loop over c only interleaves elements); from
 * zeros when dinp_set. */
static void mm_dinp_task(void *vctx, int task, int thread) {
    const mm_args *a = vctx;
    int t0 = task * a->rows_per_task, t1 = t0 + a->rows_per_task < a->T ? t0 + a->rows_per_task : a->T;
    for (int t = t0; t < t1; t++) {
        float *di = a->dinp + (size_t)t * a->C;        /* [C] */
        if (a->dinp_set) memset(di, 0, (size_t)a->C * sizeof(float));
        const float *g = a->dout + (size_t)t * a->OC;  /* [OC] */
        for (int o = 0; o < a->OC; o++) {
            const float *wo = a->w + (size_t)o * a->C; /* [C] */
            for (int c = 0; c < a->C; c++) di[c] += g[o] * wo[c];
        }
    }
}

/* dw rows (and db): dw[o,c] += Σ_t dout[t,o]·inp[t,c], t increasing. */
static void mm_dw_task(void *vctx, int task, int thread) {
    const mm_args *a = vctx;
    int o0 = task * a->rows_per_task, o1 = o0 + a->rows_per_task < a->OC ? o0 + a->rows_per_task : a->OC;
    for (int o = o0; o < o1; o++) {
        float *dwo = a->dw + (size_t)o * a->C; /* [C] */
        float dbo = a->db ? a->db[o] : 0.0f;
        for (int t = 0; t < a->T; t++) {
            float g = a->dout[(size_t)t * a->OC + o];
            const float *x = a->inp + (size_t)t * a->C;
            for (int c = 0; c < a->C; c++) dwo[c] += g * x[c];
            dbo += g;
        }
        if (a->db) a->db[o] = dbo;
    }
}

/* db[o] += Σ_t dout[t,o], t increasing. */
static void add_column_sums(float *db, const float *dout, int T, int OC) {
    for (int t = 0; t < T; t++)
        for (int o = 0; o < OC; o++) db[o] += dout[(size_t)t * OC + o];
}

void dsp_matmul_backward_scalar(const dsp_kctx *k, float *dinp, float *dw, float *db, const float *dout,
                                const float *inp, const float *w, int T, int C, int OC, int dinp_set,
                                const float *gelu_pre, const float *gelu_cdf) {
    if (T <= 0) return;
    if (C <= 0) { /* no inputs: nothing to multiply, but db still sums dout (as the SIMD sets do) */
        if (db) add_column_sums(db, dout, T, OC);
        return;
    }
    if (OC <= 0) {
        if (dinp && dinp_set) memset(dinp, 0, (size_t)T * C * sizeof(float));
    } else {
        mm_args a = {.dinp = dinp, .dw = dw, .db = db, .dout = dout, .inp = inp, .w = w, .T = T, .C = C, .OC = OC,
                     .dinp_set = dinp_set};
        if (dinp) {
            a.rows_per_task = dsp_rows_per_task(k, T, 8);
            dsp_pool_run(k->pool, mm_dinp_task, &a, (T + a.rows_per_task - 1) / a.rows_per_task);
        }
        if (dw) {
            a.rows_per_task = dsp_rows_per_task(k, OC, 1);
            dsp_pool_run(k->pool, mm_dw_task, &a, (OC + a.rows_per_task - 1) / a.rows_per_task);
        } else if (db) {
            add_column_sums(db, dout, T, OC);
        }
    }
    if (dinp && gelu_pre) dsp_gelu_backward_scalar(k, dinp, gelu_pre, gelu_cdf, dinp, (size_t)T * C); /* a second pass */
}

/* ---------------------------------------------------------------- layernorm */

void dsp_layernorm_forward_scalar(const dsp_kctx *k, float *out, float *mean, float *rstd, const float *inp,
                                  const float *w, const float *b, int T, int C, float eps) {
    for (int t = 0; t < T; t++) {
        const float *x = inp + (size_t)t * C; /* [C] */
        float *y = out + (size_t)t * C;
        float s = 0.0f;
        for (int c = 0; c < C; c++) s += x[c];
        float m = s / (float)C;
        float v = 0.0f;
        for (int c = 0; c < C; c++) {
            float d = x[c] - m;
            v += d * d;
        }
        v = v / (float)C;
        float r = 1.0f / sqrtf(v + eps);
        for (int c = 0; c < C; c++) y[c] = (x[c] - m) * r * w[c] + b[c];
        mean[t] = m;
        rstd[t] = r;
    }
}

void dsp_layernorm_backward_scalar(const dsp_kctx *k, float *dinp, float *dw, float *db, const float *dout,
                                   const float *inp, const float *w, const float *mean, const float *rstd,
                                   int T, int C) {
    for (int t = 0; t < T; t++) {
        const float *x = inp + (size_t)t * C, *g = dout + (size_t)t * C; /* [C] */
        float *di = dinp + (size_t)t * C;
        float m = mean[t], r = rstd[t];
        float dmean = 0.0f, dnorm_mean = 0.0f; /* means of dnorm and dnorm·norm over the row */
        for (int c = 0; c < C; c++) {
            float norm = (x[c] - m) * r;
            float dnorm = w[c] * g[c];
            dmean += dnorm;
            dnorm_mean += dnorm * norm;
        }
        dmean = dmean / (float)C;
        dnorm_mean = dnorm_mean / (float)C;
        for (int c = 0; c < C; c++) {
            float norm = (x[c] - m) * r;
            float dnorm = w[c] * g[c];
            dw[c] += norm * g[c];
            db[c] += g[c];
            di[c] = 0.0f + (dnorm - dmean - norm * dnorm_mean) * r; /* "0.0f +": see GELU's backward */
        }
    }
}

/* ---------------------------------------------------------------- GELU (erf form) */

void dsp_gelu_forward_scalar(const dsp_kctx *k, float *out, float *cdf_out, const float *inp, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float x = inp[i], cdf = dsp_normcdff(x);
        out[i] = x * cdf;
        if (cdf_out) cdf_out[i] = cdf;
    }
}

/* gelu'(x) = Φ(x) + x·φ(x). "0.0f +" keeps the bits of accumulating into a zeroed buffer (a -0 becomes +0). */
void dsp_gelu_backward_scalar(const dsp_kctx *k, float *dinp, const float *inp, const float *cdf_in,
                              const float *dout, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        float cdf = cdf_in ? cdf_in[i] : dsp_normcdff(x);
        dinp[i] = 0.0f + dout[i] * (cdf + x * dsp_normpdff(x));
    }
}

/* ---------------------------------------------------------------- softmax */

static void softmax_row(float *out, const float *in, int n) {
    float mx = in[0];
    for (int j = 1; j < n; j++) mx = dsp_maxf(in[j], mx);
    float sum = 0.0f;
    for (int j = 0; j < n; j++) {
        out[j] = dsp_expf(in[j] - mx);
        sum += out[j];
    }
    for (int j = 0; j < n; j++) out[j] = out[j] / sum;
}

void dsp_softmax_forward_scalar(const dsp_kctx *k, float *out, const float *inp, int R, int C) {
    if (C <= 0) return;
    for (int r = 0; r < R; r++) softmax_row(out + (size_t)r * C, inp + (size_t)r * C, C);
}

/* ---------------------------------------------------------------- attention */
/* The algorithm is dsp_attn_*_block (kernels_shared.h); the reference supplies plain sequential arithmetic. */

static float dot_plain(const float *x, const float *y, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += x[i] * y[i];
    return s;
}

static void axpy_plain(float *y, float a, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

static void dots_plain(const float *x, const float *y0, size_t stride, int count, int n, float *out) {
    for (int j = 0; j < count; j++) out[j] = dot_plain(x, y0 + (size_t)j * stride, n);
}

static void gemv_plain(float *y, const float *coef, const float *x0, size_t stride, int count, int n) {
    for (int j = 0; j < count; j++) axpy_plain(y, coef[j], x0 + (size_t)j * stride, n);
}

static void attn_forward_task(void *vctx, int task, int thread) {
    dsp_attn_forward_block(vctx, task, dots_plain, gemv_plain, softmax_row);
}

static void attn_backward_task(void *vctx, int task, int thread) {
    dsp_attn_backward_block(vctx, task, thread, dots_plain, gemv_plain);
}

void dsp_attention_forward_scalar(const dsp_kctx *k, float *out, float *att, const float *qkv, const int *seq_off,
                                  const int *seq_len, const size_t *att_off, int B, int H, int A,
                                  dsp_dropout drop, uint8_t *keep, int cls_only) {
    dsp_attn_forward_run(k, attn_forward_task, out, att, qkv, seq_off, seq_len, att_off, B, H, A, drop, keep,
                         cls_only);
}

void dsp_attention_backward_scalar(const dsp_kctx *k, float *dqkv, const float *dout, const float *qkv,
                                   const float *att, const int *seq_off, const int *seq_len, const size_t *att_off,
                                   int B, int H, int A, dsp_dropout drop, const uint8_t *keep, float *scratch,
                                   int cls_only) {
    dsp_attn_backward_run(k, attn_backward_task, dqkv, dout, qkv, att, seq_off, seq_len, att_off, B, H, A, drop,
                          keep, scratch, cls_only);
}

/* ---------------------------------------------------------------- dropout */

static void dropout_task(void *vctx, int task, int thread) {
    const dsp_dropout_job *j = vctx;
    dsp_dropout_span(j, (size_t)task * DSP_DROPOUT_PER_TASK, dsp_dropout_task_end(j->n, task));
}

void dsp_dropout_apply_scalar(const dsp_kctx *k, float *x, size_t n, dsp_dropout drop, uint8_t *keep,
                              const float *residual, const int *row_index, int row_len) {
    dsp_dropout_run(k, dropout_task, x, n, drop, keep, residual, row_index, row_len);
}

/* ---------------------------------------------------------------- AdamW */

void dsp_adamw_span_scalar(float *p, float *m, float *v, const float *grad, size_t n, const dsp_adamw_hyper *h) {
    for (size_t i = 0; i < n; i++) dsp_adamw_elem(p, m, v, grad, i, h);
}
