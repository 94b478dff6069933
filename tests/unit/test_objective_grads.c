/* test_objective_grads.c — every objective's gradient against float64 central finite differences, and its loss
 * against a direct transcription of the official code (loss.py of ICLR2023_Gradient-Dissipation: masked
 * similarity matrices, torch.max/min over dim 0 for the per-positive hardest negative, pdist for uniformity).
 *
 * Two gradients are checked: ∂L/∂h, ∂L/∂h' with h, h' as free variables (the engine's contract), and the
 * composed ∂L/∂z, ∂L/∂z' through dsp_normalize_* (what the encoder receives).
 * Cases: N = 2 and N = 8; random pairs; h = h' (each positive identical to its anchor); a batch whose rows are
 * all equal (smooth objectives only: for the hard forms every negative ties, a kink); the hard forms just
 * inside and just outside their hinge, in both directions (per positive, per anchor). Hinge objectives are only
 * differentiated where the test's own transcription shows every hinge argument and every hardest-negative gap
 * at least 1e-4 away from a kink, 100× the finite-difference step. */
#include "dissipate.h"
#include "testutil.h"

#define PI 3.14159265358979323846
#define NMAX 8
#define DMAX 16

static dsp_err err;
static unsigned long long seed = 0x1234567887654321ull;

static void unit_rows(double *x, int N, int D) {
    for (int i = 0; i < N; i++) {
        double n = 0;
        for (int d = 0; d < D; d++) n += x[i * D + d] * x[i * D + d];
        for (int d = 0; d < D; d++) x[i * D + d] /= sqrt(n);
    }
}

/* Anchors uniform on the sphere; positives = anchor + noise·(random), renormalised. */
static void random_pairs(double *h, double *hp, int N, int D, double noise) {
    for (int k = 0; k < N * D; k++) h[k] = dsp_test_rand(&seed);
    unit_rows(h, N, D);
    for (int k = 0; k < N * D; k++) hp[k] = h[k] + noise * dsp_test_rand(&seed);
    unit_rows(hp, N, D);
}

/* ---------------------------------------------------------------- the official code, transcribed naively */

static double dotv(const double *a, const double *b, int D) {
    double s = 0;
    for (int d = 0; d < D; d++) s += a[d] * b[d];
    return s;
}

static double dist(const double *a, const double *b, int D) {
    double s = 0;
    for (int d = 0; d < D; d++) s += (a[d] - b[d]) * (a[d] - b[d]);
    return sqrt(s);
}

/* Hinge terms of the hard forms without the margin: arg[j] = φ(pos) − hardest, so ℓ_j = max(0, m' + arg[j]);
 * gap[j] = distance between the hardest and the second hardest candidate (floor included when column-wise). */
static void naive_hard_terms(const dsp_objective *o, const double *h, const double *hp, int N, int D, double *arg,
                             double *gap) {
    for (int a = 0; a < N; a++) {
        double cand[NMAX + 1];
        int nc = 0;
        if (!o->per_anchor) cand[nc++] = o->kind == DSP_OBJ_MPT ? 0.0 : o->kind == DSP_OBJ_MET ? 2.0 : PI / 2;
        for (int k = 0; k < N; k++) {
            if (k == a) continue;
            double s = o->per_anchor ? dotv(h + a * D, hp + k * D, D) : dotv(h + k * D, hp + a * D, D);
            cand[nc++] = o->kind == DSP_OBJ_MPT ? -s : o->kind == DSP_OBJ_MET ? sqrt(2 - 2 * s) : acos(s);
        }
        double best = INFINITY, second = INFINITY;
        for (int c = 0; c < nc; c++) {
            if (cand[c] < best) {
                second = best;
                best = cand[c];
            } else if (cand[c] < second) {
                second = cand[c];
            }
        }
        double pos;
        if (o->kind == DSP_OBJ_MPT) pos = -dotv(h + a * D, hp + a * D, D);
        else if (o->kind == DSP_OBJ_MET) pos = dist(h + a * D, hp + a * D, D);   /* (x − y).norm, as coded */
        else {
            double r = dist(h + a * D, hp + a * D, D);
            pos = acos((2 - r * r) / 2);
        }
        arg[a] = pos - best;
        gap[a] = second - best;
    }
}

