/* fileio.c — whole-file reads with a size limit, atomic writes (temp file + fsync + rename), mkdir -p.
 * POSIX calls (fstat, fsync, mkdir, rename) exist natively and in Emscripten's filesystem layer alike. */
#define _POSIX_C_SOURCE 200809L
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

int dsp_read_file(const char *path, size_t max_len, char **out, size_t *len, dsp_err *err) {
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return dsp_fail(err, "cannot open %s: %s", path, strerror(errno));
    /* The size from fstat is only a hint for the first allocation: pipes and special files report 0, and a
     * file may change while we read, so the loop below trusts only what fread returns. */
    size_t cap = 4096;
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) {
            fclose(f);
            return dsp_fail(err, "cannot read %s: it is a directory", path);
        }
        if (S_ISREG(sb.st_mode) && sb.st_size > 0) {
            if ((unsigned long long)sb.st_size > (unsigned long long)max_len) {
                fclose(f);
                return dsp_fail(err, "%s is %llu bytes, more than the limit of %zu", path,
                                (unsigned long long)sb.st_size, max_len);
            }
            cap = (size_t)sb.st_size + 1;
        }
    }
    char *buf = malloc(cap);
    size_t n = 0;
    for (;;) {
        if (!buf) {
            fclose(f);
            return dsp_fail(err, "out of memory reading %s", path);
        }
        if (n + 1 == cap) { /* full: probe for more before growing */
            int c = fgetc(f);
            if (c == EOF) break;
            if (n + 1 > max_len) {
                free(buf);
                fclose(f);
                return dsp_fail(err, "%s is larger than the limit of %zu bytes", path, max_len);
            }
            size_t ncap = cap > max_len / 2 ? max_len + 2 : cap * 2;
            char *nb = realloc(buf, ncap);
            if (!nb) free(buf);
            buf = nb;
            if (!buf) continue;
            buf[n++] = (char)c;
            cap = ncap;
            continue;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        int e = errno;
        free(buf);
        fclose(f);
        return dsp_fail(err, "cannot read %s: %s", path, strerror(e));
    }
    fclose(f);
    if (n > max_len) {
        free(buf);
        return dsp_fail(err, "%s is larger than the limit of %zu bytes", path, max_len);
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return 0;
}

static int is_dir(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int dsp_mkdir_p(const char *path, dsp_err *err) {
    size_t n = strlen(path);
    if (n == 0) return dsp_fail(err, "empty directory name");
    char *p = malloc(n + 1);
    if (!p) return dsp_fail(err, "out of memory");
    memcpy(p, path, n + 1);
    /* Create each prefix that ends before a '/', then the whole path. */
    for (size_t i = 1; i <= n; i++) {
        if (i < n && p[i] != '/') continue;
        char saved = p[i];
        p[i] = 0;
        if (mkdir(p, 0777) != 0 && !(errno == EEXIST && is_dir(p))) {
            int e = errno;
            int r = dsp_fail(err, "cannot create directory %s: %s", p,
                             e == EEXIST ? "a file of that name exists" : strerror(e));
            free(p);
            return r;
        }
        p[i] = saved;
    }
    free(p);
    return 0;
}

char *dsp_path_join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    int slash = a > 0 && dir[a - 1] != '/';
    char *s = malloc(a + (size_t)slash + b + 1);
    if (!s) return NULL;
    memcpy(s, dir, a);
    if (slash) s[a] = '/';
    memcpy(s + a + (size_t)slash, name, b + 1);
    return s;
}

static void release(dsp_atomic_file *a) {
    free(a->path);
    free(a->tmp);
    memset(a, 0, sizeof *a);
}

/* The folder of `path` joined with the relative link text `rel` (what a relative symbolic link's target is relative
 * to). NULL when out of memory. */
static char *beside(const char *path, const char *rel) {
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(rel);
    char *dir = strndup(path, (size_t)(slash - path) + 1); /* with its slash: dsp_path_join adds none then */
    char *s = dir ? dsp_path_join(dir, rel) : NULL;
    free(dir);
    return s;
}

/* The file a write to `path` must replace: symbolic links followed to their last target, which need not exist
 * yet. Renaming over the link instead would turn it into a regular file and leave the file it names unwritten.
 * NULL when out of memory. After 40 links (a loop) it stops there and the open reports it. */
static char *link_target(const char *path) {
    char *p = strdup(path);
    for (int hops = 0; p && hops < 40; hops++) {
        struct stat st;
        if (lstat(p, &st) != 0 || !S_ISLNK(st.st_mode)) break;
        char buf[4096];
        ssize_t n = readlink(p, buf, sizeof buf - 1);
        if (n <= 0) break;
        buf[n] = 0;
        char *next = buf[0] == '/' ? strdup(buf) : beside(p, buf);
        free(p);
        p = next;
    }
    return p;
}

int dsp_atomic_open(dsp_atomic_file *a, const char *path, dsp_err *err) {
    memset(a, 0, sizeof *a);
    struct stat st;
    int special = stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
    if (special && S_ISBLK(st.st_mode)) return dsp_fail(err, "%s is a block device: refusing to write over it", path);
    /* A character device or a FIFO (/dev/null, /dev/stdout, a named pipe) has no file to replace: it is written
     * to directly. Renaming a temporary file over it would replace the node itself. */
    a->direct = special;
    a->path = special ? strdup(path) : link_target(path);
    size_t n = a->path ? strlen(a->path) : 0;
    a->tmp = a->path ? malloc(n + 32) : NULL;
    if (!a->path || !a->tmp) {
        release(a);
        return dsp_fail(err, "out of memory");
    }
    /* The pid keeps two processes saving to the same path from writing into one temporary file. */
    if (special) memcpy(a->tmp, a->path, n + 1);
    else snprintf(a->tmp, n + 32, "%s.tmp-%ld", a->path, (long)getpid());
    a->f = fopen(a->tmp, "wb");
    if (!a->f) {
        int r = dsp_fail(err, "cannot create %s: %s", a->tmp, strerror(errno));
        release(a);
        return r;
    }
    return 0;
}

int dsp_atomic_write(dsp_atomic_file *a, const void *data, size_t n, dsp_err *err) {
    if (a->failed) return -1;
    if (n && fwrite(data, 1, n, a->f) != n) {
        a->failed = 1;
        return dsp_fail(err, "cannot write %s: %s", a->tmp, strerror(errno));
    }
    return 0;
}

/* Best effort: makes the rename itself durable. Some filesystems (and Emscripten's) cannot open a directory;
 * the data is already safe then, only the new name might be lost in a power cut. */
static void sync_parent_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    char *dir = malloc(n + 2);
    if (!dir) return;
    if (slash) {
        memcpy(dir, path, n ? n : 1);
        dir[n ? n : 1] = 0;
    } else {
        strcpy(dir, ".");
    }
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

int dsp_atomic_commit(dsp_atomic_file *a, dsp_err *err) {
    if (!a->f) {
        release(a);
        return dsp_fail(err, "atomic write was not opened");
    }
    int r = 0;
    if (a->failed) r = -1; /* the message was set by the failed write */
    else if (fflush(a->f) != 0 || (!a->direct && fsync(fileno(a->f)) != 0)) /* a pipe or device cannot fsync */
        r = dsp_fail(err, "cannot write %s: %s", a->tmp, strerror(errno));
    if (fclose(a->f) != 0 && r == 0) r = dsp_fail(err, "cannot write %s: %s", a->tmp, strerror(errno));
    a->f = NULL;
    if (a->direct) {
        release(a);
        return r;
    }
    if (r == 0 && rename(a->tmp, a->path) != 0)
        r = dsp_fail(err, "cannot rename %s to %s: %s", a->tmp, a->path, strerror(errno));
    if (r != 0) remove(a->tmp);
    else sync_parent_dir(a->path);
    release(a);
    return r;
}

void dsp_atomic_abort(dsp_atomic_file *a) {
    if (a->f) {
        fclose(a->f);
        if (!a->direct) remove(a->tmp);
    }
    release(a);
}

int dsp_write_file_atomic(const char *path, const void *data, size_t n, dsp_err *err) {
    dsp_atomic_file a;
    if (dsp_atomic_open(&a, path, err)) return -1;
    if (dsp_atomic_write(&a, data, n, err)) {
        dsp_atomic_abort(&a);
        return -1;
    }
    return dsp_atomic_commit(&a, err);
}
