/* cmd_bench.c — `dissipate bench`: the training step of the tiny preset at 1 and 2 threads for each kernel set, and
 * the GEMM kernels beside OpenBLAS, all measured in one run so the ratios compare like with like. */
#include "args.h"
#include "bench_kernels.h"
#include "bench_profile.h"
#include "commands.h"
#include "runlog.h"
#include "trainer.h"

#include <stdlib.h>
#include <string.h>

static const char *USAGE =
    "usage: dissipate bench [--model DIR] [--corpus FILE] [--batch N] [--steps N] [--threads-max N] [--kernels NAME]\n"
    "                      [--pooler NAME] [--no-gemm] [--profile]\n\n"
    "Times full training steps (InfoNCE, batch of real corpus sentences x 2 views, max length 32, mean pooling or\n"
    "--pooler's) for each kernel set at 1..threads-max threads (stepped in turns, so that noise falls on all alike)\n"
    "and prints ms/step, achieved GFLOP/s and the thread speedup, beside each vector set's arithmetic ceiling on one\n"
    "core (multiply-adds from L1 into registers), the step time it bounds, and the same loop on all threads at once:\n"
    "the speedup the machine itself gives (a shared machine may give a second core less than a whole one). Then GEMM\n"
    "GFLOP/s at the model's shapes for scalar, SIMD128 (and the same kernels in SSE2 encoding where SIMD128 runs\n"
    "AVX's), AVX2 and OpenBLAS (when libopenblas is present), the fastest and the median of 15 runs each, and the\n"
    "1-thread GEMM as a share of the ceiling. With --profile, also where each set's step spends its time: every\n"
    "kernel and pass of the step, ms per step at each thread count and its speedup.";

/* Matmul and attention FLOPs of one training step (forward + backward = 3x forward) for these sequence lengths.
 * With a [CLS] pooler the last layer is compact (encoder.c): every token's k and v, and for the B [CLS] rows alone
 * q, the attention's one query row per sequence, the dense and the FFN. */
