/* test_threadpool.c — dsp_pool_run runs every task exactly once, on a valid thread index, for any thread count,
 * each thread starting in its own range of the tasks;
 * survives many back-to-back jobs and jobs after the workers went to sleep; nested runs (a task running a job
 * on the same pool or on another one) and a NULL pool run serially and still run everything once. */
#define _POSIX_C_SOURCE 200809L /* nanosleep, clock_gettime */
#include "dissipate.h"
#include "testutil.h"

#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#define MAX_TASKS 1000

typedef struct {
    atomic_int count[MAX_TASKS];
    atomic_int bad_thread;
    int n_threads;
} tally;

static void count_task(void *ctx, int task, int thread) {
    tally *t = ctx;
    atomic_fetch_add(&t->count[task], 1);
    if (thread < 0 || thread >= t->n_threads) atomic_fetch_add(&t->bad_thread, 1);
}

static void tally_reset(tally *t, int n_threads) {
    for (int i = 0; i < MAX_TASKS; i++) atomic_store(&t->count[i], 0);
    atomic_store(&t->bad_thread, 0);
    t->n_threads = n_threads;
}

/* Every task exactly once, none past n_tasks. */
static int tally_ok(tally *t, int n_tasks) {
    for (int i = 0; i < MAX_TASKS; i++)
        if (atomic_load(&t->count[i]) != (i < n_tasks ? 1 : 0)) return 0;
    return atomic_load(&t->bad_thread) == 0;
}

