/* cmd_encode.c — `dissipate encode`: the encoder's raw outputs for a list of sentences (or token-id sequences), for
 * parity tests against the PyTorch reference (tools/reference/hf_parity.py) and for inspection. Evaluation mode (no
 * dropout); the pooled vectors are written as the pooler returns them, not normalised, and `cls_mlp` applies the MLP
 * (unlike `eval`, which evaluates cls_mlp as cls). */
#include "args.h"
#include "commands.h"
#include "out_paths.h"
#include "trainer.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *USAGE =
    "usage: dissipate encode --model DIR (--text-file F | --ids-file F) --out FILE.safetensors [--pooler NAME]\n"
    "                        [--max-len N] [--hidden] [--kernels NAME] [--threads N]\n\n"
    "Encodes every line of the file without dropout and writes \"pooled\" [n, H] (not normalised), \"seq_len\" [n],\n"
    "\"ids\" [T] (token ids as floats) and, with --hidden, the final hidden states \"hidden\" [T, H] (sequences in order).\n"
    "--text-file: one sentence per line, tokenized with the model's vocabulary and truncated to --max-len.\n"
    "--ids-file: one sequence of token ids per line (space-separated, used as given, e.g. \"2 17 41 3\").\n"
    "Blank lines are skipped.\n"
    "--out is checked before any work: not one of the --model folder's files, not the input; missing folders on its\n"
    "path are created (as train's --out is) once the encoding has succeeded.";

/* Sequences of the ids file: every line is whitespace-separated ids of the model's vocabulary, at most
 * max_position_embeddings of them. Sequences are numbered from 1 over the non-blank lines. */
static int parse_ids(const dsp_corpus *lines, const char *path, const dsp_config *c, dsp_token_set *ts, dsp_err *err) {
    size_t cap = 0;
    for (int i = 0; i < lines->count; i++) cap += strlen(lines->text[i]) / 2 + 1; /* at most one id per 2 bytes */
    ts->ids = malloc(cap * sizeof(int));
    const size_t n_seq = lines->count > 0 ? (size_t)lines->count : 1; /* > 0, not just != 0: GCC warns otherwise */
    ts->offset = malloc(n_seq * sizeof(int));
    ts->len = malloc(n_seq * sizeof(int));
    if (!ts->ids || !ts->offset || !ts->len) return dsp_fail(err, "out of memory reading %s", path);
    for (int i = 0; i < lines->count; i++) {
        const char *p = lines->text[i];
        ts->offset[i] = (int)ts->total;
        for (;;) {
            while (*p == ' ' || *p == '\t') p++;
            if (!*p) break;
            char *end;
            errno = 0;
            long v = strtol(p, &end, 10);
            if (end == p || errno || v < 0 || v > 0x7fffffffL || (*end && *end != ' ' && *end != '\t')) {
                /* quote the bad token alone (up to its space), not the rest of the line; a long one is cut */
                const int len = (int)strcspn(p, " \t");
                return dsp_fail(err, "%s: sequence %d: \"%.*s%s\" is not a token id (a non-negative integer)", path,
                                i + 1, len > 20 ? 20 : len, p, len > 20 ? "..." : "");
            }
            if (v >= c->vocab_size)
                return dsp_fail(err, "%s: sequence %d: token id %ld is outside the vocabulary (0 .. %d)", path, i + 1,
                                v, c->vocab_size - 1);
            ts->ids[ts->total++] = (int)v;
            p = end;
        }
        ts->len[i] = (int)ts->total - ts->offset[i];
        if (ts->len[i] > c->max_position_embeddings)
            return dsp_fail(err, "%s: sequence %d has %d ids, more than the model's max_position_embeddings %d", path,
                            i + 1, ts->len[i], c->max_position_embeddings);
    }
    ts->count = lines->count;
    return 0;
}

/* Runs the encoder over the token set in the evaluation's passes (dsp_encode_pass), filling pooled [n, H] and (if
 * hidden) hidden [T, H]. */
