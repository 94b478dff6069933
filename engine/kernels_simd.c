/* kernels_simd.c — the SIMD kernels other than the matmul (gemm_simd.c): layernorm, GELU, softmax, attention,
 * dropout, AdamW and the benchmarks' arithmetic ceiling, written once against simd.h and compiled per vector width
 * (kernels_simd.h). */
#include "kernels_simd.h"

/* ---------------------------------------------------------------- vector helpers */

static inline float vsum(const float *x, int n) {
    vf s = vf_zero();
    int i = 0;
    for (; i + W <= n; i += W) s = vf_add(s, vf_loadu(x + i));
    float r = vf_hsum(s);
    for (; i < n; i++) r += x[i];
    return r;
}

static inline float vdot(const float *x, const float *y, int n) {
    vf s = vf_zero();
    int i = 0;
    for (; i + W <= n; i += W) s = vf_madd(vf_loadu(x + i), vf_loadu(y + i), s);
    float r = vf_hsum(s);
    for (; i < n; i++) r = sf_madd(x[i], y[i], r);
    return r;
}

/* The scalar tails k ∈ [i, n) of `cnt` dots whose vector parts r[u] are done (vdot's order), then out[u] = r[u]. */
static inline void dots_tails(const float *x, const float *y, size_t stride, int i, int n, int cnt, float *r,
                              float *out) {
    for (int u = 0; u < cnt; u++) {
        for (int t = i; t < n; t++) r[u] = sf_madd(x[t], y[(size_t)u * stride + t], r[u]);
        out[u] = r[u];
    }
}

/* out[j] = vdot(x, y0 + j·stride, n) for j in [0, count): eight (then four) dots at a time, each with its own
 * accumulator and the very same operations as vdot, so the results are vdot's bits, but eight multiply-add chains
 * run side by side instead of one waiting on itself, and each vector of x is loaded once for all of them; the eight
 * horizontal sums are one vf_hsums8 (vf_hsum's bits). The accumulators are named variables: an array of them ends
 * up on the stack. */
#define DOTS_ZERO(u) vf s##u = vf_zero();
#define DOTS_STEP(u) s##u = vf_madd(xv, vf_loadu(y + (size_t)(u) * stride + i), s##u);
#define DOTS_HSUM(u) r[u] = vf_hsum(s##u);
#define DOTS_BLOCK(CNT, EACH, HSUMS)                             \
    for (; j + (CNT) <= count; j += (CNT)) {                     \
        const float *y = y0 + (size_t)j * stride;                \
        EACH(DOTS_ZERO)                                          \
        int i = 0;                                               \
        for (; i + W <= n; i += W) {                             \
            vf xv = vf_loadu(x + i);                             \
            EACH(DOTS_STEP)                                      \
        }                                                        \
        float r[CNT];                                            \
        HSUMS                                                    \
        dots_tails(x, y, stride, i, n, (CNT), r, out + j);       \
    }
#define DOTS_EIGHT(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define DOTS_FOUR(X) X(0) X(1) X(2) X(3)
static inline void vdots(const float *x, const float *y0, size_t stride, int count, int n, float *out) {
    int j = 0;
    DOTS_BLOCK(8, DOTS_EIGHT, vf_hsums8(s0, s1, s2, s3, s4, s5, s6, s7, r);)
    DOTS_BLOCK(4, DOTS_FOUR, DOTS_FOUR(DOTS_HSUM))
    for (; j < count; j++) out[j] = vdot(x, y0 + (size_t)j * stride, n);
}

/* y += Σ_j coef[j]·x_j (x_j = x0 + j·stride), j increasing, each product added with one vf_madd (the
 * bits of count separate y += a·x passes), with a strip of y kept in eight registers across all j. */
