/* objective_infonce.c — the soft forms: infonce, dcl, dclp (spec §2, §3).
 *
 * All three are one function of the same per-anchor quantity
 *     x_i = −s_ii/τ + log Σ_{j≠i} e^{s_ij/τ}          (DCL's loss: positive against the negatives only)
 *     infonce: ℓ_i = log(1 + e^{x_i})   (= −log p_ii)    GD_i = σ(x_i) = 1 − p_ii
 *     dcl:     ℓ_i = x_i                                 GD_i = 1
 *     dclp:    ℓ_i = max(0, x_i)                         GD_i = 1[x_i > 0]
 * and in each case GD_i = dℓ_i/dx_i, so with q_ij = softmax_{j≠i}(s_ij/τ):
 *     g_ii = ∂L/∂s_ii = −GD_i/(Nτ),   g_ij = GD_i q_ij/(Nτ) (j≠i),
 *     ∂ℓ_i/∂h_i = (GD_i/τ) Σ_{j≠i} q_ij (h'_j − h'_i).
 * This is the paper's reading: InfoNCE is DCL times the dissipation factor 1 − p_ii, which falls to 0 once the
 * positive beats the negatives; dcl removes the factor, dclp replaces it by a hard step.
 *
 * Numerics: exp/log/log1p are mathd.h's (the same bits natively and in WebAssembly); x_i is a log-sum-exp shifted by the largest negative, so τ = 1e-4 (logits of 1e4) is fine; the
 * infonce loss and GD use log1p/exp forms that keep full relative precision when GD is tiny (1e-30 stays
 * 1e-30 instead of rounding 1 − p_ii to 0). */
#include "objective_impl.h"

#include "mathd.h"

#include <math.h>

/* log(1 + e^x) without overflow for large x or loss of precision for very negative x. */
static double softplus(double x) { return x > 0 ? x + dsp_log1p_d(dsp_exp_d(-x)) : dsp_log1p_d(dsp_exp_d(x)); }

/* 1/(1 + e^{−x}) without overflow. */
static double sigmoid(double x) {
    if (x >= 0) return 1.0 / (1.0 + dsp_exp_d(-x));
    double e = dsp_exp_d(x);
    return e / (1.0 + e);
}

double dsp_obj_soft(const dsp_obj_input *in, double *G, double *gd) {
    const int N = in->N;
    const dsp_objective_kind kind = in->o->kind;
    const double tau = in->o->tau;
    double loss = 0, gd_sum = 0;
    for (int i = 0; i < N; i++) {
        const double *s = in->S + (size_t)i * N;   /* row i of S [N] */
        double *g = G + (size_t)i * N;             /* row i of G [N] */
        /* x_i with the log-sum-exp over negatives shifted by their maximum m. */
        double m = -INFINITY;
        for (int j = 0; j < N; j++)
            if (j != i && s[j] > m) m = s[j];
        double z = 0;
        for (int j = 0; j < N; j++) {
            g[j] = j == i ? 0.0 : dsp_exp_d((s[j] - m) / tau);   /* unnormalised q_ij for now */
            z += g[j];
        }
        double x = (m - s[i]) / tau + dsp_log_d(z);

        double l, f;   /* ℓ_i and GD_i = dℓ_i/dx_i */
        if (kind == DSP_OBJ_INFONCE) {
            l = softplus(x);
            f = sigmoid(x);
        } else if (kind == DSP_OBJ_DCL) {
            l = x;
            f = 1.0;
        } else { /* DCLP: hinge at 0; at x = 0 exactly the loss is 0 and so is its (sub)gradient */
            l = x > 0 ? x : 0.0;
            f = x > 0 ? 1.0 : 0.0;
        }
        loss += l;
        gd_sum += f;
        const double scale = f / (N * tau);
        for (int j = 0; j < N; j++) g[j] = j == i ? -scale : g[j] / z * scale;
    }
    *gd = kind == DSP_OBJ_DCL ? NAN : gd_sum / N;
    return loss / N;
}
