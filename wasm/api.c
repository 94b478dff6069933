/* api.c — the C entry points of the WebAssembly build, called from wasm/js/engine.mjs through ccall.
 *
 * One module instance holds one session: a base model, the training sentences, the STS dev set and N runs. Every
 * run owns a copy of the base weights and its own trainer; runs built from one configuration and seed draw the
 * same batches and dropout masks, so runs that differ only by objective see identical data.
 *
 * Bulk data crosses the JS/wasm boundary through Emscripten's in-memory file system (MEMFS): JS writes the page's
 * ArrayBuffers as files and the engine's own loaders read them (dsp_model_load, dsp_corpus_load, dsp_sts_load), so
 * the browser parses and validates exactly as the native CLI does; exports are written by dsp_model_save and read
 * back by JS. Small results (a step record, an evaluation) come back as a named list of doubles
 * (dsp_wasm_result_*), so JS never needs a view of the wasm heap — which stays correct when memory grows under
 * threads and across Emscripten versions.
 *
 * Every function returns >= 0 on success and -1 on failure with dsp_wasm_error() set. Nothing here aborts.
 * Configuration is text key/value pairs named like the CLI's flags (dsp_wasm_config_set), with the CLI's defaults.
 */
#include "dissipate.h"
#include "trainer.h"

#include <emscripten/emscripten.h>
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESULTS 16

typedef struct {
    dsp_model model;      /* params owned; layout and vocab borrowed from the session's base model */
    dsp_trainer *trainer;
} wasm_run;

/* The pending configuration of the next dsp_wasm_run_create: dsp_train_config plus the CLI's extra knobs. */
typedef struct {
    dsp_train_config train;
    int steps;            /* the linear schedule decays to 0 at this step */
    int constant_lr;      /* schedule "constant" instead of "linear" */
    double dropout;       /* < 0: the model's own */
} wasm_config;

static struct {
    dsp_err err;
    dsp_model base;
    int have_base;
    dsp_corpus corpus;
    dsp_sts dev;
    /* corpus and dev tokens for max_len tokens_len (0: none); shared by every run */
    dsp_token_set corpus_tokens;
    dsp_sts_tokens dev_tokens;
    int tokens_len, have_dev_tokens;
    wasm_run **runs;     /* each run is its own allocation: its trainer keeps a pointer to its model */
    int n_runs;
    wasm_config cfg;
    const char *result_name[MAX_RESULTS];
    double result[MAX_RESULTS];
    int n_results;
} S;

static void result_clear(void) { S.n_results = 0; }

static void result_add(const char *name, double v) {
    if (S.n_results < MAX_RESULTS) {
        S.result_name[S.n_results] = name;
        S.result[S.n_results++] = v;
    }
}

/* ---------------------------------------------------------------- errors and results */
EMSCRIPTEN_KEEPALIVE const char *dsp_wasm_error(void) { return S.err.msg; }
EMSCRIPTEN_KEEPALIVE int dsp_wasm_result_count(void) { return S.n_results; }
EMSCRIPTEN_KEEPALIVE const char *dsp_wasm_result_name(int i) { return i >= 0 && i < S.n_results ? S.result_name[i] : ""; }
EMSCRIPTEN_KEEPALIVE double dsp_wasm_result_value(int i) { return i >= 0 && i < S.n_results ? S.result[i] : NAN; }

/* 1 in the pthreads build, 0 in the single-threaded one. */
EMSCRIPTEN_KEEPALIVE int dsp_wasm_threaded(void) {
#if defined(__EMSCRIPTEN_PTHREADS__)
    return 1;
#else
    return 0;
#endif
}

EMSCRIPTEN_KEEPALIVE const char *dsp_wasm_version(void) { return DSP_VERSION; }

/* The wasm heap as a result list: heap_bytes (the linear memory: it grows, never shrinks) and used_bytes (what malloc
 * holds now), so a page can watch what its runs cost and that a reset gives it back. */
EMSCRIPTEN_KEEPALIVE int dsp_wasm_memory(void) {
    struct mallinfo mi = mallinfo();
    result_clear();
    result_add("heap_bytes", (double)__builtin_wasm_memory_size(0) * 65536.0);
    result_add("used_bytes", (double)(size_t)mi.uordblks);
    return 0;
}

