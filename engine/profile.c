/* profile.c — the step profile's spans (profile.h). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */
#include "profile.h"

#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

void dsp_prof_reset(dsp_prof *p) {
    if (p) memset(p, 0, sizeof *p);
}

void dsp_prof_begin(dsp_prof *p) {
    if (p && p->depth++ == 0) p->t0 = now_ms();
}

static dsp_prof_part *slot_for(dsp_prof *p, const char *name) {
    for (int i = 0; i < p->n_parts; i++)
        if (strcmp(p->part[i].name, name) == 0) return &p->part[i];
    if (p->n_parts == DSP_PROF_PARTS) return NULL;
    dsp_prof_part *s = &p->part[p->n_parts++];
    s->name = name;
    return s;
}

void dsp_prof_end(dsp_prof *p, const char *name) {
    if (!p || p->depth <= 0 || --p->depth > 0) return;
    double ms = now_ms() - p->t0;
    dsp_prof_part *s = slot_for(p, name);
    if (!s) {
        p->dropped++;
        return;
    }
    s->ms += ms;
    s->calls++;
}

const dsp_prof_part *dsp_prof_find(const dsp_prof *p, const char *name) {
    for (int i = 0; p && i < p->n_parts; i++)
        if (strcmp(p->part[i].name, name) == 0) return &p->part[i];
    return NULL;
}
