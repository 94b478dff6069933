/* safetensors.c — reading and writing the safetensors format (Hugging Face's weight files).
 *
 * A file is an 8-byte little-endian header length N, N bytes of JSON header
 *   {"__metadata__": {"k": "v"}, "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
 * and then the data section; offsets are relative to the start of the data section.
 * Everything in the header is validated before any tensor byte is read, because a checkpoint is untrusted
 * input: a malformed file must give a message, never a crash or an out-of-bounds read. */
#include "dissipate.h"
#include "fileio.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>

#define HEADER_LIMIT ((uint64_t)100 * 1024 * 1024) /* the reference implementation's limit */
#define FILE_LIMIT ((size_t)1 << (sizeof(size_t) > 4 ? 40 : 31))

/* Every safetensors dtype. The first three are the dsp_dtype values that convert to float32; the others
 * are still parsed and bounds-checked (old BERT checkpoints carry an I64 position_ids buffer) and stored as
 * dsp_dtype values past DSP_BF16, which dsp_st_to_f32 refuses by name. */
static const struct { const char *name; size_t size; } DTYPES[] = {
    {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"F64", 8}, {"I64", 8}, {"U64", 8}, {"I32", 4}, {"U32", 4},
    {"I16", 2}, {"U16", 2}, {"I8", 1}, {"U8", 1}, {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1},
};
#define N_DTYPES ((int)(sizeof DTYPES / sizeof DTYPES[0]))

static const char *dtype_name(dsp_dtype d) { return (int)d >= 0 && (int)d < N_DTYPES ? DTYPES[d].name : "?"; }

static size_t entry_numel(const dsp_st_entry *e) {
    size_t n = 1;
    for (int d = 0; d < e->ndim; d++) n *= (size_t)e->shape[d]; /* checked against overflow when parsed */
    return n;
}

static void shape_text(char *buf, size_t cap, const int64_t *shape, int ndim) {
    size_t o = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < ndim && o < cap; d++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
}

/* ---------------------------------------------------------------- float conversions */
static uint32_t f32_bits(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    return x;
}

static float bits_f32(uint32_t x) {
    float f;
    memcpy(&f, &x, 4);
    return f;
}

float dsp_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
    if (exp == 0) { /* zero or subnormal: mant * 2^-24, exact in float */
        float v = (float)mant * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    if (exp == 31) return bits_f32(sign | 0x7F800000u | (mant << 13)); /* inf, NaN (payload kept) */
    return bits_f32(sign | ((exp + 112) << 23) | (mant << 13));
}

/* Round to nearest, ties to even. A carry out of the mantissa moves into the exponent, which is exactly
 * right, including the step from the largest finite value (65504) to infinity. */
uint16_t dsp_f32_to_f16(float f) {
    uint32_t x = f32_bits(f);
    uint32_t sign = (x >> 16) & 0x8000, exp = (x >> 23) & 0xFF, mant = x & 0x7FFFFF;
    if (exp == 0xFF) return (uint16_t)(sign | 0x7C00 | (mant ? 0x200 | (mant >> 13) : 0)); /* NaN stays NaN */
    int e = (int)exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7C00);
    if (e <= 0) { /* subnormal half: value / 2^-24 = M * 2^(e - 14) with the implicit bit in M */
        if (e < -10) return (uint16_t)sign; /* below half the smallest subnormal */
        uint32_t M = mant | 0x800000, shift = (uint32_t)(14 - e);
        uint32_t r = M >> shift, rem = M & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1))) r++;
        return (uint16_t)(sign | r);
    }
    uint32_t r = ((uint32_t)e << 10) | (mant >> 13), rem = mant & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) r++;
    return (uint16_t)(sign | r);
}

float dsp_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

/* ---------------------------------------------------------------- reading */
static int json_size(const dsp_json *v, uint64_t *out) {
    int64_t x;
    /* 2^53: the largest integer a JSON number (a double) carries exactly */
    if (!dsp_json_to_int64(v, 0, (int64_t)1 << 53, &x)) return -1;
    *out = (uint64_t)x;
    return 0;
}

