/* bench_kernels.c — `dissipate bench`'s GEMM table: the engine's matmul kernels (scalar, SIMD128 — and, where that
 * runs AVX's encoding, the same kernels in SSE2's — and AVX2) and OpenBLAS's cblas_sgemm on the same shapes, in the
 * same process and run, so ratios compare like with like.
 *
 * OpenBLAS is loaded with dlopen (no build dependency); its core name and configuration are printed because
 * OPENBLAS_CORETYPE decides which kernels it runs (this machine pins Haswell: AVX2 + FMA). Its thread count is
 * set to the row's thread count. Engine timings come first, OpenBLAS's after, and each side's worker threads
 * are idle while the other runs, so neither steals cores from the other. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "bench_kernels.h"

#include "kernels.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_T 2900
#define N_SHAPES 4
#define N_PRODUCTS 3
#define MAX_THREADS_ROWS 2
#define N_SETS 5 /* scalar, simd128, simd128 in SSE2 encoding, avx2, avx512 */
static const int SHAPES[N_SHAPES][2] = {{128, 384}, {128, 128}, {128, 512}, {512, 128}}; /* (C, OC) */
static const char *SHAPE_NAMES[N_SHAPES] = {"qkv 128>384", "128>128", "ffn 128>512", "ffn 512>128"};
static const char *PRODUCTS[N_PRODUCTS] = {"fwd", "dinp", "dw"};

/* cblas_sgemm with the CBLAS enums as ints (RowMajor 101, NoTrans 111, Trans 112). */
typedef void (*sgemm_fn)(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                         const float *b, int ldb, float beta, float *c, int ldc);
typedef struct {
    void *lib;
    sgemm_fn sgemm;
    void (*set_threads)(int);
    char *(*corename)(void);
    char *(*config)(void);
} openblas;

static int openblas_open(openblas *ob) {
    memset(ob, 0, sizeof *ob);
#ifdef __EMSCRIPTEN__
    return -1; /* WebAssembly (wasm/bench_gemm_main.c): no native libraries to load */
#endif
    ob->lib = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!ob->lib) return -1;
    *(void **)&ob->sgemm = dlsym(ob->lib, "cblas_sgemm");
    *(void **)&ob->set_threads = dlsym(ob->lib, "openblas_set_num_threads");
    *(void **)&ob->corename = dlsym(ob->lib, "openblas_get_corename");
    *(void **)&ob->config = dlsym(ob->lib, "openblas_get_config");
    if (!ob->sgemm || !ob->set_threads) {
        dlclose(ob->lib);
        ob->lib = NULL;
        return -1;
    }
    return 0;
}

typedef struct {
    float *inp, *w, *b, *dout, *out, *dinp, *dw;
} buffers;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One product of one shape with the engine's kernels (kctx) or OpenBLAS (ob). */
static void run_product(const dsp_kctx *k, const openblas *ob, int product, const buffers *m, int C, int OC) {
    const int T = BENCH_T;
    if (ob) {
        if (product == 0) ob->sgemm(101, 111, 112, T, OC, C, 1.0f, m->inp, C, m->w, C, 0.0f, m->out, OC);
        else if (product == 1) ob->sgemm(101, 111, 111, T, C, OC, 1.0f, m->dout, OC, m->w, C, 1.0f, m->dinp, C);
        else ob->sgemm(101, 112, 111, OC, C, T, 1.0f, m->dout, OC, m->inp, C, 1.0f, m->dw, C);
        return;
    }
    if (product == 0) dsp_matmul_forward(k, m->out, m->inp, m->w, m->b, T, C, OC);
    else if (product == 1) dsp_matmul_backward(k, m->dinp, NULL, NULL, m->dout, m->inp, m->w, T, C, OC);
    else dsp_matmul_backward(k, NULL, m->dw, NULL, m->dout, m->inp, m->w, T, C, OC);
}

/* GFLOP/s of the fastest and the median of `reps` timed runs, after one warm-up run (scratch allocation, page
 * faults). The fastest is the headline, as in BLIS's test suite: on a shared machine noise only ever slows a run. */
typedef struct {
    double best, median;
} rate;

#define REPS 15 /* at least SCALAR_REPS: measure's buffer holds REPS times */
#define SCALAR_REPS 3

static rate measure(const dsp_kctx *k, const openblas *ob, int product, const buffers *m, int C, int OC, int reps) {
    double t[REPS];
    run_product(k, ob, product, m, C, OC);
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        run_product(k, ob, product, m, C, OC);
        t[r] = now_s() - t0;
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp_double);
    const double flop = 2.0 * BENCH_T * C * OC;
    return (rate){flop / t[0] * 1e-9, flop / t[reps / 2] * 1e-9};
}

