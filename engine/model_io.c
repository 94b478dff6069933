/* model_io.c — a model is a folder: config.json, vocab.txt, model.safetensors (Hugging Face's layout).
 * Loading accepts the checkpoints found in the wild (BertModel, BertForPreTraining's "bert." prefix, the old
 * LayerNorm gamma/beta names, F32/F16/BF16); saving writes what transformers.BertModel.from_pretrained and
 * sentence-transformers load. Initialisation is BERT's, drawn from the counter-based generator. */
#include "dissipate.h"
#include "fileio.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_LIMIT ((size_t)16 << 20)
#define INIT_STD 0.02f
/* Seed for the optional tensors a checkpoint lacks (HF pooler, SimCSE MLP): fixed, so a load is a pure
 * function of the folder. */
#define LOAD_INIT_SEED 0x5EEDull

static int starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* FNV-1a: each tensor draws from the stream named by its own name, so adding or reordering tensors in the
 * layout never changes the initial values of the others. */
static uint64_t name_stream(const char *name) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) h = (h ^ *p) * 0x100000001b3ULL;
    return h;
}

/* BERT's _init_weights: Linear and Embedding weights N(0, 0.02), biases 0, LayerNorm weight 1. */
static void init_tensor(float *base, const dsp_tensor_info *t, uint64_t seed) {
    float *p = base + t->offset; /* [numel] */
    if (ends_with(t->name, ".bias")) {
        memset(p, 0, t->numel * sizeof *p);
    } else if (ends_with(t->name, "LayerNorm.weight")) {
        for (size_t j = 0; j < t->numel; j++) p[j] = 1.0f;
    } else {
        uint64_t stream = name_stream(t->name);
        for (size_t j = 0; j < t->numel; j++) p[j] = INIT_STD * dsp_normal(seed, stream, j);
    }
}

/* Zeroes m, then lays out and allocates the parameters for cfg. */
static int alloc_params(dsp_model *m, const dsp_config *cfg, dsp_err *err) {
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    if (dsp_layout_build(&m->layout, cfg, err)) return -1;
    if (m->layout.total > SIZE_MAX / sizeof(float) ||
        !(m->params = malloc(m->layout.total * sizeof(float)))) {
        dsp_fail(err, "out of memory: the model needs %zu floats", m->layout.total);
        dsp_layout_free(&m->layout);
        return -1;
    }
    return 0;
}

int dsp_model_init(dsp_model *m, const dsp_config *cfg, dsp_vocab *vocab, uint64_t seed, dsp_err *err) {
    /* The model owns vocab from a successful return on; after a failure the caller still owns it. */
    memset(m, 0, sizeof *m);
    if (!vocab) return dsp_fail(err, "dsp_model_init: no vocabulary");
    if (dsp_vocab_size(vocab) != cfg->vocab_size)
        return dsp_fail(err, "the vocabulary has %d tokens but vocab_size is %d", dsp_vocab_size(vocab),
                        cfg->vocab_size);
    if (alloc_params(m, cfg, err)) return -1;
    for (int k = 0; k < m->layout.count; k++) init_tensor(m->params, &m->layout.tensors[k], seed);
    /* As nn.Embedding(padding_idx=pad_token_id): the [PAD] row starts at zero. */
    int pad = dsp_vocab_special(vocab).pad, H = cfg->hidden_size;
    if (pad >= 0 && pad < cfg->vocab_size) memset(m->params + (size_t)pad * (size_t)H, 0, (size_t)H * sizeof(float));
    m->vocab = vocab;
    return 0;
}

/* ---------------------------------------------------------------- loading */
/* Maps a checkpoint name to the layout's: drops BertForPreTraining's "bert." prefix and renames the
 * TensorFlow-era LayerNorm.gamma/.beta. out has room for a dsp_tensor_info name. */
static void canonical_name(const char *name, char *out, size_t cap) {
    if (starts_with(name, "bert.")) name += 5;
    snprintf(out, cap, "%s", name);
    size_t n = strlen(out);
    if (ends_with(out, "LayerNorm.gamma") && n + 1 < cap) strcpy(out + n - 5, "weight");
    else if (ends_with(out, "LayerNorm.beta")) strcpy(out + n - 4, "bias");
}

/* Buffers that old checkpoints saved and the engine recomputes. */
static int is_ignored_buffer(const char *name) {
    return strcmp(name, "embeddings.position_ids") == 0 || strcmp(name, "embeddings.token_type_ids") == 0;
}

/* Names in the encoder's own namespaces. One of these that the layout lacks means the checkpoint and
 * config.json disagree (e.g. more layers than num_hidden_layers); anything else (cls.*, classifier.*) is a
 * task head this engine does not use and is skipped. */
