/* config_json.c — BertConfig <-> config.json.
 * Reading accepts what Hugging Face writes (including the extra keys transformers and sentence-transformers
 * add) but rejects anything that would make this engine compute something other than BertModel does:
 * another activation, relative position embeddings, a decoder, another model type. Writing produces a file
 * that transformers.BertModel.from_pretrained and sentence-transformers load. */
#include "dissipate.h"
#include "json.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Keys without which the architecture is unknown. Hugging Face has defaults for them, but a config.json that
 * omits hidden_size is more likely a wrong file than a bert-base. */
static int get_int(const dsp_json *root, const char *key, int required, int fallback, int *out, dsp_err *err) {
    const dsp_json *v = dsp_json_get(root, key);
    if (!v) {
        if (required) return dsp_fail(err, "config.json lacks the required key \"%s\"", key);
        *out = fallback;
        return 0;
    }
    int64_t x;
    if (!dsp_json_to_int64(v, -2147483647 - 1, 2147483647, &x)) {
        if (v->type == DSP_JSON_NUMBER && v->number == floor(v->number)) /* an integer, but past any int */
            return dsp_fail(err, "config.json: \"%s\" is %s, out of range (-2147483648 .. 2147483647)", key, v->string);
        if (v->type == DSP_JSON_NUMBER)
            return dsp_fail(err, "config.json: \"%s\" must be an integer, found %g", key, v->number);
        return dsp_fail(err, "config.json: \"%s\" must be an integer, found %s", key, dsp_json_type_name(v->type));
    }
    *out = (int)x;
    return 0;
}

/* Optional float keys default to BertConfig's defaults (Google's original BERT configs omit layer_norm_eps). */
static int get_float(const dsp_json *root, const char *key, float fallback, float *out, dsp_err *err) {
    const dsp_json *v = dsp_json_get(root, key);
    if (!v) {
        *out = fallback;
        return 0;
    }
    if (v->type != DSP_JSON_NUMBER)
        return dsp_fail(err, "config.json: \"%s\" must be a number, found %s", key, dsp_json_type_name(v->type));
    if (!(fabs(v->number) <= FLT_MAX)) /* converting a larger double to float is undefined behaviour */
        return dsp_fail(err, "config.json: \"%s\" = %g is out of range", key, v->number);
    *out = (float)v->number;
    return 0;
}

/* A string key that, when present, must have one value (e.g. hidden_act "gelu"). */
static int check_string(const dsp_json *root, const char *key, const char *want, const char *why, dsp_err *err) {
    const dsp_json *v = dsp_json_get(root, key);
    if (!v) return 0;
    if (v->type != DSP_JSON_STRING)
        return dsp_fail(err, "config.json: \"%s\" must be the string \"%s\", found %s", key, want,
                        dsp_json_type_name(v->type));
    if (strcmp(v->string, want) != 0)
        return dsp_fail(err, "config.json: %s \"%.100s\" is not supported: %s", key, v->string, why);
    return 0;
}

static int check_false(const dsp_json *root, const char *key, const char *why, dsp_err *err) {
    const dsp_json *v = dsp_json_get(root, key);
    if (v && !(v->type == DSP_JSON_BOOL && !v->boolean) && v->type != DSP_JSON_NULL)
        return dsp_fail(err, "config.json: \"%s\" must be false: %s", key, why);
    return 0;
}

