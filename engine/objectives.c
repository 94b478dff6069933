/* objectives.c — the objective registry: names, defaults, validation, the shared similarity matrix, dispatch
 * to the three families, the positive/negative split of ∂L/∂h for the diagnostics (spec §4), and the L2
 * normalisation that sits between the encoder and every objective.
 *
 * The families live one per file so that a reader finds each gradient by name:
 *   objective_infonce.c  infonce, dcl, dclp   (soft forms over all negatives)
 *   objective_au.c       au                   (alignment + uniformity)
 *   objective_margin.c   mpt, met, mat        (hard forms on the hardest negative) */
#include "objective_impl.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- names, defaults, validation */

static const char *const objective_names[DSP_OBJ_COUNT] = {"infonce", "au", "dcl", "dclp", "mpt", "met", "mat"};

const char *dsp_objective_name(dsp_objective_kind k) {
    return (k >= 0 && k < DSP_OBJ_COUNT) ? objective_names[k] : "unknown";
}

int dsp_objective_parse(const char *name, dsp_objective_kind *out) {
    if (!name) return -1;
    for (int k = 0; k < DSP_OBJ_COUNT; k++)
        if (strcmp(name, objective_names[k]) == 0) {
            if (out) *out = (dsp_objective_kind)k;
            return 0;
        }
    return -1;
}

/* Every field is filled for every kind, so that switching kind in a UI keeps sensible values. The margins are
 * the paper's (mpt 0.09, met 0.44 as in its script, mat 0.15 of π); the official loss.py defaults met to 0.45. */
dsp_objective dsp_objective_default(dsp_objective_kind k) {
    dsp_objective o;
    memset(&o, 0, sizeof o);
    o.kind = k;
    o.tau = 0.05;
    o.lambda = 0.5;
    o.alpha = 2.0;
    o.t = 2.0;
    o.margin = k == DSP_OBJ_MET ? 0.44 : k == DSP_OBJ_MAT ? 0.15 : 0.09;
    o.per_anchor = 0;
    return o;
}

/* The largest alignment exponent accepted: ‖h − h'‖ ≤ 2 on the sphere, so 2^64 bounds the loss far from
 * overflow; Wang & Isola use α = 2. */
#define DSP_OBJ_ALPHA_MAX 64.0

int dsp_objective_validate(const dsp_objective *o, dsp_err *err) {
    if (!o) return dsp_fail(err, "objective: no parameters given");
    if (o->kind < 0 || o->kind >= DSP_OBJ_COUNT)
        return dsp_fail(err, "objective: unknown kind %d (expected infonce, au, dcl, dclp, mpt, met or mat)",
                        (int)o->kind);
    const char *name = dsp_objective_name(o->kind);
    switch (o->kind) {
    case DSP_OBJ_INFONCE:
    case DSP_OBJ_DCL:
    case DSP_OBJ_DCLP:
        if (!(o->tau > 0) || !isfinite(o->tau))
            return dsp_fail(err, "objective %s: tau = %g must be a finite number > 0", name, o->tau);
        break;
    case DSP_OBJ_AU:
        if (!(o->lambda >= 0 && o->lambda <= 1))
            return dsp_fail(err, "objective au: lambda = %g must be in [0, 1]", o->lambda);
        if (!(o->alpha > 0 && o->alpha <= DSP_OBJ_ALPHA_MAX))
            return dsp_fail(err, "objective au: alpha = %g must be in (0, %g]", o->alpha, DSP_OBJ_ALPHA_MAX);
        if (!(o->t > 0 && o->t <= 1e6)) /* far past any use (the paper: 2 and 6); 2t must stay finite */
            return dsp_fail(err, "objective au: t = %g must be in (0, 1e6]", o->t);
        break;
    case DSP_OBJ_MPT:
    case DSP_OBJ_MET:
    case DSP_OBJ_MAT:
        if (!(o->margin >= 0) || !isfinite(o->margin))
            return dsp_fail(err, "objective %s: margin = %g must be a finite number >= 0", name, o->margin);
        if (o->per_anchor != 0 && o->per_anchor != 1)
            return dsp_fail(err, "objective %s: per_anchor = %d must be 0 or 1", name, o->per_anchor);
        break;
    default:
        break;
    }
    return 0;
}

