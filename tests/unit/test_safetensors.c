/* test_safetensors.c — half-precision conversions, write/read round trips, and a malformed file of every
 * kind giving a message (never a crash: the sanitizer build runs the fuzz loop below). */
#include "dissipate.h"
#include "fixtures_io.h"
#include "testutil.h"

#include <stdint.h>

static dsp_err err;

/* ---------------------------------------------------------------- conversions */
static float next_up(float f) { return nextafterf(f, INFINITY); }
static float next_down(float f) { return nextafterf(f, -INFINITY); }

static void test_f16(void) {
    CHECK(dsp_f16_to_f32(0x3C00) == 1.0f);
    CHECK(dsp_f16_to_f32(0xC000) == -2.0f);
    CHECK(dsp_f16_to_f32(0x7BFF) == 65504.0f);
    CHECK(dsp_f16_to_f32(0x0001) == ldexpf(1.0f, -24));
    CHECK(dsp_f16_to_f32(0x0400) == ldexpf(1.0f, -14));
    CHECK(dsp_f16_to_f32(0x3555) == 0.333251953125f);
    CHECK(isinf(dsp_f16_to_f32(0x7C00)) && dsp_f16_to_f32(0xFC00) < 0);
    CHECK(isnan(dsp_f16_to_f32(0x7E00)));
    CHECK(dsp_f16_to_f32(0x8000) == 0.0f && signbit(dsp_f16_to_f32(0x8000)));

    /* Every half converts to float and back to itself; NaN stays NaN. */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = dsp_f16_to_f32((uint16_t)h);
        uint16_t back = dsp_f32_to_f16(f);
        if (isnan(f) ? !isnan(dsp_f16_to_f32(back)) : back != h) bad++;
    }
    CHECK_MSG(bad == 0, "%d halves do not round-trip", bad);

    /* Round to nearest, ties to even: between consecutive positive halves a and a+1, the midpoint (exact in
     * float) goes to the even one, and the floats next to it go to the nearer one. */
    bad = 0;
    for (uint32_t h = 0; h < 0x7BFF; h++) {
        float lo = dsp_f16_to_f32((uint16_t)h), hi = dsp_f16_to_f32((uint16_t)(h + 1));
        float mid = (float)(((double)lo + (double)hi) / 2);
        uint16_t even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
        if (dsp_f32_to_f16(mid) != even || dsp_f32_to_f16(next_down(mid)) != h ||
            dsp_f32_to_f16(next_up(mid)) != h + 1 || dsp_f32_to_f16(-mid) != (even | 0x8000))
            bad++;
    }
    CHECK_MSG(bad == 0, "%d midpoints round wrongly", bad);
    /* Overflow: 65520 is the midpoint to the next power of two and rounds (to even) to infinity. */
    CHECK(dsp_f32_to_f16(65520.0f) == 0x7C00);
    CHECK(dsp_f32_to_f16(next_down(65520.0f)) == 0x7BFF);
    CHECK(dsp_f32_to_f16(1e10f) == 0x7C00 && dsp_f32_to_f16(-1e10f) == 0xFC00);
    CHECK(dsp_f32_to_f16(INFINITY) == 0x7C00);
    /* Underflow: half the smallest subnormal ties to zero, anything above it rounds up. */
    CHECK(dsp_f32_to_f16(ldexpf(1.0f, -25)) == 0);
    CHECK(dsp_f32_to_f16(next_up(ldexpf(1.0f, -25))) == 1);
    CHECK(dsp_f32_to_f16(1e-30f) == 0 && dsp_f32_to_f16(-1e-30f) == 0x8000);
    CHECK(isnan(dsp_f16_to_f32(dsp_f32_to_f16(NAN))));

    CHECK(dsp_bf16_to_f32(0x3F80) == 1.0f);
    CHECK(dsp_bf16_to_f32(0xC040) == -3.0f);
    CHECK(dsp_bf16_to_f32(0x3E20) == 0.15625f);
}

