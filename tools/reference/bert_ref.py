"""bert_ref.py — the BERT encoder of spec/encoder.md in plain PyTorch, for parity tests (float64) and the speed
comparison (float32).

Written from the specification, as Hugging Face's BertModel computes it: a padded batch [B, Lmax] with an
attention mask that hides padding keys (the engine's ragged batch gives the same numbers for the real tokens; padded
query rows compute ignored values). Post-LN layers, erf GELU, pooling over real tokens only.

Dropout is pluggable, so that one forward serves three uses:
  NoDropout          evaluation;
  RecordedDropout    the masks an engine recorded (parity): consumed in the order the forward draws them —
                     embeddings [T, H]; then per layer: attention probabilities (per sequence b, head a, a len_b x
                     len_b block, row-major), attention-output [T, H], FFN-output [T, H] (T = real tokens, rows in
                     sequence order);
  TorchDropout       torch's own Bernoulli dropout (the speed comparison).
"""
import json
import math
import os

import numpy as np

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    if __name__ == "__main__":
        print("bert_ref: PyTorch is not installed for this python (use /usr/bin/python3): skipped")
        raise SystemExit(77)
    raise

import safetensors_io

CONFIG_KEYS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
               "max_position_embeddings", "type_vocab_size", "layer_norm_eps", "hidden_dropout_prob",
               "attention_probs_dropout_prob")


class BertConfig:
    def __init__(self, d):
        for k in CONFIG_KEYS:
            setattr(self, k, d[k])
        if d.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"hidden_act {d.get('hidden_act')!r}: only the erf GELU is specified")
        if self.hidden_size % self.num_attention_heads:
            raise ValueError("hidden_size must be divisible by num_attention_heads")

    @staticmethod
    def load(model_dir):
        with open(os.path.join(model_dir, "config.json")) as f:
            return BertConfig(json.load(f))

    def to_dict(self):
        d = {k: getattr(self, k) for k in CONFIG_KEYS}
        d.update({"model_type": "bert", "architectures": ["BertModel"], "hidden_act": "gelu"})
        return d


def canonical_name(name):
    """Checkpoint name -> BertModel name: drops BertForPreTraining's 'bert.' prefix, renames LayerNorm.gamma/beta."""
    if name.startswith("bert."):
        name = name[5:]
    if name.endswith("LayerNorm.gamma"):
        name = name[:-5] + "weight"
    elif name.endswith("LayerNorm.beta"):
        name = name[:-4] + "bias"
    return name


def param_names(cfg):
    """Every tensor the encoder reads, by Hugging Face name (the MLP is SimCSE's cls_mlp pooler)."""
    names = ["embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
             "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"]
    for l in range(cfg.num_hidden_layers):
        p = f"encoder.layer.{l}."
        for part in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                     "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm"):
            names += [p + part + ".weight", p + part + ".bias"]
    return names


def load_weights(model_dir):
    """model.safetensors -> {canonical name: float64 numpy array} (extra tensors such as cls.* are kept)."""
    tensors, _ = safetensors_io.read(os.path.join(model_dir, "model.safetensors"))
    return {canonical_name(k): np.asarray(v, dtype=np.float64) for k, v in tensors.items()}


def to_torch(weights, names, dtype=torch.float64, requires_grad=False):
    return {n: torch.tensor(np.asarray(weights[n]), dtype=dtype, requires_grad=requires_grad) for n in names}


# ---------------------------------------------------------------- batches and dropout

class Batch:
    """Ragged sequences as a padded batch: ids [B, Lmax] (0 in padding), valid [B, Lmax] bool."""

    def __init__(self, seqs):
        self.seqs = [list(map(int, s)) for s in seqs]
        self.lens = [len(s) for s in self.seqs]
        if min(self.lens) < 1:
            raise ValueError("empty sequence")
        self.B, self.Lmax = len(self.seqs), max(self.lens)
        ids = np.zeros((self.B, self.Lmax), dtype=np.int64)
        for b, s in enumerate(self.seqs):
            ids[b, :len(s)] = s
        self.ids = torch.from_numpy(ids)
        self.valid = torch.arange(self.Lmax)[None, :] < torch.tensor(self.lens)[:, None]
        self.T = sum(self.lens)

    def ragged(self, x):
        """[B, Lmax, ...] -> [T, ...]: the real rows, sequences in order."""
        return x[self.valid]


class NoDropout:
    def hidden(self, x):
        return x

    def probs(self, p):
        return p


class TorchDropout:
    def __init__(self, p_hidden, p_att):
        self.p_hidden, self.p_att = p_hidden, p_att

    def hidden(self, x):
        return F.dropout(x, self.p_hidden, training=True)

    def probs(self, p):
        return F.dropout(p, self.p_att, training=True)


