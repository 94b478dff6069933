/* test_kernel_grads.c — finite-difference checks of every kernel backward, for every kernel set.
 *
 * For each kernel, L = Σ r·forward(x) with fixed random weights r, where forward is the double-precision
 * reference of kernels_f64.h (the kernels' mathematics, written from kernels.h). Central differences of L in
 * float64 with step h = 1e-6·max(1, |x|) are accurate to about 1e-9 relative (truncation h²·L''' ~ 1e-12,
 * cancellation 1e-16·|L|/h ~ 1e-10). The kernel backward, fed dout = r, runs in float at the same (float)
 * point: its rounding error is at most a few hundred u (u = 6e-8) relative to the size of the terms it adds,
 * i.e. ~1e-5 here. The tolerance is 1e-4·(|g_i| + rms(g)): ten times that float error, while a wrong or
 * missing term is off by O(1)·rms(g). The "+=" outputs start from non-zero gradients, which are subtracted.
 *
 * Covered: matmul (dinp, dw, db), layernorm (dinp, dw, db), GELU, attention (softmax, scaling, dropout on
 * probabilities; ragged lengths 1, 2, 3, 4) through dqkv.
 */
#include "kernels.h"
#include "kernels_f64.h"
#include "testutil.h"

#include <string.h>

static dsp_kernels sets[F64_MAX_SETS];
static int n_sets;

typedef double (*loss_fn)(void *ctx);

/* g[i] = ∂L/∂x[i] by central differences; x is the live parameter array loss(ctx) reads. */
static void fd_grad(double *g, double *x, size_t n, loss_fn loss, void *ctx) {
    for (size_t i = 0; i < n; i++) {
        double xi = x[i], h = 1e-6 * (fabs(xi) > 1 ? fabs(xi) : 1);
        x[i] = xi + h;
        double lp = loss(ctx), hp = x[i] - xi;
        x[i] = xi - h;
        double lm = loss(ctx), hm = xi - x[i];
        x[i] = xi;
        g[i] = (lp - lm) / (hp + hm);
    }
}

/* got[i] − base[i] (base may be NULL) against the finite differences fd[i]. */
static void expect_grad(const char *what, dsp_kernels set, const float *got, const float *base, const double *fd,
                        size_t n) {
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += fd[i] * fd[i];
    double rms = sqrt(ss / (n ? n : 1));
    size_t bad = 0, worst = 0;
    double worst_e = -1;
    for (size_t i = 0; i < n; i++) {
        double g = (double)got[i] - (base ? base[i] : 0.0f), e = fabs(g - fd[i]);
        if (!(e <= 1e-4 * (fabs(fd[i]) + rms) + 1e-12)) {
            bad++;
            if (e > worst_e || isnan(e)) worst_e = e, worst = i;
        }
    }
    CHECK_MSG(bad == 0, "%s [%s]: %zu of %zu gradients off; worst [%zu]: kernel %.9g, differences %.9g (rms %.3g)",
              what, dsp_kernels_name(set), bad, n, worst,
              bad ? (double)got[worst] - (base ? base[worst] : 0.0f) : 0.0, bad ? fd[worst] : 0.0, rms);
}

static float *to_float(const double *x, size_t n) {
    float *y = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) y[i] = (float)x[i];
    return y;
}

/* Rounds double test data to float values, so the float kernels and the double loss see the same point. */
static double *test_point(size_t n, unsigned long long *seed, float scale) {
    float *f = f64_test_data(n, seed, scale);
    double *d = f64_from_float(f, n);
    free(f);
    return d;
}

static double weighted_sum(const double *r, const double *y, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += r[i] * y[i];
    return s;
}

/* ---------------------------------------------------------------- matmul */

typedef struct {
    double *inp, *w, *b, *r, *out;
    int T, C, OC;
} mm_ctx;

static double mm_loss(void *vctx) {
    mm_ctx *c = vctx;
    f64_matmul(c->out, NULL, c->inp, c->w, c->b, c->T, c->C, c->OC);
    return weighted_sum(c->r, c->out, (size_t)c->T * c->OC);
}

