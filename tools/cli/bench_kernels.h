/* bench_kernels.h — GEMM throughput of the kernel sets at the tiny model's shapes, beside OpenBLAS. */
#ifndef DSP_BENCH_KERNELS_H
#define DSP_BENCH_KERNELS_H

#include "dissipate.h"

#include <stdio.h>

/* Prints a table of GFLOP/s (the fastest and the median of several runs) for the three matmul products (forward, dinp, dw) at
 * T = 2900 rows and (C, OC) in {(128, 384) fused QKV, (128, 128), (128, 512), (512, 128)}, for every kernel set
 * this machine runs (simd128 also in SSE2 encoding where it runs AVX's) (or only `only`, unless it is DSP_KERNELS_AUTO) and, when libopenblas.so.0 can be loaded, OpenBLAS cblas_sgemm on the same shapes, at 1 and
 * 2 threads (up to threads_max), with the SIMD128/OpenBLAS ratio. Returns 0, or -1 if memory ran out. */
int dsp_bench_gemm(FILE *out, int threads_max, dsp_kernels only);

/* The contents of /proc/loadavg without its newline, or "" where there is none (not Linux): other work on the
 * machine slows every figure of a bench, so the tables print it beside them. */
void dsp_bench_load_average(char *buf, size_t size);

/* A vector set's arithmetic ceiling on the calling core, what no kernel of the set can beat: the fastest of many
 * runs (about 5 ms each) of its multiply-add loop (dsp_peak_for). A bench takes the samples in turns with the work
 * the ceiling bounds (a step, a GEMM), so that a slow spell of the machine falls on both alike; the first sample
 * also calibrates the run and warms the core for 0.1 s. sse2, where simd128 runs AVX's encoding, is measured as
 * simd128: the same units. The scalar reference has none (best stays 0). */
typedef struct {
    dsp_kernels set;
    long reps;   /* loop rounds of one run (0 until the first sample) */
    int samples;
    double best; /* GFLOP/s of the fastest run */
    int threads;     /* of dsp_ceiling_sample_pool's runs, or 0 */
    double best_all; /* their summed GFLOP/s, the fastest such run */
} dsp_ceiling;
void dsp_ceiling_init(dsp_ceiling *c, dsp_kernels set);
void dsp_ceiling_sample(dsp_ceiling *c);
/* After a dsp_ceiling_sample: the loop on every thread of pool at once (about 50 ms), timed together, for what the
 * cores deliver together. Its ratio to one core is the thread speedup the machine itself gave the arithmetic in
 * that run (a shared machine may give a second core less than a whole one): a reference to read the kernels'
 * speedups beside, not a bound on them. Does nothing for a 1-thread pool or a set without a loop. */
void dsp_ceiling_sample_pool(dsp_ceiling *c, dsp_pool *pool);
/* Of ceilings[0..k], the first that runs the same loop as ceilings[k] (sse2's is simd128's where simd128 runs AVX's
 * encoding): sampling and reading through it calibrates, warms and times each loop once. */
dsp_ceiling *dsp_ceiling_tracker(dsp_ceiling *ceilings, int k);

/* Does simd128 run another encoding than sse2 here (AVX's, on a CPU with AVX)? */
int dsp_bench_two_encodings(void);

/* Does a bench asked for `only` (DSP_KERNELS_AUTO: all) time `set`? simd128 brings its SSE2 encoding along where
 * the two differ. */
int dsp_bench_shows(dsp_kernels only, dsp_kernels set);

#endif