/* Against torch: a file torch's conversions wrote (tests/fixtures/io/make_torch_dtypes.py). */
static void test_torch_fixture(void) {
    char path[1024];
    fixture_path("torch_dtypes.safetensors", path, sizeof path);
    dsp_safetensors st;
    CHECK_OK(dsp_st_read_file(&st, path, &err), &err);
    if (st.count == 0) return;
    int src = dsp_st_find(&st, "src"), f16 = dsp_st_find(&st, "src.f16"), f16f = dsp_st_find(&st, "src.f16.as_f32"),
        bf16 = dsp_st_find(&st, "src.bf16"), bf16f = dsp_st_find(&st, "src.bf16.as_f32");
    CHECK(src >= 0 && f16 >= 0 && f16f >= 0 && bf16 >= 0 && bf16f >= 0);
    if (src < 0 || f16 < 0 || f16f < 0 || bf16 < 0 || bf16f < 0) return;
    enum { N = 88 };
    CHECK(st.entries[src].ndim == 1 && st.entries[src].shape[0] == N);
    float x[N], a[N], b[N];
    CHECK_OK(dsp_st_to_f32(&st, src, x, N, &err), &err);
    /* f32 -> f16 rounding: the same bits as torch's .half() */
    const uint8_t *h = st.data + st.entries[f16].begin;
    int bad = 0;
    for (int j = 0; j < N; j++) bad += dsp_f32_to_f16(x[j]) != (uint16_t)(h[2 * j] | h[2 * j + 1] << 8);
    CHECK_MSG(bad == 0, "%d of %d halves differ from torch", bad, N);
    /* f16 -> f32 and bf16 -> f32: the same floats as torch's .float() */
    CHECK_OK(dsp_st_to_f32(&st, f16, a, N, &err), &err);
    CHECK_OK(dsp_st_to_f32(&st, f16f, b, N, &err), &err);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK_OK(dsp_st_to_f32(&st, bf16, a, N, &err), &err);
    CHECK_OK(dsp_st_to_f32(&st, bf16f, b, N, &err), &err);
    CHECK(memcmp(a, b, sizeof a) == 0);
    int ids = dsp_st_find(&st, "position_ids");
    CHECK(ids >= 0 && st.entries[ids].ndim == 2 && st.entries[ids].shape[1] == 8);
    CHECK_FAILS(dsp_st_to_f32(&st, ids, a, 8, &err), &err, "dtype I64");
    dsp_st_free(&st);
}

/* ---------------------------------------------------------------- files */
static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

static uint64_t header_len(const uint8_t *b) {
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | b[i];
    return n;
}

#define NW 3
static float w0[6 * 5], w1[7], w2[1];

static void fill(void) {
    unsigned long long s = 42;
    for (int i = 0; i < 30; i++) w0[i] = dsp_test_rand(&s) * 3;
    for (int i = 0; i < 7; i++) w1[i] = dsp_test_rand(&s) * 1e-3f;
    w1[0] = 1e-6f; /* a subnormal in F16 */
    w2[0] = -7.25f;
}

static const dsp_st_tensor tensors[NW] = {
    {"embeddings.word_embeddings.weight", w0, 2, {6, 5}},
    {"encoder.layer.0.output.LayerNorm.bias", w1, 1, {7, 0}},
    {"scalar \"quoted\" name", w2, 0, {0, 0}},
};

static void test_round_trip(int f16) {
    char path[512];
    dsp_test_tmp(f16 ? "st_f16.safetensors" : "st_f32.safetensors", path, sizeof path);
    CHECK_OK(dsp_st_write_file(path, tensors, NW, f16, "{\"format\": \"pt\", \"note\": \"x\\ny\"}", &err), &err);
    size_t len = 0;
    uint8_t *bytes = slurp(path, &len);
    CHECK(bytes != NULL);
    if (!bytes) return;
    uint64_t n = header_len(bytes);
    CHECK((8 + n) % 8 == 0);                      /* data section aligned */
    CHECK(len == 8 + n + (30 + 7 + 1) * (f16 ? 2 : 4)); /* no holes, no slack */
    CHECK(bytes[8] == '{');
    char *hdr = calloc(1, (size_t)n + 1);
    memcpy(hdr, bytes + 8, (size_t)n);
    CHECK(strstr(hdr, "\"__metadata__\":{\"format\":\"pt\",\"note\":\"x\\ny\"}") != NULL);
    free(hdr);
    free(bytes);

    dsp_safetensors st;
    CHECK_OK(dsp_st_read_file(&st, path, &err), &err);
    CHECK(st.count == NW && st.owned != NULL);
    for (int t = 0; t < NW && st.count == NW; t++) {
        int i = dsp_st_find(&st, tensors[t].name);
        CHECK_MSG(i == t, "tensor %s at %d", tensors[t].name, i); /* written in the given order */
        if (i < 0) continue;
        const dsp_st_entry *e = &st.entries[i];
        CHECK(e->dtype == (f16 ? DSP_F16 : DSP_F32));
        CHECK(e->ndim == tensors[t].ndim);
        size_t numel = 1;
        for (int d = 0; d < e->ndim; d++) {
            CHECK(e->shape[d] == tensors[t].shape[d]);
            numel *= (size_t)e->shape[d];
        }
        float *out = malloc(numel * sizeof *out);
        CHECK_OK(dsp_st_to_f32(&st, i, out, numel, &err), &err);
        CHECK_FAILS(dsp_st_to_f32(&st, i, out, numel + 1, &err), &err, "elements, expected");
        for (size_t j = 0; j < numel; j++) {
            float want = tensors[t].data[j];
            if (f16) /* half precision: 11 significant bits, subnormals below 2^-14 */
                CHECK_NEAR(out[j], want, ldexp(1.0, -25), ldexp(1.0, -11));
            else
                CHECK(memcmp(&out[j], &want, 4) == 0);
        }
        free(out);
    }
    CHECK(dsp_st_find(&st, "nope") == -1);
    CHECK_FAILS(dsp_st_to_f32(&st, NW, NULL, 0, &err), &err, "no tensor number");
    dsp_st_free(&st);
    CHECK(st.entries == NULL && st.owned == NULL);
}