static double step_flops(const dsp_config *c, const int *len, int B, int compact) {
    const double H = c->hidden_size, I = c->intermediate_size;
    double T = 0, att = 0, att_cls = 0;
    for (int b = 0; b < B; b++) {
        T += len[b];
        att += 4.0 * len[b] * len[b] * H;
        att_cls += 4.0 * len[b] * H;
    }
    const double layer = 2.0 * T * (4 * H * H + 2 * H * I) + att;
    const double last = compact ? 2.0 * T * 2 * H * H + 2.0 * B * (2 * H * H + 2 * H * I) + att_cls : layer;
    return 3.0 * (layer * (c->num_hidden_layers - 1) + last);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One trainer per thread count, each on its own copy of m's weights (m itself is never trained), stepped in rounds
 * (1, 2, ... threads, then again): a slow spell of this shared machine then falls on every thread count alike, which
 * keeps the speedup honest where back-to-back timing swung by a factor of two. Prints the median and the fastest
 * step of each. With profs (and step_ms), thread count i + 1 records its timed steps' parts in profs[i] and their
 * summed wall time in step_ms[i]. */
static int time_thread_counts(const dsp_model *m, const dsp_token_set *ts, dsp_kernels set, dsp_pooler pooler,
                              int threads_max, int n, double flops, dsp_ceiling *ceiling, dsp_pool *ceiling_pool,
                              dsp_prof *profs, double *step_ms, dsp_err *err) {
    dsp_model *models = calloc((size_t)threads_max, sizeof *models);
    dsp_trainer **trainers = calloc((size_t)threads_max, sizeof *trainers);
    double *ms = malloc((size_t)threads_max * (size_t)n * sizeof(double));
    int rc = -1;
    if (!models || !trainers || !ms) { dsp_fail(err, "out of memory"); goto out; }
    for (int i = 0; i < threads_max; i++) {
        models[i] = *m; /* shares config and vocabulary; owns its weights */
        models[i].params = malloc(m->layout.total * sizeof(float));
        if (!models[i].params) { dsp_fail(err, "out of memory"); goto out; }
        memcpy(models[i].params, m->params, m->layout.total * sizeof(float));
        dsp_train_config cfg = dsp_train_default();
        cfg.batch_size = ts->count;
        cfg.threads = i + 1;
        cfg.kernels = set;
        cfg.pooler = pooler;
        cfg.optim.lr = DSP_FRONTEND_LR;
        if (dsp_trainer_create(&trainers[i], &models[i], ts, &cfg, err)) goto out;
        dsp_step_record rec;
        if (dsp_trainer_step(trainers[i], &rec, err)) goto out; /* warm-up: first touches of every buffer */
        if (profs) {
            dsp_prof_reset(&profs[i]);
            dsp_trainer_set_profile(trainers[i], &profs[i]);
        }
    }
    for (int s = 0; s < n; s++) {
        dsp_ceiling_sample(ceiling); /* in turns with the steps, as the thread counts are */
        dsp_ceiling_sample_pool(ceiling, ceiling_pool);
        for (int i = 0; i < threads_max; i++) {
            dsp_step_record rec;
            double t0 = now_ms();
            if (dsp_trainer_step(trainers[i], &rec, err)) goto out;
            ms[(size_t)i * n + s] = now_ms() - t0;
        }
    }
    double ms1 = 0, best1 = 0;
    for (int i = 0; i < threads_max; i++) {
        double *row = ms + (size_t)i * n;
        if (step_ms) { /* the profile's whole: the timed steps' summed wall time */
            step_ms[i] = 0;
            for (int s = 0; s < n; s++) step_ms[i] += row[s];
        }
        qsort(row, (size_t)n, sizeof(double), cmp_double);
        double med = row[n / 2], best = row[0];
        if (i == 0) ms1 = med, best1 = best;
        printf("%-8s %7d %10.1f %10.1f %8.2fx %10.1f %8.2fx\n", dsp_kernels_name(set), i + 1, med, flops / med / 1e6,
               ms1 / med, best, best1 / best);
    }
    fflush(stdout);
    rc = 0;
out:
    for (int i = 0; i < threads_max && models && trainers; i++) {
        dsp_trainer_free(trainers[i]);
        free(models[i].params);
    }
    free(models);
    free(trainers);
    free(ms);
    return rc;
}

/* What no step can beat: the step's FLOPs at each vector set's arithmetic ceiling on one core (sampled in turns with
 * its steps). A step also spends time on memory-bound passes that this floor leaves out: a bound, not a target. sse2
 * is printed once, under simd128, where simd128 runs AVX's encoding: the same loop (dsp_ceiling_tracker). Beside it,
 * the same loop on all threads at once, and its ratio to one core: the speedup the machine itself gave. */
static void print_step_floors(dsp_ceiling *ceilings, const dsp_kernels *sets, int n_sets, double flops) {
    int any = 0;
    for (int k = 0; k < n_sets; k++) {
        const dsp_ceiling *c = &ceilings[k];
        if (c->best <= 0 || dsp_ceiling_tracker(ceilings, k) != c) continue; /* sse2's loop is simd128's: one line */
        if (!any)
            printf("ceiling per core (multiply-adds from L1 into registers, the fastest of %d run%s taken in turns "
                   "with the steps) and the step's %.2f GFLOP at that rate%s:\n", c->samples, c->samples == 1 ? "" : "s",
                   flops / 1e9, c->threads > 1 ? "; then the same loop on all threads at once, and how many cores' "
                   "worth that made (the speedup the machine itself gave, in the same turns)" : "");
        any = 1;
        printf("  %-8s %6.1f GFLOP/s: %.2f ms at 1 thread", dsp_kernels_name(sets[k]), c->best, flops / c->best / 1e6);
        if (c->threads > 1)
            printf("; %d threads at once %.1f GFLOP/s: %.2fx", c->threads, c->best_all, c->best_all / c->best);
        printf("\n");
    }
}

int cmd_bench(int argc, char **argv) {
    const char *model_dir = DSP_DEFAULT_MODEL_DIR, *corpus_path = DSP_DEFAULT_DATA_DIR "/corpus/wiki1m_head.txt";
    const char *kernels_name = "all", *pooler_name = "mean";
    int batch = 64, steps = 10, threads_max = 2, no_gemm = 0, profile = 0;
    arg_spec specs[] = {
        {"model", ARG_STR, &model_dir, "DIR", "model folder (default: the bundled tiny model)", 0, 0},
        {"corpus", ARG_STR, &corpus_path, "FILE", "sentences to batch (default: the shared Wikipedia head)", 0, 0},
        {"batch", ARG_INT, &batch, "N", "sentences per batch (default 64)", 0, 0},
        {"steps", ARG_INT, &steps, "N", "timed steps per configuration; the median and the fastest are reported (default 10)",
         0, 0},
        {"threads-max", ARG_INT, &threads_max, "N", "time 1..N threads (default 2)", 0, 0},
        {"kernels", ARG_STR, &kernels_name, "NAME",
         "all | scalar | simd128 | sse2 | avx2 | avx512: time only this set, in both tables\n"
         "(default all; simd128 also times its SSE2 encoding, sse2, where it runs AVX's)", 0,
         0},
        {"pooler", ARG_STR, &pooler_name, "NAME",
         "mean | cls | cls_mlp: the sentence vector (default mean, the training default;\ncls_mlp is SimCSE's; with "
         "cls and cls_mlp the last layer computes the [CLS] rows only)", 0, 0},
        {"no-gemm", ARG_BOOL, &no_gemm, NULL, "skip the GEMM table", 0, 0},
        {"profile", ARG_BOOL, &profile, NULL, "also print where each set's step spends its time, part by part", 0, 0},
    };
    dsp_err err = {{0}};
    int rc = args_parse(specs, (int)(sizeof specs / sizeof specs[0]), argc, argv, 2, USAGE, stdout, &err);
    if (rc == 1) return 0;
    if (rc) return cli_bad_flags("bench", &err);
    /* one model and trainer per thread count */
    if (batch < 2) return cli_usage_error("bench", "--batch must be >= 2");
    if (steps < 1) return cli_usage_error("bench", "--steps must be >= 1");
    if (threads_max < 1 || threads_max > 256) return cli_usage_error("bench", "--threads-max must be in 1 .. 256");
    dsp_pooler pooler;
    if (dsp_pooler_parse(pooler_name, &pooler)) return cli_usage_error("bench", "--pooler takes mean, cls or cls_mlp");
    dsp_kernels only_set = DSP_KERNELS_AUTO; /* all */
    if (strcmp(kernels_name, "all") != 0) {
        if (dsp_kernels_parse(kernels_name, &only_set) || only_set == DSP_KERNELS_AUTO)
            return cli_usage_error("bench", "--kernels takes all, scalar, simd128, sse2, avx2 or avx512");
        if (dsp_kernels_resolve(only_set, &only_set, &err)) return cli_error(&err);
    }

    dsp_model m = {0};
    dsp_corpus corpus = {0};
    dsp_token_set ts = {0};
    dsp_pool *ceiling_pool = NULL;
    dsp_prof *profs = NULL; /* [set][threads] */
    double *step_ms = NULL;
    int status = 1;
    if (dsp_model_load(&m, model_dir, &err)) goto done;
    if (dsp_corpus_load(&corpus, &corpus_path, 1, &err)) goto done;
    if (corpus.count < batch) { dsp_fail(&err, "%s has fewer than %d sentences", corpus_path, batch); goto done; }
    /* exactly one batch of sentences, so every timed step sees the same tokens */
    if (dsp_token_set_build(&ts, m.vocab, corpus.text, batch, 32, &err)) goto done;
    int *lens = malloc(2 * (size_t)batch * sizeof(int));
    for (int i = 0; i < batch; i++) lens[i] = lens[batch + i] = ts.len[i];
    const double flops = step_flops(&m.cfg, lens, 2 * batch, pooler != DSP_POOL_MEAN);
    free(lens);
    printf("training step: tiny model L=%d H=%d A=%d I=%d, %d sentences x 2 views, %zu real tokens, %.3g GFLOP/step\n",
           m.cfg.num_hidden_layers, m.cfg.hidden_size, m.cfg.num_attention_heads, m.cfg.intermediate_size, batch,
           2 * ts.total, flops / 1e9);
    if (pooler != DSP_POOL_MEAN)
        printf("pooler %s: the last layer computes the [CLS] rows only (the FLOPs above count what is computed)\n",
               dsp_pooler_name(pooler));
    if (only_set == DSP_KERNELS_AUTO || only_set == DSP_KERNELS_SIMD128)
        printf("simd128 runs as %s%s\n", dsp_kernels_encoding(DSP_KERNELS_SIMD128),
               dsp_bench_two_encodings() ? "; sse2: the same kernels in SSE2 encoding" : "");
    char load[64];
    dsp_bench_load_average(load, sizeof load);
    if (load[0]) printf("load average at start (other work on this machine slows every row): %s\n", load);
    printf("%-8s %7s %10s %10s %9s %10s %9s\n", "kernels", "threads", "ms/step", "GFLOP/s", "speedup", "best ms",
           "speedup");
    enum { N_STEP_SETS = 5 };
    const dsp_kernels sets[N_STEP_SETS] = {DSP_KERNELS_SCALAR, DSP_KERNELS_SIMD128, DSP_KERNELS_SIMD128_SSE2,
                                           DSP_KERNELS_AVX2, DSP_KERNELS_AVX512};
    dsp_ceiling ceilings[N_STEP_SETS];
    int profiled[N_STEP_SETS] = {0};
    ceiling_pool = threads_max > 1 ? dsp_pool_create(threads_max) : NULL;
    if (profile) {
        profs = calloc((size_t)N_STEP_SETS * threads_max, sizeof *profs);
        step_ms = calloc((size_t)N_STEP_SETS * threads_max, sizeof *step_ms);
        if (!profs || !step_ms) { dsp_fail(&err, "out of memory"); goto done; }
    }
    for (int k = 0; k < N_STEP_SETS; k++) {
        dsp_ceiling_init(&ceilings[k], sets[k]);
        dsp_kernels got;
        if (dsp_kernels_resolve(sets[k], &got, NULL)) continue;
        if (!dsp_bench_shows(only_set, got)) continue;
        int n = sets[k] == DSP_KERNELS_SCALAR ? (steps + 2) / 3 : steps;
        if (time_thread_counts(&m, &ts, got, pooler, threads_max, n, flops, dsp_ceiling_tracker(ceilings, k),
                               ceiling_pool, profs ? profs + (size_t)k * threads_max : NULL,
                               step_ms ? step_ms + (size_t)k * threads_max : NULL, &err))
            goto done;
        profiled[k] = n;
    }
    print_step_floors(ceilings, sets, N_STEP_SETS, flops);
    for (int k = 0; profs && k < N_STEP_SETS; k++)
        if (profiled[k]) {
            printf("\n");
            dsp_bench_print_profile(stdout, dsp_kernels_name(sets[k]), profs + (size_t)k * threads_max,
                                    step_ms + (size_t)k * threads_max, threads_max, profiled[k]);
        }
    if (!no_gemm) {
        printf("\n");
        fflush(stdout);
        dsp_bench_gemm(stdout, threads_max, only_set);
    }
    status = 0;
done:
    if (status) cli_error(&err);
    dsp_pool_free(ceiling_pool);
    free(profs);
    free(step_ms);
    dsp_token_set_free(&ts);
    dsp_corpus_free(&corpus);
    dsp_model_free(&m);
    return status;
}
