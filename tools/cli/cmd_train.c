/* cmd_train.c — `dissipate train`: unsupervised SimCSE fine-tuning with any objective, a JSONL log and checkpoints. */
#include "args.h"
#include "commands.h"
#include "json.h"
#include "objective_flags.h"
#include "out_paths.h"
#include "runlog.h"
#include "set_names.h"
#include "sts_sets.h"
#include "trainer.h"

#include <stdlib.h>
#include <string.h>

static const char *USAGE =
    "usage: dissipate train --model DIR --corpus FILE... [--eval PATH...] [--objective NAME] [--steps N]\n"
    "                       [--batch N] [--lr X] [--seed N] [--threads N] [--eval-every K] [--log FILE.jsonl]\n"
    "                       [--out DIR [--force] [--save-best]] [objective flags]\n\n"
    "Fine-tunes a BERT encoder with unsupervised SimCSE (two dropout views per sentence) and the chosen objective:\n"
    "infonce, au (alignment + uniformity), dcl, dclp, mpt, met, mat. Writes one JSONL record per step and per\n"
    "evaluation; a NaN or Inf stops the run with a message and leaves the log and earlier checkpoints intact.\n"
    "--out is created (with its parents) once the inputs have loaded; a folder that already holds a model, and a\n"
    "--log that already holds records, are refused unless --force. --log may not be one of the --model folder's\n"
    "files, one of the files saved into --out, nor the --config file. With --save-best, --out holds the model of\n"
    "the step that scored best on the first --eval set (SimCSE keeps its checkpoint the same way) rather than the\n"
    "last step's.\n"
    "Each --eval set is named in the log by its file's stem (\"dev\"), with as many parent folders as it takes\n"
    "to tell apart two of the same stem (\"a/dev\", \"b/dev\"); a path given twice (however spelled) is refused.\n"
    "An eval record's align is over the pairs with a gold score >= 4 only (Wang & Isola's convention on STS-B's\n"
    "0-5 scale): null when a set has none.\n"
    "A log that cannot be written (a full disk) stops the run at the end of the step, before that step's save.";

typedef struct {
    const char *model, *log, *out, *optimizer, *pooler, *kernels, *schedule;
    arg_strlist corpus, eval;
    int steps, batch, max_len, threads, eval_every, warmup, save_every, save_best, quiet, force;
    uint64_t seed;
    float lr, clip, weight_decay;
    double momentum, dropout; /* range-checked before they are rounded to float (args_float_in) */
    objective_flags obj;
} train_opts;

/* Objective hyper-parameters given on the command line override the objective's defaults. */
static int build_config(const train_opts *o, const arg_spec *specs, int n, dsp_train_config *c, dsp_err *err) {
    *c = dsp_train_default();
    if (objective_from_flags(&o->obj, specs, n, &c->objective, err)) return -1;
    if (strcmp(o->optimizer, "adamw") == 0) c->optim.kind = DSP_OPT_ADAMW;
    else if (strcmp(o->optimizer, "sgd") == 0) c->optim.kind = DSP_OPT_SGD;
    else return dsp_fail(err, "unknown optimizer '%s' (adamw, sgd)", o->optimizer);
    c->optim.lr = o->lr;
    c->optim.clip_norm = o->clip;
    c->optim.weight_decay = o->weight_decay;
    if (args_float_in("momentum", o->momentum, 0, 1, 1, &c->optim.momentum, err)) return -1;
    c->optim.warmup_steps = o->warmup;
    if (strcmp(o->schedule, "linear") == 0) c->optim.total_steps = o->steps;
    else if (strcmp(o->schedule, "constant") == 0) c->optim.total_steps = 0;
    else return dsp_fail(err, "unknown schedule '%s' (linear, constant)", o->schedule);
    if (dsp_pooler_parse(o->pooler, &c->pooler))
        return dsp_fail(err, "unknown pooler '%s' (cls, cls_mlp, mean)", o->pooler);
    if (dsp_kernels_parse(o->kernels, &c->kernels))
        return dsp_fail(err, "unknown kernel set '%s' (auto, scalar, simd128, sse2, avx2, avx512)", o->kernels);
    c->batch_size = o->batch;
    c->max_len = o->max_len;
    c->seed = o->seed;
    c->threads = o->threads;
    if (o->steps < 1) return dsp_fail(err, "--steps %d must be >= 1", o->steps);
    if (o->eval_every < 0) return dsp_fail(err, "--eval-every %d must be >= 0 (0: only at the start and end)",
                                           o->eval_every);
    if (o->save_every < 0) return dsp_fail(err, "--save-every %d must be >= 0", o->save_every);
    if (o->warmup >= o->steps) /* the learning rate would never reach its peak, nor decay (as pretrain says) */
        return dsp_fail(err, "--warmup must be fewer than --steps (%d >= %d)", o->warmup, o->steps);
    /* flags that change nothing in this run are most likely a mistake: named, as --tau with au is */
    args_warn_ignored(specs, n, "momentum", c->optim.kind != DSP_OPT_SGD, "does not apply to the adamw optimizer");
    args_warn_ignored(specs, n, "save-every", !o->out, "does not apply without --out");
    args_warn_ignored(specs, n, "force", !o->out && !o->log, "does not apply without --out or --log");
    /* --save-best without its inputs would silently save nothing (no --out) or the last step (no --eval) */
    if (o->save_best && (!o->out || o->eval.count == 0))
        return dsp_fail(err, "--save-best needs --out (where to save) and --eval (the first set picks the step)");
    if (o->save_best && o->save_every > 0) /* both would write --out, so neither would hold what it says */
        return dsp_fail(err, "--save-best and --save-every both save to --out: give one of them");
    /* --eval-every 0 ("no evaluations between start and end") says nothing more than no --eval: scripts pass it */
    args_warn_ignored(specs, n, "eval-every", o->eval.count == 0 && o->eval_every > 0, "does not apply without --eval");
    return dsp_train_validate(c, err);
}