static inline void vgemv(float *y, const float *coef, const float *x0, size_t stride, int count, int n) {
    int c = 0;
    for (; c + 8 * W <= n; c += 8 * W) {
        vf y0 = vf_loadu(y + c), y1 = vf_loadu(y + c + W), y2 = vf_loadu(y + c + 2 * W), y3 = vf_loadu(y + c + 3 * W);
        vf y4 = vf_loadu(y + c + 4 * W), y5 = vf_loadu(y + c + 5 * W), y6 = vf_loadu(y + c + 6 * W);
        vf y7 = vf_loadu(y + c + 7 * W);
        const float *x = x0 + c;
        for (int j = 0; j < count; j++, x += stride) {
            vf a = vf_splat(coef[j]);
            y0 = vf_madd(a, vf_loadu(x), y0);
            y1 = vf_madd(a, vf_loadu(x + W), y1);
            y2 = vf_madd(a, vf_loadu(x + 2 * W), y2);
            y3 = vf_madd(a, vf_loadu(x + 3 * W), y3);
            y4 = vf_madd(a, vf_loadu(x + 4 * W), y4);
            y5 = vf_madd(a, vf_loadu(x + 5 * W), y5);
            y6 = vf_madd(a, vf_loadu(x + 6 * W), y6);
            y7 = vf_madd(a, vf_loadu(x + 7 * W), y7);
        }
        vf_storeu(y + c, y0), vf_storeu(y + c + W, y1), vf_storeu(y + c + 2 * W, y2), vf_storeu(y + c + 3 * W, y3);
        vf_storeu(y + c + 4 * W, y4), vf_storeu(y + c + 5 * W, y5), vf_storeu(y + c + 6 * W, y6);
        vf_storeu(y + c + 7 * W, y7);
    }
    for (; c + W <= n; c += W) {
        vf acc = vf_loadu(y + c);
        const float *x = x0 + c;
        for (int j = 0; j < count; j++, x += stride) acc = vf_madd(vf_splat(coef[j]), vf_loadu(x), acc);
        vf_storeu(y + c, acc);
    }
    for (; c < n; c++) {
        float acc = y[c];
        for (int j = 0; j < count; j++) acc = sf_madd(coef[j], x0[(size_t)j * stride + c], acc);
        y[c] = acc;
    }
}

/* ---------------------------------------------------------------- layernorm */

typedef struct {
    float *out, *mean, *rstd, *dinp, *dw, *db;
    const float *inp, *w, *b, *dout, *mean_in, *rstd_in;
    int T, C, rows_per_task;
    float eps;
} ln_job;

static void ln_forward_task(void *vctx, int task, int thread) {
    const ln_job *j = vctx;
    int C = j->C, t0 = task * j->rows_per_task, t1 = t0 + j->rows_per_task < j->T ? t0 + j->rows_per_task : j->T;
    for (int t = t0; t < t1; t++) {
        const float *x = j->inp + (size_t)t * C; /* [C] */
        float *y = j->out + (size_t)t * C;
        float m = vsum(x, C) / (float)C;
        vf vm = vf_splat(m), acc = vf_zero();
        int c = 0;
        for (; c + W <= C; c += W) {
            vf d = vf_sub(vf_loadu(x + c), vm);
            acc = vf_madd(d, d, acc);
        }
        float v = vf_hsum(acc);
        for (; c < C; c++) v = sf_madd(x[c] - m, x[c] - m, v);
        float r = 1.0f / sqrtf(v / (float)C + j->eps);
        vf vr = vf_splat(r);
        for (c = 0; c + W <= C; c += W)
            vf_storeu(y + c, vf_madd(vf_mul(vf_sub(vf_loadu(x + c), vm), vr), vf_loadu(j->w + c), vf_loadu(j->b + c)));
        for (; c < C; c++) y[c] = sf_madd((x[c] - m) * r, j->w[c], j->b[c]);
        j->mean[t] = m;
        j->rstd[t] = r;
    }
}

void KFN(dsp_layernorm_forward)(const dsp_kctx *k, float *out, float *mean, float *rstd, const float *inp,
                                const float *w, const float *b, int T, int C, float eps) {
    if (T <= 0 || C <= 0) return;
    ln_job j = {.out = out, .mean = mean, .rstd = rstd, .inp = inp, .w = w, .b = b, .T = T, .C = C, .eps = eps};
    j.rows_per_task = dsp_rows_per_task(k, T, 32);
    dsp_pool_run(k->pool, ln_forward_task, &j, (T + j.rows_per_task - 1) / j.rows_per_task);
}

