/* test_model_io.c — BERT initialisation, save → load round trips, the checkpoint variants found in the wild
 * (bert. prefix, gamma/beta, task heads, position_ids) and the errors of a checkpoint that does not fit. */
#include "dissipate.h"
#include "testutil.h"

#include <dirent.h>
#include <sys/stat.h>

static dsp_err err;

static const char *VOCAB = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\na\nman\nis\nplaying\n##s\nguitar\n.\n,\n";
#define V 14

static dsp_config small_config(void) {
    dsp_config c = dsp_config_tiny(V);
    c.hidden_size = 16;
    c.num_attention_heads = 2;
    c.intermediate_size = 24;
    c.max_position_embeddings = 12;
    return c;
}

static dsp_vocab *vocab(void) {
    dsp_vocab *v = NULL;
    CHECK_OK(dsp_vocab_from_text(&v, VOCAB, strlen(VOCAB), &err), &err);
    return v;
}

static const float *tensor(const dsp_model *m, const char *name) {
    int k = dsp_layout_find(&m->layout, name);
    CHECK_MSG(k >= 0, "no tensor %s", name);
    return k >= 0 ? m->params + m->layout.tensors[k].offset : NULL;
}

static const char *dir_path(const char *name, char *buf, size_t cap) { return dsp_test_tmp(name, buf, cap); }

static void write_text(const char *dir, const char *file, const char *text) {
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "wb");
    CHECK_MSG(f != NULL, "cannot write %s", path);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_init(void) {
    dsp_config c = small_config();
    dsp_model a, b, d;
    CHECK_OK(dsp_model_init(&a, &c, vocab(), 1, &err), &err);
    CHECK_OK(dsp_model_init(&b, &c, vocab(), 1, &err), &err);
    CHECK_OK(dsp_model_init(&d, &c, vocab(), 2, &err), &err);
    CHECK(a.layout.total == b.layout.total);
    CHECK(memcmp(a.params, b.params, a.layout.total * sizeof(float)) == 0); /* deterministic in the seed */
    CHECK(memcmp(a.params, d.params, a.layout.total * sizeof(float)) != 0);
    CHECK(a.has_hf_pooler == 0 && a.has_mlp == 0 && a.vocab != NULL);
    /* BERT's scheme: weights N(0, 0.02), biases 0, LayerNorm weights 1; the [PAD] embedding row 0. */
    double sum = 0, sq = 0;
    size_t n = 0;
    int bad = 0;
    for (int k = 0; k < a.layout.count; k++) {
        const dsp_tensor_info *t = &a.layout.tensors[k];
        const float *p = a.params + t->offset;
        int is_bias = strstr(t->name, ".bias") != NULL, is_ln = strstr(t->name, "LayerNorm.weight") != NULL;
        for (size_t j = 0; j < t->numel; j++) {
            if (is_bias) bad += p[j] != 0.0f;
            else if (is_ln) bad += p[j] != 1.0f;
            else if (!(k == 0 && j < (size_t)c.hidden_size)) {
                sum += p[j];
                sq += (double)p[j] * p[j];
                n++;
            }
        }
    }
    CHECK(bad == 0);
    double mean = sum / (double)n, sd = sqrt(sq / (double)n - mean * mean);
    CHECK_NEAR(mean, 0.0, 0.002, 0);
    CHECK_NEAR(sd, 0.02, 0, 0.05);
    const float *word = tensor(&a, "embeddings.word_embeddings.weight");
    for (int j = 0; j < c.hidden_size; j++) bad += word[j] != 0.0f; /* [PAD] is id 0 */
    CHECK(bad == 0);

    /* Each tensor draws from its own stream: a model with one more layer starts the shared tensors alike. */
    dsp_config c3 = c;
    c3.num_hidden_layers = 3;
    dsp_model e;
    CHECK_OK(dsp_model_init(&e, &c3, vocab(), 1, &err), &err);
    const char *names[] = {"encoder.layer.1.attention.self.key.weight", "pooler.dense.weight", "mlp.dense.weight",
                           "embeddings.position_embeddings.weight"};
    for (int i = 0; i < 4; i++) {
        int k = dsp_layout_find(&a.layout, names[i]);
        CHECK(memcmp(tensor(&a, names[i]), tensor(&e, names[i]), a.layout.tensors[k].numel * sizeof(float)) == 0);
    }
    /* ... and tensors differ from one another. */
    CHECK(memcmp(tensor(&a, "encoder.layer.0.attention.self.query.weight"),
                 tensor(&a, "encoder.layer.0.attention.self.key.weight"), 16 * sizeof(float)) != 0);
    dsp_model_free(&e);
    dsp_model_free(&a);
    dsp_model_free(&b);
    dsp_model_free(&d);
    CHECK(a.params == NULL && a.vocab == NULL);

    /* After a failure the caller still owns the vocabulary (the sanitizer build would see a leak or a
     * double free otherwise). */
    dsp_vocab *v = vocab();
    dsp_config wrong = c;
    wrong.vocab_size = V + 1;
    CHECK_FAILS(dsp_model_init(&a, &wrong, v, 1, &err), &err, "the vocabulary has 14 tokens but vocab_size is 15");
    wrong = c;
    wrong.num_attention_heads = 3;
    CHECK_FAILS(dsp_model_init(&a, &wrong, v, 1, &err), &err, "not divisible");
    CHECK(a.vocab == NULL && a.params == NULL);
    CHECK(dsp_vocab_size(v) == V);
    dsp_vocab_free(v);
}

