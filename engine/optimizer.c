/* optimizer.c — AdamW (decoupled weight decay) and SGD with momentum over one flat parameter buffer, with a
 * linear warm-up/decay schedule and global-norm clipping. SGD sits beside AdamW on purpose: Adam rescales a
 * dissipated (tiny but non-zero) gradient back to full-size steps, SGD does not (notes/tiny-scale.md, lesson 2). */
#include "dissipate.h"
#include "kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

dsp_optim_config dsp_optim_default(void) {
    dsp_optim_config c = {0};
    c.kind = DSP_OPT_ADAMW;
    c.lr = 3e-5f;
    c.beta1 = 0.9f;
    c.beta2 = 0.999f;
    c.eps = 1e-8f;
    c.weight_decay = 0.0f;
    c.momentum = 0.9f;
    c.warmup_steps = 0;
    c.total_steps = 0;
    c.clip_norm = 1.0f;
    return c;
}

int dsp_optim_validate(const dsp_optim_config *c, dsp_err *err) {
    if (c->kind != DSP_OPT_ADAMW && c->kind != DSP_OPT_SGD) return dsp_fail(err, "unknown optimizer %d", (int)c->kind);
    if (!(c->lr > 0) || !isfinite(c->lr)) return dsp_fail(err, "learning rate %g must be a positive number", c->lr);
    if (!(c->beta1 >= 0 && c->beta1 < 1)) return dsp_fail(err, "beta1 %g must be in [0, 1)", c->beta1);
    if (!(c->beta2 >= 0 && c->beta2 < 1)) return dsp_fail(err, "beta2 %g must be in [0, 1)", c->beta2);
    if (!(c->eps > 0) || !isfinite(c->eps)) return dsp_fail(err, "adam eps %g must be a positive number", c->eps);
    if (!(c->weight_decay >= 0) || !isfinite(c->weight_decay))
        return dsp_fail(err, "weight decay %g must be >= 0", c->weight_decay);
    if (!(c->momentum >= 0 && c->momentum < 1)) return dsp_fail(err, "momentum %g must be in [0, 1)", c->momentum);
    if (c->warmup_steps < 0) return dsp_fail(err, "warm-up steps %d must be >= 0", c->warmup_steps);
    if (c->total_steps < 0) return dsp_fail(err, "total steps %d must be >= 0", c->total_steps);
    if (isnan(c->clip_norm)) return dsp_fail(err, "clip norm must be a number (<= 0 disables clipping)");
    return 0;
}

float dsp_lr_at(const dsp_optim_config *c, int step) {
    if (c->warmup_steps > 0 && step < c->warmup_steps) return c->lr * (float)(step + 1) / (float)c->warmup_steps;
    if (c->total_steps <= 0) return c->lr;
    /* linear decay from the end of warm-up to 0 at total_steps (as transformers' linear schedule) */
    int span = c->total_steps - c->warmup_steps;
    if (span <= 0) return c->lr;
    float frac = (float)(c->total_steps - step) / (float)span;
    return frac > 0 ? c->lr * frac : 0.0f;
}

int dsp_optimizer_init(dsp_optimizer *o, const dsp_optim_config *cfg, size_t n, dsp_err *err) {
    memset(o, 0, sizeof *o);
    if (dsp_optim_validate(cfg, err)) return -1;
    o->cfg = *cfg;
    o->n = n;
    o->m = calloc(n, sizeof(float));
    o->v = cfg->kind == DSP_OPT_ADAMW ? calloc(n, sizeof(float)) : NULL;
    if (!o->m || (cfg->kind == DSP_OPT_ADAMW && !o->v)) {
        dsp_optimizer_free(o);
        return dsp_fail(err, "out of memory for optimizer state (%zu parameters)", n);
    }
    return 0;
}

void dsp_optimizer_free(dsp_optimizer *o) {
    free(o->m);
    free(o->v);
    o->m = o->v = NULL;
}

#define NORM_BLOCK 4096
#define NORM_TASK_BLOCKS 64 /* blocks per task: 256K floats */

typedef struct {
    const float *g;
    size_t n;
    double *partial;
    /* [0, region) is zero outside these rows of row_len floats (dsp_grad_norm_rows); region 0: all dense */
    size_t row_len, region;
    const int *rows;
    int n_rows;
} norm_args;

static double sum_squares(const float *g, size_t lo, size_t hi, double s) {
    for (size_t j = lo; j < hi; j++) s += (double)g[j] * (double)g[j];
    return s;
}

/* Block [lo, hi)'s sum in index order, over the listed rows only inside the sparse region. */
static double block_sum(const norm_args *a, size_t lo, size_t hi) {
    double s = 0;
    if (lo < a->region) {
        size_t end = hi < a->region ? hi : a->region;
        int lo_i = 0, hi_i = a->n_rows; /* the first listed row that ends after lo */
        while (lo_i < hi_i) {
            int mid = (lo_i + hi_i) / 2;
            if (((size_t)a->rows[mid] + 1) * a->row_len <= lo) lo_i = mid + 1;
            else hi_i = mid;
        }
        for (int i = lo_i; i < a->n_rows && (size_t)a->rows[i] * a->row_len < end; i++) {
            size_t r0 = (size_t)a->rows[i] * a->row_len, r1 = r0 + a->row_len;
            s = sum_squares(a->g, r0 > lo ? r0 : lo, r1 < end ? r1 : end, s);
        }
        lo = end;
    }
    return sum_squares(a->g, lo, hi, s);
}

