/* simd.h — the tiny vector vocabulary the SIMD kernels are written in (after ggml's simd-mappings.h).
 *
 * kernels_simd.c and gemm_simd.c are compiled once per width, and this header maps the vocabulary for it:
 *   DSP_SIMD_WIDTH == 4: SSE2 natively (x86-64 baseline; compiled a second time with -mavx, the same intrinsics
 *                        in AVX's three-operand encoding, vf_bcast a vbroadcastss), NEON on AArch64,
 *                        wasm_simd128 under Emscripten
 *   DSP_SIMD_WIDTH == 8: AVX2 + FMA (the object is compiled with -mavx2 -mfma)
 *   DSP_SIMD_WIDTH == 16: AVX-512F, for the GEMM alone (gemm_simd.c, peak_simd.c; compiled with -mavx512f): only
 *                        the words those files use. Each lane's multiply-add is AVX2's fused one, so the GEMM's
 *                        per-element chain (init, then one product at a time in increasing k) gives AVX2's bits.
 *
 * The 128-bit mappings compute the same bits on every host: every operation is a single IEEE operation
 * (add, sub, mul, div), vf_madd is a multiply then an add (wasm has no FMA outside relaxed SIMD, which node 20
 * and Chromium reject), min/max follow minps's "a < b ? a : b" rule on both (wasm's pmin/pmax, arguments
 * swapped), and the horizontal reductions combine lanes in one fixed order. Only the 256-bit build fuses
 * multiply-adds. sf_madd is the scalar twin of vf_madd, for tails that must round like the vector body.
 * vf_all(mask) is true when every lane of a comparison's mask is set; vi_store_flags writes a mask as W bytes of 0
 * or 1. vf_hsums8 is vf_hsum of eight vectors at once (the same bits, fewer shuffles).
 * vf_prefetch is a hint only (a no-op in wasm). vi holds W 32-bit integer lanes; vu holds W/2 64-bit lanes, for
 * the counter-based hash of the dropout masks (vu_mul: the low 64 bits of the product, built from 32-bit
 * multiplies where the ISA has no 64-bit one).
 *
 * Only this header (and the kernels compiled against it) may use intrinsics.
 */
#ifndef DSP_SIMD_H
#define DSP_SIMD_H

#include <stdint.h>
#include <string.h>

#ifndef DSP_SIMD_WIDTH
#error "simd.h needs DSP_SIMD_WIDTH (4, 8 or 16)"
#endif

#define DSP_VF_W DSP_SIMD_WIDTH

