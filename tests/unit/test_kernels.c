/* test_kernels.c — every kernel of every set (scalar, SIMD128, AVX2 where the CPU has it) against a
 * double-precision reference, on odd shapes (T, C, OC not multiples of any tile; K past the 256-deep block;
 * ragged attention with lengths 1 and 2), forward and backward, with and without dropout; plus the
 * bit-for-bit properties the design promises and thread-count independence.
 *
 * Tolerances are rounding-error bounds computed next to the reference (u = 2^-24 is float's unit roundoff,
 * γ_n = n·u/(1−n·u)): a sum of n terms rounded one step at a time, in any order and with or without FMA, is
 * within γ_n·Σ|terms| of the exact sum; products add u each. Where a kernel has several stages the stage
 * bounds are propagated to first order and the total doubled (second-order terms and the 1.3-ulp exp/erf of
 * mathfn.h are covered by that margin, or added explicitly). A wrong index or a missing term gives errors of
 * the size of the terms themselves, orders of magnitude above these bounds.
 *
 * Bit-for-bit promises checked: SIMD128 matmul (all products), layernorm dw/db and GELU equal the scalar
 * reference exactly (same operation order, separate multiply and add); every set gives identical bits with
 * 1, 2 and 4 threads.
 */
#include "kernels.h"
#include "kernels_f64.h"
#include "kernels_shared.h"
#include "testutil.h"

#include <stdint.h>
#include <string.h>

#define U F64_U

static dsp_kernels sets[F64_MAX_SETS];
static int n_sets;

/* |got − want| <= tol elementwise (NaN fails); reports the count and the worst offender. */
static void expect_close(const char *what, dsp_kernels set, const float *got, const double *want,
                         const double *tol, size_t n) {
    size_t bad = 0, worst = 0;
    double worst_ratio = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]);
        if (!(e <= tol[i])) {
            bad++;
            double r = tol[i] > 0 ? e / tol[i] : INFINITY;
            if (bad == 1 || r > worst_ratio) {
                worst_ratio = r;
                worst = i;
            }
        }
    }
    CHECK_MSG(bad == 0, "%s [%s]: %zu of %zu outside tolerance; worst [%zu] = %.9g, want %.9g, tol %.3g", what,
              dsp_kernels_name(set), bad, n, worst, bad ? got[worst] : 0.0, bad ? want[worst] : 0.0,
              bad ? tol[worst] : 0.0);
}

static void expect_same_bits(const char *what, const float *a, const float *b, size_t n) {
    size_t i = 0;
    while (i < n && memcmp(a + i, b + i, sizeof(float)) == 0) i++;
    CHECK_MSG(i == n, "%s: differs at [%zu]: %.9g vs %.9g", what, i, i < n ? a[i] : 0.0, i < n ? b[i] : 0.0);
}

static float *copy_of(const float *x, size_t n) {
    float *y = malloc(sizeof(float) * (n ? n : 1));
    memcpy(y, x, sizeof(float) * n);
    return y;
}

static double *dalloc(size_t n) { return calloc(n ? n : 1, sizeof(double)); }
static float *falloc(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

/* ref[m,n] = init[m,n] + Σ_k A(m,k)·B(k,n) with its γ_{K+1} bound (strided views, as the three products). */
static void f64_gemm_acc(double *ref, double *bound, const float *init, const float *A, size_t a_rs, size_t a_cs,
                         const float *B, size_t b_rs, size_t b_cs, int M, int N, int K) {
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double s = init[(size_t)m * N + n], a = fabs(s);
            for (int k = 0; k < K; k++) {
                double p = (double)A[m * a_rs + k * a_cs] * B[k * b_rs + n * b_cs];
                s += p;
                a += fabs(p);
            }
            ref[(size_t)m * N + n] = s;
            bound[(size_t)m * N + n] = f64_gamma(K + 1) * a;
        }
}

/* ---------------------------------------------------------------- matmul */

static void test_matmul(dsp_pool *pool, int T, int C, int OC, unsigned long long seed) {
    char what[96];
    float *inp = f64_test_data((size_t)T * C, &seed, 1), *w = f64_test_data((size_t)OC * C, &seed, 1);
    float *b = f64_test_data((size_t)OC, &seed, 1), *dout = f64_test_data((size_t)T * OC, &seed, 1);
    float *dinp0 = f64_test_data((size_t)T * C, &seed, 1), *dw0 = f64_test_data((size_t)OC * C, &seed, 1);
    float *db0 = f64_test_data((size_t)OC, &seed, 1);
    double *ref = dalloc((size_t)T * OC), *bnd = dalloc((size_t)T * OC), *ref_nb = dalloc((size_t)T * OC),
           *bnd_nb = dalloc((size_t)T * OC);
    double *rdi = dalloc((size_t)T * C), *bdi = dalloc((size_t)T * C), *rdw = dalloc((size_t)OC * C),
           *bdw = dalloc((size_t)OC * C), *rdb = dalloc((size_t)OC), *bdb = dalloc((size_t)OC);
    double *inp64 = f64_from_float(inp, (size_t)T * C), *w64 = f64_from_float(w, (size_t)OC * C);
    double *b64 = f64_from_float(b, (size_t)OC);
    f64_matmul(ref, bnd, inp64, w64, b64, T, C, OC);
    f64_matmul(ref_nb, bnd_nb, inp64, w64, NULL, T, C, OC);
    free(inp64), free(w64), free(b64);
    f64_gemm_acc(rdi, bdi, dinp0, dout, (size_t)OC, 1, w, (size_t)C, 1, T, C, OC);
    f64_gemm_acc(rdw, bdw, dw0, dout, 1, (size_t)OC, inp, (size_t)C, 1, OC, C, T);
    float *ones = falloc((size_t)T);
    for (int t = 0; t < T; t++) ones[t] = 1.0f;
    f64_gemm_acc(rdb, bdb, db0, dout, 1, (size_t)OC, ones, 1, 0, OC, 1, T);

    float *s_out = NULL, *s_di = NULL, *s_dw = NULL, *s_db = NULL; /* the scalar results */
    for (int si = 0; si < n_sets; si++) {
        dsp_kctx k = {pool, sets[si], NULL};
        float *out = falloc((size_t)T * OC), *out_nb = falloc((size_t)T * OC);
        float *di = copy_of(dinp0, (size_t)T * C), *dw = copy_of(dw0, (size_t)OC * C), *db = copy_of(db0, (size_t)OC);
        dsp_matmul_forward(&k, out, inp, w, b, T, C, OC);
        dsp_matmul_forward(&k, out_nb, inp, w, NULL, T, C, OC);
        dsp_matmul_backward(&k, di, dw, db, dout, inp, w, T, C, OC);
        snprintf(what, sizeof what, "matmul T=%d C=%d OC=%d", T, C, OC);
        expect_close(what, sets[si], out, ref, bnd, (size_t)T * OC);
        expect_close("matmul forward without bias", sets[si], out_nb, ref_nb, bnd_nb, (size_t)T * OC);
        expect_close("matmul dinp", sets[si], di, rdi, bdi, (size_t)T * C);
        expect_close("matmul dw", sets[si], dw, rdw, bdw, (size_t)OC * C);
        expect_close("matmul db", sets[si], db, rdb, bdb, (size_t)OC);
        /* dinp and db are optional: dw alone must come out the same, and nothing else is touched. */
        float *dw2 = copy_of(dw0, (size_t)OC * C);
        dsp_matmul_backward(&k, NULL, dw2, NULL, dout, inp, w, T, C, OC);
        expect_same_bits("matmul dw without dinp/db", dw2, dw, (size_t)OC * C);
        free(dw2);
        /* the overwriting form: dinp from any contents equals accumulating into zeros, bit for bit */
        float *di_zero = falloc((size_t)T * C), *di_over = copy_of(dinp0, (size_t)T * C);
        memset(di_zero, 0, (size_t)T * C * sizeof(float));
        dsp_matmul_backward(&k, di_zero, NULL, NULL, dout, inp, w, T, C, OC);
        dsp_matmul_backward_overwrite(&k, di_over, NULL, NULL, dout, inp, w, T, C, OC);
        expect_same_bits("matmul dinp overwritten == accumulated into zeros", di_over, di_zero, (size_t)T * C);
        free(di_zero), free(di_over);
        if (sets[si] == DSP_KERNELS_SCALAR) {
            s_out = out, s_di = di, s_dw = dw, s_db = db;
            free(out_nb);
            continue;
        }
        if (f64_is_simd128(sets[si])) { /* same order, separate mul and add: the scalar bits */
            expect_same_bits("simd128 matmul forward == scalar", out, s_out, (size_t)T * OC);
            expect_same_bits("simd128 matmul dinp == scalar", di, s_di, (size_t)T * C);
            expect_same_bits("simd128 matmul dw == scalar", dw, s_dw, (size_t)OC * C);
            expect_same_bits("simd128 matmul db == scalar", db, s_db, (size_t)OC);
        }
        free(out), free(out_nb), free(di), free(dw), free(db);
    }
    free(s_out), free(s_di), free(s_dw), free(s_db);
    free(inp), free(w), free(b), free(dout), free(dinp0), free(dw0), free(db0), free(ones);
    free(ref), free(bnd), free(ref_nb), free(bnd_nb), free(rdi), free(bdi), free(rdw), free(bdw), free(rdb), free(bdb);
}