/* dinp rows: dinp = (dnorm − mean(dnorm) − norm·mean(dnorm·norm))·rstd, dnorm = w·dout, overwritten as a
 * multiply-add onto zeros (the bits of accumulating into a zeroed buffer, -0 becoming +0). */
static void ln_dinp_task(void *vctx, int task, int thread) {
    const ln_job *j = vctx;
    int C = j->C, t0 = task * j->rows_per_task, t1 = t0 + j->rows_per_task < j->T ? t0 + j->rows_per_task : j->T;
    for (int t = t0; t < t1; t++) {
        const float *x = j->inp + (size_t)t * C, *g = j->dout + (size_t)t * C; /* [C] */
        float *di = j->dinp + (size_t)t * C;
        float m = j->mean_in[t], r = j->rstd_in[t];
        vf vm = vf_splat(m), vr = vf_splat(r), s1 = vf_zero(), s2 = vf_zero();
        int c = 0;
        for (; c + W <= C; c += W) {
            vf norm = vf_mul(vf_sub(vf_loadu(x + c), vm), vr);
            vf dnorm = vf_mul(vf_loadu(j->w + c), vf_loadu(g + c));
            s1 = vf_add(s1, dnorm);
            s2 = vf_madd(dnorm, norm, s2);
        }
        float dmean = vf_hsum(s1), dnorm_mean = vf_hsum(s2);
        for (; c < C; c++) {
            float norm = (x[c] - m) * r, dnorm = j->w[c] * g[c];
            dmean += dnorm;
            dnorm_mean = sf_madd(dnorm, norm, dnorm_mean);
        }
        dmean = dmean / (float)C;
        dnorm_mean = dnorm_mean / (float)C;
        vf vdm = vf_splat(dmean), vdnm = vf_splat(dnorm_mean);
        for (c = 0; c + W <= C; c += W) {
            vf norm = vf_mul(vf_sub(vf_loadu(x + c), vm), vr);
            vf dnorm = vf_mul(vf_loadu(j->w + c), vf_loadu(g + c));
            vf dval = vf_sub(vf_sub(dnorm, vdm), vf_mul(norm, vdnm));
            vf_storeu(di + c, vf_madd(dval, vr, vf_zero()));
        }
        for (; c < C; c++) {
            float norm = (x[c] - m) * r, dnorm = j->w[c] * g[c];
            di[c] = sf_madd(dnorm - dmean - norm * dnorm_mean, r, 0.0f);
        }
    }
}

/* dw[c] += Σ_t norm·dout, db[c] += Σ_t dout over a block of columns, t increasing (the reference's order). */
static void ln_dwdb_task(void *vctx, int task, int thread) {
    const ln_job *j = vctx;
    int C = j->C, c0 = task * COL_BLOCK, n = C - c0 < COL_BLOCK ? C - c0 : COL_BLOCK, nv = n / W * W;
    float dw[COL_BLOCK], db[COL_BLOCK];
    memcpy(dw, j->dw + c0, (size_t)n * sizeof(float));
    memcpy(db, j->db + c0, (size_t)n * sizeof(float));
    for (int t = 0; t < j->T; t++) {
        const float *g = j->dout + (size_t)t * C + c0, *x = j->inp + (size_t)t * C + c0;
        float m = j->mean_in[t], r = j->rstd_in[t];
        vf vm = vf_splat(m), vr = vf_splat(r);
        int c = 0;
        for (; c < nv; c += W) {
            vf gv = vf_loadu(g + c), norm = vf_mul(vf_sub(vf_loadu(x + c), vm), vr);
            vf_storeu(dw + c, vf_madd(norm, gv, vf_loadu(dw + c)));
            vf_storeu(db + c, vf_add(vf_loadu(db + c), gv));
        }
        for (; c < n; c++) {
            dw[c] = sf_madd((x[c] - m) * r, g[c], dw[c]);
            db[c] += g[c];
        }
    }
    memcpy(j->dw + c0, dw, (size_t)n * sizeof(float));
    memcpy(j->db + c0, db, (size_t)n * sizeof(float));
}

