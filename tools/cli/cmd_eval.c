/* cmd_eval.c — `dissipate eval`: STS Spearman ×100 (cosine vs gold) of a model on pair files and folders.
 * A folder is a multi-subset set (STS12–16: one folder per year, one pair file per subset), reported as SentEval
 * does: "all" (subsets concatenated, one Spearman — SimCSE's number), the mean and the size-weighted mean. */
#define _POSIX_C_SOURCE 200809L
#include "args.h"
#include "commands.h"
#include "json.h"
#include "metrics_sts.h"
#include "set_names.h"
#include "sts_sets.h"
#include "trainer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *USAGE =
    "usage: dissipate eval --model DIR --sts PATH... [--pooler NAME] [--max-len N] [--threads N] [--json]\n\n"
    "Encodes both sentences of every pair (no dropout) and reports the Spearman correlation x100 of their cosine\n"
    "with the gold score, in SimCSE's table layout (one column per set, then the average), with alignment and\n"
    "uniformity. PATH is a pair file (score<TAB>s1<TAB>s2) or a folder of them (*.tsv), which is one multi-subset\n"
    "set: 'all' concatenates its subsets (SimCSE's number); mean and weighted mean are listed below the table.\n"
    "A set is named by its stem (dev for .../stsb/dev.tsv), with as many parent folders as tell two sets of one\n"
    "stem apart (a/dev, b/dev); a path given twice is refused, however it is spelled (./dev.tsv, a link).\n"
    "Alignment is over the pairs with a gold score >= 4 only (Wang & Isola's convention on STS-B's 0-5 scale):\n"
    "a set with none (another scale, say 0-1) has no alignment: n/a in the table, null in --json.";

typedef struct {
    char name[64];
    int pairs;
    double spearman;
} subset_result;

typedef struct {
    char name[64];
    const char *path;
    int is_folder, n_sub;
    subset_result sub[CLI_MAX_SUBSETS];
    double all, mean, wmean, align, uniform;
    int pairs;
} set_result;

typedef struct {
    dsp_encoder *enc;
    const dsp_model *m;
    dsp_pooler pooler;
    int max_len;
} eval_ctx;

/* Evaluates one set (file or folder) into r, under `name` (cli_set_names: sets of one stem told apart). */
static int eval_set(const eval_ctx *c, const char *path, const char *name, set_result *r, dsp_err *err) {
    memset(r, 0, sizeof *r);
    r->path = path;
    snprintf(r->name, sizeof r->name, "%s", name);
    struct stat sb;
    if (stat(path, &sb) != 0) return dsp_fail(err, "cannot read %s: %s", path, strerror(errno));
    r->is_folder = S_ISDIR(sb.st_mode);
    char **files = NULL, **sub_names = NULL;
    int n_files = 1;
    if (r->is_folder && cli_list_subsets(path, &files, &n_files, err)) return -1;
    /* a subset goes by its stem, as a set does (the files of one folder never share one) */
    if (cli_set_names("sts", r->is_folder ? (const char *const *)files : &path, n_files, &sub_names, err)) {
        cli_free_paths(files, n_files);
        return -1;
    }
    const int H = c->m->cfg.hidden_size;
    float *A = NULL, *B = NULL, *G = NULL;
    double *COS = NULL, *GOLD = NULL;
    int total = 0, rc = -1;
    for (int f = 0; f < n_files; f++) {
        const char *file = r->is_folder ? files[f] : path;
        dsp_sts s = {0};
        dsp_sts_tokens st = {0};
        if (dsp_sts_load(&s, file, err) || dsp_sts_tokens_build(&st, &s, c->m->vocab, c->max_len, err)) {
            dsp_sts_free(&s);
            goto done;
        }
        dsp_sts_free(&s);
        const int n = st.count;
        A = realloc(A, (size_t)(total + n) * H * sizeof(float));
        B = realloc(B, (size_t)(total + n) * H * sizeof(float));
        G = realloc(G, (size_t)(total + n) * sizeof(float));
        COS = realloc(COS, (size_t)(total + n) * sizeof(double));
        GOLD = realloc(GOLD, (size_t)(total + n) * sizeof(double));
        if (!A || !B || !G || !COS || !GOLD) {
            dsp_sts_tokens_free(&st);
            dsp_fail(err, "out of memory evaluating %s", file);
            goto done;
        }
        if (dsp_sts_embed(c->enc, c->m, &st, c->pooler, A + (size_t)total * H, B + (size_t)total * H, COS + total,
                          err)) {
            dsp_fail_prefix(err, "%s: ", file);
            dsp_sts_tokens_free(&st);
            goto done;
        }
        for (int i = 0; i < n; i++) {
            GOLD[total + i] = st.gold[i];
            G[total + i] = (float)st.gold[i];
        }
        subset_result *sr = &r->sub[r->n_sub++];
        snprintf(sr->name, sizeof sr->name, "%s", sub_names[f]);
        sr->pairs = n;
        sr->spearman = 100.0 * dsp_spearman(COS + total, GOLD + total, n);
        total += n;
        dsp_sts_tokens_free(&st);
    }
    r->pairs = total;
    r->all = 100.0 * dsp_spearman(COS, GOLD, total);
    double sum = 0, wsum = 0;
    for (int i = 0; i < r->n_sub; i++) {
        sum += r->sub[i].spearman;
        wsum += r->sub[i].spearman * r->sub[i].pairs;
    }
    r->mean = sum / r->n_sub;
    r->wmean = wsum / total;
    r->align = dsp_sts_align(A, B, G, total, H);
    r->uniform = dsp_sts_uniform(A, B, total, H);
    rc = 0;
done:
    cli_free_paths(files, n_files);
    cli_set_names_free(sub_names, n_files);
    free(A); free(B); free(G); free(COS); free(GOLD);
    return rc;
}