#if DSP_SIMD_WIDTH == 16 /* ----------------------------------------------- AVX-512F: the GEMM's words only */
#include <immintrin.h>
#include <math.h>
typedef __m512 vf;
#define DSP_SIMD_NAME "avx512"
static inline vf vf_zero(void) { return _mm512_setzero_ps(); }
static inline vf vf_splat(float x) { return _mm512_set1_ps(x); }
static inline vf vf_load(const float *p) { return _mm512_load_ps(p); }
static inline vf vf_loadu(const float *p) { return _mm512_loadu_ps(p); }
static inline void vf_store(float *p, vf v) { _mm512_store_ps(p, v); }
static inline void vf_storeu(float *p, vf v) { _mm512_storeu_ps(p, v); }
static inline vf vf_bcast(const float *p) { return _mm512_set1_ps(*p); } /* vbroadcastss from memory */
static inline void vf_prefetch(const float *p) { _mm_prefetch((const char *)p, _MM_HINT_T0); }
static inline vf vf_add(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf vf_madd(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline float sf_madd(float a, float b, float c) { return fmaf(a, b, c); }
static inline float vf_hsum(vf v) { return _mm512_reduce_add_ps(v); } /* the ceiling loop's result only */

#elif DSP_SIMD_WIDTH == 8 /* ---------------------------------------------------------------- AVX2 + FMA */
#include <immintrin.h>
#include <math.h>
typedef __m256 vf;
typedef __m256i vi;
#define DSP_SIMD_NAME "avx2"
static inline vf vf_zero(void) { return _mm256_setzero_ps(); }
static inline vf vf_splat(float x) { return _mm256_set1_ps(x); }
static inline vf vf_load(const float *p) { return _mm256_load_ps(p); }
static inline vf vf_loadu(const float *p) { return _mm256_loadu_ps(p); }
static inline void vf_store(float *p, vf v) { _mm256_store_ps(p, v); }
static inline void vf_storeu(float *p, vf v) { _mm256_storeu_ps(p, v); }
static inline vf vf_bcast(const float *p) { return _mm256_broadcast_ss(p); }
static inline void vf_prefetch(const float *p) { _mm_prefetch((const char *)p, _MM_HINT_T0); }
#define vf_dup_lane(v, l) _mm256_permutevar8x32_ps((v), _mm256_set1_epi32(l)) /* every lane = lane l */
static inline vf vf_add(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf vf_sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf vf_mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf vf_div(vf a, vf b) { return _mm256_div_ps(a, b); }
static inline vf vf_sqrt(vf a) { return _mm256_sqrt_ps(a); }
static inline vf vf_madd(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
static inline float sf_madd(float a, float b, float c) { return fmaf(a, b, c); }
static inline vf vf_min(vf a, vf b) { return _mm256_min_ps(a, b); }
static inline vf vf_max(vf a, vf b) { return _mm256_max_ps(a, b); }
static inline vf vf_lt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
static inline vf vf_select(vf mask, vf a, vf b) { return _mm256_blendv_ps(b, a, mask); }
static inline int vf_all(vf mask) { return _mm256_movemask_ps(mask) == 0xff; }
static inline vf vf_and(vf a, vf b) { return _mm256_and_ps(a, b); }
static inline vf vf_or(vf a, vf b) { return _mm256_or_ps(a, b); }
static inline vi vf_bits(vf a) { return _mm256_castps_si256(a); }
static inline vf vi_float(vi a) { return _mm256_castsi256_ps(a); }
static inline vi vi_splat(int32_t x) { return _mm256_set1_epi32(x); }
static inline vi vi_add(vi a, vi b) { return _mm256_add_epi32(a, b); }
static inline vi vi_sub(vi a, vi b) { return _mm256_sub_epi32(a, b); }
#define vi_shr(a, n) _mm256_srli_epi32((a), (n)) /* logical */
#define vi_shl(a, n) _mm256_slli_epi32((a), (n))
static inline vi vi_gt(vi a, vi b) { return _mm256_cmpgt_epi32(a, b); } /* signed; all ones where a > b */
/* W bytes at p: 1 where the mask's lane is set (all ones), 0 where it is clear (the lanes saturate to bytes). */
static inline void vi_store_flags(uint8_t *p, vi mask) {
    __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(mask), _mm256_extracti128_si256(mask, 1));
    _mm_storel_epi64((__m128i *)p, _mm_and_si128(_mm_packs_epi16(w, w), _mm_set1_epi8(1)));
}
/* 64-bit lanes (W/2 of them), for the counter-based hash */
typedef __m256i vu;
static inline vu vu_splat(uint64_t x) { return _mm256_set1_epi64x((long long)x); }
static inline vu vu_loadu(const uint64_t *p) { return _mm256_loadu_si256((const __m256i *)p); }
static inline vu vu_add(vu a, vu b) { return _mm256_add_epi64(a, b); }
static inline vu vu_xor(vu a, vu b) { return _mm256_xor_si256(a, b); }
#define vu_shr(a, n) _mm256_srli_epi64((a), (n))
/* a·b mod 2⁶⁴ from 32-bit products: AVX2 has no 64-bit multiply */
static inline vu vu_mul(vu a, vu b) {
    vu cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), b),
                                _mm256_mul_epu32(a, _mm256_srli_epi64(b, 32)));
    return _mm256_add_epi64(_mm256_mul_epu32(a, b), _mm256_slli_epi64(cross, 32));
}
/* The low 32 bits of a's lanes, then of b's, as W 32-bit lanes in that order. */
static inline vi vu_pack_lo32(vu a, vu b) {
    __m256 s = _mm256_shuffle_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_permute4x64_epi64(_mm256_castps_si256(s), _MM_SHUFFLE(3, 1, 2, 0));
}
/* Fold the high half onto the low half, then the 128-bit rule below. */
static inline __m128 dsp_hsum_half_(__m256 v) {
    return _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
}
static inline float vf_hsum(vf v) {
    __m128 t = dsp_hsum_half_(v);
    t = _mm_add_ps(t, _mm_movehl_ps(t, t));
    t = _mm_add_ss(t, _mm_shuffle_ps(t, t, 1));
    return _mm_cvtss_f32(t);
}
/* out[u] = vf_hsum(s_u) for eight vectors, bit for bit: vf_hsum's tree level by level (the halves, then lanes
 * i and i + 2, then the last two lanes), several vectors to a register at each level: 23 instructions, not 48. */
