/* set_names.c — see set_names.h. */
#define _POSIX_C_SOURCE 200809L
#include "set_names.h"

#include "out_paths.h"

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

/* The path without leading "./" components: "." names no folder worth showing, and "./dev.tsv" is named as
 * "dev.tsv" is ("dev", not "./dev"). All of the path when nothing else would be left ("./"). */
static const char *shown_path(const char *path) {
    const char *p = path;
    while (p[0] == '.' && p[1] == '/') {
        p += 2;
        while (*p == '/') p++;
    }
    return *p ? p : path;
}

/* Refuses two paths that name one file or folder however they are spelled (./dev.tsv and dev.tsv, a link): one
 * set scored twice would also count twice in an average. Paths that do not exist are left to their loader. */
static int check_distinct_files(const char *flag, const char *const *paths, int n, dsp_err *err) {
    for (int i = 1; i < n; i++)
        for (int j = 0; j < i; j++) {
            if (!cli_same_file(paths[i], paths[j])) continue;
            return strcmp(paths[i], paths[j]) == 0
                       ? dsp_fail(err, "--%s %s is given twice", flag, paths[i])
                       : dsp_fail(err, "--%s %s is given twice: it is the same file as %s", flag, paths[i], paths[j]);
        }
    return 0;
}

int cli_set_names(const char *flag, const char *const *paths, int n, char ***out, dsp_err *err) {
    if (check_distinct_files(flag, paths, n, err)) return -1;
    char **names = calloc((size_t)(n ? n : 1), sizeof *names);
    if (!names) return dsp_fail(err, "out of memory");
    for (int i = 0; i < n; i++) {
        for (int k = 0;; k++) {
            /* deeper (more parent folders) is tried while the name clashes with another path's at the same depth
             * and either path has more to show: "dev.tsv" beside "a/dev.tsv" is "dev" (their depth-1 names differ),
             * not the whole path */
            int whole_i, whole_j, clash = 0, deeper = 0, oom = 0;
            char *mine = suffix_name(shown_path(paths[i]), k, &whole_i);
            for (int j = 0; mine && j < n && !oom; j++) {
                if (j == i) continue;
                char *theirs = suffix_name(shown_path(paths[j]), k, &whole_j);
                oom = !theirs;
                if (theirs && strcmp(mine, theirs) == 0) {
                    clash = 1;
                    deeper |= !whole_i || !whole_j;
                }
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
            if (deeper) continue;
            /* all of the path without its extension is not enough (dev.tsv and dev.txt): the path as given is */
            for (int j = 0; j < n; j++)
                if (j != i && strcmp(shown_path(paths[i]), shown_path(paths[j])) == 0) {
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