static void test_write_errors(void) {
    char path[512];
    dsp_test_tmp("st_bad.safetensors", path, sizeof path);
    dsp_st_tensor two[2] = {tensors[0], tensors[0]};
    CHECK_FAILS(dsp_st_write_file(path, two, 2, 0, NULL, &err), &err, "appears twice");
    CHECK_FAILS(dsp_st_write_file(path, tensors, 1, 0, "{\"format\": 1}", &err), &err, "must be a string");
    CHECK_FAILS(dsp_st_write_file(path, tensors, 1, 0, "{\"format\": ", &err), &err, "JSON error");
    dsp_st_tensor neg = {"x", w1, 1, {-1, 0}};
    CHECK_FAILS(dsp_st_write_file(path, &neg, 1, 0, NULL, &err), &err, "bad dimension -1");
    dsp_st_tensor nodata = {"x", NULL, 1, {3, 0}};
    CHECK_FAILS(dsp_st_write_file(path, &nodata, 1, 0, NULL, &err), &err, "has no data");
    char nodir[600];
    snprintf(nodir, sizeof nodir, "%s/no/such/dir/x.safetensors", getenv("DSP_TMP_DIR") ? getenv("DSP_TMP_DIR") : "/tmp");
    CHECK_FAILS(dsp_st_write_file(nodir, tensors, 1, 0, NULL, &err), &err, "cannot create");
    CHECK_FAILS(dsp_st_read_file(&(dsp_safetensors){0}, nodir, &err), &err, "no/such/dir/x.safetensors");
    /* An empty tensor list is a valid file. */
    CHECK_OK(dsp_st_write_file(path, NULL, 0, 0, NULL, &err), &err);
    dsp_safetensors st;
    CHECK_OK(dsp_st_read_file(&st, path, &err), &err);
    CHECK(st.count == 0);
    dsp_st_free(&st);
}

/* ---------------------------------------------------------------- hand-made files */
/* header JSON + data_len bytes of data (value i for byte i), in an exactly-sized buffer so that the
 * sanitizer catches any read past the end. */
static uint8_t *make(const char *header, size_t data_len, size_t *len) {
    size_t n = strlen(header);
    *len = 8 + n + data_len;
    uint8_t *b = malloc(*len);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)n >> (8 * i));
    memcpy(b + 8, header, n);
    for (size_t i = 0; i < data_len; i++) b[8 + n + i] = (uint8_t)i;
    return b;
}

static void expect_parse_error(const char *header, size_t data_len, const char *needle) {
    size_t len;
    uint8_t *b = make(header, data_len, &len);
    dsp_safetensors st;
    CHECK_FAILS(dsp_st_parse(&st, b, len, &err), &err, needle);
    CHECK(st.entries == NULL && st.count == 0 && st.data == NULL);
    free(b);
}

