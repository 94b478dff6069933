/* test_objectives.c — the objective registry (names, defaults, validation, errors) and values worked out by hand:
 * N = 2 InfoNCE / DCL / DCLP / AU with their gradients and diagnostics, the hard forms on a similarity matrix with
 * exact entries (hardest-negative direction, ties, floors, the exact hinge boundary), collapsed batches, extreme τ,
 * and the positive/negative split of the anchor gradient. Gradient checks by finite differences are in
 * test_objective_grads.c. */
#include "dissipate.h"
#include "mathd.h"
#include "objective_impl.h"
#include "testutil.h"

#define PI 3.14159265358979323846

static dsp_err err;

static dsp_objective obj(dsp_objective_kind k) { return dsp_objective_default(k); }

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

/* ---------------------------------------------------------------- deterministic double math (mathd.h) */

/* |a − b| in units of the last place of b. */
static double ulps(double a, double b) {
    if (a == b) return 0;
    return fabs(a - b) / (nextafter(fabs(b), INFINITY) - fabs(b));
}

static void test_mathd(void) {
    unsigned long long s = 11;
    double worst[5] = {0};
    for (int i = 0; i < 200000; i++) {
        double u = 0.5 * (dsp_test_rand(&s) + 1.0f), v = 0.5 * (dsp_test_rand(&s) + 1.0f);
        double x = (2 * u - 1) * 700, y = ldexp(0.5 + 0.5 * v, (int)(u * 2000) - 1000);
        double z = ldexp(v, -(int)(u * 60)), c = 2 * v - 1, r = 2 * u + 1e-12, a = 8 * v;
        if (i % 3 == 0) c = 1 - ldexp(v, -(int)(u * 50));   /* the neighbourhood of s = 1 that mat guards */
        double e[5] = {ulps(dsp_exp_d(x), exp(x)), ulps(dsp_log_d(y), log(y)), ulps(dsp_log1p_d(z), log1p(z)),
                       ulps(dsp_acos_d(c), acos(c)), fabs(dsp_pow_d(r, a) / pow(r, a) - 1)};
        for (int k = 0; k < 5; k++)
            if (!(e[k] <= worst[k])) worst[k] = e[k];
    }
    CHECK_MSG(worst[0] <= 2, "exp: %g ulp", worst[0]);
    CHECK_MSG(worst[1] <= 3, "log: %g ulp", worst[1]);
    CHECK_MSG(worst[2] <= 6, "log1p: %g ulp", worst[2]);
    CHECK_MSG(worst[3] <= 3, "acos: %g ulp", worst[3]);
    CHECK_MSG(worst[4] <= 1e-13, "pow: %g relative", worst[4]);
    CHECK(dsp_exp_d(0) == 1 && dsp_exp_d(-1000) == 0 && dsp_exp_d(800) == INFINITY && isnan(dsp_exp_d(NAN)));
    CHECK(dsp_log_d(1) == 0 && dsp_log_d(0) == -INFINITY && isnan(dsp_log_d(-1)));
    CHECK(dsp_log1p_d(1e-300) == 1e-300 && dsp_log1p_d(0) == 0);
    CHECK(dsp_acos_d(1) == 0 && dsp_acos_d(-1) == PI && dsp_acos_d(0) == PI / 2 && isnan(dsp_acos_d(1.5)));
    CHECK(dsp_pow_d(0, 0.5) == 0);
}

/* ---------------------------------------------------------------- registry */

static void test_names_and_defaults(void) {
    const char *expect[DSP_OBJ_COUNT] = {"infonce", "au", "dcl", "dclp", "mpt", "met", "mat"};
    for (int k = 0; k < DSP_OBJ_COUNT; k++) {
        CHECK(strcmp(dsp_objective_name((dsp_objective_kind)k), expect[k]) == 0);
        dsp_objective_kind got = DSP_OBJ_COUNT;
        CHECK(dsp_objective_parse(expect[k], &got) == 0 && got == (dsp_objective_kind)k);
        dsp_objective o = obj((dsp_objective_kind)k);
        CHECK(o.kind == (dsp_objective_kind)k);
        CHECK_OK(dsp_objective_validate(&o, &err), &err);
        CHECK(o.per_anchor == 0);   /* the official code's column-wise form is the default */
    }
    dsp_objective_kind got;
    CHECK(dsp_objective_parse("InfoNCE", &got) != 0);   /* names are exact */
    CHECK(dsp_objective_parse("simcse", &got) != 0);
    CHECK(dsp_objective_parse("", &got) != 0);
    CHECK(dsp_objective_parse(NULL, &got) != 0);
    CHECK(strcmp(dsp_objective_name((dsp_objective_kind)99), "unknown") == 0);

    CHECK(obj(DSP_OBJ_INFONCE).tau == 0.05 && obj(DSP_OBJ_DCL).tau == 0.05 && obj(DSP_OBJ_DCLP).tau == 0.05);
    dsp_objective au = obj(DSP_OBJ_AU);
    CHECK(au.lambda == 0.5 && au.alpha == 2.0 && au.t == 2.0);
    CHECK(obj(DSP_OBJ_MPT).margin == 0.09);
    CHECK(obj(DSP_OBJ_MET).margin == 0.44);
    CHECK(obj(DSP_OBJ_MAT).margin == 0.15);
}

