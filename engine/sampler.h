/* sampler.h — the endless sequence of shuffled epochs over a corpus: position p of the stream is sentence
 * perm_e[p mod n] of epoch e = p / n, where epoch e's order depends only on (seed, e). Shared by the SimCSE trainer
 * and MLM pre-training. */
#ifndef DSP_SAMPLER_H
#define DSP_SAMPLER_H

#include <stdint.h>

typedef struct {
    int *perm;
    int n, epoch;
    uint64_t seed;
} dsp_sampler;

int dsp_sampler_init(dsp_sampler *s, int n, uint64_t seed); /* 0, or -1 when out of memory */
void dsp_sampler_free(dsp_sampler *s);
/* The sentence at stream position pos (>= 0); *epoch (may be NULL) receives its epoch. */
int dsp_sampler_at(dsp_sampler *s, long long pos, int *epoch);

#endif
