/* rng.c — a counter-based generator. A value is a pure function of (seed, stream, index), so dropout masks,
 * shuffles and initialisations do not depend on call order, thread count or host: the browser and the native
 * build draw the same numbers, and a backward pass regenerates a forward's mask instead of storing it. */
#include "dissipate.h"
#include "rng_inline.h"

#include <math.h>

uint64_t dsp_hash64(uint64_t seed, uint64_t stream, uint64_t index) {
    return dsp_keyed_hash64(dsp_stream_key(seed, stream), index);
}

float dsp_uniform(uint64_t seed, uint64_t stream, uint64_t index) { return dsp_uniform_inline(seed, stream, index); }

float dsp_normal(uint64_t seed, uint64_t stream, uint64_t index) {
    /* Box-Muller on two independent draws; u1 in (0, 1] keeps the log finite. Computed in double so that
     * the result is the same wherever libm's double log/cos/sqrt are correctly rounded to float. */
    uint64_t a = dsp_hash64(seed, stream, 2 * index), b = dsp_hash64(seed, stream, 2 * index + 1);
    double u1 = ((double)(a >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(b >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}
