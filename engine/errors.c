/* errors.c — the engine reports failures as messages, never by printing or exiting. */
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
        char prefix[DSP_ERR_LEN], old[DSP_ERR_LEN];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        memcpy(old, err->msg, sizeof old);
        snprintf(err->msg, sizeof err->msg, "%s%s", prefix, old);
    }
    return -1;
}
