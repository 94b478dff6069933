/* layout.c — the one size table behind parameters, gradients and optimiser moments.
 * Tensors carry their Hugging Face names; the order keeps query/key/value weights (and biases) adjacent so the
 * encoder runs Q, K and V as one [3H, H] matmul. */
#include "dissipate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add(dsp_layout *L, int cap, const char *name, int d0, int d1) {
    if (L->count >= cap) return -1;
    dsp_tensor_info *t = &L->tensors[L->count++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = d1 > 0 ? 2 : 1;
    t->shape[0] = d0;
    t->shape[1] = d1 > 0 ? d1 : 0;
    t->numel = (size_t)d0 * (size_t)(d1 > 0 ? d1 : 1);
    t->offset = L->total;
    L->total += t->numel;
    return 0;
}

int dsp_layout_build(dsp_layout *L, const dsp_config *c, dsp_err *err) {
    memset(L, 0, sizeof *L);
    if (dsp_config_validate(c, err)) return -1;
    const int H = c->hidden_size, I = c->intermediate_size;
    const int cap = 5 + 16 * c->num_hidden_layers + 4;
    L->tensors = calloc((size_t)cap, sizeof *L->tensors);
    if (!L->tensors) return dsp_fail(err, "out of memory building the parameter layout");
    add(L, cap, "embeddings.word_embeddings.weight", c->vocab_size, H);
    add(L, cap, "embeddings.position_embeddings.weight", c->max_position_embeddings, H);
    add(L, cap, "embeddings.token_type_embeddings.weight", c->type_vocab_size, H);
    add(L, cap, "embeddings.LayerNorm.weight", H, 0);
    add(L, cap, "embeddings.LayerNorm.bias", H, 0);
    static const char *const qkv[3] = {"query", "key", "value"};
    for (int l = 0; l < c->num_hidden_layers; l++) {
        char n[96];
#define NAME(fmt) (snprintf(n, sizeof n, "encoder.layer.%d." fmt, l), n)
        for (int j = 0; j < 3; j++) {
            snprintf(n, sizeof n, "encoder.layer.%d.attention.self.%s.weight", l, qkv[j]);
            add(L, cap, n, H, H);
        }
        for (int j = 0; j < 3; j++) {
            snprintf(n, sizeof n, "encoder.layer.%d.attention.self.%s.bias", l, qkv[j]);
            add(L, cap, n, H, 0);
        }
        add(L, cap, NAME("attention.output.dense.weight"), H, H);
        add(L, cap, NAME("attention.output.dense.bias"), H, 0);
        add(L, cap, NAME("attention.output.LayerNorm.weight"), H, 0);
        add(L, cap, NAME("attention.output.LayerNorm.bias"), H, 0);
        add(L, cap, NAME("intermediate.dense.weight"), I, H);
        add(L, cap, NAME("intermediate.dense.bias"), I, 0);
        add(L, cap, NAME("output.dense.weight"), H, I);
        add(L, cap, NAME("output.dense.bias"), H, 0);
        add(L, cap, NAME("output.LayerNorm.weight"), H, 0);
        add(L, cap, NAME("output.LayerNorm.bias"), H, 0);
#undef NAME
    }
    add(L, cap, "pooler.dense.weight", H, H);
    add(L, cap, "pooler.dense.bias", H, 0);
    add(L, cap, "mlp.dense.weight", H, H);
    add(L, cap, "mlp.dense.bias", H, 0);
    /* The sizes above wrap where size_t is 32 bits (wasm) for a large enough model: recounted in double (exact far
     * beyond these sizes), the parameters' bytes must fit size_t, and then every numel, offset and total does. */
    double floats = 0;
    for (int i = 0; i < L->count; i++)
        floats += (double)L->tensors[i].shape[0] * (L->tensors[i].ndim == 2 ? (double)L->tensors[i].shape[1] : 1.0);
    if (floats * sizeof(float) > (double)SIZE_MAX) {
        dsp_layout_free(L);
        return dsp_fail(err, "the model is too large for this build: its parameters do not fit the address space");
    }
    return 0;
}

void dsp_layout_free(dsp_layout *L) {
    free(L->tensors);
    memset(L, 0, sizeof *L);
}

int dsp_layout_find(const dsp_layout *L, const char *name) {
    for (int i = 0; i < L->count; i++)
        if (strcmp(L->tensors[i].name, name) == 0) return i;
    return -1;
}

void dsp_param_view_make(dsp_param_view *v, const dsp_layout *L, const dsp_config *c, float *base) {
    memset(v, 0, sizeof *v);
    const dsp_tensor_info *t = L->tensors;
    int i = 0;
#define NEXT() (base + t[i++].offset)
    v->word_emb = NEXT();
    v->pos_emb = NEXT();
    v->type_emb = NEXT();
    v->emb_ln_w = NEXT();
    v->emb_ln_b = NEXT();
    for (int l = 0; l < c->num_hidden_layers; l++) {
        dsp_layer_view *y = &v->layer[l];
        y->qkv_w = NEXT();
        i += 2; /* key, value weights follow contiguously */
        y->qkv_b = NEXT();
        i += 2;
        y->attn_out_w = NEXT();
        y->attn_out_b = NEXT();
        y->ln1_w = NEXT();
        y->ln1_b = NEXT();
        y->ffn_in_w = NEXT();
        y->ffn_in_b = NEXT();
        y->ffn_out_w = NEXT();
        y->ffn_out_b = NEXT();
        y->ln2_w = NEXT();
        y->ln2_b = NEXT();
    }
    v->pooler_w = NEXT();
    v->pooler_b = NEXT();
    v->mlp_w = NEXT();
    v->mlp_b = NEXT();
#undef NEXT
}
