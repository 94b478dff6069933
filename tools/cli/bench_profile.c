/* bench_profile.c — the profile table of `dissipate bench --profile` (bench_profile.h). */
#include "bench_profile.h"

#include <stdlib.h>
#include <string.h>

/* A part's name as printed: the public kernels' without the library prefix. */
static const char *shown(const char *name) { return strncmp(name, "dsp_", 4) == 0 ? name + 4 : name; }

static double part_ms(const dsp_prof *p, const char *name) {
    const dsp_prof_part *s = dsp_prof_find(p, name);
    return s ? s->ms : 0.0;
}

/* Every part name that ran at any thread count, in the order of their time at 1 thread (largest first). */
static int collect_names(const dsp_prof *profs, int threads, const char **names) {
    int n = 0;
    for (int t = 0; t < threads; t++)
        for (int i = 0; i < profs[t].n_parts; i++) {
            int seen = 0;
            for (int j = 0; j < n && !seen; j++) seen = strcmp(names[j], profs[t].part[i].name) == 0;
            if (!seen && n < DSP_PROF_PARTS * 4) names[n++] = profs[t].part[i].name;
        }
    for (int i = 1; i < n; i++) /* insertion sort: a few dozen names */
        for (int j = i; j > 0 && part_ms(&profs[0], names[j]) > part_ms(&profs[0], names[j - 1]); j--) {
            const char *x = names[j];
            names[j] = names[j - 1];
            names[j - 1] = x;
        }
    return n;
}

static void print_row(FILE *out, const char *label, const double *ms, const double *step_ms, int threads, int steps) {
    fprintf(out, "  %-28s", label);
    for (int t = 0; t < threads; t++)
        fprintf(out, " %9.2f %6.1f%%", ms[t] / steps, step_ms[t] > 0 ? 100.0 * ms[t] / step_ms[t] : 0.0);
    if (threads > 1) {
        if (ms[threads - 1] > 0) fprintf(out, " %8.2fx", ms[0] / ms[threads - 1]);
        else fprintf(out, " %9s", "-");
    }
    fprintf(out, "\n");
}

void dsp_bench_print_profile(FILE *out, const char *set_name, const dsp_prof *profs, const double *step_ms,
                             int threads, int steps) {
    const char *names[DSP_PROF_PARTS * 4];
    int n = collect_names(profs, threads, names);
    double *ms = calloc((size_t)threads, sizeof *ms), *rest = calloc((size_t)threads, sizeof *rest);
    if (!ms || !rest) {
        free(ms), free(rest);
        fprintf(out, "profile: out of memory\n");
        return;
    }
    fprintf(out, "where the step's time goes (%s; wall ms per step over %d steps and share of the step; a part that "
                 "runs inside another counts under the outer one):\n  %-28s", set_name, steps, "part");
    for (int t = 0; t < threads; t++) {
        char head[32];
        snprintf(head, sizeof head, "%d thread%s", t + 1, t ? "s" : "");
        fprintf(out, " %17s", head);
    }
    if (threads > 1) fprintf(out, " %9s", "speedup");
    fprintf(out, "\n");
    for (int t = 0; t < threads; t++) rest[t] = step_ms[t];
    for (int i = 0; i < n; i++) {
        for (int t = 0; t < threads; t++) {
            ms[t] = part_ms(&profs[t], names[i]);
            rest[t] -= ms[t];
        }
        print_row(out, shown(names[i]), ms, step_ms, threads, steps);
    }
    print_row(out, "(outside every part)", rest, step_ms, threads, steps);
    print_row(out, "step", step_ms, step_ms, threads, steps);
    for (int t = 0; t < threads; t++)
        if (profs[t].dropped)
            fprintf(out, "  (%d thread%s: %d spans found no free slot and are left out)\n", t + 1, t ? "s" : "",
                    profs[t].dropped);
    free(ms);
    free(rest);
}