static void sleep_ms(int ms) {
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static tally tl;

/* Two tasks that wait for each other: each marks its thread, then waits (up to 5 s) until two different threads
 * have marked. A pool that ran its tasks serially (a stuck busy flag, workers that never start) would leave the
 * first task waiting alone, so the thread-count tests that compare bits would only compare serial with serial. */
typedef struct { atomic_uint seen; } meet;

static void meet_task(void *ctx, int task, int thread) {
    (void)task;
    meet *m = ctx;
    atomic_fetch_or(&m->seen, 1u << (thread & 31));
    double t0 = now_s();
    while (__builtin_popcount(atomic_load(&m->seen)) < 2 && now_s() - t0 < 5) sched_yield();
}

static void test_workers_take_part(dsp_pool *pool, const char *label) {
    meet m;
    atomic_init(&m.seen, 0);
    dsp_pool_run(pool, meet_task, &m, 2);
    CHECK_MSG(__builtin_popcount(atomic_load(&m.seen)) == 2, "%s: the two tasks ran on one thread (mask %#x)", label,
              atomic_load(&m.seen));
}

/* Each thread starts in its own contiguous range of the tasks (so that consecutive jobs cut the same way give a
 * thread the rows it wrote last). Task 0 holds the caller (thread 0) until another task has started, so the caller
 * cannot take the worker's range before the worker wakes: the worker's first task must be the first of the second
 * half, not task 1 (which a single shared counter would hand it). */
typedef struct {
    atomic_int started, first_of_worker;
} first_task;

static void first_task_fn(void *ctx, int task, int thread) {
    first_task *f = ctx;
    if (thread == 1) {
        int none = -1;
        atomic_compare_exchange_strong(&f->first_of_worker, &none, task);
    }
    atomic_fetch_add(&f->started, 1);
    double t0 = now_s();
    if (task == 0)
        while (atomic_load(&f->started) < 2 && now_s() - t0 < 5) sched_yield();
}

static void test_own_range_first(dsp_pool *pool) {
    const int n_tasks = 10;
    first_task f;
    atomic_init(&f.started, 0);
    atomic_init(&f.first_of_worker, -1);
    dsp_pool_run(pool, first_task_fn, &f, n_tasks);
    CHECK_MSG(atomic_load(&f.first_of_worker) == n_tasks / 2,
              "2 threads, %d tasks: the worker's first task was %d, not the first of its own range (%d)", n_tasks,
              atomic_load(&f.first_of_worker), n_tasks / 2);
}

static void test_counts(dsp_pool *pool, const char *label) {
    const int sizes[] = {0, 1, 2, 3, 7, 64, 100, 999, 1000};
    int ok_runs = 0, runs = 0;
    for (int rep = 0; rep < 300; rep++)
        for (int s = 0; s < 9; s++) {
            tally_reset(&tl, dsp_pool_threads(pool));
            dsp_pool_run(pool, count_task, &tl, sizes[s]);
            ok_runs += tally_ok(&tl, sizes[s]);
            runs++;
        }
    CHECK_MSG(ok_runs == runs, "%s: %d of %d runs miscounted tasks", label, runs - ok_runs, runs);
}

/* Jobs after the workers have stopped spinning and gone to sleep (the spin lasts 0.2 ms). */
static void test_after_sleep(dsp_pool *pool) {
    int ok = 1;
    for (int rep = 0; rep < 5; rep++) {
        sleep_ms(3);
        tally_reset(&tl, dsp_pool_threads(pool));
        dsp_pool_run(pool, count_task, &tl, 37);
        ok &= tally_ok(&tl, 37);
    }
    CHECK_MSG(ok, "jobs after idle periods miscounted");
}

/* Nested runs: each outer task runs an inner job on `inner` (another pool, or the same one, or NULL). */
typedef struct {
    dsp_pool *inner;
    atomic_int cells[16][32]; /* [outer task][inner task] */
} nest_ctx;

typedef struct {
    nest_ctx *n;
    int outer;
} nest_inner;

static void nested_inner_task(void *ctx, int task, int thread) {
    nest_inner *ni = ctx;
    atomic_fetch_add(&ni->n->cells[ni->outer][task], 1);
}

static void nested_outer_task(void *ctx, int task, int thread) {
    nest_ctx *n = ctx;
    nest_inner ni = {n, task};
    dsp_pool_run(n->inner, nested_inner_task, &ni, 32);
}

static void test_nested(dsp_pool *outer, dsp_pool *inner, const char *label) {
    static nest_ctx n;
    for (int rep = 0; rep < 50; rep++) {
        n.inner = inner;
        for (int i = 0; i < 16; i++)
            for (int j = 0; j < 32; j++) atomic_store(&n.cells[i][j], 0);
        dsp_pool_run(outer, nested_outer_task, &n, 16);
        int ok = 1;
        for (int i = 0; i < 16; i++)
            for (int j = 0; j < 32; j++) ok &= atomic_load(&n.cells[i][j]) == 1;
        if (!ok) {
            CHECK_MSG(ok, "nested (%s): some inner task did not run exactly once", label);
            return;
        }
    }
    CHECK(1);
}

static void empty_task(void *ctx, int task, int thread) { (void)ctx, (void)task, (void)thread; }

int main(void) {
    CHECK(dsp_pool_threads(NULL) == 1);
    test_counts(NULL, "NULL pool");
    dsp_pool_free(NULL); /* allowed */

    dsp_pool *p0 = dsp_pool_create(0);
    CHECK(p0 != NULL && dsp_pool_threads(p0) == 1);
    dsp_pool_free(p0);

    for (int n = 1; n <= 4; n++) {
        dsp_pool *pool = dsp_pool_create(n);
        CHECK(pool != NULL);
        if (!pool) continue;
        int threads = dsp_pool_threads(pool);
#if defined(DSP_THREADS) && !(defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__))
        CHECK_MSG(threads == n, "pool of %d reports %d threads", n, threads);
#else
        CHECK(threads == 1);
#endif
        char label[32];
        snprintf(label, sizeof label, "%d threads", n);
        test_counts(pool, label);
        if (threads > 1) test_workers_take_part(pool, label);
        if (threads == 2) test_own_range_first(pool);
        test_after_sleep(pool);
        test_nested(pool, pool, "same pool");
        test_nested(pool, NULL, "NULL inner");
        dsp_pool *other = dsp_pool_create(2);
        test_nested(pool, other, "other pool");
        dsp_pool_free(other);

        /* Hand-off cost of an empty job (informational: a loaded machine would make a bound flaky). */
        const int reps = 2000;
        double t0 = now_s();
        for (int i = 0; i < reps; i++) dsp_pool_run(pool, empty_task, NULL, threads);
        printf("%d threads: empty job round trip %.2f us\n", n, (now_s() - t0) / reps * 1e6);
        dsp_pool_free(pool);
    }
    return dsp_test_end("test_threadpool");
}