static int is_encoder_name(const char *name) {
    return starts_with(name, "embeddings.") || starts_with(name, "encoder.") || starts_with(name, "pooler.") ||
           starts_with(name, "mlp.");
}

static int is_optional(const char *name) { return starts_with(name, "pooler.") || starts_with(name, "mlp."); }

static void shape_text(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t o = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < ndim && o < cap; d++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
}

/* src[k] = index in st of layout tensor k, or -1. */
static int match_tensors(const dsp_model *m, const dsp_safetensors *st, int *src, dsp_err *err) {
    const dsp_layout *L = &m->layout;
    for (int k = 0; k < L->count; k++) src[k] = -1;
    for (int i = 0; i < st->count; i++) {
        char name[sizeof st->entries[i].name];
        canonical_name(st->entries[i].name, name, sizeof name);
        if (is_ignored_buffer(name)) continue;
        int k = dsp_layout_find(L, name);
        if (k < 0) {
            if (!is_encoder_name(name)) continue;
            const dsp_config *c = &m->cfg;
            return dsp_fail(err, "tensor \"%s\" does not belong to a BERT with this config.json (L=%d, H=%d, I=%d)",
                            st->entries[i].name, c->num_hidden_layers, c->hidden_size, c->intermediate_size);
        }
        if (src[k] >= 0)
            return dsp_fail(err, "tensors \"%s\" and \"%s\" are both %s", st->entries[src[k]].name,
                            st->entries[i].name, name);
        src[k] = i;
    }
    for (int k = 0; k < L->count; k++) {
        const dsp_tensor_info *t = &L->tensors[k];
        if (src[k] < 0) {
            if (!is_optional(t->name)) return dsp_fail(err, "missing tensor \"%s\"", t->name);
            continue;
        }
        const dsp_st_entry *e = &st->entries[src[k]];
        int64_t want[2] = {t->shape[0], t->shape[1]};
        int same = e->ndim == t->ndim;
        for (int d = 0; same && d < t->ndim; d++) same = e->shape[d] == want[d];
        if (!same) {
            char found[160], expected[64];
            shape_text(found, sizeof found, e->ndim, e->shape);
            shape_text(expected, sizeof expected, t->ndim, want);
            return dsp_fail(err, "tensor \"%s\" has shape %s, expected %s (from config.json)", e->name, found, expected);
        }
    }
    return 0;
}

/* An optional Linear (pooler.dense, mlp.dense) must come whole: a weight without its bias is a broken file. */
static int optional_pair(const dsp_layout *L, const int *src, const char *prefix, int *present, dsp_err *err) {
    int n = 0, seen = 0;
    for (int k = 0; k < L->count; k++)
        if (starts_with(L->tensors[k].name, prefix)) {
            n++;
            seen += src[k] >= 0;
        }
    if (seen != 0 && seen != n) return dsp_fail(err, "%s* is incomplete: has %d of its %d tensors", prefix, seen, n);
    *present = seen == n && n > 0;
    return 0;
}

static int load_weights(dsp_model *m, const dsp_safetensors *st, dsp_err *err) {
    const dsp_layout *L = &m->layout;
    int *src = malloc((size_t)L->count * sizeof *src);
    if (!src) return dsp_fail(err, "out of memory");
    int r = match_tensors(m, st, src, err);
    if (!r) r = optional_pair(L, src, "pooler.", &m->has_hf_pooler, err);
    if (!r) r = optional_pair(L, src, "mlp.", &m->has_mlp, err);
    for (int k = 0; k < L->count && !r; k++) {
        const dsp_tensor_info *t = &L->tensors[k];
        float *p = m->params + t->offset; /* [numel] */
        if (src[k] < 0) {
            init_tensor(m->params, t, LOAD_INIT_SEED);
            continue;
        }
        r = dsp_st_to_f32(st, src[k], p, t->numel, err);
        for (size_t j = 0; j < t->numel && !r; j++)
            if (!isfinite(p[j]))
                r = dsp_fail(err, "tensor \"%s\" holds a non-finite value (%g) at index %zu", st->entries[src[k]].name,
                             (double)p[j], j);
    }
    free(src);
    return r;
}

