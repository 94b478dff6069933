/* fixtures_io.h — where the I/O tests find tests/fixtures/io/. */
#ifndef DSP_FIXTURES_IO_H
#define DSP_FIXTURES_IO_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* tests/fixtures/io/NAME: from DSP_SOURCE_DIR, else next to this header (Emscripten's getenv does not see the
 * host's environment; __FILE__ is absolute in the CMake build). */
static inline const char *fixture_path(const char *name, char *buf, size_t cap) {
    const char *src = getenv("DSP_SOURCE_DIR");
    if (src) {
        snprintf(buf, cap, "%s/tests/fixtures/io/%s", src, name);
    } else {
        snprintf(buf, cap, "%s", __FILE__);
        char *unit = strstr(buf, "unit/fixtures_io.h");
        if (unit) snprintf(unit, cap - (size_t)(unit - buf), "fixtures/io/%s", name);
    }
    return buf;
}

#endif
