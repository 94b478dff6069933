/* errors.c — the engine reports failures as messages, never by printing or exiting. */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include "dissipate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int dsp_fail(dsp_err *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int dsp_fail_prefix(dsp_err *err, const char *fmt, ...) {
    if (err) {
        char prefix[DSP_ERR_LEN];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        /* prefix + old message, cut to fit: the old message's tail is what gets lost */
        size_t pl = strlen(prefix), ol = strnlen(err->msg, DSP_ERR_LEN - 1);
        if (pl > DSP_ERR_LEN - 1) pl = DSP_ERR_LEN - 1;
        if (pl + ol > DSP_ERR_LEN - 1) ol = DSP_ERR_LEN - 1 - pl;
        memmove(err->msg + pl, err->msg, ol);
        memcpy(err->msg, prefix, pl);
        err->msg[pl + ol] = 0;
    }
    return -1;
}
