/* objective_flags.c — see objective_flags.h. */
#include "objective_flags.h"

#include <stdio.h>

int objective_from_flags(const objective_flags *f, const arg_spec *specs, int n, dsp_objective *out, dsp_err *err) {
    dsp_objective_kind kind;
    const char *name = f->name ? f->name : "infonce";
    if (dsp_objective_parse(name, &kind))
        return dsp_fail(err, "unknown objective '%s' (infonce, au, dcl, dclp, mpt, met, mat)", name);
    *out = dsp_objective_default(kind);
    if (args_seen(specs, n, "tau")) out->tau = f->tau;
    if (args_seen(specs, n, "lambda")) out->lambda = f->lambda;
    if (args_seen(specs, n, "alpha")) out->alpha = f->alpha;
    if (args_seen(specs, n, "unif-t")) out->t = f->unif_t;
    if (args_seen(specs, n, "margin")) out->margin = f->margin;
    out->per_anchor = f->per_anchor;
    /* a flag the objective does not read is most likely a mistake (--tau with au): say so rather than ignore it */
    static const struct { const char *flag; unsigned kinds; } uses[] = {
        {"tau", 1u << DSP_OBJ_INFONCE | 1u << DSP_OBJ_DCL | 1u << DSP_OBJ_DCLP},
        {"lambda", 1u << DSP_OBJ_AU}, {"alpha", 1u << DSP_OBJ_AU}, {"unif-t", 1u << DSP_OBJ_AU},
        {"margin", 1u << DSP_OBJ_MPT | 1u << DSP_OBJ_MET | 1u << DSP_OBJ_MAT},
        {"per-anchor", 1u << DSP_OBJ_MPT | 1u << DSP_OBJ_MET | 1u << DSP_OBJ_MAT},
    };
    char why[64];
    snprintf(why, sizeof why, "does not apply to the %s objective", name);
    for (size_t i = 0; i < sizeof uses / sizeof uses[0]; i++)
        args_warn_ignored(specs, n, uses[i].flag, !(uses[i].kinds & 1u << kind), why);
    return dsp_objective_validate(out, err);
}
