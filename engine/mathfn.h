/* mathfn.h — deterministic float exp and erf from plain arithmetic (no libm).
 *
 * Why: glibc and Emscripten's musl round expf/erff differently, so softmax and GELU computed with libm would
 * give different bits natively and in the browser. These functions use only IEEE add/sub/mul/div and bit
 * manipulation, so they give the same bits on every host. Each comes in a scalar form (dsp_expf, dsp_erff, and
 * from them the normal CDF and density) and, when simd.h is included first, a vector form (vf_exp, vf_erf, …). In the 128-bit build the vector form
 * performs exactly the scalar form's operations lane by lane (vf_madd is a multiply then an add, like
 * dsp_madd_s), so the two agree bit for bit; the 256-bit build fuses the multiply-adds and may differ by an ulp.
 *
 * Accuracy against double libm (tests/unit/test_mathfn.c checks it): exp within about 1 ulp, erf within about
 * 1.3 ulp, including subnormal inputs and outputs. The polynomial coefficients were fitted for this file
 * (iteratively reweighted least squares on Chebyshev nodes, coefficients rounded to float one at a time).
 *
 *   exp(x): n = round(x·log2 e), r = x − n·ln2 in two steps (Cody–Waite), e^r = 1 + r + r²·P(r) with P of
 *           degree 4 on |r| <= ln2/2, then scaled by 2^n as two factors 2^⌊n/2⌋·2^(n−⌊n/2⌋) so that
 *           results near overflow and in the subnormal range come out right. x is clamped to [−104, 88.8]:
 *           below, the result is 0; above, +inf (exp(88.8) overflows float). NaN stays NaN.
 *   erf(x): |x| < 1: x + x·A(x²), A of degree 6 with A(0) = 2/√π − 1 (so 2/√π itself is never rounded to
 *           float); 1 <= |x|: 1 − e^(−x²)·B(1/x), B of degree 9 on [1, 4], |x| clamped to 4 (erf(4) rounds to
 *           1 in float). Odd symmetry restores the sign.
 */
#ifndef DSP_MATHFN_H
#define DSP_MATHFN_H

#include <stdint.h>
#include <string.h>

/* Scalar twins of the vector vocabulary, so both forms round identically. */
static inline float dsp_madd_s(float a, float b, float c) { return a * b + c; }
static inline float dsp_minf(float a, float b) { return a < b ? a : b; } /* NaN in either: b */
static inline float dsp_maxf(float a, float b) { return a > b ? a : b; }
static inline uint32_t dsp_fbits(float x) { uint32_t u; memcpy(&u, &x, sizeof u); return u; }
static inline float dsp_bitsf(uint32_t u) { float x; memcpy(&x, &u, sizeof x); return x; }

#define DSP_EXP_LO (-104.0f)
#define DSP_EXP_HI 88.8f
#define DSP_LOG2E 1.44269504f
#define DSP_ROUND_MAGIC 12582912.0f /* 1.5·2^23: adding it rounds |y| < 2^22 to an integer in the low bits */
#define DSP_LN2_HI 0.693359375f    /* 9 significant bits: n·LN2_HI is exact for |n| < 2^15 */
#define DSP_LN2_LO (-2.12194440e-4f)
#define DSP_EXP_P0 0.5f
#define DSP_EXP_P1 0.166665778f
#define DSP_EXP_P2 0.0416668542f
#define DSP_EXP_P3 0.00836314447f
#define DSP_EXP_P4 0.00139012653f

#define DSP_ERF_A0 0.128379166f
#define DSP_ERF_A1 (-0.376126289f)
#define DSP_ERF_A2 0.112836182f
#define DSP_ERF_A3 (-0.026855126f)
#define DSP_ERF_A4 0.00519073382f
#define DSP_ERF_A5 (-0.000803076138f)
#define DSP_ERF_A6 7.92036808e-05f
#define DSP_ERF_B0 0.000555159f
#define DSP_ERF_B1 0.555195808f
#define DSP_ERF_B2 0.0641120523f
#define DSP_ERF_B3 (-0.541888773f)
#define DSP_ERF_B4 0.630904317f
#define DSP_ERF_B5 (-0.396034896f)
#define DSP_ERF_B6 0.122844599f
#define DSP_ERF_B7 0.00361532881f
#define DSP_ERF_B8 (-0.0151209179f)
#define DSP_ERF_B9 0.00340089924f
#define DSP_ERF_SPLIT 1.0f
#define DSP_ERF_CLAMP 4.0f