static void print_table(const set_result *r, int n) {
    int w = 8;
    for (int i = 0; i < n; i++) {
        int l = (int)strlen(r[i].name);
        if (l > w) w = l;
    }
    double avg = 0;
    for (int i = 0; i < n; i++) avg += r[i].all;
    avg /= n;
    for (int i = 0; i < n; i++) printf("| %*s ", w, r[i].name);
    if (n > 1) printf("| %*s ", w, "Avg.");
    printf("|\n");
    for (int i = 0; i < n; i++) printf("| %*.2f ", w, r[i].all);
    if (n > 1) printf("| %*.2f ", w, avg);
    printf("|\n\n");
    for (int i = 0; i < n; i++) {
        char align[CLI_ALIGN_TEXT];
        printf("%s: %d pairs, align %s, uniform %.4f", r[i].name, r[i].pairs, cli_align_text(r[i].align, align),
               r[i].uniform);
        if (r[i].is_folder)
            printf(", %d subsets: all %.2f, mean %.2f, weighted mean %.2f", r[i].n_sub, r[i].all, r[i].mean, r[i].wmean);
        printf("\n");
        for (int j = 0; r[i].is_folder && j < r[i].n_sub; j++)
            printf("    %-32s %8.2f %6d pairs\n", r[i].sub[j].name, r[i].sub[j].spearman, r[i].sub[j].pairs);
    }
}

static void num(dsp_buf *b, const char *key, double v) {
    dsp_buf_printf(b, ",");
    dsp_buf_json_string(b, key);
    if (v == v && v - v == 0) dsp_buf_printf(b, ":%.6f", v);
    else dsp_buf_printf(b, ":null");
}