#define DSP_HALVES_(a, b) _mm256_add_ps(_mm256_permute2f128_ps(a, b, 0x20), _mm256_permute2f128_ps(a, b, 0x31))
#define DSP_SPLIT_ADD_(a, b, lo, hi) _mm256_add_ps(_mm256_shuffle_ps(a, b, lo), _mm256_shuffle_ps(a, b, hi))
static inline void vf_hsums8(vf s0, vf s1, vf s2, vf s3, vf s4, vf s5, vf s6, vf s7, float *out) {
    __m256 t01 = DSP_HALVES_(s0, s1), t23 = DSP_HALVES_(s2, s3), t45 = DSP_HALVES_(s4, s5), t67 = DSP_HALVES_(s6, s7);
    /* per 128-bit lane: [x0 + x2, x1 + x3] of t01's vector, then of t23's */
    __m256 u0213 = DSP_SPLIT_ADD_(t01, t23, _MM_SHUFFLE(1, 0, 1, 0), _MM_SHUFFLE(3, 2, 3, 2));
    __m256 u4657 = DSP_SPLIT_ADD_(t45, t67, _MM_SHUFFLE(1, 0, 1, 0), _MM_SHUFFLE(3, 2, 3, 2));
    __m256 r = DSP_SPLIT_ADD_(u0213, u4657, _MM_SHUFFLE(2, 0, 2, 0), _MM_SHUFFLE(3, 1, 3, 1)); /* 0 2 4 6 | 1 3 5 7 */
    _mm256_storeu_ps(out, _mm256_permutevar8x32_ps(r, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
}
#undef DSP_HALVES_
#undef DSP_SPLIT_ADD_
static inline float vf_hmax(vf v) {
    __m128 t = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    t = _mm_max_ps(t, _mm_movehl_ps(t, t));
    t = _mm_max_ss(t, _mm_shuffle_ps(t, t, 1));
    return _mm_cvtss_f32(t);
}

#elif DSP_SIMD_WIDTH == 4 && defined(__wasm_simd128__) /* ------------------------------------ wasm simd128 */
#include <wasm_simd128.h>
typedef v128_t vf;
typedef v128_t vi;
#define DSP_SIMD_NAME "wasm_simd128"
static inline vf vf_zero(void) { return wasm_f32x4_splat(0.0f); }
static inline vf vf_splat(float x) { return wasm_f32x4_splat(x); }
static inline vf vf_load(const float *p) { return wasm_v128_load(p); }
static inline vf vf_loadu(const float *p) { return wasm_v128_load(p); }
static inline void vf_store(float *p, vf v) { wasm_v128_store(p, v); }
static inline void vf_storeu(float *p, vf v) { wasm_v128_store(p, v); }
static inline vf vf_bcast(const float *p) { return wasm_v128_load32_splat(p); }
static inline void vf_prefetch(const float *p) { (void)p; } /* no prefetch instruction in wasm */
#define vf_dup_lane(v, l) wasm_i32x4_shuffle((v), (v), (l), (l), (l), (l))
/* r[i] lane j ↔ r[j] lane i (4-wide sets only). */
static inline void vf_transpose4(vf r[4]) {
    vf t0 = wasm_i32x4_shuffle(r[0], r[1], 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r[2], r[3], 0, 4, 1, 5);
    vf t2 = wasm_i32x4_shuffle(r[0], r[1], 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(r[2], r[3], 2, 6, 3, 7);
    r[0] = wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5);
    r[1] = wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7);
    r[2] = wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5);
    r[3] = wasm_i32x4_shuffle(t2, t3, 2, 3, 6, 7);
}
static inline vf vf_add(vf a, vf b) { return wasm_f32x4_add(a, b); }
static inline vf vf_sub(vf a, vf b) { return wasm_f32x4_sub(a, b); }
static inline vf vf_mul(vf a, vf b) { return wasm_f32x4_mul(a, b); }
static inline vf vf_div(vf a, vf b) { return wasm_f32x4_div(a, b); }
static inline vf vf_sqrt(vf a) { return wasm_f32x4_sqrt(a); }
static inline vf vf_madd(vf a, vf b, vf c) { return wasm_f32x4_add(wasm_f32x4_mul(a, b), c); }
static inline float sf_madd(float a, float b, float c) { return a * b + c; }
/* pmin(x, y) = y < x ? y : x, so pmin(b, a) = a < b ? a : b: minps's rule, NaN in either gives b. */
static inline vf vf_min(vf a, vf b) { return wasm_f32x4_pmin(b, a); }
static inline vf vf_max(vf a, vf b) { return wasm_f32x4_pmax(b, a); }
static inline vf vf_lt(vf a, vf b) { return wasm_f32x4_lt(a, b); }
static inline vf vf_select(vf mask, vf a, vf b) { return wasm_v128_bitselect(a, b, mask); }
static inline int vf_all(vf mask) { return wasm_i32x4_all_true(mask); }
static inline vf vf_and(vf a, vf b) { return wasm_v128_and(a, b); }
static inline vf vf_or(vf a, vf b) { return wasm_v128_or(a, b); }
static inline vi vf_bits(vf a) { return a; }
static inline vf vi_float(vi a) { return a; }
static inline vi vi_splat(int32_t x) { return wasm_i32x4_splat(x); }
static inline vi vi_add(vi a, vi b) { return wasm_i32x4_add(a, b); }
static inline vi vi_sub(vi a, vi b) { return wasm_i32x4_sub(a, b); }
#define vi_shr(a, n) wasm_u32x4_shr((a), (n))
#define vi_shl(a, n) wasm_i32x4_shl((a), (n))
static inline vi vi_gt(vi a, vi b) { return wasm_i32x4_gt(a, b); }
static inline void vi_store_flags(uint8_t *p, vi mask) { /* W bytes: 1 where the lane is set, else 0 */
    vi w = wasm_i16x8_narrow_i32x4(mask, mask);
    int32_t bytes = wasm_i32x4_extract_lane(wasm_v128_and(wasm_i8x16_narrow_i16x8(w, w), wasm_i8x16_splat(1)), 0);
    memcpy(p, &bytes, sizeof bytes);
}
typedef v128_t vu;
static inline vu vu_splat(uint64_t x) { return wasm_i64x2_splat((int64_t)x); }
static inline vu vu_loadu(const uint64_t *p) { return wasm_v128_load(p); }
static inline vu vu_add(vu a, vu b) { return wasm_i64x2_add(a, b); }
static inline vu vu_xor(vu a, vu b) { return wasm_v128_xor(a, b); }
#define vu_shr(a, n) wasm_u64x2_shr((a), (n))
static inline vu vu_mul(vu a, vu b) { return wasm_i64x2_mul(a, b); }
static inline vi vu_pack_lo32(vu a, vu b) { return wasm_i32x4_shuffle(a, b, 0, 2, 4, 6); }
/* Lanes combine as (l0 + l2) + (l1 + l3), the order of the SSE sequence below. */
static inline float vf_hsum(vf v) {
    vf t = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    return wasm_f32x4_extract_lane(t, 0) + wasm_f32x4_extract_lane(t, 1);
}
static inline void vf_hsums4(vf a, vf b, vf c, vf d, float *out) { /* out[u] = vf_hsum(u-th), bit for bit */
    vf ab = wasm_f32x4_add(wasm_i32x4_shuffle(a, b, 0, 1, 4, 5), wasm_i32x4_shuffle(a, b, 2, 3, 6, 7));
    vf cd = wasm_f32x4_add(wasm_i32x4_shuffle(c, d, 0, 1, 4, 5), wasm_i32x4_shuffle(c, d, 2, 3, 6, 7));
    wasm_v128_store(out,
                    wasm_f32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 2, 4, 6), wasm_i32x4_shuffle(ab, cd, 1, 3, 5, 7)));
}
static inline float vf_hmax(vf v) {
    vf t = vf_max(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    float a = wasm_f32x4_extract_lane(t, 0), b = wasm_f32x4_extract_lane(t, 1);
    return a > b ? a : b;
}

#elif DSP_SIMD_WIDTH == 4 && (defined(__SSE2__) || defined(__x86_64__)) /* ----------------------- SSE2 */
#include <emmintrin.h>
typedef __m128 vf;
typedef __m128i vi;
#ifdef __AVX__
#define DSP_SIMD_NAME "sse-vex"
#else
#define DSP_SIMD_NAME "sse2"
#endif
static inline vf vf_zero(void) { return _mm_setzero_ps(); }
static inline vf vf_splat(float x) { return _mm_set1_ps(x); }
static inline vf vf_load(const float *p) { return _mm_load_ps(p); }
static inline vf vf_loadu(const float *p) { return _mm_loadu_ps(p); }
static inline void vf_store(float *p, vf v) { _mm_store_ps(p, v); }
static inline void vf_storeu(float *p, vf v) { _mm_storeu_ps(p, v); }
static inline vf vf_bcast(const float *p) { return _mm_load1_ps(p); }
static inline void vf_prefetch(const float *p) { _mm_prefetch((const char *)p, _MM_HINT_T0); }
#define vf_dup_lane(v, l) _mm_shuffle_ps((v), (v), _MM_SHUFFLE((l), (l), (l), (l)))
/* r[i] lane j ↔ r[j] lane i (4-wide sets only). */
static inline void vf_transpose4(vf r[4]) { _MM_TRANSPOSE4_PS(r[0], r[1], r[2], r[3]); }
static inline vf vf_add(vf a, vf b) { return _mm_add_ps(a, b); }
static inline vf vf_sub(vf a, vf b) { return _mm_sub_ps(a, b); }
static inline vf vf_mul(vf a, vf b) { return _mm_mul_ps(a, b); }
static inline vf vf_div(vf a, vf b) { return _mm_div_ps(a, b); }
static inline vf vf_sqrt(vf a) { return _mm_sqrt_ps(a); }
static inline vf vf_madd(vf a, vf b, vf c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
static inline float sf_madd(float a, float b, float c) { return a * b + c; }
static inline vf vf_min(vf a, vf b) { return _mm_min_ps(a, b); }
static inline vf vf_max(vf a, vf b) { return _mm_max_ps(a, b); }
static inline vf vf_lt(vf a, vf b) { return _mm_cmplt_ps(a, b); }
static inline vf vf_select(vf mask, vf a, vf b) { return _mm_or_ps(_mm_and_ps(mask, a), _mm_andnot_ps(mask, b)); }
static inline int vf_all(vf mask) { return _mm_movemask_ps(mask) == 0xf; }
static inline vf vf_and(vf a, vf b) { return _mm_and_ps(a, b); }
static inline vf vf_or(vf a, vf b) { return _mm_or_ps(a, b); }
static inline vi vf_bits(vf a) { return _mm_castps_si128(a); }
static inline vf vi_float(vi a) { return _mm_castsi128_ps(a); }
static inline vi vi_splat(int32_t x) { return _mm_set1_epi32(x); }
static inline vi vi_add(vi a, vi b) { return _mm_add_epi32(a, b); }
static inline vi vi_sub(vi a, vi b) { return _mm_sub_epi32(a, b); }
#define vi_shr(a, n) _mm_srli_epi32((a), (n))
#define vi_shl(a, n) _mm_slli_epi32((a), (n))
static inline vi vi_gt(vi a, vi b) { return _mm_cmpgt_epi32(a, b); }
static inline void vi_store_flags(uint8_t *p, vi mask) { /* W bytes: 1 where the lane is set, else 0 */
    __m128i w = _mm_packs_epi32(mask, mask);
    int32_t bytes = _mm_cvtsi128_si32(_mm_and_si128(_mm_packs_epi16(w, w), _mm_set1_epi8(1)));
    memcpy(p, &bytes, sizeof bytes);
}
typedef __m128i vu;
static inline vu vu_splat(uint64_t x) { return _mm_set1_epi64x((long long)x); }
static inline vu vu_loadu(const uint64_t *p) { return _mm_loadu_si128((const __m128i *)p); }
static inline vu vu_add(vu a, vu b) { return _mm_add_epi64(a, b); }
static inline vu vu_xor(vu a, vu b) { return _mm_xor_si128(a, b); }
#define vu_shr(a, n) _mm_srli_epi64((a), (n))
static inline vu vu_mul(vu a, vu b) { /* as the AVX2 form: SSE2 has no 64-bit multiply */
    vu cross = _mm_add_epi64(_mm_mul_epu32(_mm_srli_epi64(a, 32), b), _mm_mul_epu32(a, _mm_srli_epi64(b, 32)));
    return _mm_add_epi64(_mm_mul_epu32(a, b), _mm_slli_epi64(cross, 32));
}
static inline vi vu_pack_lo32(vu a, vu b) {
    return _mm_castps_si128(_mm_shuffle_ps(_mm_castsi128_ps(a), _mm_castsi128_ps(b), _MM_SHUFFLE(2, 0, 2, 0)));
}
static inline float vf_hsum(vf v) {
    vf t = _mm_add_ps(v, _mm_movehl_ps(v, v)); /* l0 + l2, l1 + l3 */
    t = _mm_add_ss(t, _mm_shuffle_ps(t, t, 1));
    return _mm_cvtss_f32(t);
}
/* out[u] = vf_hsum of the u-th vector, bit for bit: both levels of its tree for all four at once. */
static inline void vf_hsums4(vf a, vf b, vf c, vf d, float *out) {
    vf ab = _mm_add_ps(_mm_movelh_ps(a, b), _mm_movehl_ps(b, a)); /* a0 + a2, a1 + a3, b0 + b2, b1 + b3 */
    vf cd = _mm_add_ps(_mm_movelh_ps(c, d), _mm_movehl_ps(d, c));
    _mm_storeu_ps(out, _mm_add_ps(_mm_shuffle_ps(ab, cd, _MM_SHUFFLE(2, 0, 2, 0)),
                                  _mm_shuffle_ps(ab, cd, _MM_SHUFFLE(3, 1, 3, 1))));
}
static inline float vf_hmax(vf v) {
    vf t = _mm_max_ps(v, _mm_movehl_ps(v, v));
    t = _mm_max_ss(t, _mm_shuffle_ps(t, t, 1));
    return _mm_cvtss_f32(t);
}

#elif DSP_SIMD_WIDTH == 4 && defined(__aarch64__) && defined(__ARM_NEON) /* ---------------- NEON (AArch64) */
#include <arm_neon.h>
typedef float32x4_t vf;
typedef int32x4_t vi;
#define DSP_SIMD_NAME "neon"
static inline vf vf_zero(void) { return vdupq_n_f32(0.0f); }
static inline vf vf_splat(float x) { return vdupq_n_f32(x); }
static inline vf vf_load(const float *p) { return vld1q_f32(p); }
static inline vf vf_loadu(const float *p) { return vld1q_f32(p); }
static inline void vf_store(float *p, vf v) { vst1q_f32(p, v); }
static inline void vf_storeu(float *p, vf v) { vst1q_f32(p, v); }
static inline vf vf_bcast(const float *p) { return vld1q_dup_f32(p); }
static inline void vf_prefetch(const float *p) { __builtin_prefetch(p); }
#define vf_dup_lane(v, l) vdupq_laneq_f32((v), (l))
/* r[i] lane j ↔ r[j] lane i (4-wide sets only): the wasm form's zips, the second as 64-bit halves. */
static inline void vf_transpose4(vf r[4]) {
    vf t0 = vzip1q_f32(r[0], r[1]), t1 = vzip1q_f32(r[2], r[3]);
    vf t2 = vzip2q_f32(r[0], r[1]), t3 = vzip2q_f32(r[2], r[3]);
    r[0] = vreinterpretq_f32_f64(vzip1q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t1)));
    r[1] = vreinterpretq_f32_f64(vzip2q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t1)));
    r[2] = vreinterpretq_f32_f64(vzip1q_f64(vreinterpretq_f64_f32(t2), vreinterpretq_f64_f32(t3)));
    r[3] = vreinterpretq_f32_f64(vzip2q_f64(vreinterpretq_f64_f32(t2), vreinterpretq_f64_f32(t3)));
}
static inline vf vf_add(vf a, vf b) { return vaddq_f32(a, b); }
static inline vf vf_sub(vf a, vf b) { return vsubq_f32(a, b); }
static inline vf vf_mul(vf a, vf b) { return vmulq_f32(a, b); }
static inline vf vf_div(vf a, vf b) { return vdivq_f32(a, b); }
static inline vf vf_sqrt(vf a) { return vsqrtq_f32(a); }
/* a multiply, then an add (-ffp-contract=off keeps them apart; vmlaq_f32 would be free to fuse them) */
static inline vf vf_madd(vf a, vf b, vf c) { return vaddq_f32(vmulq_f32(a, b), c); }
static inline float sf_madd(float a, float b, float c) { return a * b + c; }
/* minps's rule, a < b ? a : b (NEON's fmin would return NaN for a NaN in either) */
static inline vf vf_min(vf a, vf b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
static inline vf vf_max(vf a, vf b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
static inline vf vf_lt(vf a, vf b) { return vreinterpretq_f32_u32(vcltq_f32(a, b)); }
static inline vf vf_select(vf mask, vf a, vf b) { return vbslq_f32(vreinterpretq_u32_f32(mask), a, b); }
static inline int vf_all(vf mask) { return vminvq_u32(vreinterpretq_u32_f32(mask)) != 0; }
static inline vf vf_and(vf a, vf b) {
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(a), vreinterpretq_u32_f32(b)));
}
static inline vf vf_or(vf a, vf b) {
    return vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(a), vreinterpretq_u32_f32(b)));
}
static inline vi vf_bits(vf a) { return vreinterpretq_s32_f32(a); }
static inline vf vi_float(vi a) { return vreinterpretq_f32_s32(a); }
static inline vi vi_splat(int32_t x) { return vdupq_n_s32(x); }
static inline vi vi_add(vi a, vi b) { return vaddq_s32(a, b); }
static inline vi vi_sub(vi a, vi b) { return vsubq_s32(a, b); }
#define vi_shr(a, n) vreinterpretq_s32_u32(vshrq_n_u32(vreinterpretq_u32_s32(a), (n)))
#define vi_shl(a, n) vshlq_n_s32((a), (n))
static inline vi vi_gt(vi a, vi b) { return vreinterpretq_s32_u32(vcgtq_s32(a, b)); }
static inline void vi_store_flags(uint8_t *p, vi mask) { /* W bytes: 1 where the lane is set, else 0 */
    uint16x4_t w = vmovn_u32(vreinterpretq_u32_s32(mask));
    uint32_t bytes = vget_lane_u32(vreinterpret_u32_u8(vand_u8(vmovn_u16(vcombine_u16(w, w)), vdup_n_u8(1))), 0);
    memcpy(p, &bytes, sizeof bytes);
}
typedef uint64x2_t vu;
static inline vu vu_splat(uint64_t x) { return vdupq_n_u64(x); }
static inline vu vu_loadu(const uint64_t *p) { return vld1q_u64(p); }
static inline vu vu_add(vu a, vu b) { return vaddq_u64(a, b); }
static inline vu vu_xor(vu a, vu b) { return veorq_u64(a, b); }
#define vu_shr(a, n) vshrq_n_u64((a), (n))
static inline vu vu_mul(vu a, vu b) { /* NEON has no 64-bit lane multiply; the scalar one is as fast here */
    return vcombine_u64(vcreate_u64(vgetq_lane_u64(a, 0) * vgetq_lane_u64(b, 0)),
                        vcreate_u64(vgetq_lane_u64(a, 1) * vgetq_lane_u64(b, 1)));
}
static inline vi vu_pack_lo32(vu a, vu b) { return vreinterpretq_s32_u32(vcombine_u32(vmovn_u64(a), vmovn_u64(b))); }
/* Lanes combine as (l0 + l2) + (l1 + l3), the order of the SSE sequence above. */
static inline float vf_hsum(vf v) {
    vf t = vaddq_f32(v, vextq_f32(v, v, 2));
    return vgetq_lane_f32(t, 0) + vgetq_lane_f32(t, 1);
}
static inline void vf_hsums4(vf a, vf b, vf c, vf d, float *out) { /* out[u] = vf_hsum(u-th), bit for bit */
    vf ab = vaddq_f32(vcombine_f32(vget_low_f32(a), vget_low_f32(b)), vcombine_f32(vget_high_f32(a), vget_high_f32(b)));
    vf cd = vaddq_f32(vcombine_f32(vget_low_f32(c), vget_low_f32(d)), vcombine_f32(vget_high_f32(c), vget_high_f32(d)));
    vst1q_f32(out, vaddq_f32(vuzp1q_f32(ab, cd), vuzp2q_f32(ab, cd)));
}
static inline float vf_hmax(vf v) {
    vf t = vf_max(v, vextq_f32(v, v, 2));
    float a = vgetq_lane_f32(t, 0), b = vgetq_lane_f32(t, 1);
    return a > b ? a : b;
}

#else
#error "simd.h: no mapping for this target and DSP_SIMD_WIDTH"
#endif

#if DSP_SIMD_WIDTH == 4
static inline void vf_hsums8(vf s0, vf s1, vf s2, vf s3, vf s4, vf s5, vf s6, vf s7, float *out) {
    vf_hsums4(s0, s1, s2, s3, out);
    vf_hsums4(s4, s5, s6, s7, out + 4);
}
#endif

#endif