static int encode_all(dsp_encoder *enc, const dsp_model *m, const dsp_token_set *ts, dsp_pooler pooler,
                      const char *path, float *pooled, float *hidden, dsp_err *err) {
    const int H = m->cfg.hidden_size;
    int off[DSP_ENCODE_CHUNK_SENTENCES], len[DSP_ENCODE_CHUNK_SENTENCES];
    dsp_batch b;
    dsp_encoder_set_full_last_layer(enc, hidden != NULL); /* a [CLS] pooler alone needs only the [CLS] rows */
    for (int s0 = 0, n; (n = dsp_encode_pass(ts, s0, off, len, &b)) > 0; s0 += n) {
        if (dsp_encoder_forward(enc, m->params, &b, pooler, 0, 0, 0, pooled + (size_t)s0 * H, err))
            return dsp_fail_prefix(err, "%s: in sequences %d..%d (numbered from 0 within them): ", path, s0 + 1,
                                   s0 + n);
        /* the encoder packs the chunk's sequences in order, as they already are here */
        if (hidden)
            memcpy(hidden + (size_t)ts->offset[s0] * H, dsp_encoder_hidden(enc), (size_t)b.T * H * sizeof(float));
    }
    return 0;
}

int cmd_encode(int argc, char **argv) {
    const char *model_dir = NULL, *text_file = NULL, *ids_file = NULL, *out = NULL, *pooler_name = "mean";
    const char *kernels_name = "auto";
    int max_len = 32, threads = 1, want_hidden = 0;
    arg_spec specs[] = {
        {"model", ARG_STR, &model_dir, "DIR", "model folder (required)", 0, 0},
        {"text-file", ARG_STR, &text_file, "F", "sentences, one per line", 0, 0},
        {"ids-file", ARG_STR, &ids_file, "F", "token-id sequences, one per line", 0, 0},
        {"out", ARG_STR, &out, "FILE", "output safetensors (required)", 0, 0},
        {"pooler", ARG_STR, &pooler_name, "NAME", "cls | cls_mlp | mean (default mean)", 0, 0},
        {"max-len", ARG_INT, &max_len, "N", "tokens per sentence for --text-file (default 32)", 0, 0},
        {"hidden", ARG_BOOL, &want_hidden, NULL, "also write the final hidden states [T, H]", 0, 0},
        {"kernels", ARG_STR, &kernels_name, "NAME", "auto | scalar | simd128 | sse2 | avx2 | avx512 (default auto)", 0,
         0},
        {"threads", ARG_INT, &threads, "N", "worker threads (default 1)", 0, 0},
    };
    dsp_err err = {{0}};
    int rc = args_parse(specs, (int)(sizeof specs / sizeof specs[0]), argc, argv, 2, USAGE, stdout, &err);
    if (rc == 1) return 0;
    if (rc) return cli_bad_flags("encode", &err);
    if (!model_dir || !out) return cli_usage_error("encode", "--model and --out are required");
    if (!text_file == !ids_file) return cli_usage_error("encode", "give exactly one of --text-file and --ids-file");
    dsp_pooler pooler;
    if (dsp_pooler_parse(pooler_name, &pooler)) return cli_usage_error("encode", "unknown --pooler (cls, cls_mlp, mean)");
    dsp_kernels kernels;
    if (dsp_kernels_parse(kernels_name, &kernels)) return cli_usage_error("encode", "unknown --kernels");
    if (max_len < 2) return cli_usage_error("encode", "--max-len must be >= 2");
    if (threads < 1 || threads > 256) return cli_usage_error("encode", "--threads must be in 1 .. 256");
    const char *input = text_file ? text_file : ids_file;
    /* checked before the model loads: a bad --out found after encoding would lose the work */
    if (cli_check_out_file("out", out, model_dir, args_config_path(), &input, 1, &err)) return cli_error(&err);

    dsp_model m = {0};
    dsp_corpus lines = {0};
    dsp_token_set ts = {0};
    dsp_pool *pool = NULL;
    dsp_encoder *enc = NULL;
    float *pooled = NULL, *hidden = NULL, *ids_f = NULL, *len_f = NULL;
    int status = 1;
    if (dsp_model_load(&m, model_dir, &err) || (text_file && cli_check_max_len(&m, model_dir, max_len, &err)) ||
        dsp_corpus_load(&lines, &input, 1, &err))
        goto done;
    if (pooler == DSP_POOL_CLS_MLP && !m.has_mlp) { /* its MLP would be the random initialisation */
        dsp_fail(&err, "%s has no mlp.* weights for --pooler cls_mlp (a model trained with --pooler cls_mlp has "
                 "them); use --pooler cls", model_dir);
        goto done;
    }
    if (lines.count == 0) { dsp_fail(&err, "%s holds no sequences", input); goto done; }
    if (text_file ? dsp_token_set_build(&ts, m.vocab, lines.text, lines.count, max_len, &err)
                  : parse_ids(&lines, ids_file, &m.cfg, &ts, &err))
        goto done;
    const int H = m.cfg.hidden_size, n = ts.count;
    const size_t T = ts.total;
    pooled = malloc((size_t)n * H * sizeof(float));
    hidden = want_hidden ? malloc((T ? T : 1) * H * sizeof(float)) : NULL;
    ids_f = malloc((T ? T : 1) * sizeof(float));
    len_f = malloc((size_t)n * sizeof(float));
    if (!pooled || (want_hidden && !hidden) || !ids_f || !len_f) { dsp_fail(&err, "out of memory"); goto done; }
    pool = dsp_pool_create(threads);
    if (dsp_encoder_create(&enc, &m, pool, kernels, &err)) goto done;
    if (encode_all(enc, &m, &ts, pooler, input, pooled, hidden, &err)) goto done;
    for (size_t i = 0; i < (size_t)n * H; i++)
        if (!isfinite(pooled[i])) {
            dsp_fail(&err, "%s: sequence %zu: the model's embedding is not finite (NaN or Inf): its weights have "
                     "probably diverged", input, i / (size_t)H + 1);
            goto done;
        }
    for (size_t i = 0; i < T; i++) ids_f[i] = (float)ts.ids[i];
    for (int i = 0; i < n; i++) len_f[i] = (float)ts.len[i];
    dsp_st_tensor tensors[4] = {
        {"pooled", pooled, 2, {n, H}},
        {"seq_len", len_f, 1, {n, 0}},
        {"ids", ids_f, 1, {(int64_t)T, 0}},
        {"hidden", hidden, 2, {(int64_t)T, H}},
    };
    char meta[512];
    dsp_kernels used = kernels; /* the set that ran ("auto" resolved), as train's log names it */
    dsp_kernels_resolve(kernels, &used, NULL);
    snprintf(meta, sizeof meta, "{\"pooler\":\"%s\",\"kernels\":\"%s\",\"normalised\":\"0\"}", dsp_pooler_name(pooler),
             dsp_kernels_name(used));
    if (cli_prepare_out_file("out", out, &err) || dsp_st_write_file(out, tensors, want_hidden ? 4 : 3, 0, meta, &err))
        goto done;
    printf("wrote %s: %d sequence%s, %zu token%s, pooler %s%s\n", out, n, n == 1 ? "" : "s", T, T == 1 ? "" : "s",
           dsp_pooler_name(pooler), want_hidden ? ", hidden states" : "");
    status = 0;
done:
    if (status) cli_error(&err);
    free(pooled); free(hidden); free(ids_f); free(len_f);
    dsp_encoder_free(enc);
    dsp_pool_free(pool);
    dsp_token_set_free(&ts);
    dsp_corpus_free(&lines);
    dsp_model_free(&m);
    return status;
}