/* ---------------------------------------------------------------- layernorm */

static void test_layernorm(dsp_pool *pool, int T, int C, unsigned long long seed) {
    const float eps = 1e-5f;
    size_t n = (size_t)T * C;
    float *inp = f64_test_data(n, &seed, 2), *w = f64_test_data((size_t)C, &seed, 1.5f);
    float *b = f64_test_data((size_t)C, &seed, 1), *dout = f64_test_data(n, &seed, 1);
    float *di0 = f64_test_data(n, &seed, 1), *dw0 = f64_test_data((size_t)C, &seed, 1),
          *db0 = f64_test_data((size_t)C, &seed, 1);
    for (size_t i = 0; i < n; i++) inp[i] += 0.75f; /* a non-zero mean */
    /* forward reference and bound (see the top comment; per row: mean error em, rstd error er) */
    double *ry = dalloc(n), *ty = dalloc(n), *rm = dalloc((size_t)T), *tm = dalloc((size_t)T), *rr = dalloc((size_t)T),
           *tr = dalloc((size_t)T);
    for (int t = 0; t < T; t++) {
        const float *x = inp + (size_t)t * C;
        double m = 0, ma = 0, v = 0;
        for (int c = 0; c < C; c++) m += x[c], ma += fabs(x[c]);
        m /= C, ma /= C;
        for (int c = 0; c < C; c++) v += (x[c] - m) * (x[c] - m);
        v /= C;
        double r = 1.0 / sqrt(v + eps);
        double em = f64_gamma(C) * ma + U * fabs(m);
        double er = r * (0.5 * f64_gamma(C + 4) + 2 * U + (v > 0 ? em * em / v : 0));
        rm[t] = m, tm[t] = 1.01 * em, rr[t] = r, tr[t] = 2 * er;
        for (int c = 0; c < C; c++) {
            double norm = (x[c] - m) * r;
            double en = r * em + fabs(x[c] - m) * er + 2 * U * fabs(norm);
            ry[(size_t)t * C + c] = norm * w[c] + b[c];
            ty[(size_t)t * C + c] = 2 * (fabs(w[c]) * en + U * fabs(norm * w[c]) + U * fabs(norm * w[c] + b[c]));
        }
    }
    /* backward reference at the float statistics the kernels receive (those of the scalar forward) */
    float *mean = falloc((size_t)T), *rstd = falloc((size_t)T), *tmp = falloc(n);
    dsp_kctx ks = {pool, DSP_KERNELS_SCALAR, NULL};
    dsp_layernorm_forward(&ks, tmp, mean, rstd, inp, w, b, T, C, eps);
    double *rdi = dalloc(n), *tdi = dalloc(n), *rdw = dalloc((size_t)C), *tdw = dalloc((size_t)C),
           *rdb = dalloc((size_t)C), *tdb = dalloc((size_t)C);
    for (int c = 0; c < C; c++) rdw[c] = dw0[c], tdw[c] = fabs(dw0[c]), rdb[c] = db0[c], tdb[c] = fabs(db0[c]);
    for (int t = 0; t < T; t++) {
        const float *x = inp + (size_t)t * C, *g = dout + (size_t)t * C;
        double m = mean[t], r = rstd[t], dm = 0, dnm = 0, dma = 0, dnma = 0;
        for (int c = 0; c < C; c++) {
            double norm = (x[c] - m) * r, dn = (double)w[c] * g[c];
            dm += dn, dnm += dn * norm, dma += fabs(dn), dnma += fabs(dn * norm);
        }
        dm /= C, dnm /= C, dma /= C, dnma /= C;
        double edm = f64_gamma(C + 2) * dma, ednm = f64_gamma(C + 4) * dnma;
        for (int c = 0; c < C; c++) {
            size_t i = (size_t)t * C + c;
            double norm = (x[c] - m) * r, dn = (double)w[c] * g[c], term = dn - dm - norm * dnm;
            double en = 2 * U * fabs(norm);
            double eterm = U * fabs(dn) + edm + fabs(norm) * ednm + fabs(dnm) * en +
                           3 * U * (fabs(dn) + fabs(dm) + fabs(norm * dnm));
            rdi[i] = term * r; /* dinp is overwritten (di0's contents must not matter) */
            tdi[i] = 2 * (r * eterm + U * fabs(term * r) + U * fabs(rdi[i]));
            rdw[c] += norm * g[c], tdw[c] += fabs(norm * g[c]);
            rdb[c] += g[c], tdb[c] += fabs(g[c]);
        }
    }
    for (int c = 0; c < C; c++) tdw[c] *= 2 * (f64_gamma(T + 1) + 3 * U), tdb[c] *= f64_gamma(T + 1);

    float *s_dw = NULL, *s_db = NULL;
    for (int si = 0; si < n_sets; si++) {
        dsp_kctx k = {pool, sets[si], NULL};
        float *y = falloc(n), *mu = falloc((size_t)T), *rs = falloc((size_t)T);
        float *di = copy_of(di0, n), *dw = copy_of(dw0, (size_t)C), *db = copy_of(db0, (size_t)C);
        dsp_layernorm_forward(&k, y, mu, rs, inp, w, b, T, C, eps);
        expect_close("layernorm out", sets[si], y, ry, ty, n);
        expect_close("layernorm mean", sets[si], mu, rm, tm, (size_t)T);
        expect_close("layernorm rstd", sets[si], rs, rr, tr, (size_t)T);
        dsp_layernorm_backward(&k, di, dw, db, dout, inp, w, mean, rstd, T, C);
        expect_close("layernorm dinp", sets[si], di, rdi, tdi, n);
        expect_close("layernorm dw", sets[si], dw, rdw, tdw, (size_t)C);
        expect_close("layernorm db", sets[si], db, rdb, tdb, (size_t)C);
        { /* in place (dinp = dout), as the encoder runs it: the same bits for dinp, dw and db */
            float *io = copy_of(dout, n), *dw2 = copy_of(dw0, (size_t)C), *db2 = copy_of(db0, (size_t)C);
            dsp_layernorm_backward(&k, io, dw2, db2, io, inp, w, mean, rstd, T, C);
            expect_same_bits("layernorm dinp in place", io, di, n);
            expect_same_bits("layernorm dw in place", dw2, dw, (size_t)C);
            expect_same_bits("layernorm db in place", db2, db, (size_t)C);
            free(io), free(dw2), free(db2);
        }
        if (sets[si] == DSP_KERNELS_SCALAR) {
            s_dw = dw, s_db = db;
            dw = db = NULL;
        } else if (f64_is_simd128(sets[si])) { /* column sums in the reference's order */
            expect_same_bits("simd128 layernorm dw == scalar", dw, s_dw, (size_t)C);
            expect_same_bits("simd128 layernorm db == scalar", db, s_db, (size_t)C);
        }
        free(y), free(mu), free(rs), free(di), free(dw), free(db);
    }
    free(s_dw), free(s_db), free(inp), free(w), free(b), free(dout), free(di0), free(dw0), free(db0);
    free(ry), free(ty), free(rm), free(tm), free(rr), free(tr), free(mean), free(rstd), free(tmp);
    free(rdi), free(tdi), free(rdw), free(tdw), free(rdb), free(tdb);
}