static double naive_loss(const dsp_objective *o, const double *h, const double *hp, int N, int D) {
    double L = 0;
    switch (o->kind) {
    case DSP_OBJ_INFONCE:
    case DSP_OBJ_DCL:
    case DSP_OBJ_DCLP:
        for (int i = 0; i < N; i++) {
            /* dcl as coded: the diagonal of the masked logits is 0, so exp() adds 1, and "- 1" removes it. */
            double all = 0, masked = 0, sii = dotv(h + i * D, hp + i * D, D) / o->tau;
            for (int j = 0; j < N; j++) {
                double sij = dotv(h + i * D, hp + j * D, D) / o->tau;
                all += exp(sij);
                masked += exp(j == i ? 0.0 : sij);
            }
            double l = o->kind == DSP_OBJ_INFONCE ? -sii + log(all) : -sii + log(masked - 1);
            if (o->kind == DSP_OBJ_DCLP && l < 0) l = 0;
            L += l;
        }
        return L / N;
    case DSP_OBJ_AU: {
        double align = 0, ux = 0, uy = 0;
        for (int i = 0; i < N; i++) align += pow(dist(h + i * D, hp + i * D, D), o->alpha);
        for (int i = 0; i < N; i++)
            for (int j = i + 1; j < N; j++) {
                double dx = dist(h + i * D, h + j * D, D), dy = dist(hp + i * D, hp + j * D, D);
                ux += exp(-o->t * dx * dx);
                uy += exp(-o->t * dy * dy);
            }
        double pairs = N * (N - 1) / 2.0;
        return (1 - o->lambda) * align / N +
               o->lambda * (2 * o->t + (log(ux / pairs) + log(uy / pairs)) / 2);
    }
    default: {
        double arg[NMAX], gap[NMAX];
        double m = o->kind == DSP_OBJ_MAT ? o->margin * PI : o->margin;
        naive_hard_terms(o, h, hp, N, D, arg, gap);
        for (int a = 0; a < N; a++) L += m + arg[a] > 0 ? m + arg[a] : 0;
        return L / N;
    }
    }
}

/* Smallest distance of the hard form to a kink: a hinge at 0 or a change of hardest negative. */
static double kink_distance(const dsp_objective *o, const double *h, const double *hp, int N, int D) {
    if (o->kind < DSP_OBJ_MPT) return INFINITY;
    double arg[NMAX], gap[NMAX], m = o->kind == DSP_OBJ_MAT ? o->margin * PI : o->margin, kd = INFINITY;
    naive_hard_terms(o, h, hp, N, D, arg, gap);
    for (int a = 0; a < N; a++) {
        double da = fabs(m + arg[a]);
        if (da < kd) kd = da;
        if (m + arg[a] > 0 && gap[a] < kd) kd = gap[a];   /* the choice matters only while the hinge is on */
    }
    return kd;
}

/* ---------------------------------------------------------------- finite differences */

static double loss_at(const dsp_objective *o, const double *h, const double *hp, int N, int D) {
    dsp_objective_diag dg;
    if (dsp_objective_eval(o, h, hp, N, D, NULL, NULL, &dg, &err) != 0) return NAN;
    return dg.loss;
}

/* Largest |FD − analytic| / (1 + |analytic|) over every coordinate of x (which is h or hp, both mutable). */
static double fd_error(const dsp_objective *o, double *h, double *hp, int N, int D, double *x, const double *an) {
    const double eps = 1e-6;
    double worst = 0;
    for (int k = 0; k < N * D; k++) {
        double keep = x[k];
        x[k] = keep + eps;
        double lp = loss_at(o, h, hp, N, D);
        x[k] = keep - eps;
        double lm = loss_at(o, h, hp, N, D);
        x[k] = keep;
        double e = fabs((lp - lm) / (2 * eps) - an[k]) / (1 + fabs(an[k]));
        if (isnan(e) || e > worst) worst = e; /* once NaN, stays NaN (e > NaN is false): a failure */
    }
    return worst;
}

/* Loss as a function of unnormalised z, z'. */
static double loss_z(const dsp_objective *o, const double *z, const double *zp, int N, int D) {
    double h[NMAX * DMAX], hp[NMAX * DMAX], n[NMAX];
    dsp_normalize_forward(z, h, n, N, D);
    dsp_normalize_forward(zp, hp, n, N, D);
    return loss_at(o, h, hp, N, D);
}