static void test_validation(void) {
    dsp_objective o = obj(DSP_OBJ_INFONCE);
    o.tau = 0;
    CHECK_FAILS(dsp_objective_validate(&o, &err), &err, "tau");
    o.tau = -0.05;
    CHECK_FAILS(dsp_objective_validate(&o, &err), &err, "tau");
    o.tau = NAN;
    CHECK_FAILS(dsp_objective_validate(&o, &err), &err, "tau");
    o.tau = INFINITY;
    CHECK_FAILS(dsp_objective_validate(&o, &err), &err, "tau");
    o = obj(DSP_OBJ_DCLP);
    o.tau = -1;
    CHECK_FAILS(dsp_objective_validate(&o, &err), &err, "dclp: tau");
    /* Parameters of other families are not this objective's business. */
    o = obj(DSP_OBJ_INFONCE);
    o.margin = -1;
    o.lambda = 7;
    CHECK_OK(dsp_objective_validate(&o, &err), &err);

    o = obj(DSP_OBJ_AU);
    o.lambda = -0.1;
    CHECK_FAILS(dsp_objective_validate(&o, &err), &err, "lambda");
    o.lambda = 1.01;
    CHECK_FAILS(dsp_objective_validate(&o, &err), &err, "lambda");
    o.lambda = NAN;
    CHECK_FAILS(dsp_objective_validate(&o, &err), &err, "lambda");
    o.lambda = 0;
    CHECK_OK(dsp_objective_validate(&o, &err), &err);
    o.lambda = 1;
    CHECK_OK(dsp_objective_validate(&o, &err), &err);
    o = obj(DSP_OBJ_AU);
    o.alpha = 0;
    CHECK_FAILS(dsp_objective_validate(&o, &err), &err, "alpha");
    o.alpha = -2;
    CHECK_FAILS(dsp_objective_validate(&o, &err), &err, "alpha");
    o.alpha = 1e6;
    CHECK_FAILS(dsp_objective_validate(&o, &err), &err, "alpha");
    o.alpha = 0.5;
    CHECK_OK(dsp_objective_validate(&o, &err), &err);
    o = obj(DSP_OBJ_AU);
    o.t = 0;
    CHECK_FAILS(dsp_objective_validate(&o, &err), &err, "t =");
    o.t = INFINITY;
    CHECK_FAILS(dsp_objective_validate(&o, &err), &err, "t =");
    o.t = 1e300; /* finite, but 2t and t·d² overflow: refused rather than a NaN loss later */
    CHECK_FAILS(dsp_objective_validate(&o, &err), &err, "must be in (0, 1e6]");
    o.t = 1e6;
    CHECK_OK(dsp_objective_validate(&o, &err), &err);

    for (int k = DSP_OBJ_MPT; k <= DSP_OBJ_MAT; k++) {
        o = obj((dsp_objective_kind)k);
        o.margin = -0.01;
        CHECK_FAILS(dsp_objective_validate(&o, &err), &err, "margin");
        o.margin = NAN;
        CHECK_FAILS(dsp_objective_validate(&o, &err), &err, "margin");
        o.margin = 0;
        CHECK_OK(dsp_objective_validate(&o, &err), &err);
        o.per_anchor = 2;
        CHECK_FAILS(dsp_objective_validate(&o, &err), &err, "per_anchor");
    }
    o = obj(DSP_OBJ_INFONCE);
    o.kind = (dsp_objective_kind)42;
    CHECK_FAILS(dsp_objective_validate(&o, &err), &err, "unknown kind 42");
    CHECK_FAILS(dsp_objective_validate(NULL, &err), &err, "objective");

    /* Errors of the evaluation itself. */
    double h[6] = {1, 0, 0, 1, 1, 0}, hp[6] = {1, 0, 0, 1, 0, 1}, dh[6], dhp[6];
    o = obj(DSP_OBJ_INFONCE);
    CHECK_FAILS(dsp_objective_eval(&o, h, hp, 1, 2, dh, dhp, NULL, &err), &err, "N = 1");
    CHECK_FAILS(dsp_objective_eval(&o, h, hp, 0, 2, dh, dhp, NULL, &err), &err, "N = 0");
    CHECK_FAILS(dsp_objective_eval(&o, h, hp, 2, 0, dh, dhp, NULL, &err), &err, "D = 0");
    CHECK_FAILS(dsp_objective_eval(&o, NULL, hp, 2, 2, dh, dhp, NULL, &err), &err, "NULL");
    h[3] = NAN;
    CHECK_FAILS(dsp_objective_eval(&o, h, hp, 3, 2, dh, dhp, NULL, &err), &err, "h[1][1]");
    h[3] = 1;
    hp[4] = INFINITY;
    CHECK_FAILS(dsp_objective_eval(&o, h, hp, 3, 2, dh, dhp, NULL, &err), &err, "h'[2][0]");
    hp[4] = 0;
    o.tau = 0;
    CHECK_FAILS(dsp_objective_eval(&o, h, hp, 3, 2, dh, dhp, NULL, &err), &err, "tau");
    /* A NULL err is allowed. */
    CHECK(dsp_objective_eval(&o, h, hp, 3, 2, dh, dhp, NULL, NULL) == -1);
}

/* ---------------------------------------------------------------- N = 2 by hand
 * h1 = (1, 0), h2 = (0, 1), h'1 = (0.6, 0.8), h'2 = (0, 1) ... with τ = 0.1 unless said otherwise. */