static void test_round_trip(void) {
    dsp_config c = small_config();
    dsp_model a, b;
    CHECK_OK(dsp_model_init(&a, &c, vocab(), 7, &err), &err);
    a.has_mlp = 1;
    /* Values no initialiser produces, so a tensor loaded into the wrong slot shows. */
    for (size_t j = 0; j < a.layout.total; j++) a.params[j] += (float)j * 1e-4f;
    char dir[512];
    dir_path("model_rt/nested", dir, sizeof dir);
    CHECK_OK(dsp_model_save(&a, dir, 0, &err), &err);
    CHECK_OK(dsp_model_load(&b, dir, &err), &err);
    CHECK(memcmp(&a.cfg, &b.cfg, sizeof a.cfg) == 0);
    CHECK(b.layout.total == a.layout.total);
    if (b.params) CHECK(memcmp(a.params, b.params, a.layout.total * sizeof(float)) == 0); /* bit-exact */
    CHECK(b.has_hf_pooler == 1 && b.has_mlp == 1);
    CHECK(dsp_vocab_size(b.vocab) == V && strcmp(dsp_vocab_token(b.vocab, 9), "playing") == 0);
    dsp_model_free(&b);

    /* Without a trained MLP, mlp.dense.* is not written, and a load initialises it afresh. */
    a.has_mlp = 0;
    CHECK_OK(dsp_model_save(&a, dir, 0, &err), &err);
    CHECK_OK(dsp_model_load(&b, dir, &err), &err);
    CHECK(b.has_mlp == 0 && b.has_hf_pooler == 1);
    int k = dsp_layout_find(&a.layout, "mlp.dense.weight");
    size_t mlp_at = a.layout.tensors[k].offset;
    if (b.params) {
        CHECK(memcmp(a.params, b.params, mlp_at * sizeof(float)) == 0);
        CHECK(memcmp(a.params + mlp_at, b.params + mlp_at, 16 * sizeof(float)) != 0);
        const float *bias = tensor(&b, "mlp.dense.bias");
        CHECK(bias[0] == 0.0f && bias[15] == 0.0f);
    }
    dsp_model_free(&b);

    /* F16: every value within half precision. */
    a.has_mlp = 1;
    char dir16[512];
    dir_path("model_rt16", dir16, sizeof dir16);
    CHECK_OK(dsp_model_save(&a, dir16, 1, &err), &err);
    CHECK_OK(dsp_model_load(&b, dir16, &err), &err);
    int far = 0;
    for (size_t j = 0; b.params && j < a.layout.total; j++)
        far += !(fabsf(a.params[j] - b.params[j]) <= ldexpf(1.0f, -25) + ldexpf(fabsf(a.params[j]), -11));
    CHECK_MSG(far == 0, "%d values beyond half precision", far);
    dsp_model_free(&b);

    /* The files: three of them, no temporary left behind, a config that names BERT. */
    char path[600];
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "rb");
    char text[4096] = {0};
    if (f) {
        CHECK(fread(text, 1, sizeof text - 1, f) > 0);
        fclose(f);
    }
    CHECK(strstr(text, "\"architectures\": [\"BertModel\"]") && strstr(text, "\"model_type\": \"bert\""));
    struct stat sb;
    int files = 0, others = 0;
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (!strcmp(e->d_name, "config.json") || !strcmp(e->d_name, "vocab.txt") || !strcmp(e->d_name, "model.safetensors"))
            files++;
        else
            others++;
    }
    if (d) closedir(d);
    CHECK_MSG(files == 3 && others == 0, "%d model files and %d others in %s", files, others, dir);
    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    CHECK(stat(path, &sb) == 0 && (size_t)sb.st_size == strlen(VOCAB));

    dsp_model_free(&a);
    CHECK_FAILS(dsp_model_save(&a, dir, 0, &err), &err, "not initialised");
}