static float *filled(size_t n, unsigned seed) {
    float *x = malloc(n * sizeof(float));
    if (!x) return NULL;
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)(seed >> 8) * (1.0f / 16777216.0f) - 0.5f;
    }
    return x;
}

/* A table cell: the value, or "-" where the column does not apply. */
static void cell_text(char cell[16], int present, double v, const char *fmt) {
    if (present) snprintf(cell, 16, fmt, v);
    else snprintf(cell, 16, "-");
}

/* A rate cell: "fastest/median", or "-" where the column does not apply. */
static void rate_text(char cell[24], int present, rate r) {
    if (present) snprintf(cell, 24, "%.1f/%.1f", r.best, r.median);
    else snprintf(cell, 24, "-");
}

void dsp_ceiling_init(dsp_ceiling *c, dsp_kernels set) {
    /* The 128-bit units are the same whichever encoding drives them: sse2 is held to the ceiling measured in AVX's
     * encoding, whose three-operand code reaches it (in SSE2's, the loop's register copies limit it, and the SSE2
     * GEMM outran it). */
    if (set == DSP_KERNELS_SIMD128_SSE2 && dsp_bench_two_encodings()) set = DSP_KERNELS_SIMD128;
    *c = (dsp_ceiling){.set = set, .reps = 0, .samples = 0, .best = 0, .threads = 0, .best_all = 0};
}

void dsp_ceiling_sample(dsp_ceiling *c) {
    int lanes = 0;
    dsp_peak_fn peak = dsp_peak_for(c->set, &lanes);
    if (!peak) return;
    volatile float sink = 0; /* the loop's result is used, so it runs in full */
    if (c->reps == 0) { /* calibrate: about 5 ms a run, long enough for the clock, short against the noise */
        c->reps = 1 << 14;
        for (;;) {
            double t0 = now_s();
            sink += peak(c->reps);
            if (now_s() - t0 >= 0.005 || c->reps >= LONG_MAX / 2) break;
            c->reps *= 2;
        }
        /* A core that was idle runs slow for a while: 0.1 s of the loop, untimed, first. */
        for (double w0 = now_s(); now_s() - w0 < 0.1;) sink += peak(c->reps);
    }
    double t0 = now_s();
    sink += peak(c->reps);
    const double gflops = (double)c->reps * DSP_PEAK_CHAINS * lanes * 2 / (now_s() - t0) * 1e-9;
    if (gflops > c->best) c->best = gflops;
    c->samples++;
    (void)sink;
}

typedef struct {
    dsp_peak_fn peak;
    long reps;
    float sink[256]; /* one per task: the results are used, so every run is done in full */
} peak_job;

/* Runs of the loop per thread in one at-once sample: about 50 ms, the time scale of a training step. In 5 ms
 * windows a shared host that pauses a vCPU for a few milliseconds at a time spoils nearly every sample, and the
 * figure said less than the steps themselves got (1.3x against 1.6x in one run here). */
#define AT_ONCE_RUNS 10

static void peak_task(void *ctx, int task, int thread) {
    peak_job *j = ctx;
    (void)thread;
    for (int r = 0; r < AT_ONCE_RUNS; r++) j->sink[task & 255] += j->peak(j->reps);
}

void dsp_ceiling_sample_pool(dsp_ceiling *c, dsp_pool *pool) {
    int lanes = 0, n = pool ? dsp_pool_threads(pool) : 1;
    peak_job j = {dsp_peak_for(c->set, &lanes), c->reps, {0}};
    if (n < 2 || !j.peak || c->reps == 0) return;
    /* n tasks on n threads: a thread that finds no idle core left takes two, and the time shows it */
    double t0 = now_s();
    dsp_pool_run(pool, peak_task, &j, n);
    const double gflops = (double)n * AT_ONCE_RUNS * c->reps * DSP_PEAK_CHAINS * lanes * 2 / (now_s() - t0) * 1e-9;
    if (gflops > c->best_all) c->best_all = gflops;
    c->threads = n;
    volatile float keep = j.sink[0];
    (void)keep;
}

int dsp_bench_two_encodings(void) {
    return strcmp(dsp_kernels_encoding(DSP_KERNELS_SIMD128), dsp_kernels_encoding(DSP_KERNELS_SIMD128_SSE2)) != 0;
}