static void test_infonce_by_hand(void) {
    /* h'1 = (0.8, 0.6), h'2 = (0, 1): s11 = 0.8, s12 = 0, s21 = 0.6, s22 = 1.
     * x_i = (s_neg − s_ii)/τ: x1 = −8, x2 = −4. p_ii = 1/(1 + e^{x_i}), ℓ_i = log(1 + e^{x_i}), GD_i = σ(x_i). */
    const double h[4] = {1, 0, 0, 1}, hp[4] = {0.8, 0.6, 0, 1};
    dsp_objective o = obj(DSP_OBJ_INFONCE);
    o.tau = 0.1;
    double dh[4], dhp[4];
    dsp_objective_diag dg;
    CHECK_OK(dsp_objective_eval(&o, h, hp, 2, 2, dh, dhp, &dg, &err), &err);
    double gd1 = sigmoid(-8), gd2 = sigmoid(-4);
    CHECK_NEAR(dg.loss, 0.5 * (log1p(exp(-8)) + log1p(exp(-4))), 1e-14, 1e-12);
    CHECK_NEAR(dg.gd, 0.5 * (gd1 + gd2), 1e-15, 1e-12);
    CHECK_NEAR(dg.pos_cos, 0.9, 1e-15, 0);
    CHECK_NEAR(dg.neg_cos, 0.3, 1e-15, 0);
    /* g_11 = −GD_1/(Nτ) = −5 GD_1, g_12 = +5 GD_1; ∂L/∂h1 = 5 GD_1 (h'2 − h'1) = 5 GD_1 (−0.8, 0.4). */
    CHECK_NEAR(dh[0], 5 * gd1 * -0.8, 1e-15, 1e-12);
    CHECK_NEAR(dh[1], 5 * gd1 * 0.4, 1e-15, 1e-12);
    CHECK_NEAR(dh[2], 5 * gd2 * 0.8, 1e-15, 1e-12);
    CHECK_NEAR(dh[3], 5 * gd2 * -0.4, 1e-15, 1e-12);
    /* ∂L/∂h'1 = g11 h1 + g21 h2 = (−5 GD_1, 5 GD_2); ∂L/∂h'2 = g12 h1 + g22 h2 = (5 GD_1, −5 GD_2). */
    CHECK_NEAR(dhp[0], -5 * gd1, 1e-15, 1e-12);
    CHECK_NEAR(dhp[1], 5 * gd2, 1e-15, 1e-12);
    CHECK_NEAR(dhp[2], 5 * gd1, 1e-15, 1e-12);
    CHECK_NEAR(dhp[3], -5 * gd2, 1e-15, 1e-12);
    /* grad_h = mean_i ‖2 ∂L/∂h_i‖ = 5√0.8 (GD_1 + GD_2); each path alone: ‖2 g_ii h'_i‖ = 10 GD_i. */
    CHECK_NEAR(dg.grad_h, 5 * sqrt(0.8) * (gd1 + gd2), 1e-15, 1e-12);
    CHECK_NEAR(dg.grad_h_pos, 5 * (gd1 + gd2), 1e-15, 1e-12);
    CHECK_NEAR(dg.grad_h_neg, 5 * (gd1 + gd2), 1e-15, 1e-12);

    /* The paper's point in numbers: at τ = 0.01, x1 = −80 and GD_1 = e^{−80}/(1 + e^{−80}) ≈ 1.8e−35. The
     * factor must keep its relative precision (1 − p_ii computed as 1 − 0.999… would give exactly 0). */
    o.tau = 0.01;
    CHECK_OK(dsp_objective_eval(&o, h, hp, 2, 2, dh, NULL, &dg, &err), &err);
    CHECK_NEAR(dg.gd, 0.5 * (exp(-80) / (1 + exp(-80)) + exp(-40) / (1 + exp(-40))), 0, 1e-12);
    CHECK_NEAR(dh[0], 50 * (exp(-80) / (1 + exp(-80))) * -0.8, 0, 1e-12);

    /* Extreme τ = 1e-4: the positives lose by a cosine of 1, logits of 1e4. h'1 = (0, 1), h'2 = (1, 0):
     * s11 = 0, s12 = 1 → ℓ1 = 1e4 + log(1 + e^{−1e4}) = 1e4, same for ℓ2; GD = 1. */
    const double hp_bad[4] = {0, 1, 1, 0};
    o.tau = 1e-4;
    CHECK_OK(dsp_objective_eval(&o, h, hp_bad, 2, 2, dh, dhp, &dg, &err), &err);
    CHECK_NEAR(dg.loss, 1e4, 0, 1e-12);
    CHECK_NEAR(dg.gd, 1.0, 1e-15, 0);
    CHECK(isfinite(dh[0]) && isfinite(dhp[3]));
    CHECK_NEAR(dh[0], 5000.0, 0, 1e-12);   /* (1/(Nτ)) (h'2 − h'1)[0] = 5000 · 1 */
    /* … and when they win by 1: ℓ = log(1 + e^{−1e4}) underflows to exactly 0, still not NaN. */
    const double hp_good[4] = {1, 0, 0, 1};
    CHECK_OK(dsp_objective_eval(&o, h, hp_good, 2, 2, dh, dhp, &dg, &err), &err);
    CHECK(dg.loss >= 0 && dg.loss < 1e-300 && dg.gd < 1e-300 && isfinite(dh[0]));
    for (int k = DSP_OBJ_DCL; k <= DSP_OBJ_DCLP; k++) {
        dsp_objective od = obj((dsp_objective_kind)k);
        od.tau = 1e-4;
        CHECK_OK(dsp_objective_eval(&od, h, hp_bad, 2, 2, dh, dhp, &dg, &err), &err);
        CHECK_NEAR(dg.loss, 1e4, 0, 1e-12);
        CHECK_OK(dsp_objective_eval(&od, h, hp_good, 2, 2, dh, dhp, &dg, &err), &err);
        CHECK_NEAR(dg.loss, k == DSP_OBJ_DCL ? -1e4 : 0.0, 0, 1e-12);
    }
}

