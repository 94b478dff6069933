#!/usr/bin/python3
"""check_parity.py — recomputes one engine training step in float64 and compares every tensor of the dump.

    /usr/bin/python3 tools/reference/check_parity.py --model DIR --dump STEP.safetensors [--history D1 D2 ...]

The dump comes from `dissipate parity-dump` (tools/cli/cmd_parity.c): token ids and lengths of the 2N sequences
(view 1's, then view 2's: the same tokens), every dropout mask in draw order, the weights before the step, the
pooled vectors, ∂L/∂h, the loss, every parameter gradient (before clipping), the weights after the optimiser step,
and the settings in __metadata__.

The reference (bert_ref.py, objectives_ref.py) replays the forward with the dumped masks in float64, normalises the
pooled vectors, evaluates the objective, and lets autograd produce ∂L/∂h and the gradient of every parameter. The
optimiser step (AdamW with decoupled weight decay and bias correction, or SGD with momentum; global-norm clipping
with scale clip/(norm + 1e-6) when norm > clip) is applied in float64 to the dumped weights with the *engine's*
gradients, so that the update check tests the optimiser alone and the gradient check tests the backward alone.

--history: the dumps of the same run's earlier steps (parity-dump --steps-before 0, 1, ..., k-1), in order. The
Adam moments (or SGD momentum) are replayed from their gradients, so that a dump made with --steps-before k is
checked in full; without them, a dump of step > 1 skips the update check (the moments are not in the dump).

Exit status: 0 all tensors within tolerance; 1 a mismatch; 3 the case cannot decide (a hinge, hardest negative or
floor within float32 noise of its switch, or no gradient at all); 2 usage or unreadable input; 77 no PyTorch.
"""
import argparse
import math
import os
import re
import sys

try:
    import torch
except ImportError:
    print("check_parity: PyTorch is not installed for this python (use /usr/bin/python3, Debian's python3-torch): "
          "skipped")
    sys.exit(77)
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bert_ref  # noqa: E402
import objectives_ref  # noqa: E402
import safetensors_io  # noqa: E402

# ---------------------------------------------------------------- the tolerance table
# One table for every comparison. A tensor passes when, for every element,
#     |engine - reference| <= abs + rel * scale,
# with scale one of
#   "tensor"   max|reference| over the tensor: an error relative to the tensor's magnitude, so that elements near
#              zero by cancellation do not demand an impossible relative accuracy;
#   "module"   max|reference| over the tensor and its sibling (.weight <-> .bias of the same module): a bias
#              gradient whose exact value is 0 (attention.self.key.bias: softmax ignores a shift common to a row
#              of scores, so only the float32 noise of a cancelling sum remains) is measured on the scale of the
#              terms that cancel;
#   "element"  |reference| of the element itself (scalars);
#   "step"     |before| + |after - before| + lr for the element: the operands of the update w - lr*u, whose float32
#              rounding is what the engine's update carries (+ lr: the Adam ratio m/sqrt(v) is O(1) with an
#              absolute float32 error of a few u, even where the accumulated moment m cancels to a small value).
# First matching pattern wins.
#
TOLERANCES = [
    # (pattern, rel, abs, scale, why)          measured maximum over the ctest cases in a comment, as err/scale
    (r"^pooled\b", 5e-6, 0.0, "tensor",
     "2 layers of float32 matmuls (sums of H or I products), LayerNorm, softmax and GELU: a few u per layer "
     "(measured <= 5e-7)"),
    (r"^hidden ", 5e-6, 0.0, "tensor", "hf_parity's final hidden states: as the pooled vectors (measured <= 4e-7)"),
    (r"^loss$", 2e-6, 2e-7, "element",
     "the objective runs in double on the float32 pooled vectors; their error (~1e-7 relative) moves s_ij by "
     "~1e-7 and the loss by that times 1/tau at most; the dump stores the loss as float32 (u = 6e-8) "
     "(measured <= 7e-8)"),
    (r"^dh$", 1e-5, 0.0, "tensor",
     "dL/dh = softmax or hinge weights x h': the weights carry the s_ij error x 1/tau = 20 (measured <= 7e-7)"),
    (r"^grad_norm$", 1e-5, 0.0, "element", "the norm of all gradients: as the gradients (measured <= 5e-7)"),
    (r"^grad\.", 5e-5, 0.0, "module",
     "backward through 2 layers in float32 from a float32 dL/dpooled: the forward error, the dL/dh error, and sums "
     "over T = 2N x len token rows (measured <= 4.4e-6)"),
    (r"^after\.", 1e-6, 0.0, "step",
     "the update from the engine's own gradients: a few float32 roundings (u = 6e-8) of m, v, sqrt, the Adam ratio "
     "and w - lr*u (measured <= 1.3e-7); a missing weight-decay term "
     "(lr*wd*w = 1e-5 w at lr 1e-3, wd 0.01) is 10x above it"),
    (r"^before\.", 0.0, 0.0, "element", "the dumped weights of step 1 are the model file's, bit for bit"),
]