/* ---------------------------------------------------------------- evaluation */

static int check_finite_rows(const double *x, int N, int D, const char *what, const char *name, dsp_err *err) {
    for (size_t k = 0; k < (size_t)N * (size_t)D; k++)
        if (!isfinite(x[k]))
            return dsp_fail(err, "objective %s: %s[%zu][%zu] = %g is not finite", name, what, k / (size_t)D,
                            k % (size_t)D, x[k]);
    return 0;
}

static double dot(const double *a, const double *b, int D) {
    double s = 0;
    for (int d = 0; d < D; d++) s += a[d] * b[d];
    return s;
}

static double norm2(const double *a, int D) { return sqrt(dot(a, a, D)); }

/* y[d] += Σ_k c[k]·X[idx[k]][d] for d < D, adding the n terms one at a time in k order (four rows per pass
 * over y, which keeps that order and loads and stores y a quarter as often). */
static void add_rows(double *restrict y, const double *X, int D, const int *idx, const double *c, int n) {
    int k = 0;
    for (; k + 4 <= n; k += 4) {
        const double *r0 = X + (size_t)idx[k] * D, *r1 = X + (size_t)idx[k + 1] * D;
        const double *r2 = X + (size_t)idx[k + 2] * D, *r3 = X + (size_t)idx[k + 3] * D;
        const double c0 = c[k], c1 = c[k + 1], c2 = c[k + 2], c3 = c[k + 3];
        for (int d = 0; d < D; d++) y[d] = (((y[d] + c0 * r0[d]) + c1 * r1[d]) + c2 * r2[d]) + c3 * r3[d];
    }
    for (; k < n; k++) {
        const double *r = X + (size_t)idx[k] * D;
        for (int d = 0; d < D; d++) y[d] += c[k] * r[d];
    }
}

/* From G = ∂L/∂S: ∂L/∂h_i split into the positive path g_ii h'_i and the negative path Σ_{j≠i} g_ij h'_j,
 * and ∂L/∂h'_j = Σ_i g_ij h_i. Zero entries are skipped (in the hard forms most g_ij are exactly 0).
 * scratch: N ints and N doubles. */
static void gradients_from_G(const dsp_obj_input *in, const double *G, double *pos, double *neg, double *dhp,
                             int *idx, double *coef) {
    const int N = in->N, D = in->D;
    for (int i = 0; i < N; i++) {
        const double *g = G + (size_t)i * N;   /* row i of G [N] */
        double *p = pos + (size_t)i * D, *q = neg + (size_t)i * D;
        for (int d = 0; d < D; d++) {
            p[d] = g[i] * in->hp[(size_t)i * D + d];
            q[d] = 0;
        }
        int n = 0;
        for (int j = 0; j < N; j++)
            if (j != i && g[j] != 0) idx[n] = j, coef[n++] = g[j];
        add_rows(q, in->hp, D, idx, coef, n);
    }
    for (int j = 0; j < N; j++) {
        double *dj = dhp + (size_t)j * D;
        int n = 0;
        for (int i = 0; i < N; i++)
            if (G[(size_t)i * N + j] != 0) idx[n] = i, coef[n++] = G[(size_t)i * N + j];
        memset(dj, 0, sizeof(double) * (size_t)D);
        add_rows(dj, in->h, D, idx, coef, n);
    }
}