static void test_dcl_dclp_by_hand(void) {
    /* Same batch as above: DCL drops the dissipation factor. ℓ1 = x1 = −8, ℓ2 = x2 = −4, GD ≡ 1 (reported NAN). */
    const double h[4] = {1, 0, 0, 1}, hp[4] = {0.8, 0.6, 0, 1};
    dsp_objective o = obj(DSP_OBJ_DCL);
    o.tau = 0.1;
    double dh[4], dhp[4];
    dsp_objective_diag dg;
    CHECK_OK(dsp_objective_eval(&o, h, hp, 2, 2, dh, dhp, &dg, &err), &err);
    CHECK_NEAR(dg.loss, -6.0, 1e-13, 0);
    CHECK(isnan(dg.gd));
    CHECK_NEAR(dh[0], 5 * -0.8, 1e-14, 0);
    CHECK_NEAR(dh[1], 5 * 0.4, 1e-14, 0);
    CHECK_NEAR(dh[2], 5 * 0.8, 1e-14, 0);

    /* DCLP on h'1 = (0.6, 0.8), h'2 = (0, −1): s11 = 0.6, s12 = 0, s21 = 0.8, s22 = −1.
     * x1 = (0 − 0.6)/0.1 = −6 (hinge off), x2 = (0.8 + 1)/0.1 = 18 (on): L = 9, GD = 1/2.
     * ∂L/∂h1 = 0; ∂L/∂h2 = (1/(Nτ)) (h'1 − h'2) = 5 (0.6, 1.8). */
    const double hp2[4] = {0.6, 0.8, 0, -1};
    o = obj(DSP_OBJ_DCLP);
    o.tau = 0.1;
    CHECK_OK(dsp_objective_eval(&o, h, hp2, 2, 2, dh, dhp, &dg, &err), &err);
    CHECK_NEAR(dg.loss, 9.0, 1e-13, 0);
    CHECK(dg.gd == 0.5);
    CHECK(dh[0] == 0 && dh[1] == 0);
    CHECK_NEAR(dh[2], 3.0, 1e-13, 0);
    CHECK_NEAR(dh[3], 9.0, 1e-13, 0);
    /* ∂L/∂h'1 = g21 h2 = 5 (0, 1); ∂L/∂h'2 = g22 h2 = −5 (0, 1). */
    CHECK_NEAR(dhp[0], 0.0, 1e-15, 0);
    CHECK_NEAR(dhp[1], 5.0, 1e-13, 0);
    CHECK_NEAR(dhp[3], -5.0, 1e-13, 0);
    CHECK_NEAR(dg.grad_h, 0.5 * 2 * 5 * sqrt(0.36 + 3.24), 1e-13, 1e-13);
}

static void test_au_by_hand(void) {
    /* h1 = (1, 0), h2 = (0, 1), h'1 = (0.6, 0.8), h'2 = (0, 1); λ = 0.5, α = 2, t = 2.
     * align = (0.8 + 0)/2 = 0.4; U(H) = −t·2 = −4 (one pair), U(H') = −t·0.4 = −0.8;
     * L = 0.5·0.4 + 0.5·(4 + 0.5·(−4.8)) = 1.0. */
    const double h[4] = {1, 0, 0, 1}, hp[4] = {0.6, 0.8, 0, 1};
    dsp_objective o = obj(DSP_OBJ_AU);
    double dh[4], dhp[4], pos[4], neg[4];
    dsp_objective_diag dg;
    CHECK_OK(dsp_objective_eval(&o, h, hp, 2, 2, dh, dhp, &dg, &err), &err);
    CHECK_NEAR(dg.loss, 1.0, 1e-14, 0);
    CHECK(isnan(dg.gd));
    /* alignment on h1: (1−λ)(α/N)(h1 − h'1) = 0.5 (0.4, −0.8); uniformity: −λ t (h1 − h2) = −(1, −1). */
    CHECK_NEAR(dh[0], 0.2 - 1.0, 1e-14, 0);
    CHECK_NEAR(dh[1], -0.4 + 1.0, 1e-14, 0);
    CHECK_NEAR(dh[2], 1.0, 1e-14, 0);
    CHECK_NEAR(dh[3], -1.0, 1e-14, 0);
    /* h'1: −0.5 (0.4, −0.8) − (h'1 − h'2) = (−0.2, 0.4) + (−0.6, 0.2); h'2: (0.6, −0.2). */
    CHECK_NEAR(dhp[0], -0.8, 1e-14, 0);
    CHECK_NEAR(dhp[1], 0.6, 1e-14, 0);
    CHECK_NEAR(dhp[2], 0.6, 1e-14, 0);
    CHECK_NEAR(dhp[3], -0.2, 1e-14, 0);
    /* grad_h = (‖2(−0.8, 0.6)‖ + ‖2(1, −1)‖)/2 = 1 + √2; alignment only: (2√0.2 + 0)/2; uniformity: 2√2. */
    CHECK_NEAR(dg.grad_h, 1 + sqrt(2.0), 1e-14, 0);
    CHECK_NEAR(dg.grad_h_pos, sqrt(0.2), 1e-14, 0);
    CHECK_NEAR(dg.grad_h_neg, 2 * sqrt(2.0), 1e-14, 0);
    CHECK_OK(dsp_objective_eval_split(&o, h, hp, 2, 2, pos, neg, NULL, NULL, &err), &err);
    CHECK_NEAR(pos[0], 0.2, 1e-15, 0);
    CHECK_NEAR(neg[0], -1.0, 1e-15, 0);
    CHECK(pos[2] == 0 && pos[3] == 0);

    /* α = 1 on the same batch: align = (√0.8 + 0)/2; the second pair has h2 = h'2 exactly, where ‖·‖^{α−2} is
     * singular: its gradient is the subgradient 0 and nothing is NaN. */
    o.alpha = 1;
    CHECK_OK(dsp_objective_eval(&o, h, hp, 2, 2, dh, dhp, &dg, &err), &err);
    CHECK_NEAR(dg.loss, 0.5 * sqrt(0.8) / 2 + 0.5 * (4 + 0.5 * -4.8), 1e-14, 0);
    CHECK_NEAR(dh[0], 0.5 * 0.5 * 0.4 / sqrt(0.8) - 1.0, 1e-14, 0);
    CHECK_NEAR(dh[2], 1.0, 1e-14, 0);   /* uniformity only */
    o.alpha = 0.5;
    CHECK_OK(dsp_objective_eval(&o, h, h, 2, 2, dh, dhp, &dg, &err), &err);
    CHECK(isfinite(dg.loss) && isfinite(dh[0]) && isfinite(dhp[0]));
    CHECK(dg.grad_h_pos == 0);

    /* λ = 0 is pure alignment, λ = 1 pure uniformity (plus 2t). */
    o = obj(DSP_OBJ_AU);
    o.lambda = 0;
    CHECK_OK(dsp_objective_eval(&o, h, hp, 2, 2, dh, dhp, &dg, &err), &err);
    CHECK_NEAR(dg.loss, 0.4, 1e-15, 0);
    CHECK(dg.grad_h_neg == 0);
    o.lambda = 1;
    CHECK_OK(dsp_objective_eval(&o, h, hp, 2, 2, dh, dhp, &dg, &err), &err);
    CHECK_NEAR(dg.loss, 4 - 2.4, 1e-14, 0);
    CHECK(dg.grad_h_pos == 0);
    /* A huge t: every pair term underflows e^{−t d²} in a naive sum; the log-sum-exp keeps U = −t·min d². */
    o.t = 1e5;
    CHECK_OK(dsp_objective_eval(&o, h, hp, 2, 2, dh, dhp, &dg, &err), &err);
    CHECK_NEAR(dg.loss, 2e5 + 0.5 * (-2e5 - 0.4e5), 0, 1e-12);
}