/* The run's first record: every setting that changes what it computes, exactly (integers as integers, floats in
 * their shortest exact form, paths as JSON strings), so that the record alone can repeat the run. */
static int log_config(runlog *log, const train_opts *o, const dsp_train_config *c, const dsp_model *m,
                      const char *kernels) {
    if (!log->f) return 0;
    const dsp_objective *ob = &c->objective;
    dsp_buf b = {0};
    int bad = dsp_buf_printf(&b, "{\"type\":\"config\",\"version\":\"%s\",\"model\":", DSP_VERSION);
    bad |= dsp_buf_json_string(&b, o->model);
    bad |= json_str_list(&b, "corpus", o->corpus.items, o->corpus.count) | json_str_list(&b, "eval", o->eval.items, o->eval.count);
    bad |= dsp_buf_printf(&b, ",\"objective\":\"%s\",\"optimizer\":\"%s\",\"pooler\":\"%s\",\"kernels\":\"%s\","
                          "\"schedule\":\"%s\",\"steps\":%d,\"batch\":%d,\"max_len\":%d,\"seed\":%llu,\"threads\":%d",
                          dsp_objective_name(ob->kind), o->optimizer, dsp_pooler_name(c->pooler), kernels, o->schedule,
                          o->steps, c->batch_size, c->max_len, (unsigned long long)c->seed, c->threads);
    bad |= dsp_buf_printf(&b, ",\"tau\":%.17g,\"lambda\":%.17g,\"alpha\":%.17g,\"unif_t\":%.17g,\"margin\":%.17g,"
                          "\"per_anchor\":%d", ob->tau, ob->lambda, ob->alpha, ob->t, ob->margin, ob->per_anchor);
    const struct { const char *key; float v; } floats[] = {
        {"lr", c->optim.lr}, {"clip", c->optim.clip_norm}, {"weight_decay", c->optim.weight_decay},
        {"momentum", c->optim.momentum}, {"hidden_dropout", m->cfg.hidden_dropout_prob},
        {"attention_dropout", m->cfg.attention_probs_dropout_prob},
    };
    for (size_t i = 0; i < sizeof floats / sizeof floats[0]; i++) {
        bad |= dsp_buf_printf(&b, ",\"%s\":", floats[i].key);
        bad |= dsp_buf_json_float(&b, floats[i].v) ? dsp_buf_append(&b, "null", 4) : 0;
    }
    bad |= dsp_buf_printf(&b, ",\"warmup\":%d,\"eval_every\":%d,\"save_every\":%d,\"save_best\":%d,\"out\":",
                          c->optim.warmup_steps, o->eval_every, o->save_every, o->save_best);
    bad |= o->out ? dsp_buf_json_string(&b, o->out) : dsp_buf_append(&b, "null", 4);
    bad |= dsp_buf_append(&b, "}", 1);
    if (!bad) runlog_raw(log, b.data);
    dsp_buf_free(&b);
    return bad ? -1 : 0;
}

