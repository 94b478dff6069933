/* runlog.h — the JSONL run log (one record per line, flushed as written, so a crash or a NaN stop keeps every
 * record before it) and the terminal progress bar. */
#ifndef DSP_RUNLOG_H
#define DSP_RUNLOG_H

#include "json.h"
#include "trainer.h"

#include <stdio.h>

typedef struct { FILE *f; const char *path; } runlog;

int runlog_open(runlog *log, const char *path, dsp_err *err);  /* path NULL: no log */
void runlog_close(runlog *log);
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
