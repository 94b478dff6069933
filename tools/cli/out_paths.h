/* out_paths.h — checks on the paths a command writes, made before it starts work, so that a bad --out or --log
 * fails at once instead of after a long run. */
#ifndef DSP_OUT_PATHS_H
#define DSP_OUT_PATHS_H

#include "dissipate.h"

/* Creates the output folder (and its parents) now and checks that it can be written into. */
int cli_prepare_out_dir(const char *flag, const char *dir, dsp_err *err);
/* Refuses an output file that is one of the inputs (`--log corpus.txt` would truncate the corpus). */
int cli_check_not_input(const char *flag, const char *path, const char *const *inputs, int n_inputs, dsp_err *err);
/* Refuses an output folder that is the starting model's (`--model m --out m` would replace the model a run starts
 * from with its result, and a checkpoint would replace it part way through). */
int cli_check_not_model_dir(const char *flag, const char *dir, const char *model_dir, dsp_err *err);
/* Refuses an output folder that already holds a model (config.json or model.safetensors) unless `force`: writing a
 * fresh model there would lose the one it holds. */
int cli_check_no_model_in(const char *flag, const char *dir, int force, dsp_err *err);

#endif
