/* test_mathfn.c — the deterministic exp and erf of mathfn.h against double libm (accurate to well under a
 * float ulp), over their whole ranges including subnormals, overflow and special values; and, where the
 * 128-bit vocabulary can be compiled here (SSE2 or NEON natively, wasm with -msimd128), the vector forms against the
 * scalar forms bit for bit. */
#include "testutil.h"

#include <float.h>
#include <stdint.h>

#if defined(__SSE2__) || defined(__wasm_simd128__) || (defined(__aarch64__) && defined(__ARM_NEON))
#define DSP_SIMD_WIDTH 4
#include "simd.h"
#define HAVE_VECTOR 1
#endif
#include "mathfn.h"

/* The spacing of floats at |want| (the subnormal spacing below FLT_MIN). */
static double ulp_at(double want) {
    want = fabs(want);
    if (want < FLT_MIN) return ldexp(1.0, -149);
    int e;
    frexp(want, &e);
    return ldexp(1.0, e - 24);
}

/* Error in ulps; a result past FLT_MAX must be +inf (and inf beyond it counts as one ulp off). */
static double ulp_error(float got, double want) {
    if (want > (double)FLT_MAX * (1 + 0x1p-25)) return got == INFINITY ? 0 : 1e9;
    if (isinf(got)) return (fabs(want) - FLT_MAX) / ulp_at(FLT_MAX) + 1;
    return fabs((double)got - want) / ulp_at(want);
}

static void sweep(const char *name, float (*f)(float), double (*ref)(double), double lo, double hi, long n,
                  double max_ulp) {
    double worst = 0, at = 0;
    for (long i = 0; i <= n; i++) {
        float x = (float)(lo + (hi - lo) * (double)i / n);
        double e = ulp_error(f(x), ref(x));
        if (!(e <= worst)) worst = e, at = x;
    }
    printf("%s on [%g, %g]: max error %.3f ulp at %.9g\n", name, lo, hi, worst, at);
    CHECK_MSG(worst <= max_ulp, "%s: %.3f ulp at %.9g (limit %.2f)", name, worst, at, max_ulp);
}

static double ref_exp(double x) { return exp(x); }
static double ref_erf(double x) { return erf(x); }

#ifdef HAVE_VECTOR
/* The rules every 128-bit mapping must keep for the hosts to agree bit for bit (simd.h): min and max pick as
 * minps and maxps do, a < b ? a : b and a > b ? a : b, so a NaN in either operand or a tie of signed zeros gives b;
 * the horizontal sum adds (l0 + l2) + (l1 + l3); the horizontal max keeps the same rule. */