void KFN(dsp_layernorm_backward)(const dsp_kctx *k, float *dinp, float *dw, float *db, const float *dout,
                                 const float *inp, const float *w, const float *mean, const float *rstd, int T,
                                 int C) {
    if (T <= 0 || C <= 0) return;
    ln_job j = {.dinp = dinp, .dw = dw, .db = db, .inp = inp, .w = w, .dout = dout, .mean_in = mean,
                .rstd_in = rstd, .T = T, .C = C};
    j.rows_per_task = dsp_rows_per_task(k, T, 32);
    /* dw, db first: they read dout, which dinp may overwrite (in place) */
    dsp_pool_run(k->pool, ln_dwdb_task, &j, (C + COL_BLOCK - 1) / COL_BLOCK);
    dsp_pool_run(k->pool, ln_dinp_task, &j, (T + j.rows_per_task - 1) / j.rows_per_task);
}

/* ---------------------------------------------------------------- GELU */

#define ELEMS_PER_TASK 16384

typedef struct {
    float *out, *cdf_out;
    const float *inp, *dout, *cdf_in;
    size_t n;
} ew_job;

static void gelu_forward_task(void *vctx, int task, int thread) {
    const ew_job *j = vctx;
    size_t i = (size_t)task * ELEMS_PER_TASK, end = i + ELEMS_PER_TASK < j->n ? i + ELEMS_PER_TASK : j->n;
    float *keep = j->cdf_out;
    for (; i + W <= end; i += W) {
        vf x = vf_loadu(j->inp + i), cdf = vf_normcdf(x);
        vf_storeu(j->out + i, vf_mul(x, cdf));
        if (keep) vf_storeu(keep + i, cdf);
    }
    for (; i < end; i++) {
        float x = j->inp[i], cdf = dsp_normcdff(x);
        j->out[i] = x * cdf;
        if (keep) keep[i] = cdf;
    }
}

void KFN(dsp_gelu_forward)(const dsp_kctx *k, float *out, float *cdf, const float *inp, size_t n) {
    ew_job j = {.out = out, .cdf_out = cdf, .inp = inp, .n = n};
    dsp_pool_run(k->pool, gelu_forward_task, &j, (int)((n + ELEMS_PER_TASK - 1) / ELEMS_PER_TASK));
}

static void gelu_backward_task(void *vctx, int task, int thread) {
    const ew_job *j = vctx;
    size_t i = (size_t)task * ELEMS_PER_TASK, end = i + ELEMS_PER_TASK < j->n ? i + ELEMS_PER_TASK : j->n;
    gelu_backward_span(j->out, j->inp, j->cdf_in, j->dout, i, end);
}

void KFN(dsp_gelu_backward)(const dsp_kctx *k, float *dinp, const float *inp, const float *cdf, const float *dout,
                            size_t n) {
    ew_job j = {.out = dinp, .inp = inp, .dout = dout, .cdf_in = cdf, .n = n};
    dsp_pool_run(k->pool, gelu_backward_task, &j, (int)((n + ELEMS_PER_TASK - 1) / ELEMS_PER_TASK));
}

/* ---------------------------------------------------------------- softmax */

/* out[n] = softmax(in[n]); in place is fine. */
static void softmax_row(float *out, const float *in, int n) {
    int j = 0;
    float mx = in[0];
    if (n >= W) {
        vf m = vf_loadu(in);
        for (j = W; j + W <= n; j += W) m = vf_max(vf_loadu(in + j), m);
        mx = vf_hmax(m);
    }
    for (; j < n; j++) mx = dsp_maxf(in[j], mx);
    vf vmx = vf_splat(mx), s = vf_zero();
    for (j = 0; j + W <= n; j += W) {
        vf e = vf_exp(vf_sub(vf_loadu(in + j), vmx));
        vf_storeu(out + j, e);
        s = vf_add(s, e);
    }
    float sum = vf_hsum(s);
    for (; j < n; j++) {
        out[j] = dsp_expf(in[j] - mx);
        sum += out[j];
    }
    vf vs = vf_splat(sum);
    for (j = 0; j + W <= n; j += W) vf_storeu(out + j, vf_div(vf_loadu(out + j), vs));
    for (; j < n; j++) out[j] = out[j] / sum;
}