dsp_ceiling *dsp_ceiling_tracker(dsp_ceiling *ceilings, int k) {
    for (int j = 0; j < k; j++)
        if (ceilings[j].set == ceilings[k].set) return &ceilings[j];
    return &ceilings[k];
}

void dsp_bench_load_average(char *buf, size_t size) {
    buf[0] = 0;
    FILE *la = fopen("/proc/loadavg", "r"); /* Linux only; elsewhere nothing is printed */
    if (!la) return;
    if (!fgets(buf, (int)size, la)) buf[0] = 0;
    buf[strcspn(buf, "\n")] = 0;
    fclose(la);
}

int dsp_bench_shows(dsp_kernels only, dsp_kernels set) {
    if (set == only) return 1;
    if (set == DSP_KERNELS_SIMD128_SSE2) /* beside simd128, only where that runs another encoding */
        return (only == DSP_KERNELS_AUTO || only == DSP_KERNELS_SIMD128) && dsp_bench_two_encodings();
    return only == DSP_KERNELS_AUTO;
}

#ifdef __EMSCRIPTEN__
#define CEILING_SHOWN 0 /* V8 runs the ceiling loop at half its GEMM's rate (node 20): there it would bound nothing */
#else
#define CEILING_SHOWN 1
/* Each vector set's ceiling, and its 1-thread GEMM (the fastest run of each product) as a share of it: how much of
 * the arithmetic the packing, loads and loop overhead leave. */
static void print_ceiling_shares(FILE *out, const int have[N_SETS], dsp_ceiling ceiling[N_SETS],
                                 rate one_thread[N_SHAPES][N_PRODUCTS][N_SETS + 1]) {
    static const char *names[N_SETS] = {"scalar", "simd128", "sse2", "avx2", "avx512"};
    int any = 0;
    for (int s = 1; s < N_SETS; s++) {
        if (!have[s]) continue;
        const dsp_ceiling *c = dsp_ceiling_tracker(ceiling, s);
        double best = c->best, lo = 1e30, hi = 0;
        for (int sh = 0; sh < N_SHAPES; sh++)
            for (int p = 0; p < N_PRODUCTS; p++) {
                double v = one_thread[sh][p][s].best;
                if (v < lo) lo = v;
                if (v > hi) hi = v;
            }
        if (!any)
            fprintf(out, "ceiling per core (multiply-adds from L1 into registers, the fastest of %d run%s taken in "
                         "turns with the products; sse2: the 128-bit units', in AVX's encoding) and the 1-thread "
                         "GEMM's fastest runs as a share of it:\n", c->samples, c->samples == 1 ? "" : "s");
        any = 1;
        fprintf(out, "  %-8s ceiling %6.1f GFLOP/s, GEMM %3.0f-%3.0f%%\n", names[s], best, 100 * lo / best,
                100 * hi / best);
    }
}
#endif