static void test_vocabulary_rules(void) {
    const float a[4] = {NAN, 1.0f, -0.0f, 0.0f}, b[4] = {1.0f, NAN, 0.0f, -0.0f};
    float mn[4], mx[4];
    vf_storeu(mn, vf_min(vf_loadu(a), vf_loadu(b)));
    vf_storeu(mx, vf_max(vf_loadu(a), vf_loadu(b)));
    for (int l = 0; l < 4; l++) {
        float want_min = a[l] < b[l] ? a[l] : b[l], want_max = a[l] > b[l] ? a[l] : b[l];
        CHECK_MSG(dsp_same_bits(mn[l], want_min) || (isnan(mn[l]) && isnan(want_min)),
                  "vf_min lane %d: %g, want %g (" DSP_SIMD_NAME ")", l, mn[l], want_min);
        CHECK_MSG(dsp_same_bits(mx[l], want_max) || (isnan(mx[l]) && isnan(want_max)),
                  "vf_max lane %d: %g, want %g (" DSP_SIMD_NAME ")", l, mx[l], want_max);
    }
    /* (1 + -1) + (2^-24 + 2^-24) = 2^-23, where adding in lane order gives 2^-24 and in pairs (l0 + l1) + (l2 + l3) too */
    const float h[4] = {1.0f, 0x1p-24f, -1.0f, 0x1p-24f};
    float want = (h[0] + h[2]) + (h[1] + h[3]);
    CHECK_MSG(dsp_same_bits(vf_hsum(vf_loadu(h)), want), "vf_hsum must add (l0 + l2) + (l1 + l3) (" DSP_SIMD_NAME ")");
    CHECK_MSG(want != ((h[0] + h[1]) + h[2]) + h[3] && want != (h[0] + h[1]) + (h[2] + h[3]),
              "the hsum case must tell the orders apart");
    const float m[4] = {-1.0f, 3.0f, 2.0f, -5.0f};
    CHECK(vf_hmax(vf_loadu(m)) == 3.0f);
    /* vf_hsums8: vf_hsum of each vector, bit for bit, for sums whose order shows in their bits */
    unsigned long long seed = 5;
    long hsums_diff = 0;
    for (int round = 0; round < 20000; round++) {
        float x[8][4], got[8];
        vf v[8];
        for (int u = 0; u < 8; u++) {
            for (int l = 0; l < 4; l++) x[u][l] = ldexpf(dsp_test_rand(&seed), (int)(dsp_test_rand(&seed) * 20.0f));
            v[u] = vf_loadu(x[u]);
        }
        vf_hsums8(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], got);
        for (int u = 0; u < 8; u++) hsums_diff += !dsp_same_bits(got[u], vf_hsum(v[u]));
    }
    CHECK_MSG(hsums_diff == 0, "vf_hsums8 differs from vf_hsum in %ld sums (" DSP_SIMD_NAME ")", hsums_diff);
    vf hv = vf_loadu(h), zero = vf_zero();
    float hs[8];
    vf_hsums8(zero, hv, zero, zero, zero, zero, zero, hv, hs);
    CHECK(dsp_same_bits(hs[1], want) && dsp_same_bits(hs[7], want) && hs[0] == 0.0f);
    /* vf_all: every lane, not any lane nor the first; a NaN lane fails the compare */
    const float lo[4] = {0.0f, 0.5f, -3.0f, 0.25f}, one_off[4] = {0.0f, 0.5f, -3.0f, 2.0f};
    const float nan_lane[4] = {0.0f, NAN, 0.0f, 0.0f};
    vf one = vf_splat(1.0f);
    CHECK(vf_all(vf_lt(vf_loadu(lo), one)));
    CHECK(!vf_all(vf_lt(vf_loadu(one_off), one)));
    CHECK(!vf_all(vf_lt(vf_loadu(nan_lane), one)));
    CHECK(!vf_all(vf_lt(one, vf_loadu(lo))));
}
#endif

