/* profile.h — where a training step's wall time goes, part by part (`dissipate bench --profile`).
 *
 * A part is a named span of the step: a public kernel (kernels.c times every dispatch under the kernel's name), a
 * per-sequence pass of the encoder, the objective, the gradient norm, the optimizer. Parts nest — a kernel that calls
 * another, or the optimizer's vector kernel inside "optimizer" — and a nested span counts once, under the outermost
 * name, so the parts never add up to more than the step. Only the thread that calls the kernels records (pool tasks
 * never reach a public kernel); a NULL profile costs one pointer test. Measuring reads the clock twice per part, about
 * a hundred times a step: tens of microseconds against tens of milliseconds. */
#ifndef DSP_PROFILE_H
#define DSP_PROFILE_H

#define DSP_PROF_PARTS 40

typedef struct {
    const char *name; /* a string literal (compared by content) */
    double ms;
    long calls;
} dsp_prof_part;

typedef struct dsp_prof {
    dsp_prof_part part[DSP_PROF_PARTS];
    int n_parts;
    int dropped; /* spans whose name found no free slot (counted, never silently merged) */
    int depth;   /* open spans; only the outermost is timed */
    double t0;   /* when the outermost open span began, ms */
} dsp_prof;

void dsp_prof_reset(dsp_prof *p);
/* A span: begin, then end with its name. Both do nothing on a NULL profile. */
void dsp_prof_begin(dsp_prof *p);
void dsp_prof_end(dsp_prof *p, const char *name);
/* The part of that name, or NULL if it never ran. */
const dsp_prof_part *dsp_prof_find(const dsp_prof *p, const char *name);

#endif
