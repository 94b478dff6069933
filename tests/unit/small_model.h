/* small_model.h — the synthetic vocabulary and small random BERT that the trainer and encoder tests build:
 * "[PAD] [UNK] [CLS] [SEP] [MASK] w5 … w{V-1}", and H = 16, A = 2, I = 24, L as dsp_config_tiny, seed 3.
 * A test defines V (the vocabulary size, at most a few hundred) before including it. */
#ifndef DSP_TEST_SMALL_MODEL_H
#define DSP_TEST_SMALL_MODEL_H

#include "dissipate.h"

#include <stdio.h>
#include <stdlib.h>

static dsp_vocab *make_vocab(void) {
    char text[4096];
    size_t n = (size_t)snprintf(text, sizeof text, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n");
    for (int i = 5; i < V; i++) n += (size_t)snprintf(text + n, sizeof text - n, "w%d\n", i);
    dsp_vocab *v = NULL;
    dsp_err err;
    if (dsp_vocab_from_text(&v, text, n, &err)) { fprintf(stderr, "%s\n", err.msg); exit(1); }
    return v;
}

static void small_model_with(dsp_model *m, int max_positions) {
    dsp_config cfg = dsp_config_tiny(V);
    cfg.hidden_size = 16;
    cfg.num_attention_heads = 2;
    cfg.intermediate_size = 24;
    cfg.max_position_embeddings = max_positions;
    dsp_err err;
    if (dsp_model_init(m, &cfg, make_vocab(), 3, &err)) { fprintf(stderr, "%s\n", err.msg); exit(1); }
}

#endif
