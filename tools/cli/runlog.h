/* runlog.h — the JSONL run log (one record per line, flushed as written, so a crash or a NaN stop keeps every
 * record before it) and the terminal progress bar. */
#ifndef DSP_RUNLOG_H
#define DSP_RUNLOG_H

#include "json.h"
#include "trainer.h"

#include <stdio.h>

/* write_errno: the errno of the first write to the log that failed (0: none). A failed write does not stop the
 * writer by itself: the caller asks runlog_check_run once a step's records are written, and stops the run there (a
 * run that trains on without its record loses the user's results). */
typedef struct { FILE *f; const char *path; int write_errno; } runlog;

int runlog_open(runlog *log, const char *path, dsp_err *err);  /* path NULL: no log */
/* Closes the log (once; a second call does nothing). Nonzero when a write failed, fclose's included: the last
 * records may only reach the disk, and fail, there (runlog_check_run says why). */
int runlog_close(runlog *log);
/* Nonzero once a write to the log has failed, with "cannot write the log PATH: <errno text>" in err, then where the
 * run stopped (step; 0: before its first) or that it had finished (done), and what --out holds (out NULL: no --out;
 * saved_step < 0: nothing saved to it). */
int runlog_check_run(const runlog *log, int step, int done, const char *out, int saved_step, dsp_err *err);
void runlog_raw(runlog *log, const char *json_line);
void runlog_step(runlog *log, const dsp_step_record *r);
void runlog_eval(runlog *log, int step, const char *set, const dsp_sts_result *r);
/* Appends `"key":value` with NaN/Inf written as null (JSON has no NaN). */
void json_num(char *buf, size_t cap, size_t *len, const char *key, double v, int first);
/* Appends ,"key":[...] of the JSON strings items[0 .. count) (a config record's file lists). Nonzero: out of memory. */
int json_str_list(dsp_buf *b, const char *key, const char *const *items, int count);

/* Progress on stderr, redrawn in place; silent when stderr is not a terminal. */
typedef struct { int enabled, total; double start_ms; } progress;
void progress_init(progress *p, int total);
void progress_update(progress *p, int done, const char *status);
void progress_done(progress *p);
double now_ms(void);

#endif
