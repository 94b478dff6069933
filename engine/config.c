/* config.c — the BertConfig the engine accepts, its tiny preset and its validation. */
#include "dissipate.h"

#include <math.h>

dsp_config dsp_config_tiny(int vocab_size) {
    dsp_config c = {0};
    c.vocab_size = vocab_size;
    c.hidden_size = 128;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 2;
    c.intermediate_size = 512;
    c.max_position_embeddings = 512;
    c.type_vocab_size = 2;
    c.layer_norm_eps = 1e-12f;
    c.hidden_dropout_prob = 0.1f;
    c.attention_probs_dropout_prob = 0.1f;
    return c;
}

int dsp_config_validate(const dsp_config *c, dsp_err *err) {
    if (c->vocab_size < 5 || c->vocab_size > 10000000)
        return dsp_fail(err, "vocab_size %d is out of range (5 .. 10000000)", c->vocab_size);
    if (c->hidden_size < 1 || c->hidden_size > 16384)
        return dsp_fail(err, "hidden_size %d is out of range (1 .. 16384)", c->hidden_size);
    if (c->num_hidden_layers < 1 || c->num_hidden_layers > DSP_MAX_LAYERS)
        return dsp_fail(err, "num_hidden_layers %d is out of range (1 .. %d)", c->num_hidden_layers, DSP_MAX_LAYERS);
    if (c->num_attention_heads < 1)
        return dsp_fail(err, "num_attention_heads %d must be >= 1", c->num_attention_heads);
    if (c->hidden_size % c->num_attention_heads != 0)
        return dsp_fail(err, "hidden_size %d is not divisible by num_attention_heads %d", c->hidden_size,
                        c->num_attention_heads);
    if (c->intermediate_size < 1 || c->intermediate_size > 65536)
        return dsp_fail(err, "intermediate_size %d is out of range (1 .. 65536)", c->intermediate_size);
    /* 2, not 3: such a model still encodes [CLS] [SEP] or two given ids (encode); what a run needs beyond that is
     * checked against its max length (dsp_max_len_validate, the trainer's >= 3), and init refuses to make one */
    if (c->max_position_embeddings < 2 || c->max_position_embeddings > 65536)
        return dsp_fail(err, "max_position_embeddings %d is out of range (2 .. 65536)", c->max_position_embeddings);
    if (c->type_vocab_size < 1 || c->type_vocab_size > 1024)
        return dsp_fail(err, "type_vocab_size %d is out of range (1 .. 1024)", c->type_vocab_size);
    if (!(c->layer_norm_eps > 0) || !isfinite(c->layer_norm_eps))
        return dsp_fail(err, "layer_norm_eps must be a positive number");
    if (!(c->hidden_dropout_prob >= 0 && c->hidden_dropout_prob < 1))
        return dsp_fail(err, "hidden_dropout_prob %g must be in [0, 1)", c->hidden_dropout_prob);
    if (!(c->attention_probs_dropout_prob >= 0 && c->attention_probs_dropout_prob < 1))
        return dsp_fail(err, "attention_probs_dropout_prob %g must be in [0, 1)", c->attention_probs_dropout_prob);
    return 0;
}

int dsp_max_len_validate(const dsp_config *c, int max_len, dsp_err *err) {
    if (max_len > c->max_position_embeddings)
        return dsp_fail(err, "max length %d is more than the model's max_position_embeddings %d: a sentence that "
                        "long would have no position embedding", max_len, c->max_position_embeddings);
    return 0;
}
