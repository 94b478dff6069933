/* threadpool.c — persistent workers for dsp_pool_run.
 *
 * Kernels call dsp_pool_run many times per training step (a few per layer, forward and backward), each
 * job lasting from tens of microseconds to milliseconds, so the hand-off must be cheap: a futex barrier costs
 * 20–50 µs per round trip, a spin on C11 atomics about 1 µs. Workers therefore spin on the job generation for
 * a short while after each job (SPIN_NS) and only then sleep on a condition variable, so that an idle pool
 * (between evaluations, or after training) does not burn a core.
 *
 * A job is (fn, ctx, n_tasks). Its tasks are cut into one contiguous range per thread, each with its own atomic
 * counter: a thread claims from its own range first, then from the others', so fast threads take more. Kernels
 * number their tasks in row order, so in consecutive jobs a thread mostly reads the rows it has just written,
 * from its own core's cache, rather than the other core's (one shared counter handed rows out at random).
 * Results stay bit-identical for any thread count because a task's output depends only on its index (dissipate.h).
 * The caller's thread works too (thread 0) and returns when every task has finished — it never waits for a
 * worker that has not woken up, so a descheduled worker (more threads than free cores) costs nothing.
 * Waiting threads poll, then poll and yield, so that on a busy machine they hand the core to the thread
 * they are waiting for.
 *
 * A pool runs one job at a time. A call that finds it busy — from inside one of its own tasks, or from a
 * second thread — runs its tasks serially on the calling thread instead of deadlocking.
 *
 * Built without DSP_THREADS, or as single-threaded WebAssembly, every pool is serial.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthreads under -std=c11 */
#include "dissipate.h"

#include <stdlib.h>

#if !defined(DSP_THREADS) || (defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__))
#define DSP_POOL_SERIAL 1
#endif

static void run_serial(dsp_task_fn fn, void *ctx, int n_tasks) {
    for (int t = 0; t < n_tasks; t++) fn(ctx, t, 0);
}

#ifdef DSP_POOL_SERIAL /* ---------------------------------------------------------------- serial build */

struct dsp_pool { int n; };

dsp_pool *dsp_pool_create(int n_threads) {
    (void)n_threads;
    dsp_pool *p = malloc(sizeof *p);
    if (p) p->n = 1;
    return p;
}

void dsp_pool_free(dsp_pool *pool) { free(pool); }

int dsp_pool_threads(const dsp_pool *pool) { (void)pool; return 1; }

void dsp_pool_run(dsp_pool *pool, dsp_task_fn fn, void *ctx, int n_tasks) {
    (void)pool;
    run_serial(fn, ctx, n_tasks);
}

#else /* ---------------------------------------------------------------- threaded build */

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#define DSP_POOL_MAX_THREADS 256
#ifdef __EMSCRIPTEN__
#define SPIN_NS 2000000L /* 2 ms: a browser wakes a sleeping worker slowly (Atomics.notify to a Web Worker) */
#else
#define SPIN_NS 200000L   /* 0.2 ms: longer than the gaps between kernels of one step, short enough to idle */
#endif
#define SPIN_PURE 2000    /* polls before spinning starts to yield (a poll is a few ns) */
#define SPIN_CHECK 255    /* read the clock every 256 polls */

/* One cache line each, so that claims in one range do not slow down the other threads' claims. */
typedef struct {
    _Alignas(64) _Atomic uint64_t next;
} range_ticket;

typedef struct {
    dsp_pool *pool;
    int id; /* 1 .. n-1; the caller is 0 */
} worker_arg;

/* A job's description. Two slots, by generation parity: a worker that wakes late may still read the slot of
 * an older job while the caller fills the other one; it cannot run anything from it (see `ticket`). */
typedef struct {
    _Atomic(dsp_task_fn) fn;
    _Atomic(void *) ctx;
    atomic_int n_tasks;
} job_slot;