static void test_bf16_read(void) {
    /* 1.0, -2.5, 0.15625 in BF16 (little-endian), after another tensor's 2 bytes: offsets are honoured. */
    const char *h = "{\"w\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[2,8]},"
                    "\"pad\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
                    "\"__metadata__\":{\"format\":\"pt\"}}";
    size_t len;
    uint8_t *b = make(h, 8, &len);
    const uint8_t data[8] = {0xAA, 0xBB, 0x80, 0x3F, 0x20, 0xC0, 0x20, 0x3E};
    memcpy(b + len - 8, data, 8);
    dsp_safetensors st;
    CHECK_OK(dsp_st_parse(&st, b, len, &err), &err);
    float out[3] = {0};
    CHECK_OK(dsp_st_to_f32(&st, 0, out, 3, &err), &err);
    CHECK(out[0] == 1.0f && out[1] == -2.5f && out[2] == 0.15625f);
    CHECK(st.owned == NULL);
    dsp_st_free(&st);
    free(b);

    /* Other dtypes are parsed and bounds-checked (old checkpoints carry I64 position_ids) but refused by name. */
    b = make("{\"position_ids\":{\"dtype\":\"I64\",\"shape\":[1,2],\"data_offsets\":[0,16]}}", 16, &len);
    CHECK_OK(dsp_st_parse(&st, b, len, &err), &err);
    CHECK(st.count == 1);
    CHECK_FAILS(dsp_st_to_f32(&st, 0, out, 2, &err), &err, "\"position_ids\" has dtype I64, which cannot be read");
    dsp_st_free(&st);
    free(b);
}

static void test_malformed(void) {
    const uint8_t five[5] = {1, 2, 3, 4, 5};
    dsp_safetensors st;
    CHECK_FAILS(dsp_st_parse(&st, five, 5, &err), &err, "too few for the 8-byte header length");
    uint8_t beyond[16] = {100};
    CHECK_FAILS(dsp_st_parse(&st, beyond, 16, &err), &err, "header length 100 exceeds the 8 bytes that follow");
    uint8_t huge[16] = {0, 0, 0, 0, 0, 0, 0, 0x80};
    CHECK_FAILS(dsp_st_parse(&st, huge, 16, &err), &err, "exceeds");
    /* Over the 100 MB header limit while inside the file (the pages are never touched). */
    size_t big = ((size_t)100 << 20) + 64;
    uint8_t *b = malloc(big);
    if (b) {
        uint64_t n = ((uint64_t)100 << 20) + 1;
        for (int i = 0; i < 8; i++) b[i] = (uint8_t)(n >> (8 * i));
        CHECK_FAILS(dsp_st_parse(&st, b, big, &err), &err, "exceeds the limit of 104857600 bytes");
        free(b);
    }
    const char *w = "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
    char h[512];
    expect_parse_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]", 8, "JSON error at line 1, column");
    expect_parse_error("[1, 2]", 0, "the header must be a JSON object, found an array");
    expect_parse_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
                       "\"w\": data_offsets [0, 8] are out of range: the data section has 4 bytes");
    snprintf(h, sizeof h, "{%s,\"v\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", w);
    expect_parse_error(h, 12, "overlap");
    snprintf(h, sizeof h, "{\"v\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},%s}", w);
    expect_parse_error(h, 12, "overlap");
    expect_parse_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
                       "data_offsets span 8 bytes but shape [3] of F32 needs 12");
    expect_parse_error("{\"w\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,4]}}", 8,
                       "shape [2, 2] of F16 needs 8");
    expect_parse_error("{\"w\":{\"dtype\":\"Q4_K\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown dtype \"Q4_K\"");
    expect_parse_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "negative dimension -2");
    expect_parse_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8, "non-negative integers");
    expect_parse_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 8,
                       "9 dimensions");
    expect_parse_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776,1099511627776],"
                       "\"data_offsets\":[0,4]}}", 8, "is too large");
    expect_parse_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "end before they begin");
    expect_parse_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, "two non-negative integers");
    expect_parse_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8, "two non-negative integers");
    expect_parse_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "\"w\": entry lacks \"data_offsets\"");
    expect_parse_error("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "entry lacks \"dtype\"");
    expect_parse_error("{\"w\":{\"dtype\":5,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "dtype must be a string");
    expect_parse_error("{\"w\":[1]}", 8, "entry must be an object");
    expect_parse_error("{\"__metadata__\":{\"format\":1}}", 0, "__metadata__ value \"format\" must be a string");
    expect_parse_error("{\"__metadata__\":[]}", 0, "__metadata__ must be an object");
    char longname[300];
    memset(longname, 'a', 200);
    longname[200] = 0;
    snprintf(h, sizeof h, "{\"%s\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", longname);
    expect_parse_error(h, 8, "longer than 127 bytes");

    /* Bytes that belong to no tensor (Hugging Face's safetensors rejects these files too): before the first
     * tensor, between two, after the last; and a zero-sized tensor inside another's bytes. */
    expect_parse_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
                       "the first tensor, \"w\", begins at byte 4 of the data section, not at 0: 4 bytes belong to no");
    snprintf(h, sizeof h, "{%s,\"v\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", w);
    expect_parse_error(h, 16, "tensor \"v\" begins at byte 12 of the data section, but \"w\" before it ends at 8: 4 bytes");
    expect_parse_error(h, 20, "tensor \"v\" begins at byte 12"); /* the gap is named before the tail */
    snprintf(h, sizeof h, "{%s}", w);
    expect_parse_error(h, 9, "the tensors cover 8 of the data section's 9 bytes: the last 1 belong to no tensor");
    expect_parse_error("{\"__metadata__\":{\"format\":\"pt\"}}", 3, "the tensors cover 0 of the data section's 3");
    snprintf(h, sizeof h, "{%s,\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}", w);
    expect_parse_error(h, 8, "overlap");

    /* Valid edge cases: zero-sized tensors may share an offset, and lie at either end; headers list tensors in
     * any order; a file of metadata alone has an empty data section. */
    size_t len;
    b = make("{\"a\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[4,4]},"
             "\"b\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[4,5]},"
             "\"c\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
             "\"d\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
             "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[5,5]}}", 5, &len);
    CHECK_OK(dsp_st_parse(&st, b, len, &err), &err);
    CHECK(st.count == 5 && st.entries[1].ndim == 0);
    dsp_st_free(&st);
    free(b);
    b = make("{\"__metadata__\":{\"format\":\"pt\"}}", 0, &len);
    CHECK_OK(dsp_st_parse(&st, b, len, &err), &err);
    CHECK(st.count == 0);
    dsp_st_free(&st);
    free(b);
}