/* ---------------------------------------------------------------- GELU */

static void test_gelu(dsp_pool *pool) {
    const size_t n = 40003; /* three tasks of the SIMD kernels plus an odd tail */
    unsigned long long seed = 77;
    float *x = f64_test_data(n, &seed, 6), *dout = f64_test_data(n, &seed, 1), *d0 = f64_test_data(n, &seed, 1);
    const float special[] = {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-40f, 0.70710678f, -0.70710678f, 1.0f, -1.0f,
                             3.5f, -3.5f, 5.6f, -5.6f, 9.0f, -9.0f, 40.0f, -40.0f};
    memcpy(x, special, sizeof special);
    /* erf's error is below 1.3 ulp of |erf| <= 1 (mathfn.h), plus the rounding of x/√2 times erf'; one
     * more ulp for the FMA evaluation of the AVX2 build: e_erf below. */
    double *ry = dalloc(n), *ty = dalloc(n), *rd = dalloc(n), *td = dalloc(n);
    for (size_t i = 0; i < n; i++) {
        double xi = x[i], ax = fabs(xi);
        double e_erf = 3.0 * U + 2.0 * U * ax * 0.7979 * exp(-0.5 * xi * xi);
        double pdf = exp(-0.5 * xi * xi) / sqrt(2.0 * 3.14159265358979323846);
        ry[i] = f64_gelu(xi);
        ty[i] = 2 * (0.5 * ax * e_erf + 2 * U * fabs(ry[i]));
        double local = f64_gelu_grad(xi);
        double e_local = 0.5 * e_erf + ax * pdf * (4 + xi * xi) * U + 2 * U * fabs(local);
        rd[i] = dout[i] * local; /* overwritten: d0 is junk the kernel must not read */
        td[i] = 2 * (fabs(dout[i]) * e_local + U * fabs(dout[i] * local) + U * fabs(rd[i]));
    }
    float *s_y = NULL, *s_d = NULL;
    for (int si = 0; si < n_sets; si++) {
        dsp_kctx k = {pool, sets[si], NULL};
        float *y = falloc(n), *d = copy_of(d0, n), *y2 = falloc(n), *cdf = falloc(n), *d2 = copy_of(d0, n);
        dsp_gelu_forward(&k, y, NULL, x, n);
        dsp_gelu_backward(&k, d, x, NULL, dout, n);
        expect_close("gelu forward", sets[si], y, ry, ty, n);
        expect_close("gelu backward", sets[si], d, rd, td, n);
        /* keeping Φ from the forward changes nothing but the cost */
        dsp_gelu_forward(&k, y2, cdf, x, n);
        dsp_gelu_backward(&k, d2, x, cdf, dout, n);
        expect_same_bits("gelu forward keeping cdf", y2, y, n);
        expect_same_bits("gelu backward from the kept cdf", d2, d, n);
        free(y2), free(cdf), free(d2);
        if (sets[si] == DSP_KERNELS_SCALAR) {
            s_y = y, s_d = d;
            continue;
        }
        if (f64_is_simd128(sets[si])) { /* lane for lane the scalar operations (mathfn.h) */
            expect_same_bits("simd128 gelu forward == scalar", y, s_y, n);
            expect_same_bits("simd128 gelu backward == scalar", d, s_d, n);
        }
        free(y), free(d);
    }
    free(s_y), free(s_d), free(x), free(dout), free(d0), free(ry), free(ty), free(rd), free(td);
}

/* ---------------------------------------------------------------- softmax */

static void test_softmax(dsp_pool *pool, int R, int C, unsigned long long seed) {
    size_t n = (size_t)R * C;
    float *x = f64_test_data(n, &seed, 8);
    double *rp = dalloc(n), *tp = dalloc(n), *row = dalloc((size_t)C);
    for (int r = 0; r < R; r++) {
        const float *xr = x + (size_t)r * C;
        double mx = xr[0];
        for (int j = 0; j < C; j++) row[j] = xr[j], mx = xr[j] > mx ? xr[j] : mx;
        f64_softmax_row(rp + (size_t)r * C, row, C);
        /* relative: rounding of x − max (u·|x − max| in exp's argument), exp 1.1 ulp, the sum γ_C of positive
         * terms, the division. */
        for (int j = 0; j < C; j++)
            tp[(size_t)r * C + j] = 2 * rp[(size_t)r * C + j] * (U * (mx - xr[j]) + 1.1 * U + f64_gamma(C) + U);
    }
    char what[64];
    snprintf(what, sizeof what, "softmax R=%d C=%d", R, C);
    for (int si = 0; si < n_sets; si++) {
        dsp_kctx k = {pool, sets[si], NULL};
        float *p = falloc(n);
        dsp_softmax_forward(&k, p, x, R, C);
        expect_close(what, sets[si], p, rp, tp, n);
        free(p);
    }
    free(x), free(rp), free(tp), free(row);
}

/* ---------------------------------------------------------------- attention */

typedef struct {
    double *out, *tout, *att, *tatt; /* forward reference and bounds */
    double *dqkv, *tdqkv;            /* backward reference (at the given float att) and bounds */
} attn_ref;

/* Forward reference with bounds (top comment): per row, score errors es_j = scale·γ_d·Σ|q·k| + 3u|s_j| (the
 * float scale 1/sqrtf(d) is itself rounded); every probability of the row then has relative error at most
 * eps_i = 2·max_j es_j + (max_j(max − s_j) + len + 4)·u; out adds γ_{len+1}. */
static void attn_forward_ref(attn_ref *r, const float *qkv, const f64_attn_shape *s, dsp_dropout drop) {
    int H = s->H, d = H / s->A;
    double *q64 = f64_from_float(qkv, (size_t)s->T * 3 * H);
    f64_attention(r->out, r->att, q64, s, drop);
    double scale = 1.0 / sqrt((double)d);
    for (int b = 0; b < s->B; b++)
        for (int h = 0; h < s->A; h++) {
            int len = s->seq_len[b], off = s->seq_off[b];
            size_t blk = s->att_off[b] + (size_t)h * len * len;
            for (int i = 0; i < len; i++) {
                const double *q = q64 + (size_t)(off + i) * 3 * H + h * d;
                double esmax = 0, smax = -INFINITY, smin = INFINITY;
                for (int j = 0; j < len; j++) {
                    const double *kk = q64 + (size_t)(off + j) * 3 * H + H + h * d;
                    double dot = 0, adot = 0;
                    for (int c = 0; c < d; c++) dot += q[c] * kk[c], adot += fabs(q[c] * kk[c]);
                    double es = scale * f64_gamma(d) * adot + 3 * U * fabs(dot * scale);
                    esmax = es > esmax ? es : esmax;
                    smax = dot * scale > smax ? dot * scale : smax;
                    smin = dot * scale < smin ? dot * scale : smin;
                }
                double eps = 2 * esmax + (smax - smin + len + 4) * U;
                for (int j = 0; j < len; j++) {
                    size_t e = blk + (size_t)i * len + j;
                    r->tatt[e] = 1.5 * eps * r->att[e];
                }
                for (int c = 0; c < d; c++) {
                    double a = 0;
                    for (int j = 0; j < len; j++) {
                        size_t e = blk + (size_t)i * len + j;
                        double v = q64[(size_t)(off + j) * 3 * H + 2 * H + h * d + c];
                        a += fabs(r->att[e] * f64_drop_factor(drop, e) * v);
                    }
                    r->tout[(size_t)(off + i) * H + h * d + c] = 2 * a * (eps + f64_gamma(len + 1) + U);
                }
            }
        }
    free(q64);
}