struct dsp_pool {
    int n; /* threads including the caller: workers actually started + 1 */
    pthread_t *threads;
    worker_arg *args;
    job_slot slot[2];
    /* Per thread, (generation << 32) | next task index of its range. Tasks are claimed by compare-and-swap on
     * the whole word, so a claim made for an older generation fails: no worker can run a task of a job it did
     * not read. */
    range_ticket *ticket;
    atomic_int done;          /* tasks of the current job finished */
    atomic_uint generation;   /* bumped once per job; workers wait on it */
    atomic_int stop;
    atomic_int busy;          /* a job is running: nested or concurrent callers go serial */
    atomic_int sleepers;      /* workers blocked (or about to block) on cv */
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

/* In 64 bits: long is 32 bits in wasm, where a few seconds of nanoseconds would overflow it. */
static int64_t elapsed_ns(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)(t.tv_sec - t0->tv_sec) * 1000000000 + (t.tv_nsec - t0->tv_nsec);
}

/* Thread r's range of a job of n tasks: [range_start(n, r, threads), range_start(n, r + 1, threads)). */
static uint32_t range_start(uint32_t n, int r, int threads) { return (uint32_t)((uint64_t)n * r / threads); }

/* Claims and runs tasks of generation gen, its own range first, until none is left (or a newer job replaced it). */
static void run_tasks(dsp_pool *p, unsigned gen, int thread) {
    job_slot *s = &p->slot[gen & 1];
    dsp_task_fn fn = atomic_load(&s->fn);
    void *ctx = atomic_load(&s->ctx);
    uint32_t n = (uint32_t)atomic_load(&s->n_tasks);
    for (int k = 0; k < p->n; k++) {
        int r = (thread + k) % p->n;
        uint32_t end = range_start(n, r + 1, p->n);
        _Atomic uint64_t *next = &p->ticket[r].next;
        uint64_t t = atomic_load(next);
        for (;;) {
            if ((uint32_t)(t >> 32) != gen) return;
            if ((uint32_t)t >= end) break;
            if (!atomic_compare_exchange_weak(next, &t, t + 1)) continue; /* t reloaded */
            fn(ctx, (int)(uint32_t)t, thread);
            atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
            t = atomic_load(next);
        }
    }
}

/* Spins while cond() holds: polls, then polls and yields (so that an oversubscribed machine can run the
 * thread we are waiting for), for at most `limit_ns` (< 0: forever). Returns 1 if the wait was cut short. */
#define SPIN_WHILE(cond, limit_ns)                                                                  \
    do {                                                                                            \
        struct timespec t0_;                                                                        \
        clock_gettime(CLOCK_MONOTONIC, &t0_);                                                       \
        for (long i_ = 0; (cond); i_++) {                                                           \
            if (i_ < SPIN_PURE) continue;                                                           \
            sched_yield();                                                                          \
            if ((limit_ns) >= 0 && (i_ & SPIN_CHECK) == 0 && elapsed_ns(&t0_) > (limit_ns)) break;  \
        }                                                                                           \
    } while (0)

/* Waits until the generation differs from `seen`: spins first, then sleeps. */
static unsigned wait_for_job(dsp_pool *p, unsigned seen) {
    SPIN_WHILE(atomic_load_explicit(&p->generation, memory_order_acquire) == seen, SPIN_NS);
    unsigned g = atomic_load_explicit(&p->generation, memory_order_acquire);
    if (g != seen) return g;
    /* Dekker-style hand-shake with dsp_pool_run (both sides seq_cst): either the caller sees sleepers > 0
     * and broadcasts under the mutex, or this thread sees the new generation before waiting. */
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->sleepers, 1);
    while ((g = atomic_load(&p->generation)) == seen) pthread_cond_wait(&p->cv, &p->mu);
    atomic_fetch_sub(&p->sleepers, 1);
    pthread_mutex_unlock(&p->mu);
    return g;
}

static void *worker_main(void *arg) {
    worker_arg *w = arg;
    dsp_pool *p = w->pool;
    unsigned seen = 0; /* the generation at creation: a job posted before this thread got going is not missed */
    for (;;) {
        seen = wait_for_job(p, seen);
        if (atomic_load(&p->stop)) break;
        run_tasks(p, seen, w->id);
    }
    return NULL;
}