typedef struct {
    float *out;
    const float *inp;
    int R, C, rows_per_task;
} sm_job;

static void softmax_task(void *vctx, int task, int thread) {
    const sm_job *j = vctx;
    int r0 = task * j->rows_per_task, r1 = r0 + j->rows_per_task < j->R ? r0 + j->rows_per_task : j->R;
    for (int r = r0; r < r1; r++) softmax_row(j->out + (size_t)r * j->C, j->inp + (size_t)r * j->C, j->C);
}

void KFN(dsp_softmax_forward)(const dsp_kctx *k, float *out, const float *inp, int R, int C) {
    if (R <= 0 || C <= 0) return;
    sm_job j = {out, inp, R, C, dsp_rows_per_task(k, R, 16)};
    dsp_pool_run(k->pool, softmax_task, &j, (R + j.rows_per_task - 1) / j.rows_per_task);
}

/* ---------------------------------------------------------------- attention */
/* The algorithm is dsp_attn_*_block (kernels_shared.h), with dot products and axpys in vectors. */

static void attn_forward_task(void *vctx, int task, int thread) {
    dsp_attn_forward_block(vctx, task, vdots, vgemv, softmax_row);
}

static void attn_backward_task(void *vctx, int task, int thread) {
    dsp_attn_backward_block(vctx, task, thread, vdots, vgemv);
}

void KFN(dsp_attention_forward)(const dsp_kctx *k, float *out, float *att, const float *qkv, const int *seq_off,
                                const int *seq_len, const size_t *att_off, int B, int H, int A, dsp_dropout drop,
                                uint8_t *keep, int cls_only) {
    dsp_attn_forward_run(k, attn_forward_task, out, att, qkv, seq_off, seq_len, att_off, B, H, A, drop, keep,
                         cls_only);
}

void KFN(dsp_attention_backward)(const dsp_kctx *k, float *dqkv, const float *dout, const float *qkv,
                                 const float *att, const int *seq_off, const int *seq_len, const size_t *att_off,
                                 int B, int H, int A, dsp_dropout drop, const uint8_t *keep, float *scratch,
                                 int cls_only) {
    dsp_attn_backward_run(k, attn_backward_task, dqkv, dout, qkv, att, seq_off, seq_len, att_off, B, H, A, drop,
                          keep, scratch, cls_only);
}

/* ---------------------------------------------------------------- dropout */

/* The top 24 bits of dsp_keyed_hash64(key, index) for the indices whose products index·φ are the lanes of r
 * (SplitMix64's finaliser, lane by lane). */
static inline vu hash_top24(vu key, vu r) {
    vu z = vu_xor(key, r);
    z = vu_mul(vu_xor(z, vu_shr(z, 30)), vu_splat(DSP_MIX64_M1));
    z = vu_mul(vu_xor(z, vu_shr(z, 27)), vu_splat(DSP_MIX64_M2));
    return vu_shr(vu_xor(z, vu_shr(z, 31)), 40);
}

/* W elements at a time over [i, end), whose generator indices run consecutively from dsp_dropout_index(j, i): the
 * hashes in 64-bit lanes, the keep test in 32-bit lanes against the integer threshold, then x·factor as the scalar
 * task multiplies it; the tail goes through the scalar task. */