/* ---------------------------------------------------------------- hard forms on exact similarities
 * h_i = e_i (D = N = 4), so s_ij = h'_j[i]: column j of S is the positive h'_j, every entry is exact.
 *        col 0  col 1  col 2  col 3
 *   row 0   .5     .5    −.5      0
 *   row 1   .5     .5    −.5      0
 *   row 2  −.5     .5     .5      0
 *   row 3   .5     .5     .5      1
 * Column-wise (per positive) hardest negatives: col 0 → rows 1 and 3 tie at .5 → row 1 (lowest index);
 * col 1 → rows 0, 2, 3 tie → row 0; col 2 → row 3; col 3 → every negative at 0 = the floor → the floor.
 * Row-wise (per anchor): row 0 → col 1; row 1 → col 0; row 2 → col 1; row 3 → cols 0, 1, 2 tie → col 0.
 * With h_i = e_i, ∂L/∂h'_j = Σ_i g_ij e_i, so dhp row j *is* column j of G. */
static const double E4[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
static const double HP4[16] = {0.5, 0.5, -0.5, 0.5, 0.5, 0.5, 0.5, 0.5, -0.5, -0.5, 0.5, 0.5, 0, 0, 0, 1};

/* G_ij read back from dhp (see above). */
static double G_of(const double *dhp, int i, int j) { return dhp[j * 4 + i]; }

static int only_these_nonzero(const double *dhp, const int (*ij)[2], int n) {
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            int listed = 0;
            for (int k = 0; k < n; k++) listed |= ij[k][0] == i && ij[k][1] == j;
            if (!listed && G_of(dhp, i, j) != 0) return 0;
            if (listed && G_of(dhp, i, j) == 0) return 0;
        }
    return 1;
}

static void test_mpt_direction_ties_floor(void) {
    dsp_objective o = obj(DSP_OBJ_MPT);
    double dh[16], dhp[16];
    dsp_objective_diag dg;
    const double m = o.margin;
    /* Column-wise: cols 0, 1, 2 have m − .5 + .5 = m > 0; col 3: m − 1 + max(0, 0) < 0. L = 3m/4, GD = 3/4. */
    CHECK_OK(dsp_objective_eval(&o, E4, HP4, 4, 4, dh, dhp, &dg, &err), &err);
    CHECK_NEAR(dg.loss, 3 * m / 4, 1e-16, 1e-14);
    CHECK(dg.gd == 0.75);
    const int col_pairs[6][2] = {{0, 0}, {1, 0}, {1, 1}, {0, 1}, {2, 2}, {3, 2}};
    CHECK(only_these_nonzero(dhp, col_pairs, 6));
    CHECK(G_of(dhp, 0, 0) == -0.25 && G_of(dhp, 1, 0) == 0.25);   /* tie rows 1, 3 → row 1 */
    CHECK(G_of(dhp, 1, 1) == -0.25 && G_of(dhp, 0, 1) == 0.25);   /* tie rows 0, 2, 3 → row 0 */
    CHECK(G_of(dhp, 2, 2) == -0.25 && G_of(dhp, 3, 2) == 0.25);
    /* ∂L/∂h_3 comes only through being the hardest negative of column 2: g_32 h'_2. */
    for (int d = 0; d < 4; d++) CHECK(dh[12 + d] == 0.25 * HP4[8 + d]);
    /* Diagnostics: anchor 3 has only a negative path; anchors 0, 1 have both. */
    CHECK_NEAR(dg.grad_h_pos, (1 + 1 + 1 + 0) / 4.0, 1e-15, 0);   /* ‖4·(−¼ h'_i)‖ = 1 for i = 0, 1, 2 */
    CHECK_NEAR(dg.grad_h_neg, (1 + 1 + 0 + 1) / 4.0, 1e-15, 0);

    /* Row-wise (UnderstandingCSE): rows 0, 1, 2 active with negatives (0,1), (1,0), (2,1); row 3: m − 1 + .5 < 0. */
    o.per_anchor = 1;
    CHECK_OK(dsp_objective_eval(&o, E4, HP4, 4, 4, dh, dhp, &dg, &err), &err);
    CHECK_NEAR(dg.loss, 3 * m / 4, 1e-16, 1e-14);
    const int row_pairs[6][2] = {{0, 0}, {0, 1}, {1, 1}, {1, 0}, {2, 2}, {2, 1}};
    CHECK(only_these_nonzero(dhp, row_pairs, 6));
    CHECK(G_of(dhp, 2, 1) == 0.25);
    for (int d = 0; d < 4; d++) CHECK(dh[12 + d] == 0);   /* anchor 3 is nobody's negative row-wise */

    /* The floor. With m = 1.5 every hinge is active. Column 3's negatives all sit at cosine 0, which ties the
     * floor: the floor wins, so column 3 gives gradient to its positive only. Row-wise there is no floor and
     * row 3 takes its tied hardest negative, column 0. */
    o.margin = 1.5;
    o.per_anchor = 0;
    CHECK_OK(dsp_objective_eval(&o, E4, HP4, 4, 4, dh, dhp, &dg, &err), &err);
    /* ℓ_j = 1.5 − s_jj + max(0, max neg): .5+1.5−.5 three times, 1.5 − 1 + 0 once → (4.5 + 0.5)/4 */
    CHECK_NEAR(dg.loss, 5.0 / 4, 1e-15, 0);
    CHECK(dg.gd == 1.0);
    CHECK(G_of(dhp, 3, 3) == -0.25 && G_of(dhp, 0, 3) == 0 && G_of(dhp, 1, 3) == 0 && G_of(dhp, 2, 3) == 0);
    o.per_anchor = 1;
    CHECK_OK(dsp_objective_eval(&o, E4, HP4, 4, 4, dh, dhp, &dg, &err), &err);
    CHECK_NEAR(dg.loss, (1.5 * 3 + 1.0) / 4, 1e-15, 0);
    CHECK(G_of(dhp, 3, 0) == 0.25 && G_of(dhp, 3, 1) == 0 && G_of(dhp, 3, 2) == 0);

    /* The hinge switches exactly at 0: with m = 0 the arguments of cols 0–2 are (0 − .5) + .5 = 0 exactly →
     * off (loss 0, no gradient); with m = 2^−40 they are 2^−40 > 0 → on, with the full gradient ±¼. */
    o.per_anchor = 0;
    o.margin = 0;
    CHECK_OK(dsp_objective_eval(&o, E4, HP4, 4, 4, dh, dhp, &dg, &err), &err);
    CHECK(dg.loss == 0 && dg.gd == 0 && dg.grad_h == 0);
    for (int k = 0; k < 16; k++) CHECK(dhp[k] == 0 && dh[k] == 0);
    o.margin = ldexp(1.0, -40);
    CHECK_OK(dsp_objective_eval(&o, E4, HP4, 4, 4, dh, dhp, &dg, &err), &err);
    CHECK(dg.loss == 3 * ldexp(1.0, -40) / 4 && dg.gd == 0.75);
    CHECK(G_of(dhp, 0, 0) == -0.25 && G_of(dhp, 1, 0) == 0.25);
}