static int parse_metadata(const dsp_json *m, dsp_err *err) {
    if (m->type != DSP_JSON_OBJECT)
        return dsp_fail(err, "__metadata__ must be an object, found %s", dsp_json_type_name(m->type));
    for (int i = 0; i < m->count; i++)
        if (m->items[i].type != DSP_JSON_STRING)
            return dsp_fail(err, "__metadata__ value \"%.100s\" must be a string, found %s", m->keys[i],
                            dsp_json_type_name(m->items[i].type));
    return 0;
}

static int parse_entry(dsp_st_entry *e, const char *name, const dsp_json *v, size_t data_len, dsp_err *err) {
    if (strlen(name) >= sizeof e->name)
        return dsp_fail(err, "tensor name \"%.60s...\" is longer than %zu bytes", name, sizeof e->name - 1);
    strcpy(e->name, name);
    if (v->type != DSP_JSON_OBJECT)
        return dsp_fail(err, "tensor \"%s\": entry must be an object, found %s", name, dsp_json_type_name(v->type));
    const dsp_json *dt = dsp_json_get(v, "dtype"), *sh = dsp_json_get(v, "shape"),
                   *off = dsp_json_get(v, "data_offsets");
    if (!dt || !sh || !off)
        return dsp_fail(err, "tensor \"%s\": entry lacks \"%s\"", name,
                        !dt ? "dtype" : !sh ? "shape" : "data_offsets");
    if (dt->type != DSP_JSON_STRING) return dsp_fail(err, "tensor \"%s\": dtype must be a string", name);
    int d = 0;
    while (d < N_DTYPES && strcmp(DTYPES[d].name, dt->string) != 0) d++;
    if (d == N_DTYPES) return dsp_fail(err, "tensor \"%s\": unknown dtype \"%.40s\"", name, dt->string);
    e->dtype = (dsp_dtype)d;
    const size_t esize = DTYPES[d].size;

    if (sh->type != DSP_JSON_ARRAY) return dsp_fail(err, "tensor \"%s\": shape must be an array", name);
    if (sh->count > 8) return dsp_fail(err, "tensor \"%s\": shape has %d dimensions, at most 8 supported", name, sh->count);
    e->ndim = sh->count;
    size_t numel = 1;
    int overflow = 0;
    for (int k = 0; k < sh->count; k++) {
        const dsp_json *x = &sh->items[k];
        uint64_t dim;
        if (json_size(x, &dim)) {
            if (x->type == DSP_JSON_NUMBER && x->number < 0)
                return dsp_fail(err, "tensor \"%s\": negative dimension %g in shape", name, x->number);
            return dsp_fail(err, "tensor \"%s\": shape entries must be non-negative integers", name);
        }
        e->shape[k] = (int64_t)dim;
        /* numel * esize must fit in size_t; a zero dimension makes any product fit. */
        if (dim != 0 && numel > SIZE_MAX / esize / dim) overflow = 1;
        else numel *= (size_t)dim;
    }
    char shp[160];
    shape_text(shp, sizeof shp, e->shape, e->ndim);
    if (overflow && numel != 0) return dsp_fail(err, "tensor \"%s\": shape %s is too large", name, shp);

    uint64_t begin, end;
    if (off->type != DSP_JSON_ARRAY || off->count != 2 || json_size(&off->items[0], &begin) ||
        json_size(&off->items[1], &end))
        return dsp_fail(err, "tensor \"%s\": data_offsets must be two non-negative integers", name);
    if (begin > end)
        return dsp_fail(err, "tensor \"%s\": data_offsets [%llu, %llu] end before they begin", name,
                        (unsigned long long)begin, (unsigned long long)end);
    if (end > data_len)
        return dsp_fail(err, "tensor \"%s\": data_offsets [%llu, %llu] are out of range: the data section has %zu bytes",
                        name, (unsigned long long)begin, (unsigned long long)end, data_len);
    e->begin = (size_t)begin;
    e->end = (size_t)end;
    if (e->end - e->begin != numel * esize)
        return dsp_fail(err, "tensor \"%s\": data_offsets span %zu bytes but shape %s of %s needs %zu", name,
                        e->end - e->begin, shp, DTYPES[d].name, numel * esize);
    return 0;
}

