/* test_metrics.c — Spearman (average ranks for ties) and Pearson on values worked out by hand, their edge cases,
 * and the STS alignment / uniformity of spec §5 on tiny hand-made embeddings. */
#include "dissipate.h"
#include "metrics_sts.h"
#include "testutil.h"

static void test_pearson(void) {
    /* x = [1,2,3], y = [1,2,4]: deviations (−1,0,1) and (−4/3,−1/3,5/3): Σxy = 3, Σx² = 2, Σy² = 14/3,
     * r = 3/√(28/3) = √(27/28). */
    const double x[3] = {1, 2, 3}, y[3] = {1, 2, 4};
    CHECK_NEAR(dsp_pearson(x, y, 3), sqrt(27.0 / 28.0), 1e-15, 0);
    const double yneg[3] = {6, 4, 2};
    CHECK(dsp_pearson(x, yneg, 3) == -1.0);
    const double c[3] = {0.1, 0.1, 0.1};   /* the mean of three 0.1 is not 0.1 in binary: still NAN */
    CHECK(isnan(dsp_pearson(x, c, 3)) && isnan(dsp_pearson(c, x, 3)));
    CHECK(isnan(dsp_pearson(x, y, 1)));
    const double bad[3] = {1, NAN, 3};
    CHECK(isnan(dsp_pearson(x, bad, 3)));
}

static void test_spearman(void) {
    /* Ties: x = [1,2,2,3] ranks [1, 2.5, 2.5, 4]; y = [1,3,2,4] ranks [1,3,2,4]. Around the mean 2.5:
     * dx = (−1.5, 0, 0, 1.5), dy = (−1.5, .5, −.5, 1.5): Σdxdy = 4.5, Σdx² = 4.5, Σdy² = 5,
     * ρ = 4.5/√22.5 = √0.9 ≈ 0.948683. (Without averaging the tie, e.g. ranks [1,2,3,4], it would be 0.8.) */
    const double x[4] = {1, 2, 2, 3}, y[4] = {1, 3, 2, 4};
    CHECK_NEAR(dsp_spearman(x, y, 4), sqrt(0.9), 1e-15, 0);
    CHECK_NEAR(dsp_spearman(y, x, 4), sqrt(0.9), 1e-15, 0);
    /* Ties on both sides: x = [3,1,3,2,3], y = [2,2,1,1,5].
     * rank x: 1 → 1, 2 → 2, the three 3s → 4 each: [4,1,4,2,4]; rank y: the 1s → 1.5, the 2s → 3.5, 5 → 5:
     * [3.5,3.5,1.5,1.5,5]. Means 3 and 3. dx = (1,−2,1,−1,1), dy = (.5,.5,−1.5,−1.5,2):
     * Σdxdy = .5 − 1 − 1.5 + 1.5 + 2 = 1.5, Σdx² = 8, Σdy² = .25+.25+2.25+2.25+4 = 9, ρ = 1.5/√72. */
    const double x2[5] = {3, 1, 3, 2, 3}, y2[5] = {2, 2, 1, 1, 5};
    CHECK_NEAR(dsp_spearman(x2, y2, 5), 1.5 / sqrt(72.0), 1e-15, 0);
    /* Monotone but not linear: exactly ±1 (Pearson would be below 1). */
    const double a[6] = {-3, -1, 0, 0.5, 2, 10}, cube[6] = {-27, -1, 0, 0.125, 8, 1000};
    const double rev[6] = {5, 4, 3, 2, 1, -100};
    CHECK(dsp_spearman(a, cube, 6) == 1.0);
    CHECK(dsp_pearson(a, cube, 6) < 0.99);
    CHECK(dsp_spearman(a, rev, 6) == -1.0);
    /* Constant, too short, non-finite: NAN. */
    const double k[4] = {2, 2, 2, 2};
    CHECK(isnan(dsp_spearman(x, k, 4)) && isnan(dsp_spearman(k, x, 4)));
    CHECK(isnan(dsp_spearman(x, y, 1)) && isnan(dsp_spearman(x, y, 0)));
    const double inf[4] = {1, 2, INFINITY, 3};
    CHECK(isnan(dsp_spearman(x, inf, 4)));
    CHECK(isnan(dsp_spearman(NULL, y, 4)));
    /* Invariant to any increasing map of either side, and the same as Pearson on rank-valued input. */
    double big_x[200], big_y[200], ex[200];
    unsigned long long s = 77;
    for (int i = 0; i < 200; i++) {
        big_x[i] = dsp_test_rand(&s);
        big_y[i] = big_x[i] + 0.8 * dsp_test_rand(&s);
        ex[i] = exp(3 * big_x[i]);
    }
    double r1 = dsp_spearman(big_x, big_y, 200), r2 = dsp_spearman(ex, big_y, 200);
    CHECK(r1 == r2);
    CHECK(r1 > 0.3 && r1 < 1.0);
}

