/* bench_profile.h — `dissipate bench --profile`: the step's wall time part by part (engine/profile.h), one column
 * per thread count, so that a part that scales worse than the step shows beside it. */
#ifndef DSP_BENCH_PROFILE_H
#define DSP_BENCH_PROFILE_H

#include "profile.h"

#include <stdio.h>

/* profs[i] and step_ms[i] (the summed wall time of the timed steps) for threads i + 1, each over `steps` steps.
 * Prints ms per step and share of the step for every part, largest at 1 thread first, the time outside every part,
 * and each part's speedup from 1 thread to the most. */
void dsp_bench_print_profile(FILE *out, const char *set_name, const dsp_prof *profs, const double *step_ms,
                             int threads, int steps);

#endif
