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

#endif
