/* kernels_simd.h — what the two files of SIMD kernels (kernels_simd.c, gemm_simd.c) share: the name suffix of
 * the vector width they are compiled for, and GELU's element-wise backward, which the GELU kernel and the matmul
 * backward that ends in a GELU both run. Both files are compiled once per width:
 * DSP_SIMD_WIDTH 4 gives the *_simd128 functions (SSE2 or NEON natively, wasm_simd128 in the browser) and, compiled with
 * -mavx, the *_simd128vex functions: the same 128-bit arithmetic in AVX's three-operand encoding with a broadcast
 * load, which is what V8 emits for wasm_simd128 on such a CPU; DSP_SIMD_WIDTH 8 the *_avx2 functions (AVX2 + FMA).
 * Include it once, first, from those two files only. */
#ifndef DSP_KERNELS_SIMD_H
#define DSP_KERNELS_SIMD_H

#define _POSIX_C_SOURCE 200809L /* pthread keys under -std=c11 */
#include "kernels.h"
#include "kernels_shared.h"
#include "simd.h"
#if DSP_SIMD_WIDTH != 16
#include "mathfn.h"
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if DSP_SIMD_WIDTH == 16
#define KFN(name) name##_avx512
#elif DSP_SIMD_WIDTH == 8
#define KFN(name) name##_avx2
#elif DSP_SIMD_WIDTH == 4 && defined(__AVX__)
#define KFN(name) name##_simd128vex
#elif DSP_SIMD_WIDTH == 4
#define KFN(name) name##_simd128
#endif

#define W DSP_VF_W

/* Column sums (the matmul's bias gradient, layernorm's weight and bias gradients) run over a block of COL_BLOCK
 * columns per task: every row read is four whole cache lines (a narrower strip down 2900 rows is a stride the
 * hardware prefetcher does not follow). Sums are kept in a small block-sized buffer and each column adds its rows
 * one at a time in increasing t — the reference's order, whatever the block. */
#define COL_BLOCK 64

/* ---------------------------------------------------------------- GELU's backward, element by element */

/* out[i] = dout[i]·gelu'(inp[i]) for i in [i, end), written as madd(dout, gelu', 0): the bits of accumulating into
 * a zeroed buffer. With the forward's cdf the erf (most of the cost) is skipped; without, it is recomputed exactly
 * as the forward computed it. out may be dout. Used by dsp_gelu_backward and, on each block of dinp while the
 * caches hold it, by the matmul backward that ends in a GELU (dsp_matmul_backward_gelu). */
#if DSP_SIMD_WIDTH >= 8 /* the AVX2 object's span, exported (kernels_simd.c) */
void dsp_gelu_backward_span_avx2(float *out, const float *inp, const float *cdf_in, const float *dout, size_t i,
                                 size_t end);
#endif
#if DSP_SIMD_WIDTH == 16
/* The 512-bit object holds only the GEMM: a matmul that ends in a GELU runs the AVX2 object's span, so that every
 * element rounds as in the avx2 set, the scalar tail of a width that is not a multiple of 8 included. */
#define gelu_backward_span dsp_gelu_backward_span_avx2
#else
static inline void gelu_backward_span(float *out, const float *inp, const float *cdf_in, const float *dout, size_t i,
                                      size_t end) {
    for (; i + W <= end; i += W) {
        vf x = vf_loadu(inp + i);
        vf cdf = cdf_in ? vf_loadu(cdf_in + i) : vf_normcdf(x);
        vf local = vf_madd(x, vf_normpdf(x), cdf);
        vf_storeu(out + i, vf_madd(vf_loadu(dout + i), local, vf_zero()));
    }
    for (; i < end; i++) {
        float x = inp[i];
        float cdf = cdf_in ? cdf_in[i] : dsp_normcdff(x);
        out[i] = sf_madd(dout[i], sf_madd(x, dsp_normpdff(x), cdf), 0.0f);
    }
}
#endif

#endif