class RecordedDropout:
    """Replays masks recorded by an engine (a flat array of 0 and 1/(1-p) values) in draw order."""

    def __init__(self, masks, batch, hidden, heads, dtype=torch.float64):
        self.masks = np.asarray(masks, dtype=np.float64)
        self.cursor = 0
        self.dtype = dtype
        B, Lm, H, A = batch.B, batch.Lmax, hidden, heads
        self.shape_h, self.shape_p = (B, Lm, H), (B, A, Lm, Lm)
        # flat padded index of every recorded element, in the order it was recorded
        hid = [((b * Lm + t) * H + np.arange(H)) for b, n in enumerate(batch.lens) for t in range(n)]
        self.idx_h = np.concatenate(hid)
        att = []
        for b, n in enumerate(batch.lens):
            i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
            for a in range(A):
                att.append((((b * A + a) * Lm + i) * Lm + j).ravel())
        self.idx_p = np.concatenate(att)

    def _take(self, idx, shape):
        n = len(idx)
        if self.cursor + n > len(self.masks):
            raise ValueError(f"the dump holds {len(self.masks)} mask values; the forward needs more "
                             f"(at {self.cursor} + {n})")
        full = np.zeros(int(np.prod(shape)))
        full[idx] = self.masks[self.cursor:self.cursor + n]
        self.cursor += n
        return torch.tensor(full.reshape(shape), dtype=self.dtype)

    def hidden(self, x):
        return x * self._take(self.idx_h, self.shape_h)

    def probs(self, p):
        return p * self._take(self.idx_p, self.shape_p)

    def finished(self):
        return self.cursor == len(self.masks)


# ---------------------------------------------------------------- the encoder

def layer_norm(x, P, name, eps):
    return F.layer_norm(x, (x.shape[-1],), P[name + ".weight"], P[name + ".bias"], eps)


def linear(x, P, name):
    # nn.Linear: weight [out, in]
    return F.linear(x, P[name + ".weight"], P[name + ".bias"])


def gelu(x):
    # the erf form (hidden_act "gelu"): x * (1 + erf(x / sqrt 2)) / 2, which F.gelu computes by default
    return F.gelu(x)


def self_attention(x, P, prefix, cfg, key_bias, drop):
    B, Lm, H = x.shape
    A = cfg.num_attention_heads
    d = H // A

    def heads(t):  # [B, Lm, H] -> [B, A, Lm, d]
        return t.view(B, Lm, A, d).transpose(1, 2)

    q = heads(linear(x, P, prefix + "query"))
    k = heads(linear(x, P, prefix + "key"))
    v = heads(linear(x, P, prefix + "value"))
    scores = q @ k.transpose(-1, -2) / math.sqrt(d) + key_bias  # padding keys get the dtype's most negative value
    probs = drop.probs(torch.softmax(scores, dim=-1))
    return (probs @ v).transpose(1, 2).reshape(B, Lm, H)


def encode(P, cfg, batch, drop=None, pooler="mean"):
    """Returns (hidden [B, Lmax, H] after the last LayerNorm, pooled [B, H])."""
    drop = drop or NoDropout()
    eps = cfg.layer_norm_eps
    dtype = P["embeddings.word_embeddings.weight"].dtype
    Lm = batch.Lmax
    x = (P["embeddings.word_embeddings.weight"][batch.ids] + P["embeddings.position_embeddings.weight"][:Lm][None]
         + P["embeddings.token_type_embeddings.weight"][0])
    x = drop.hidden(layer_norm(x, P, "embeddings.LayerNorm", eps))
    key_bias = torch.zeros(batch.valid.shape, dtype=dtype).masked_fill(~batch.valid, torch.finfo(dtype).min)
    key_bias = key_bias[:, None, None, :]
    for l in range(cfg.num_hidden_layers):
        p = f"encoder.layer.{l}."
        att = self_attention(x, P, p + "attention.self.", cfg, key_bias, drop)
        att = drop.hidden(linear(att, P, p + "attention.output.dense"))
        x = layer_norm(att + x, P, p + "attention.output.LayerNorm", eps)
        ffn = linear(gelu(linear(x, P, p + "intermediate.dense")), P, p + "output.dense")
        x = layer_norm(drop.hidden(ffn) + x, P, p + "output.LayerNorm", eps)
    return x, pool(x, P, batch, pooler)


def pool(x, P, batch, pooler):
    if pooler == "mean":
        w = batch.valid.to(x.dtype)[:, :, None]
        return (x * w).sum(1) / w.sum(1)
    cls = x[:, 0]
    if pooler == "cls":
        return cls
    if pooler == "cls_mlp":  # SimCSE's train-time MLP over [CLS]: Linear(H, H) + tanh
        return torch.tanh(linear(cls, P, "mlp.dense"))
    raise ValueError(f"unknown pooler {pooler!r}")


