#!/usr/bin/python3
"""make_hf_model.py — a randomly initialised BERT written as a Hugging Face checkpoint, with the reference's
outputs for a few token-id sequences, for the engine's loading parity test (hf_parity.py).

    /usr/bin/python3 tools/reference/make_hf_model.py --out DIR [--prefix] [--gamma-beta] [--extras]
        [--dtype F32|F16|BF16] [--hidden 32 --layers 2 --heads 2 --intermediate 64 --max-pos 64 --vocab-size 120]
        [--seed 0] [--vocab vocab.txt] [--no-reference] [--force]

Writes DIR/config.json, DIR/vocab.txt, DIR/model.safetensors, and DIR/ids.txt (one sequence of token ids per line)
with DIR/reference.safetensors: "ids" [T], "seq_len" [n], "hidden" [T, H] (final hidden states, sequences in
order), "pooled_mean" [n, H], "pooled_cls" [n, H] — computed in float64 from the weights *as stored* (after F16 or
BF16 rounding), so the engine is compared with the same numbers it loads. A DIR that already holds a model
(config.json or model.safetensors) is refused unless --force, as `dissipate init` does.

Name variants: --prefix writes BertForPreTraining's "bert." prefix, --gamma-beta the TensorFlow-era
LayerNorm.gamma/.beta names, --extras the tensors a real checkpoint carries beside the encoder (the MLM and NSP
heads cls.*, and the I64 buffer embeddings.position_ids), which a loader must skip.

Weights: unlike BERT's N(0, 0.02) initialisation, every bias and LayerNorm parameter is non-zero and the matrices
have std 1/sqrt(fan_in), so that attention is far from uniform and a bias, LayerNorm or position handled wrongly
changes the outputs by O(1).
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CLS, SEP = 2, 3


def config_dict(a):
    return {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": a.vocab_size,
            "hidden_size": a.hidden, "num_hidden_layers": a.layers, "num_attention_heads": a.heads,
            "intermediate_size": a.intermediate, "max_position_embeddings": a.max_pos, "type_vocab_size": 2,
            "layer_norm_eps": 1e-12, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
            "hidden_act": "gelu", "initializer_range": 0.02, "pad_token_id": 0}


def random_weights(a, rng):
    """{canonical HF name: float32 array}"""
    H, I, V, P = a.hidden, a.intermediate, a.vocab_size, a.max_pos
    w = {}

    def mat(name, out, inp):
        w[name + ".weight"] = rng.normal(0, 1 / np.sqrt(inp), (out, inp))
        w[name + ".bias"] = rng.normal(0, 0.1, out)

    def ln(name):
        w[name + ".weight"] = 1 + rng.normal(0, 0.2, H)
        w[name + ".bias"] = rng.normal(0, 0.1, H)

    w["embeddings.word_embeddings.weight"] = rng.normal(0, 0.5, (V, H))
    w["embeddings.position_embeddings.weight"] = rng.normal(0, 0.5, (P, H))
    w["embeddings.token_type_embeddings.weight"] = rng.normal(0, 0.5, (2, H))
    ln("embeddings.LayerNorm")
    for l in range(a.layers):
        p = f"encoder.layer.{l}."
        for qkv in ("query", "key", "value"):
            mat(p + "attention.self." + qkv, H, H)
        mat(p + "attention.output.dense", H, H)
        ln(p + "attention.output.LayerNorm")
        mat(p + "intermediate.dense", I, H)
        mat(p + "output.dense", H, I)
        ln(p + "output.LayerNorm")
    mat("pooler.dense", H, H)
    return {k: v.astype(np.float32) for k, v in w.items()}


def extra_tensors(a, rng):
    """What BertForPreTraining saves beside the encoder (the loader must skip these)."""
    H, V = a.hidden, a.vocab_size
    return {"cls.predictions.bias": rng.normal(0, 0.1, V).astype(np.float32),
            "cls.predictions.transform.dense.weight": rng.normal(0, 0.1, (H, H)).astype(np.float32),
            "cls.predictions.transform.dense.bias": rng.normal(0, 0.1, H).astype(np.float32),
            "cls.predictions.transform.LayerNorm.weight": np.ones(H, np.float32),
            "cls.predictions.transform.LayerNorm.bias": np.zeros(H, np.float32),
            "cls.seq_relationship.weight": rng.normal(0, 0.1, (2, H)).astype(np.float32),
            "cls.seq_relationship.bias": np.zeros(2, np.float32)}


def stored_name(name, prefix, gamma_beta):
    if gamma_beta and "LayerNorm." in name:
        name = name.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
    if prefix and not name.startswith("cls."):
        name = "bert." + name
    return name


def sequences(a, rng):
    """[CLS] x [SEP] sequences of assorted lengths: a lone [CLS] (attention over one key), short ones, and one
    that fills max_position_embeddings (the last position row)."""
    lens = [1, 2, 3, 5, 8, 13, 21, a.max_pos]
    out = []
    for n in lens:
        if n == 1:
            out.append([CLS])
            continue
        out.append([CLS] + rng.integers(len(SPECIALS), a.vocab_size, n - 2).tolist() + [SEP])
    return out


MODEL_FILES = ("config.json", "model.safetensors")


def build(out, prefix=False, gamma_beta=False, extras=False, dtype="F32", hidden=32, layers=2, heads=2,
          intermediate=64, max_pos=64, vocab_size=120, seed=0, reference=True, vocab=None, force=False):
    """vocab: a vocab.txt to use (its size sets vocab_size), else special tokens and placeholder words.
    Raises FileExistsError before writing anything if out already holds a model and force is not set."""
    held = [f for f in MODEL_FILES if os.path.exists(os.path.join(out, f))]
    if held and not force:
        raise FileExistsError(f"{out} already holds a model ({', '.join(held)}): not replaced (--force replaces "
                              f"it, or name a new folder)")
    tokens = None
    if vocab:
        with open(vocab, encoding="utf-8") as f:
            tokens = f.read().splitlines()
        vocab_size = len(tokens)
    a = argparse.Namespace(hidden=hidden, layers=layers, heads=heads, intermediate=intermediate, max_pos=max_pos,
                           vocab_size=vocab_size)
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    weights = random_weights(a, rng)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config_dict(a), f, indent=2)
    with open(os.path.join(out, "vocab.txt"), "w") as f:
        tokens = tokens or SPECIALS + [f"w{i:03d}" for i in range(len(SPECIALS), vocab_size)]
        f.write("\n".join(tokens) + "\n")
    tensors = {stored_name(k, prefix, gamma_beta): v for k, v in weights.items()}
    dtypes = {k: dtype for k in tensors}
    if extras:
        for k, v in extra_tensors(a, rng).items():
            tensors[k] = v
            dtypes[k] = dtype
        name = stored_name("embeddings.position_ids", prefix, False)
        tensors[name] = np.arange(max_pos, dtype=np.int64)[None, :]
        dtypes[name] = "I64"
    st_path = os.path.join(out, "model.safetensors")
    safetensors_io.write(st_path, tensors, metadata={"format": "pt"}, dtypes=dtypes)
    seqs = sequences(a, np.random.default_rng(seed + 1))
    with open(os.path.join(out, "ids.txt"), "w") as f:
        for s in seqs:
            f.write(" ".join(map(str, s)) + "\n")
    if reference:
        write_reference(out, seqs)
    elif os.path.exists(os.path.join(out, "reference.safetensors")):
        # a replaced model's reference outputs would no longer match its weights
        os.remove(os.path.join(out, "reference.safetensors"))
    return seqs


def write_reference(out, seqs):
    import torch  # only the reference outputs need PyTorch

    import bert_ref
    cfg = bert_ref.BertConfig.load(out)
    P = bert_ref.to_torch(bert_ref.load_weights(out), bert_ref.param_names(cfg))  # as stored: rounded
    batch = bert_ref.Batch(seqs)
    with torch.no_grad():
        hidden, mean = bert_ref.encode(P, cfg, batch, pooler="mean")
        cls = bert_ref.pool(hidden, P, batch, "cls")
    safetensors_io.write(os.path.join(out, "reference.safetensors"), {
        "ids": np.concatenate([np.asarray(s, np.float64) for s in seqs]),
        "seq_len": np.asarray(batch.lens, np.float64),
        "hidden": batch.ragged(hidden).numpy(),
        "pooled_mean": mean.numpy(),
        "pooled_cls": cls.numpy(),
    }, dtypes={k: "F64" for k in ("ids", "seq_len", "hidden", "pooled_mean", "pooled_cls")})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--prefix", action="store_true", help="'bert.' prefix (BertForPreTraining)")
    ap.add_argument("--gamma-beta", action="store_true", help="LayerNorm.gamma/.beta names")
    ap.add_argument("--extras", action="store_true", help="also cls.* heads and the I64 position_ids buffer")
    ap.add_argument("--dtype", default="F32", choices=["F32", "F16", "BF16"])
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=2)
    ap.add_argument("--intermediate", type=int, default=64)
    ap.add_argument("--max-pos", type=int, default=64)
    ap.add_argument("--vocab-size", type=int, default=120)
    ap.add_argument("--vocab", help="use this vocab.txt (its size overrides --vocab-size; [CLS] must be id 2, [SEP] 3)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-reference", action="store_true", help="skip reference.safetensors (needs no PyTorch)")
    ap.add_argument("--force", action="store_true",
                    help="replace the model --out already holds (config.json, model.safetensors: refused without it)")
    a = ap.parse_args()
    try:
        seqs = build(a.out, a.prefix, a.gamma_beta, a.extras, a.dtype, a.hidden, a.layers, a.heads, a.intermediate,
                     a.max_pos, a.vocab_size, a.seed, reference=not a.no_reference, vocab=a.vocab, force=a.force)
    except (OSError, ValueError) as e:  # FileExistsError included: a clear line, not a traceback
        sys.exit(f"make_hf_model: {e}")
    print(f"wrote {a.out}: {a.dtype}{' bert.' if a.prefix else ''}{' gamma/beta' if a.gamma_beta else ''}"
          f"{' +extras' if a.extras else ''}"
          f"{', no reference outputs' if a.no_reference else f', {len(seqs)} reference sequences'}")


if __name__ == "__main__":
    main()
