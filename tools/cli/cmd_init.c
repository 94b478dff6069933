/* cmd_init.c — `dissipate init`: a BERT-initialised model from a vocabulary, optionally with given word embeddings
 * (the default model's GloVe rows, tools/build-model). Makes everything testable without a downloaded checkpoint. */
#include "args.h"
#include "commands.h"
#include "out_paths.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *USAGE =
    "usage: dissipate init --vocab FILE --out DIR [--preset tiny] [--hidden H] [--layers L] [--heads A]\n"
    "                      [--intermediate I] [--max-pos P] [--word-embeddings FILE] [--seed N] [--f16]\n"
    "                      [--force]\n\n"
    "Creates config.json, vocab.txt and model.safetensors for a BERT with N(0, 0.02) weights. With\n"
    "--word-embeddings, the tensor \"word_embeddings\" [V, H] of that safetensors file replaces the random rows.\n"
    "A folder that already holds a model is refused unless --force.";

/* The model's loader refuses weights that are not finite, so a NaN or Inf given here, or a value F16 cannot hold
 * (|x| > 65504 becomes Inf), would be written as a model no command can load: refused before writing instead. */
static int check_word_embeddings(const float *w, int V, int H, int f16, const char *path, dsp_err *err) {
    for (size_t i = 0; i < (size_t)V * H; i++) {
        const int bad = !isfinite(w[i]), too_big = f16 && !bad && !isfinite(dsp_f16_to_f32(dsp_f32_to_f16(w[i])));
        if (bad || too_big)
            return dsp_fail(err, "%s: word_embeddings[%zu, %zu] (index %zu) is %g%s", path, i / (size_t)H,
                            i % (size_t)H, i, (double)w[i],
                            too_big ? ", beyond the range of F16 (|x| <= 65504): drop --f16 or scale the table"
                                    : ", not a finite number");
    }
    return 0;
}

static int load_word_embeddings(dsp_model *m, const char *path, int f16, dsp_err *err) {
    dsp_safetensors st;
    if (dsp_st_read_file(&st, path, err)) return -1;
    int rc = -1, i = dsp_st_find(&st, "word_embeddings");
    const int V = m->cfg.vocab_size, H = m->cfg.hidden_size;
    if (i < 0) {
        dsp_fail(err, "%s has no tensor named \"word_embeddings\"", path);
    } else if (st.entries[i].ndim != 2 || st.entries[i].shape[0] != V || st.entries[i].shape[1] != H) {
        dsp_fail(err, "%s: word_embeddings must be [%d, %d] (vocabulary x hidden), found %d dims [%lld, %lld]", path,
                 V, H, st.entries[i].ndim, (long long)st.entries[i].shape[0],
                 (long long)(st.entries[i].ndim > 1 ? st.entries[i].shape[1] : 0));
    } else {
        dsp_param_view v;
        dsp_param_view_make(&v, &m->layout, &m->cfg, m->params);
        rc = dsp_st_to_f32(&st, i, v.word_emb, (size_t)V * H, err) ||
             check_word_embeddings(v.word_emb, V, H, f16, path, err) ? -1 : 0;
    }
    dsp_st_free(&st);
    return rc;
}

int cmd_init(int argc, char **argv) {
    const char *vocab_path = NULL, *out = NULL, *preset = "tiny", *emb = NULL;
    int hidden = 0, layers = 0, heads = 0, inter = 0, max_pos = 0, f16 = 0, force = 0;
    uint64_t seed = 1;
    arg_spec specs[] = {
        {"vocab", ARG_STR, &vocab_path, "FILE", "vocab.txt, one WordPiece token per line (required)", 0, 0},
        {"out", ARG_STR, &out, "DIR", "output model folder (required)", 0, 0},
        {"preset", ARG_STR, &preset, "NAME", "tiny (L=2, H=128, A=2, I=512); the flags below override it", 0, 0},
        {"hidden", ARG_INT, &hidden, "H", "hidden size", 0, 0},
        {"layers", ARG_INT, &layers, "L", "number of layers", 0, 0},
        {"heads", ARG_INT, &heads, "A", "attention heads (must divide H)", 0, 0},
        {"intermediate", ARG_INT, &inter, "I", "feed-forward size", 0, 0},
        {"max-pos", ARG_INT, &max_pos, "P", "position embeddings, >= 3 (default 512)", 0, 0},
        {"word-embeddings", ARG_STR, &emb, "FILE", "safetensors with word_embeddings [V, H] to use as the word table", 0, 0},
        {"seed", ARG_U64, &seed, "N", "initialisation seed (default 1)", 0, 0},
        {"f16", ARG_BOOL, &f16, NULL, "store weights as F16 (half the size; compute stays F32)", 0, 0},
        {"force", ARG_BOOL, &force, NULL, "replace the model --out already holds (refused without it)", 0, 0},
    };
    dsp_err err = {{0}};
    const int n_specs = (int)(sizeof specs / sizeof specs[0]);
    int rc = args_parse(specs, n_specs, argc, argv, 2, USAGE, stdout, &err);
    if (rc == 1) return 0;
    if (rc) return cli_bad_flags("init", &err);
    if (!vocab_path) return cli_usage_error("init", "--vocab FILE is required");
    if (!out) return cli_usage_error("init", "--out DIR is required");
    if (strcmp(preset, "tiny") != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "unknown --preset '%.100s' (known: tiny)", preset);
        return cli_usage_error("init", msg);
    }
    /* the engine loads a model of 2 positions (encode can run [CLS] [SEP]), but train, pretrain and eval need a
     * sentence of at least one token: a model made here with fewer than 3 could never be trained or evaluated */
    if (args_seen(specs, n_specs, "max-pos") && max_pos < 3) {
        char msg[160];
        snprintf(msg, sizeof msg, "--max-pos %d must be >= 3: a sequence needs [CLS], a token and [SEP]", max_pos);
        return cli_usage_error("init", msg);
    }
    if (cli_check_no_model_in("out", out, force, &err)) return cli_error(&err);
    dsp_vocab *vocab = NULL;
    if (dsp_vocab_load(&vocab, vocab_path, &err)) return cli_error(&err);
    dsp_config cfg = dsp_config_tiny(dsp_vocab_size(vocab));
    /* a flag given overrides the preset, whatever its value: a 0 is refused by the model's checks, not ignored */
    if (args_seen(specs, n_specs, "hidden")) cfg.hidden_size = hidden;
    if (args_seen(specs, n_specs, "layers")) cfg.num_hidden_layers = layers;
    if (args_seen(specs, n_specs, "heads")) cfg.num_attention_heads = heads;
    if (args_seen(specs, n_specs, "intermediate")) cfg.intermediate_size = inter;
    if (args_seen(specs, n_specs, "max-pos")) cfg.max_position_embeddings = max_pos;
    dsp_model m = {0};
    if (dsp_model_init(&m, &cfg, vocab, seed, &err)) {
        dsp_vocab_free(vocab);
        return cli_error(&err);
    }
    int status = 0;
    if ((emb && load_word_embeddings(&m, emb, f16, &err)) || dsp_model_save(&m, out, f16, &err)) status = cli_error(&err);
    else
        printf("wrote %s: L=%d H=%d A=%d I=%d V=%d, %zu parameters\n", out, cfg.num_hidden_layers, cfg.hidden_size,
               cfg.num_attention_heads, cfg.intermediate_size, cfg.vocab_size, m.layout.total);
    dsp_model_free(&m);
    return status;
}