dsp_pool *dsp_pool_create(int n_threads) {
    if (n_threads < 1) n_threads = 1;
    if (n_threads > DSP_POOL_MAX_THREADS) n_threads = DSP_POOL_MAX_THREADS;
    dsp_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = 1;
    for (int i = 0; i < 2; i++) {
        atomic_init(&p->slot[i].fn, NULL);
        atomic_init(&p->slot[i].ctx, NULL);
        atomic_init(&p->slot[i].n_tasks, 0);
    }
    atomic_init(&p->done, 0);
    atomic_init(&p->generation, 0);
    atomic_init(&p->stop, 0);
    atomic_init(&p->busy, 0);
    atomic_init(&p->sleepers, 0);
    if (n_threads == 1) return p;
    p->threads = calloc((size_t)n_threads - 1, sizeof *p->threads);
    p->args = calloc((size_t)n_threads - 1, sizeof *p->args);
    p->ticket = aligned_alloc(sizeof(range_ticket), (size_t)n_threads * sizeof(range_ticket));
    if (!p->threads || !p->args || !p->ticket || pthread_mutex_init(&p->mu, NULL) != 0) goto fail;
    for (int i = 0; i < n_threads; i++) atomic_init(&p->ticket[i].next, 0);
    if (pthread_cond_init(&p->cv, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        goto fail;
    }
    /* If the system refuses a thread, the pool keeps the ones it got (n counts only started threads). */
    for (int i = 0; i < n_threads - 1; i++) {
        p->args[i].pool = p;
        p->args[i].id = i + 1;
        if (pthread_create(&p->threads[i], NULL, worker_main, &p->args[i]) != 0) break;
        p->n++;
    }
    return p;
fail:
    free(p->threads);
    free(p->args);
    free(p->ticket);
    free(p);
    return NULL;
}

void dsp_pool_free(dsp_pool *pool) {
    if (!pool) return;
    if (pool->threads) {
        atomic_store(&pool->stop, 1);
        atomic_fetch_add(&pool->generation, 1);
        pthread_mutex_lock(&pool->mu);
        pthread_cond_broadcast(&pool->cv);
        pthread_mutex_unlock(&pool->mu);
        for (int i = 0; i < pool->n - 1; i++) pthread_join(pool->threads[i], NULL);
        pthread_cond_destroy(&pool->cv);
        pthread_mutex_destroy(&pool->mu);
    }
    free(pool->threads);
    free(pool->args);
    free(pool->ticket);
    free(pool);
}

int dsp_pool_threads(const dsp_pool *pool) { return pool ? pool->n : 1; }

void dsp_pool_run(dsp_pool *pool, dsp_task_fn fn, void *ctx, int n_tasks) {
    if (n_tasks <= 0) return;
    int idle = 0;
    if (!pool || pool->n == 1 || n_tasks == 1 ||
        !atomic_compare_exchange_strong(&pool->busy, &idle, 1)) {
        run_serial(fn, ctx, n_tasks);
        return;
    }
    unsigned gen = atomic_load(&pool->generation) + 1;
    job_slot *s = &pool->slot[gen & 1];
    atomic_store(&s->fn, fn);
    atomic_store(&s->ctx, ctx);
    atomic_store(&s->n_tasks, n_tasks);
    atomic_store(&pool->done, 0);
    for (int r = 0; r < pool->n; r++)
        atomic_store(&pool->ticket[r].next, (uint64_t)gen << 32 | range_start((uint32_t)n_tasks, r, pool->n));
    atomic_store(&pool->generation, gen); /* seq_cst: publishes the job, orders before the sleepers check */
    if (atomic_load(&pool->sleepers) > 0) {
        pthread_mutex_lock(&pool->mu);
        pthread_cond_broadcast(&pool->cv);
        pthread_mutex_unlock(&pool->mu);
    }
    run_tasks(pool, gen, 0);
    /* Only tasks already claimed can be outstanding; workers that never woke up are not waited for. */
    SPIN_WHILE(atomic_load_explicit(&pool->done, memory_order_acquire) != n_tasks, -1);
    atomic_store(&pool->busy, 0);
}

#endif