/* Diagnostics of spec §4 that do not depend on the family: cosines and the per-anchor gradient norms. */
static void fill_diag(dsp_objective_diag *diag, const dsp_obj_input *in, const double *pos, const double *neg) {
    const int N = in->N, D = in->D;
    double pc = 0, nc = 0, gh = 0, gp = 0, gn = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) *(i == j ? &pc : &nc) += in->S[(size_t)i * N + j];
    for (int i = 0; i < N; i++) {
        const double *p = pos + (size_t)i * D, *q = neg + (size_t)i * D;
        double tot = 0;
        for (int d = 0; d < D; d++) tot += (p[d] + q[d]) * (p[d] + q[d]);
        gh += sqrt(tot);
        gp += norm2(p, D);
        gn += norm2(q, D);
    }
    diag->pos_cos = pc / N;
    diag->neg_cos = nc / ((double)N * (N - 1));
    /* mean_i ‖N·∂L/∂h_i‖ = Σ_i ‖∂L/∂h_i‖: the N undoes the 1/N of the mean over anchors. */
    diag->grad_h = gh;
    diag->grad_h_pos = gp;
    diag->grad_h_neg = gn;
}

static int all_finite(const double *x, size_t n) {
    for (size_t k = 0; k < n; k++)
        if (!isfinite(x[k])) return 0;
    return 1;
}

int dsp_objective_eval_split(const dsp_objective *o, const double *h, const double *hp, int N, int D,
                             double *dh_pos, double *dh_neg, double *dhp, dsp_objective_diag *diag, dsp_err *err) {
    if (dsp_objective_validate(o, err) != 0) return -1;
    const char *name = dsp_objective_name(o->kind);
    if (N < 2) return dsp_fail(err, "objective %s: N = %d sentences, a contrastive batch needs at least 2", name, N);
    if (D < 1) return dsp_fail(err, "objective %s: embedding dimension D = %d must be >= 1", name, D);
    if (!h || !hp) return dsp_fail(err, "objective %s: embeddings h and h' must not be NULL", name);
    /* Work: S and G are [N, N]; pos, neg (and dhp when the caller passes none) are [N, D]. Checked in size_t
     * so that a 32-bit (wasm) size_t cannot wrap. */
    const size_t nn = (size_t)N * (size_t)N, nd = (size_t)N * (size_t)D;
    if ((size_t)N > SIZE_MAX / (size_t)N / 8 || (size_t)N > SIZE_MAX / (size_t)D / 8)
        return dsp_fail(err, "objective %s: batch N = %d, D = %d is too large for this host", name, N, D);
    if (check_finite_rows(h, N, D, "h", name, err) || check_finite_rows(hp, N, D, "h'", name, err)) return -1;

    const size_t total = 2 * nn + 3 * nd + 2 * (size_t)N; /* + gradients_from_G's index and coefficient lists */
    if (total > SIZE_MAX / sizeof(double))
        return dsp_fail(err, "objective %s: batch N = %d, D = %d is too large for this host", name, N, D);
    double *work = (double *)malloc(total * sizeof(double));
    if (!work) return dsp_fail(err, "objective %s: out of memory for N = %d, D = %d", name, N, D);
    double *S = work, *G = S + nn;              /* [N, N] each */
    double *pos = G + nn, *neg = pos + nd;      /* [N, D] each */
    double *dhp_w = dhp ? dhp : neg + nd;       /* [N, D] */
    double *coef = neg + 2 * nd;                /* [N] */
    int *idx = (int *)(coef + N);               /* [N] (in N doubles' room) */

    for (int i = 0; i < N; i++) {
        const double *hi = h + (size_t)i * D;
        double *Si = S + (size_t)i * N;
        int j = 0;
        for (; j + 4 <= N; j += 4) {
            const double *b = hp + (size_t)j * D;
            dsp_obj_dot4(hi, b, b + D, b + 2 * (size_t)D, b + 3 * (size_t)D, D, Si + j);
        }
        for (; j < N; j++) Si[j] = dot(hi, hp + (size_t)j * D, D);
    }
    if (!all_finite(S, nn)) {
        free(work);
        return dsp_fail(err, "objective %s: a cosine h_i.h'_j overflowed; rows must be unit length", name);
    }

    dsp_obj_input in = {o, N, D, h, hp, S};
    double loss, gd = NAN;
    switch (o->kind) {
    case DSP_OBJ_INFONCE:
    case DSP_OBJ_DCL:
    case DSP_OBJ_DCLP:
        loss = dsp_obj_soft(&in, G, &gd);
        gradients_from_G(&in, G, pos, neg, dhp_w, idx, coef);
        break;
    case DSP_OBJ_AU:
        loss = dsp_obj_au(&in, pos, neg, dhp_w, G);
        break;
    default: /* mpt, met, mat: validate() rejected anything else */
        loss = dsp_obj_margin(&in, G, &gd);
        gradients_from_G(&in, G, pos, neg, dhp_w, idx, coef);
        break;
    }
    /* The guards should make this unreachable; if they ever fail, say so instead of passing NaN on. */
    if (!isfinite(loss) || !all_finite(pos, 2 * nd) || !all_finite(dhp_w, nd)) {
        free(work);
        return dsp_fail(err, "objective %s: loss or gradient is not finite (loss = %g)", name, loss);
    }
    if (dh_pos) memcpy(dh_pos, pos, nd * sizeof(double));
    if (dh_neg) memcpy(dh_neg, neg, nd * sizeof(double));
    if (diag) {
        diag->loss = loss;
        diag->gd = gd;
        fill_diag(diag, &in, pos, neg);
    }
    free(work);
    return 0;
}