/* Every truncation of a valid file fails cleanly; random header corruption never crashes. */
static void test_fuzz(void) {
    char path[512];
    dsp_test_tmp("st_fuzz.safetensors", path, sizeof path);
    CHECK_OK(dsp_st_write_file(path, tensors, NW, 1, "{\"format\":\"pt\"}", &err), &err);
    size_t len = 0;
    uint8_t *bytes = slurp(path, &len);
    if (!bytes) return;
    int wrong = 0;
    for (size_t L = 0; L <= len; L++) {
        uint8_t *copy = malloc(L ? L : 1);
        memcpy(copy, bytes, L);
        dsp_safetensors st;
        int r = dsp_st_parse(&st, copy, L, &err);
        if ((r == 0) != (L == len)) wrong++;
        if (r == 0) dsp_st_free(&st);
        free(copy);
    }
    CHECK_MSG(wrong == 0, "%d truncations misjudged", wrong);

    size_t hlen = 8 + (size_t)header_len(bytes);
    unsigned long long s = 12345;
    int accepted = 0;
    float *out = malloc(len * sizeof *out);
    for (int iter = 0; iter < 3000; iter++) {
        uint8_t *copy = malloc(len);
        memcpy(copy, bytes, len);
        int flips = 1 + iter % 3;
        for (int k = 0; k < flips; k++) {
            size_t at = (size_t)((dsp_test_rand(&s) * 0.5f + 0.5f) * (float)hlen) % hlen;
            /* half the time a printable character likely to keep the JSON parsable, else any byte */
            uint8_t v = (uint8_t)((dsp_test_rand(&s) * 0.5f + 0.5f) * 256.0f);
            if (iter & 1) v = (uint8_t)("0123456789[]{},:\"-eE. "[v % 22]);
            copy[at] = v;
        }
        dsp_safetensors st;
        if (dsp_st_parse(&st, copy, len, &err) == 0) {
            accepted++;
            for (int i = 0; i < st.count; i++) {
                const dsp_st_entry *e = &st.entries[i];
                size_t numel = 1;
                for (int d = 0; d < e->ndim; d++) numel *= (size_t)e->shape[d];
                if (numel <= len) dsp_st_to_f32(&st, i, out, numel, &err); /* validated: reads in bounds */
            }
            dsp_st_free(&st);
        }
        free(copy);
    }
    printf("fuzz: %d of 3000 corrupted headers still parsed\n", accepted);
    free(out);
    free(bytes);
}

int main(void) {
    fill();
    test_f16();
    test_torch_fixture();
    test_round_trip(0);
    test_round_trip(1);
    test_write_errors();
    test_bf16_read();
    test_malformed();
    test_fuzz();
    return dsp_test_end("test_safetensors");
}