static void test_matmul_grads(dsp_pool *pool) {
    const int T = 9, C = 11, OC = 7;
    unsigned long long seed = 11;
    mm_ctx m = {test_point((size_t)T * C, &seed, 1), test_point((size_t)OC * C, &seed, 1), test_point(OC, &seed, 1),
                test_point((size_t)T * OC, &seed, 1), calloc((size_t)T * OC, sizeof(double)), T, C, OC};
    double *gi = calloc((size_t)T * C, sizeof(double)), *gw = calloc((size_t)OC * C, sizeof(double)),
           *gb = calloc(OC, sizeof(double));
    fd_grad(gi, m.inp, (size_t)T * C, mm_loss, &m);
    fd_grad(gw, m.w, (size_t)OC * C, mm_loss, &m);
    fd_grad(gb, m.b, OC, mm_loss, &m);
    float *inp = to_float(m.inp, (size_t)T * C), *w = to_float(m.w, (size_t)OC * C);
    float *dout = to_float(m.r, (size_t)T * OC);
    float *g0i = f64_test_data((size_t)T * C, &seed, 1), *g0w = f64_test_data((size_t)OC * C, &seed, 1),
          *g0b = f64_test_data(OC, &seed, 1);
    for (int si = 0; si < n_sets; si++) {
        dsp_kctx k = {pool, sets[si], NULL};
        float *di = malloc(sizeof(float) * T * C), *dw = malloc(sizeof(float) * OC * C);
        float *db = malloc(sizeof(float) * OC);
        memcpy(di, g0i, sizeof(float) * T * C);
        memcpy(dw, g0w, sizeof(float) * OC * C);
        memcpy(db, g0b, sizeof(float) * OC);
        dsp_matmul_backward(&k, di, dw, db, dout, inp, w, T, C, OC);
        expect_grad("matmul dinp", sets[si], di, g0i, gi, (size_t)T * C);
        expect_grad("matmul dw", sets[si], dw, g0w, gw, (size_t)OC * C);
        expect_grad("matmul db", sets[si], db, g0b, gb, OC);
        free(di), free(dw), free(db);
    }
    free(m.inp), free(m.w), free(m.b), free(m.r), free(m.out), free(gi), free(gw), free(gb);
    free(inp), free(w), free(dout), free(g0i), free(g0w), free(g0b);
}

/* ---------------------------------------------------------------- layernorm */

typedef struct {
    double *x, *w, *b, *r, *out;
    int T, C;
} ln_ctx;

static double ln_loss(void *vctx) {
    ln_ctx *c = vctx;
    f64_layernorm(c->out, c->x, c->w, c->b, c->T, c->C, 1e-5);
    return weighted_sum(c->r, c->out, (size_t)c->T * c->C);
}

static void test_layernorm_grads(dsp_pool *pool) {
    const int T = 6, C = 13;
    size_t n = (size_t)T * C;
    unsigned long long seed = 22;
    ln_ctx c = {test_point(n, &seed, 2), test_point(C, &seed, 1.5f), test_point(C, &seed, 1), test_point(n, &seed, 1),
                calloc(n, sizeof(double)), T, C};
    double *gx = calloc(n, sizeof(double)), *gw = calloc(C, sizeof(double)), *gb = calloc(C, sizeof(double));
    fd_grad(gx, c.x, n, ln_loss, &c);
    fd_grad(gw, c.w, C, ln_loss, &c);
    fd_grad(gb, c.b, C, ln_loss, &c);
    float *x = to_float(c.x, n), *w = to_float(c.w, C), *b = to_float(c.b, C), *dout = to_float(c.r, n);
    float *g0x = f64_test_data(n, &seed, 1), *g0w = f64_test_data(C, &seed, 1), *g0b = f64_test_data(C, &seed, 1);
    for (int si = 0; si < n_sets; si++) {
        dsp_kctx k = {pool, sets[si], NULL};
        float *y = malloc(sizeof(float) * n), *mean = malloc(sizeof(float) * T), *rstd = malloc(sizeof(float) * T);
        float *dx = malloc(sizeof(float) * n), *dw = malloc(sizeof(float) * C), *db = malloc(sizeof(float) * C);
        memcpy(dx, g0x, sizeof(float) * n); /* overwritten: what it held must not matter */
        memcpy(dw, g0w, sizeof(float) * C);
        memcpy(db, g0b, sizeof(float) * C);
        dsp_layernorm_forward(&k, y, mean, rstd, x, w, b, T, C, 1e-5f);
        dsp_layernorm_backward(&k, dx, dw, db, dout, x, w, mean, rstd, T, C);
        float *zeros = calloc(n, sizeof(float));
        expect_grad("layernorm dinp", sets[si], dx, zeros, gx, n);
        free(zeros);
        expect_grad("layernorm dw", sets[si], dw, g0w, gw, C);
        expect_grad("layernorm db", sets[si], db, g0b, gb, C);
        free(y), free(mean), free(rstd), free(dx), free(dw), free(db);
    }
    free(c.x), free(c.w), free(c.b), free(c.r), free(c.out), free(gx), free(gw), free(gb);
    free(x), free(w), free(b), free(dout), free(g0x), free(g0w), free(g0b);
}

/* ---------------------------------------------------------------- GELU */