/* Backward reference at probabilities P (the float att the kernels get) with first-order bounds. */
static void attn_backward_ref(attn_ref *r, const float *qkv, const float *att, const float *dout,
                              const f64_attn_shape *s, dsp_dropout drop) {
    int H = s->H, d = H / s->A, maxlen = 1;
    for (int b = 0; b < s->B; b++) maxlen = s->seq_len[b] > maxlen ? s->seq_len[b] : maxlen;
    double scale = 1.0 / sqrt((double)d);
    size_t nq = (size_t)s->T * 3 * H;
    double *ag = dalloc(nq); /* Σ|terms| per element, for the γ bounds */
    double *dp = dalloc((size_t)maxlen), *edp = dalloc((size_t)maxlen), *ds = dalloc((size_t)maxlen),
           *eds = dalloc((size_t)maxlen);
    memset(r->dqkv, 0, nq * sizeof(double));
    memset(r->tdqkv, 0, nq * sizeof(double));
    for (int b = 0; b < s->B; b++)
        for (int h = 0; h < s->A; h++) {
            int len = s->seq_len[b], off = s->seq_off[b];
            size_t blk = s->att_off[b] + (size_t)h * len * len;
#define QKV(t, part, c) ((size_t)(off + (t)) * 3 * H + (part) * H + h * d + (c))
            for (int i = 0; i < len; i++) {
                const float *go = dout + (size_t)(off + i) * H + h * d;
                double rowdot = 0, arow = 0, erow = 0;
                for (int j = 0; j < len; j++) {
                    size_t e = blk + (size_t)i * len + j;
                    double m = f64_drop_factor(drop, e), P = att[e], dot = 0, adot = 0;
                    for (int c = 0; c < d; c++) {
                        dot += (double)go[c] * qkv[QKV(j, 2, c)], adot += fabs((double)go[c] * qkv[QKV(j, 2, c)]);
                        r->dqkv[QKV(j, 2, c)] += P * m * go[c];
                        ag[QKV(j, 2, c)] += fabs(P * m * go[c]);
                    }
                    dp[j] = dot * m;
                    edp[j] = (f64_gamma(d) * adot + U * fabs(dot)) * m;
                    rowdot += P * dp[j], arow += fabs(P * dp[j]), erow += P * edp[j];
                }
                erow += f64_gamma(len) * arow;
                for (int j = 0; j < len; j++) {
                    double P = att[blk + (size_t)i * len + j];
                    ds[j] = P * (dp[j] - rowdot) * scale;
                    eds[j] = P * scale * (edp[j] + erow + 5 * U * (fabs(dp[j]) + fabs(rowdot)));
                    for (int c = 0; c < d; c++) {
                        r->dqkv[QKV(i, 0, c)] += ds[j] * qkv[QKV(j, 1, c)];
                        ag[QKV(i, 0, c)] += fabs(ds[j] * qkv[QKV(j, 1, c)]);
                        r->tdqkv[QKV(i, 0, c)] += eds[j] * fabs(qkv[QKV(j, 1, c)]);
                        r->dqkv[QKV(j, 1, c)] += ds[j] * qkv[QKV(i, 0, c)];
                        ag[QKV(j, 1, c)] += fabs(ds[j] * qkv[QKV(i, 0, c)]);
                        r->tdqkv[QKV(j, 1, c)] += eds[j] * fabs(qkv[QKV(i, 0, c)]);
                    }
                }
            }
#undef QKV
        }
    for (size_t i = 0; i < nq; i++) r->tdqkv[i] = 2 * (r->tdqkv[i] + f64_gamma(maxlen + 2) * ag[i]);
    free(ag), free(dp), free(edp), free(ds), free(eds);
}

static void test_attention(dsp_pool *pool, const int *lens, int B, int H, int A, float p, unsigned long long seed) {
    f64_attn_shape s;
    f64_attn_shape_make(&s, lens, B, H, A);
    dsp_dropout drop = {p, 1234, 77};
    size_t nq = (size_t)s.T * 3 * H, no = (size_t)s.T * H;
    float *qkv = f64_test_data(nq, &seed, 2), *dout = f64_test_data(no, &seed, 1);
    attn_ref r = {dalloc(no), dalloc(no), dalloc(s.att_total), dalloc(s.att_total), dalloc(nq), dalloc(nq)};
    attn_forward_ref(&r, qkv, &s, drop);
    char what[128];
    snprintf(what, sizeof what, "attention H=%d A=%d B=%d p=%.2f", H, A, B, p);
    int maxlen = 0;
    for (int b = 0; b < B; b++) maxlen = lens[b] > maxlen ? lens[b] : maxlen;
    float *scratch = falloc(dsp_attention_scratch_floats(maxlen, dsp_pool_threads(pool)));
    for (int si = 0; si < n_sets; si++) {
        dsp_kctx k = {pool, sets[si], NULL};
        float *out = falloc(no), *att = falloc(s.att_total), *dqkv = falloc(nq), *dqkv2 = falloc(nq);
        uint8_t *keep = malloc(s.att_total ? s.att_total : 1);
        memset(keep, 9, s.att_total);
        for (size_t i = 0; i < nq; i++) dqkv[i] = NAN; /* overwritten, not accumulated */
        dsp_attention_forward(&k, out, att, qkv, s.seq_off, s.seq_len, s.att_off, B, H, A, drop, keep, 0);
        expect_close(what, sets[si], out, r.out, r.tout, no);
        expect_close("attention probabilities", sets[si], att, r.att, r.tatt, s.att_total);
        /* with dropout on, the recorded mask is the generator's */
        size_t bad = 0;
        for (size_t i = 0; p > 0 && i < s.att_total; i++) bad += keep[i] != (dsp_uniform(1234, 77, i) >= p);
        CHECK_MSG(bad == 0, "%s [%s]: %zu recorded mask bytes differ from the generator", what,
                  dsp_kernels_name(sets[si]), bad);
        dsp_attention_backward(&k, dqkv, dout, qkv, att, s.seq_off, s.seq_len, s.att_off, B, H, A, drop, keep,
                               scratch, 0);
        attn_backward_ref(&r, qkv, att, dout, &s, drop);
        expect_close("attention dqkv", sets[si], dqkv, r.dqkv, r.tdqkv, nq);
        /* replaying the mask gives the bits of hashing it again */
        dsp_attention_backward(&k, dqkv2, dout, qkv, att, s.seq_off, s.seq_len, s.att_off, B, H, A, drop, NULL,
                               scratch, 0);
        expect_same_bits("attention dqkv, recorded mask vs hashed", dqkv, dqkv2, nq);
        free(out), free(att), free(dqkv), free(dqkv2), free(keep);
    }
    free(scratch), free(qkv), free(dout);
    free(r.out), free(r.tout), free(r.att), free(r.tatt), free(r.dqkv), free(r.tdqkv);
    f64_attn_shape_free(&s);
}

/* A length-1 sequence attends only to itself: probability 1, output = dropout factor · v, no gradient to q
 * or k (softmax of one element is constant). */
