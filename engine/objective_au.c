/* objective_au.c — alignment + uniformity (Wang & Isola 2020) as the paper's official code weights it
 * (spec §2, §3):
 *     L = (1−λ)·(1/N) Σ_i ‖h_i − h'_i‖^α  +  λ·(2t + ½[U(H) + U(H')]),
 *     U(X) = log( mean over pairs i<j of e^{−t‖x_i − x_j‖²} )   (within one view).
 * Gradients on the anchors (the registry reports them as the positive / negative paths):
 *     alignment   (1−λ)(α/N)‖h_i − h'_i‖^{α−2}(h_i − h'_i)          (minus that on h'_i)
 *     uniformity  −λ·t·Σ_{j≠i} w_ij (x_i − x_j), w_ij = e^{−t‖x_i−x_j‖²} / Σ_{k<l} e^{−t‖x_k−x_l‖²}
 * No factor ever dissipates: the uniformity weights always sum to 1.
 * U is a log-sum-exp over the pairs, so a large t (the paper's script uses 6) or a collapsed batch never
 * underflows to log 0. Distances are computed from differences, as torch.pdist does. */
#include "objective_impl.h"

#include "mathd.h"

#include <math.h>
#include <string.h>

/* U(X) for X [N, D]; adds coef·∂U/∂x_i to grad [N, D]. v [N, N] is scratch (upper triangle used). */
static double uniformity(const double *X, int N, int D, double t, double coef, double *grad, double *v) {
    double vmax = -INFINITY;
    for (int i = 0; i < N; i++) {
        const double *xi = X + (size_t)i * D;
        double *vi = v + (size_t)i * N;
        int j = i + 1;
        for (; j + 4 <= N; j += 4) {
            const double *b = X + (size_t)j * D;
            dsp_obj_sqdist4(xi, b, b + D, b + 2 * (size_t)D, b + 3 * (size_t)D, D, vi + j);
        }
        for (; j < N; j++) {
            const double *xj = X + (size_t)j * D;
            double d2 = 0;
            for (int d = 0; d < D; d++) d2 += (xi[d] - xj[d]) * (xi[d] - xj[d]);
            vi[j] = d2;
        }
        for (j = i + 1; j < N; j++) {
            double e = -t * vi[j];
            vi[j] = e;
            if (e > vmax) vmax = e;
        }
    }
    double z = 0;
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) z += dsp_exp_d(v[(size_t)i * N + j] - vmax);
    const double lse = vmax + dsp_log_d(z);
    const double pairs = 0.5 * (double)N * (double)(N - 1);
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) {
            /* d/dx_i of −t‖x_i − x_j‖² is −2t(x_i − x_j); the pair's softmax weight is w. */
            double w = dsp_exp_d(v[(size_t)i * N + j] - lse);
            double c = coef * -2.0 * t * w;
            const double *xi = X + (size_t)i * D, *xj = X + (size_t)j * D;
            double *gi = grad + (size_t)i * D, *gj = grad + (size_t)j * D;
            for (int d = 0; d < D; d++) {
                double diff = c * (xi[d] - xj[d]);
                gi[d] += diff;
                gj[d] -= diff;
            }
        }
    return lse - dsp_log_d(pairs);
}

double dsp_obj_au(const dsp_obj_input *in, double *pos, double *neg, double *dhp, double *scratch) {
    const int N = in->N, D = in->D;
    const double lambda = in->o->lambda, alpha = in->o->alpha, t = in->o->t;
    const size_t nd = (size_t)N * D;
    memset(neg, 0, nd * sizeof(double));
    memset(dhp, 0, nd * sizeof(double));

    /* Alignment. α = 2 (the default) is smooth everywhere and needs no guard. */
    double align = 0;
    for (int i = 0; i < N; i++) {
        const double *hi = in->h + (size_t)i * D, *hpi = in->hp + (size_t)i * D;
        double *p = pos + (size_t)i * D, *q = dhp + (size_t)i * D;
        double r2 = 0;
        for (int d = 0; d < D; d++) r2 += (hi[d] - hpi[d]) * (hi[d] - hpi[d]);
        double r = sqrt(r2), c;
        if (alpha == 2.0) {
            align += r2;
            c = 2.0;
        } else {
            align += dsp_pow_d(r, alpha);
            c = r >= DSP_OBJ_ALIGN_RMIN ? alpha * dsp_pow_d(r, alpha - 2.0) : 0.0;
        }
        c *= (1.0 - lambda) / N;
        for (int d = 0; d < D; d++) {
            p[d] = c * (hi[d] - hpi[d]);
            q[d] = -p[d];
        }
    }
    align /= N;

    /* Uniformity, ½ for each view. */
    double u1 = uniformity(in->h, N, D, t, 0.5 * lambda, neg, scratch);
    double u2 = uniformity(in->hp, N, D, t, 0.5 * lambda, dhp, scratch);
    return (1.0 - lambda) * align + lambda * (2.0 * t + 0.5 * (u1 + u2));
}
