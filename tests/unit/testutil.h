/* testutil.h — a tiny test harness: CHECK macros that count and report, helpers for data paths.
 * A test returns dsp_test_end(): 0 when every check passed, 1 otherwise (77 marks a skip for ctest). */
#ifndef DSP_TESTUTIL_H
#define DSP_TESTUTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int dsp_test_checks = 0, dsp_test_failures = 0;

#define CHECK(cond)                                                                              \
    do {                                                                                         \
        dsp_test_checks++;                                                                       \
        if (!(cond)) {                                                                           \
            dsp_test_failures++;                                                                 \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);             \
        }                                                                                        \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                     \
    do {                                                                                         \
        dsp_test_checks++;                                                                       \
        if (!(cond)) {                                                                           \
            dsp_test_failures++;                                                                 \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);             \
            fprintf(stderr, __VA_ARGS__);                                                        \
            fputc('\n', stderr);                                                                 \
        }                                                                                        \
    } while (0)

/* |a - b| <= atol + rtol·|b| */
#define CHECK_NEAR(a, b, atol, rtol)                                                             \
    do {                                                                                         \
        double a_ = (double)(a), b_ = (double)(b);                                               \
        dsp_test_checks++;                                                                       \
        if (!(fabs(a_ - b_) <= (atol) + (rtol)*fabs(b_))) {                                      \
            dsp_test_failures++;                                                                 \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.9g vs %s = %.9g\n", __FILE__,      \
                    __LINE__, #a, a_, #b, b_);                                                   \
        }                                                                                        \
    } while (0)

/* A call that must succeed: prints the engine's message otherwise. */
#define CHECK_OK(call, errp)                                                                     \
    do {                                                                                         \
        dsp_test_checks++;                                                                       \
        if ((call) != 0) {                                                                       \
            dsp_test_failures++;                                                                 \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, (errp)->msg);   \
        }                                                                                        \
    } while (0)

/* A call that must fail with a message containing `needle`. */
#define CHECK_FAILS(call, errp, needle)                                                          \
    do {                                                                                         \
        dsp_test_checks++;                                                                       \
        (errp)->msg[0] = 0;                                                                      \
        if ((call) == 0) {                                                                       \
            dsp_test_failures++;                                                                 \
            fprintf(stderr, "%s:%d: %s succeeded, expected an error\n", __FILE__, __LINE__,      \
                    #call);                                                                      \
        } else if (!strstr((errp)->msg, (needle))) {                                             \
            dsp_test_failures++;                                                                 \
            fprintf(stderr, "%s:%d: %s: message \"%s\" lacks \"%s\"\n", __FILE__, __LINE__,      \
                    #call, (errp)->msg, (needle));                                               \
        }                                                                                        \
    } while (0)

static inline int dsp_test_end(const char *name) {
    printf("%s: %d checks, %d failed\n", name, dsp_test_checks, dsp_test_failures);
    return dsp_test_failures ? 1 : 0;
}

/* DSP_DATA_DIR/rel, or NULL (the caller skips with 77) when the variable is unset. */
static inline const char *dsp_test_data(const char *rel, char *buf, size_t cap) {
    const char *dir = getenv("DSP_DATA_DIR");
    if (!dir) return NULL;
    snprintf(buf, cap, "%s/%s", dir, rel);
    return buf;
}

static inline const char *dsp_test_tmp(const char *rel, char *buf, size_t cap) {
    const char *dir = getenv("DSP_TMP_DIR");
    snprintf(buf, cap, "%s/%s", dir ? dir : "/tmp", rel);
    return buf;
}

/* The same float, bit for bit (so -0 differs from +0, and a NaN equals only its own pattern). */
static inline int dsp_same_bits(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

/* Deterministic test data: xorshift in [-1, 1). */
static inline float dsp_test_rand(unsigned long long *s) {
    *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17;
    return (float)((*s >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

#endif
