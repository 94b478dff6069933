/* peak_simd.c — the arithmetic ceiling of a vector set, for benchmarks (dsp_peak_madd_*, kernels.h): compiled
 * once per width with the kernels (kernels_simd.h), and for AVX-512 with the 512-bit GEMM, whose ceiling it is.
 *
 * c += x·m into DSP_PEAK_CHAINS register accumulators, as a GEMM micro-kernel does: each x is a new vector from a
 * small buffer in L1 (so that the compiler cannot hoist the product) and feeds two accumulators (with m0 and m1),
 * so that loads (one per two multiply-adds, fewer than any micro-kernel of the engine needs) do not limit it. Each
 * chain waits only on its own accumulator: ten chains cover the latency of two fused multiply-add units (4 cycles)
 * or of two add units behind the multipliers (3 cycles), and ten accumulators, two multipliers and the x in flight
 * fit in 16 registers (a spilled accumulator would put a store and a load on its chain). x stays near 1e-3, so
 * the sums grow slowly and stay normal for any run a benchmark makes. */
#include "kernels_simd.h"

_Static_assert(DSP_PEAK_CHAINS == 10, "the loop below writes out ten chains");
#define PEAK_ROWS 16 /* buffer rows of DSP_PEAK_CHAINS / 2 vectors: 2.5 KiB for AVX2, well inside L1 */
#define PEAK_PAIR(i, ca, cb)                  \
    do {                                      \
        vf x##i = vf_load(x + (i) * W);       \
        ca = vf_madd(x##i, m0, ca);           \
        cb = vf_madd(x##i, m1, cb);           \
    } while (0)
float KFN(dsp_peak_madd)(long reps) {
    enum { ROW = DSP_PEAK_CHAINS / 2 * W };
    static float buf[PEAK_ROWS * ROW] __attribute__((aligned(64)));
    for (int i = 0; i < PEAK_ROWS * ROW; i++) buf[i] = 1e-3f * (float)(1 + i % 7);
    const vf m0 = vf_splat(0.5f), m1 = vf_splat(0.25f);
    vf c0 = vf_zero(), c1 = vf_zero(), c2 = vf_zero(), c3 = vf_zero(), c4 = vf_zero();
    vf c5 = vf_zero(), c6 = vf_zero(), c7 = vf_zero(), c8 = vf_zero(), c9 = vf_zero();
    for (unsigned long r = 0; r < (unsigned long)reps; r++) {
        const float *x = buf + (r & (PEAK_ROWS - 1)) * ROW;
        PEAK_PAIR(0, c0, c1);
        PEAK_PAIR(1, c2, c3);
        PEAK_PAIR(2, c4, c5);
        PEAK_PAIR(3, c6, c7);
        PEAK_PAIR(4, c8, c9);
    }
    vf s = vf_add(vf_add(vf_add(c0, c1), vf_add(c2, c3)), vf_add(vf_add(c4, c5), vf_add(c6, c7)));
    return vf_hsum(vf_add(s, vf_add(c8, c9)));
}