# ---------------------------------------------------------------- self-test

def _torch_builtin(P, cfg, batch):
    """The same encoder assembled from torch.nn.TransformerEncoderLayer (post-LN, GELU, eval mode): an
    implementation of the attention and the layer that shares no code with encode() above."""
    H, A, I = cfg.hidden_size, cfg.num_attention_heads, cfg.intermediate_size
    x = (P["embeddings.word_embeddings.weight"][batch.ids]
         + P["embeddings.position_embeddings.weight"][torch.arange(batch.Lmax)][None]
         + P["embeddings.token_type_embeddings.weight"][torch.zeros_like(batch.ids)])
    x = torch.nn.functional.layer_norm(x, (H,), P["embeddings.LayerNorm.weight"], P["embeddings.LayerNorm.bias"],
                                       cfg.layer_norm_eps)
    for l in range(cfg.num_hidden_layers):
        p = f"encoder.layer.{l}."
        layer = torch.nn.TransformerEncoderLayer(H, A, I, dropout=0.0, activation="gelu",
                                                 layer_norm_eps=cfg.layer_norm_eps, batch_first=True,
                                                 norm_first=False, dtype=x.dtype)
        with torch.no_grad():
            sa = layer.self_attn
            sa.in_proj_weight.copy_(torch.cat([P[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]))
            sa.in_proj_bias.copy_(torch.cat([P[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")]))
            sa.out_proj.weight.copy_(P[p + "attention.output.dense.weight"])
            sa.out_proj.bias.copy_(P[p + "attention.output.dense.bias"])
            layer.norm1.weight.copy_(P[p + "attention.output.LayerNorm.weight"])
            layer.norm1.bias.copy_(P[p + "attention.output.LayerNorm.bias"])
            layer.linear1.weight.copy_(P[p + "intermediate.dense.weight"])
            layer.linear1.bias.copy_(P[p + "intermediate.dense.bias"])
            layer.linear2.weight.copy_(P[p + "output.dense.weight"])
            layer.linear2.bias.copy_(P[p + "output.dense.bias"])
            layer.norm2.weight.copy_(P[p + "output.LayerNorm.weight"])
            layer.norm2.bias.copy_(P[p + "output.LayerNorm.bias"])
        layer.eval()
        x = layer(x, src_key_padding_mask=~batch.valid)
    return x


def selftest():
    import tempfile

    import make_hf_model
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        seqs = make_hf_model.build(d, reference=False)
        cfg = BertConfig.load(d)
        P = to_torch(load_weights(d), param_names(cfg))
        batch = Batch(seqs)
        with torch.no_grad():
            hidden, mean = encode(P, cfg, batch, pooler="mean")
            other = _torch_builtin(P, cfg, batch)
            err = float((batch.ragged(hidden) - batch.ragged(other)).abs().max())
            ok = err < 1e-10
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} bert_ref vs torch.nn.TransformerEncoderLayer: max err {err:.1e}")
            # padding changes nothing: each sequence alone gives its rows of the batch
            err = 0.0
            for b, s in enumerate(seqs):
                alone, m1 = encode(P, cfg, Batch([s]), pooler="mean")
                err = max(err, float((alone[0, :len(s)] - hidden[b, :len(s)]).abs().max()),
                          float((m1[0] - mean[b]).abs().max()))
            ok = err < 1e-12
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} padded batch vs one sequence at a time: max err {err:.1e}")
            x = torch.linspace(-6, 6, 1001, dtype=torch.float64)
            err = float((gelu(x) - x * 0.5 * (1 + torch.erf(x / math.sqrt(2)))).abs().max())
            ok = err < 1e-15
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} gelu is the erf form: max err {err:.1e}")
            # recorded masks of all ones (p = 0 scale 1) reproduce the forward without dropout
            n = batch.T * cfg.hidden_size * (1 + 2 * cfg.num_hidden_layers) + cfg.num_hidden_layers * sum(
                cfg.num_attention_heads * n * n for n in batch.lens)
            rec = RecordedDropout(np.ones(n), batch, cfg.hidden_size, cfg.num_attention_heads)
            h2, _ = encode(P, cfg, batch, rec, pooler="mean")
            err = float((batch.ragged(h2) - batch.ragged(hidden)).abs().max())
            ok = err == 0 and rec.finished()
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} recorded all-ones masks: consumed {rec.cursor} of {n}, max err {err:.1e}")
    return failures


if __name__ == "__main__":
    import sys
    n = selftest()
    print(f"bert_ref self-test: {n} failure(s)")
    sys.exit(1 if n else 0)
