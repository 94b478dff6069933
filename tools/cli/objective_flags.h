/* objective_flags.h — the objective's name and hyper-parameter flags, shared by `train` and `parity-dump`:
 * a flag given overrides the objective's spec default; one left out keeps it. */
#ifndef DSP_OBJECTIVE_FLAGS_H
#define DSP_OBJECTIVE_FLAGS_H

#include "args.h"

typedef struct {
    const char *name;
    double tau, lambda, alpha, unif_t, margin;
    int per_anchor;
} objective_flags;

#define OBJECTIVE_FLAG_SPECS(f)                                                                                    \
    {"objective", ARG_STR, &(f).name, "NAME", "infonce | au | dcl | dclp | mpt | met | mat (default infonce)", 0, 0}, \
    {"tau", ARG_DOUBLE, &(f).tau, "X", "temperature of infonce, dcl, dclp (default 0.05)", 0, 0},                  \
    {"lambda", ARG_DOUBLE, &(f).lambda, "X", "au: weight of uniformity in [0, 1] (default 0.5)", 0, 0},            \
    {"alpha", ARG_DOUBLE, &(f).alpha, "X", "au: alignment exponent (default 2)", 0, 0},                           \
    {"unif-t", ARG_DOUBLE, &(f).unif_t, "X", "au: uniformity temperature t (default 2; the paper's script: 6)", 0, 0}, \
    {"margin", ARG_DOUBLE, &(f).margin, "X", "mpt/met/mat margin (defaults 0.09 / 0.44 / 0.15)", 0, 0},           \
    {"per-anchor", ARG_BOOL, &(f).per_anchor, NULL, "mpt/met/mat: hardest negative per anchor, without floors", 0, 0}

/* The objective named by f->name with the given flags applied; validates it. */
int objective_from_flags(const objective_flags *f, const arg_spec *specs, int n, dsp_objective *out, dsp_err *err);

#endif