def tolerance(name):
    for pattern, rel, abs_, scale, why in TOLERANCES:
        if re.search(pattern, name):
            return rel, abs_, scale
    raise KeyError(f"no tolerance for {name}")


class Report:
    def __init__(self, verbose):
        self.rows, self.failed, self.verbose = [], [], verbose

    def compare(self, name, engine, ref, frozen_exact=False, scale_of=None):
        """scale_of: the array whose magnitude the "module" and "step" scales use (see TOLERANCES)."""
        engine = np.asarray(engine, dtype=np.float64)
        ref = np.asarray(ref, dtype=np.float64)
        if engine.shape != ref.shape:
            self.failed.append(name)
            print(f"FAIL {name}: shape {engine.shape} in the dump, {ref.shape} in the reference")
            return
        rel, abs_, scale = (0.0, 0.0, "element") if frozen_exact else tolerance(name)
        err = np.abs(engine - ref)
        mag = float(np.abs(ref).max()) if ref.size else 0.0
        if scale == "element":
            size = np.abs(ref)
        elif scale == "tensor":
            size = mag
        elif scale == "module":
            size = max(mag, float(np.abs(scale_of).max()) if scale_of is not None and np.size(scale_of) else 0.0)
        else:  # "step": the caller passes |before| + |after - before| + lr
            size = scale_of
        bound = abs_ + rel * size
        bad = ~(err <= bound)  # NaN counts as bad
        worst = float(err.max()) if err.size else 0.0
        ratio = float(np.max(np.where(bound > 0, err / np.where(bound > 0, bound, 1), np.where(err > 0, np.inf, 0))))
        ok = not bad.any()
        self.rows.append((name, ref.shape, mag, worst, ratio, ok))
        if not ok:
            self.failed.append(name)
            i = np.unravel_index(int(np.argmax(np.where(bad, err, -1))), err.shape)
            print(f"FAIL {name} {list(ref.shape)}: max |err| {worst:.3e} (max |ref| {mag:.3e}), {int(bad.sum())} of "
                  f"{bad.size} elements out of tolerance; worst at {list(map(int, i))}: engine "
                  f"{engine[i]:.9g} reference {ref[i]:.9g}")

    def print(self):
        print(f"{'tensor':62s} {'shape':>12s} {'max|ref|':>10s} {'max|err|':>10s} {'err/tol':>8s}")
        for name, shape, mag, worst, ratio, ok in self.rows:
            if ok and not self.verbose and (name.startswith("before.") or ratio == 0):
                continue
            print(f"{name:62s} {'x'.join(map(str, shape)) or '1':>12s} {mag:10.3e} {worst:10.3e} {ratio:8.3f}"
                  f"{'' if ok else '  FAIL'}")
        n = len(self.rows)
        hidden = sum(1 for r in self.rows if r[5] and not self.verbose and (r[0].startswith("before.") or r[4] == 0))
        if hidden:
            print(f"({hidden} exact matches not listed: weights before the step, and frozen or unused tensors; "
                  f"--verbose lists them)")
        worst = max((r for r in self.rows), key=lambda r: r[4])
        print(f"{n} comparisons, {len(self.failed)} failed; largest error/tolerance {worst[4]:.3f} ({worst[0]})")


# ---------------------------------------------------------------- the dump