static int cmp_begin(const void *a, const void *b) {
    const dsp_st_entry *x = *(const dsp_st_entry *const *)a, *y = *(const dsp_st_entry *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* The data section must be exactly the tensors' bytes, back to back: sorted by (begin, end), each tensor begins
 * where the one before it ends, the first at 0 and the last at the section's end. This is Hugging Face's own
 * rule (safetensors rejects a gap or an overlap as InvalidOffset, uncovered bytes at the end as
 * MetadataIncompleteBuffer), so a file read here is one its library reads too; and bytes that belong to no
 * tensor are a sign of a damaged or hand-made file, which is better named than silently skipped. */
static int check_layout(const dsp_safetensors *st, dsp_err *err) {
    /* + 1: a file of metadata alone has no tensors, and malloc(0) may return NULL, which is not out of memory */
    const dsp_st_entry **order = malloc(((size_t)st->count + 1) * sizeof *order);
    if (!order) return dsp_fail(err, "out of memory");
    for (int i = 0; i < st->count; i++) order[i] = &st->entries[i];
    qsort(order, (size_t)st->count, sizeof *order, cmp_begin);
    const dsp_st_entry *prev = NULL;
    size_t at = 0; /* where the next tensor must begin */
    int r = 0;
    for (int i = 0; i < st->count && !r; i++) {
        const dsp_st_entry *e = order[i];
        if (e->begin < at)
            r = dsp_fail(err, "tensors \"%s\" [%zu, %zu) and \"%s\" [%zu, %zu) overlap", prev->name, prev->begin,
                         prev->end, e->name, e->begin, e->end);
        else if (e->begin > at && prev)
            r = dsp_fail(err, "tensor \"%s\" begins at byte %zu of the data section, but \"%s\" before it ends at %zu: "
                         "%zu bytes belong to no tensor (the tensors must lie back to back, as Hugging Face's "
                         "safetensors requires)", e->name, e->begin, prev->name, at, e->begin - at);
        else if (e->begin > at)
            r = dsp_fail(err, "the first tensor, \"%s\", begins at byte %zu of the data section, not at 0: %zu bytes "
                         "belong to no tensor (the tensors must lie back to back, as Hugging Face's safetensors "
                         "requires)", e->name, e->begin, e->begin);
        prev = e;
        at = e->end;
    }
    free(order);
    if (!r && at != st->data_len)
        r = dsp_fail(err, "the tensors cover %zu of the data section's %zu bytes: the last %zu belong to no tensor "
                     "(a damaged file? Hugging Face's safetensors rejects it too)", at, st->data_len,
                     st->data_len - at);
    return r;
}

static int parse_header(dsp_safetensors *st, const dsp_json *root, dsp_err *err) {
    if (root->type != DSP_JSON_OBJECT)
        return dsp_fail(err, "the header must be a JSON object, found %s", dsp_json_type_name(root->type));
    st->entries = calloc((size_t)root->count + 1, sizeof *st->entries);
    if (!st->entries) return dsp_fail(err, "out of memory");
    for (int i = 0; i < root->count; i++) {
        if (strcmp(root->keys[i], "__metadata__") == 0) {
            if (parse_metadata(&root->items[i], err)) return -1;
            continue;
        }
        if (parse_entry(&st->entries[st->count], root->keys[i], &root->items[i], st->data_len, err)) return -1;
        st->count++;
    }
    return check_layout(st, err);
}

int dsp_st_parse(dsp_safetensors *st, const uint8_t *bytes, size_t len, dsp_err *err) {
    memset(st, 0, sizeof *st);
    if (len < 8) return dsp_fail(err, "safetensors: the file has %zu bytes, too few for the 8-byte header length", len);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | bytes[i];
    if (n > len - 8)
        return dsp_fail(err, "safetensors: the header length %llu exceeds the %zu bytes that follow it",
                        (unsigned long long)n, len - 8);
    if (n > HEADER_LIMIT)
        return dsp_fail(err, "safetensors: the header length %llu exceeds the limit of %llu bytes",
                        (unsigned long long)n, (unsigned long long)HEADER_LIMIT);
    st->data = bytes + 8 + n;
    st->data_len = len - 8 - (size_t)n;
    dsp_json *root;
    if (dsp_json_parse(&root, (const char *)bytes + 8, (size_t)n, err)) {
        memset(st, 0, sizeof *st);
        return dsp_fail_prefix(err, "safetensors header: ");
    }
    int r = parse_header(st, root, err);
    dsp_json_free(root);
    if (r) {
        dsp_st_free(st);
        return dsp_fail_prefix(err, "safetensors header: ");
    }
    return 0;
}

int dsp_st_read_file(dsp_safetensors *st, const char *path, dsp_err *err) {
    memset(st, 0, sizeof *st);
    char *bytes;
    size_t len;
    if (dsp_read_file(path, FILE_LIMIT, &bytes, &len, err)) return -1;
    if (dsp_st_parse(st, (const uint8_t *)bytes, len, err)) {
        free(bytes);
        return dsp_fail_prefix(err, "%s: ", path);
    }
    st->owned = (uint8_t *)bytes;
    return 0;
}

void dsp_st_free(dsp_safetensors *st) {
    free(st->entries);
    free(st->owned);
    memset(st, 0, sizeof *st);
}

int dsp_st_find(const dsp_safetensors *st, const char *name) {
    for (int i = 0; i < st->count; i++)
        if (strcmp(st->entries[i].name, name) == 0) return i;
    return -1;
}

int dsp_st_to_f32(const dsp_safetensors *st, int i, float *out, size_t numel, dsp_err *err) {
    if (i < 0 || i >= st->count) return dsp_fail(err, "safetensors: no tensor number %d", i);
    const dsp_st_entry *e = &st->entries[i];
    size_t n = entry_numel(e);
    if (n != numel)
        return dsp_fail(err, "tensor \"%s\" has %zu elements, expected %zu", e->name, n, numel);
    const uint8_t *p = st->data + e->begin; /* unaligned in general: assemble little-endian bytes */
    switch (e->dtype) {
    case DSP_F32:
        for (size_t j = 0; j < n; j++, p += 4)
            out[j] = bits_f32((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        return 0;
    case DSP_F16:
        for (size_t j = 0; j < n; j++, p += 2) out[j] = dsp_f16_to_f32((uint16_t)(p[0] | p[1] << 8));
        return 0;
    case DSP_BF16:
        for (size_t j = 0; j < n; j++, p += 2) out[j] = dsp_bf16_to_f32((uint16_t)(p[0] | p[1] << 8));
        return 0;
    default:
        return dsp_fail(err, "tensor \"%s\" has dtype %s, which cannot be read as float32 (supported: F32, F16, BF16)",
                        e->name, dtype_name(e->dtype));
    }
}

/* ---------------------------------------------------------------- writing */
static size_t tensor_numel(const dsp_st_tensor *t) {
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= (size_t)t->shape[d];
    return n;
}

static int check_tensors(const dsp_st_tensor *ts, int count, size_t esize, dsp_err *err) {
    size_t total = 0;
    for (int i = 0; i < count; i++) {
        const dsp_st_tensor *t = &ts[i];
        if (!t->name || !t->name[0] || strlen(t->name) >= sizeof(((dsp_st_entry *)0)->name))
            return dsp_fail(err, "safetensors: tensor %d needs a name of 1 to 127 bytes", i);
        if (strcmp(t->name, "__metadata__") == 0) return dsp_fail(err, "safetensors: \"__metadata__\" is reserved");
        if (t->ndim < 0 || t->ndim > 2) return dsp_fail(err, "safetensors: tensor \"%s\": ndim %d not in 0..2", t->name, t->ndim);
        size_t n = 1;
        for (int d = 0; d < t->ndim; d++) {
            if (t->shape[d] < 0 || t->shape[d] > ((int64_t)1 << 40))
                return dsp_fail(err, "safetensors: tensor \"%s\": bad dimension %lld", t->name, (long long)t->shape[d]);
            if (t->shape[d] && n > SIZE_MAX / esize / (size_t)t->shape[d])
                return dsp_fail(err, "safetensors: tensor \"%s\" is too large", t->name);
            n *= (size_t)t->shape[d];
        }
        if (n && !t->data) return dsp_fail(err, "safetensors: tensor \"%s\" has no data", t->name);
        if (n * esize > SIZE_MAX - total) return dsp_fail(err, "safetensors: the tensors are too large together");
        total += n * esize;
        for (int j = 0; j < i; j++)
            if (strcmp(ts[j].name, t->name) == 0) return dsp_fail(err, "safetensors: tensor \"%s\" appears twice", t->name);
    }
    return 0;
}

static int build_header(dsp_buf *h, const dsp_st_tensor *ts, int count, int f16, const char *metadata_json,
                        dsp_err *err) {
    const size_t esize = f16 ? 2 : 4;
    int bad = dsp_buf_append(h, "{", 1);
    if (metadata_json) {
        dsp_json *m;
        if (dsp_json_parse(&m, metadata_json, strlen(metadata_json), err))
            return dsp_fail_prefix(err, "safetensors metadata: ");
        if (parse_metadata(m, err)) {
            dsp_json_free(m);
            return dsp_fail_prefix(err, "safetensors: ");
        }
        bad |= dsp_buf_printf(h, "\"__metadata__\":{");
        for (int i = 0; i < m->count; i++) {
            bad |= dsp_buf_printf(h, "%s", i ? "," : "");
            bad |= dsp_buf_json_string(h, m->keys[i]);
            bad |= dsp_buf_append(h, ":", 1);
            bad |= dsp_buf_json_string(h, m->items[i].string);
        }
        bad |= dsp_buf_printf(h, "}%s", count ? "," : "");
        dsp_json_free(m);
    }
    size_t offset = 0;
    for (int i = 0; i < count; i++) {
        const dsp_st_tensor *t = &ts[i];
        size_t bytes = tensor_numel(t) * esize;
        bad |= dsp_buf_printf(h, "%s", i ? "," : "");
        bad |= dsp_buf_json_string(h, t->name);
        bad |= dsp_buf_printf(h, ":{\"dtype\":\"%s\",\"shape\":[", f16 ? "F16" : "F32");
        for (int d = 0; d < t->ndim; d++) bad |= dsp_buf_printf(h, "%s%lld", d ? "," : "", (long long)t->shape[d]);
        bad |= dsp_buf_printf(h, "],\"data_offsets\":[%zu,%zu]}", offset, offset + bytes);
        offset += bytes;
    }
    bad |= dsp_buf_append(h, "}", 1);
    /* Pad with spaces so that the data section starts 8-byte aligned (the format allows trailing spaces). */
    while (!bad && (8 + h->len) % 8 != 0) bad |= dsp_buf_append(h, " ", 1);
    if (bad) return dsp_fail(err, "out of memory writing a safetensors header");
    return 0;
}

/* Converts in blocks so that a model is never duplicated in memory while it is written. */
static int write_data(dsp_atomic_file *a, const dsp_st_tensor *t, int f16, dsp_err *err) {
    enum { BLOCK = 4096 };
    uint8_t buf[BLOCK * 4];
    size_t n = tensor_numel(t);
    for (size_t j0 = 0; j0 < n; j0 += BLOCK) {
        size_t m = n - j0 < BLOCK ? n - j0 : BLOCK;
        uint8_t *p = buf;
        for (size_t j = 0; j < m; j++) {
            if (f16) {
                uint16_t h = dsp_f32_to_f16(t->data[j0 + j]);
                *p++ = (uint8_t)h;
                *p++ = (uint8_t)(h >> 8);
            } else {
                uint32_t x = f32_bits(t->data[j0 + j]);
                *p++ = (uint8_t)x;
                *p++ = (uint8_t)(x >> 8);
                *p++ = (uint8_t)(x >> 16);
                *p++ = (uint8_t)(x >> 24);
            }
        }
        if (dsp_atomic_write(a, buf, (size_t)(p - buf), err)) return -1;
    }
    return 0;
}

int dsp_st_write_file(const char *path, const dsp_st_tensor *tensors, int count, int f16, const char *metadata_json,
                      dsp_err *err) {
    if (count < 0 || (count > 0 && !tensors)) return dsp_fail(err, "safetensors: bad tensor list");
    if (check_tensors(tensors, count, f16 ? 2 : 4, err)) return dsp_fail_prefix(err, "writing %s: ", path);
    dsp_buf h = {0};
    if (build_header(&h, tensors, count, f16, metadata_json, err)) {
        dsp_buf_free(&h);
        return dsp_fail_prefix(err, "writing %s: ", path);
    }
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)h.len >> (8 * i));
    dsp_atomic_file a;
    int r = dsp_atomic_open(&a, path, err);
    if (r == 0) {
        r = dsp_atomic_write(&a, len8, 8, err) || dsp_atomic_write(&a, h.data, h.len, err);
        for (int i = 0; i < count && r == 0; i++) r = write_data(&a, &tensors[i], f16, err);
        r = r ? (dsp_atomic_abort(&a), -1) : dsp_atomic_commit(&a, err);
    }
    dsp_buf_free(&h);
    return r;
}
