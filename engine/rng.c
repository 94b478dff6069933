/* rng.c — a counter-based generator. A value is a pure function of (seed, stream, index), so dropout masks,
 * shuffles and initialisations do not depend on call order, thread count or host: the browser and the native
 * build draw the same numbers, and a backward pass regenerates a forward's mask instead of storing it. */
#include "dissipate.h"

#include <math.h>

/* SplitMix64's finaliser: a bijective mixer with full avalanche. Applied twice over the folded inputs. */
static inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t dsp_hash64(uint64_t seed, uint64_t stream, uint64_t index) {
    uint64_t k = mix64(seed + 0x9e3779b97f4a7c15ULL);
    k = mix64(k ^ (stream * 0xd1b54a32d192ed03ULL + 0x8cb92ba72f3d8dd7ULL));
    return mix64(k ^ (index * 0x9e3779b97f4a7c15ULL));
}

float dsp_uniform(uint64_t seed, uint64_t stream, uint64_t index) {
    return (float)(dsp_hash64(seed, stream, index) >> 40) * (1.0f / 16777216.0f);
}

float dsp_normal(uint64_t seed, uint64_t stream, uint64_t index) {
    /* Box-Muller on two independent draws; u1 in (0, 1] keeps the log finite. Computed in double so that
     * the result is the same wherever libm's double log/cos/sqrt are correctly rounded to float. */
    uint64_t a = dsp_hash64(seed, stream, 2 * index), b = dsp_hash64(seed, stream, 2 * index + 1);
    double u1 = ((double)(a >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(b >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}