/* Writes a checkpoint folder for m with renamed/dropped/extra tensors:
 * rename(name, out) fills out with the stored name (or "" to drop the tensor). */
typedef void (*rename_fn)(const char *name, char *out, size_t cap);

static void write_checkpoint(const dsp_model *m, const char *dir, rename_fn rename, const dsp_st_tensor *extra,
                             int n_extra, const char *config_json) {
    CHECK_OK(dsp_model_save(m, dir, 0, &err), &err); /* config.json and vocab.txt */
    const dsp_layout *L = &m->layout;
    dsp_st_tensor *ts = calloc((size_t)L->count + (size_t)n_extra, sizeof *ts);
    char(*names)[128] = calloc((size_t)L->count, sizeof *names);
    int n = 0;
    for (int k = 0; k < L->count; k++) {
        const dsp_tensor_info *t = &L->tensors[k];
        rename(t->name, names[k], sizeof names[k]);
        if (!names[k][0]) continue;
        ts[n++] = (dsp_st_tensor){names[k], m->params + t->offset, t->ndim, {t->shape[0], t->shape[1]}};
    }
    for (int i = 0; i < n_extra; i++) ts[n++] = extra[i];
    char path[600];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    CHECK_OK(dsp_st_write_file(path, ts, n, 0, NULL, &err), &err);
    if (config_json) write_text(dir, "config.json", config_json);
    free(ts);
    free(names);
}

static void as_pretraining(const char *name, char *out, size_t cap) {
    /* BertForPreTraining as saved by old transformers: bert. prefix, LayerNorm.gamma/.beta, no mlp. */
    if (strncmp(name, "mlp.", 4) == 0) {
        out[0] = 0;
        return;
    }
    snprintf(out, cap, "bert.%s", name);
    char *ln = strstr(out, "LayerNorm.");
    if (ln) strcpy(ln + 10, strstr(ln, ".weight") ? "gamma" : "beta");
}
static void same(const char *name, char *out, size_t cap) { snprintf(out, cap, "%s", name); }
static void no_pooler(const char *name, char *out, size_t cap) {
    snprintf(out, cap, "%s", strncmp(name, "pooler.", 7) == 0 ? "" : name);
}
static void no_pooler_bias(const char *name, char *out, size_t cap) {
    snprintf(out, cap, "%s", strcmp(name, "pooler.dense.bias") == 0 ? "" : name);
}
static void no_ffn(const char *name, char *out, size_t cap) {
    snprintf(out, cap, "%s", strcmp(name, "encoder.layer.1.output.dense.weight") == 0 ? "" : name);
}

