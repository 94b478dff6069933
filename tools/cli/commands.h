/* commands.h — the subcommands of the `dissipate` command line and their shared error reporting. */
#ifndef DSP_COMMANDS_H
#define DSP_COMMANDS_H

#include "dissipate.h"

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_parity(int argc, char **argv);
int cmd_pretrain(int argc, char **argv);
int cmd_encode(int argc, char **argv);

/* Prints "dissipate: error: MSG" to stderr; returns the exit status 1. */
int cli_error(const dsp_err *err);
/* Prints "dissipate CMD: MSG (see dissipate CMD --help)"; returns the exit status 2. */
int cli_usage_error(const char *cmd, const char *msg);
/* The same for a flag the parser or a settings check refused (err's message); exit status 2, as every usage error. */
int cli_bad_flags(const char *cmd, const dsp_err *err);
int isatty_stderr(void);

/* dsp_max_len_validate, its message naming --max-len and the model's config.json (the engine knows neither). */
int cli_check_max_len(const dsp_model *m, const char *model_dir, int max_len, dsp_err *err);
/* A corpus of fewer sentences than a batch, refused naming its files (the trainer's own check cannot). */
int cli_check_corpus_batch(const dsp_corpus *c, const char *const *files, int n_files, int batch, dsp_err *err);

#endif