typedef struct {
    double *x, *r;
    size_t n;
} gelu_ctx;

static double gelu_loss(void *vctx) {
    gelu_ctx *c = vctx;
    double s = 0;
    for (size_t i = 0; i < c->n; i++) s += c->r[i] * f64_gelu(c->x[i]);
    return s;
}

static void test_gelu_grads(dsp_pool *pool) {
    const size_t n = 203;
    unsigned long long seed = 33;
    gelu_ctx c = {test_point(n, &seed, 6), test_point(n, &seed, 1), n};
    c.x[0] = 0, c.x[1] = 1e-3, c.x[2] = -1e-3, c.x[3] = 0.70710678118654752, c.x[4] = -3.9;
    double *g = calloc(n, sizeof(double));
    fd_grad(g, c.x, n, gelu_loss, &c);
    float *x = to_float(c.x, n), *dout = to_float(c.r, n), *g0 = f64_test_data(n, &seed, 1);
    for (int si = 0; si < n_sets; si++) {
        dsp_kctx k = {pool, sets[si], NULL};
        /* the backward overwrites: start from junk, compare against a zero baseline */
        float *dx = malloc(sizeof(float) * n), *zero = calloc(n, sizeof(float));
        memcpy(dx, g0, sizeof(float) * n);
        dsp_gelu_backward(&k, dx, x, NULL, dout, n);
        expect_grad("gelu", sets[si], dx, zero, g, n);
        free(dx), free(zero);
    }
    free(c.x), free(c.r), free(g), free(x), free(dout), free(g0);
}

/* ---------------------------------------------------------------- attention */

typedef struct {
    double *qkv, *r, *out, *att;
    f64_attn_shape s;
    dsp_dropout drop;
} attn_ctx;

static double attn_loss(void *vctx) {
    attn_ctx *c = vctx;
    f64_attention(c->out, c->att, c->qkv, &c->s, c->drop);
    return weighted_sum(c->r, c->out, (size_t)c->s.T * c->s.H);
}

static void test_attention_grads(dsp_pool *pool, int H, int A, float p) {
    const int lens[] = {3, 1, 4, 2};
    attn_ctx c;
    f64_attn_shape_make(&c.s, lens, 4, H, A);
    c.drop = (dsp_dropout){p, 2024, 5};
    size_t nq = (size_t)c.s.T * 3 * H, no = (size_t)c.s.T * H;
    unsigned long long seed = 44 + (unsigned long long)H;
    c.qkv = test_point(nq, &seed, 1.5f);
    c.r = test_point(no, &seed, 1);
    c.out = calloc(no, sizeof(double));
    c.att = calloc(c.s.att_total, sizeof(double));
    double *g = calloc(nq, sizeof(double));
    fd_grad(g, c.qkv, nq, attn_loss, &c);
    float *qkv = to_float(c.qkv, nq), *dout = to_float(c.r, no);
    float *scratch = calloc(dsp_attention_scratch_floats(4, dsp_pool_threads(pool)), sizeof(float));
    char what[64];
    snprintf(what, sizeof what, "attention H=%d A=%d dropout %.2f", H, A, p);
    for (int si = 0; si < n_sets; si++) {
        dsp_kctx k = {pool, sets[si], NULL};
        float *out = malloc(sizeof(float) * no), *att = malloc(sizeof(float) * c.s.att_total),
              *dq = malloc(sizeof(float) * nq);
        dsp_attention_forward(&k, out, att, qkv, c.s.seq_off, c.s.seq_len, c.s.att_off, 4, H, A, c.drop, NULL, 0);
        dsp_attention_backward(&k, dq, dout, qkv, att, c.s.seq_off, c.s.seq_len, c.s.att_off, 4, H, A, c.drop, NULL,
                               scratch, 0);
        expect_grad(what, sets[si], dq, NULL, g, nq);
        free(out), free(att), free(dq);
    }
    free(c.qkv), free(c.r), free(c.out), free(c.att), free(g), free(qkv), free(dout), free(scratch);
    f64_attn_shape_free(&c.s);
}

int main(void) {
    n_sets = f64_kernel_sets(sets);
    dsp_pool *pool = dsp_pool_create(2);
    test_matmul_grads(pool);
    test_layernorm_grads(pool);
    test_gelu_grads(pool);
    test_attention_grads(pool, 8, 2, 0.0f);  /* d = 4 */
    test_attention_grads(pool, 10, 2, 0.0f); /* d = 5: vector tails */
    test_attention_grads(pool, 8, 2, 0.3f);
    test_attention_grads(pool, 10, 2, 0.5f);
    dsp_pool_free(pool);
    return dsp_test_end("test_kernel_grads");
}
