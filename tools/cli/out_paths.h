/* out_paths.h — checks on the paths a command writes, made before it starts work, so that a bad --out or --log
 * fails at once instead of after a long run. */
#ifndef DSP_OUT_PATHS_H
#define DSP_OUT_PATHS_H

#include "dissipate.h"

/* Creates the output folder (and its parents) now and checks that it can be written into. */
int cli_prepare_out_dir(const char *flag, const char *dir, dsp_err *err);
/* Refuses an output file that is one of the inputs (`--log corpus.txt` would truncate the corpus). */
int cli_check_not_input(const char *flag, const char *path, const char *const *inputs, int n_inputs, dsp_err *err);

#endif
