/* sts_sets.h — STS evaluation sets as the command line takes them: a pair file, or a folder of pair files (*.tsv)
 * that is one multi-subset set (STS12–16 come as one folder per year, one file per subset). */
#ifndef DSP_STS_SETS_H
#define DSP_STS_SETS_H

#include "dissipate.h"

#define CLI_MAX_SUBSETS 64

/* The *.tsv files of a folder, sorted by name, as malloc'd paths (free with cli_free_paths); none is an error. */
int cli_list_subsets(const char *dir, char ***out, int *count, dsp_err *err);
void cli_free_paths(char **paths, int count);

/* A pair file, or a folder's subsets concatenated in name order: one set whose Spearman is SentEval's "all"
 * aggregation, SimCSE's number for STS12–16. */
int cli_sts_load_set(dsp_sts *s, const char *path, dsp_err *err);

/* A set's alignment as the command line prints it: "%.4f", or where dsp_sts_align gave NaN (no pair with a gold
 * score >= 4) the reason. buf needs CLI_ALIGN_TEXT bytes; returns buf. */
#define CLI_ALIGN_TEXT 32
const char *cli_align_text(double align, char *buf);

#endif
