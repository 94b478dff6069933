/* objective_flags.c — see objective_flags.h. */
#include "objective_flags.h"

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
    return dsp_objective_validate(out, err);
}
