/* cmd_pretrain.c — `dissipate pretrain`: masked-language-model pre-training of a model's layers on plain text. */
#include "args.h"
#include "commands.h"
#include "mlm.h"
#include "out_paths.h"
#include "runlog.h"
#include "set_names.h"
#include "trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *USAGE =
    "usage: dissipate pretrain --model DIR --corpus FILE... --out DIR [--force] [--steps N] [--batch N] [--lr X]\n"
    "                          [--warmup N] [--mask-prob P] [--seed N] [--threads N] [--log FILE.jsonl]\n"
    "                          [--save-every K] [--eval FILE --eval-every K]\n\n"
    "BERT's masked-language-model objective (15% of tokens: 80% [MASK], 10% random, 10% kept) with a decoder tied to\n"
    "the word embeddings. Trains every encoder weight; saves the encoder (the decoder bias is not part of it).\n"
    "A step that masks no token (short sentences, a small --mask-prob) changes nothing and logs loss and accuracy\n"
    "as null; a run in which no step masked a token is an error. --out is created once the inputs have loaded; a\n"
    "folder that already holds a model, and a --log that already holds records, are refused unless --force.\n"
    "Progress lines show the loss and accuracy smoothed over steps (the log has each step's). A log that cannot\n"
    "be written stops the run, as train's.";

/* The run's first record, as train's: every setting that changes what it computes, exactly, so that the record
 * alone can repeat the run. */
static int log_config(runlog *log, const char *model_dir, const arg_strlist *corpus, const char *eval_path,
                      const dsp_mlm_config *c, const dsp_model *m, int steps, int eval_every, int save_every,
                      const char *out) {
    if (!log->f) return 0;
    dsp_kernels ks = c->kernels;
    dsp_kernels_resolve(c->kernels, &ks, NULL);
    dsp_buf b = {0};
    int bad = dsp_buf_printf(&b, "{\"type\":\"config\",\"version\":\"%s\",\"command\":\"pretrain\",\"model\":",
                             DSP_VERSION);
    bad |= dsp_buf_json_string(&b, model_dir) | json_str_list(&b, "corpus", corpus->items, corpus->count);
    bad |= json_str_list(&b, "eval", &eval_path, eval_path ? 1 : 0);
    bad |= dsp_buf_printf(&b, ",\"kernels\":\"%s\",\"steps\":%d,\"batch\":%d,\"max_len\":%d,\"seed\":%llu,"
                          "\"threads\":%d,\"warmup\":%d,\"eval_every\":%d,\"save_every\":%d",
                          dsp_kernels_name(ks), steps, c->batch_size, c->max_len, (unsigned long long)c->seed,
                          c->threads, c->optim.warmup_steps, eval_every, save_every);
    const struct { const char *key; float v; } floats[] = {
        {"lr", c->optim.lr}, {"weight_decay", c->optim.weight_decay}, {"mask_prob", c->mask_prob},
        {"hidden_dropout", m->cfg.hidden_dropout_prob}, {"attention_dropout", m->cfg.attention_probs_dropout_prob},
    };
    for (size_t i = 0; i < sizeof floats / sizeof floats[0]; i++) {
        bad |= dsp_buf_printf(&b, ",\"%s\":", floats[i].key);
        bad |= dsp_buf_json_float(&b, floats[i].v) ? dsp_buf_append(&b, "null", 4) : 0;
    }
    bad |= dsp_buf_append(&b, ",\"out\":", 7) | dsp_buf_json_string(&b, out) | dsp_buf_append(&b, "}", 1);
    if (!bad) runlog_raw(log, b.data);
    dsp_buf_free(&b);
    return bad ? -1 : 0;
}