/* ---------------------------------------------------------------- runs */
static void run_free(wasm_run *r) {
    if (!r) return;
    dsp_trainer_free(r->trainer);
    free(r->model.params);
    free(r);
}

/* Frees every run. Called before anything the runs borrow (base model, token sets) changes. */
EMSCRIPTEN_KEEPALIVE int dsp_wasm_runs_clear(void) {
    for (int i = 0; i < S.n_runs; i++) run_free(S.runs[i]);
    free(S.runs);
    S.runs = NULL;
    S.n_runs = 0;
    return 0;
}

static void tokens_clear(void) {
    dsp_token_set_free(&S.corpus_tokens);
    if (S.have_dev_tokens) dsp_sts_tokens_free(&S.dev_tokens);
    S.have_dev_tokens = 0;
    S.tokens_len = 0;
}

static wasm_run *run_get(int i) {
    if (i < 0 || i >= S.n_runs) {
        dsp_fail(&S.err, "no run %d (there are %d)", i, S.n_runs);
        return NULL;
    }
    return S.runs[i];
}

EMSCRIPTEN_KEEPALIVE int dsp_wasm_run_count(void) { return S.n_runs; }

/* ---------------------------------------------------------------- inputs */
EMSCRIPTEN_KEEPALIVE int dsp_wasm_reset(void);

/* Loads DIR/config.json, DIR/vocab.txt and DIR/model.safetensors as the base model of every later run. This starts
 * a new session: the runs, the training sentences and the dev set of the previous one are freed. */
EMSCRIPTEN_KEEPALIVE int dsp_wasm_load_model(const char *dir) {
    dsp_wasm_reset();
    if (dsp_model_load(&S.base, dir, &S.err)) return -1;
    S.have_base = 1;
    return 0;
}

/* Training sentences, one per line (the CLI's --corpus format), from one or more files whose paths are given
 * separated by newlines; the files are concatenated as the CLI's --corpus FILE... does. Returns the sentence count. */
EMSCRIPTEN_KEEPALIVE int dsp_wasm_load_corpus(const char *paths) {
    dsp_wasm_runs_clear();
    tokens_clear();
    dsp_corpus_free(&S.corpus);
    size_t n = strlen(paths);
    char *copy = malloc(n + 1);
    const char **list = malloc((n / 2 + 2) * sizeof *list); /* a path takes >= 1 char and a separator */
    int count = 0, rc = -1;
    if (!copy || !list) {
        dsp_fail(&S.err, "out of memory");
    } else {
        memcpy(copy, paths, n + 1);
        for (char *p = copy, *nl; *p; p = nl + 1) {
            nl = strchr(p, '\n');
            if (nl) *nl = 0;
            if (*p) list[count++] = p;
            if (!nl) break;
        }
        rc = dsp_corpus_load(&S.corpus, list, count, &S.err) ? -1 : S.corpus.count;
    }
    free(copy);
    free(list);
    return rc;
}

/* STS pairs, score<TAB>s1<TAB>s2 (the CLI's --eval format). Returns the pair count. */
EMSCRIPTEN_KEEPALIVE int dsp_wasm_load_dev(const char *path) {
    dsp_wasm_runs_clear();
    tokens_clear();
    dsp_sts_free(&S.dev);
    if (dsp_sts_load(&S.dev, path, &S.err)) return -1;
    return S.dev.count;
}

/* The base model's shape and the data sizes, as a result list. */
EMSCRIPTEN_KEEPALIVE int dsp_wasm_model_info(void) {
    if (!S.have_base) return dsp_fail(&S.err, "no model is loaded");
    const dsp_config *c = &S.base.cfg;
    result_clear();
    result_add("vocab_size", c->vocab_size);
    result_add("hidden_size", c->hidden_size);
    result_add("num_hidden_layers", c->num_hidden_layers);
    result_add("num_attention_heads", c->num_attention_heads);
    result_add("intermediate_size", c->intermediate_size);
    result_add("max_position_embeddings", c->max_position_embeddings);
    result_add("params", (double)S.base.layout.total);
    result_add("sentences", S.corpus.count);
    result_add("pairs", S.dev.count);
    return 0;
}

/* ---------------------------------------------------------------- configuration */
/* Back to the CLI's defaults (dissipate train, from the same definitions): infonce, AdamW lr 1e-4 with linear decay
 * over 1000 steps, clip 1, mean pooling, batch 64, max_len 32, seed 42, 1 thread. */
