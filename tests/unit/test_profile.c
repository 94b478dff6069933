/* test_profile.c — the step profile's spans (engine/profile.h): nesting counts once under the outer name, names
 * accumulate, a full table drops (and counts) new names, the clock measures, and kernels record under their names. */
#define _POSIX_C_SOURCE 200809L /* nanosleep under -std=c11 */
#include "kernels.h"
#include "profile.h"
#include "testutil.h"

#include <time.h>

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {}
}

static void test_null_profile(void) {
    dsp_prof_begin(NULL);
    dsp_prof_end(NULL, "x");
    dsp_prof_reset(NULL);
    CHECK(dsp_prof_find(NULL, "x") == NULL);
}

static void test_nesting_and_accumulation(void) {
    dsp_prof p;
    dsp_prof_reset(&p);
    dsp_prof_begin(&p);
    dsp_prof_begin(&p);
    sleep_ms(3);
    dsp_prof_end(&p, "inner");
    dsp_prof_end(&p, "outer");
    CHECK_MSG(dsp_prof_find(&p, "inner") == NULL, "a nested span was recorded on its own");
    const dsp_prof_part *o = dsp_prof_find(&p, "outer");
    CHECK(o && o->calls == 1);
    CHECK_MSG(o && o->ms >= 3.0, "a span around a 3 ms sleep measured %g ms", o ? o->ms : -1.0);
    CHECK(p.depth == 0 && p.n_parts == 1);
    /* the same name again (a string with the same contents, elsewhere) adds to the part */
    char name[] = "outer";
    dsp_prof_begin(&p);
    dsp_prof_end(&p, name);
    CHECK(o && o->calls == 2 && p.n_parts == 1);
    /* an end without a begin changes nothing */
    double before = o ? o->ms : 0;
    dsp_prof_end(&p, "outer");
    CHECK(o && o->calls == 2 && o->ms == before && p.depth == 0);
}

static void test_full_table(void) {
    static char names[DSP_PROF_PARTS + 3][16];
    dsp_prof p;
    dsp_prof_reset(&p);
    for (int i = 0; i < DSP_PROF_PARTS + 3; i++) {
        snprintf(names[i], sizeof names[i], "part %d", i);
        dsp_prof_begin(&p);
        dsp_prof_end(&p, names[i]);
    }
    CHECK(p.n_parts == DSP_PROF_PARTS);
    CHECK_MSG(p.dropped == 3, "dropped %d spans, expected 3", p.dropped);
    CHECK(dsp_prof_find(&p, names[DSP_PROF_PARTS + 2]) == NULL);
    dsp_prof_begin(&p); /* a name already in the table still records */
    dsp_prof_end(&p, names[0]);
    CHECK(dsp_prof_find(&p, names[0])->calls == 2 && p.dropped == 3);
}

/* Kernels record under the public function's name; the kernel one calls inside (dsp_dropout_add's dsp_vec_add when
 * p = 0) counts under the outer one. */
static void test_kernels_record(void) {
    dsp_prof p;
    dsp_prof_reset(&p);
    dsp_pool *pool = dsp_pool_create(2);
    dsp_kctx k = {pool, DSP_KERNELS_SIMD128, &p};
    enum { T = 8, C = 16, OC = 12 };
    float x[T * C], w[OC * C], y[T * OC], r[T * C];
    for (int i = 0; i < T * C; i++) x[i] = (float)(i % 7) - 3.0f, r[i] = 1.0f;
    for (int i = 0; i < OC * C; i++) w[i] = (float)(i % 5) * 0.25f;
    dsp_matmul_forward(&k, y, x, w, NULL, T, C, OC);
    dsp_matmul_forward(&k, y, x, w, NULL, T, C, OC);
    dsp_dropout_add(&k, x, T * C, (dsp_dropout){0.0f, 1, 2}, NULL, r);
    const dsp_prof_part *mf = dsp_prof_find(&p, "dsp_matmul_forward");
    CHECK_MSG(mf && mf->calls == 2, "dsp_matmul_forward: %ld calls", mf ? mf->calls : -1L);
    CHECK(dsp_prof_find(&p, "dropout_add") != NULL);
    CHECK_MSG(dsp_prof_find(&p, "dsp_vec_add") == NULL, "dsp_vec_add inside dsp_dropout_add counted on its own");
    CHECK(p.depth == 0);
    dsp_pool_free(pool);
}

int main(void) {
    test_null_profile();
    test_nesting_and_accumulation();
    test_full_table();
    test_kernels_record();
    return dsp_test_end("test_profile");
}