static void test_align(void) {
    /* Pairs 0 and 1 have gold >= 4: ‖(1,0) − (0,1)‖² = 2 and 0 → align = 1. Pair 2 (gold 3.9, distance² 4) is out. */
    const float a[6] = {1, 0, 0, 1, 1, 0}, b[6] = {0, 1, 0, 1, -1, 0}, gold[3] = {4.0f, 5.0f, 3.9f};
    CHECK_NEAR(dsp_sts_align(a, b, gold, 3, 2), 1.0, 1e-15, 0);
    const float gold_all[3] = {4.5f, 4.5f, 4.5f};
    CHECK_NEAR(dsp_sts_align(a, b, gold_all, 3, 2), 2.0, 1e-15, 0);   /* (2 + 0 + 4)/3 */
    const float gold_none[3] = {1, 2, 3.99f};
    CHECK(isnan(dsp_sts_align(a, b, gold_none, 3, 2)));
    const float bad[6] = {1, 0, NAN, 1, 1, 0};
    CHECK(isnan(dsp_sts_align(bad, b, gold, 3, 2)));
    CHECK(isnan(dsp_sts_align(a, b, gold, 0, 2)));
}

static void test_uniform(void) {
    /* One pair of distinct sentences, distance² 2: uniform = log e^{−4} = −4. */
    const float a1[2] = {1, 0}, b1[2] = {0, 1};
    CHECK_NEAR(dsp_sts_uniform(a1, b1, 1, 2), -4.0, 1e-15, 0);
    /* Two STS pairs sharing a sentence: a = [(1,0), (0,1)], b = [(0,1), (−1,0)]. Unique sentences (1,0), (0,1),
     * (−1,0): pairs at distance² 2, 4, 2 → log((2e^{−4} + e^{−8})/3). Counting the repeated (0,1) twice would
     * add a pair at distance 0 (e^0 = 1) and give a very different log((1 + 3e^{−4} + 2e^{−8})/6). */
    const float a2[4] = {1, 0, 0, 1}, b2[4] = {0, 1, -1, 0};
    CHECK_NEAR(dsp_sts_uniform(a2, b2, 2, 2), log((2 * exp(-4.0) + exp(-8.0)) / 3), 1e-14, 0);
    /* A pair whose two sides are the same sentence contributes one sentence. */
    const float a3[4] = {1, 0, 0, 1}, b3[4] = {1, 0, 0, 1};
    CHECK_NEAR(dsp_sts_uniform(a3, b3, 2, 2), -4.0, 1e-15, 0);
    /* Fewer than two unique sentences: undefined. */
    CHECK(isnan(dsp_sts_uniform(a1, a1, 1, 2)));
    const float badf[2] = {INFINITY, 0};
    CHECK(isnan(dsp_sts_uniform(badf, b1, 1, 2)));

    /* The cap: 3000 pairs of distinct random sentences = 6000 unique; only the first DSP_STS_UNIFORM_MAX in the
     * order a0, b0, a1, b1, … count, i.e. exactly the sentences of the first 2048 pairs. */
    enum { n = 3000, D = 3 };
    static float A[n * D], B[n * D];
    unsigned long long s = 5;
    for (int i = 0; i < n * D; i++) {
        A[i] = dsp_test_rand(&s);
        B[i] = dsp_test_rand(&s);
    }
    double full = dsp_sts_uniform(A, B, n, D), first = dsp_sts_uniform(A, B, DSP_STS_UNIFORM_MAX / 2, D);
    CHECK(isfinite(full) && full == first);
    CHECK(full < 0);
    /* Below the cap every sentence counts: a brute-force log-mean over all pairs of the first 100 pairs' rows. */
    const int m = 100;
    double sum = 0;
    int cnt = 0;
    for (int i = 0; i < 2 * m; i++)
        for (int j = i + 1; j < 2 * m; j++) {
            const float *x = (i & 1 ? B : A) + (i / 2) * D, *y = (j & 1 ? B : A) + (j / 2) * D;
            double d2 = 0;
            for (int d = 0; d < D; d++) d2 += ((double)x[d] - y[d]) * ((double)x[d] - y[d]);
            sum += exp(-2 * d2);
            cnt++;
        }
    CHECK_NEAR(dsp_sts_uniform(A, B, m, D), log(sum / cnt), 1e-12, 0);
}

int main(void) {
    test_pearson();
    test_spearman();
    test_align();
    test_uniform();
    return dsp_test_end("test_metrics");
}
