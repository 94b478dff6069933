/* rng_inline.h — the counter-based generator of rng.c as inline functions, for the hot loops (dropout masks):
 * inlined, the per-(seed, stream) part of the hash is loop-invariant and the compiler hoists it, leaving one
 * mix per element instead of three. rng.c's public functions are these, so both give the same bits. */
#ifndef DSP_RNG_INLINE_H
#define DSP_RNG_INLINE_H

#include <stdint.h>

/* SplitMix64's constants (the vector form of the hash in kernels_simd.c uses them too). */
#define DSP_MIX64_M1 0xbf58476d1ce4e5b9ULL
#define DSP_MIX64_M2 0x94d049bb133111ebULL
#define DSP_GOLDEN64 0x9e3779b97f4a7c15ULL

/* SplitMix64's finaliser: a bijective mixer with full avalanche. */
static inline uint64_t dsp_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * DSP_MIX64_M1;
    z = (z ^ (z >> 27)) * DSP_MIX64_M2;
    return z ^ (z >> 31);
}

/* The part of the hash that depends only on (seed, stream). */
static inline uint64_t dsp_stream_key(uint64_t seed, uint64_t stream) {
    uint64_t k = dsp_mix64(seed + DSP_GOLDEN64);
    return dsp_mix64(k ^ (stream * 0xd1b54a32d192ed03ULL + 0x8cb92ba72f3d8dd7ULL));
}

static inline uint64_t dsp_keyed_hash64(uint64_t key, uint64_t index) {
    return dsp_mix64(key ^ (index * DSP_GOLDEN64));
}

/* [0, 1) with 24 bits */
static inline float dsp_keyed_uniform(uint64_t key, uint64_t index) {
    return (float)(dsp_keyed_hash64(key, index) >> 40) * (1.0f / 16777216.0f);
}

static inline float dsp_uniform_inline(uint64_t seed, uint64_t stream, uint64_t index) {
    return dsp_keyed_uniform(dsp_stream_key(seed, stream), index);
}

#endif
