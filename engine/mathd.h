/* mathd.h — deterministic double exp, log, log1p, acos and pow from plain IEEE arithmetic (no libm beyond the
 * exact operations sqrt, floor, frexp, ldexp).
 *
 * Why: the objectives and the STS uniformity run in double, and glibc (with its FMA variants on x86-64) and
 * Emscripten's musl round exp/log/log1p/acos/pow differently in the last bit. Measured: all five give different
 * bits on 2·10⁶ random arguments, and the InfoNCE and AU gradients of a 64×128 batch then differ between the
 * native and the WebAssembly build. These versions give the same bits on every host (the engine is compiled
 * with -ffp-contract=off, so no multiply-add is fused behind our back). Accuracy against glibc, measured on
 * 4·10⁶ arguments: exp 1 ulp, log 2, log1p 4, acos 2; pow carries the rounding of a·log r, so about
 * |a·log r| ulp (≈ 1e-13 relative at r = 1e-12, a = 4). tests/unit/test_objectives.c checks these bounds.
 * All of it is far below anything the float encoder can see.
 *
 *   exp(x):   n = round(x/ln2), r = x − n·ln2 (Cody–Waite, ln2 in two parts, |r| <= 0.347), e^r by its Taylor
 *             polynomial to degree 13 (truncation < 5e-18 relative), then ldexp(·, n) (exact).
 *   log(x):   x = m·2^e with m in [√½, √2), f = (m−1)/(m+1), log m = 2 atanh f = 2f Σ f^{2k}/(2k+1) to k = 10
 *             (|f| <= 0.172, truncation < 1e-18 relative), plus e·ln2 in two parts.
 *   log1p(y): log(1+y)·y/((1+y)−1) (Goldberg's correction for the rounding of 1+y); y when 1+y rounds to 1.
 *   acos(s):  |s| <= ½: π/2 − asin s; s > ½: 2 asin √((1−s)/2); s < −½: π − 2 asin √((1+s)/2); asin by its
 *             Maclaurin series on |x| <= ½ to x^61 (truncation < 1e-18 relative).
 *   pow(r,a): exp(a·log r) for r > 0; 0 for r = 0 (a > 0 in every use).
 */
#ifndef DSP_MATHD_H
#define DSP_MATHD_H

#include <math.h>

#define DSP_LN2_HI_D 6.93147180369123816490e-01 /* 32 trailing zero bits: n·LN2_HI is exact for |n| < 2^20 */
#define DSP_LN2_LO_D 1.90821492927058770002e-10
#define DSP_PIO2_HI_D 1.57079632679489655800e+00
#define DSP_PIO2_LO_D 6.12323399573676603587e-17

static inline double dsp_exp_d(double x) {
    if (x != x) return x;
    if (x > 709.782712893383973096) return INFINITY;
    if (x < -745.2) return 0.0;
    double n = floor(x * 1.44269504088896338700 + 0.5);
    double r = (x - n * DSP_LN2_HI_D) - n * DSP_LN2_LO_D;
    /* 1/k! for k = 13 .. 0, Horner. */
    static const double c[14] = {1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0,
                                 1.0 / 362880.0,     1.0 / 40320.0,     1.0 / 5040.0,     1.0 / 720.0,
                                 1.0 / 120.0,        1.0 / 24.0,        1.0 / 6.0,        0.5,
                                 1.0,                1.0};
    double p = c[0];
    for (int k = 1; k < 14; k++) p = p * r + c[k];
    return ldexp(p, (int)n);
}

static inline double dsp_log_d(double x) {
    if (x != x || x < 0) return NAN;
    if (x == 0) return -INFINITY;
    if (x == INFINITY) return x;
    int e;
    double m = frexp(x, &e);   /* exact: x = m·2^e, m in [½, 1) */
    if (m < 0.70710678118654752440) {
        m *= 2;
        e -= 1;
    }
    double f = (m - 1.0) / (m + 1.0), f2 = f * f;
    double p = 1.0 / 21;
    for (int k = 9; k >= 0; k--) p = p * f2 + 1.0 / (2 * k + 1);
    double s = 2.0 * f * p;
    return e * DSP_LN2_HI_D + (e * DSP_LN2_LO_D + s);
}

static inline double dsp_log1p_d(double y) {
    double u = 1.0 + y;
    if (u == 1.0) return y;
    return dsp_log_d(u) * (y / (u - 1.0));
}

/* asin on |x| <= ½: x Σ c_n x^{2n}, c_n = (2n)!/(4^n (n!)² (2n+1)) (exact rationals rounded once), by Horner
 * from the smallest term up. */
static inline double dsp_asin_small_d(double x) {
    static const double c[31] = {
        1.0, 0.16666666666666666, 0.075, 0.044642857142857144,
        0.030381944444444444, 0.022372159090909092, 0.017352764423076924, 0.01396484375,
        0.011551800896139705, 0.009761609529194078, 0.008390335809616815, 0.0073125258735988454,
        0.006447210311889649, 0.005740037670841924, 0.005153309682319905, 0.004660143486915096,
        0.004240907093679363, 0.003880964558837669, 0.0035692053938259347, 0.003297059503473485,
        0.0030578216492580306, 0.002846178401108942, 0.00265787063820729, 0.0024894486782468836,
        0.002338091892111975, 0.0022014739737101384, 0.0020776610325181676, 0.0019650336162772837,
        0.0018622264064031275, 0.0017680811205154183, 0.0016816093935831068};
    double x2 = x * x, p = c[30];
    for (int n = 29; n >= 0; n--) p = p * x2 + c[n];
    return x * p;
}

static inline double dsp_acos_d(double s) {
    if (!(s >= -1.0 && s <= 1.0)) return NAN;
    if (s <= 0.5 && s >= -0.5) return DSP_PIO2_HI_D - (dsp_asin_small_d(s) - DSP_PIO2_LO_D);
    if (s > 0.5) return 2.0 * dsp_asin_small_d(sqrt((1.0 - s) * 0.5));
    return 2.0 * DSP_PIO2_HI_D - (2.0 * dsp_asin_small_d(sqrt((1.0 + s) * 0.5)) - 2.0 * DSP_PIO2_LO_D);
}

static inline double dsp_pow_d(double r, double a) {
    if (r == 0) return 0.0;
    return dsp_exp_d(a * dsp_log_d(r));
}

#endif