typedef struct {
    dsp_sts_tokens *sets;
    char **names; /* cli_set_names */
    int count;
    double best;
    int best_step; /* -1 before the first evaluation */
} eval_state;

static int run_evals(eval_state *ev, dsp_trainer *t, dsp_model *m, int step, runlog *log, int quiet, dsp_err *err) {
    for (int i = 0; i < ev->count; i++) {
        dsp_sts_result r;
        if (dsp_evaluate_sts(dsp_trainer_encoder(t), m, &ev->sets[i], dsp_trainer_config(t)->pooler, &r, err))
            return -1;
        runlog_eval(log, step, ev->names[i], &r);
        if (i == 0 && (ev->best_step < 0 || r.spearman > ev->best)) {
            ev->best = r.spearman;
            ev->best_step = step;
        }
        char align[CLI_ALIGN_TEXT];
        if (!quiet)
            fprintf(stderr, "%sstep %d  %s spearman %.2f  align %s  uniform %.4f\n", isatty_stderr() ? "\r\033[K" : "",
                step, ev->names[i], r.spearman, cli_align_text(r.align, align), r.uniform);
    }
    return 0;
}

/* Writes the model as it stands to dir (Hugging Face layout). */
static int save_model(dsp_model *m, const dsp_train_config *cfg, const char *dir, dsp_err *err) {
    m->has_mlp |= cfg->pooler == DSP_POOL_CLS_MLP; /* a trained MLP is part of the checkpoint */
    return dsp_model_save(m, dir, 0, err);
}