static void test_attention_len1(void) {
    const int lens[] = {1};
    f64_attn_shape s;
    f64_attn_shape_make(&s, lens, 1, 8, 2);
    float qkv[24], dout[8], out[8], att[2], dqkv[24], scratch[64];
    unsigned long long seed = 5;
    for (int i = 0; i < 24; i++) qkv[i] = dsp_test_rand(&seed);
    for (int i = 0; i < 8; i++) dout[i] = dsp_test_rand(&seed);
    for (int si = 0; si < n_sets; si++) {
        dsp_kctx k = {NULL, sets[si], NULL};
        dsp_dropout none = {0, 0, 0};
        dsp_attention_forward(&k, out, att, qkv, s.seq_off, s.seq_len, s.att_off, 1, 8, 2, none, NULL, 0);
        CHECK(att[0] == 1.0f && att[1] == 1.0f);
        int ok = 1;
        for (int c = 0; c < 8; c++) ok &= out[c] == qkv[16 + c];
        CHECK_MSG(ok, "length-1 attention output must equal v [%s]", dsp_kernels_name(sets[si]));
        dsp_attention_backward(&k, dqkv, dout, qkv, att, s.seq_off, s.seq_len, s.att_off, 1, 8, 2, none, NULL, scratch,
                               0);
        ok = 1;
        for (int c = 0; c < 16; c++) ok &= dqkv[c] == 0.0f;
        for (int c = 0; c < 8; c++) ok &= dqkv[16 + c] == dout[c];
        CHECK_MSG(ok, "length-1 attention gradient: dq = dk = 0, dv = dout [%s]", dsp_kernels_name(sets[si]));
    }
    f64_attn_shape_free(&s);
}

/* A matmul with no inputs (C = 0) has nothing to multiply, but its bias gradient still sums dout: every set adds
 * the column sums, t increasing, with or without dw. */
static void test_matmul_no_inputs(dsp_pool *pool) {
    enum { T = 7, OC = 5 };
    unsigned long long seed = 77;
    float *dout = f64_test_data((size_t)T * OC, &seed, 1.0f);
    float want[OC];
    for (int o = 0; o < OC; o++) {
        want[o] = 0.5f;
        for (int t = 0; t < T; t++) want[o] += dout[t * OC + o];
    }
    for (int si = 0; si < n_sets; si++)
        for (int with_dw = 0; with_dw < 2; with_dw++) {
            dsp_kctx k = {pool, sets[si], NULL};
            float db[OC], dw_unused[1] = {0};
            for (int o = 0; o < OC; o++) db[o] = 0.5f;
            dsp_matmul_backward(&k, NULL, with_dw ? dw_unused : NULL, db, dout, NULL, NULL, T, 0, OC);
            CHECK_MSG(memcmp(db, want, sizeof db) == 0, "C = 0: db is not the column sums [%s, %s dw]",
                      dsp_kernels_name(sets[si]), with_dw ? "with" : "without");
        }
    free(dout);
}

/* ---------------------------------------------------------------- dropout */

static void test_dropout(dsp_pool *pool) {
    const size_t n = 40001;
    float *x = falloc(n);
    dsp_kctx k = {pool, DSP_KERNELS_SIMD128, NULL};
    dsp_dropout d = {0.25f, 42, 3};
    for (size_t i = 0; i < n; i++) x[i] = 1.0f + (float)(i % 7);
    dsp_dropout_apply(&k, x, n, d, NULL);
    size_t kept = 0, wrong = 0;
    float scale = 1.0f / (1.0f - 0.25f);
    for (size_t i = 0; i < n; i++) {
        int keep = dsp_uniform(42, 3, i) >= 0.25f;
        float want = keep ? (1.0f + (float)(i % 7)) * scale : 0.0f;
        kept += keep;
        wrong += x[i] != want;
    }
    CHECK_MSG(wrong == 0, "dropout: %zu elements differ from the generator's mask", wrong);
    double frac = (double)kept / n; /* 0.75 ± 4.3 standard deviations (0.0022) */
    CHECK_MSG(fabs(frac - 0.75) < 0.0095, "dropout kept %.4f, expected 0.75", frac);
    for (size_t i = 0; i < n; i++) x[i] = 2.0f;
    dsp_dropout off = {0.0f, 42, 3};
    dsp_dropout_apply(&k, x, n, off, NULL);
    size_t changed = 0;
    for (size_t i = 0; i < n; i++) changed += x[i] != 2.0f;
    CHECK_MSG(changed == 0, "dropout with p = 0 changed %zu elements", changed);
    /* another stream gives another mask */
    float *y = falloc(n);
    for (size_t i = 0; i < n; i++) x[i] = y[i] = 1.0f;
    dsp_dropout d2 = {0.25f, 42, 4};
    dsp_dropout_apply(&k, x, n, d, NULL);
    dsp_dropout_apply(&k, y, n, d2, NULL);
    CHECK(memcmp(x, y, n * sizeof(float)) != 0);
    /* the vector tasks' integer threshold agrees with the float test "u·2⁻²⁴ >= p" at its boundary */
    {
        const float probs[] = {1e-7f, 0.1f, 0.25f, 1.0f / 3.0f, 0.5f, 0.999f, 1.0f, 2.0f, NAN};
        for (int pi = 0; pi < 9; pi++) {
            int32_t t = dsp_dropout_threshold(probs[pi]);
            for (int32_t u = t - 2; u <= t + 1; u++) {
                if (u < 0 || u >= 16777216) continue;
                int by_float = (float)u * (1.0f / 16777216.0f) >= probs[pi];
                CHECK_MSG(by_float == (u >= t), "p = %.9g: u = %d, threshold %d", probs[pi], (int)u, (int)t);
            }
        }
    }
    /* every kernel set draws the generator's mask exactly (its vector hash and integer threshold included), over
     * lengths with and without a vector tail, several tasks, and p from small to 1 */
    {
        const size_t lens[] = {7, 16384 * 2 + 13};
        const float probs[] = {0.1f, 0.25f, 0.5f, 0.999f, 1.0f};
        uint8_t *kb = malloc(n);
        for (int si = 0; si < n_sets; si++)
            for (int li = 0; li < 2; li++)
                for (int pi = 0; pi < 5; pi++) {
                    dsp_kctx ks = {pool, sets[si], NULL};
                    dsp_dropout dq = {probs[pi], 99, 5};
                    size_t m = lens[li], bad = 0;
                    for (size_t i = 0; i < m; i++) x[i] = 0.5f - (float)(i % 13);
                    dsp_dropout_apply(&ks, x, m, dq, kb);
                    float sc = 1.0f / (1.0f - probs[pi]);
                    for (size_t i = 0; i < m; i++) {
                        int kept_i = dsp_uniform(99, 5, i) >= probs[pi];
                        float want = (0.5f - (float)(i % 13)) * (kept_i ? (probs[pi] < 1.0f ? sc : 0.0f) : 0.0f);
                        bad += memcmp(&x[i], &want, sizeof want) != 0 || kb[i] != kept_i;
                    }
                    CHECK_MSG(bad == 0, "dropout [%s] n=%zu p=%g: %zu elements differ from the generator's mask",
                              dsp_kernels_name(sets[si]), m, probs[pi], bad);
                }
        free(kb);
    }
    /* a recorded mask replays the same bits (the backward's path), at p = 0.25 and p = 1 */
    const float ps[] = {0.25f, 1.0f};
    uint8_t *keep = malloc(n);
    for (int t = 0; t < 2; t++) {
        dsp_dropout dp = {ps[t], 7, 2};
        for (size_t i = 0; i < n; i++) x[i] = y[i] = 0.5f + (float)(i % 11);
        memset(keep, 9, n);
        dsp_dropout_apply(&k, x, n, dp, keep);
        float *z = falloc(n);
        for (size_t i = 0; i < n; i++) z[i] = -1.0f;
        dsp_dropout_apply_kept(&k, z, y, n, dp.p, keep); /* out of place first: y must not change */
        dsp_dropout_apply_kept(&k, y, y, n, dp.p, keep);
        CHECK_MSG(memcmp(z, y, n * sizeof(float)) == 0, "p = %g: out-of-place replay differs from in-place", ps[t]);
        free(z);
        size_t bad = 0;
        for (size_t i = 0; i < n; i++) bad += keep[i] != (dsp_uniform(7, 2, i) >= dp.p);
        CHECK_MSG(bad == 0, "p = %g: %zu recorded mask bytes differ from the generator", ps[t], bad);
        CHECK_MSG(memcmp(x, y, n * sizeof(float)) == 0, "p = %g: the recorded mask replays other bits", ps[t]);
    }
    free(keep);
    free(x), free(y);
}