static double fd_error_z(const dsp_objective *o, double *z, double *zp, int N, int D, double *x, const double *an) {
    const double eps = 1e-6;
    double worst = 0;
    for (int k = 0; k < N * D; k++) {
        double keep = x[k];
        x[k] = keep + eps;
        double lp = loss_z(o, z, zp, N, D);
        x[k] = keep - eps;
        double lm = loss_z(o, z, zp, N, D);
        x[k] = keep;
        double e = fabs((lp - lm) / (2 * eps) - an[k]) / (1 + fabs(an[k]));
        if (isnan(e) || e > worst) worst = e;
    }
    return worst;
}

static int n_checked = 0;

/* The whole check on one batch: loss vs the transcription, gradients vs FD in h and in z. */
static void check_case(const dsp_objective *o, const double *h0, const double *hp0, int N, int D, const char *what,
                       int check_z) {
    double h[NMAX * DMAX], hp[NMAX * DMAX], dh[NMAX * DMAX], dhp[NMAX * DMAX];
    memcpy(h, h0, sizeof(double) * N * D);
    memcpy(hp, hp0, sizeof(double) * N * D);
    const char *name = dsp_objective_name(o->kind);
    double kd = kink_distance(o, h, hp, N, D);
    CHECK_MSG(kd > 1e-4, "%s %s N=%d pa=%d: test case too close to a kink (%g)", name, what, N, o->per_anchor, kd);

    dsp_objective_diag dg;
    CHECK_OK(dsp_objective_eval(o, h, hp, N, D, dh, dhp, &dg, &err), &err);
    double ref = naive_loss(o, h, hp, N, D);
    CHECK_MSG(fabs(dg.loss - ref) <= 1e-10 * (1 + fabs(ref)), "%s %s N=%d pa=%d: loss %.15g vs official %.15g", name,
              what, N, o->per_anchor, dg.loss, ref);

    double e1 = fd_error(o, h, hp, N, D, h, dh);
    double e2 = fd_error(o, h, hp, N, D, hp, dhp);
    CHECK_MSG(e1 < 1e-6, "%s %s N=%d pa=%d: dL/dh off by %g", name, what, N, o->per_anchor, e1);
    CHECK_MSG(e2 < 1e-6, "%s %s N=%d pa=%d: dL/dh' off by %g", name, what, N, o->per_anchor, e2);

    if (check_z) {
        /* z = h scaled per row (0.5 .. 2): the loss only sees the direction. */
        double z[NMAX * DMAX], zp[NMAX * DMAX], nz[NMAX], nzp[NMAX], hz[NMAX * DMAX], hpz[NMAX * DMAX];
        double dz[NMAX * DMAX], dzp[NMAX * DMAX];
        for (int i = 0; i < N; i++)
            for (int d = 0; d < D; d++) {
                z[i * D + d] = h[i * D + d] * (0.5 + 0.2 * i);
                zp[i * D + d] = hp[i * D + d] * (2.0 - 0.15 * i);
            }
        dsp_normalize_forward(z, hz, nz, N, D);
        dsp_normalize_forward(zp, hpz, nzp, N, D);
        CHECK_OK(dsp_objective_eval(o, hz, hpz, N, D, dh, dhp, NULL, &err), &err);
        dsp_normalize_backward(hz, nz, dh, dz, N, D);
        dsp_normalize_backward(hpz, nzp, dhp, dzp, N, D);
        double e3 = fd_error_z(o, z, zp, N, D, z, dz);
        double e4 = fd_error_z(o, z, zp, N, D, zp, dzp);
        CHECK_MSG(e3 < 1e-6, "%s %s N=%d pa=%d: dL/dz off by %g", name, what, N, o->per_anchor, e3);
        CHECK_MSG(e4 < 1e-6, "%s %s N=%d pa=%d: dL/dz' off by %g", name, what, N, o->per_anchor, e4);
    }
    n_checked++;
}

/* ---------------------------------------------------------------- cases */

/* For a hard form on batch (h, hp), the margin that puts every hinge far from 0 with a mix of on and off:
 * halfway between two consecutive sorted −arg values around the median. Returns 0 if none is 1e-3 clear. */
