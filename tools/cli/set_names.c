/* set_names.c — see set_names.h. */
#define _POSIX_C_SOURCE 200809L
#include "set_names.h"

#include <stdlib.h>
#include <string.h>

/* The last k + 1 components of path (trailing slashes dropped), the extension of the last removed; *whole is set
 * when that is all of the path, so that a larger k gives nothing new. malloc'd; NULL when out of memory. */
static char *suffix_name(const char *path, int k, int *whole) {
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    size_t s = n, base = n;
    for (int c = 0; c <= k && s > 0; c++) {
        if (c > 0) s--; /* step over the '/' before the component just taken */
        while (s > 0 && path[s - 1] != '/') s--;
        if (c == 0) base = s;
    }
    *whole = s == 0;
    size_t end = n;
    for (size_t i = n; i > base + 1; i--) /* a dot past the first character of the base name starts its extension */
        if (path[i - 1] == '.') { end = i - 1; break; }
    return strndup(path + s, end - s);
}

void cli_set_names_free(char **names, int n) {
    for (int i = 0; names && i < n; i++) free(names[i]);
    free(names);
}

int cli_set_names(const char *flag, const char *const *paths, int n, char ***out, dsp_err *err) {
    char **names = calloc((size_t)(n ? n : 1), sizeof *names);
    if (!names) return dsp_fail(err, "out of memory");
    for (int i = 0; i < n; i++) {
        for (int k = 0;; k++) {
            int whole_i, whole_j, clash = 0, oom = 0;
            char *mine = suffix_name(paths[i], k, &whole_i);
            for (int j = 0; mine && j < n && !clash && !oom; j++) {
                if (j == i) continue;
                char *theirs = suffix_name(paths[j], k, &whole_j);
                oom = !theirs;
                clash = theirs && strcmp(mine, theirs) == 0;
                free(theirs);
            }
            if (!mine || oom) {
                free(mine);
                cli_set_names_free(names, n);
                return dsp_fail(err, "out of memory");
            }
            if (!clash) {
                names[i] = mine;
                break;
            }
            free(mine);
            if (!whole_i) continue;
            /* all of the path without its extension is not enough (dev.tsv and dev.txt): the path as given is */
            for (int j = 0; j < n; j++)
                if (j != i && strcmp(paths[i], paths[j]) == 0) {
                    cli_set_names_free(names, n);
                    return dsp_fail(err, "--%s %s is given twice", flag, paths[i]);
                }
            names[i] = strdup(paths[i]);
            if (!names[i]) {
                cli_set_names_free(names, n);
                return dsp_fail(err, "out of memory");
            }
            break;
        }
    }
    *out = names;
    return 0;
}