static void dropout_run_span(const dsp_dropout_job *j, size_t i, size_t end) {
    const uint64_t first = dsp_dropout_index(j, i);
    uint64_t ramp[W];
    for (int l = 0; l < W; l++) ramp[l] = (first + (uint64_t)l) * DSP_GOLDEN64;
    vu r0 = vu_loadu(ramp), r1 = vu_loadu(ramp + W / 2), step = vu_splat((uint64_t)W * DSP_GOLDEN64);
    const vu key = vu_splat(j->key);
    const vi below = vi_splat(dsp_dropout_threshold(j->p) - 1);
    const vf scale = vf_splat(j->scale), zero = vf_zero();
    uint8_t *keep = j->keep; /* a local: a store through a byte pointer would make gcc reload every field of j */
    for (; i + W <= end; i += W) {
        vi kept = vi_gt(vu_pack_lo32(hash_top24(key, r0), hash_top24(key, r1)), below);
        vf f = vf_select(vi_float(kept), scale, zero);
        vf y = vf_mul(vf_loadu(j->x + i), f);
        vf_storeu(j->x + i, j->residual ? vf_add(y, vf_loadu(j->residual + i)) : y);
        if (keep) vi_store_flags(keep + i, kept); /* f != 0 exactly where kept: scale > 0 whenever p < 1 */
        r0 = vu_add(r0, step);
        r1 = vu_add(r1, step);
    }
    dsp_dropout_span(j, i, end);
}

/* A task's block, cut where the generator indices jump (at row ends, for compact rows). */
static void dropout_task(void *vctx, int task, int thread) {
    const dsp_dropout_job *j = vctx;
    size_t i = (size_t)task * DSP_DROPOUT_PER_TASK, end = dsp_dropout_task_end(j->n, task);
    while (i < end) {
        size_t run_end = dsp_dropout_run_end(j, i, end);
        dropout_run_span(j, i, run_end);
        i = run_end;
    }
}

void KFN(dsp_dropout_apply)(const dsp_kctx *k, float *x, size_t n, dsp_dropout drop, uint8_t *keep,
                            const float *residual, const int *row_index, int row_len) {
    dsp_dropout_run(k, dropout_task, x, n, drop, keep, residual, row_index, row_len);
}

/* ---------------------------------------------------------------- AdamW */

/* dsp_adamw_elem a vector at a time: the same operations in the same order (no fused multiply-add), each
 * correctly rounded in every lane. */
void KFN(dsp_adamw_span)(float *p, float *m, float *v, const float *grad, size_t n, const dsp_adamw_hyper *h) {
    const vf b1 = vf_splat(h->beta1), c1 = vf_splat(1.0f - h->beta1), b2 = vf_splat(h->beta2),
             c2 = vf_splat(1.0f - h->beta2), lr = vf_splat(h->lr), scale = vf_splat(h->scale), eps = vf_splat(h->eps),
             wd = vf_splat(h->weight_decay), bc1 = vf_splat(h->bc1), bc2 = vf_splat(h->bc2);
    size_t i = 0;
    for (; i + W <= n; i += W) {
        vf g = vf_mul(vf_loadu(grad + i), scale);
        vf mi = vf_add(vf_mul(b1, vf_loadu(m + i)), vf_mul(c1, g));
        vf vi = vf_add(vf_mul(b2, vf_loadu(v + i)), vf_mul(vf_mul(c2, g), g));
        vf pi = vf_loadu(p + i);
        vf step = vf_add(vf_div(vf_div(mi, bc1), vf_add(vf_sqrt(vf_div(vi, bc2)), eps)), vf_mul(wd, pi));
        vf_storeu(m + i, mi);
        vf_storeu(v + i, vi);
        vf_storeu(p + i, vf_sub(pi, vf_mul(lr, step)));
    }
    for (; i < n; i++) dsp_adamw_elem(p, m, v, grad, i, h);
}

#if DSP_SIMD_WIDTH == 8
/* For the 512-bit GEMM's matmul that ends in a GELU (kernels_simd.h). */
void dsp_gelu_backward_span_avx2(float *out, const float *inp, const float *cdf_in, const float *dout, size_t i,
                                 size_t end) {
    gelu_backward_span(out, inp, cdf_in, dout, i, end);
}
#endif
