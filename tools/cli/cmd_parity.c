/* cmd_parity.c — `dissipate parity-dump`: runs ONE training step and writes everything a reference implementation
 * needs to recompute it independently (tools/reference/): the token ids and lengths of the 2N sequences, every
 * dropout mask in the order the forward draws them, the weights before, the pooled vectors, ∂L/∂h, the loss, every
 * parameter gradient (before clipping) and the weights after the optimiser step. Settings go in __metadata__. */
#include "args.h"
#include "commands.h"
#include "encoder_internal.h"
#include "json.h"
#include "objective_flags.h"
#include "out_paths.h"
#include "trainer.h"

#include <stdlib.h>
#include <string.h>

static const char *USAGE =
    "usage: dissipate parity-dump --model DIR --corpus FILE --out FILE.safetensors [--objective NAME] [--batch N]\n"
    "                             [--seed N] [--lr X] [--pooler NAME] [--kernels NAME] [objective flags]\n\n"
    "Writes one training step's inputs, dropout masks, gradients and updated weights for parity tests.\n"
    "--out is checked before any work: not one of the --model folder's files, not the corpus; missing folders on its\n"
    "path are created (as train's --out is) once the step has run.";

int cmd_parity(int argc, char **argv) {
    const char *model_dir = NULL, *corpus_path = NULL, *out = NULL, *pooler_name = "mean";
    const char *kernels_name = "scalar", *optimizer = "adamw";
    int batch = 4, max_len = 32, steps_before = 0;
    objective_flags obj = {"infonce", 0, 0, 0, 0, 0, 0};
    uint64_t seed = 1;
    float lr = 1e-3f, weight_decay = 0.01f, clip = 1.0f;
    arg_spec specs[] = {
        {"model", ARG_STR, &model_dir, "DIR", "model folder (required)", 0, 0},
        {"corpus", ARG_STR, &corpus_path, "FILE", "sentences (required)", 0, 0},
        {"out", ARG_STR, &out, "FILE", "output safetensors (required)", 0, 0},
        {"batch", ARG_INT, &batch, "N", "sentences (default 4)", 0, 0},
        {"max-len", ARG_INT, &max_len, "N", "tokens per sentence (default 32)", 0, 0},
        {"seed", ARG_U64, &seed, "N", "seed (default 1)", 0, 0},
        {"lr", ARG_FLOAT, &lr, "X", "learning rate (default 1e-3)", 0, 0},
        {"optimizer", ARG_STR, &optimizer, "NAME", "adamw | sgd (default adamw)", 0, 0},
        {"weight-decay", ARG_FLOAT, &weight_decay, "X", "weight decay (default 0.01, to test it)", 0, 0},
        {"clip", ARG_FLOAT, &clip, "X", "clipping norm (default 1)", 0, 0},
        {"pooler", ARG_STR, &pooler_name, "NAME", "cls | cls_mlp | mean (default mean)", 0, 0},
        {"kernels", ARG_STR, &kernels_name, "NAME", "kernel set (default scalar)", 0, 0},
        {"steps-before", ARG_INT, &steps_before, "N", "train N steps before the dumped one (default 0)", 0, 0},
        OBJECTIVE_FLAG_SPECS(obj),
    };
    const int n_specs = (int)(sizeof specs / sizeof specs[0]);
    dsp_err err = {{0}};
    int rc = args_parse(specs, n_specs, argc, argv, 2, USAGE, stdout, &err);
    if (rc == 1) return 0;
    if (rc) return cli_bad_flags("parity-dump", &err);
    if (!model_dir || !corpus_path || !out) return cli_usage_error("parity-dump", "--model, --corpus and --out are required");

    dsp_train_config cfg = dsp_train_default();
    if (objective_from_flags(&obj, specs, n_specs, &cfg.objective, &err)) return cli_bad_flags("parity-dump", &err);
    if (dsp_pooler_parse(pooler_name, &cfg.pooler)) return cli_usage_error("parity-dump", "unknown --pooler");
    if (dsp_kernels_parse(kernels_name, &cfg.kernels)) return cli_usage_error("parity-dump", "unknown --kernels");
    if (strcmp(optimizer, "adamw") != 0 && strcmp(optimizer, "sgd") != 0)
        return cli_usage_error("parity-dump", "unknown --optimizer (adamw, sgd)");
    if (steps_before < 0) return cli_usage_error("parity-dump", "--steps-before must be >= 0");
    cfg.optim.kind = strcmp(optimizer, "sgd") == 0 ? DSP_OPT_SGD : DSP_OPT_ADAMW;
    cfg.optim.lr = lr;
    cfg.optim.weight_decay = weight_decay;
    cfg.optim.clip_norm = clip;
    cfg.batch_size = batch;
    cfg.max_len = max_len;
    cfg.seed = seed;
    /* checked before the model loads: a bad --out found after the step would lose it */
    if (cli_check_out_file("out", out, model_dir, args_config_path(), &corpus_path, 1, &err)) return cli_error(&err);

    dsp_model m = {0};
    dsp_corpus corpus = {0};
    dsp_token_set ts = {0};
    dsp_trainer *t = NULL;
    float *before = NULL, *masks = NULL, *ids_f = NULL, *len_f = NULL, *dh_f = NULL;
    dsp_st_tensor *tensors = NULL;
    int status = 1;
    if (dsp_model_load(&m, model_dir, &err) || dsp_corpus_load(&corpus, &corpus_path, 1, &err) ||
        dsp_token_set_build(&ts, m.vocab, corpus.text, corpus.count, max_len, &err) ||
        dsp_trainer_create(&t, &m, &ts, &cfg, &err))
        goto done;
    for (int s = 0; s < steps_before; s++) {
        dsp_step_record r;
        if (dsp_trainer_step(t, &r, &err)) goto done;
    }
    const size_t P = m.layout.total;
    const int H = m.cfg.hidden_size, L = m.cfg.num_hidden_layers, A = m.cfg.num_attention_heads;
    before = malloc(P * sizeof(float));
    memcpy(before, m.params, P * sizeof(float));
    /* the most masks a batch can draw: embeddings and two hidden sites per layer over 2N·max_len rows, and the
     * attention probabilities */
    size_t rows = 2 * (size_t)batch * (size_t)max_len;
    size_t cap = rows * H * (1 + 2 * (size_t)L) + (size_t)L * A * 2 * batch * (size_t)max_len * max_len;
    masks = malloc(cap * sizeof(float));
    dsp_encoder_dropout_record(dsp_trainer_encoder(t), masks, cap);
    dsp_step_record rec;
    if (dsp_trainer_step(t, &rec, &err)) goto done;
    size_t n_masks = dsp_encoder_dropout_recorded(dsp_trainer_encoder(t));
    dsp_encoder_dropout_record(dsp_trainer_encoder(t), NULL, 0);
    dsp_trainer_debug d;
    dsp_trainer_debug_view(t, &d);
    /* the encoder packs view 1's sequences, then view 2's (the same tokens) */
    ids_f = malloc(2 * (size_t)d.T * sizeof(float));
    len_f = malloc((size_t)d.B * sizeof(float));
    dh_f = malloc((size_t)d.B * H * sizeof(float));
    for (int i = 0; i < d.T; i++) ids_f[i] = ids_f[d.T + i] = (float)d.ids[i];
    for (int b = 0; b < d.B; b++) len_f[b] = (float)d.seq_len[b];
    for (size_t i = 0; i < (size_t)d.B * H; i++) dh_f[i] = (float)d.dh[i];
    float loss_f = (float)rec.loss, gn_f = (float)d.grad_norm;
    const int n_fixed = 7;
    tensors = calloc((size_t)(n_fixed + 3 * m.layout.count), sizeof *tensors);
    char (*names)[128] = calloc((size_t)(3 * m.layout.count), sizeof *names);
    int n = 0;
    tensors[n++] = (dsp_st_tensor){"ids", ids_f, 1, {2 * d.T, 0}};
    tensors[n++] = (dsp_st_tensor){"seq_len", len_f, 1, {d.B, 0}};
    tensors[n++] = (dsp_st_tensor){"masks", masks, 1, {(int64_t)(n_masks ? n_masks : 1), 0}};
    tensors[n++] = (dsp_st_tensor){"pooled", d.pooled, 2, {d.B, H}};
    tensors[n++] = (dsp_st_tensor){"dh", dh_f, 2, {d.B, H}};
    tensors[n++] = (dsp_st_tensor){"loss", &loss_f, 1, {1, 0}};
    tensors[n++] = (dsp_st_tensor){"grad_norm", &gn_f, 1, {1, 0}};
    const char *prefix[3] = {"before.", "grad.", "after."};
    const float *bufs[3] = {before, d.grads, m.params};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < m.layout.count; i++) {
            const dsp_tensor_info *ti = &m.layout.tensors[i];
            char *nm = names[k * m.layout.count + i];
            snprintf(nm, 128, "%s%s", prefix[k], ti->name);
            tensors[n++] = (dsp_st_tensor){nm, bufs[k] + ti->offset, ti->ndim, {ti->shape[0], ti->shape[1]}};
        }
    char meta[2048];
    snprintf(meta, sizeof meta,
             "{\"objective\":\"%s\",\"tau\":\"%.17g\",\"lambda\":\"%.17g\",\"alpha\":\"%.17g\",\"t\":\"%.17g\","
             "\"margin\":\"%.17g\",\"per_anchor\":\"%d\",\"pooler\":\"%s\",\"optimizer\":\"%s\",\"lr\":\"%.9g\","
             "\"beta1\":\"%.9g\",\"beta2\":\"%.9g\",\"eps\":\"%.9g\",\"weight_decay\":\"%.9g\",\"clip\":\"%.9g\","
             "\"momentum\":\"%.9g\",\"step\":\"%d\",\"hidden_dropout\":\"%.9g\",\"attention_dropout\":\"%.9g\","
             "\"n_masks\":\"%zu\",\"kernels\":\"%s\"}",
             dsp_objective_name(cfg.objective.kind), cfg.objective.tau, cfg.objective.lambda, cfg.objective.alpha, cfg.objective.t,
             cfg.objective.margin, cfg.objective.per_anchor, dsp_pooler_name(cfg.pooler), optimizer, cfg.optim.lr,
             cfg.optim.beta1, cfg.optim.beta2, cfg.optim.eps, cfg.optim.weight_decay, cfg.optim.clip_norm,
             cfg.optim.momentum, steps_before + 1, m.cfg.hidden_dropout_prob, m.cfg.attention_probs_dropout_prob,
             n_masks, kernels_name);
    rc = cli_prepare_out_file("out", out, &err) || dsp_st_write_file(out, tensors, n, 0, meta, &err) ? -1 : 0;
    free(names);
    if (rc) goto done;
    printf("wrote %s: %d tensors, %zu dropout mask values, loss %.6f\n", out, n, n_masks, rec.loss);
    status = 0;
done:
    if (status) cli_error(&err);
    free(tensors); free(before); free(masks); free(ids_f); free(len_f); free(dh_f);
    dsp_trainer_free(t);
    dsp_token_set_free(&ts);
    dsp_corpus_free(&corpus);
    dsp_model_free(&m);
    return status;
}