class Dump:
    def __init__(self, path):
        self.path = path
        self.t, self.meta = safetensors_io.read(path)
        m = self.meta
        self.objective = m["objective"]
        self.pooler = m["pooler"]
        self.optimizer = m["optimizer"]
        self.step = int(m["step"])
        self.f = {k: float(m[k]) for k in ("tau", "lambda", "alpha", "t", "margin", "lr", "beta1", "beta2", "eps",
                                            "weight_decay", "clip", "momentum", "hidden_dropout",
                                            "attention_dropout")}
        self.per_anchor = int(m["per_anchor"]) != 0
        self.n_masks = int(m["n_masks"])
        lens = self.t["seq_len"].astype(np.float64)
        ids = self.t["ids"].astype(np.float64)
        if np.any(lens != np.round(lens)) or np.any(ids != np.round(ids)) or len(lens) % 2:
            raise ValueError(f"{path}: ids and seq_len must be whole numbers over 2N sequences")
        self.lens = lens.astype(int)
        if ids.size != self.lens.sum():
            raise ValueError(f"{path}: {ids.size} ids for sequence lengths summing to {self.lens.sum()}")
        offs = np.concatenate([[0], np.cumsum(self.lens)])
        self.seqs = [ids[offs[b]:offs[b + 1]].astype(int).tolist() for b in range(len(self.lens))]
        self.N = len(self.lens) // 2

    def params(self, prefix):
        return {k[len(prefix):]: v for k, v in self.t.items() if k.startswith(prefix)}

    def trainable(self, name):
        """The trainer's policy: HF's NSP pooler is kept but never trained; SimCSE's MLP only with cls_mlp."""
        if name.startswith("pooler."):
            return False
        if name.startswith("mlp."):
            return self.pooler == "cls_mlp"
        return True


def objective_kwargs(d):
    return {"tau": d.f["tau"], "lam": d.f["lambda"], "alpha": d.f["alpha"], "t": d.f["t"], "margin": d.f["margin"],
            "per_anchor": d.per_anchor}


def check_masks(d, report_fail):
    """Every recorded value is 0 or the float32 1/(1-p); the kept fraction is plausible for p."""
    masks = d.t["masks"].astype(np.float64).ravel()[:d.n_masks]
    ps = [p for p in (d.f["hidden_dropout"], d.f["attention_dropout"]) if p > 0]
    if not ps:
        if d.n_masks:
            report_fail(f"masks: {d.n_masks} values recorded with dropout off")
        return masks
    scales = {float(np.float32(1) / (np.float32(1) - np.float32(p))) for p in ps}
    good = np.isin(masks, [0.0, *scales])
    if not good.all():
        report_fail(f"masks: {int((~good).sum())} values are neither 0 nor 1/(1-p) (e.g. {masks[~good][:3]})")
    kept = float(np.mean(masks > 0))
    p = ps[0]
    sigma = math.sqrt(p * (1 - p) / max(1, masks.size))
    if abs((1 - kept) - p) > 6 * sigma + 1e-9:
        report_fail(f"masks: dropped fraction {1 - kept:.4f} over {masks.size} draws, expected {p} +- {6 * sigma:.4f}")
    return masks


# ---------------------------------------------------------------- the optimiser (as the engine specifies it)

def clip_scale(grads, clip):
    norm = math.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads.values()))
    return (clip / (norm + 1e-6) if clip > 0 and norm > clip else 1.0), norm


class Optimizer:
    def __init__(self, d):
        self.kind, self.f = d.optimizer, d.f
        self.m, self.v, self.t = {}, {}, 0

    def step(self, params, grads, trainable):
        """params, grads: {name: float64 array}; returns the updated weights. Frozen tensors are left as they are."""
        f = self.f
        scale, _ = clip_scale(grads, f["clip"])
        self.t += 1
        out = {}
        for name, p in params.items():
            if not trainable(name):
                out[name] = p.copy()
                continue
            g = grads[name].astype(np.float64) * scale
            m = self.m.get(name, np.zeros_like(p))
            if self.kind == "adamw":
                v = self.v.get(name, np.zeros_like(p))
                m = f["beta1"] * m + (1 - f["beta1"]) * g
                v = f["beta2"] * v + (1 - f["beta2"]) * g * g
                mhat = m / (1 - f["beta1"] ** self.t)
                vhat = v / (1 - f["beta2"] ** self.t)
                # decoupled weight decay (Loshchilov & Hutter; torch.optim.AdamW): lr * wd * w beside the Adam step
                out[name] = p - f["lr"] * (mhat / (np.sqrt(vhat) + f["eps"]) + f["weight_decay"] * p)
                self.v[name] = v
            else:
                # SGD with momentum, weight decay added to the gradient (torch.optim.SGD, dampening 0)
                g = g + f["weight_decay"] * p
                m = f["momentum"] * m + g
                out[name] = p - f["lr"] * m
            self.m[name] = m
        return out