EMSCRIPTEN_KEEPALIVE int dsp_wasm_config_reset(void) {
    memset(&S.cfg, 0, sizeof S.cfg);
    S.cfg.train = dsp_train_default();
    S.cfg.train.optim.lr = DSP_FRONTEND_LR;
    S.cfg.steps = DSP_FRONTEND_STEPS;
    S.cfg.dropout = -1;
    return 0;
}

static int parse_number(const char *key, const char *value, double *out) {
    char *end = NULL;
    double v = strtod(value, &end);
    if (!value[0] || *end || !isfinite(v)) return dsp_fail(&S.err, "%s: '%s' is not a finite number", key, value);
    *out = v;
    return 0;
}

static int parse_int(const char *key, const char *value, int *out) {
    double v;
    if (parse_number(key, value, &v)) return -1;
    if (v != floor(v) || fabs(v) > 2147483647.0) return dsp_fail(&S.err, "%s: '%s' is not an integer", key, value);
    *out = (int)v;
    return 0;
}

/* Sets one key of the pending configuration; keys are the CLI's flag names (dashes or underscores). Choosing an
 * objective resets its hyper-parameters to that objective's defaults, so set "objective" before tau, margin, … */
EMSCRIPTEN_KEEPALIVE int dsp_wasm_config_set(const char *key_in, const char *value) {
    char key[32];
    size_t n = strlen(key_in);
    if (n >= sizeof key) return dsp_fail(&S.err, "unknown configuration key '%s'", key_in);
    for (size_t i = 0; i <= n; i++) key[i] = key_in[i] == '-' ? '_' : key_in[i];
    dsp_train_config *c = &S.cfg.train;
    double d;
    int i;
    if (strcmp(key, "objective") == 0) {
        dsp_objective_kind kind;
        if (dsp_objective_parse(value, &kind))
            return dsp_fail(&S.err, "unknown objective '%s' (infonce, au, dcl, dclp, mpt, met, mat)", value);
        int per_anchor = c->objective.per_anchor;
        c->objective = dsp_objective_default(kind);
        c->objective.per_anchor = per_anchor;
    } else if (strcmp(key, "optimizer") == 0) {
        if (strcmp(value, "adamw") == 0) c->optim.kind = DSP_OPT_ADAMW;
        else if (strcmp(value, "sgd") == 0) c->optim.kind = DSP_OPT_SGD;
        else return dsp_fail(&S.err, "unknown optimizer '%s' (adamw, sgd)", value);
    } else if (strcmp(key, "pooler") == 0) {
        if (dsp_pooler_parse(value, &c->pooler)) return dsp_fail(&S.err, "unknown pooler '%s' (cls, cls_mlp, mean)", value);
    } else if (strcmp(key, "kernels") == 0) {
        if (dsp_kernels_parse(value, &c->kernels))
            return dsp_fail(&S.err, "unknown kernel set '%s' (auto, scalar, simd128)", value);
    } else if (strcmp(key, "schedule") == 0) {
        if (strcmp(value, "linear") == 0) S.cfg.constant_lr = 0;
        else if (strcmp(value, "constant") == 0) S.cfg.constant_lr = 1;
        else return dsp_fail(&S.err, "unknown schedule '%s' (linear, constant)", value);
    } else if (strcmp(key, "tau") == 0) {
        if (parse_number(key, value, &c->objective.tau)) return -1;
    } else if (strcmp(key, "lambda") == 0) {
        if (parse_number(key, value, &c->objective.lambda)) return -1;
    } else if (strcmp(key, "alpha") == 0) {
        if (parse_number(key, value, &c->objective.alpha)) return -1;
    } else if (strcmp(key, "t") == 0 || strcmp(key, "unif_t") == 0) {
        if (parse_number(key, value, &c->objective.t)) return -1;
    } else if (strcmp(key, "margin") == 0) {
        if (parse_number(key, value, &c->objective.margin)) return -1;
    } else if (strcmp(key, "per_anchor") == 0) {
        if (strcmp(value, "true") == 0) c->objective.per_anchor = 1;
        else if (strcmp(value, "false") == 0) c->objective.per_anchor = 0;
        else if (parse_int(key, value, &c->objective.per_anchor)) return -1;
    } else if (strcmp(key, "lr") == 0 || strcmp(key, "clip") == 0 || strcmp(key, "weight_decay") == 0 ||
               strcmp(key, "momentum") == 0) {
        if (parse_number(key, value, &d)) return -1;
        float *dst = key[0] == 'l' ? &c->optim.lr : key[0] == 'c' ? &c->optim.clip_norm
                   : key[0] == 'w' ? &c->optim.weight_decay : &c->optim.momentum;
        *dst = (float)d; /* as the CLI's float flags: strtod, then rounded to float once */
    } else if (strcmp(key, "dropout") == 0) {
        if (parse_number(key, value, &d)) return -1;
        if (!(d >= 0 && d < 1)) return dsp_fail(&S.err, "dropout %g must be in [0, 1)", d); /* -1 inside: the model's */
        S.cfg.dropout = d;
    } else if (strcmp(key, "seed") == 0) {
        if (parse_number(key, value, &d)) return -1;
        if (d < 0 || d != floor(d) || d > 9007199254740992.0)
            return dsp_fail(&S.err, "seed '%s' must be an integer in 0 .. 2^53", value);
        c->seed = (uint64_t)d;
    } else if (strcmp(key, "warmup") == 0) {
        if (parse_int(key, value, &c->optim.warmup_steps)) return -1;
    } else if (strcmp(key, "batch") == 0) {
        if (parse_int(key, value, &c->batch_size)) return -1;
    } else if (strcmp(key, "max_len") == 0) {
        if (parse_int(key, value, &c->max_len)) return -1;
    } else if (strcmp(key, "threads") == 0) {
        if (parse_int(key, value, &c->threads)) return -1;
    } else if (strcmp(key, "steps") == 0) {
        if (parse_int(key, value, &i)) return -1;
        if (i < 1) return dsp_fail(&S.err, "steps %d must be >= 1", i);
        S.cfg.steps = i;
    } else {
        return dsp_fail(&S.err, "unknown configuration key '%s'", key_in);
    }
    return 0;
}