static void print_json(const char *model, const set_result *r, int n) {
    dsp_buf b = {0};
    dsp_buf_printf(&b, "{\"model\":");
    dsp_buf_json_string(&b, model);
    dsp_buf_printf(&b, ",\"sets\":[");
    double avg = 0;
    for (int i = 0; i < n; i++) {
        avg += r[i].all / n;
        dsp_buf_printf(&b, "%s{\"name\":", i ? "," : "");
        dsp_buf_json_string(&b, r[i].name);
        dsp_buf_printf(&b, ",\"path\":");
        dsp_buf_json_string(&b, r[i].path);
        num(&b, "spearman", r[i].all);
        num(&b, "mean", r[i].mean);
        num(&b, "weighted_mean", r[i].wmean);
        num(&b, "align", r[i].align);
        num(&b, "uniform", r[i].uniform);
        dsp_buf_printf(&b, ",\"pairs\":%d,\"subsets\":[", r[i].pairs);
        for (int j = 0; j < r[i].n_sub; j++) {
            dsp_buf_printf(&b, "%s{\"name\":", j ? "," : "");
            dsp_buf_json_string(&b, r[i].sub[j].name);
            num(&b, "spearman", r[i].sub[j].spearman);
            dsp_buf_printf(&b, ",\"pairs\":%d}", r[i].sub[j].pairs);
        }
        dsp_buf_printf(&b, "]}");
    }
    dsp_buf_printf(&b, "]");
    num(&b, "avg", avg);
    dsp_buf_printf(&b, "}\n");
    fputs(b.data, stdout);
    dsp_buf_free(&b);
}

int cmd_eval(int argc, char **argv) {
    const char *model_dir = NULL, *pooler_name = "mean", *kernels_name = "auto";
    arg_strlist sts = {0};
    int max_len = 32, threads = 1, json = 0;
    arg_spec specs[] = {
        {"model", ARG_STR, &model_dir, "DIR", "model folder (required)", 0, 0},
        {"sts", ARG_STRLIST, &sts, "PATH...", "STS pair files or folders of them (required)", 0, 0},
        {"pooler", ARG_STR, &pooler_name, "NAME", "cls | cls_mlp (evaluates as cls) | mean (default mean)", 0, 0},
        {"max-len", ARG_INT, &max_len, "N", "tokens per sentence (default 32)", 0, 0},
        {"threads", ARG_INT, &threads, "N", "worker threads (default 1)", 0, 0},
        {"kernels", ARG_STR, &kernels_name, "NAME", "auto | scalar | simd128 | sse2 | avx2 | avx512", 0, 0},
        {"json", ARG_BOOL, &json, NULL, "print one JSON object instead of the table", 0, 0},
    };
    dsp_err err = {{0}};
    int rc = args_parse(specs, (int)(sizeof specs / sizeof specs[0]), argc, argv, 2, USAGE, stdout, &err);
    if (rc == 1) return 0;
    if (rc) return cli_bad_flags("eval", &err);
    if (!model_dir) return cli_usage_error("eval", "--model DIR is required");
    if (sts.count == 0) return cli_usage_error("eval", "--sts PATH is required");
    dsp_pooler pooler;
    if (dsp_pooler_parse(pooler_name, &pooler)) return cli_usage_error("eval", "unknown --pooler (cls, cls_mlp, mean)");
    dsp_kernels kernels;
    if (dsp_kernels_parse(kernels_name, &kernels)) return cli_usage_error("eval", "unknown --kernels");
    if (max_len < 3) return cli_usage_error("eval", "--max-len must be >= 3");
    if (threads < 1 || threads > 256) return cli_usage_error("eval", "--threads must be in 1 .. 256");

    dsp_model m = {0};
    dsp_pool *pool = NULL;
    dsp_encoder *enc = NULL;
    set_result *results = calloc((size_t)sts.count, sizeof *results);
    char **set_names = NULL;
    int status = 1;
    if (!results) { dsp_fail(&err, "out of memory"); goto done; }
    if (cli_set_names("sts", (const char *const *)sts.items, sts.count, &set_names, &err)) goto done;
    if (dsp_model_load(&m, model_dir, &err) || cli_check_max_len(&m, model_dir, max_len, &err)) goto done;
    pool = dsp_pool_create(threads);
    if (dsp_encoder_create(&enc, &m, pool, kernels, &err)) goto done;
    eval_ctx c = {enc, &m, pooler, max_len};
    for (int i = 0; i < sts.count; i++)
        if (eval_set(&c, sts.items[i], set_names[i], &results[i], &err)) goto done;
    if (json) print_json(model_dir, results, sts.count);
    else print_table(results, sts.count);
    status = 0;
done:
    if (status) cli_error(&err);
    cli_set_names_free(set_names, sts.count);
    free(results);
    dsp_encoder_free(enc);
    dsp_pool_free(pool);
    dsp_model_free(&m);
    return status;
}
