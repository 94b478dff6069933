/* set_names.h — the names evaluation sets go by in the log and the tables: a file's stem ("dev" for
 * .../stsb/dev.tsv), with as many of its parent folders as it takes to tell apart two sets of the same stem
 * ("a/dev" and "b/dev"), so that no two records of one run carry the same set name for different files. */
#ifndef DSP_SET_NAMES_H
#define DSP_SET_NAMES_H

#include "dissipate.h"

/* names[i] for paths[i], malloc'd (free with cli_set_names_free). A file given twice is refused, however it is
 * spelled (dev.tsv, ./dev.tsv, a link to it); a leading ./ is no part of a name. */
int cli_set_names(const char *flag, const char *const *paths, int n, char ***names, dsp_err *err);
void cli_set_names_free(char **names, int n);

#endif