static void test_met_mat_by_hand(void) {
    double dh[16], dhp[16];
    dsp_objective_diag dg;
    /* met: d(s) = √(2 − 2s): d(.5) = 1, d(−.5) = √3, d(0) = √2, d(1) = 0 → guarded at 1e-4 (flat: slope 0).
     * m = 1.5: cols 0–2: 1.5 + 1 − 1; col 3: 1.5 + 1e-4 − min(2, √2), its negatives tie at √2 → row 0 (the
     * floor 2 is larger). Slopes: φ'(.5) = −1/d = −1, φ'(0) = −1/√2, φ'(1) = 0 (inside the guard). */
    dsp_objective o = obj(DSP_OBJ_MET);
    o.margin = 1.5;
    CHECK_OK(dsp_objective_eval(&o, E4, HP4, 4, 4, dh, dhp, &dg, &err), &err);
    CHECK_NEAR(dg.loss, (3 * 1.5 + 1.5 + 1e-4 - sqrt(2.0)) / 4, 1e-15, 1e-13);
    CHECK(dg.gd == 1.0);
    CHECK_NEAR(G_of(dhp, 0, 0), -0.25, 1e-15, 0);
    CHECK_NEAR(G_of(dhp, 1, 0), 0.25, 1e-15, 0);
    CHECK(G_of(dhp, 3, 3) == 0);                        /* d_33 inside the guard: flat */
    CHECK_NEAR(G_of(dhp, 0, 3), 0.25 / sqrt(2.0), 1e-15, 1e-13);
    CHECK(G_of(dhp, 1, 3) == 0 && G_of(dhp, 2, 3) == 0);
    /* Default m = 0.44: col 3 off (0.44 + 1e-4 − √2 < 0), the rest on: L = 3·0.44/4. */
    o.margin = 0.44;
    CHECK_OK(dsp_objective_eval(&o, E4, HP4, 4, 4, dh, dhp, &dg, &err), &err);
    CHECK_NEAR(dg.loss, 3 * 0.44 / 4, 1e-15, 1e-13);
    CHECK(dg.gd == 0.75);

    /* mat: θ(.5) = π/3, θ(−.5) = 2π/3, θ(0) = π/2 = the floor, θ(1) guarded ≈ 1e-4. φ'(.5) = −1/√(3/4).
     * m = 0.6 (0.6π): cols 0–2: 0.6π + π/3 − π/3; col 3: 0.6π + θ(1) − π/2 > 0, negatives tie the floor → the
     * floor wins, no negative gradient. */
    o = obj(DSP_OBJ_MAT);
    o.margin = 0.6;
    CHECK_OK(dsp_objective_eval(&o, E4, HP4, 4, 4, dh, dhp, &dg, &err), &err);
    double th1 = acos(1.0 - 0.5e-8);   /* the guarded angle at s = 1 */
    CHECK_NEAR(th1, 1e-4, 1e-9, 0);
    CHECK_NEAR(dg.loss, (3 * 0.6 * PI + 0.6 * PI + th1 - PI / 2) / 4, 1e-14, 1e-13);
    CHECK(dg.gd == 1.0);
    CHECK_NEAR(G_of(dhp, 2, 2), -0.25 / sqrt(0.75), 1e-15, 1e-13);
    CHECK_NEAR(G_of(dhp, 3, 2), 0.25 / sqrt(0.75), 1e-15, 1e-13);
    CHECK(G_of(dhp, 0, 3) == 0 && G_of(dhp, 1, 3) == 0 && G_of(dhp, 2, 3) == 0 && G_of(dhp, 3, 3) == 0);
    /* Row-wise: row 3's negatives are at .5 (θ = π/3, no floor): 0.6π + θ(1) − π/3 > 0 with negative col 0. */
    o.per_anchor = 1;
    CHECK_OK(dsp_objective_eval(&o, E4, HP4, 4, 4, dh, dhp, &dg, &err), &err);
    CHECK_NEAR(dg.loss, (3 * 0.6 * PI + 0.6 * PI + th1 - PI / 3) / 4, 1e-14, 1e-13);
    CHECK_NEAR(G_of(dhp, 3, 0), 0.25 / sqrt(0.75), 1e-15, 1e-13);
    /* Default m = 0.15: col 3 off (0.15π + 1e-4 < π/2), others on: L = 3·0.15π/4. */
    o = obj(DSP_OBJ_MAT);
    CHECK_OK(dsp_objective_eval(&o, E4, HP4, 4, 4, dh, dhp, &dg, &err), &err);
    CHECK_NEAR(dg.loss, 3 * 0.15 * PI / 4, 1e-15, 1e-13);
    CHECK(dg.gd == 0.75);
}

