/* main.c — `dissipate`: the native command line of the Dissipate engine. */
#define _POSIX_C_SOURCE 200809L
#include "commands.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *USAGE =
    "usage: dissipate COMMAND [flags]   (dissipate COMMAND --help for each)\n\n"
    "Commands:\n"
    "  train        fine-tune an encoder with unsupervised SimCSE and one of the paper's objectives\n"
    "  eval         STS Spearman of a model on pair files\n"
    "  encode       sentence embeddings (and hidden states) of a model, as safetensors\n"
    "  init         create a BERT-initialised model from a vocabulary (and optional word embeddings)\n"
    "  pretrain     masked-language-model pre-training of an encoder on plain text\n"
    "  bench        time the training step and the GEMM kernels (scalar, SIMD, OpenBLAS) side by side\n"
    "  parity-dump  write one training step's inputs, masks and gradients for the PyTorch reference\n"
    "  version      print the version\n";

int cli_error(const dsp_err *err) {
    fprintf(stderr, "dissipate: error: %s\n", err->msg[0] ? err->msg : "unknown failure");
    return 1;
}

int cli_usage_error(const char *cmd, const char *msg) {
    fprintf(stderr, "dissipate %s: %s (see dissipate %s --help)\n", cmd, msg, cmd);
    return 2;
}

int cli_bad_flags(const char *cmd, const dsp_err *err) {
    return cli_usage_error(cmd, err->msg[0] ? err->msg : "invalid flags");
}

int isatty_stderr(void) { return isatty(2); }

int cli_check_max_len(const dsp_model *m, const char *model_dir, int max_len, dsp_err *err) {
    if (!dsp_max_len_validate(&m->cfg, max_len, err)) return 0;
    return dsp_fail_prefix(err, "--max-len against %s/config.json: ", model_dir);
}

int cli_check_corpus_batch(const dsp_corpus *c, const char *const *files, int n_files, int batch, dsp_err *err) {
    if (c->count >= batch) return 0;
    return dsp_fail(err, "--corpus %s%s has %d sentence%s, fewer than --batch %d", files[0], n_files > 1 ? " (and the rest)" : "",
                    c->count, c->count == 1 ? "" : "s", batch);
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "train") == 0) return cmd_train(argc, argv);
    if (strcmp(cmd, "eval") == 0) return cmd_eval(argc, argv);
    if (strcmp(cmd, "init") == 0) return cmd_init(argc, argv);
    if (strcmp(cmd, "bench") == 0) return cmd_bench(argc, argv);
    if (strcmp(cmd, "parity-dump") == 0) return cmd_parity(argc, argv);
    if (strcmp(cmd, "pretrain") == 0) return cmd_pretrain(argc, argv);
    if (strcmp(cmd, "encode") == 0) return cmd_encode(argc, argv);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        if (argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
            printf("usage: dissipate version   prints the version\n");
            return 0;
        }
        if (argc > 2) {
            fprintf(stderr, "dissipate version: unexpected argument '%s' (it takes none)\n", argv[2]);
            return 2;
        }
        printf("dissipate %s\n", DSP_VERSION);
        return 0;
    }
    fprintf(stderr, "dissipate: unknown command '%s'\n\n%s", cmd, USAGE);
    return 2;
}
