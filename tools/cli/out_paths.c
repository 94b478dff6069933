/* out_paths.c — see out_paths.h. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "out_paths.h"

#include "fileio.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The files a model folder holds, which dsp_model_save writes (checkpoints too, over the same names). */
static const char *const model_files[] = {"config.json", "vocab.txt", "model.safetensors"};
#define N_MODEL_FILES (sizeof model_files / sizeof model_files[0])

/* The folder holding `path` ("." for a bare name), malloc'd; NULL when out of memory. */
static char *parent_of(const char *path) {
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    while (n > 0 && path[n - 1] != '/') n--;
    if (n == 0) return strdup(".");
    while (n > 1 && path[n - 1] == '/') n--;
    char *p = malloc(n + 1);
    if (p) memcpy(p, path, n), p[n] = 0;
    return p;
}

/* The absolute path `path` names, links resolved as far as it exists (realpath of its longest existing prefix),
 * the rest appended with "." and ".." applied by name; malloc'd, NULL when it cannot be made. Two spellings of a
 * file that does not exist yet give the same result, which is what tells that they are one place. */
static char *canon_path(const char *path) {
    if (!*path) return NULL;
    char *r = realpath(path, NULL);
    if (r) return r;
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    size_t s = n;
    while (s > 0 && path[s - 1] != '/') s--;
    if (s == n) return NULL; /* "/" itself did not resolve */
    char *head_path = s ? strndup(path, s) : strdup("."), *head = head_path ? canon_path(head_path) : NULL;
    free(head_path);
    if (!head) return NULL;
    const char *tail = path + s;
    const size_t tail_len = n - s;
    if (tail_len == 1 && tail[0] == '.') return head;
    if (tail_len == 2 && tail[0] == '.' && tail[1] == '.') {
        char *slash = strrchr(head, '/');
        if (slash) slash[slash == head] = 0; /* "/a" -> "/", "/a/b" -> "/a" */
        return head;
    }
    const size_t h = strlen(head), sep = head[h - 1] != '/';
    char *out = malloc(h + sep + tail_len + 1);
    if (out) {
        memcpy(out, head, h);
        if (sep) out[h] = '/';
        memcpy(out + h + sep, tail, tail_len);
        out[h + sep + tail_len] = 0;
    }
    free(head);
    return out;
}

int cli_same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return a && b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The same file where both exist; otherwise the same place, by canon_path. */
static int same_place(const char *a, const char *b) {
    if (!a || !b) return 0;
    if (cli_same_file(a, b)) return 1;
    char *ca = canon_path(a), *cb = canon_path(b);
    const int same = ca && cb && strcmp(ca, cb) == 0;
    free(ca);
    free(cb);
    return same;
}

/* Can `dir` be created (mkdir -p) and written into? Its longest existing prefix must be a folder this process can
 * write into. `shown` is the path the message names (the flag's value). */
static int check_creatable(const char *flag, const char *shown, const char *dir, dsp_err *err) {
    char *p = strdup(dir);
    if (!p) return dsp_fail(err, "out of memory checking --%s %s", flag, shown);
    int rc = 0;
    for (;;) {
        struct stat st;
        if (stat(p, &st) == 0) {
            if (!S_ISDIR(st.st_mode)) rc = dsp_fail(err, "--%s %s: %s is not a folder", flag, shown, p);
            else if (access(p, W_OK | X_OK) != 0)
                rc = dsp_fail(err, "--%s %s: cannot write into %s: %s", flag, shown, p, strerror(errno));
            break;
        }
        if (errno != ENOENT && errno != ENOTDIR) { /* ENOTDIR: a file on the way, named when the walk reaches it */
            rc = dsp_fail(err, "--%s %s: %s", flag, shown, strerror(errno));
            break;
        }
        char *up = parent_of(p);
        if (!up || strcmp(up, p) == 0) {
            free(up);
            rc = dsp_fail(err, "--%s %s: no folder of it exists", flag, shown);
            break;
        }
        free(p);
        p = up;
    }
    free(p);
    return rc;
}

int cli_check_out_dir(const char *flag, const char *dir, dsp_err *err) {
    if (!dir) return 0;
    if (!*dir) return dsp_fail(err, "--%s is an empty path", flag);
    return check_creatable(flag, dir, dir, err);
}

int cli_prepare_out_dir(const char *flag, const char *dir, int *created, dsp_err *err) {
    if (created) *created = 0;
    if (!dir) return 0;
    if (!*dir) return dsp_fail(err, "--%s is an empty path", flag);
    struct stat st;
    if (created) *created = stat(dir, &st) != 0;
    if (dsp_mkdir_p(dir, err)) return dsp_fail_prefix(err, "--%s %s: ", flag, dir);
    if (access(dir, W_OK | X_OK) != 0)
        return dsp_fail(err, "--%s %s: cannot write into it: %s", flag, dir, strerror(errno));
    return 0;
}

void cli_drop_out_dir(const char *dir, int created) {
    if (dir && created) rmdir(dir); /* fails, as it should, on a folder that is not empty */
}

