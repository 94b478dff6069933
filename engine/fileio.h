/* fileio.h — whole-file reads, atomic writes and directory creation, internal to the engine.
 * Every function reports failures through dsp_err with the path and the system's reason. */
#ifndef DSP_FILEIO_H
#define DSP_FILEIO_H

#include "dissipate.h"

#include <stddef.h>
#include <stdio.h>

/* Reads the whole file into a malloc'd buffer with a NUL byte appended (not counted in *len), so text can be
 * handled as a C string. Fails if the file is larger than max_len bytes. */
int dsp_read_file(const char *path, size_t max_len, char **out, size_t *len, dsp_err *err);

/* Creates a directory and its missing parents (like mkdir -p); an existing directory is fine. */
int dsp_mkdir_p(const char *path, dsp_err *err);

/* "dir/name" in a malloc'd string (NULL when out of memory). */
char *dsp_path_join(const char *dir, const char *name);

/* An atomic write: data goes to PATH.tmp-PID, which commit flushes, fsyncs and renames over PATH, so a reader
 * (or a crash) sees either the old file or the complete new one, never a half-written one. A symbolic link PATH
 * stays a link: the file it names is the one replaced. A character device or FIFO PATH (/dev/null, a named pipe)
 * is written directly, as there is no file to replace; a block device is refused. */
typedef struct {
    FILE *f;
    char *path, *tmp; /* the file replaced (links followed) and the one written: the same when direct */
    int failed;       /* a write failed: commit refuses */
    int direct;       /* a device or FIFO, written in place */
} dsp_atomic_file;
int dsp_atomic_open(dsp_atomic_file *a, const char *path, dsp_err *err);
int dsp_atomic_write(dsp_atomic_file *a, const void *data, size_t n, dsp_err *err);
/* Finishes the file; on failure the temporary file is removed and PATH is untouched. Always releases a. */
int dsp_atomic_commit(dsp_atomic_file *a, dsp_err *err);
/* Gives up: removes the temporary file and releases a. */
void dsp_atomic_abort(dsp_atomic_file *a);
/* The three steps for data already in memory. */
int dsp_write_file_atomic(const char *path, const void *data, size_t n, dsp_err *err);

#endif
