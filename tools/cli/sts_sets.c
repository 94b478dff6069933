/* sts_sets.c — see sts_sets.h. */
#define _POSIX_C_SOURCE 200809L
#include "sts_sets.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void cli_free_paths(char **paths, int count) {
    for (int i = 0; paths && i < count; i++) free(paths[i]);
    free(paths);
}

int cli_list_subsets(const char *dir, char ***out, int *count, dsp_err *err) {
    DIR *d = opendir(dir);
    if (!d) return dsp_fail(err, "cannot open folder %s: %s", dir, strerror(errno));
    char **names = NULL;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len < 5 || strcmp(e->d_name + len - 4, ".tsv") != 0) continue;
        if (n == CLI_MAX_SUBSETS) {
            closedir(d);
            cli_free_paths(names, n);
            return dsp_fail(err, "%s has more than %d subsets", dir, CLI_MAX_SUBSETS);
        }
        char **grown = realloc(names, (size_t)(n + 1) * sizeof *names);
        size_t cap = strlen(dir) + len + 2;
        char *path = grown ? malloc(cap) : NULL;
        if (!path) {
            closedir(d);
            cli_free_paths(grown ? grown : names, n);
            return dsp_fail(err, "out of memory listing %s", dir);
        }
        names = grown;
        snprintf(path, cap, "%s/%s", dir, e->d_name);
        names[n++] = path;
    }
    closedir(d);
    if (n == 0) {
        free(names);
        return dsp_fail(err, "folder %s has no *.tsv pair files", dir);
    }
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    *out = names;
    *count = n;
    return 0;
}

/* Moves b's pairs to the end of a (their strings change owner; b is left empty). */
static int append_pairs(dsp_sts *a, dsp_sts *b, dsp_err *err) {
    const size_t n = (size_t)a->count + (size_t)b->count;
    float *gold = realloc(a->gold, n * sizeof *gold);
    if (gold) a->gold = gold;
    char **s1 = gold ? realloc(a->s1, n * sizeof *s1) : NULL;
    if (s1) a->s1 = s1;
    char **s2 = s1 ? realloc(a->s2, n * sizeof *s2) : NULL;
    if (!s2) return dsp_fail(err, "out of memory");
    a->s2 = s2;
    memcpy(a->gold + a->count, b->gold, (size_t)b->count * sizeof *gold);
    memcpy(a->s1 + a->count, b->s1, (size_t)b->count * sizeof *s1);
    memcpy(a->s2 + a->count, b->s2, (size_t)b->count * sizeof *s2);
    a->count = (int)n;
    free(b->gold), free(b->s1), free(b->s2);
    memset(b, 0, sizeof *b);
    return 0;
}

int cli_sts_load_set(dsp_sts *s, const char *path, dsp_err *err) {
    memset(s, 0, sizeof *s);
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) return dsp_sts_load(s, path, err); /* it says why */
    char **files = NULL;
    int n = 0;
    if (cli_list_subsets(path, &files, &n, err)) return -1;
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        dsp_sts sub = {0};
        rc = dsp_sts_load(&sub, files[i], err) || append_pairs(s, &sub, err) ? -1 : 0;
        dsp_sts_free(&sub);
    }
    cli_free_paths(files, n);
    if (rc) dsp_sts_free(s), memset(s, 0, sizeof *s);
    return rc;
}

const char *cli_align_text(double align, char *buf) {
    if (isnan(align)) snprintf(buf, CLI_ALIGN_TEXT, "n/a (no pair scored >= 4)");
    else snprintf(buf, CLI_ALIGN_TEXT, "%.4f", align);
    return buf;
}
