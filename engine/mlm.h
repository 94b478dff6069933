/* mlm.h — masked-language-model pre-training of the encoder (BERT's objective), so that the tiny model starts
 * fine-tuning from layers that already know how words combine (notes/tiny-scale.md, lesson 3).
 * The decoder is tied to the word embeddings (logits = h·Eᵀ + b), as in BERT; its bias lives here, not in the model. */
#ifndef DSP_MLM_H
#define DSP_MLM_H

#include "dissipate.h"

typedef struct {
    int batch_size;      /* sentences per step */
    int max_len;
    float mask_prob;     /* fraction of (non-special) tokens predicted, in (0, 1]: 0.15 */
    uint64_t seed;
    int threads;
    dsp_kernels kernels;
    dsp_optim_config optim;
} dsp_mlm_config;

typedef struct {
    int step, epoch, masked, tokens;
    double loss;         /* mean cross-entropy over the masked tokens (nats); NaN when masked == 0 */
    double accuracy;     /* fraction of masked tokens whose argmax is right; NaN when masked == 0 */
    double grad_norm, lr; /* grad_norm NaN and lr 0 when masked == 0 (no update) */
} dsp_mlm_record;

typedef struct dsp_mlm dsp_mlm;
dsp_mlm_config dsp_mlm_default(void);
/* The settings alone (batch, max length, mask probability, threads, optimiser), before any data is read. */
int dsp_mlm_validate(const dsp_mlm_config *cfg, dsp_err *err);
int dsp_mlm_create(dsp_mlm **out, dsp_model *m, const dsp_token_set *corpus, const dsp_mlm_config *cfg, dsp_err *err);
void dsp_mlm_free(dsp_mlm *t);
/* One update; a non-finite loss or gradient stops before the update (the model is unchanged). */
int dsp_mlm_step(dsp_mlm *t, dsp_mlm_record *rec, dsp_err *err);

#endif