int cmd_train(int argc, char **argv) {
    /* flag defaults are the engine's (dsp_train_default), except the learning rate, sized for the tiny model */
    const dsp_train_config d = dsp_train_default();
    train_opts o = {0};
    o.obj.name = dsp_objective_name(d.objective.kind);
    o.optimizer = "adamw";
    o.pooler = dsp_pooler_name(d.pooler);
    o.kernels = dsp_kernels_name(d.kernels);
    o.schedule = "linear";
    o.steps = DSP_FRONTEND_STEPS;
    o.batch = d.batch_size;
    o.max_len = d.max_len;
    o.threads = d.threads;
    o.eval_every = 50;
    o.seed = d.seed;
    o.lr = DSP_FRONTEND_LR;
    o.clip = d.optim.clip_norm;
    o.momentum = d.optim.momentum;
    arg_spec specs[] = {
        {"model", ARG_STR, &o.model, "DIR", "model folder: config.json, vocab.txt, model.safetensors (required)", 0, 0},
        {"corpus", ARG_STRLIST, &o.corpus, "FILE...", "training sentences, one per line (required)", 0, 0},
        {"eval", ARG_STRLIST, &o.eval, "PATH...", "STS pair files (score<TAB>s1<TAB>s2) or folders of them (*.tsv: one\n"
         "multi-subset set, scored over its subsets together: SentEval's \"all\"); the\n"
         "first selects the best step", 0, 0},
        {"steps", ARG_INT, &o.steps, "N", "training steps (default 1000)", 0, 0},
        {"batch", ARG_INT, &o.batch, "N", "sentences per batch, each encoded twice (default 64)", 0, 0},
        {"max-len", ARG_INT, &o.max_len, "N", "tokens per sentence incl. [CLS] and [SEP] (default 32)", 0, 0},
        {"lr", ARG_FLOAT, &o.lr, "X", "peak learning rate (default 1e-4)", 0, 0},
        {"optimizer", ARG_STR, &o.optimizer, "NAME", "adamw | sgd (default adamw)", 0, 0},
        {"momentum", ARG_DOUBLE, &o.momentum, "X", "SGD momentum (default 0.9)", 0, 0},
        {"weight-decay", ARG_FLOAT, &o.weight_decay, "X", "decoupled weight decay (default 0)", 0, 0},
        {"schedule", ARG_STR, &o.schedule, "NAME", "linear (decay to 0 at the last step) | constant (default linear)", 0, 0},
        {"warmup", ARG_INT, &o.warmup, "N", "linear warm-up steps (default 0)", 0, 0},
        {"clip", ARG_FLOAT, &o.clip, "X", "global gradient-norm clipping, <= 0 disables (default 1)", 0, 0},
        {"pooler", ARG_STR, &o.pooler, "NAME", "cls | cls_mlp | mean (default mean)", 0, 0},
        {"dropout", ARG_DOUBLE, &o.dropout, "P", "override the model's hidden and attention dropout", 0, 0},
        {"seed", ARG_U64, &o.seed, "N", "seed of shuffling and dropout (default 42)", 0, 0},
        {"threads", ARG_INT, &o.threads, "N", "worker threads (default 1)", 0, 0},
        {"kernels", ARG_STR, &o.kernels, "NAME",
         "auto | scalar | simd128 | sse2 | avx2 | avx512 (simd128 matches the browser bit\n"
         "for bit; sse2 is simd128 in SSE2 encoding, avx512 is avx2 with 512-bit matmuls: the same\n"
         "bits each; auto: the widest this CPU runs)", 0, 0},
        {"eval-every", ARG_INT, &o.eval_every, "K", "evaluate every K steps, and at the start and end (default 50)", 0, 0},
        {"log", ARG_STR, &o.log, "FILE", "JSONL log: a config record, one record per step and per evaluation", 0, 0},
        {"out", ARG_STR, &o.out, "DIR", "save the trained model here (Hugging Face layout) at the end", 0, 0},
        {"force", ARG_BOOL, &o.force, NULL, "replace the model --out and the log --log already hold\n"
         "(refused without it)", 0, 0},
        {"save-every", ARG_INT, &o.save_every, "K", "also save to --out every K steps (default 0: only at the end)", 0, 0},
        {"save-best", ARG_BOOL, &o.save_best, NULL, "save to --out the model of the evaluation that scored best on the\n"
         "first --eval set, instead of the last step's", 0, 0},
        {"quiet", ARG_BOOL, &o.quiet, NULL, "no per-evaluation lines on stderr", 0, 0},
        OBJECTIVE_FLAG_SPECS(o.obj),
    };
    const int n_specs = (int)(sizeof specs / sizeof specs[0]);
    dsp_err err = {{0}};
    int rc = args_parse(specs, n_specs, argc, argv, 2, USAGE, stdout, &err);
    if (rc == 1) return 0;
    if (rc) return cli_bad_flags("train", &err);
    if (!o.model) return cli_usage_error("train", "--model DIR is required");
    if (o.corpus.count == 0) return cli_usage_error("train", "--corpus FILE is required");
    dsp_train_config cfg;
    if (build_config(&o, specs, n_specs, &cfg, &err)) return cli_bad_flags("train", &err);
    float dropout = 0;
    if (args_seen(specs, n_specs, "dropout") && args_float_in("dropout", o.dropout, 0, 1, 1, &dropout, &err))
        return cli_bad_flags("train", &err);
    /* the output paths are checked before any work: a bad --out found at the end would lose the whole run */
    const char *inputs[2 * ARG_MAX_LIST];
    int n_inputs = 0;
    for (int i = 0; i < o.corpus.count; i++) inputs[n_inputs++] = o.corpus.items[i];
    for (int i = 0; i < o.eval.count; i++) inputs[n_inputs++] = o.eval.items[i];
    eval_state ev = {0};
    ev.best_step = -1;
    ev.count = o.eval.count;
    if (cli_check_run_outputs(o.log, o.out, o.force, o.model, args_config_path(), inputs, n_inputs, &err))
        return cli_error(&err);
    if (cli_set_names("eval", o.eval.items, ev.count, &ev.names, &err)) return cli_bad_flags("train", &err);

    dsp_model model = {0};
    dsp_corpus corpus = {0};
    dsp_token_set tokens = {0};
    dsp_trainer *trainer = NULL;
    runlog log = {0};
    int status = 1, out_created = 0, saved_step = -1; /* saved_step: the step whose model --out holds (-1: none) */
    if (dsp_model_load(&model, o.model, &err)) goto fail;
    if (args_seen(specs, n_specs, "dropout")) model.cfg.hidden_dropout_prob = model.cfg.attention_probs_dropout_prob = dropout;
    if (cli_check_max_len(&model, o.model, cfg.max_len, &err)) goto fail;
    if (dsp_corpus_load(&corpus, o.corpus.items, o.corpus.count, &err) ||
        cli_check_corpus_batch(&corpus, o.corpus.items, o.corpus.count, cfg.batch_size, &err))
        goto fail;
    if (dsp_token_set_build(&tokens, model.vocab, corpus.text, corpus.count, cfg.max_len, &err)) goto fail;
    ev.sets = calloc((size_t)(ev.count ? ev.count : 1), sizeof *ev.sets);
    if (!ev.sets) { dsp_fail(&err, "out of memory"); goto fail; }
    for (int i = 0; i < ev.count; i++) {
        dsp_sts sts = {0};
        if (cli_sts_load_set(&sts, o.eval.items[i], &err)) goto fail;
        int r = dsp_sts_tokens_build(&ev.sets[i], &sts, model.vocab, cfg.max_len, &err);
        dsp_sts_free(&sts);
        if (r) goto fail;
    }
    if (dsp_trainer_create(&trainer, &model, &tokens, &cfg, &err)) goto fail;
    /* the inputs have loaded: only now is --out made, so that a run refused on its inputs leaves no folder */
    if (cli_prepare_out_dir("out", o.out, &out_created, &err) || runlog_open(&log, o.log, &err)) goto fail;
    dsp_kernels ks;
    dsp_kernels_resolve(cfg.kernels, &ks, NULL);
    if (log_config(&log, &o, &cfg, &model, dsp_kernels_name(ks))) { dsp_fail(&err, "out of memory"); goto fail; }
    if (runlog_check_run(&log, 0, 0, o.out, saved_step, &err)) goto fail; /* the config record: before the evaluations */
    fprintf(stderr, "training %s on %d sentences: %d steps of %d sentences x 2 views, lr %g, %d thread(s), %s kernels\n",
            dsp_objective_name(cfg.objective.kind), corpus.count, o.steps, cfg.batch_size, cfg.optim.lr, cfg.threads,
            dsp_kernels_name(ks));
    if (ev.count && run_evals(&ev, trainer, &model, 0, &log, o.quiet, &err)) goto fail;
    /* a log that cannot be written stops the run at the end of the step (here: before the first) and before that
     * step's save: training on would lose the record of the run, and --out keeps the last model whose records
     * were written */
    if (runlog_check_run(&log, 0, 0, o.out, saved_step, &err)) goto fail;
    if (o.save_best && ev.best_step == 0) { /* it may stay the best */
        if (save_model(&model, &cfg, o.out, &err)) goto fail;
        saved_step = 0;
    }
    progress bar;
    progress_init(&bar, o.steps);
    double total_ms = 0;
    for (int s = 1; s <= o.steps; s++) {
        dsp_step_record rec;
        double t0 = now_ms();
        if (dsp_trainer_step(trainer, &rec, &err)) goto fail;
        rec.ms = now_ms() - t0;
        total_ms += rec.ms;
        runlog_step(&log, &rec);
        char status_text[128];
        snprintf(status_text, sizeof status_text, "loss %.4f  %.0f ms/step", rec.loss, total_ms / s);
        progress_update(&bar, s, status_text);
        int last = s == o.steps;
        if (ev.count && ((o.eval_every > 0 && s % o.eval_every == 0) || last) &&
            run_evals(&ev, trainer, &model, s, &log, o.quiet, &err))
            goto fail;
        if (runlog_check_run(&log, s, 0, o.out, saved_step, &err)) goto fail;
        int save = o.save_best ? ev.best_step == s /* evaluated at this step, and the best so far */
                               : o.out && ((o.save_every > 0 && s % o.save_every == 0) || last);
        if (save) {
            if (save_model(&model, &cfg, o.out, &err)) goto fail;
            saved_step = s;
        }
    }
    progress_done(&bar);
    if (runlog_close(&log)) { /* the last records may fail only as the file is closed */
        runlog_check_run(&log, o.steps, 1, o.out, saved_step, &err);
        goto fail;
    }
    printf("trained %d steps in %.1f s (%.1f ms/step)\n", o.steps, total_ms / 1000, total_ms / o.steps);
    if (ev.count) printf("best %s spearman %.2f at step %d\n", ev.names[0], ev.best, ev.best_step);
    if (o.save_best) printf("saved the model of step %d to %s\n", ev.best_step, o.out);
    else if (o.out) printf("saved the model to %s\n", o.out);
    status = 0;
fail:
    if (status) cli_error(&err);
    runlog_close(&log); /* after a failure (the error said already is the one to report) */
    if (status) cli_drop_out_dir(o.out, out_created);
    dsp_trainer_free(trainer);
    for (int i = 0; ev.sets && i < ev.count; i++) dsp_sts_tokens_free(&ev.sets[i]);
    free(ev.sets);
    cli_set_names_free(ev.names, ev.count);
    dsp_token_set_free(&tokens);
    dsp_corpus_free(&corpus);
    dsp_model_free(&model);
    return status;
}
