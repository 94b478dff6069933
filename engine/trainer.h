/* trainer.h — unsupervised SimCSE training and STS evaluation, shared by the native CLI and the browser worker.
 * A run is a function of (model, corpus, config, seed): batches, dropout masks and shuffles all derive from the
 * seed through the counter-based generator, and every kernel reduces in a fixed order. */
#ifndef DSP_TRAINER_H
#define DSP_TRAINER_H

#include "dissipate.h"

typedef struct {
    dsp_objective objective;
    dsp_optim_config optim;
    dsp_pooler pooler;
    int batch_size;      /* N sentences, 2N sequences (two dropout views) */
    int max_len;         /* tokens per sentence including [CLS] and [SEP] */
    uint64_t seed;       /* shuffling and dropout */
    int threads;
    dsp_kernels kernels;
} dsp_train_config;

/* Defaults: infonce, AdamW lr 3e-5 (override for tiny models), mean pooling, batch 64, max_len 32, seed 42. */
dsp_train_config dsp_train_default(void);
/* What the front ends (`dissipate train`, the browser engine's wasm/api.c) use instead of dsp_train_default's
 * BERT-base learning rate: 1e-4, so that a short first run (the page's 300 steps) shows the story on the tiny model
 * (the study's dev-chosen 3e-5 reaches a higher best over 500 steps, docs/results.md); a run is 1000 steps, the
 * learning rate decaying linearly to 0 over them. One definition, so that the two front ends cannot drift apart. */
#define DSP_FRONTEND_LR 1e-4f
#define DSP_FRONTEND_STEPS 1000
int dsp_train_validate(const dsp_train_config *c, dsp_err *err);

/* One training step's record (spec §4). NAN where a diagnostic does not apply. */
typedef struct {
    int step;            /* 1-based: the number of updates done after this step */
    int epoch;
    double loss, gd, grad_h, grad_h_pos, grad_h_neg, grad_norm, pos_cos, neg_cos;
    double lr;
    int tokens;          /* real tokens in the 2N sequences */
    double ms;           /* wall time of the step, filled by the host (0 inside the engine) */
} dsp_step_record;

/* Evaluation on one STS pair set (spec §5). */
typedef struct {
    double spearman;     /* ×100 */
    double align, uniform;
    int pairs;
} dsp_sts_result;

/* The step record's fields in log order, for every writer (the CLI's JSONL, the browser's result list), so that
 * both hosts report the same keys: X(field) for each. */
#define DSP_STEP_RECORD_FIELDS(X) \
    X(step) X(epoch) X(loss) X(gd) X(grad_h) X(grad_h_pos) X(grad_h_neg) X(grad_norm) X(pos_cos) X(neg_cos) X(lr) \
    X(tokens) X(ms)

typedef struct dsp_trainer dsp_trainer;

/* The trainer borrows model and corpus tokens (both must outlive it) and owns the optimiser, encoder and pool. */
int dsp_trainer_create(dsp_trainer **out, dsp_model *model, const dsp_token_set *corpus, const dsp_train_config *cfg,
                       dsp_err *err);
void dsp_trainer_free(dsp_trainer *t);
/* Records where each later step's wall time goes into prof (profile.h), or stops recording (NULL). */
struct dsp_prof;
void dsp_trainer_set_profile(dsp_trainer *t, struct dsp_prof *prof);
/* One update. A NaN or Inf in the loss or the gradients stops the step *before* the parameters change and
 * returns -1 with a message, so the model stays as it was after the previous step. */
int dsp_trainer_step(dsp_trainer *t, dsp_step_record *rec, dsp_err *err);
int dsp_trainer_steps_done(const dsp_trainer *t);
dsp_encoder *dsp_trainer_encoder(dsp_trainer *t);
const dsp_train_config *dsp_trainer_config(const dsp_trainer *t);

/* What the last step saw and produced, for parity tests against the PyTorch reference. grads are the raw
 * gradients before clipping; dh is ∂L/∂h for both views ([2N, H], view 1 rows first). */
typedef struct {
    const int *ids, *seq_len;
    int B, T;
    const float *pooled;  /* [2N, H] */
    const double *dh;     /* [2N, H] */
    const float *grads;   /* layout-shaped */
    double grad_norm;
} dsp_trainer_debug;
void dsp_trainer_debug_view(const dsp_trainer *t, dsp_trainer_debug *d);

/* STS pairs tokenized once for repeated evaluation. */
typedef struct {
    dsp_token_set s1, s2;
    double *gold;
    int count;
} dsp_sts_tokens;
int dsp_sts_tokens_build(dsp_sts_tokens *st, const dsp_sts *sts, const dsp_vocab *v, int max_len, dsp_err *err);
void dsp_sts_tokens_free(dsp_sts_tokens *st);

/* How many sentences of ts, from sentence `first`, an inference pass encodes at once: at most
 * DSP_ENCODE_CHUNK_SENTENCES, and no more than DSP_ENCODE_CHUNK_TOKENS tokens unless one sentence alone is longer
 * (0 when first >= ts->count). The encoder sizes its activations for the largest pass it has run and keeps them,
 * so the token bound keeps an evaluation from growing a trainer's encoder past what its training batch needs
 * (about 16 KB a token for the tiny model: 16 MB, where 128 sentences of up to 32 tokens took up to 64 MB, in the
 * browser for each run). A sentence's embedding does not depend on the other sentences of its pass. */
#define DSP_ENCODE_CHUNK_SENTENCES 128
#define DSP_ENCODE_CHUNK_TOKENS 1024
int dsp_encode_chunk(const dsp_token_set *ts, int first);
/* That pass as a batch: sentences [first, first + n) of ts, n = dsp_encode_chunk(ts, first). Its ids point into ts;
 * offsets (from the pass's first token) and lengths go to off and len, of DSP_ENCODE_CHUNK_SENTENCES entries each.
 * Returns n (0, with b untouched, past the end). */
int dsp_encode_pass(const dsp_token_set *ts, int first, int *off, int *len, dsp_batch *b);

/* Encodes sentences without dropout into unit-length rows of out[count, H], in passes of dsp_encode_chunk. The
 * cls_mlp pooler evaluates as cls (SimCSE trains with the MLP and evaluates without it). */
int dsp_encode_sentences(dsp_encoder *enc, const dsp_model *m, const dsp_token_set *ts, dsp_pooler pooler,
                         float *out, dsp_err *err);
/* Unit embeddings of both sides (a, b: [count, H]) and their cosines (cos: [count]). */
int dsp_sts_embed(dsp_encoder *enc, const dsp_model *m, const dsp_sts_tokens *st, dsp_pooler pooler, float *a,
                  float *b, double *cos, dsp_err *err);
/* Spearman ×100 of cosine vs gold, with align and uniform. */
int dsp_evaluate_sts(dsp_encoder *enc, const dsp_model *m, const dsp_sts_tokens *st, dsp_pooler pooler,
                     dsp_sts_result *res, dsp_err *err);

#endif