static void test_checkpoints(void) {
    dsp_config c = small_config();
    dsp_model a, b;
    CHECK_OK(dsp_model_init(&a, &c, vocab(), 3, &err), &err);
    for (size_t j = 0; j < a.layout.total; j++) a.params[j] += (float)j * 1e-4f;
    a.has_mlp = 1;
    char dir[512];
    dir_path("model_ckpt", dir, sizeof dir);
    int k_mlp = dsp_layout_find(&a.layout, "mlp.dense.weight");
    size_t mlp_at = a.layout.tensors[k_mlp].offset;

    /* BertForPreTraining: prefix, gamma/beta, MLM and NSP heads, an I64-free position_ids buffer. */
    static float head[V * 2], ids[12];
    const dsp_st_tensor extra[] = {
        {"cls.predictions.bias", head, 1, {V, 0}},
        {"cls.predictions.transform.dense.weight", head, 2, {2, V}},
        {"cls.seq_relationship.weight", head, 2, {2, 4}},
        {"bert.embeddings.position_ids", ids, 2, {1, 12}},
    };
    write_checkpoint(&a, dir, as_pretraining, extra, 4, NULL);
    CHECK_OK(dsp_model_load(&b, dir, &err), &err);
    if (b.params) CHECK(memcmp(a.params, b.params, mlp_at * sizeof(float)) == 0);
    CHECK(b.has_hf_pooler == 1 && b.has_mlp == 0);
    dsp_model_free(&b);

    /* No pooler: loads, pooler initialised, flagged. */
    write_checkpoint(&a, dir, no_pooler, NULL, 0, NULL);
    CHECK_OK(dsp_model_load(&b, dir, &err), &err);
    CHECK(b.has_hf_pooler == 0 && b.has_mlp == 1);
    if (b.params) CHECK(tensor(&b, "pooler.dense.bias")[0] == 0.0f);
    dsp_model_free(&b);

    /* Errors, each naming the problem. */
    write_checkpoint(&a, dir, no_pooler_bias, NULL, 0, NULL);
    CHECK_FAILS(dsp_model_load(&b, dir, &err), &err, "pooler.* is incomplete: has 1 of its 2 tensors");
    CHECK(b.params == NULL && b.vocab == NULL);
    write_checkpoint(&a, dir, no_ffn, NULL, 0, NULL);
    CHECK_FAILS(dsp_model_load(&b, dir, &err), &err, "missing tensor \"encoder.layer.1.output.dense.weight\"");
    CHECK(strstr(err.msg, "model.safetensors") != NULL);

    static float wrong[16 * 8];
    const dsp_st_tensor bad_shape = {"encoder.layer.0.attention.self.key.weight", wrong, 2, {16, 8}};
    write_checkpoint(&a, dir, no_ffn, NULL, 0, NULL);
    char path[600];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    {
        /* a full checkpoint whose key weight is [16, 8] */
        const dsp_layout *L = &a.layout;
        dsp_st_tensor *ts = calloc((size_t)L->count, sizeof *ts);
        for (int k = 0; k < L->count; k++) {
            const dsp_tensor_info *t = &L->tensors[k];
            ts[k] = strcmp(t->name, bad_shape.name) == 0
                        ? bad_shape
                        : (dsp_st_tensor){t->name, a.params + t->offset, t->ndim, {t->shape[0], t->shape[1]}};
        }
        CHECK_OK(dsp_st_write_file(path, ts, L->count, 0, NULL, &err), &err);
        CHECK_FAILS(dsp_model_load(&b, dir, &err), &err,
                    "tensor \"encoder.layer.0.attention.self.key.weight\" has shape [16, 8], expected [16, 16]");
        /* a tensor of a third layer that config.json does not have */
        dsp_st_tensor *more = calloc((size_t)L->count + 1, sizeof *more);
        memcpy(more, ts, (size_t)L->count * sizeof *ts);
        for (int k = 0; k < L->count; k++)
            if (strcmp(more[k].name, bad_shape.name) == 0) more[k].shape[1] = 16, more[k].data = a.params + L->tensors[k].offset;
        more[L->count] = (dsp_st_tensor){"encoder.layer.2.output.dense.bias", wrong, 1, {16, 0}};
        CHECK_OK(dsp_st_write_file(path, more, L->count + 1, 0, NULL, &err), &err);
        CHECK_FAILS(dsp_model_load(&b, dir, &err), &err, "\"encoder.layer.2.output.dense.bias\" does not belong");
        /* the same tensor twice, under both names */
        more[L->count] = (dsp_st_tensor){"bert.embeddings.LayerNorm.gamma", wrong, 1, {16, 0}};
        CHECK_OK(dsp_st_write_file(path, more, L->count + 1, 0, NULL, &err), &err);
        CHECK_FAILS(dsp_model_load(&b, dir, &err), &err, "are both embeddings.LayerNorm.weight");
        /* a NaN weight */
        more[L->count] = (dsp_st_tensor){"cls.x", wrong, 1, {1, 0}};
        float *p = a.params + L->tensors[3].offset;
        float saved = p[2];
        p[2] = NAN;
        CHECK_OK(dsp_st_write_file(path, more, L->count, 0, NULL, &err), &err);
        p[2] = saved;
        CHECK_FAILS(dsp_model_load(&b, dir, &err), &err, "\"embeddings.LayerNorm.weight\" holds a non-finite value");
        free(more);
        free(ts);
    }

    /* config.json problems name the file. */
    write_checkpoint(&a, dir, same, NULL, 0,
                     "{\"vocab_size\": 14, \"hidden_size\": 16, \"num_hidden_layers\": 2, \"num_attention_heads\": 2,"
                     " \"intermediate_size\": 24, \"max_position_embeddings\": 12, \"hidden_act\": \"relu\"}");
    CHECK_FAILS(dsp_model_load(&b, dir, &err), &err, "model_ckpt/config.json: hidden_act \"relu\" is not supported");
    /* HF: a vocab.txt shorter than vocab_size is legal (unused rows), a longer one is not. */
    write_checkpoint(&a, dir, same, NULL, 0, NULL);
    write_text(dir, "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\n");
    CHECK_OK(dsp_model_load(&b, dir, &err), &err);
    CHECK(b.cfg.vocab_size == V && dsp_vocab_size(b.vocab) == 5);
    dsp_model_free(&b);
    write_text(dir, "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n");
    CHECK_FAILS(dsp_model_load(&b, dir, &err), &err, "has 15 tokens, more than config.json's vocab_size 14");

    char missing[512];
    dir_path("no_such_model", missing, sizeof missing);
    CHECK_FAILS(dsp_model_load(&b, missing, &err), &err, "no_such_model/config.json");
    dsp_model_free(&a);
}

int main(void) {
    test_init();
    test_round_trip();
    test_checkpoints();
    return dsp_test_end("test_model_io");
}