/* ---------------------------------------------------------------- thread-count independence */

typedef struct { float *buf[24]; size_t len[24]; int count; } outputs;

static float *out_add(outputs *o, size_t n) {
    if (o->count == (int)(sizeof o->buf / sizeof o->buf[0])) abort(); /* the test's own capacity */
    o->len[o->count] = n;
    return o->buf[o->count++] = falloc(n);
}

/* Runs every kernel on fixed inputs, big enough that each splits into several tasks. */
static void run_everything(outputs *o, dsp_pool *pool, dsp_kernels set) {
    const int T = 301, C = 130, OC = 77;
    unsigned long long seed = 99;
    dsp_kctx k = {pool, set, NULL};
    float *inp = f64_test_data((size_t)T * C, &seed, 1), *w = f64_test_data((size_t)OC * C, &seed, 1);
    float *b = f64_test_data((size_t)OC, &seed, 1), *dout = f64_test_data((size_t)T * OC, &seed, 1);
    float *g = f64_test_data((size_t)T * C, &seed, 1);
    o->count = 0;
    dsp_matmul_forward(&k, out_add(o, (size_t)T * OC), inp, w, b, T, C, OC);
    float *di = out_add(o, (size_t)T * C), *dw = out_add(o, (size_t)OC * C), *db = out_add(o, (size_t)OC);
    dsp_matmul_backward(&k, di, dw, db, dout, inp, w, T, C, OC);
    float *mean = out_add(o, (size_t)T), *rstd = out_add(o, (size_t)T);
    dsp_layernorm_forward(&k, out_add(o, (size_t)T * C), mean, rstd, inp, inp, inp, T, C, 1e-5f);
    dsp_layernorm_backward(&k, out_add(o, (size_t)T * C), out_add(o, (size_t)C), out_add(o, (size_t)C), g, inp,
                           inp, mean, rstd, T, C);
    float *cdf = out_add(o, (size_t)T * C);
    dsp_gelu_forward(&k, out_add(o, (size_t)T * C), cdf, g, (size_t)T * C);
    dsp_gelu_backward(&k, out_add(o, (size_t)T * C), inp, NULL, g, (size_t)T * C);
    dsp_gelu_backward(&k, out_add(o, (size_t)T * C), g, cdf, inp, (size_t)T * C);
    dsp_softmax_forward(&k, out_add(o, (size_t)T * C), g, T, C);
    const int lens[] = {1, 2, 17, 33, 9, 5};
    f64_attn_shape s;
    f64_attn_shape_make(&s, lens, 6, 20, 4);
    float *qkv = f64_test_data((size_t)s.T * 60, &seed, 2), *ad = f64_test_data((size_t)s.T * 20, &seed, 1);
    float *att = out_add(o, s.att_total);
    dsp_dropout drop = {0.1f, 7, 8};
    uint8_t *keep = malloc(s.att_total);
    dsp_attention_forward(&k, out_add(o, (size_t)s.T * 20), att, qkv, s.seq_off, s.seq_len, s.att_off, 6, 20, 4, drop,
                          keep, 0);
    float *scratch = falloc(dsp_attention_scratch_floats(33, dsp_pool_threads(pool)));
    dsp_attention_backward(&k, out_add(o, (size_t)s.T * 60), ad, qkv, att, s.seq_off, s.seq_len, s.att_off, 6, 20, 4,
                           drop, keep, scratch, 0);
    free(keep);
    float *x = out_add(o, (size_t)T * C);
    memcpy(x, g, sizeof(float) * T * C);
    dsp_dropout_apply(&k, x, (size_t)T * C, drop, NULL);
    free(inp), free(w), free(b), free(dout), free(g), free(qkv), free(ad), free(scratch);
    f64_attn_shape_free(&s);
}

static void test_thread_independence(void) {
    for (int si = 0; si < n_sets; si++) {
        outputs base, o;
        run_everything(&base, NULL, sets[si]);
        const int threads[] = {1, 2, 4};
        for (int ti = 0; ti < 3; ti++) {
            dsp_pool *pool = dsp_pool_create(threads[ti]);
            CHECK(pool != NULL);
            run_everything(&o, pool, sets[si]);
            int same = o.count == base.count;
            for (int i = 0; same && i < o.count; i++)
                same = memcmp(o.buf[i], base.buf[i], o.len[i] * sizeof(float)) == 0;
            int which = 0;
            while (which < o.count && memcmp(o.buf[which], base.buf[which], o.len[which] * sizeof(float)) == 0) which++;
            CHECK_MSG(same, "%s with %d threads differs from serial (output %d)", dsp_kernels_name(sets[si]),
                      threads[ti], which);
            for (int i = 0; i < o.count; i++) free(o.buf[i]);
            dsp_pool_free(pool);
        }
        for (int i = 0; i < base.count; i++) free(base.buf[i]);
    }
}

/* ---------------------------------------------------------------- names */

/* Dropout with a residual added equals dropout then dsp_vec_add, bit for bit, with the same recorded mask; with
 * p = 0 it is the plain add. Every set, lengths with vector tails, two threads. */
static void test_dropout_add(dsp_pool *pool) {
    const size_t lens[] = {1, 7, 8, 9, 37, 40001};
    const float probs[] = {0.0f, 0.1f, 0.5f};
    unsigned long long seed = 91;
    for (int li = 0; li < 6; li++) {
        const size_t n = lens[li];
        float *x0 = f64_test_data(n, &seed, 2.0f), *res = f64_test_data(n, &seed, 2.0f);
        for (int si = 0; si < n_sets; si++)
            for (int pi = 0; pi < 3; pi++) {
                dsp_kctx k = {pool, sets[si], NULL};
                dsp_dropout d = {probs[pi], 17, 4};
                float *a = copy_of(x0, n), *b = copy_of(x0, n);
                uint8_t *ka = malloc(n), *kb = malloc(n);
                memset(ka, 7, n);
                memset(kb, 7, n);
                dsp_dropout_apply(&k, a, n, d, ka);
                dsp_vec_add(&k, a, res, n);
                dsp_dropout_add(&k, b, n, d, kb, res);
                char what[80];
                snprintf(what, sizeof what, "dropout+add [%s] n=%zu p=%g", dsp_kernels_name(sets[si]), n, probs[pi]);
                expect_same_bits(what, b, a, n);
                CHECK_MSG(memcmp(ka, kb, n) == 0, "%s: recorded masks differ", what);
                free(a); free(b); free(ka); free(kb);
            }
        free(x0); free(res);
    }
}

/* The matmul backward through a GELU equals the two kernels it fuses: the overwriting backward, then the GELU's
 * backward in place — bit for bit, except that in the 256-bit set a row's last elements (C not a multiple of 8)
 * may go through the scalar form of the GELU where the two-pass version used the vector one (an ulp apart).
 * With the forward's Φ and without; dw and db as the plain backward gives them. */