/* ---------------------------------------------------------------- collapsed batches: every row equal */

static void test_collapsed(void) {
    enum { N = 8, D = 3 };
    double h[N * D], dh[N * D], dhp[N * D], pos[N * D], neg[N * D];
    for (int i = 0; i < N; i++) {
        h[i * D + 0] = 0.6;
        h[i * D + 1] = 0.0;
        h[i * D + 2] = 0.8;
    }
    dsp_objective_diag dg;
    for (int k = 0; k < DSP_OBJ_COUNT; k++) {
        dsp_objective o = obj((dsp_objective_kind)k);
        CHECK_OK(dsp_objective_eval(&o, h, h, N, D, dh, dhp, &dg, &err), &err);
        int finite = isfinite(dg.loss);
        for (int q = 0; q < N * D; q++) finite &= isfinite(dh[q]) && isfinite(dhp[q]);
        CHECK_MSG(finite, "%s on a collapsed batch", dsp_objective_name(o.kind));
        CHECK_NEAR(dg.pos_cos, 1.0, 1e-15, 0);
        CHECK_NEAR(dg.neg_cos, 1.0, 1e-15, 0);
    }
    /* InfoNCE: every logit equal, p_ij = 1/N: L = log N, GD = 1 − 1/N. The two paths cancel exactly in direction:
     * each has norm N·(N−1)/(N²τ)… = (N−1)/(Nτ) per anchor, and their sum is 0. */
    dsp_objective o = obj(DSP_OBJ_INFONCE);
    CHECK_OK(dsp_objective_eval(&o, h, h, N, D, dh, dhp, &dg, &err), &err);
    CHECK_NEAR(dg.loss, log((double)N), 1e-14, 0);
    CHECK_NEAR(dg.gd, 1 - 1.0 / N, 1e-15, 0);
    CHECK_NEAR(dg.grad_h_pos, (N - 1) / (N * o.tau), 1e-12, 0);
    CHECK_NEAR(dg.grad_h_neg, (N - 1) / (N * o.tau), 1e-12, 0);
    CHECK_NEAR(dg.grad_h, 0.0, 1e-12, 0);
    CHECK_OK(dsp_objective_eval_split(&o, h, h, N, D, pos, neg, NULL, NULL, &err), &err);
    for (int q = 0; q < N * D; q++) CHECK_NEAR(pos[q] + neg[q], 0.0, 1e-13, 0);
    /* DCL: x = log(N−1); DCLP: the same, hinge on. */
    o = obj(DSP_OBJ_DCL);
    CHECK_OK(dsp_objective_eval(&o, h, h, N, D, dh, dhp, &dg, &err), &err);
    CHECK_NEAR(dg.loss, log(N - 1.0), 1e-14, 0);
    o = obj(DSP_OBJ_DCLP);
    CHECK_OK(dsp_objective_eval(&o, h, h, N, D, dh, dhp, &dg, &err), &err);
    CHECK_NEAR(dg.loss, log(N - 1.0), 1e-14, 0);
    CHECK(dg.gd == 1.0);
    /* AU: no alignment, every pair at distance 0: U = 0, L = λ·2t = 2, no gradient. */
    o = obj(DSP_OBJ_AU);
    CHECK_OK(dsp_objective_eval(&o, h, h, N, D, dh, dhp, &dg, &err), &err);
    CHECK_NEAR(dg.loss, 2.0, 1e-15, 0);
    CHECK_NEAR(dg.grad_h, 0.0, 1e-15, 0);
    /* mpt: ℓ = m − 1 + 1 = m for every column, all on; every negative ties → row 0 (row 1 for column 0). */
    o = obj(DSP_OBJ_MPT);
    CHECK_OK(dsp_objective_eval_split(&o, h, h, N, D, pos, neg, dhp, &dg, &err), &err);
    CHECK_NEAR(dg.loss, o.margin, 1e-15, 1e-12);
    CHECK(dg.gd == 1.0);
    /* row 0 is the hardest negative of columns 1..N−1: neg_0 = (N−1)/N · h'; row 1 of column 0 only. */
    CHECK_NEAR(neg[0], (N - 1) / (double)N * 0.6, 1e-15, 0);
    CHECK_NEAR(neg[D + 0], 1.0 / N * 0.6, 1e-15, 0);
    for (int i = 2; i < N; i++) CHECK(neg[i * D] == 0 && neg[i * D + 2] == 0);
    /* met and mat: every distance / angle is inside the guard: ℓ = margin (met) or m·π (mat) and no gradient. */
    o = obj(DSP_OBJ_MET);
    CHECK_OK(dsp_objective_eval(&o, h, h, N, D, dh, dhp, &dg, &err), &err);
    CHECK_NEAR(dg.loss, o.margin, 1e-15, 1e-12);
    CHECK(dg.grad_h == 0);
    o = obj(DSP_OBJ_MAT);
    CHECK_OK(dsp_objective_eval(&o, h, h, N, D, dh, dhp, &dg, &err), &err);
    CHECK_NEAR(dg.loss, o.margin * PI, 1e-15, 1e-12);
    CHECK(dg.grad_h == 0);
}