static void norm_task(void *vctx, int task, int thread) {
    const norm_args *a = vctx;
    size_t first = (size_t)task * NORM_TASK_BLOCKS;
    for (size_t blk = first; blk < first + NORM_TASK_BLOCKS && blk * NORM_BLOCK < a->n; blk++) {
        size_t lo = blk * NORM_BLOCK, hi = lo + NORM_BLOCK < a->n ? lo + NORM_BLOCK : a->n;
        a->partial[blk] = block_sum(a, lo, hi);
    }
}

static double grad_norm(dsp_pool *pool, norm_args a) {
    /* blocks of 4096 summed in double, then the block sums added in block order: the same bits on every host
     * and for every thread count */
    size_t blocks = (a.n + NORM_BLOCK - 1) / NORM_BLOCK;
    double stack[256], *partial = blocks <= 256 ? stack : malloc(blocks * sizeof(double));
    if (!partial) { /* no room for the block sums: add them here as they come, in the same order (same bits) */
        double total = 0;
        for (size_t lo = 0; lo < a.n; lo += NORM_BLOCK)
            total += block_sum(&a, lo, lo + NORM_BLOCK < a.n ? lo + NORM_BLOCK : a.n);
        return sqrt(total);
    }
    a.partial = partial;
    dsp_pool_run(pool, norm_task, &a, (int)((blocks + NORM_TASK_BLOCKS - 1) / NORM_TASK_BLOCKS));
    double total = 0;
    for (size_t b = 0; b < blocks; b++) total += partial[b];
    if (partial != stack) free(partial);
    return sqrt(total);
}

double dsp_grad_norm_pool(dsp_pool *pool, const float *g, size_t n) {
    return grad_norm(pool, (norm_args){.g = g, .n = n});
}

double dsp_grad_norm_rows(dsp_pool *pool, const float *g, size_t n, size_t row_len, size_t region_rows,
                          const int *rows, int n_rows) {
    size_t region = row_len * region_rows < n ? row_len * region_rows : n;
    return grad_norm(pool, (norm_args){.g = g, .n = n, .row_len = row_len, .region = region, .rows = rows,
                                       .n_rows = n_rows});
}

double dsp_grad_norm(const float *g, size_t n) { return dsp_grad_norm_pool(NULL, g, n); }

/* One task updates a fixed block of elements: the split depends only on n, never on the thread count. */
#define OPT_BLOCK 65536

typedef struct {
    const dsp_optimizer *o;
    float *params;
    const float *grads;
    const uint8_t *mask;
    float lr, scale, bc1, bc2;
    dsp_adamw_span_fn adamw; /* the kernel set's update loop */
} step_args;

/* The runs [i, j) of trainable elements within [lo, hi): memchr finds the boundaries, so the update loops stay
 * tight (and vectorisable) instead of testing a mask byte per element. */
static size_t next_run(const uint8_t *mask, size_t i, size_t hi, size_t *j) {
    if (!mask) { *j = hi; return i; }
    const uint8_t *one = memchr(mask + i, 1, hi - i);
    if (!one) { *j = hi; return hi; }
    i = (size_t)(one - mask);
    const uint8_t *zero = memchr(mask + i, 0, hi - i);
    *j = zero ? (size_t)(zero - mask) : hi;
    return i;
}

static void adamw_task(void *vctx, int task, int thread) {
    const step_args *a = vctx;
    const dsp_optimizer *o = a->o;
    const dsp_optim_config *c = &o->cfg;
    const dsp_adamw_hyper h = {c->beta1, c->beta2, a->lr, a->scale, c->eps, c->weight_decay, a->bc1, a->bc2};
    size_t lo = (size_t)task * OPT_BLOCK, hi = lo + OPT_BLOCK < o->n ? lo + OPT_BLOCK : o->n, end;
    for (size_t i = next_run(a->mask, lo, hi, &end); i < hi; i = next_run(a->mask, end, hi, &end))
        a->adamw(a->params + i, o->m + i, o->v + i, a->grads + i, end - i, &h);
}

static void sgd_task(void *vctx, int task, int thread) {
    const step_args *a = vctx;
    const dsp_optimizer *o = a->o;
    const dsp_optim_config *c = &o->cfg;
    const float lr = a->lr, scale = a->scale, mu = c->momentum, wd = c->weight_decay;
    float *restrict p = a->params, *restrict m = o->m;
    const float *restrict gr = a->grads;
    size_t lo = (size_t)task * OPT_BLOCK, hi = lo + OPT_BLOCK < o->n ? lo + OPT_BLOCK : o->n, end;
    for (size_t i = next_run(a->mask, lo, hi, &end); i < hi; i = next_run(a->mask, end, hi, &end)) {
        for (; i < end; i++) {
            m[i] = mu * m[i] + gr[i] * scale + wd * p[i];
            p[i] -= lr * m[i];
        }
    }
}

float dsp_optimizer_step(dsp_optimizer *o, float *params, float *grads, double grad_norm, const uint8_t *mask) {
    const dsp_optim_config *c = &o->cfg;
    step_args a = {o, params, grads, mask, dsp_lr_at(c, o->step), 1.0f, 1.0f, 1.0f, dsp_adamw_span_for(o->kernels)};
    if (c->clip_norm > 0 && grad_norm > c->clip_norm) a.scale = (float)(c->clip_norm / (grad_norm + 1e-6));
    o->step++;
    /* β^t by repeated multiplication in double rather than powf: libm's powf differs across hosts */
    double p1 = 1, p2 = 1;
    for (int t = 0; t < o->step; t++) { p1 *= c->beta1; p2 *= c->beta2; }
    a.bc1 = (float)(1.0 - p1);
    a.bc2 = (float)(1.0 - p2);
    int tasks = (int)((o->n + OPT_BLOCK - 1) / OPT_BLOCK);
    dsp_pool_run(o->pool, c->kind == DSP_OPT_ADAMW ? adamw_task : sgd_task, &a, tasks);
    return a.lr;
}
