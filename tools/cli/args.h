/* args.h — declarative command-line flags: one table per subcommand drives parsing, --help and JSON config files.
 * Every flag can also come from a JSON config file (--config FILE.json) whose keys are the flag names without the
 * dashes; flags on the command line override the file. */
#ifndef DSP_ARGS_H
#define DSP_ARGS_H

#include "dissipate.h"

#include <stdio.h>

typedef enum { ARG_INT, ARG_U64, ARG_FLOAT, ARG_DOUBLE, ARG_STR, ARG_STRLIST, ARG_BOOL } arg_type;

#define ARG_MAX_LIST 64
typedef struct { const char *items[ARG_MAX_LIST]; int count; } arg_strlist;

typedef struct {
    const char *name;    /* without the leading "--" */
    arg_type type;
    void *ptr;           /* int*, uint64_t*, float*, double*, const char**, arg_strlist*, int* (bool) */
    const char *metavar; /* shown in --help, e.g. "N" */
    const char *help;
    int seen;            /* set by the parser */
    int from_cli;        /* a list given on the command line replaces the config file's */
} arg_spec;

/* Parses argv[first..]. Returns 0, 1 when --help was asked (usage already printed to out), -1 on error. */
int args_parse(arg_spec *specs, int n, int argc, char **argv, int first, const char *usage_head, FILE *out,
               dsp_err *err);
void args_usage(FILE *out, const char *usage_head, const arg_spec *specs, int n);
/* Was the flag given (on the command line or in the config file)? */
int args_seen(const arg_spec *specs, int n, const char *name);
/* The --config file read by the last args_parse, or NULL: a run must not write over it. */
const char *args_config_path(void);
/* A flag given where it has no effect (`ignored`) is most likely a mistake: a warning says so and why, e.g.
 * "--momentum does not apply to the adamw optimizer; it is ignored". */
void args_warn_ignored(const arg_spec *specs, int n, const char *name, int ignored, const char *why);
/* Stores v in *out if it lies in [lo, hi) (hi_open) or (lo, hi] (otherwise), checked both on v as given and on its
 * 32-bit float: 0.999999999 is below 1 but rounds to 1, and the message says so instead of "1 must be below 1". */
int args_float_in(const char *name, double v, double lo, double hi, int hi_open, float *out, dsp_err *err);

#endif