int cli_check_not_input(const char *flag, const char *path, const char *const *inputs, int n_inputs, dsp_err *err) {
    for (int i = 0; i < n_inputs; i++) /* a new file cannot be an input: cli_same_file needs both to exist */
        if (cli_same_file(path, inputs[i]))
            return dsp_fail(err, "--%s %s is also an input (%s); it would be overwritten", flag, path, inputs[i]);
    return 0;
}

int cli_check_not_model_dir(const char *flag, const char *dir, const char *model_dir, dsp_err *err) {
    if (cli_same_file(dir, model_dir))
        return dsp_fail(err, "--%s %s is the --model folder; saving there would replace the model the run starts "
                             "from: choose another --%s", flag, dir, flag);
    return 0;
}

int cli_check_no_model_in(const char *flag, const char *dir, int force, dsp_err *err) {
    static const char *const files[] = {"config.json", "model.safetensors"}; /* a vocabulary alone is no model */
    if (!dir || force) return 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *path = dsp_path_join(dir, files[i]);
        if (!path) return dsp_fail(err, "out of memory checking --%s %s", flag, dir);
        struct stat st;
        const int exists = stat(path, &st) == 0;
        free(path);
        if (exists)
            return dsp_fail(err, "--%s %s already holds a model (%s); pass --force to replace it", flag, dir, files[i]);
    }
    return 0;
}

/* Refuses a path that is one of the --model folder's files (however spelled: ./, links, a new name through a
 * linked folder): the model is an input, and a run must leave it as it found it. Other files beside the model (a
 * log, embeddings) lose nothing, so they are allowed. */
static int check_not_model_file(const char *flag, const char *path, const char *model_dir, dsp_err *err) {
    if (!model_dir) return 0;
    for (size_t i = 0; i < N_MODEL_FILES; i++) {
        char *f = dsp_path_join(model_dir, model_files[i]);
        if (!f) return dsp_fail(err, "out of memory checking --%s %s", flag, path);
        const int clash = same_place(path, f);
        free(f);
        if (clash)
            return dsp_fail(err, "--%s %s is the %s of the --model folder %s, which a run only reads: choose "
                                 "another path", flag, path, model_files[i], model_dir);
    }
    return 0;
}

int cli_check_log(const char *log, const char *config, const char *model_dir, const char *out_dir, dsp_err *err) {
    if (!log) return 0;
    if (!*log) return dsp_fail(err, "--log is an empty path");
    if (cli_same_file(log, config))
        return dsp_fail(err, "--log %s is the --config file %s; the log would replace it", log, config);
    if (check_not_model_file("log", log, model_dir, err)) return -1;
    for (size_t i = 0; out_dir && i < N_MODEL_FILES; i++) {
        char *f = dsp_path_join(out_dir, model_files[i]);
        if (!f) return dsp_fail(err, "out of memory checking --log %s", log);
        const int clash = same_place(log, f);
        free(f);
        if (clash)
            return dsp_fail(err, "--log %s is one of the files the run saves into --out %s (%s): the model would "
                                 "replace the log; choose another name", log, out_dir, model_files[i]);
    }
    return 0;
}

/* Refuses a --log that already holds an earlier run's records (a regular file with something in it) unless `force`:
 * the run would truncate it. An empty file, a pipe or /dev/stdout loses nothing. */
static int check_no_log_in(const char *log, int force, dsp_err *err) {
    struct stat st;
    if (!log || force || stat(log, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) return 0;
    return dsp_fail(err, "--log %s already holds %lld bytes (an earlier run's log?); pass --force to replace it, or "
                         "choose another name", log, (long long)st.st_size);
}

int cli_check_run_outputs(const char *log, const char *out, int force, const char *model_dir, const char *config,
                          const char *const *inputs, int n_inputs, dsp_err *err) {
    if (cli_check_not_input("log", log, inputs, n_inputs, err) || cli_check_log(log, config, model_dir, out, err) ||
        check_no_log_in(log, force, err))
        return -1;
    if (cli_check_not_model_dir("out", out, model_dir, err) || cli_check_no_model_in("out", out, force, err))
        return -1;
    return cli_check_out_dir("out", out, err);
}

int cli_check_out_file(const char *flag, const char *path, const char *model_dir, const char *config,
                       const char *const *inputs, int n_inputs, dsp_err *err) {
    if (!*path) return dsp_fail(err, "--%s is an empty path", flag);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return dsp_fail(err, "--%s %s is a folder; give the name of the file to write", flag, path);
    if (cli_same_file(path, config))
        return dsp_fail(err, "--%s %s is the --config file %s; the output would replace it", flag, path, config);
    if (check_not_model_file(flag, path, model_dir, err) || cli_check_not_input(flag, path, inputs, n_inputs, err))
        return -1;
    char *dir = parent_of(path);
    if (!dir) return dsp_fail(err, "out of memory checking --%s %s", flag, path);
    int rc = check_creatable(flag, path, dir, err);
    free(dir);
    return rc;
}

int cli_prepare_out_file(const char *flag, const char *path, dsp_err *err) {
    char *dir = parent_of(path);
    if (!dir) return dsp_fail(err, "out of memory creating the folder of --%s %s", flag, path);
    int rc = dsp_mkdir_p(dir, err) ? dsp_fail_prefix(err, "--%s %s: ", flag, path) : 0;
    free(dir);
    return rc;
}
