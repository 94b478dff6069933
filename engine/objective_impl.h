/* objective_impl.h — internal interface between the objective registry (objectives.c) and the three
 * objective families (objective_infonce.c, objective_au.c, objective_margin.c). Not part of the public API.
 *
 * Every objective except `au` acts on h, h' only through the cross-view cosines s_ij = h_i·h'_j, so those
 * families return the loss and G = ∂L/∂S; the registry turns G into gradients (∂L/∂h_i = Σ_j g_ij h'_j,
 * ∂L/∂h'_j = Σ_i g_ij h_i) and splits ∂L/∂h_i into the positive path (g_ii h'_i) and the negative path
 * (Σ_{j≠i} g_ij h'_j). `au` works on differences h_i − h'_i, h_i − h_j, so it writes its own split. */
#ifndef DSP_OBJECTIVE_IMPL_H
#define DSP_OBJECTIVE_IMPL_H

#include "dissipate.h"

/* Guards of the hard forms (spec §2: "guard √ and arccos at s = 1 and d = 0").
 * A Euclidean distance is floored at 1e-4 (as the follow-up code does); the cosine fed to arccos is kept in
 * [−1 + δ, 1 − δ] with δ = 1e-4²/2, the same point on the sphere (θ ≈ d there). Inside a clamp the value is
 * constant, so its derivative is 0: loss and gradient stay consistent and finite. */
#define DSP_OBJ_DIST_MIN 1e-4
#define DSP_OBJ_COS_EDGE (0.5 * DSP_OBJ_DIST_MIN * DSP_OBJ_DIST_MIN)

/* `au` alignment: below this distance ‖h_i − h'_i‖ its gradient α‖·‖^{α−2}(h_i − h'_i) is taken as 0.
 * For α ≥ 2 the true value is already below α·1e-12; for α < 1 the function has a cusp at 0 and 0 is its
 * (Clarke) subgradient at the minimum; either way no power of a vanishing number can overflow. */
#define DSP_OBJ_ALIGN_RMIN 1e-12

/* Four sums over d at once: a_i·b_j for four j (dot4), or ‖a_i − b_j‖² (sqdist4). Each sum adds its D terms in
 * increasing d, exactly as the one-at-a-time loop does, so the bits are the same; four independent chains keep
 * the adder busy where one chain waits on each add's latency (the similarity matrix is most of an objective's
 * cost otherwise). */
static inline void dsp_obj_dot4(const double *a, const double *b0, const double *b1, const double *b2,
                                const double *b3, int D, double out[4]) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int d = 0; d < D; d++) {
        s0 += a[d] * b0[d];
        s1 += a[d] * b1[d];
        s2 += a[d] * b2[d];
        s3 += a[d] * b3[d];
    }
    out[0] = s0, out[1] = s1, out[2] = s2, out[3] = s3;
}

static inline void dsp_obj_sqdist4(const double *a, const double *b0, const double *b1, const double *b2,
                                   const double *b3, int D, double out[4]) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int d = 0; d < D; d++) {
        s0 += (a[d] - b0[d]) * (a[d] - b0[d]);
        s1 += (a[d] - b1[d]) * (a[d] - b1[d]);
        s2 += (a[d] - b2[d]) * (a[d] - b2[d]);
        s3 += (a[d] - b3[d]) * (a[d] - b3[d]);
    }
    out[0] = s0, out[1] = s1, out[2] = s2, out[3] = s3;
}

/* What every family reads. */
typedef struct {
    const dsp_objective *o;
    int N, D;
    const double *h;   /* [N, D] view 1 (anchors) */
    const double *hp;  /* [N, D] view 2 (positives) */
    const double *S;   /* [N, N] s_ij = h_i · h'_j */
} dsp_obj_input;

/* Soft forms: infonce, dcl, dclp. Writes G [N, N] (every entry), returns L; *gd = mean dissipation factor
 * (NAN for dcl). */
double dsp_obj_soft(const dsp_obj_input *in, double *G, double *gd);

/* Hard forms: mpt, met, mat, column-wise with floors or row-wise (o->per_anchor). Writes G [N, N] (every
 * entry), returns L; *gd = fraction of active hinges. */
double dsp_obj_margin(const dsp_obj_input *in, double *G, double *gd);

/* Alignment + uniformity. Writes pos [N, D] (alignment part of ∂L/∂h), neg [N, D] (uniformity part of
 * ∂L/∂h) and dhp [N, D] (∂L/∂h', both parts); scratch holds N·N doubles. Returns L. */
double dsp_obj_au(const dsp_obj_input *in, double *pos, double *neg, double *dhp, double *scratch);

/* The evaluation with ∂L/∂h kept in its two paths: dh_pos + dh_neg = ∂L/∂h (what dsp_objective_eval returns
 * as dh). Any output may be NULL. Same errors as dsp_objective_eval. */
int dsp_objective_eval_split(const dsp_objective *o, const double *h, const double *hp, int N, int D,
                             double *dh_pos, double *dh_neg, double *dhp, dsp_objective_diag *diag, dsp_err *err);

#endif