static inline float dsp_expf(float x) {
    x = dsp_maxf(DSP_EXP_LO, x); /* operand order keeps NaN */
    x = dsp_minf(DSP_EXP_HI, x);
    float t = dsp_madd_s(x, DSP_LOG2E, DSP_ROUND_MAGIC);
    float n = t - DSP_ROUND_MAGIC;
    uint32_t u = dsp_fbits(t) - dsp_fbits(DSP_ROUND_MAGIC) + 256u; /* n + 256, in [106, 384] */
    float r = dsp_madd_s(n, -DSP_LN2_HI, x);
    r = dsp_madd_s(n, -DSP_LN2_LO, r);
    float p = dsp_madd_s(DSP_EXP_P4, r, DSP_EXP_P3);
    p = dsp_madd_s(p, r, DSP_EXP_P2);
    p = dsp_madd_s(p, r, DSP_EXP_P1);
    p = dsp_madd_s(p, r, DSP_EXP_P0);
    p = dsp_madd_s(p, r * r, r);
    p = p + 1.0f;
    /* 2^n = 2^n1 · 2^n2 with n1 = floor(n/2): biased exponents (u>>1) − 1 and u − (u>>1) − 1. */
    float s1 = dsp_bitsf(((u >> 1) - 1u) << 23);
    float s2 = dsp_bitsf((u - (u >> 1) - 1u) << 23);
    return (p * s1) * s2;
}

static inline float dsp_erff(float x) {
    uint32_t sign = dsp_fbits(x) & 0x80000000u;
    float ax = dsp_bitsf(dsp_fbits(x) & 0x7fffffffu);
    float y;
    if (ax < DSP_ERF_SPLIT) {
        float z = ax * ax;
        float p = dsp_madd_s(DSP_ERF_A6, z, DSP_ERF_A5);
        p = dsp_madd_s(p, z, DSP_ERF_A4);
        p = dsp_madd_s(p, z, DSP_ERF_A3);
        p = dsp_madd_s(p, z, DSP_ERF_A2);
        p = dsp_madd_s(p, z, DSP_ERF_A1);
        p = dsp_madd_s(p, z, DSP_ERF_A0);
        y = dsp_madd_s(ax, p, ax); /* x + x·(A(x²) − 1): the leading 2/√π is not rounded to float */
    } else {
        float xb = dsp_minf(DSP_ERF_CLAMP, ax); /* NaN stays NaN */
        float t = 1.0f / xb;
        float q = dsp_madd_s(DSP_ERF_B9, t, DSP_ERF_B8);
        q = dsp_madd_s(q, t, DSP_ERF_B7);
        q = dsp_madd_s(q, t, DSP_ERF_B6);
        q = dsp_madd_s(q, t, DSP_ERF_B5);
        q = dsp_madd_s(q, t, DSP_ERF_B4);
        q = dsp_madd_s(q, t, DSP_ERF_B3);
        q = dsp_madd_s(q, t, DSP_ERF_B2);
        q = dsp_madd_s(q, t, DSP_ERF_B1);
        q = dsp_madd_s(q, t, DSP_ERF_B0);
        float e = dsp_expf(0.0f - xb * xb); /* "0 −" rather than unary minus: the vector form subtracts too */
        y = dsp_madd_s(e, 0.0f - q, 1.0f); /* 1 − erfc */
    }
    return dsp_bitsf(dsp_fbits(y) | sign);
}

/* The standard normal's CDF Φ(x) = ½(1 + erf(x/√2)) and density φ(x) = e^(−x²/2)/√(2π): GELU's two halves. One
 * definition, so that GELU's forward and its backward (which may recompute Φ) round identically. */
#define DSP_SQRT1_2 0.707106781f
#define DSP_INV_SQRT_2PI 0.398942280f
static inline float dsp_normcdff(float x) { return 0.5f * (1.0f + dsp_erff(x * DSP_SQRT1_2)); }
static inline float dsp_normpdff(float x) { return dsp_expf(-0.5f * x * x) * DSP_INV_SQRT_2PI; }

#ifdef DSP_SIMD_WIDTH /* vector forms, lane for lane the operations above */