static int config_from_tree(dsp_config *c, const dsp_json *root, dsp_err *err) {
    if (root->type != DSP_JSON_OBJECT)
        return dsp_fail(err, "config.json must be a JSON object, found %s", dsp_json_type_name(root->type));
    if (check_string(root, "hidden_act", "gelu",
                     "this engine implements BERT's erf GELU only (not gelu_new/tanh, relu, ...)", err) ||
        check_string(root, "position_embedding_type", "absolute",
                     "this engine implements absolute position embeddings only", err) ||
        check_string(root, "model_type", "bert", "this engine loads BERT models only", err) ||
        check_false(root, "is_decoder", "this engine implements the bidirectional BERT encoder only", err) ||
        check_false(root, "add_cross_attention", "this engine implements the BERT encoder only", err))
        return -1;
    memset(c, 0, sizeof *c);
    if (get_int(root, "vocab_size", 1, 0, &c->vocab_size, err) ||
        get_int(root, "hidden_size", 1, 0, &c->hidden_size, err) ||
        get_int(root, "num_hidden_layers", 1, 0, &c->num_hidden_layers, err) ||
        get_int(root, "num_attention_heads", 1, 0, &c->num_attention_heads, err) ||
        get_int(root, "intermediate_size", 1, 0, &c->intermediate_size, err) ||
        get_int(root, "max_position_embeddings", 1, 0, &c->max_position_embeddings, err) ||
        get_int(root, "type_vocab_size", 0, 2, &c->type_vocab_size, err) ||
        get_float(root, "layer_norm_eps", 1e-12f, &c->layer_norm_eps, err) ||
        get_float(root, "hidden_dropout_prob", 0.1f, &c->hidden_dropout_prob, err) ||
        get_float(root, "attention_probs_dropout_prob", 0.1f, &c->attention_probs_dropout_prob, err))
        return -1;
    if (dsp_config_validate(c, err)) return dsp_fail_prefix(err, "config.json: ");
    return 0;
}

int dsp_config_from_json(dsp_config *cfg, const char *json, size_t len, dsp_err *err) {
    dsp_json *root;
    if (dsp_json_parse(&root, json, len, err)) return dsp_fail_prefix(err, "config.json: ");
    dsp_config c;
    int r = config_from_tree(&c, root, err);
    dsp_json_free(root);
    if (r == 0) *cfg = c;
    return r;
}

char *dsp_config_to_json(const dsp_config *c) {
    if (dsp_config_validate(c, NULL)) return NULL;
    dsp_buf b = {0};
    int bad = 0;
    /* Keys in the order transformers writes them; the extra keys make AutoModel/AutoTokenizer pick BERT. */
    bad |= dsp_buf_printf(&b, "{\n  \"architectures\": [\"BertModel\"],\n");
    bad |= dsp_buf_printf(&b, "  \"attention_probs_dropout_prob\": ");
    bad |= dsp_buf_json_float(&b, c->attention_probs_dropout_prob);
    bad |= dsp_buf_printf(&b, ",\n  \"hidden_act\": \"gelu\",\n  \"hidden_dropout_prob\": ");
    bad |= dsp_buf_json_float(&b, c->hidden_dropout_prob);
    bad |= dsp_buf_printf(&b, ",\n  \"hidden_size\": %d,\n  \"initializer_range\": 0.02,\n", c->hidden_size);
    bad |= dsp_buf_printf(&b, "  \"intermediate_size\": %d,\n  \"layer_norm_eps\": ", c->intermediate_size);
    bad |= dsp_buf_json_float(&b, c->layer_norm_eps);
    bad |= dsp_buf_printf(&b, ",\n  \"max_position_embeddings\": %d,\n  \"model_type\": \"bert\",\n",
                          c->max_position_embeddings);
    bad |= dsp_buf_printf(&b, "  \"num_attention_heads\": %d,\n  \"num_hidden_layers\": %d,\n",
                          c->num_attention_heads, c->num_hidden_layers);
    bad |= dsp_buf_printf(&b, "  \"pad_token_id\": 0,\n  \"position_embedding_type\": \"absolute\",\n");
    bad |= dsp_buf_printf(&b, "  \"type_vocab_size\": %d,\n  \"use_cache\": true,\n  \"vocab_size\": %d\n}\n",
                          c->type_vocab_size, c->vocab_size);
    if (bad) {
        dsp_buf_free(&b);
        return NULL;
    }
    return b.data;
}
