/* cmd_eval.c — `dissipate eval`: STS Spearman ×100 (cosine vs gold) of a model on pair files. */
#include "args.h"
#include "commands.h"
#include "trainer.h"

#include <stdlib.h>
#include <string.h>

static const char *USAGE =
    "usage: dissipate eval --model DIR --sts FILE... [--pooler NAME] [--max-len N] [--threads N] [--json]\n\n"
    "Encodes both sentences of every pair (no dropout), and reports the Spearman correlation x100 of their cosine\n"
    "with the gold score, with alignment and uniformity (SimCSE's definitions).";

int cmd_eval(int argc, char **argv) {
    const char *model_dir = NULL, *pooler_name = "mean", *kernels_name = "auto";
    arg_strlist sts = {0};
    int max_len = 32, threads = 1, json = 0;
    arg_spec specs[] = {
        {"model", ARG_STR, &model_dir, "DIR", "model folder (required)", 0, 0},
        {"sts", ARG_STRLIST, &sts, "FILE...", "STS pair files: score<TAB>s1<TAB>s2 (required)", 0, 0},
        {"pooler", ARG_STR, &pooler_name, "NAME", "cls | cls_mlp (evaluates as cls) | mean (default mean)", 0, 0},
        {"max-len", ARG_INT, &max_len, "N", "tokens per sentence (default 32)", 0, 0},
        {"threads", ARG_INT, &threads, "N", "worker threads (default 1)", 0, 0},
        {"kernels", ARG_STR, &kernels_name, "NAME", "auto | scalar | simd128 | avx2", 0, 0},
        {"json", ARG_BOOL, &json, NULL, "print one JSON object instead of a table", 0, 0},
    };
    dsp_err err = {{0}};
    int rc = args_parse(specs, (int)(sizeof specs / sizeof specs[0]), argc, argv, 2, USAGE, stdout, &err);
    if (rc == 1) return 0;
    if (rc) return cli_error(&err);
    if (!model_dir) return cli_usage_error("eval", "--model DIR is required");
    if (sts.count == 0) return cli_usage_error("eval", "--sts FILE is required");
    dsp_pooler pooler;
    if (dsp_pooler_parse(pooler_name, &pooler)) return cli_usage_error("eval", "unknown --pooler (cls, cls_mlp, mean)");
    dsp_kernels kernels;
    if (dsp_kernels_parse(kernels_name, &kernels)) return cli_usage_error("eval", "unknown --kernels");
    if (max_len < 3) return cli_usage_error("eval", "--max-len must be >= 3");
    if (threads < 1 || threads > 256) return cli_usage_error("eval", "--threads must be in 1 .. 256");

    dsp_model m = {0};
    dsp_pool *pool = NULL;
    dsp_encoder *enc = NULL;
    int status = 1;
    if (dsp_model_load(&m, model_dir, &err)) goto done;
    pool = dsp_pool_create(threads);
    if (dsp_encoder_create(&enc, &m, pool, kernels, &err)) goto done;
    if (json) printf("{\"model\":\"%s\",\"results\":[", model_dir);
    else printf("%-40s %8s %8s %8s %6s\n", "set", "spearman", "align", "uniform", "pairs");
    for (int i = 0; i < sts.count; i++) {
        dsp_sts s = {0};
        dsp_sts_tokens st = {0};
        dsp_sts_result r;
        if (dsp_sts_load(&s, sts.items[i], &err) || dsp_sts_tokens_build(&st, &s, m.vocab, max_len, &err) ||
            dsp_evaluate_sts(enc, &m, &st, pooler, &r, &err)) {
            dsp_sts_free(&s);
            dsp_sts_tokens_free(&st);
            if (json) printf("]}\n");
            goto done;
        }
        if (json)
            printf("%s{\"file\":\"%s\",\"spearman\":%.4f,\"align\":%.6f,\"uniform\":%.6f,\"pairs\":%d}", i ? "," : "",
                   sts.items[i], r.spearman, r.align, r.uniform, r.pairs);
        else
            printf("%-40s %8.2f %8.4f %8.4f %6d\n", sts.items[i], r.spearman, r.align, r.uniform, r.pairs);
        dsp_sts_free(&s);
        dsp_sts_tokens_free(&st);
    }
    if (json) printf("]}\n");
    status = 0;
done:
    if (status) cli_error(&err);
    dsp_encoder_free(enc);
    dsp_pool_free(pool);
    dsp_model_free(&m);
    return status;
}