static void test_matmul_gelu(dsp_pool *pool, int T, int C, int OC, unsigned long long seed) {
    const size_t nd = (size_t)T * C, nw = (size_t)OC * C;
    float *dout = f64_test_data((size_t)T * OC, &seed, 1.0f), *inp = f64_test_data(nd, &seed, 1.0f);
    float *w = f64_test_data(nw, &seed, 0.5f), *pre = f64_test_data(nd, &seed, 3.0f);
    float *cdf = falloc(nd), *act = falloc(nd);
    for (int si = 0; si < n_sets; si++) {
        dsp_kctx k = {pool, sets[si], NULL};
        dsp_gelu_forward(&k, act, cdf, pre, nd);
        for (int with_cdf = 0; with_cdf < 2; with_cdf++) {
            float *d2 = falloc(nd), *d1 = falloc(nd), *dw1 = falloc(nw), *dw2 = falloc(nw), *db1 = falloc(OC),
                  *db2 = falloc(OC);
            const float *c = with_cdf ? cdf : NULL;
            dsp_matmul_backward_overwrite(&k, d1, dw1, db1, dout, inp, w, T, C, OC);
            dsp_gelu_backward(&k, d1, pre, c, d1, nd);
            dsp_matmul_backward_gelu(&k, d2, dw2, db2, dout, inp, w, pre, c, T, C, OC);
            char what[96];
            snprintf(what, sizeof what, "matmul+gelu backward [%s] %dx%dx%d cdf %d", dsp_kernels_name(sets[si]), T, C,
                     OC, with_cdf);
            if (!f64_fuses(sets[si]) || C % 8 == 0) {
                expect_same_bits(what, d2, d1, nd);
            } else {
                size_t off = 0;
                for (size_t i = 0; i < nd; i++) off += !(fabsf(d2[i] - d1[i]) <= 4 * F64_U * fabsf(d1[i]));
                CHECK_MSG(off == 0, "%s: %zu elements more than an ulp or so apart", what, off);
            }
            expect_same_bits(what, dw2, dw1, nw);
            expect_same_bits(what, db2, db1, (size_t)OC);
            free(d1); free(d2); free(dw1); free(dw2); free(db1); free(db2);
        }
    }
    free(dout); free(inp); free(w); free(pre); free(cdf); free(act);
}

/* The avx512 set's matmuls give the avx2 set's bits: every product (forward with and without a bias; the backward
 * accumulating, overwriting, and ending in a GELU with and without the forward's CDF), serially and on 2 threads.
 * Where this build or CPU has no AVX-512, f64_kernel_sets has said so and there is nothing to compare. */
static void test_avx512_is_avx2(int T, int C, int OC, unsigned long long seed) {
    dsp_kernels got;
    if (dsp_kernels_resolve(DSP_KERNELS_AVX512, &got, NULL) || dsp_kernels_resolve(DSP_KERNELS_AVX2, &got, NULL))
        return;
    float *inp = f64_test_data((size_t)T * C, &seed, 1), *w = f64_test_data((size_t)OC * C, &seed, 1);
    float *b = f64_test_data((size_t)OC, &seed, 1), *dout = f64_test_data((size_t)T * OC, &seed, 1);
    float *pre = f64_test_data((size_t)T * C, &seed, 2), *start = f64_test_data((size_t)T * C + (size_t)OC * C + OC,
                                                                               &seed, 1);
    float *cdf = falloc((size_t)T * C), *act = falloc((size_t)T * C);
    dsp_gelu_forward(&(dsp_kctx){NULL, DSP_KERNELS_AVX2, NULL}, act, cdf, pre, (size_t)T * C);
    const size_t n_out = (size_t)T * OC, n_di = (size_t)T * C, n_dw = (size_t)OC * C;
    for (int threads = 1; threads <= 2; threads++) {
        dsp_pool *pool = dsp_pool_create(threads);
        float *r[2][9]; /* per set: fwd, fwd without bias, then (dinp, dw, db) accumulated, overwritten + GELU' */
        for (int s = 0; s < 2; s++) {
            dsp_kctx k = {pool, s ? DSP_KERNELS_AVX512 : DSP_KERNELS_AVX2, NULL};
            float **o = r[s];
            o[0] = falloc(n_out), o[1] = falloc(n_out);
            dsp_matmul_forward(&k, o[0], inp, w, b, T, C, OC);
            dsp_matmul_forward(&k, o[1], inp, w, NULL, T, C, OC);
            o[2] = copy_of(start, n_di), o[3] = copy_of(start + n_di, n_dw), o[4] = copy_of(start + n_di + n_dw, OC);
            dsp_matmul_backward(&k, o[2], o[3], o[4], dout, inp, w, T, C, OC);
            o[5] = copy_of(start, n_di), o[6] = copy_of(start, n_di), o[7] = falloc(n_dw), o[8] = falloc(OC);
            dsp_matmul_backward_gelu(&k, o[5], o[7], o[8], dout, inp, w, pre, cdf, T, C, OC);
            dsp_matmul_backward_gelu(&k, o[6], o[7], o[8], dout, inp, w, pre, NULL, T, C, OC);
        }
        const size_t len[9] = {n_out, n_out, n_di, n_dw, (size_t)OC, n_di, n_di, n_dw, (size_t)OC};
        static const char *what[9] = {"forward", "forward, no bias", "dinp", "dw", "db", "dinp·gelu' (cdf)",
                                      "dinp·gelu'", "dw (twice)", "db (twice)"};
        for (int i = 0; i < 9; i++) {
            char msg[128];
            snprintf(msg, sizeof msg, "avx512 = avx2: %s, %dx%dx%d, %d thread(s)", what[i], T, C, OC, threads);
            expect_same_bits(msg, r[1][i], r[0][i], len[i]);
            free(r[0][i]), free(r[1][i]);
        }
        dsp_pool_free(pool);
    }
    free(inp), free(w), free(b), free(dout), free(pre), free(start), free(cdf), free(act);
}

/* AdamW's update loop: every set gives the scalar reference's bits (vector bodies and tails: n = 1 .. 41 and
 * 1003), and the reference is the textbook update, computed here in double, to within float rounding. */
static void test_adamw(void) {
    const size_t n = 1003;
    float *p0 = falloc(n), *m0 = falloc(n), *v0 = falloc(n), *g = falloc(n);
    unsigned long long seed = 77;
    for (size_t i = 0; i < n; i++) {
        p0[i] = dsp_test_rand(&seed);
        m0[i] = 0.01f * dsp_test_rand(&seed);
        v0[i] = 1e-4f * fabsf(dsp_test_rand(&seed));
        g[i] = i % 11 == 0 ? 0.0f : (i % 5 == 0 ? 30.0f : 0.05f) * dsp_test_rand(&seed); /* zeros, large */
    }
    const dsp_adamw_hyper hs[] = {{0.9f, 0.999f, 1e-4f, 1.0f, 1e-8f, 0.0f, 0.1f, 0.001f},
                                  {0.8f, 0.99f, 3e-3f, 0.25f, 1e-6f, 0.01f, 0.488f, 0.0297f}};
    for (int hi = 0; hi < 2; hi++) {
        const dsp_adamw_hyper *h = &hs[hi];
        float *rp = copy_of(p0, n), *rm = copy_of(m0, n), *rv = copy_of(v0, n);
        dsp_adamw_span_scalar(rp, rm, rv, g, n, h);
        size_t off = 0;
        for (size_t i = 0; i < n; i++) {
            double gd = (double)g[i] * h->scale, mt = h->beta1 * (double)m0[i], gt = (1.0 - h->beta1) * gd;
            double vd = h->beta2 * (double)v0[i] + (1.0 - h->beta2) * gd * gd;
            /* p from the float m and v, so that each check sees only its own roundings: a few per quantity, and
             * p's own rounding plus the step's scaled by lr */
            double step = ((double)rm[i] / h->bc1) / (sqrt((double)rv[i] / h->bc2) + h->eps) +
                          h->weight_decay * p0[i];
            double pd = p0[i] - h->lr * step;
            off += fabs(rm[i] - (mt + gt)) > 3 * F64_U * (fabs(mt) + fabs(gt)) || fabs(rv[i] - vd) > 4 * F64_U * vd ||
                   fabs(rp[i] - pd) > 2 * F64_U * fabs(pd) + 8 * F64_U * h->lr * fabs(step);
        }
        CHECK_MSG(off == 0, "adamw reference (hyper %d): %zu of %zu elements off the double-precision update", hi,
                  off, n);
        for (int si = 0; si < n_sets; si++) {
            dsp_adamw_span_fn fn = dsp_adamw_span_for(sets[si]);
            for (size_t len = 1; len <= n; len = len == 41 ? n : len + 1) { /* 1 .. 41, then all n */
                float *p = copy_of(p0, n), *m = copy_of(m0, n), *v = copy_of(v0, n);
                fn(p, m, v, g, len, h);
                char what[96];
                snprintf(what, sizeof what, "adamw [%s] n=%zu hyper %d", dsp_kernels_name(sets[si]), len, hi);
                expect_same_bits(what, p, rp, len);
                expect_same_bits(what, m, rm, len);
                expect_same_bits(what, v, rv, len);
                expect_same_bits(what, p + len, p0 + len, n - len); /* nothing past n is touched */
                free(p); free(m); free(v);
            }
        }
        free(rp); free(rm); free(rv);
    }
    free(p0); free(m0); free(v0); free(g);
}

