/* sampler.c — seeded epoch shuffles (see sampler.h). */
#include "sampler.h"

#include "dissipate.h"

#include <stdlib.h>

int dsp_sampler_init(dsp_sampler *s, int n, uint64_t seed) {
    s->n = n;
    s->seed = seed;
    s->epoch = -1;
    s->perm = malloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    return s->perm ? 0 : -1;
}

void dsp_sampler_free(dsp_sampler *s) {
    free(s->perm);
    s->perm = NULL;
}

/* Fisher–Yates with the counter-based generator. */
static void shuffle(dsp_sampler *s, int epoch) {
    for (int i = 0; i < s->n; i++) s->perm[i] = i;
    for (int i = s->n - 1; i > 0; i--) {
        uint64_t r = dsp_hash64(s->seed, 0x73687566666c65ULL /* "shuffle" */ + (uint64_t)epoch, (uint64_t)i);
        int j = (int)(r % (uint64_t)(i + 1));
        int tmp = s->perm[i];
        s->perm[i] = s->perm[j];
        s->perm[j] = tmp;
    }
    s->epoch = epoch;
}

int dsp_sampler_at(dsp_sampler *s, long long pos, int *epoch) {
    int e = (int)(pos / s->n);
    if (e != s->epoch) shuffle(s, e);
    if (epoch) *epoch = e;
    return s->perm[pos % s->n];
}
