/* runlog.c — JSONL records and the progress bar (see runlog.h). */
#define _POSIX_C_SOURCE 200809L
#include "runlog.h"

#include "json.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int runlog_open(runlog *log, const char *path, dsp_err *err) {
    log->f = NULL;
    log->path = path;
    log->write_errno = 0;
    if (!path) return 0;
    log->f = fopen(path, "w");
    if (!log->f) return dsp_fail(err, "cannot write the log %s: %s", path, strerror(errno));
    return 0;
}

/* Keeps the first failure's errno: later ones are most often its consequence. errno 0 (a stream error that set
 * none) is kept as EIO so that the failure is not lost. */
static void note_failure(runlog *log) {
    if (!log->write_errno) log->write_errno = errno ? errno : EIO;
}

int runlog_check_run(const runlog *log, int step, int done, const char *out, int saved_step, dsp_err *err) {
    if (!log->write_errno) return 0;
    char where[64], kept[320] = "";
    if (done) snprintf(where, sizeof where, "the run finished, but its last records may be lost");
    else if (step > 0) snprintf(where, sizeof where, "the run stopped at step %d", step);
    else snprintf(where, sizeof where, "the run stopped before its first step");
    if (out && saved_step >= 0)
        snprintf(kept, sizeof kept, "; %.256s holds the model saved at step %d", out, saved_step);
    else if (out) snprintf(kept, sizeof kept, "; nothing was saved to %.256s", out);
    return dsp_fail(err, "cannot write the log %s: %s; %s%s", log->path, strerror(log->write_errno), where, kept);
}

int runlog_close(runlog *log) {
    if (log->f) {
        errno = 0;
        if (fclose(log->f) != 0) note_failure(log);
    }
    log->f = NULL;
    return log->write_errno != 0;
}

void runlog_raw(runlog *log, const char *line) {
    if (!log->f) return;
    errno = 0;
    /* flushed per record (see runlog.h), which is also where a full disk shows: fputs alone may only buffer */
    if (fputs(line, log->f) == EOF || fputc('\n', log->f) == EOF || fflush(log->f) == EOF) note_failure(log);
}

void json_num(char *buf, size_t cap, size_t *len, const char *key, double v, int first) {
    if (*len >= cap) return;
    int n = isfinite(v) ? snprintf(buf + *len, cap - *len, "%s\"%s\":%.9g", first ? "" : ",", key, v)
                        : snprintf(buf + *len, cap - *len, "%s\"%s\":null", first ? "" : ",", key);
    if (n > 0) *len += (size_t)n;
}

void runlog_step(runlog *log, const dsp_step_record *r) {
    if (!log->f) return;
    char b[1024];
    size_t n = 0;
    n += (size_t)snprintf(b, sizeof b, "{\"type\":\"step\"");
#define FIELD(name) json_num(b, sizeof b, &n, #name, (double)r->name, 0);
    DSP_STEP_RECORD_FIELDS(FIELD)
#undef FIELD
    if (n < sizeof b - 2) { b[n++] = '}'; b[n] = 0; }
    runlog_raw(log, b);
}

void runlog_eval(runlog *log, int step, const char *set, const dsp_sts_result *r) {
    if (!log->f) return;
    char b[1024];
    dsp_buf name = {0}; /* the set's name comes from a file name: quoted and escaped as JSON (null if that fails or
                         * would not fit the record) */
    const int named = dsp_buf_json_string(&name, set) == 0 && name.len <= 512;
    /* the README's order (step, set, spearman, align, uniform, pairs): step first, as in the step records */
    size_t n = (size_t)snprintf(b, sizeof b, "{\"type\":\"eval\"");
    json_num(b, sizeof b, &n, "step", step, 0);
    n += (size_t)snprintf(b + n, sizeof b - n, ",\"set\":%s", named ? name.data : "null");
    dsp_buf_free(&name);
    json_num(b, sizeof b, &n, "spearman", r->spearman, 0);
    json_num(b, sizeof b, &n, "align", r->align, 0);
    json_num(b, sizeof b, &n, "uniform", r->uniform, 0);
    json_num(b, sizeof b, &n, "pairs", r->pairs, 0);
    if (n < sizeof b - 2) { b[n++] = '}'; b[n] = 0; }
    runlog_raw(log, b);
}

void progress_init(progress *p, int total) {
    p->enabled = isatty(2);
    p->total = total;
    p->start_ms = now_ms();
}

void progress_update(progress *p, int done, const char *status) {
    if (!p->enabled) return;
    const int width = 30;
    int fill = p->total > 0 ? (int)((long long)done * width / p->total) : 0;
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    double el = (now_ms() - p->start_ms) / 1000.0;
    double eta = done > 0 ? el / done * (p->total - done) : 0;
    fprintf(stderr, "\r[%s] %d/%d  %.0fs elapsed, %.0fs left  %s\033[K", bar, done, p->total, el, eta,
            status ? status : "");
    fflush(stderr);
}

void progress_done(progress *p) {
    if (p->enabled) fputc('\n', stderr);
}

int json_str_list(dsp_buf *b, const char *key, const char *const *items, int count) {
    int bad = dsp_buf_printf(b, ",\"%s\":[", key);
    for (int i = 0; i < count; i++) bad |= (i ? dsp_buf_append(b, ",", 1) : 0) | dsp_buf_json_string(b, items[i]);
    return bad | dsp_buf_append(b, "]", 1);
}
