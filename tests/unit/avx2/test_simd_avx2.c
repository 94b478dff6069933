/* test_simd_avx2.c — the 256-bit vocabulary's shortcuts against the plain forms they stand for, bit for bit:
 * vf_hsums8 against eight vf_hsum calls, vf_all against the lanes of a mask, and vf_erf's early return for vectors
 * with every lane in its small branch against the same lanes computed through both branches and the blend.
 * (test_mathfn checks the 128-bit vocabulary the same way.) Built only where the engine has its AVX2 kernels;
 * skipped, and reported as skipped, on a CPU without AVX2 and FMA. */
#include "testutil.h"

#include <stdint.h>

static void test_hsums8(void);
static void test_all(void);
static void test_erf_early_return(void);

/* main runs on any x86-64 CPU: only what follows the pragma uses AVX2 and FMA, and only after the check. */
int main(void) {
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        printf("skipped: this CPU has no AVX2 and FMA\n");
        return 77;
    }
    test_hsums8();
    test_all();
    test_erf_early_return();
    return dsp_test_end("test_simd_avx2");
}

#pragma GCC target("avx2,fma")
#define DSP_SIMD_WIDTH 8
#include "simd.h"
#include "mathfn.h"

/* A value of random sign and magnitude between 2^-20 and 2^20, so that the order of a sum shows in its bits. */
static float spread(unsigned long long *seed) {
    float m = dsp_test_rand(seed);
    int e = (int)((dsp_test_rand(seed) + 1.0f) * 20.0f) - 20;
    return ldexpf(m, e);
}

static void test_hsums8(void) {
    unsigned long long seed = 7;
    long diff = 0, order_shows = 0;
    for (int round = 0; round < 20000; round++) {
        float x[8][8], got[8];
        for (int u = 0; u < 8; u++)
            for (int l = 0; l < 8; l++) x[u][l] = spread(&seed);
        vf s[8];
        for (int u = 0; u < 8; u++) s[u] = vf_loadu(x[u]);
        vf_hsums8(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], got);
        for (int u = 0; u < 8; u++) {
            float want = vf_hsum(s[u]), in_order = 0.0f;
            for (int l = 0; l < 8; l++) in_order += x[u][l];
            diff += !dsp_same_bits(got[u], want);
            order_shows += !dsp_same_bits(want, in_order);
        }
    }
    CHECK_MSG(diff == 0, "vf_hsums8 differs from vf_hsum in %ld sums", diff);
    CHECK_MSG(order_shows > 1000, "the data must tell summation orders apart (%ld sums did)", order_shows);
}

static void test_all(void) {
    const vf one = vf_splat(1.0f);
    const float below[8] = {0.5f, 0.0f, 0.25f, 0.75f, 0.125f, 0.9f, 0.1f, -3.0f};
    CHECK(vf_all(vf_lt(vf_loadu(below), one)));
    for (int off = 0; off < 8; off++) { /* one lane not below, in every position: at 1, then NaN */
        float x[8];
        memcpy(x, below, sizeof x);
        x[off] = 1.0f;
        CHECK_MSG(!vf_all(vf_lt(vf_loadu(x), one)), "lane %d at 1", off);
        x[off] = NAN;
        CHECK_MSG(!vf_all(vf_lt(vf_loadu(x), one)), "lane %d NaN", off);
    }
}

/* Each lane of an all-small vector (the early return) against the same value beside a lane of 2 (both branches). */
static void test_erf_early_return(void) {
    unsigned long long seed = 11;
    long diff = 0;
    for (int round = 0; round < 100000; round++) {
        float x[8], fast[8];
        for (int l = 0; l < 8; l++) x[l] = dsp_test_rand(&seed) * (round % 2 ? 0.999f : 1e-3f);
        vf_storeu(fast, vf_erf(vf_loadu(x)));
        for (int l = 0; l < 8; l++) {
            float mixed[8], full[8];
            for (int m = 0; m < 8; m++) mixed[m] = m == l ? x[l] : 2.0f;
            vf_storeu(full, vf_erf(vf_loadu(mixed)));
            diff += !dsp_same_bits(fast[l], full[l]);
        }
    }
    CHECK_MSG(diff == 0, "vf_erf's early return differs from its blend in %ld lanes", diff);
    float with_nan[8] = {0.5f, NAN, -0.25f, 0.0f, 0.1f, -0.9f, 0.3f, 0.7f}, got[8], alone[8];
    vf_storeu(got, vf_erf(vf_loadu(with_nan)));
    with_nan[1] = 0.0f;
    vf_storeu(alone, vf_erf(vf_loadu(with_nan)));
    CHECK(isnan(got[1]));
    for (int l = 0; l < 8; l++)
        if (l != 1) CHECK_MSG(dsp_same_bits(got[l], alone[l]), "lane %d beside a NaN", l);
}
