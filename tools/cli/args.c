/* args.c — the flag parser behind every subcommand (see args.h). */
#include "args.h"

#include "fileio.h"
#include "json.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static arg_spec *find(arg_spec *specs, int n, const char *name, size_t len) {
    for (int i = 0; i < n; i++)
        if (strlen(specs[i].name) == len && strncmp(specs[i].name, name, len) == 0) return &specs[i];
    return NULL;
}

int args_seen(const arg_spec *specs, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(specs[i].name, name) == 0) return specs[i].seen;
    return 0;
}

void args_warn_ignored(const arg_spec *specs, int n, const char *name, int ignored, const char *why) {
    if (ignored && args_seen(specs, n, name))
        fprintf(stderr, "dissipate: warning: --%s %s; it is ignored\n", name, why);
}

int args_float_in(const char *name, double v, double lo, double hi, int hi_open, float *out, dsp_err *err) {
    const char *interval = hi_open ? "[%g, %g)" : "(%g, %g]";
    char range[64];
    snprintf(range, sizeof range, interval, lo, hi);
    const int lo_open = !hi_open;
    if (!(lo_open ? v > lo : v >= lo) || !(hi_open ? v < hi : v <= hi)) /* NaN fails too */
        return dsp_fail(err, "--%s must be in %s, got %.15g", name, range, v);
    const float f = (float)v;
    if (!(lo_open ? f > lo : f >= lo) || !(hi_open ? f < hi : f <= hi))
        return dsp_fail(err, "--%s must be in %s, got %.15g, which a 32-bit float rounds to %.9g", name, range, v,
                        (double)f);
    *out = f;
    return 0;
}

static const char *type_word(arg_type t) {
    switch (t) {
    case ARG_INT: return "an integer";
    case ARG_U64: return "a non-negative integer";
    case ARG_FLOAT: case ARG_DOUBLE: return "a number";
    case ARG_BOOL: return "true or false";
    default: return "a value";
    }
}

/* Sets one flag from its text form. Strings are borrowed (argv or the JSON tree, both outlive the run). */
static int set_value(arg_spec *s, const char *v, const char *origin, dsp_err *err) {
    char *end = NULL;
    errno = 0;
    /* strtol and strtod skip leading white space and take a '+': " -4" would pass the check for a minus sign below
     * and wrap to 2^64 - 4, so a number must start with a digit, a '-' or a '.' (or be a word such as nan) */
    const int numeric = s->type == ARG_INT || s->type == ARG_U64 || s->type == ARG_FLOAT || s->type == ARG_DOUBLE;
    if (numeric && (isspace((unsigned char)*v) || *v == '+'))
        return dsp_fail(err, "%s: --%s expects %s with no leading space or '+', got '%s'", origin, s->name,
                        type_word(s->type), v);
    switch (s->type) {
    case ARG_INT: {
        long x = strtol(v, &end, 10);
        if (!*v || *end || errno || x < -2147483647L || x > 2147483647L) goto bad;
        *(int *)s->ptr = (int)x;
        break;
    }
    case ARG_U64: {
        if (*v == '-') goto bad;
        unsigned long long x = strtoull(v, &end, 10);
        if (!*v || *end || errno) goto bad;
        *(uint64_t *)s->ptr = (uint64_t)x;
        break;
    }
    case ARG_FLOAT: case ARG_DOUBLE: {
        double x = strtod(v, &end);
        if (!*v || *end || errno == ERANGE) goto bad;
        /* every number ends up in 32-bit arithmetic (a double flag too: the objectives compute in float), where a
         * value beyond its range would be Inf or 0 at the first step rather than refused here */
        if (isfinite(x) && (!isfinite((float)x) || (x != 0 && (float)x == 0)))
            return dsp_fail(err, "%s: --%s %s is outside the range of a 32-bit float", origin, s->name, v);
        if (s->type == ARG_FLOAT) *(float *)s->ptr = (float)x;
        else *(double *)s->ptr = x;
        break;
    }
    case ARG_BOOL:
        if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0) *(int *)s->ptr = 1;
        else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0) *(int *)s->ptr = 0;
        else goto bad;
        break;
    case ARG_STR:
        *(const char **)s->ptr = v;
        break;
    case ARG_STRLIST: {
        arg_strlist *l = s->ptr;
        if (l->count >= ARG_MAX_LIST) return dsp_fail(err, "%s: too many values for --%s", origin, s->name);
        l->items[l->count++] = v;
        break;
    }
    }
    s->seen = 1;
    return 0;
bad:
    return dsp_fail(err, "%s: --%s expects %s, got '%s'", origin, s->name, type_word(s->type), v);
}

/* The config file's tree is kept for the life of the process: flag strings point into it. */
static dsp_json *config_tree;
static const char *config_path;

const char *args_config_path(void) { return config_path; }