/* ---------------------------------------------------------------- the split and the NULL outputs */

static void test_split_sums_to_total(void) {
    enum { N = 6, D = 5 };
    unsigned long long seed = 0x9e3779b97f4a7c15ull;
    double h[N * D], hp[N * D];
    for (int i = 0; i < N; i++) {
        double nh = 0, np = 0;
        for (int d = 0; d < D; d++) {
            h[i * D + d] = dsp_test_rand(&seed);
            hp[i * D + d] = h[i * D + d] + 0.6 * dsp_test_rand(&seed);
            nh += h[i * D + d] * h[i * D + d];
            np += hp[i * D + d] * hp[i * D + d];
        }
        for (int d = 0; d < D; d++) {
            h[i * D + d] /= sqrt(nh);
            hp[i * D + d] /= sqrt(np);
        }
    }
    for (int k = 0; k < DSP_OBJ_COUNT; k++) {
        for (int pa = 0; pa < (k >= DSP_OBJ_MPT ? 2 : 1); pa++) {
            dsp_objective o = obj((dsp_objective_kind)k);
            o.per_anchor = pa;
            if (k == DSP_OBJ_MET) o.margin = 1.0;   /* make some hinges active on these loose pairs */
            double dh[N * D], dhp[N * D], pos[N * D], neg[N * D], dhp2[N * D], dh2[N * D];
            dsp_objective_diag dg, dg2;
            CHECK_OK(dsp_objective_eval(&o, h, hp, N, D, dh, dhp, &dg, &err), &err);
            CHECK_OK(dsp_objective_eval_split(&o, h, hp, N, D, pos, neg, dhp2, &dg2, &err), &err);
            double gp = 0, gn = 0, gt = 0, maxdiff = 0;
            for (int i = 0; i < N; i++) {
                double sp = 0, sn = 0, st = 0;
                for (int d = 0; d < D; d++) {
                    int q = i * D + d;
                    double diff = fabs(pos[q] + neg[q] - dh[q]);
                    if (diff > maxdiff) maxdiff = diff;
                    sp += pos[q] * pos[q];
                    sn += neg[q] * neg[q];
                    st += dh[q] * dh[q];
                }
                gp += N * sqrt(sp) / N;
                gn += N * sqrt(sn) / N;
                gt += N * sqrt(st) / N;
            }
            CHECK_MSG(maxdiff == 0, "%s: pos + neg differs from dh by %g", dsp_objective_name(o.kind), maxdiff);
            CHECK_NEAR(dg.grad_h_pos, gp, 1e-14, 1e-12);
            CHECK_NEAR(dg.grad_h_neg, gn, 1e-14, 1e-12);
            CHECK_NEAR(dg.grad_h, gt, 1e-14, 1e-12);
            CHECK(dg.grad_h <= dg.grad_h_pos + dg.grad_h_neg + 1e-12);   /* triangle inequality per anchor */
            CHECK(dg.loss == dg2.loss);
            CHECK(memcmp(dhp, dhp2, sizeof dhp) == 0);
            /* Loss only, and gradient without diagnostics, give the same numbers. */
            dsp_objective_diag dg3;
            CHECK_OK(dsp_objective_eval(&o, h, hp, N, D, NULL, NULL, &dg3, &err), &err);
            CHECK(dg3.loss == dg.loss && (dg3.gd == dg.gd || (isnan(dg3.gd) && isnan(dg.gd))));
            CHECK_OK(dsp_objective_eval(&o, h, hp, N, D, dh2, NULL, NULL, &err), &err);
            CHECK(memcmp(dh, dh2, sizeof dh) == 0);
            /* The gd key: NAN exactly for au and dcl, a fraction in [0, 1] otherwise. */
            if (k == DSP_OBJ_AU || k == DSP_OBJ_DCL) CHECK(isnan(dg.gd));
            else CHECK(dg.gd >= 0 && dg.gd <= 1);
        }
    }
}

/* ---------------------------------------------------------------- normalisation */

static void test_normalize(void) {
    double z[6] = {3, 4, 0, 0, 0, 0}, h[6], n[2], dh[6] = {1, 1, 0, 0.5, 2, -1}, dz[6];
    dsp_normalize_forward(z, h, n, 2, 3);
    CHECK(n[0] == 5 && h[0] == 0.6 && h[1] == 0.8 && h[2] == 0);
    /* A zero row stays zero (as F.normalize with eps 1e-12), never NaN; its backward is dh/eps. */
    CHECK(h[3] == 0 && h[4] == 0 && h[5] == 0 && n[1] == 1e-12);
    dsp_normalize_backward(h, n, dh, dz, 2, 3);
    /* Row 0: dz = (dh − (h·dh) h)/5 with h·dh = 1.4: ((1 − 0.84)/5, (1 − 1.12)/5, 0). */
    CHECK_NEAR(dz[0], 0.16 / 5, 1e-16, 1e-14);
    CHECK_NEAR(dz[1], -0.12 / 5, 1e-16, 1e-14);
    CHECK(dz[2] == 0);
    CHECK(dz[3] == 0.5 / 1e-12 && dz[4] == 2 / 1e-12 && dz[5] == -1 / 1e-12);
}

int main(void) {
    test_mathd();
    test_names_and_defaults();
    test_validation();
    test_infonce_by_hand();
    test_dcl_dclp_by_hand();
    test_au_by_hand();
    test_mpt_direction_ties_floor();
    test_met_mat_by_hand();
    test_collapsed();
    test_split_sums_to_total();
    test_normalize();
    return dsp_test_end("test_objectives");
}