/* Tokenizes the corpus and the dev set for max_len, unless they already are. */
static int tokens_for(int max_len) {
    if (S.tokens_len == max_len) return 0;
    if (S.n_runs > 0)
        return dsp_fail(&S.err, "max_len %d differs from the existing runs' %d: all runs share one tokenization",
                        max_len, S.tokens_len);
    tokens_clear();
    if (dsp_token_set_build(&S.corpus_tokens, S.base.vocab, S.corpus.text, S.corpus.count, max_len, &S.err)) return -1;
    if (S.dev.count > 0) {
        if (dsp_sts_tokens_build(&S.dev_tokens, &S.dev, S.base.vocab, max_len, &S.err)) {
            tokens_clear();
            return -1;
        }
        S.have_dev_tokens = 1;
    }
    S.tokens_len = max_len;
    return 0;
}

/* A new run from the base weights and the pending configuration. Returns its index. */
EMSCRIPTEN_KEEPALIVE int dsp_wasm_run_create(void) {
    if (!S.have_base) return dsp_fail(&S.err, "load a model before creating a run");
    if (S.corpus.count == 0) return dsp_fail(&S.err, "load the training sentences before creating a run");
    if (S.cfg.steps == 0) dsp_wasm_config_reset();
    dsp_train_config cfg = S.cfg.train;
    cfg.optim.total_steps = S.cfg.constant_lr ? 0 : S.cfg.steps;
    if (dsp_train_validate(&cfg, &S.err)) return -1;
    if (cfg.optim.warmup_steps >= S.cfg.steps) /* as `dissipate train`: the rate would never reach its peak */
        return dsp_fail(&S.err, "warmup %d must be fewer than steps %d", cfg.optim.warmup_steps, S.cfg.steps);
    if (tokens_for(cfg.max_len)) return -1;
    wasm_run **grown = realloc(S.runs, (size_t)(S.n_runs + 1) * sizeof *grown);
    if (!grown) return dsp_fail(&S.err, "out of memory");
    S.runs = grown;
    wasm_run *r = calloc(1, sizeof *r);
    if (!r) return dsp_fail(&S.err, "out of memory");
    r->model = S.base; /* config, layout and vocab are shared read-only; only the weights are copied */
    r->model.params = malloc(S.base.layout.total * sizeof(float));
    if (!r->model.params) {
        run_free(r);
        return dsp_fail(&S.err, "out of memory copying %zu weights", S.base.layout.total);
    }
    memcpy(r->model.params, S.base.params, S.base.layout.total * sizeof(float));
    if (S.cfg.dropout >= 0)
        r->model.cfg.hidden_dropout_prob = r->model.cfg.attention_probs_dropout_prob = (float)S.cfg.dropout;
    if (dsp_trainer_create(&r->trainer, &r->model, &S.corpus_tokens, &cfg, &S.err)) {
        run_free(r);
        return -1;
    }
    S.runs[S.n_runs] = r;
    return S.n_runs++;
}