static int load_config(dsp_config *cfg, const char *dir, dsp_err *err) {
    char *path = dsp_path_join(dir, "config.json"), *text = NULL;
    if (!path) return dsp_fail(err, "out of memory");
    size_t len;
    int r = dsp_read_file(path, CONFIG_LIMIT, &text, &len, err);
    /* The parser's messages start with "config.json"; prefixing the folder makes them name the file. */
    if (!r && dsp_config_from_json(cfg, text, len, err))
        r = dsp_fail_prefix(err, "%s%s", dir, dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/");
    free(text);
    free(path);
    return r;
}

static int load_vocab(dsp_vocab **v, const char *dir, int vocab_size, dsp_err *err) {
    char *path = dsp_path_join(dir, "vocab.txt");
    if (!path) return dsp_fail(err, "out of memory");
    int r = dsp_vocab_load(v, path, err);
    /* Hugging Face allows a vocab.txt shorter than vocab_size (unused embedding rows), never a longer one. */
    if (!r && dsp_vocab_size(*v) > vocab_size) {
        r = dsp_fail(err, "%s has %d tokens, more than config.json's vocab_size %d", path, dsp_vocab_size(*v),
                     vocab_size);
        dsp_vocab_free(*v);
        *v = NULL;
    }
    free(path);
    return r;
}

int dsp_model_load(dsp_model *m, const char *dir, dsp_err *err) {
    memset(m, 0, sizeof *m);
    dsp_config cfg;
    dsp_vocab *vocab = NULL;
    if (load_config(&cfg, dir, err) || load_vocab(&vocab, dir, cfg.vocab_size, err)) return -1;
    if (alloc_params(m, &cfg, err)) {
        dsp_vocab_free(vocab);
        return -1;
    }
    m->vocab = vocab;
    char *path = dsp_path_join(dir, "model.safetensors");
    dsp_safetensors st;
    int r = path ? dsp_st_read_file(&st, path, err) : dsp_fail(err, "out of memory");
    if (!r) {
        r = load_weights(m, &st, err);
        if (r) dsp_fail_prefix(err, "%s: ", path);
        dsp_st_free(&st);
    }
    free(path);
    if (r) dsp_model_free(m);
    return r;
}

/* ---------------------------------------------------------------- saving */
static int save_vocab(const dsp_vocab *v, const char *path, dsp_err *err) {
    size_t total = 0;
    int n = dsp_vocab_size(v);
    for (int id = 0; id < n; id++) total += strlen(dsp_vocab_token(v, id)) + 1;
    char *text = malloc(total + 1), *p = text;
    if (!text) return dsp_fail(err, "out of memory");
    for (int id = 0; id < n; id++) {
        const char *tok = dsp_vocab_token(v, id);
        size_t len = strlen(tok);
        memcpy(p, tok, len);
        p += len;
        *p++ = '\n';
    }
    int r = dsp_write_file_atomic(path, text, total, err);
    free(text);
    return r;
}

static int save_weights(const dsp_model *m, const char *path, int f16, dsp_err *err) {
    const dsp_layout *L = &m->layout;
    dsp_st_tensor *ts = calloc((size_t)L->count, sizeof *ts);
    if (!ts) return dsp_fail(err, "out of memory");
    int n = 0;
    for (int k = 0; k < L->count; k++) {
        const dsp_tensor_info *t = &L->tensors[k];
        /* An untrained MLP is noise: leave it out so that a later load knows to initialise it afresh. */
        if (!m->has_mlp && starts_with(t->name, "mlp.")) continue;
        ts[n] = (dsp_st_tensor){t->name, m->params + t->offset, t->ndim, {t->shape[0], t->shape[1]}};
        n++;
    }
    int r = dsp_st_write_file(path, ts, n, f16, "{\"format\":\"pt\"}", err);
    free(ts);
    return r;
}

int dsp_model_save(const dsp_model *m, const char *dir, int f16, dsp_err *err) {
    if (!m || !m->params || !m->vocab) return dsp_fail(err, "dsp_model_save: the model is not initialised");
    if (dsp_mkdir_p(dir, err)) return -1;
    char *cfg_path = dsp_path_join(dir, "config.json"), *vocab_path = dsp_path_join(dir, "vocab.txt"),
         *st_path = dsp_path_join(dir, "model.safetensors"), *json = dsp_config_to_json(&m->cfg);
    int r;
    if (!cfg_path || !vocab_path || !st_path) r = dsp_fail(err, "out of memory");
    else if (!json) r = dsp_config_validate(&m->cfg, err) ? dsp_fail_prefix(err, "dsp_model_save: ")
                                                          : dsp_fail(err, "out of memory");
    else r = save_weights(m, st_path, f16, err) || dsp_write_file_atomic(cfg_path, json, strlen(json), err) ||
             save_vocab(m->vocab, vocab_path, err)
                 ? -1 : 0;
    free(cfg_path);
    free(vocab_path);
    free(st_path);
    free(json);
    return r;
}

void dsp_model_free(dsp_model *m) {
    if (!m) return;
    dsp_layout_free(&m->layout);
    free(m->params);
    if (m->vocab) dsp_vocab_free(m->vocab);
    memset(m, 0, sizeof *m);
}
