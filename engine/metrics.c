/* metrics.c — evaluation metrics (spec §5): Spearman and Pearson correlation for STS, and the alignment /
 * uniformity of embeddings on an STS set. Everything accumulates in double in one fixed order, with mathd.h's
 * exp/log, so the native and WebAssembly builds report the same bits. */
#include "dissipate.h"
#include "mathd.h"
#include "metrics_sts.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- correlations */

static int all_finite_d(const double *x, int n) {
    for (int i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

/* Constant input has no correlation. Tested exactly: the mean of n equal values need not round back to the
 * value, which would leave tiny non-zero deviations and a meaningless ratio. */
static int is_constant(const double *x, int n) {
    for (int i = 1; i < n; i++)
        if (x[i] != x[0]) return 0;
    return 1;
}

double dsp_pearson(const double *x, const double *y, int n) {
    if (!x || !y || n < 2 || !all_finite_d(x, n) || !all_finite_d(y, n)) return NAN;
    if (is_constant(x, n) || is_constant(y, n)) return NAN;
    double mx = 0, my = 0;
    for (int i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= n;
    my /= n;
    double sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < n; i++) {
        double dx = x[i] - mx, dy = y[i] - my;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    double r = sxy / sqrt(sxx * syy);
    return r > 1 ? 1 : r < -1 ? -1 : r;   /* rounding can step just outside */
}

typedef struct {
    double v;
    int i;
} keyed;

static int cmp_keyed(const void *pa, const void *pb) {
    const keyed *a = (const keyed *)pa, *b = (const keyed *)pb;
    if (a->v != b->v) return a->v < b->v ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* rank[i] = 1-based rank of x[i]; a run of equal values shares the average of its ranks (scipy's "average").
 * Returns -1 when out of memory. */
static int average_ranks(const double *x, int n, double *rank) {
    keyed *k = (keyed *)malloc(sizeof(keyed) * (size_t)n);
    if (!k) return -1;
    for (int i = 0; i < n; i++) k[i] = (keyed){x[i], i};
    qsort(k, (size_t)n, sizeof(keyed), cmp_keyed);
    for (int lo = 0; lo < n;) {
        int hi = lo + 1;
        while (hi < n && k[hi].v == k[lo].v) hi++;
        double r = 0.5 * ((lo + 1) + hi);   /* mean of the ranks lo+1 .. hi */
        for (int m = lo; m < hi; m++) rank[k[m].i] = r;
        lo = hi;
    }
    free(k);
    return 0;
}

double dsp_spearman(const double *x, const double *y, int n) {
    if (!x || !y || n < 2 || !all_finite_d(x, n) || !all_finite_d(y, n)) return NAN;
    double *rx = (double *)malloc(sizeof(double) * 2 * (size_t)n);
    if (!rx) return NAN;
    double *ry = rx + n;
    double r = NAN;
    if (average_ranks(x, n, rx) == 0 && average_ranks(y, n, ry) == 0) r = dsp_pearson(rx, ry, n);
    free(rx);
    return r;
}

/* ---------------------------------------------------------------- alignment and uniformity on STS */

static int all_finite_f(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

static double dist2_f(const float *x, const float *y, int D) {
    double s = 0;
    for (int d = 0; d < D; d++) {
        double e = (double)x[d] - (double)y[d];
        s += e * e;
    }
    return s;
}

double dsp_sts_align(const float *a, const float *b, const float *gold, int n, int D) {
    if (!a || !b || !gold || n < 1 || D < 1) return NAN;
    size_t nd = (size_t)n * (size_t)D;
    if (!all_finite_f(a, nd) || !all_finite_f(b, nd)) return NAN;
    double sum = 0;
    int count = 0;
    for (int i = 0; i < n; i++) {
        if (!(gold[i] >= 4.0f)) continue;   /* a NaN gold score never qualifies */
        sum += dist2_f(a + (size_t)i * D, b + (size_t)i * D, D);
        count++;
    }
    return count ? sum / count : NAN;
}

typedef struct {
    const float *row;   /* [D] */
    int order;          /* position in a_0, b_0, a_1, b_1, … */
    int D;
} row_ref;

/* Bitwise order of the rows, then first appearance: equal rows end up adjacent, the earliest first. */
static int cmp_row_ref(const void *pa, const void *pb) {
    const row_ref *a = (const row_ref *)pa, *b = (const row_ref *)pb;
    int c = memcmp(a->row, b->row, sizeof(float) * (size_t)a->D);
    if (c) return c;
    return (a->order > b->order) - (a->order < b->order);
}

/* ‖x − y‖² in double with four independent partial sums (a fixed order: the same bits on every host), which
 * lets the CPU overlap the additions of this quadratic loop. */
static double dist2_d(const double *x, const double *y, int D) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int d = 0;
    for (; d + 4 <= D; d += 4) {
        double e0 = x[d] - y[d], e1 = x[d + 1] - y[d + 1], e2 = x[d + 2] - y[d + 2], e3 = x[d + 3] - y[d + 3];
        s0 += e0 * e0;
        s1 += e1 * e1;
        s2 += e2 * e2;
        s3 += e3 * e3;
    }
    for (; d < D; d++) {
        double e = x[d] - y[d];
        s0 += e * e;
    }
    return (s0 + s1) + (s2 + s3);
}

/* log of the mean of e^{−2‖x_i − x_j‖²} over i<j for X [M, D]; row [M] scratch. One log-sum-exp per row,
 * merged into a running (max, sum) so that no pair's term can underflow the total. */
static double log_mean_gauss(const double *X, int M, int D, double *row) {
    double gmax = -INFINITY, gsum = 0;
    for (int i = 0; i + 1 < M; i++) {
        const double *xi = X + (size_t)i * D;
        double rmax = -INFINITY;
        for (int j = i + 1; j < M; j++) {
            row[j] = -2.0 * dist2_d(xi, X + (size_t)j * D, D);
            if (row[j] > rmax) rmax = row[j];
        }
        double rsum = 0;
        for (int j = i + 1; j < M; j++) rsum += dsp_exp_d(row[j] - rmax);
        if (rmax > gmax) {
            gsum = gsum * dsp_exp_d(gmax - rmax) + rsum;
            gmax = rmax;
        } else {
            gsum += rsum * dsp_exp_d(rmax - gmax);
        }
    }
    return gmax + dsp_log_d(gsum) - dsp_log_d(0.5 * (double)M * (double)(M - 1));
}

double dsp_sts_uniform(const float *a, const float *b, int n, int D) {
    if (!a || !b || n < 1 || D < 1 || n > INT32_MAX / 2) return NAN;
    size_t nd = (size_t)n * (size_t)D;
    if (!all_finite_f(a, nd) || !all_finite_f(b, nd)) return NAN;
    const int R = 2 * n;
    row_ref *refs = (row_ref *)malloc(sizeof(row_ref) * (size_t)R);
    unsigned char *keep = (unsigned char *)calloc((size_t)R, 1);
    if (!refs || !keep) {
        free(refs);
        free(keep);
        return NAN;
    }
    for (int i = 0; i < n; i++) {
        refs[2 * i] = (row_ref){a + (size_t)i * D, 2 * i, D};
        refs[2 * i + 1] = (row_ref){b + (size_t)i * D, 2 * i + 1, D};
    }
    qsort(refs, (size_t)R, sizeof(row_ref), cmp_row_ref);
    for (int r = 0; r < R; r++)
        if (r == 0 || memcmp(refs[r - 1].row, refs[r].row, sizeof(float) * (size_t)D) != 0)
            keep[refs[r].order] = 1;   /* the first of a run of equal rows is its earliest appearance */
    free(refs);

    int M = 0;
    for (int r = 0; r < R && M < DSP_STS_UNIFORM_MAX; r++) M += keep[r];
    double result = NAN;
    double *X = M >= 2 ? (double *)malloc(sizeof(double) * ((size_t)M * D + (size_t)M)) : NULL;
    if (X) {
        double *row = X + (size_t)M * D;   /* [M] */
        int m = 0;
        for (int r = 0; r < R && m < M; r++) {
            if (!keep[r]) continue;
            const float *src = (r & 1 ? b : a) + (size_t)(r / 2) * D;
            for (int d = 0; d < D; d++) X[(size_t)m * D + d] = src[d];
            m++;
        }
        result = log_mean_gauss(X, M, D, row);
        free(X);
    }
    free(keep);
    return result;
}