# ---------------------------------------------------------------- the check

def recompute(d, cfg, names, masks):
    batch = bert_ref.Batch(d.seqs)
    before = d.params("before.")
    P = bert_ref.to_torch(before, names + [n for n in before if n.startswith("mlp.")], requires_grad=True)
    heads = cfg.num_attention_heads
    drop = bert_ref.RecordedDropout(masks, batch, cfg.hidden_size, heads) if d.n_masks else bert_ref.NoDropout()
    cfg.hidden_dropout_prob, cfg.attention_probs_dropout_prob = d.f["hidden_dropout"], d.f["attention_dropout"]
    _, z = bert_ref.encode(P, cfg, batch, drop, d.pooler)
    consumed = drop.cursor if d.n_masks else 0
    h = z / z.norm(dim=1, keepdim=True)
    h.retain_grad()
    N = d.N
    kw = objective_kwargs(d)
    L = objectives_ref.loss(d.objective, h[:N], h[N:], **dict(kw))
    L.backward()
    grads = {n: (P[n].grad.numpy() if P[n].grad is not None else np.zeros(P[n].shape)) for n in P}
    margin = objectives_ref.decision_margin(d.objective, h[:N].detach(), h[N:].detach(), **dict(kw))
    hinges = objectives_ref.hinge_summary(d.objective, h[:N].detach(), h[N:].detach(), **dict(kw))
    return z.detach().numpy(), h.grad.numpy(), float(L), grads, consumed, margin, hinges


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="the model folder the dump started from (config.json, weights)")
    ap.add_argument("--dump", required=True, help="parity-dump output")
    ap.add_argument("--history", nargs="*", default=[], help="dumps of the earlier steps of the same run, in order")
    ap.add_argument("--verbose", action="store_true", help="list exact matches too")
    ap.add_argument("--require-floor", action="store_true",
                    help="the case is meant to test the floors: inconclusive unless an active hinge is floored")
    a = ap.parse_args()
    torch.set_default_dtype(torch.float64)
    try:
        d = Dump(a.dump)
        history = [Dump(p) for p in a.history]
        cfg = bert_ref.BertConfig.load(a.model)
    except (OSError, ValueError, KeyError) as e:
        print(f"check_parity: cannot read the inputs: {e}")
        return 2
    rep = Report(a.verbose)
    problems = []

    def fail(msg):
        problems.append(msg)
        print("FAIL " + msg)

    print(f"{a.dump}: objective {d.objective}{' per-anchor' if d.per_anchor else ''}, pooler {d.pooler}, "
          f"optimizer {d.optimizer}, step {d.step}, N {d.N}, {sum(d.lens)} rows, kernels {d.meta.get('kernels')}, "
          f"dropout {d.f['hidden_dropout']}/{d.f['attention_dropout']}, {d.n_masks} mask values")
    names = bert_ref.param_names(cfg)
    for b in range(d.N):
        if d.seqs[b] != d.seqs[d.N + b]:
            fail(f"ids: sequence {b} and its second view {d.N + b} differ")

    # the weights before the step: the model file's (step 1), or the previous dump's result (--history)
    chain = history + [d]
    if chain[0].step == 1:
        weights = bert_ref.load_weights(a.model)
        for n, w in chain[0].params("before.").items():
            if n in weights:
                rep.compare("before." + n, w, weights[n])
            elif not n.startswith(("mlp.", "pooler.")):
                fail(f"before.{n}: not in {a.model}/model.safetensors")
    for i, h in enumerate(history):
        if h.step != i + 1:
            fail(f"--history {h.path} is step {h.step}, expected {i + 1}")
    for prev, cur in zip(chain, chain[1:]):
        for n, w in cur.params("before.").items():
            if not np.array_equal(w, prev.t["after." + n]):
                fail(f"before.{n} of step {cur.step} differs from after.{n} of step {prev.step}")
                break

    masks = check_masks(d, fail)
    z, dh, L, grads, consumed, margin, hinges = recompute(d, cfg, names, masks)
    if d.n_masks and consumed != d.n_masks:
        fail(f"masks: the forward consumed {consumed} of the dump's {d.n_masks} values (a site or a block is missing "
             f"or extra)")

    rep.compare("pooled", d.t["pooled"], z)
    rep.compare("loss", d.t["loss"].reshape(()), np.float64(L))
    rep.compare("dh", d.t["dh"], dh)
    ref_norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))
    rep.compare("grad_norm", d.t["grad_norm"].reshape(()), np.float64(ref_norm))
    for n in d.params("grad."):
        frozen = not d.trainable(n) or n.startswith("pooler.")
        ref = grads.get(n, np.zeros_like(d.t["grad." + n], dtype=np.float64))
        base = n.rsplit(".", 1)[0]
        sibling = base + (".bias" if n.endswith(".weight") else ".weight")
        rep.compare("grad." + n, d.t["grad." + n], ref, frozen_exact=frozen and not np.any(ref),
                    scale_of=grads.get(sibling))
    # the loop above compares what the dump holds: a parameter the dump left out would go unchecked
    dumped = set(d.params("grad."))
    missing = sorted(set(grads) - dumped)
    if missing:
        fail(f"grad.*: the dump has no gradient for {len(missing)} parameter(s) the reference trains: "
             f"{', '.join(missing[:4])}")
    if set(d.params("before.")) != dumped or set(d.params("after.")) != dumped:
        fail("the dump's before.*, grad.* and after.* name different parameters")

    # the update, from the engine's gradients (replaying the earlier steps' moments from --history)
    skipped_update = None
    if d.step != len(history) + 1:
        skipped_update = (f"after.*: NOT CHECKED: this dump is step {d.step} and no --history gives the optimiser "
                          f"state of the {d.step - 1} earlier step(s)")
    else:
        opt = Optimizer(d)
        for s in chain:
            before = {n: w.astype(np.float64) for n, w in s.params("before.").items()}
            after = opt.step(before, {n: g.astype(np.float64) for n, g in s.params("grad.").items()}, d.trainable)
        for n, w in after.items():
            rep.compare("after." + n, d.t["after." + n], w, frozen_exact=not d.trainable(n),
                        scale_of=np.abs(d.t["before." + n]) + np.abs(w - d.t["before." + n]) + d.f["lr"])

    rep.print()
    if skipped_update:
        print(skipped_update)
    active = float(np.abs(dh).max())
    inconclusive = []
    if active == 0 and (hinges is None or hinges[0] > 0):
        inconclusive.append("dL/dh is zero: no hinge is active, the backward is not exercised (change the margin, "
                            "tau or batch)")
    if hinges is not None:
        print(f"active hinges {hinges[0]} of {d.N}, of which {hinges[1]} with the hardest negative at the floor")
        if hinges[0] == 0:
            inconclusive.append("no hinge is active: the case tests nothing of the objective's gradient")
        if a.require_floor and hinges[1] == 0:
            inconclusive.append("--require-floor: no active hinge has its hardest negative at the floor")
    if margin is not None:
        print(f"decision margin {margin:.2e} (distance of the closest hinge / hardest-negative / floor switch)")
        if margin < 1e-5:
            inconclusive.append(f"a hinge, hardest negative or floor is within {margin:.1e} of switching: float32 "
                                f"and float64 may legitimately take different branches (change the seed)")
    if rep.failed or problems:
        print(f"check_parity: MISMATCH ({len(rep.failed) + len(problems)} problem(s))")
        return 1
    if inconclusive:
        for m in inconclusive:
            print("INCONCLUSIVE: " + m)
        return 3
    print("check_parity: all tensors within tolerance")
    return 0


if __name__ == "__main__":
    sys.exit(main())
