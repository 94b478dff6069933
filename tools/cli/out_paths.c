/* out_paths.c — see out_paths.h. */
#define _POSIX_C_SOURCE 200809L
#include "out_paths.h"

#include "fileio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_prepare_out_dir(const char *flag, const char *dir, dsp_err *err) {
    if (!dir) return 0;
    if (!*dir) return dsp_fail(err, "--%s is an empty path", flag);
    if (dsp_mkdir_p(dir, err)) return dsp_fail_prefix(err, "--%s %s: ", flag, dir);
    if (access(dir, W_OK | X_OK) != 0)
        return dsp_fail(err, "--%s %s: cannot write into it: %s", flag, dir, strerror(errno));
    return 0;
}

/* Do two existing paths name the same file or folder, however they are spelled (./, links)? */
static int same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return a && b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int cli_check_not_input(const char *flag, const char *path, const char *const *inputs, int n_inputs, dsp_err *err) {
    for (int i = 0; i < n_inputs; i++) /* a new file cannot be an input: same_file needs both to exist */
        if (same_file(path, inputs[i]))
            return dsp_fail(err, "--%s %s is also an input (%s); it would be overwritten", flag, path, inputs[i]);
    return 0;
}

int cli_check_not_model_dir(const char *flag, const char *dir, const char *model_dir, dsp_err *err) {
    if (same_file(dir, model_dir))
        return dsp_fail(err, "--%s %s is the --model folder; saving there would replace the model the run starts "
                             "from: choose another --%s", flag, dir, flag);
    return 0;
}

int cli_check_no_model_in(const char *flag, const char *dir, int force, dsp_err *err) {
    static const char *const files[] = {"config.json", "model.safetensors"};
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