/* The ceiling loop does the work its flop count claims: reps rows of DSP_PEAK_CHAINS/2 vectors of `lanes` floats,
 * each times 0.5 and 0.25 into two accumulators. Its buffer (16 rows, x_i = 1e-3·(1 + i mod 7)) is mirrored here,
 * so a lost chain, a wrong lane count or a skipped row shows as a wrong sum. The scalar reference has no loop. */
static void test_peak(void) {
    int lanes = 0;
    CHECK(dsp_peak_for(DSP_KERNELS_SCALAR, &lanes) == NULL);
    for (int si = 0; si < n_sets; si++) {
        if (sets[si] == DSP_KERNELS_SCALAR) continue;
        dsp_peak_fn fn = dsp_peak_for(sets[si], &lanes);
        CHECK_MSG(fn && (lanes == 4 || lanes == 8 || lanes == 16), "peak loop of %s: lanes %d",
                  dsp_kernels_name(sets[si]), lanes);
        if (!fn) continue;
        const int rows = 16, row = DSP_PEAK_CHAINS / 2 * lanes, cycles = 5;
        double want = 0;
        for (int i = 0; i < rows * row; i++) want += 1e-3 * (1 + i % 7);
        want *= 0.75 * cycles;
        float got = fn(rows * cycles);
        CHECK_MSG(fabs(got - want) <= 1e-5 * want, "peak loop of %s: %.7g, want %.7g", dsp_kernels_name(sets[si]),
                  (double)got, want);
        CHECK(fn(0) == 0.0f);
    }
}

static void test_names(void) {
    dsp_kernels k;
    dsp_err err;
    const char *names[] = {"auto", "scalar", "simd128", "sse2", "avx2", "avx512"};
    for (int i = 0; i < 6; i++) {
        CHECK(dsp_kernels_parse(names[i], &k) == 0);
        CHECK(strcmp(dsp_kernels_name(k), names[i]) == 0);
    }
    CHECK(dsp_kernels_parse("sse", &k) == -1);
    CHECK(dsp_kernels_parse("", &k) == -1);
    CHECK(dsp_kernels_parse(NULL, &k) == -1);
    CHECK_OK(dsp_kernels_resolve(DSP_KERNELS_AUTO, &k, &err), &err);
    CHECK(k == DSP_KERNELS_SIMD128 || k == DSP_KERNELS_AVX2 || k == DSP_KERNELS_AVX512);
    CHECK_OK(dsp_kernels_resolve(DSP_KERNELS_SCALAR, &k, &err), &err);
    CHECK(k == DSP_KERNELS_SCALAR);
    CHECK_FAILS(dsp_kernels_resolve((dsp_kernels)9, &k, &err), &err, "unknown kernel set 9");
    if (dsp_kernels_resolve(DSP_KERNELS_AVX2, &k, &err) != 0) CHECK(strstr(err.msg, "avx2") != NULL);
    if (dsp_kernels_resolve(DSP_KERNELS_AVX512, &k, &err) != 0) CHECK(strstr(err.msg, "avx512") != NULL);
    CHECK(dsp_attention_scratch_floats(33, 3) >= 3 * 2 * 33);
}

/* Buffers for parallel tasks start on a cache line, and padded sizes keep the next buffer on one. */
static void test_alloc_lines(void) {
    const size_t sizes[] = {0, 1, 15, 16, 17, 1000, 123457};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i], padded = dsp_pad_to_line(n);
        CHECK_MSG(padded >= n && padded < n + DSP_LINE_BYTES / sizeof(float) &&
                      padded * sizeof(float) % DSP_LINE_BYTES == 0,
                  "dsp_pad_to_line(%zu) = %zu", n, padded);
        float *p = dsp_alloc_lines(n);
        CHECK_MSG(p && (uintptr_t)p % DSP_LINE_BYTES == 0, "dsp_alloc_lines(%zu) = %p", n, (void *)p);
        if (p) p[n > 0 ? n - 1 : 0] = 1.0f; /* the whole size is usable (ASan checks it) */
        free(p);
    }
}

int main(void) {
    n_sets = f64_kernel_sets(sets);
    test_names();
    test_alloc_lines();
    dsp_pool *pool = dsp_pool_create(2);
    /* Past every blocking boundary of the SIMD GEMM: k blocks of 128 (AVX-512), 256 (SSE, wasm) and 512 (AVX2),
     * column blocks of 512, several row blocks in each product, and edge tiles everywhere. */
    const int shapes[][3] = {{1, 1, 1},     {2, 3, 5},    {7, 13, 29},    {37, 130, 77}, {301, 257, 35},
                             {5, 300, 17},  {97, 16, 48}, {600, 520, 19}, {130, 40, 200}};
    for (int i = 0; i < 9; i++) test_matmul(pool, shapes[i][0], shapes[i][1], shapes[i][2], 1000 + i);
    const int ln[][2] = {{1, 1}, {3, 3}, {17, 16}, {29, 67}, {301, 130}};
    for (int i = 0; i < 5; i++) test_layernorm(pool, ln[i][0], ln[i][1], 2000 + i);
    test_gelu(pool);
    const int sm[][2] = {{3, 1}, {4, 2}, {5, 3}, {7, 5}, {9, 8}, {11, 17}, {13, 33}, {40, 100}};
    for (int i = 0; i < 8; i++) test_softmax(pool, sm[i][0], sm[i][1], 3000 + i);
    const int lens[] = {1, 2, 5, 3, 17, 33, 8};
    const float ps[] = {0.0f, 0.1f, 0.5f};
    for (int i = 0; i < 3; i++) {
        test_attention(pool, lens, 7, 16, 2, ps[i], 4000 + i); /* d = 8 */
        test_attention(pool, lens, 7, 20, 4, ps[i], 4100 + i); /* d = 5: vector tails */
        test_attention(pool, lens, 7, 64, 2, ps[i], 4200 + i); /* d = 32 */
        test_attention(pool, lens, 7, 138, 2, ps[i], 4300 + i); /* d = 69: gemv's 8-vector strips and a tail */
    }
    test_attention_len1();
    test_dropout(pool);
    test_dropout_add(pool);
    const int mg[][3] = {{37, 64, 19}, {300, 512, 40}, {29, 37, 11}, {5, 3, 1}};
    for (int i = 0; i < 4; i++) test_matmul_gelu(pool, mg[i][0], mg[i][1], mg[i][2], 5000 + i);
    test_matmul_no_inputs(pool);
    for (int i = 0; i < 9; i++) test_avx512_is_avx2(shapes[i][0], shapes[i][1], shapes[i][2], 6000 + i);
    test_adamw();
    test_peak();
    dsp_pool_free(pool);
    test_thread_independence();
    return dsp_test_end("test_kernels");
}