/* ---------------------------------------------------------------- training and evaluation */
/* One step of run i; the record is the result list (the fields and order of the CLI's JSONL step record). */
EMSCRIPTEN_KEEPALIVE int dsp_wasm_run_step(int i) {
    wasm_run *r = run_get(i);
    if (!r) return -1;
    dsp_step_record rec;
    double t0 = emscripten_get_now();
    if (dsp_trainer_step(r->trainer, &rec, &S.err)) return -1;
    rec.ms = emscripten_get_now() - t0;
    result_clear();
#define FIELD(name) result_add(#name, (double)rec.name);
    DSP_STEP_RECORD_FIELDS(FIELD)
#undef FIELD
    return 0;
}

/* STS dev evaluation of run i under its current weights: spearman (x100), align, uniform, pairs. */
EMSCRIPTEN_KEEPALIVE int dsp_wasm_run_evaluate(int i) {
    wasm_run *r = run_get(i);
    if (!r) return -1;
    if (!S.have_dev_tokens) return dsp_fail(&S.err, "no STS dev set is loaded");
    dsp_sts_result res;
    if (dsp_evaluate_sts(dsp_trainer_encoder(r->trainer), &r->model, &S.dev_tokens, dsp_trainer_config(r->trainer)->pooler,
                         &res, &S.err))
        return -1;
    result_clear();
    result_add("step", dsp_trainer_steps_done(r->trainer));
    result_add("spearman", res.spearman);
    result_add("align", res.align);
    result_add("uniform", res.uniform);
    result_add("pairs", res.pairs);
    return 0;
}

/* Cosine of two sentences under run i's current weights (no dropout; the run's pooler, cls_mlp evaluated as cls). */
EMSCRIPTEN_KEEPALIVE int dsp_wasm_similarity(int i, const char *s1, const char *s2) {
    wasm_run *r = run_get(i);
    if (!r) return -1;
    const dsp_train_config *c = dsp_trainer_config(r->trainer);
    const int H = r->model.cfg.hidden_size;
    char *text[2] = {(char *)s1, (char *)s2};
    dsp_token_set ts = {0};
    float *emb = malloc(2 * (size_t)H * sizeof(float)); /* [2, H] unit rows */
    int rc = -1;
    if (!emb) dsp_fail(&S.err, "out of memory");
    else if (!dsp_token_set_build(&ts, r->model.vocab, text, 2, c->max_len, &S.err) &&
             !dsp_encode_sentences(dsp_trainer_encoder(r->trainer), &r->model, &ts, c->pooler, emb, &S.err)) {
        double dot = 0;
        for (int h = 0; h < H; h++) dot += (double)emb[h] * emb[H + h];
        result_clear();
        result_add("cosine", dot);
        rc = 0;
    }
    dsp_token_set_free(&ts);
    free(emb);
    return rc;
}

/* Saves run i's model (F32 safetensors, config.json, vocab.txt) into DIR of the in-memory file system. */
EMSCRIPTEN_KEEPALIVE int dsp_wasm_run_export(int i, const char *dir) {
    wasm_run *r = run_get(i);
    if (!r) return -1;
    r->model.has_mlp |= dsp_trainer_config(r->trainer)->pooler == DSP_POOL_CLS_MLP; /* as the CLI's --out */
    return dsp_model_save(&r->model, dir, 0, &S.err);
}

/* Frees everything (the module stays usable). */
EMSCRIPTEN_KEEPALIVE int dsp_wasm_reset(void) {
    dsp_wasm_runs_clear();
    tokens_clear();
    if (S.have_base) dsp_model_free(&S.base);
    S.have_base = 0;
    dsp_corpus_free(&S.corpus);
    dsp_sts_free(&S.dev);
    dsp_wasm_config_reset();
    return 0;
}