int main(void) {
    /* exp: ranges that exercise reduction, subnormal results and the approach to overflow */
    sweep("exp", dsp_expf, ref_exp, -110, 90, 2000000, 1.5);
    sweep("exp", dsp_expf, ref_exp, -1, 1, 1000000, 1.5);
    sweep("exp", dsp_expf, ref_exp, -104, -87, 500000, 1.5); /* subnormal results */
    sweep("exp", dsp_expf, ref_exp, 88, 88.8, 200000, 1.5);
    CHECK(dsp_expf(0.0f) == 1.0f && dsp_expf(-0.0f) == 1.0f);
    CHECK(fabs(dsp_expf(1.0f) - 2.718281828459045) < 3e-7);
    CHECK(dsp_expf(-INFINITY) == 0.0f && dsp_expf(-104.0f) == 0.0f && dsp_expf(-1000.0f) == 0.0f);
    CHECK(dsp_expf(INFINITY) == INFINITY && dsp_expf(88.8f) == INFINITY && dsp_expf(1000.0f) == INFINITY);
    CHECK(dsp_expf(88.72f) < INFINITY);
    CHECK(isnan(dsp_expf(NAN)));
    /* erf: both polynomial pieces, the switch at 1, saturation, tiny and subnormal arguments */
    sweep("erf", dsp_erff, ref_erf, -6, 6, 2000000, 1.5);
    sweep("erf", dsp_erff, ref_erf, 0.9, 1.1, 500000, 1.5);
    sweep("erf", dsp_erff, ref_erf, 1e-6, 1e-3, 200000, 1.5);
    sweep("erf", dsp_erff, ref_erf, 1e-42, 1e-37, 200000, 1.5);
    CHECK(dsp_same_bits(dsp_erff(0.0f), 0.0f) && dsp_same_bits(dsp_erff(-0.0f), -0.0f));
    CHECK(dsp_erff(INFINITY) == 1.0f && dsp_erff(-INFINITY) == -1.0f);
    CHECK(dsp_erff(4.0f) == 1.0f && dsp_erff(-30.0f) == -1.0f);
    CHECK(isnan(dsp_erff(NAN)));
    int odd = 1;
    for (int i = 0; i < 100000; i++) {
        float x = (float)i * 7e-5f;
        odd &= dsp_same_bits(dsp_erff(-x), -dsp_erff(x));
    }
    CHECK_MSG(odd, "erf(-x) must be -erf(x) bit for bit");

#ifdef HAVE_VECTOR
    /* The vector forms perform the scalar operations lane by lane: equal bits, for ordinary and special
     * inputs (NaN only needs to stay NaN). A third of the vectors lie inside (−1, 1), where vf_erf returns
     * early; most of those at scale 5 mix lanes from both of its branches. */
    const float special[] = {0.0f, -0.0f, 1e-45f, -1e-40f, FLT_MIN, 1.0f, -1.0f, 0.99999994f, 4.0f, 88.72f,
                             88.8f, 89.0f, -87.34f, -103.97f, -104.0f, -200.0f, INFINITY, -INFINITY};
    size_t ns = sizeof special / sizeof special[0];
    long diff_exp = 0, diff_erf = 0;
    unsigned long long seed = 1;
    for (long i = 0; i < 400000 + (long)ns; i++) {
        float x[4];
        for (int l = 0; l < 4; l++)
            x[l] = i < (long)ns ? special[(i + l) % ns]
                                : dsp_test_rand(&seed) * (i % 3 == 0 ? 100.0f : i % 3 == 1 ? 5.0f : 0.999f);
        float e[4], r[4];
        vf v = vf_loadu(x);
        vf_storeu(e, vf_exp(v));
        vf_storeu(r, vf_erf(v));
        for (int l = 0; l < 4; l++) {
            diff_exp += !dsp_same_bits(e[l], dsp_expf(x[l]));
            diff_erf += !dsp_same_bits(r[l], dsp_erff(x[l]));
        }
    }
    CHECK_MSG(diff_exp == 0, "vector exp differs from scalar in %ld lanes (" DSP_SIMD_NAME ")", diff_exp);
    CHECK_MSG(diff_erf == 0, "vector erf differs from scalar in %ld lanes (" DSP_SIMD_NAME ")", diff_erf);
    float nan4[4] = {NAN, NAN, NAN, NAN}, o[4];
    vf_storeu(o, vf_exp(vf_loadu(nan4)));
    CHECK(isnan(o[0]));
    vf_storeu(o, vf_erf(vf_loadu(nan4)));
    CHECK(isnan(o[0]));
    float nan_among_small[4] = {0.5f, NAN, -0.25f, 0.0f};
    vf_storeu(o, vf_erf(vf_loadu(nan_among_small)));
    CHECK(dsp_same_bits(o[0], dsp_erff(0.5f)) && isnan(o[1]) && dsp_same_bits(o[2], dsp_erff(-0.25f)) && o[3] == 0.0f);
    test_vocabulary_rules();
#else
    printf("note: no 128-bit vocabulary in this compilation; vector forms are covered by test_kernels\n");
#endif
    return dsp_test_end("test_mathfn");
}