int dsp_bench_gemm(FILE *out, int threads_max, dsp_kernels only) {
    const size_t big = (size_t)BENCH_T * 512, wsz = 512 * 512;
    buffers m = {filled(big, 1), filled(wsz, 2), filled(512, 3), filled(big, 4), filled(big, 5), filled(big, 6),
                 filled(wsz, 7)};
    int status = 0;
    if (!m.inp || !m.w || !m.b || !m.dout || !m.out || !m.dinp || !m.dw) {
        fprintf(out, "bench gemm: out of memory\n");
        status = -1;
        goto done;
    }
    char load[64];
    dsp_bench_load_average(load, sizeof load);
    int rows = threads_max < 1 ? 1 : threads_max > MAX_THREADS_ROWS ? MAX_THREADS_ROWS : threads_max;
    const dsp_kernels want[N_SETS] = {DSP_KERNELS_SCALAR, DSP_KERNELS_SIMD128, DSP_KERNELS_SIMD128_SSE2,
                                      DSP_KERNELS_AVX2, DSP_KERNELS_AVX512};
    int have[N_SETS];
    for (int s = 0; s < N_SETS; s++) {
        dsp_kernels got;
        have[s] = dsp_kernels_resolve(want[s], &got, NULL) == 0 && dsp_bench_shows(only, want[s]);
    }
    /* gflops[threads-1][shape][product][set 0..N_SETS-1, N_SETS = OpenBLAS] */
    rate g[MAX_THREADS_ROWS][N_SHAPES][N_PRODUCTS][N_SETS + 1];
    memset(g, 0, sizeof g);
    /* each vector set's ceiling, sampled before every 1-thread product: a slow spell falls on both alike */
    dsp_ceiling ceiling[N_SETS];
    for (int s = 0; s < N_SETS; s++) dsp_ceiling_init(&ceiling[s], want[s]);
    for (int th = 1; th <= rows; th++) {
        dsp_pool *pool = dsp_pool_create(th);
        for (int s = 0; s < N_SETS; s++) {
            if (!have[s]) continue;
            dsp_kctx k = {pool, want[s], NULL};
            for (int sh = 0; sh < N_SHAPES; sh++)
                for (int p = 0; p < N_PRODUCTS; p++) {
                    if (CEILING_SHOWN && th == 1 && s > 0) dsp_ceiling_sample(dsp_ceiling_tracker(ceiling, s));
                    g[th - 1][sh][p][s] = measure(&k, NULL, p, &m, SHAPES[sh][0], SHAPES[sh][1], s == 0 ? SCALAR_REPS : REPS);
                }
        }
        dsp_pool_free(pool);
    }
    openblas ob;
    int have_ob = openblas_open(&ob) == 0;
    if (have_ob) {
        for (int th = 1; th <= rows; th++) {
            ob.set_threads(th);
            for (int sh = 0; sh < N_SHAPES; sh++)
                for (int p = 0; p < N_PRODUCTS; p++)
                    g[th - 1][sh][p][N_SETS] = measure(NULL, &ob, p, &m, SHAPES[sh][0], SHAPES[sh][1], REPS);
        }
        ob.set_threads(1);
    }

    fprintf(out, "\nGEMM GFLOP/s, T=%d rows: fastest/median of %d runs (scalar: %d); ratios of the fastest; "
                 "fwd = inp*w^T, dinp = dout*w, dw = dout^T*inp\n", BENCH_T, REPS, SCALAR_REPS);
    if (load[0]) fprintf(out, "load average at start (other work on this machine slows every column): %s\n", load);
    if (have[1])
        fprintf(out, "simd128 runs as %s%s\n", dsp_kernels_encoding(DSP_KERNELS_SIMD128),
                have[2] ? " (as V8 emits wasm simd128 on a CPU with AVX); sse2: the same kernels in SSE2 encoding" : "");
    if (have_ob) {
        const char *env = getenv("OPENBLAS_CORETYPE");
        fprintf(out, "OpenBLAS: libopenblas.so.0, core %s (OPENBLAS_CORETYPE=%s), config: %s\n",
                ob.corename ? ob.corename() : "?", env ? env : "unset", ob.config ? ob.config() : "?");
    } else {
#ifdef __EMSCRIPTEN__
        fprintf(out, "OpenBLAS: not available in WebAssembly; column left empty\n");
#else
        fprintf(out, "OpenBLAS: libopenblas.so.0 not loadable (%s); column left empty\n", dlerror());
#endif
    }
    fprintf(out, "%-7s %-12s %-5s %11s %11s %11s %11s %11s %11s %10s %8s %9s\n", "threads", "shape C>OC", "prod",
            "scalar", "simd128", "sse2", "avx2", "avx512", "openblas", "simd128/ob", "avx2/ob", "avx512/ob");
    for (int th = 1; th <= rows; th++)
        for (int sh = 0; sh < N_SHAPES; sh++)
            for (int p = 0; p < N_PRODUCTS; p++) {
                const rate *r = g[th - 1][sh][p];
                char cell[N_SETS + 1][24], ratio[3][16];
                for (int s = 0; s <= N_SETS; s++) rate_text(cell[s], s < N_SETS ? have[s] : have_ob, r[s]);
                cell_text(ratio[0], have_ob && have[1], r[1].best / r[N_SETS].best, "%.2f");
                cell_text(ratio[1], have_ob && have[3], r[3].best / r[N_SETS].best, "%.2f");
                cell_text(ratio[2], have_ob && have[4], r[4].best / r[N_SETS].best, "%.2f");
                fprintf(out, "%-7d %-12s %-5s %11s %11s %11s %11s %11s %11s %10s %8s %9s\n", th, SHAPE_NAMES[sh],
                        PRODUCTS[p], cell[0], cell[1], cell[2], cell[3], cell[4], cell[5], ratio[0], ratio[1],
                        ratio[2]);
            }
#if CEILING_SHOWN
    print_ceiling_shares(out, have, ceiling, g[0]);
#endif
    if (have_ob) dlclose(ob.lib);
done:
    free(m.inp), free(m.w), free(m.b), free(m.dout), free(m.out), free(m.dinp), free(m.dw);
    return status;
}