int dsp_objective_eval(const dsp_objective *o, const double *h, const double *hp, int N, int D, double *dh,
                       double *dhp, dsp_objective_diag *diag, dsp_err *err) {
    if (!dh) return dsp_objective_eval_split(o, h, hp, N, D, NULL, NULL, dhp, diag, err);
    if (N < 2 || D < 1) /* let the split report the precise problem before sizing anything */
        return dsp_objective_eval_split(o, h, hp, N, D, NULL, NULL, NULL, NULL, err);
    size_t nd = (size_t)N * (size_t)D;
    if (nd > SIZE_MAX / (2 * sizeof(double)))
        return dsp_fail(err, "objective %s: batch N = %d, D = %d is too large for this host",
                        dsp_objective_name(o ? o->kind : DSP_OBJ_COUNT), N, D);
    double *neg = (double *)malloc(nd * sizeof(double));
    if (!neg) return dsp_fail(err, "objective: out of memory for N = %d, D = %d", N, D);
    int rc = dsp_objective_eval_split(o, h, hp, N, D, dh, neg, dhp, diag, err);
    if (rc == 0)
        for (size_t k = 0; k < nd; k++) dh[k] += neg[k];
    free(neg);
    return rc;
}

/* ---------------------------------------------------------------- L2 normalisation */

/* As torch.nn.functional.normalize: the norm is clamped at 1e-12, so a zero row maps to a zero row instead of
 * NaN. Inside the clamp h = z/1e-12 is linear in z and its backward is dh/1e-12. */
#define DSP_NORM_EPS 1e-12

void dsp_normalize_forward(const double *z, double *h, double *norms, int N, int D) {
    for (int i = 0; i < N; i++) {
        const double *zi = z + (size_t)i * D;   /* [D] */
        double *hi = h + (size_t)i * D;         /* [D] */
        double n = norm2(zi, D);
        if (!(n > DSP_NORM_EPS)) n = DSP_NORM_EPS;
        norms[i] = n;
        for (int d = 0; d < D; d++) hi[d] = zi[d] / n;
    }
}

void dsp_normalize_backward(const double *h, const double *norms, const double *dh, double *dz, int N, int D) {
    for (int i = 0; i < N; i++) {
        const double *hi = h + (size_t)i * D, *gi = dh + (size_t)i * D;
        double *zi = dz + (size_t)i * D;
        double n = norms[i];
        /* Only the tangential part of dh moves h on the sphere: dz = (dh − (h·dh) h)/‖z‖. */
        double proj = n > DSP_NORM_EPS ? dot(hi, gi, D) : 0.0;
        for (int d = 0; d < D; d++) zi[d] = (gi[d] - proj * hi[d]) / n;
    }
}