static inline vf vf_exp(vf x) {
    x = vf_max(vf_splat(DSP_EXP_LO), x);
    x = vf_min(vf_splat(DSP_EXP_HI), x);
    vf t = vf_madd(x, vf_splat(DSP_LOG2E), vf_splat(DSP_ROUND_MAGIC));
    vf n = vf_sub(t, vf_splat(DSP_ROUND_MAGIC));
    vi u = vi_add(vi_sub(vf_bits(t), vf_bits(vf_splat(DSP_ROUND_MAGIC))), vi_splat(256));
    vf r = vf_madd(n, vf_splat(-DSP_LN2_HI), x);
    r = vf_madd(n, vf_splat(-DSP_LN2_LO), r);
    vf p = vf_madd(vf_splat(DSP_EXP_P4), r, vf_splat(DSP_EXP_P3));
    p = vf_madd(p, r, vf_splat(DSP_EXP_P2));
    p = vf_madd(p, r, vf_splat(DSP_EXP_P1));
    p = vf_madd(p, r, vf_splat(DSP_EXP_P0));
    p = vf_madd(p, vf_mul(r, r), r);
    p = vf_add(p, vf_splat(1.0f));
    vi half = vi_shr(u, 1);
    vf s1 = vi_float(vi_shl(vi_sub(half, vi_splat(1)), 23));
    vf s2 = vi_float(vi_shl(vi_sub(vi_sub(u, half), vi_splat(1)), 23));
    return vf_mul(vf_mul(p, s1), s2);
}

static inline vf vf_erf(vf x) {
    vf signmask = vf_splat(-0.0f);
    vf sign = vf_and(x, signmask);
    vf ax = vf_and(x, vi_float(vi_splat(0x7fffffff)));
    /* |x| < 1 */
    vf z = vf_mul(ax, ax);
    vf p = vf_madd(vf_splat(DSP_ERF_A6), z, vf_splat(DSP_ERF_A5));
    p = vf_madd(p, z, vf_splat(DSP_ERF_A4));
    p = vf_madd(p, z, vf_splat(DSP_ERF_A3));
    p = vf_madd(p, z, vf_splat(DSP_ERF_A2));
    p = vf_madd(p, z, vf_splat(DSP_ERF_A1));
    p = vf_madd(p, z, vf_splat(DSP_ERF_A0));
    vf ya = vf_madd(ax, p, ax);
    /* Why the early return: GELU's inputs sit almost all inside (−√2, √2) in a trained encoder, so whole vectors
     * usually need only this branch, and the other (a division, an exp and a degree-9 polynomial) would be computed
     * to be thrown away. The result is the one the blend below would give, bit for bit; NaN fails the compare and
     * takes the full path. */
    vf small = vf_lt(ax, vf_splat(DSP_ERF_SPLIT));
    if (vf_all(small)) return vf_or(ya, sign);
    /* 1 <= |x| */
    vf xb = vf_min(vf_splat(DSP_ERF_CLAMP), ax);
    vf t = vf_div(vf_splat(1.0f), xb);
    vf q = vf_madd(vf_splat(DSP_ERF_B9), t, vf_splat(DSP_ERF_B8));
    q = vf_madd(q, t, vf_splat(DSP_ERF_B7));
    q = vf_madd(q, t, vf_splat(DSP_ERF_B6));
    q = vf_madd(q, t, vf_splat(DSP_ERF_B5));
    q = vf_madd(q, t, vf_splat(DSP_ERF_B4));
    q = vf_madd(q, t, vf_splat(DSP_ERF_B3));
    q = vf_madd(q, t, vf_splat(DSP_ERF_B2));
    q = vf_madd(q, t, vf_splat(DSP_ERF_B1));
    q = vf_madd(q, t, vf_splat(DSP_ERF_B0));
    vf e = vf_exp(vf_sub(vf_zero(), vf_mul(xb, xb)));
    vf yb = vf_madd(e, vf_sub(vf_zero(), q), vf_splat(1.0f));
    vf y = vf_select(small, ya, yb);
    return vf_or(y, sign);
}

static inline vf vf_normcdf(vf x) {
    return vf_mul(vf_splat(0.5f), vf_add(vf_splat(1.0f), vf_erf(vf_mul(x, vf_splat(DSP_SQRT1_2)))));
}
static inline vf vf_normpdf(vf x) {
    return vf_mul(vf_exp(vf_mul(vf_mul(vf_splat(-0.5f), x), x)), vf_splat(DSP_INV_SQRT_2PI));
}

#endif /* DSP_SIMD_WIDTH */
#endif