static int apply_config(arg_spec *specs, int n, const char *path, dsp_err *err) {
    size_t len;
    char *text;
    /* read as the corpus is, to its end rather than to a size asked first: a pipe (--config <(...)) has none */
    if (dsp_read_file(path, (size_t)1 << 24, &text, &len, err)) return dsp_fail_prefix(err, "--config: ");
    config_path = path;
    int rc = dsp_json_parse(&config_tree, text, len, err);
    free(text);
    if (rc) return dsp_fail_prefix(err, "config file %s: ", path);
    if (config_tree->type != DSP_JSON_OBJECT) return dsp_fail(err, "config file %s: expected a JSON object", path);
    for (int i = 0; i < config_tree->count; i++) {
        const char *key = config_tree->keys[i];
        const dsp_json *v = &config_tree->items[i];
        arg_spec *s = find(specs, n, key, strlen(key));
        if (!s || strcmp(key, "config") == 0)
            return dsp_fail(err, "config file %s: unknown setting \"%s\"", path, key);
        char num[64], origin[512];
        snprintf(origin, sizeof origin, "config file %s", path);
        if (v->type == DSP_JSON_ARRAY) {
            if (s->type != ARG_STRLIST) return dsp_fail(err, "%s: \"%s\" takes one value, not a list", origin, key);
            for (int j = 0; j < v->count; j++) {
                if (v->items[j].type != DSP_JSON_STRING)
                    return dsp_fail(err, "%s: \"%s\" must be a list of strings", origin, key);
                if (set_value(s, v->items[j].string, origin, err)) return -1;
            }
            continue;
        }
        /* a path or a name stays a pointer into the tree, so it must be a JSON string (not text made here) */
        if ((s->type == ARG_STR || s->type == ARG_STRLIST) && v->type != DSP_JSON_STRING)
            return dsp_fail(err, "%s: \"%s\" must be a string%s, not %s", origin, key,
                            s->type == ARG_STRLIST ? " or a list of strings" : "", dsp_json_type_name(v->type));
        const char *text_value = NULL;
        if (v->type == DSP_JSON_STRING) text_value = v->string;
        else if (v->type == DSP_JSON_BOOL) text_value = v->boolean ? "true" : "false";
        else if (v->type == DSP_JSON_NUMBER) {
            text_value = v->string; /* the literal: an integer is read exactly, whatever its size */
            if ((s->type == ARG_INT || s->type == ARG_U64) && strpbrk(v->string, ".eE")) { /* 1e3, 64.0 */
                if (v->number != floor(v->number) || fabs(v->number) > 9007199254740992.0)
                    return dsp_fail(err, "%s: \"%s\" must be an integer, got %s", origin, key, v->string);
                snprintf(num, sizeof num, "%.0f", v->number);
                text_value = num;
            }
        } else {
            return dsp_fail(err, "%s: \"%s\" has an unsupported value type", origin, key);
        }
        if (set_value(s, text_value, origin, err)) return -1;
    }
    return 0;
}

void args_usage(FILE *out, const char *usage_head, const arg_spec *specs, int n) {
    fprintf(out, "%s\n\nOptions:\n", usage_head);
    for (int i = 0; i < n; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", specs[i].name, specs[i].metavar ? " " : "",
                 specs[i].metavar ? specs[i].metavar : "");
        fprintf(out, "  %-24s ", left);
        for (const char *h = specs[i].help; *h; h++) { /* a help's later lines line up under its first */
            if (*h == '\n') fprintf(out, "\n%27s", "");
            else fputc(*h, out);
        }
        fputc('\n', out);
    }
    fprintf(out, "  %-24s %s\n", "--config FILE.json", "read settings from a JSON object (keys are flag names)");
    fprintf(out, "  %-24s %s\n", "--help", "show this help");
}

int args_parse(arg_spec *specs, int n, int argc, char **argv, int first, const char *usage_head, FILE *out,
               dsp_err *err) {
    /* pass 1: --help and --config, so that the command line overrides the file whatever the order */
    for (int i = first; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            args_usage(out, usage_head, specs, n);
            return 1;
        }
    }
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--config", 8) == 0 && (a[8] == 0 || a[8] == '=')) {
            const char *path = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[i + 1] : NULL);
            if (!path || (a[8] == 0 && strncmp(path, "--", 2) == 0)) return dsp_fail(err, "--config needs a file name");
            if (apply_config(specs, n, path, err)) return -1;
        }
    }
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) return dsp_fail(err, "unexpected argument '%s' (flags start with --)", a);
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        if (len == 6 && strncmp(name, "config", 6) == 0) {
            if (!eq) i++;
            continue;
        }
        arg_spec *s = find(specs, n, name, len);
        if (!s) return dsp_fail(err, "unknown flag '--%.*s'", (int)len, name); /* the caller says where help is */
        if (s->type == ARG_STRLIST && !s->from_cli) {
            ((arg_strlist *)s->ptr)->count = 0;
            s->from_cli = 1;
        }
        const char *v;
        if (eq) v = eq + 1;
        else if (s->type == ARG_BOOL && (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)) v = "true";
        else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) v = argv[++i];
        else if (i + 1 < argc) /* `--log --quiet` would write the log to a file named "--quiet" */
            return dsp_fail(err, "--%s needs a value before %s (for a value that starts with --, write --%s=VALUE)",
                            s->name, argv[i + 1], s->name);
        else return dsp_fail(err, "--%s needs a value", s->name);
        if (set_value(s, v, "command line", err)) return -1;
        /* a list flag takes every following value up to the next flag: --corpus a.txt b.txt */
        if (s->type == ARG_STRLIST && !eq)
            while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
                if (set_value(s, argv[++i], "command line", err)) return -1;
    }
    return 0;
}
