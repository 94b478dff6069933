/* dissipate.h — the Dissipate engine's public header for models, data, kernels and objectives (training and
 * evaluation, built on it, are in trainer.h).
 *
 * A C11 engine for contrastive sentence-representation learning: a BERT encoder (Hugging Face compatible)
 * with hand-written backward passes, the objectives of Nie et al. (ICLR 2023), AdamW/SGD, SIMD kernels and a
 * thread pool. The same sources build natively and as WebAssembly; nothing here knows which host it is in.
 *
 * Conventions
 *  - Errors: every fallible function takes a dsp_err* (may be NULL) and returns 0 on success, -1 on failure,
 *    with a human-readable message in err->msg. The engine never prints and never exits.
 *  - Tensors live in flat float buffers. Linear weights are [out, in] as in PyTorch. Shapes are written in
 *    comments as letters: B sequences, T tokens in a ragged batch (sum of lengths), H hidden, I intermediate,
 *    A heads, V vocabulary, P positions, N sentences in a contrastive batch (2N sequences, two views).
 */
#ifndef DISSIPATE_H
#define DISSIPATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DSP_VERSION "0.1.0"

/* ---------------------------------------------------------------- errors */
#define DSP_ERR_LEN 512
typedef struct { char msg[DSP_ERR_LEN]; } dsp_err;
/* Sets err->msg (printf-style) and returns -1, so that `return dsp_fail(err, ...)` reads naturally. */
int dsp_fail(dsp_err *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Prefixes an existing message with context ("reading x.safetensors: "). Returns -1. */
int dsp_fail_prefix(dsp_err *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---------------------------------------------------------------- config (Hugging Face BertConfig) */
typedef struct {
    int vocab_size;              /* V */
    int hidden_size;             /* H */
    int num_hidden_layers;       /* L */
    int num_attention_heads;     /* A, divides H */
    int intermediate_size;       /* I */
    int max_position_embeddings; /* P */
    int type_vocab_size;         /* usually 2; only type 0 is used */
    float layer_norm_eps;
    float hidden_dropout_prob;
    float attention_probs_dropout_prob;
} dsp_config;

/* The tiny preset of the issues: L=2, H=128, A=2, I=512, P=512, dropout 0.1. vocab_size is the caller's. */
dsp_config dsp_config_tiny(int vocab_size);
int dsp_config_validate(const dsp_config *cfg, dsp_err *err);
/* Sentences tokenized to max_len tokens fit the model: max_len <= max_position_embeddings. Checked when a trainer
 * is created; callers that tokenize first check it before they start. */
int dsp_max_len_validate(const dsp_config *cfg, int max_len, dsp_err *err);
/* Parses config.json text. Rejects unknown activations, missing keys, H % A != 0, out-of-range values. */
int dsp_config_from_json(dsp_config *cfg, const char *json, size_t len, dsp_err *err);
/* Writes a BertConfig JSON that transformers.BertConfig loads. Returns a malloc'd string or NULL. */
char *dsp_config_to_json(const dsp_config *cfg);

/* ---------------------------------------------------------------- parameter layout */
/* One size table lays out parameters, gradients and optimiser moments alike, so AdamW is one loop and a
 * per-tensor view is a slice. Order: embeddings, layers (q,k,v weights contiguous, then q,k,v biases
 * contiguous, so QKV runs as one fused [3H, H] matmul), HF pooler (kept, never trained), SimCSE MLP. */
typedef struct {
    char name[96];    /* Hugging Face name, e.g. "encoder.layer.0.attention.self.query.weight" */
    int ndim;         /* 1 or 2 */
    int shape[2];
    size_t offset;    /* in floats, into the flat buffer */
    size_t numel;
} dsp_tensor_info;

typedef struct {
    dsp_tensor_info *tensors;
    int count;
    size_t total;     /* floats */
} dsp_layout;

int dsp_layout_build(dsp_layout *layout, const dsp_config *cfg, dsp_err *err);
void dsp_layout_free(dsp_layout *layout);
/* Index of a tensor by name, or -1. */
int dsp_layout_find(const dsp_layout *layout, const char *name);

/* Typed pointers into a flat buffer laid out by dsp_layout_build. Works for params, grads and moments. */
typedef struct {
    float *qkv_w, *qkv_b;       /* [3H, H], [3H] (query, key, value stacked) */
    float *attn_out_w, *attn_out_b; /* [H, H], [H] */
    float *ln1_w, *ln1_b;       /* [H] attention.output.LayerNorm */
    float *ffn_in_w, *ffn_in_b; /* [I, H], [I] intermediate.dense */
    float *ffn_out_w, *ffn_out_b; /* [H, I], [H] output.dense */
    float *ln2_w, *ln2_b;       /* [H] output.LayerNorm */
} dsp_layer_view;

#define DSP_MAX_LAYERS 48
typedef struct {
    float *word_emb;   /* [V, H] */
    float *pos_emb;    /* [P, H] */
    float *type_emb;   /* [T, H] */
    float *emb_ln_w, *emb_ln_b; /* [H] */
    dsp_layer_view layer[DSP_MAX_LAYERS];
    float *pooler_w, *pooler_b; /* [H, H], [H] HF NSP pooler: loaded and saved, not used in training */
    float *mlp_w, *mlp_b;       /* [H, H], [H] SimCSE train-time MLP over [CLS] (pooler "cls_mlp") */
} dsp_param_view;

void dsp_param_view_make(dsp_param_view *view, const dsp_layout *layout, const dsp_config *cfg, float *base);

/* ---------------------------------------------------------------- tokenizer (BERT uncased) */
typedef struct dsp_vocab dsp_vocab;
int dsp_vocab_load(dsp_vocab **out, const char *path, dsp_err *err);
int dsp_vocab_from_text(dsp_vocab **out, const char *text, size_t len, dsp_err *err);
void dsp_vocab_free(dsp_vocab *vocab);
int dsp_vocab_size(const dsp_vocab *vocab);
const char *dsp_vocab_token(const dsp_vocab *vocab, int id);
int dsp_vocab_id(const dsp_vocab *vocab, const char *token); /* -1 if absent */
/* Special ids: [PAD] [UNK] [CLS] [SEP] [MASK]; the vocab must contain the first four, [MASK] may be -1. */
typedef struct { int pad, unk, cls, sep, mask; } dsp_special_ids;
dsp_special_ids dsp_vocab_special(const dsp_vocab *vocab);
/* Writes vocab.txt (one token per line, in id order). */
int dsp_vocab_save(const dsp_vocab *vocab, const char *path, dsp_err *err);
/* Tokenizes one sentence into [CLS] wordpieces [SEP], truncated to max_len (>= 2) tokens.
 * ids must hold max_len ints. Returns the number of ids written. Invalid UTF-8 bytes are dropped. */
int dsp_tokenize(const dsp_vocab *vocab, const char *utf8, int max_len, int *ids);
/* Basic tokenizer + WordPiece without [CLS]/[SEP] and without truncation; writes at most cap ids and
 * returns the total count (which may exceed cap). */
int dsp_wordpiece(const dsp_vocab *vocab, const char *utf8, int *ids, int cap);

/* ---------------------------------------------------------------- model (config + vocab + weights) */
typedef struct {
    dsp_config cfg;
    dsp_layout layout;
    float *params;       /* layout.total floats */
    dsp_vocab *vocab;    /* owned */
    int has_hf_pooler;   /* pooler.dense.* came from the checkpoint (else randomly initialised) */
    int has_mlp;         /* mlp.dense.* came from the checkpoint or was trained here */
} dsp_model;

/* BERT initialisation: N(0, 0.02) weights, zero biases, LayerNorm weight 1, bias 0. Deterministic in seed.
 * Takes ownership of vocab on success (on failure the caller still owns it). cfg->vocab_size must equal the
 * vocab's size. */
int dsp_model_init(dsp_model *m, const dsp_config *cfg, dsp_vocab *vocab, uint64_t seed, dsp_err *err);
/* Loads DIR/config.json, DIR/vocab.txt, DIR/model.safetensors (HF names, optional "bert." prefix, old
 * gamma/beta names, F32/F16/BF16). Every offset and shape is validated before data is touched. */
int dsp_model_load(dsp_model *m, const char *dir, dsp_err *err);
/* Writes the three files (F32, or F16 when f16 != 0) into DIR, creating it. Each file is written to a
 * temporary name and renamed, so an interrupted save never leaves a half-written model. */
int dsp_model_save(const dsp_model *m, const char *dir, int f16, dsp_err *err);
void dsp_model_free(dsp_model *m);

/* ---------------------------------------------------------------- safetensors */
typedef enum { DSP_F32 = 0, DSP_F16 = 1, DSP_BF16 = 2 } dsp_dtype;
typedef struct {
    char name[128];
    dsp_dtype dtype;
    int ndim;
    int64_t shape[8];
    size_t begin, end;   /* byte offsets into the data section */
} dsp_st_entry;
typedef struct {
    dsp_st_entry *entries;
    int count;
    const uint8_t *data; /* start of the data section */
    size_t data_len;
    uint8_t *owned;      /* the whole file when read by dsp_st_read_file, else NULL */
} dsp_safetensors;
/* Parses and validates a safetensors image (header JSON, dtypes, shapes, offsets against the size). */
int dsp_st_parse(dsp_safetensors *st, const uint8_t *bytes, size_t len, dsp_err *err);
int dsp_st_read_file(dsp_safetensors *st, const char *path, dsp_err *err);
void dsp_st_free(dsp_safetensors *st);
int dsp_st_find(const dsp_safetensors *st, const char *name); /* -1 if absent */
/* Converts entry i to float32 into out (numel floats). */
int dsp_st_to_f32(const dsp_safetensors *st, int i, float *out, size_t numel, dsp_err *err);
/* Writes named F32 buffers as a safetensors file (stored as F32, or F16 if f16). Atomic (tmp + rename). */
typedef struct { const char *name; const float *data; int ndim; int64_t shape[2]; } dsp_st_tensor;
int dsp_st_write_file(const char *path, const dsp_st_tensor *tensors, int count, int f16,
                      const char *metadata_json /* object text or NULL */, dsp_err *err);
float dsp_f16_to_f32(uint16_t h);
uint16_t dsp_f32_to_f16(float f);  /* round to nearest even */
float dsp_bf16_to_f32(uint16_t h);

/* ---------------------------------------------------------------- data */
typedef struct { char **text; int count; } dsp_corpus;
/* One sentence per line, UTF-8 (invalid UTF-8, a NUL byte or a CR inside a line is refused, naming file and line);
 * blank lines skipped; CRLF accepted. Several files are concatenated. */
int dsp_corpus_load(dsp_corpus *c, const char *const *paths, int n_paths, dsp_err *err);
void dsp_corpus_free(dsp_corpus *c);

typedef struct { float *gold; char **s1, **s2; int count; } dsp_sts;
/* `score<TAB>sentence1<TAB>sentence2` per line, no header. Errors name the file and line. */
int dsp_sts_load(dsp_sts *s, const char *path, dsp_err *err);
void dsp_sts_free(dsp_sts *s);

/* Sentences tokenized once: ids of sentence i are ids[offset[i] .. offset[i]+len[i]). */
typedef struct { int *ids; int *offset; int *len; int count; size_t total; } dsp_token_set;
int dsp_token_set_build(dsp_token_set *ts, const dsp_vocab *v, char *const *text, int count, int max_len,
                        dsp_err *err);
void dsp_token_set_free(dsp_token_set *ts);

/* ---------------------------------------------------------------- thread pool */
typedef struct dsp_pool dsp_pool;
/* n_threads >= 1 (the caller's thread counts as one). Built without threads, any n behaves as 1. */
dsp_pool *dsp_pool_create(int n_threads);
void dsp_pool_free(dsp_pool *pool);
int dsp_pool_threads(const dsp_pool *pool);
/* Runs fn(ctx, task, thread) for task = 0 .. n_tasks-1, each exactly once, and returns when all are done.
 * A result must depend only on the task index (never on the thread), which keeps runs bit-identical for
 * any thread count. thread < dsp_pool_threads() can index per-thread scratch. pool may be NULL (serial). */
typedef void (*dsp_task_fn)(void *ctx, int task, int thread);
void dsp_pool_run(dsp_pool *pool, dsp_task_fn fn, void *ctx, int n_tasks);

/* ---------------------------------------------------------------- kernels */
typedef enum {
    DSP_KERNELS_AUTO = 0,   /* the widest this CPU runs */
    DSP_KERNELS_SCALAR = 1, /* the reference */
    DSP_KERNELS_SIMD128 = 2,/* 128-bit vectors, the same arithmetic bit for bit everywhere: wasm_simd128 in the
                             * browser; natively AVX's encoding of them where the CPU has AVX (as V8 emits), else SSE2;
                             * NEON on AArch64 */
    DSP_KERNELS_AVX2 = 3,   /* 256-bit with FMA, native x86-64 only */
    DSP_KERNELS_SIMD128_SSE2 = 4,/* "sse2": SIMD128 in its SSE2 encoding even where the CPU has AVX, native x86-64
                                  * only (the same bits; for tests and benchmarks, so both encodings stay tested) */
    DSP_KERNELS_AVX512 = 5  /* AVX2's kernels with the matmuls in 512-bit registers (AVX-512F): AVX2's bits, native
                             * x86-64 only; twice AVX2's multiply-add rate where the 512-bit units are full width */
} dsp_kernels;
const char *dsp_kernels_name(dsp_kernels k);
/* What a set runs as on this build and CPU, for reports: e.g. "128-bit AVX encoding" for SIMD128 on a CPU with
 * AVX, "128-bit SSE2" without it (or for SIMD128_SSE2), "128-bit NEON" on AArch64, "wasm simd128" in the browser. */
const char *dsp_kernels_encoding(dsp_kernels set);
/* Resolves AUTO and checks availability; returns -1 with a message if this build/CPU lacks the set. */
int dsp_kernels_resolve(dsp_kernels want, dsp_kernels *got, dsp_err *err);
int dsp_kernels_parse(const char *name, dsp_kernels *out); /* "auto", "scalar", "simd128", "sse2", "avx2", "avx512" */

/* ---------------------------------------------------------------- encoder */
typedef enum { DSP_POOL_CLS = 0, DSP_POOL_CLS_MLP = 1, DSP_POOL_MEAN = 2 } dsp_pooler;
const char *dsp_pooler_name(dsp_pooler p);
int dsp_pooler_parse(const char *name, dsp_pooler *out); /* "cls", "cls_mlp", "mean" */

/* A ragged batch of B sequences: ids[seq_off[b] .. seq_off[b]+seq_len[b]), T = sum of lengths. */
typedef struct {
    const int *ids;
    const int *seq_off;
    const int *seq_len;
    int B;
    int T;
} dsp_batch;

/* Everything the encoder needs to run a forward/backward: activations for the largest batch seen,
 * the thread pool and the kernel set. Grows on demand. */
typedef struct dsp_encoder dsp_encoder;
int dsp_encoder_create(dsp_encoder **out, const dsp_model *m, dsp_pool *pool, dsp_kernels kernels, dsp_err *err);
void dsp_encoder_free(dsp_encoder *e);
/* Forward: pooled[B, H]. dropout_seed/step select the masks (counter-based: the same (seed, step) gives
 * the same masks on every host and thread count). train = 0 disables dropout (evaluation). */
int dsp_encoder_forward(dsp_encoder *e, const float *params, const dsp_batch *batch, dsp_pooler pooler,
                        int train, uint64_t dropout_seed, uint64_t step, float *pooled, dsp_err *err);
/* Backward of the last forward: accumulates into grads (layout-shaped) from dpooled[B, H]. */
int dsp_encoder_backward(dsp_encoder *e, const float *params, const float *dpooled, float *grads, dsp_err *err);
/* The last forward's final hidden states [T, H] (after the last LayerNorm), for MLM heads and tests; NULL after a
 * compact forward (below). */
const float *dsp_encoder_hidden(const dsp_encoder *e);
/* A forward with a pooled output and a [CLS] pooler computes the last layer after its attention for the [CLS] rows
 * only, the rows the pooler reads (the same bits as computing them all); this setting makes forwards compute every
 * row, so that dsp_encoder_hidden and dsp_encoder_backward_hidden work after them, or to time the full work. */
void dsp_encoder_set_full_last_layer(dsp_encoder *e, int on);
/* The bytes the encoder holds for the batches it has run (activations, dropout masks, backward scratch): they are
 * sized for the largest and kept, so this is what an encoder costs beside the weights. */
size_t dsp_encoder_bytes(const dsp_encoder *e);
/* Backward from a gradient on the final hidden states [T, H] instead of the pooled vectors (MLM). */
int dsp_encoder_backward_hidden(dsp_encoder *e, const float *params, const float *dhidden, float *grads,
                                dsp_err *err);
/* Debug/parity: when set, the encoder records every dropout mask of the next forward (scale or 0) here,
 * in the order the forward draws them; returns the count needed when buf is NULL. */
size_t dsp_encoder_dropout_record(dsp_encoder *e, float *buf, size_t cap);

/* ---------------------------------------------------------------- objectives */
typedef enum {
    DSP_OBJ_INFONCE = 0, DSP_OBJ_AU, DSP_OBJ_DCL, DSP_OBJ_DCLP, DSP_OBJ_MPT, DSP_OBJ_MET, DSP_OBJ_MAT,
    DSP_OBJ_COUNT
} dsp_objective_kind;

typedef struct {
    dsp_objective_kind kind;
    double tau;          /* infonce, dcl, dclp */
    double lambda;       /* au: weight of uniformity, in [0, 1] */
    double alpha;        /* au: alignment exponent */
    double t;            /* au: uniformity temperature */
    double margin;       /* mpt, met, mat */
    int per_anchor;      /* mpt/met/mat: hardest negative per anchor (row-wise, no floors) instead of per positive */
} dsp_objective;

const char *dsp_objective_name(dsp_objective_kind k);
int dsp_objective_parse(const char *name, dsp_objective_kind *out);
/* Defaults of the spec for kind (tau 0.05; lambda 0.5, alpha 2, t 2; margins 0.09 / 0.44 / 0.15). */
dsp_objective dsp_objective_default(dsp_objective_kind k);
int dsp_objective_validate(const dsp_objective *o, dsp_err *err);

/* Diagnostics of one objective evaluation (spec §4). NAN where a key does not apply (gd for au, dcl). */
typedef struct {
    double loss;
    double gd;          /* mean dissipation factor */
    double grad_h;      /* mean_i ||N dL/dh_i|| */
    double grad_h_pos;  /* the same, through the positive pair only */
    double grad_h_neg;  /* the same, through negatives only */
    double pos_cos;     /* mean s_ii */
    double neg_cos;     /* mean s_ij, i != j */
} dsp_objective_diag;

/* Loss and gradients w.r.t. the normalised embeddings h, hp ([N, D] each, rows unit length), in float64.
 * dh, dhp may be NULL (loss only). Never produces NaN for finite unit-norm inputs. */
int dsp_objective_eval(const dsp_objective *o, const double *h, const double *hp, int N, int D,
                       double *dh, double *dhp, dsp_objective_diag *diag, dsp_err *err);

/* L2 normalisation and its backward (rows of [N, D]): h = z/||z||, dz = (dh - (h.dh) h)/||z||. */
void dsp_normalize_forward(const double *z, double *h, double *norms, int N, int D);
void dsp_normalize_backward(const double *h, const double *norms, const double *dh, double *dz, int N, int D);

/* ---------------------------------------------------------------- optimiser */
typedef enum { DSP_OPT_ADAMW = 0, DSP_OPT_SGD = 1 } dsp_optimizer_kind;
typedef struct {
    dsp_optimizer_kind kind;
    float lr;            /* peak learning rate */
    float beta1, beta2, eps, weight_decay; /* AdamW; weight decay is decoupled */
    float momentum;      /* SGD */
    int warmup_steps;    /* linear warm-up from 0 */
    int total_steps;     /* linear decay to 0 at total_steps; 0 = constant */
    float clip_norm;     /* global-norm clipping; <= 0 disables */
} dsp_optim_config;
dsp_optim_config dsp_optim_default(void); /* AdamW, lr 3e-5, betas (0.9, 0.999), eps 1e-8, wd 0, clip 1 */
int dsp_optim_validate(const dsp_optim_config *c, dsp_err *err);
float dsp_lr_at(const dsp_optim_config *c, int step); /* step counts from 0 */

typedef struct {
    dsp_optim_config cfg;
    float *m, *v;        /* layout-shaped moments (v unused by SGD) */
    size_t n;
    int step;            /* updates done so far */
    dsp_pool *pool;      /* optional: the update is element-wise, so threads split it without changing a bit */
    dsp_kernels kernels; /* whose AdamW loop runs (AUTO, the zero value: the widest); every set gives the same bits */
} dsp_optimizer;
int dsp_optimizer_init(dsp_optimizer *o, const dsp_optim_config *cfg, size_t n_params, dsp_err *err);
void dsp_optimizer_free(dsp_optimizer *o);
/* Global L2 norm of grads (fixed summation order: blocks of 4096 in double, added in block order, so the
 * pooled version gives the same bits for any thread count). */
double dsp_grad_norm(const float *grads, size_t n);
double dsp_grad_norm_pool(dsp_pool *pool, const float *grads, size_t n);
/* dsp_grad_norm_pool's value, bit for bit, when grads[0, region_rows·row_len) is zero outside the listed rows
 * (sorted, distinct): the word-embedding gradient of a batch touches only its tokens' rows. Each block still adds
 * its elements in index order; it only skips zeros, which leave a sum of squares unchanged. */
double dsp_grad_norm_rows(dsp_pool *pool, const float *grads, size_t n, size_t row_len, size_t region_rows,
                          const int *rows, int n_rows);
/* Clips (if configured), applies one update with the scheduled lr, and returns the lr used.
 * mask (may be NULL): per-float 0/1 of trainable entries; frozen entries keep their value. */
float dsp_optimizer_step(dsp_optimizer *o, float *params, float *grads, double grad_norm, const uint8_t *mask);

/* ---------------------------------------------------------------- metrics */
/* Spearman rank correlation (average ranks for ties), in [-1, 1]; NAN if either side is constant. */
double dsp_spearman(const double *x, const double *y, int n);
double dsp_pearson(const double *x, const double *y, int n);

/* ---------------------------------------------------------------- random numbers */
/* Counter-based: a value depends only on (seed, stream, index), never on call order or thread. */
uint64_t dsp_hash64(uint64_t seed, uint64_t stream, uint64_t index);
float dsp_uniform(uint64_t seed, uint64_t stream, uint64_t index);  /* [0, 1) with 24 bits */
float dsp_normal(uint64_t seed, uint64_t stream, uint64_t index);   /* N(0, 1), Box-Muller */

#ifdef __cplusplus
}
#endif
#endif