static int pick_margin(dsp_objective *o, const double *h, const double *hp, int N, int D) {
    double arg[NMAX], gap[NMAX], v[NMAX];
    naive_hard_terms(o, h, hp, N, D, arg, gap);
    for (int a = 0; a < N; a++) v[a] = -arg[a];
    for (int a = 1; a < N; a++)
        for (int b = a; b > 0 && v[b] < v[b - 1]; b--) {
            double t = v[b];
            v[b] = v[b - 1];
            v[b - 1] = t;
        }
    double scale = o->kind == DSP_OBJ_MAT ? PI : 1.0;
    for (int lo = N / 2 - 1, tries = 0; tries < N; tries++, lo = (lo + 1) % (N - 1)) {
        double m = 0.5 * (v[lo] + v[lo + 1]);
        if (m > 0 && v[lo + 1] - v[lo] > 2e-3) {
            o->margin = m / scale;
            return 1;
        }
    }
    /* Every hinge on (margin above the largest −arg), still a valid test. */
    o->margin = (v[N - 1] > 0 ? v[N - 1] : 0) / scale + 0.05;
    return 1;
}

static void test_random(int N, int D) {
    double h[NMAX * DMAX], hp[NMAX * DMAX];
    for (int rep = 0; rep < 2; rep++) {
        random_pairs(h, hp, N, D, rep == 0 ? 0.4 : 1.5);
        for (int k = 0; k < DSP_OBJ_COUNT; k++)
            for (int pa = 0; pa < (k >= DSP_OBJ_MPT ? 2 : 1); pa++) {
                dsp_objective o = dsp_objective_default((dsp_objective_kind)k);
                o.per_anchor = pa;
                if (k >= DSP_OBJ_MPT) pick_margin(&o, h, hp, N, D);
                check_case(&o, h, hp, N, D, rep ? "random loose" : "random tight", 1);
            }
        /* Non-default parameters of the smooth forms. */
        dsp_objective o = dsp_objective_default(DSP_OBJ_AU);
        o.t = 6;
        o.lambda = 0.3;
        check_case(&o, h, hp, N, D, "au t=6", 1);
        o.alpha = 1.0;
        check_case(&o, h, hp, N, D, "au alpha=1", 1);
        o.alpha = 3.5;
        check_case(&o, h, hp, N, D, "au alpha=3.5", 1);
        for (int k = DSP_OBJ_INFONCE; k <= DSP_OBJ_DCLP; k++) {
            if (k == DSP_OBJ_AU) continue;
            o = dsp_objective_default((dsp_objective_kind)k);
            o.tau = 0.5;
            check_case(&o, h, hp, N, D, "tau=0.5", 1);
        }
    }
}

/* Each positive identical to its anchor (h' = h). met and mat sit on their guarded √ / arccos at s_ii = 1 there,
 * a genuine kink (‖h − h'‖ is a cone), so they are checked for finiteness and the documented subgradient (no
 * gradient through the positive pair) instead of by differences. */
static void test_identical_pairs(int N, int D) {
    double h[NMAX * DMAX], hp[NMAX * DMAX];
    random_pairs(h, hp, N, D, 0.0);
    memcpy(hp, h, sizeof(double) * N * D);
    for (int k = 0; k < DSP_OBJ_COUNT; k++)
        for (int pa = 0; pa < (k >= DSP_OBJ_MPT ? 2 : 1); pa++) {
            dsp_objective o = dsp_objective_default((dsp_objective_kind)k);
            o.per_anchor = pa;
            if (k == DSP_OBJ_MPT) {
                o.margin = 1.05;   /* every hinge on: 1.05 − 1 + max(0, max s_kj) > 0 */
                check_case(&o, h, hp, N, D, "h'=h", 1);
            } else if (k == DSP_OBJ_MET || k == DSP_OBJ_MAT) {
                o.margin = k == DSP_OBJ_MET ? 2.0 : 1.0;   /* every hinge on: no distance exceeds 2, no angle π */
                double dh[NMAX * DMAX], dhp[NMAX * DMAX];
                dsp_objective_diag dg;
                CHECK_OK(dsp_objective_eval(&o, h, hp, N, D, dh, dhp, &dg, &err), &err);
                int finite = isfinite(dg.loss);
                for (int q = 0; q < N * D; q++) finite &= isfinite(dh[q]) && isfinite(dhp[q]);
                CHECK(finite && dg.gd == 1.0);
                CHECK_NEAR(dg.loss, naive_loss(&o, h, hp, N, D), 1e-3, 0);   /* the guard adds ~1e-4 */
                CHECK(dg.grad_h_pos == 0);
            } else {
                check_case(&o, h, hp, N, D, "h'=h", 1);
            }
        }
}

