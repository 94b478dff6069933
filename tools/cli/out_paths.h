/* out_paths.h — checks on the paths a command writes, made before it starts work, so that a bad --out or --log
 * fails at once instead of after a long run, and nothing a run reads or writes is overwritten by another of its
 * outputs. Two paths are the same when they name the same file (same inode, however spelled) or, for files that do
 * not exist yet, the same place (the same folder, found through links, and the same name). */
#ifndef DSP_OUT_PATHS_H
#define DSP_OUT_PATHS_H

#include "dissipate.h"

/* Do two existing paths name the same file or folder, however they are spelled (./, links)? */
int cli_same_file(const char *a, const char *b);

/* Checks, creating nothing, that the output folder is a folder this process can write into, or that it can be
 * created (mkdir -p) below one: a run that fails while loading its inputs then leaves no empty folder behind. */
int cli_check_out_dir(const char *flag, const char *dir, dsp_err *err);
/* Creates the output folder (and its parents) now and checks that it can be written into. *created (if not NULL)
 * tells whether the folder itself is new, for cli_drop_out_dir. */
int cli_prepare_out_dir(const char *flag, const char *dir, int *created, dsp_err *err);
/* After a failed run: removes the output folder if this run created it and left it empty, so that a failure leaves
 * nothing behind; a checkpoint or a log in it keeps it. */
void cli_drop_out_dir(const char *dir, int created);
/* Refuses an output file that is one of the inputs (`--log corpus.txt` would truncate the corpus). */
int cli_check_not_input(const char *flag, const char *path, const char *const *inputs, int n_inputs, dsp_err *err);
/* Refuses an output folder that is the starting model's (`--model m --out m` would replace the model a run starts
 * from with its result, and a checkpoint would replace it part way through). */
int cli_check_not_model_dir(const char *flag, const char *dir, const char *model_dir, dsp_err *err);
/* Refuses an output folder that already holds a model (config.json or model.safetensors) unless `force`: writing a
 * fresh model there would lose the one it holds. */
int cli_check_no_model_in(const char *flag, const char *dir, int force, dsp_err *err);
/* The --log of a run: not empty, not the --config file (config may be NULL), not one of the --model folder's
 * files, and not one of the files the run saves into out_dir (NULL: none), which would replace the log or be
 * replaced by it. */
int cli_check_log(const char *log, const char *config, const char *model_dir, const char *out_dir, dsp_err *err);
/* Every check a training run (train, pretrain) makes on its --log and --out before any work: the log is no input,
 * none of cli_check_log's files, and holds no earlier records unless `force`; --out is not the --model folder,
 * holds no model unless `force`, and can be made.
 * NULL log or out: not given. */
int cli_check_run_outputs(const char *log, const char *out, int force, const char *model_dir, const char *config,
                          const char *const *inputs, int n_inputs, dsp_err *err);
/* An output file (encode's and parity-dump's --out): not empty, not a folder, not the --config file (config may
 * be NULL), not one of the --model folder's files, not one of the inputs, and in a folder that exists or can be
 * created and that this process can write into. */
int cli_check_out_file(const char *flag, const char *path, const char *model_dir, const char *config,
                       const char *const *inputs, int n_inputs, dsp_err *err);
/* Creates the folder an output file goes into (after cli_check_out_file, once the inputs have loaded). */
int cli_prepare_out_file(const char *flag, const char *path, dsp_err *err);

#endif