int cmd_pretrain(int argc, char **argv) {
    const char *model_dir = NULL, *out = NULL, *log_path = NULL, *eval_path = NULL;
    arg_strlist corpus_paths = {0};
    int steps = 10000, warmup = 500, save_every = 0, eval_every = 1000, force = 0;
    dsp_mlm_config cfg = dsp_mlm_default();
    double mask_prob = cfg.mask_prob; /* range-checked before it is rounded to float (args_float_in) */
    arg_spec specs[] = {
        {"model", ARG_STR, &model_dir, "DIR", "starting model (required)", 0, 0},
        {"corpus", ARG_STRLIST, &corpus_paths, "FILE...", "text, one sentence per line (required)", 0, 0},
        {"out", ARG_STR, &out, "DIR", "where to save the pre-trained model (required)", 0, 0},
        {"force", ARG_BOOL, &force, NULL, "replace the model --out and the log --log already hold\n"
         "(refused without it)", 0, 0},
        {"steps", ARG_INT, &steps, "N", "updates (default 10000)", 0, 0},
        {"batch", ARG_INT, &cfg.batch_size, "N", "sentences per step (default 64)", 0, 0},
        {"max-len", ARG_INT, &cfg.max_len, "N", "tokens per sentence (default 32)", 0, 0},
        {"lr", ARG_FLOAT, &cfg.optim.lr, "X", "peak learning rate (default 5e-4)", 0, 0},
        {"warmup", ARG_INT, &warmup, "N", "linear warm-up steps (< steps), then linear decay (default 500, or a tenth of\n"
         "--steps when that is fewer)", 0, 0},
        {"weight-decay", ARG_FLOAT, &cfg.optim.weight_decay, "X", "decoupled weight decay (default 0.01)", 0, 0},
        {"mask-prob", ARG_DOUBLE, &mask_prob, "P", "fraction of the (non-special) tokens predicted, in (0, 1]\n"
         "(default 0.15)", 0, 0},
        {"seed", ARG_U64, &cfg.seed, "N", "seed (default 1)", 0, 0},
        {"threads", ARG_INT, &cfg.threads, "N", "worker threads (default 1)", 0, 0},
        {"log", ARG_STR, &log_path, "FILE", "JSONL log: a config record, an mlm record per step, eval records", 0, 0},
        {"save-every", ARG_INT, &save_every, "K", "also save every K steps (default 0: at the end)", 0, 0},
        {"eval", ARG_STR, &eval_path, "FILE", "an STS pair file to watch (mean pooling, --max-len tokens)", 0, 0},
        {"eval-every", ARG_INT, &eval_every, "K", "evaluate every K steps (default 1000)", 0, 0},
    };
    dsp_err err = {{0}};
    const int n_specs = (int)(sizeof specs / sizeof specs[0]);
    int rc = args_parse(specs, n_specs, argc, argv, 2, USAGE, stdout, &err);
    if (rc == 1) return 0;
    if (rc) return cli_bad_flags("pretrain", &err);
    if (!model_dir || !out || corpus_paths.count == 0)
        return cli_usage_error("pretrain", "--model, --corpus and --out are required");
    if (steps < 1 || warmup < 0 || save_every < 0 || eval_every < 1)
        return cli_usage_error("pretrain", "steps >= 1, warmup >= 0, save-every >= 0, eval-every >= 1");
    if (!args_seen(specs, n_specs, "warmup") && warmup > steps / 10) warmup = steps / 10;
    if (warmup >= steps) /* the learning rate would never reach its peak, nor decay */
        return cli_usage_error("pretrain", "--warmup must be fewer than --steps");
    cfg.optim.warmup_steps = warmup;
    cfg.optim.total_steps = steps;
    if (args_float_in("mask-prob", mask_prob, 0, 1, 0, &cfg.mask_prob, &err) || dsp_mlm_validate(&cfg, &err))
        return cli_bad_flags("pretrain", &err);
    args_warn_ignored(specs, n_specs, "eval-every", !eval_path, "does not apply without --eval");
    /* the output paths are checked before the corpus is read: a bad --out found at the end would lose the run */
    const char *inputs[ARG_MAX_LIST + 1];
    int n_inputs = 0;
    for (int i = 0; i < corpus_paths.count; i++) inputs[n_inputs++] = corpus_paths.items[i];
    if (eval_path) inputs[n_inputs++] = eval_path;
    if (cli_check_run_outputs(log_path, out, force, model_dir, args_config_path(), inputs, n_inputs, &err))
        return cli_error(&err);

    dsp_model m = {0};
    dsp_corpus corpus = {0};
    dsp_token_set ts = {0};
    dsp_sts sts = {0};
    dsp_sts_tokens st = {0};
    dsp_mlm *t = NULL;
    dsp_pool *eval_pool = NULL;
    dsp_encoder *eval_enc = NULL;
    runlog log = {0};
    char **eval_name = NULL; /* the log's name of the --eval set: its file's stem, as train's records give it */
    int status = 1, out_created = 0, saved_step = -1; /* saved_step: the step whose model --out holds (-1: none) */
    if (eval_path && cli_set_names("eval", &eval_path, 1, &eval_name, &err)) goto done;
    if (dsp_model_load(&m, model_dir, &err) || cli_check_max_len(&m, model_dir, cfg.max_len, &err) ||
        dsp_corpus_load(&corpus, corpus_paths.items, corpus_paths.count, &err) ||
        cli_check_corpus_batch(&corpus, corpus_paths.items, corpus_paths.count, cfg.batch_size, &err))
        goto done;
    fprintf(stderr, "tokenizing %d sentences\n", corpus.count);
    if (dsp_token_set_build(&ts, m.vocab, corpus.text, corpus.count, cfg.max_len, &err)) goto done;
    dsp_corpus_free(&corpus); /* the text is no longer needed: keep only the ids */
    if (eval_path) {
        if (dsp_sts_load(&sts, eval_path, &err) || dsp_sts_tokens_build(&st, &sts, m.vocab, cfg.max_len, &err)) goto done;
        eval_pool = dsp_pool_create(cfg.threads);
        if (dsp_encoder_create(&eval_enc, &m, eval_pool, cfg.kernels, &err)) goto done;
    }
    /* the inputs have loaded: only now is --out made, so that a run refused on its inputs leaves no folder */
    if (dsp_mlm_create(&t, &m, &ts, &cfg, &err) || cli_prepare_out_dir("out", out, &out_created, &err) ||
        runlog_open(&log, log_path, &err))
        goto done;
    if (log_config(&log, model_dir, &corpus_paths, eval_path, &cfg, &m, steps, eval_every, save_every, out)) {
        dsp_fail(&err, "out of memory");
        goto done;
    }
    /* a log that cannot be written stops the run at the end of the step (here: before the first) and before that
     * step's save, as train's: training on would lose the record of the run */
    if (runlog_check_run(&log, 0, 0, out, saved_step, &err)) goto done;
    progress bar;
    progress_init(&bar, steps);
    double t0 = now_ms(), loss_avg = NAN, acc_avg = NAN;
    for (int s = 1; s <= steps; s++) {
        dsp_mlm_record r;
        if (dsp_mlm_step(t, &r, &err)) goto done;
        if (r.masked > 0) { /* a step without a masked token has no loss (NaN): it is left out of the average */
            loss_avg = isnan(loss_avg) ? r.loss : 0.98 * loss_avg + 0.02 * r.loss;
            acc_avg = isnan(acc_avg) ? r.accuracy : 0.98 * acc_avg + 0.02 * r.accuracy;
        }
        if (log.f) {
            char b[512];
            size_t n = (size_t)snprintf(b, sizeof b, "{\"type\":\"mlm\"");
            json_num(b, sizeof b, &n, "step", r.step, 0);
            json_num(b, sizeof b, &n, "epoch", r.epoch, 0);
            json_num(b, sizeof b, &n, "loss", r.loss, 0);
            json_num(b, sizeof b, &n, "accuracy", r.accuracy, 0);
            json_num(b, sizeof b, &n, "grad_norm", r.grad_norm, 0);
            json_num(b, sizeof b, &n, "lr", r.lr, 0);
            json_num(b, sizeof b, &n, "masked", r.masked, 0);
            if (n < sizeof b - 2) { b[n++] = '}'; b[n] = 0; }
            runlog_raw(&log, b);
        }
        char text[128];
        /* labelled: these are the running averages, not the step's figures (the log has those) */
        snprintf(text, sizeof text, "smoothed loss %.3f  acc %.3f  %.0f ms/step", loss_avg, acc_avg,
                 (now_ms() - t0) / s);
        progress_update(&bar, s, text);
        if (eval_enc && (s % eval_every == 0 || s == steps)) {
            dsp_sts_result res;
            if (dsp_evaluate_sts(eval_enc, &m, &st, DSP_POOL_MEAN, &res, &err)) goto done;
            runlog_eval(&log, s, eval_name[0], &res);
            /* as train's lines: the set by the log's name for it, then the smoothed MLM figures, labelled so */
            fprintf(stderr, "%sstep %d  %s spearman %.2f  smoothed mlm loss %.3f  acc %.3f\n",
                    isatty_stderr() ? "\r\033[K" : "", s, eval_name[0], res.spearman, loss_avg, acc_avg);
        }
        if (s == steps && isnan(loss_avg)) {
            dsp_fail(&err, "no step masked a token (--mask-prob %g on these sentences): nothing was learnt, so the "
                     "final model was not saved", (double)cfg.mask_prob);
            goto done;
        }
        if (runlog_check_run(&log, s, 0, out, saved_step, &err)) goto done;
        if ((save_every > 0 && s % save_every == 0) || s == steps) {
            if (dsp_model_save(&m, out, 0, &err)) goto done;
            saved_step = s;
        }
    }
    progress_done(&bar);
    if (runlog_close(&log)) { /* the last records may fail only as the file is closed */
        runlog_check_run(&log, steps, 1, out, saved_step, &err);
        goto done;
    }
    printf("pre-trained %d steps in %.0f s; final smoothed MLM loss %.3f, accuracy %.3f; saved %s\n", steps,
           (now_ms() - t0) / 1000, loss_avg, acc_avg, out);
    status = 0;
done:
    if (status) cli_error(&err);
    runlog_close(&log); /* after a failure (the error said already is the one to report) */
    if (status) cli_drop_out_dir(out, out_created);
    if (eval_name) cli_set_names_free(eval_name, 1);
    dsp_mlm_free(t);
    dsp_encoder_free(eval_enc);
    dsp_pool_free(eval_pool);
    dsp_sts_tokens_free(&st);
    dsp_sts_free(&sts);
    dsp_token_set_free(&ts);
    dsp_corpus_free(&corpus);
    dsp_model_free(&m);
    return status;
}