/* Every row of both views equal: only the smooth objectives are differentiable there (for the hard forms
 * every negative ties; test_objectives.c checks the tie rule). DCLP needs N > 2 (ℓ = log(N−1) > 0); au uses
 * α = 2 (smooth at h = h'). */
static void test_all_rows_equal(int N, int D) {
    double h[NMAX * DMAX], hp[NMAX * DMAX];
    random_pairs(h, hp, 1, D, 0.0);
    for (int i = 1; i < N; i++) memcpy(h + i * D, h, sizeof(double) * D);
    memcpy(hp, h, sizeof(double) * N * D);
    const dsp_objective_kind smooth[4] = {DSP_OBJ_INFONCE, DSP_OBJ_DCL, DSP_OBJ_DCLP, DSP_OBJ_AU};
    for (int k = 0; k < 4; k++) {
        if (smooth[k] == DSP_OBJ_DCLP && N == 2) continue;   /* ℓ = log 1 = 0: exactly on the hinge */
        dsp_objective o = dsp_objective_default(smooth[k]);
        check_case(&o, h, hp, N, D, "all rows equal", 1);
    }
}

/* The hard forms just inside and just outside the hinge of term 0, in both directions: the margin is set so
 * that ℓ_0's argument is ±δ. With δ = 1e-3 the FD step (1e-6) stays on one side; with δ = 1e-9 the engine's
 * on/off decision must still match the sign exactly. */
static int n_boundary = 0;

static void test_hinge_boundary(int N, int D) {
    double h[NMAX * DMAX], hp[NMAX * DMAX];
    random_pairs(h, hp, N, D, 0.5);
    for (int k = DSP_OBJ_MPT; k <= DSP_OBJ_MAT; k++)
        for (int pa = 0; pa < 2; pa++) {
            dsp_objective o = dsp_objective_default((dsp_objective_kind)k);
            o.per_anchor = pa;
            const char *name = dsp_objective_name(o.kind);
            double arg[NMAX], gap[NMAX], scale = k == DSP_OBJ_MAT ? PI : 1.0;
            naive_hard_terms(&o, h, hp, N, D, arg, gap);
            if (!(-arg[0] > 2e-3)) {   /* needs a non-negative margin on both sides */
                CHECK_MSG(0, "%s: term 0 unusable for a boundary test (arg %g)", name, arg[0]);
                continue;
            }
            for (int side = 0; side < 2; side++) {
                double delta = side ? 1e-3 : -1e-3;
                o.margin = (-arg[0] + delta) / scale;
                /* Differentiate only where term 0 is the one near its hinge: the others clear of it by 3δ. */
                int clear = 1;
                for (int a = 1; a < N; a++) clear &= fabs(o.margin * scale + arg[a]) > 3e-3;
                if (!clear) continue;
                check_case(&o, h, hp, N, D, side ? "just inside" : "just outside", 1);
                n_boundary++;
            }
            /* ±1e-9: the switch happens at 0, not "near" it: term 0 on exactly when δ > 0. */
            for (int side = 0; side < 2; side++) {
                double delta = side ? 1e-9 : -1e-9;
                o.margin = (-arg[0] + delta) / scale;
                dsp_objective_diag dg;
                CHECK_OK(dsp_objective_eval(&o, h, hp, N, D, NULL, NULL, &dg, &err), &err);
                int others = 0;
                double m = o.margin * scale;
                for (int a = 1; a < N; a++) others += m + arg[a] > 0;
                CHECK_MSG((int)lround(dg.gd * N) == others + side, "%s pa=%d: delta %g gives %d active, expected %d",
                          name, pa, delta, (int)lround(dg.gd * N), others + side);
            }
        }
}

int main(void) {
    test_random(2, 5);
    test_random(8, 16);
    test_identical_pairs(2, 5);
    test_identical_pairs(8, 16);
    test_all_rows_equal(2, 5);
    test_all_rows_equal(8, 16);
    test_hinge_boundary(8, 16);
    test_hinge_boundary(2, 5);
    printf("gradient-checked batches: %d (of which at a hinge boundary: %d)\n", n_checked, n_boundary);
    CHECK(n_checked > 60);
    CHECK(n_boundary >= 12);   /* most of the 3 kinds × 2 directions × 2 sides × 2 sizes were usable */
    return dsp_test_end("test_objective_grads");
}
