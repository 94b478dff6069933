/* objective_margin.c — the hard forms: mpt, met, mat (spec §2, §3).
 *
 * Each is a triplet hinge between the positive pair and the single hardest negative, written with a distance
 * φ(s) that decreases with the cosine s:
 *     mpt  φ(s) = −s               margin m       floor φ = 0    (cosine 0)
 *     met  φ(s) = √(2 − 2s)        margin m       floor φ = 2    (largest distance: changes nothing)
 *     mat  φ(s) = arccos s         margin m·π     floor φ = π/2  (angle of orthogonal vectors)
 * Default (official code, per positive, column-wise): for each positive h'_j
 *     ℓ_j = max(0, margin + φ(s_jj) − min(floor, min_{k≠j} φ(s_kj)))
 * where k runs over the other anchors h_k against the fixed h'_j; the floor is what the official code's
 * diagonal mask leaves in the min/max. per_anchor = 1 (UnderstandingCSE): for each anchor h_i
 *     ℓ_i = max(0, margin + φ(s_ii) − min_{j≠i} φ(s_ij))     (no floor).
 * L = mean of ℓ (inactive hinges count as zeros). Only the positive pair and the one chosen negative get
 * gradient, and only while the hinge is active (argument > 0 strictly):
 *     g_pos = φ'(s_pos)/N,   g_neg = −φ'(s_neg)/N.
 * GD_j = 1[ℓ_j > 0].
 *
 * Subgradient choices, deterministic: among exactly tied negatives the lowest index is the hardest; a negative
 * exactly at the floor loses to the floor (no gradient, as the derivative of max(0, s) at 0 is taken as 0);
 * a hinge exactly at 0 is inactive. φ is defined through s for free (unnormalised) h too, so the loss is a
 * function of h, h' everywhere; on the sphere √(2 − 2s) = ‖h − h'‖ and arccos s is the angle, as in the code.
 * The √ and arccos are guarded at s = ±1 (see objective_impl.h): inside the guard φ is constant, φ' = 0. */
#include "objective_impl.h"

#include "mathd.h"

#include <math.h>

typedef struct {
    double value;   /* φ(s) */
    double slope;   /* dφ/ds */
} phi_t;

static phi_t phi_cos(double s) { return (phi_t){-s, -1.0}; }

static phi_t phi_euclid(double s) {
    double q = 2.0 - 2.0 * s;
    if (!(q > DSP_OBJ_DIST_MIN * DSP_OBJ_DIST_MIN)) return (phi_t){DSP_OBJ_DIST_MIN, 0.0};
    double d = sqrt(q);
    return (phi_t){d, -1.0 / d};
}

static phi_t phi_angle(double s) {
    const double hi = 1.0 - DSP_OBJ_COS_EDGE;
    if (s > hi) return (phi_t){dsp_acos_d(hi), 0.0};
    if (s < -hi) return (phi_t){dsp_acos_d(-hi), 0.0};
    /* 1 − s² as (1 − s)(1 + s): no cancellation near s = ±1. */
    return (phi_t){dsp_acos_d(s), -1.0 / sqrt((1.0 - s) * (1.0 + s))};
}

static phi_t phi_of(dsp_objective_kind kind, double s) {
    return kind == DSP_OBJ_MPT ? phi_cos(s) : kind == DSP_OBJ_MET ? phi_euclid(s) : phi_angle(s);
}

double dsp_obj_margin(const dsp_obj_input *in, double *G, double *gd) {
    const int N = in->N;
    const dsp_objective *o = in->o;
    const double *S = in->S;   /* [N, N] */
    const double pi = 3.14159265358979323846;
    const double margin = o->kind == DSP_OBJ_MAT ? o->margin * pi : o->margin;
    const double floor_phi = o->kind == DSP_OBJ_MPT ? 0.0 : o->kind == DSP_OBJ_MET ? 2.0 : pi / 2;
    const int per_anchor = o->per_anchor;

    for (size_t k = 0; k < (size_t)N * N; k++) G[k] = 0;
    double loss = 0;
    int active = 0;
    for (int a = 0; a < N; a++) {
        /* Entry (r, c) of S holding the negative k for this loss term: row a when per anchor, column a else. */
        size_t best_at = 0;
        int have_neg = 0;
        double best = per_anchor ? INFINITY : floor_phi;
        phi_t best_phi = {0, 0};
        for (int k = 0; k < N; k++) {
            if (k == a) continue;
            size_t at = per_anchor ? (size_t)a * N + k : (size_t)k * N + a;
            phi_t p = phi_of(o->kind, S[at]);
            if (p.value < best) {   /* strict: ties keep the lower index, and the floor wins its ties */
                best = p.value;
                best_phi = p;
                best_at = at;
                have_neg = 1;
            }
        }
        size_t pos_at = (size_t)a * N + a;
        phi_t pp = phi_of(o->kind, S[pos_at]);
        double arg = margin + pp.value - best;
        if (!(arg > 0)) continue;
        loss += arg;
        active++;
        G[pos_at] += pp.slope / N;
        if (have_neg) G[best_at] -= best_phi.slope / N;
    }
    *gd = (double)active / N;
    return loss / N;
}
