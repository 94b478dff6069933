"""objectives_ref.py — the seven objectives of spec/objectives.md §2, written straight from the formulas and
differentiated by autograd.

Inputs are L2-normalised h (view 1, anchors) and hp (view 2, positives), [N, D]; s[i, j] = h_i . h'_j.
Every loss is the mean over N anchors (hinges count their zeros). The margin objectives take the hardest negative
per positive (column-wise, the official code's default, with its floors) or, with per_anchor, per anchor
(row-wise, without floors).

    /usr/bin/python3 objectives_ref.py      runs the self-test: autograd against the analytic gradients of spec §3
                                            and against float64 finite differences (exit 0 / 1; 77 without torch)
"""
import math
import sys

try:
    import torch
except ImportError:  # pragma: no cover
    if __name__ == "__main__":
        print("objectives_ref: PyTorch is not installed for this python (use /usr/bin/python3): skipped")
        sys.exit(77)
    raise

NAMES = ("infonce", "au", "dcl", "dclp", "mpt", "met", "mat")
DEFAULTS = {
    "infonce": {"tau": 0.05}, "dcl": {"tau": 0.05}, "dclp": {"tau": 0.05},
    "au": {"lam": 0.5, "alpha": 2.0, "t": 2.0},
    "mpt": {"margin": 0.09}, "met": {"margin": 0.44}, "mat": {"margin": 0.15},
}
# Guards at the edge of the domain (spec: clamp √ at d = 0 and arccos at s = 1; the follow-up code clamps
# distances at 1e-4, i.e. d² at 1e-8). They never act in a parity case: check_parity rejects cases that come
# within reach of them as inconclusive.
D2_MIN = 1e-8
COS_EDGE = 1e-7


def _eye(n, like):
    return torch.eye(n, dtype=torch.bool, device=like.device)


def infonce(h, hp, tau):
    s = h @ hp.T / tau
    return (-s.diagonal() + torch.logsumexp(s, dim=1)).mean()


def _dcl_terms(h, hp, tau):
    s = h @ hp.T / tau
    negatives = s.masked_fill(_eye(len(h), s), float("-inf"))
    return -s.diagonal() + torch.logsumexp(negatives, dim=1)


def dcl(h, hp, tau):
    return _dcl_terms(h, hp, tau).mean()


def dclp(h, hp, tau):
    return torch.clamp(_dcl_terms(h, hp, tau), min=0).mean()


def _log_mean_exp_pairs(x, t):
    """U(X) = log mean_{i<j} exp(-t ||x_i - x_j||^2), by log-sum-exp."""
    i, j = torch.triu_indices(len(x), len(x), offset=1)
    d2 = ((x[i] - x[j]) ** 2).sum(dim=1)
    return torch.logsumexp(-t * d2, dim=0) - math.log(len(i))


def au(h, hp, lam, alpha, t):
    align = (((h - hp) ** 2).sum(dim=1) ** (alpha / 2)).mean()
    uniform = 2 * t + 0.5 * (_log_mean_exp_pairs(h, t) + _log_mean_exp_pairs(hp, t))
    return (1 - lam) * align + lam * uniform


def _hardest(m, per_anchor, largest):
    """The hardest negative of each anchor (row-wise) or each positive (column-wise), diagonal excluded."""
    fill = float("-inf") if largest else float("inf")
    m = m.masked_fill(_eye(len(m), m), fill)
    dim = 1 if per_anchor else 0
    return m.max(dim=dim).values if largest else m.min(dim=dim).values


def mpt_terms(h, hp, margin, per_anchor=False):
    s = h @ hp.T
    hard = _hardest(s, per_anchor, largest=True)
    if not per_anchor:
        hard = torch.clamp(hard, min=0.0)  # the official code's diagonal masking floors the cosine at 0
    return margin - s.diagonal() + hard


def _distance(h, hp):
    return torch.sqrt(torch.clamp(2 - 2 * (h @ hp.T), min=D2_MIN))


def met_terms(h, hp, margin, per_anchor=False):
    d = _distance(h, hp)
    hard = _hardest(d, per_anchor, largest=False)
    if not per_anchor:
        hard = torch.clamp(hard, max=2.0)  # the floor: 2 is the largest distance, so it changes nothing
    return margin + d.diagonal() - hard


def _angle(h, hp):
    return torch.acos(torch.clamp(h @ hp.T, -1 + COS_EDGE, 1 - COS_EDGE))


def mat_terms(h, hp, margin, per_anchor=False):
    th = _angle(h, hp)
    hard = _hardest(th, per_anchor, largest=False)
    if not per_anchor:
        hard = torch.clamp(hard, max=math.pi / 2)  # the official code's floor at a right angle
    return margin * math.pi + th.diagonal() - hard


_MARGIN_TERMS = {"mpt": mpt_terms, "met": met_terms, "mat": mat_terms}


def _settings(name, kw):
    """The objective's hyper-parameters: DEFAULTS overridden by the keyword arguments that apply to it."""
    p = dict(DEFAULTS[name])
    p.update({k: v for k, v in kw.items() if k in p})
    return p, bool(kw.get("per_anchor", False))


def loss(name, h, hp, **kw):
    """L for objective `name`; keyword arguments override DEFAULTS (tau, lam, alpha, t, margin, per_anchor)."""
    p, per_anchor = _settings(name, kw)
    if name == "infonce":
        return infonce(h, hp, p["tau"])
    if name == "dcl":
        return dcl(h, hp, p["tau"])
    if name == "dclp":
        return dclp(h, hp, p["tau"])
    if name == "au":
        return au(h, hp, p["lam"], p["alpha"], p["t"])
    return torch.clamp(_MARGIN_TERMS[name](h, hp, p["margin"], per_anchor), min=0).mean()


def decision_margin(name, h, hp, **kw):
    """How far the case is from a discontinuity of the gradient, in units of the quantities compared (cosine,
    distance, angle, or loss for dclp). A float32 engine and this float64 reference may decide a hinge, a hardest
    negative or a floor differently when this is below ~1e-5: such a case cannot test parity. None when the
    objective is smooth."""
    if name not in ("dclp", "mpt", "met", "mat"):
        return None
    p, per_anchor = _settings(name, kw)
    with torch.no_grad():
        if name == "dclp":
            return float(_dcl_terms(h, hp, p["tau"]).abs().min())
        gaps = [_MARGIN_TERMS[name](h, hp, p["margin"], per_anchor).abs().min()]
        m = {"mpt": h @ hp.T, "met": _distance(h, hp), "mat": _angle(h, hp)}[name]
        m = m.masked_fill(_eye(len(m), m), float("nan"))
        if not per_anchor:
            m = m.T  # hardest negatives per positive: compare within columns
        top2 = torch.sort(torch.nan_to_num(m, nan=float("-inf") if name == "mpt" else float("inf")), dim=1,
                          descending=(name == "mpt")).values[:, :2]
        gaps.append((top2[:, 0] - top2[:, 1]).abs().min())
        if not per_anchor:
            floor = {"mpt": 0.0, "met": 2.0, "mat": math.pi / 2}[name]
            gaps.append((top2[:, 0] - floor).abs().min())
        cos = (h * hp).sum(1)
        gaps.append((1 - cos).min())  # distance from the √ / arccos guards at s = 1
        return float(min(gaps))


def hinge_summary(name, h, hp, **kw):
    """(active hinges, active hinges whose hardest negative sits at the floor) for dclp and the margin objectives;
    None for the smooth ones. Floors exist only per positive (the default); met's floor (2) can never act."""
    if name not in ("dclp", "mpt", "met", "mat"):
        return None
    p, per_anchor = _settings(name, kw)
    with torch.no_grad():
        if name == "dclp":
            return int((_dcl_terms(h, hp, p["tau"]) > 0).sum()), 0
        active = _MARGIN_TERMS[name](h, hp, p["margin"], per_anchor) > 0
        if per_anchor:
            return int(active.sum()), 0
        if name == "mpt":
            floored = _hardest(h @ hp.T, False, largest=True) < 0
        elif name == "mat":
            floored = _hardest(_angle(h, hp), False, largest=False) > math.pi / 2
        else:
            floored = _hardest(_distance(h, hp), False, largest=False) > 2
        return int(active.sum()), int((active & floored).sum())


# ---------------------------------------------------------------- self-test

def _analytic(name, h, hp, p):
    """∂L/∂h and ∂L/∂h' from spec §3, for the smooth objectives."""
    N = len(h)
    s = h @ hp.T
    if name in ("infonce", "dcl"):
        tau = p["tau"]
        logits = s / tau
        if name == "dcl":
            # the positive is not in the denominator: g_ij = q_ij/(N tau) for j != i, g_ii = -1/(N tau)
            q = torch.softmax(logits.masked_fill(torch.eye(N, dtype=torch.bool), float("-inf")), dim=1)
            g = (q - torch.eye(N, dtype=s.dtype)) / (N * tau)
        else:
            g = (torch.softmax(logits, dim=1) - torch.eye(N, dtype=s.dtype)) / (N * tau)
        return g @ hp, g.T @ h
    if name == "au":
        lam, alpha, t = p["lam"], p["alpha"], p["t"]
        diff = h - hp
        nrm = diff.norm(dim=1, keepdim=True)
        ga = (1 - lam) * alpha / N * nrm ** (alpha - 2) * diff

        def unif(x):
            d2 = torch.cdist(x, x) ** 2
            w = torch.exp(-t * d2) * (1 - torch.eye(N, dtype=x.dtype))
            w = w / w.sum()  # softmax weights over ordered pairs (i, j), i != j: half the weight of pair {i, j}
            # spec §3: -λ t Σ_j w_ij (x_i - x_j) with w the unordered-pair weights (½ per view times the 2 of
            # ∂d²/∂x): in ordered-pair weights that is -2 λ t Σ_j w_ij (x_i - x_j)
            return -2 * lam * t * (w.sum(1, keepdim=True) * x - w @ x)
        return ga + unif(h), -ga + unif(hp)
    raise ValueError(name)


def selftest():
    torch.manual_seed(0)
    failures = 0
    N, D = 6, 5
    for name in NAMES:
        for per_anchor in ((False, True) if name in _MARGIN_TERMS else (False,)):
            kw = {"per_anchor": per_anchor}
            if name == "dclp":
                kw["tau"] = 0.3  # so that some hinges are active and some are not
            # correlated views, as dropout gives: the positive is near its anchor. For the hinged objectives, take
            # the least noise that leaves some hinges active and some not, so both branches are differentiated.
            for noise in (0.3, 0.5, 0.8, 1.2, 2.0):
                z = torch.randn(N, D, dtype=torch.float64)
                zp = z + noise * torch.randn(N, D, dtype=torch.float64)
                h = (z / z.norm(dim=1, keepdim=True)).requires_grad_()
                hp = (zp / zp.norm(dim=1, keepdim=True)).requires_grad_()
                if name not in _MARGIN_TERMS and name != "dclp":
                    break
                with torch.no_grad():
                    terms = (_dcl_terms(h, hp, kw["tau"]) if name == "dclp"
                             else _MARGIN_TERMS[name](h, hp, DEFAULTS[name]["margin"], per_anchor))
                if 0 < int((terms > 0).sum()) < N and decision_margin(name, h, hp, **dict(kw)) > 1e-3:
                    break
            L = loss(name, h, hp, **kw)
            gh, ghp = torch.autograd.grad(L, (h, hp))
            tag = name + (" per-anchor" if per_anchor else "")
            ok = torch.isfinite(L) and torch.isfinite(gh).all() and torch.isfinite(ghp).all()
            # finite differences in float64 (central, step 1e-6) on unconstrained h: the losses are defined for
            # any vectors, so no projection is needed
            fd_ok = torch.autograd.gradcheck(lambda a, b: loss(name, a, b, **dict(kw)), (h.detach().clone()
                                             .requires_grad_(), hp.detach().clone().requires_grad_()),
                                             eps=1e-6, atol=1e-6, rtol=1e-5, raise_exception=False)
            dm = decision_margin(name, h, hp, **dict(kw))
            an_err = None
            if name in ("infonce", "dcl", "au"):
                p = dict(DEFAULTS[name])
                ah, ahp = _analytic(name, h.detach(), hp.detach(), p)
                an_err = max(float((ah - gh).abs().max()), float((ahp - ghp).abs().max()))
                ok = ok and an_err < 1e-10
            active = None
            if name == "dclp" or name in _MARGIN_TERMS:
                with torch.no_grad():
                    terms = (_dcl_terms(h, hp, kw["tau"]) if name == "dclp"
                             else _MARGIN_TERMS[name](h, hp, DEFAULTS[name]["margin"], per_anchor))
                active = int((terms > 0).sum())
                ok = ok and 0 < active < N and dm > 1e-3  # else the test would not exercise both branches
            ok = ok and fd_ok
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {tag:18s} loss {float(L):10.6f}  finite-diff {'ok' if fd_ok else 'FAIL'}"
                  + (f"  analytic max err {an_err:.1e}" if an_err is not None else "")
                  + (f"  active hinges {active}/{N}" if active is not None else "")
                  + (f"  decision margin {dm:.1e}" if dm is not None else ""))
    # the infonce identity of spec §3: ∂ℓ_i/∂h_i = (GD_i/τ) Σ_{j≠i} q_ij (h'_j − h'_i), GD_i = 1 − p_ii
    z = torch.randn(N, D, dtype=torch.float64)
    h = (z / z.norm(dim=1, keepdim=True)).requires_grad_()
    hp = (z + 0.2 * torch.randn(N, D, dtype=torch.float64))
    hp = hp / hp.norm(dim=1, keepdim=True)
    tau = 0.05
    l0 = -(h[0] @ hp[0]) / tau + torch.logsumexp(h[0] @ hp.T / tau, 0)
    (g0,) = torch.autograd.grad(l0, h)
    with torch.no_grad():
        logits = h[0] @ hp.T / tau
        p = torch.softmax(logits, 0)
        q = torch.softmax(logits[1:], 0)
        expect = (1 - p[0]) / tau * (q[:, None] * (hp[1:] - hp[0])).sum(0)
    err = float((g0[0] - expect).abs().max())
    ok = err < 1e-10
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} infonce GD identity  max err {err:.1e} (GD_0 = {float(1 - p[0]):.4f})")
    return failures


if __name__ == "__main__":
    n = selftest()
    print(f"objectives_ref self-test: {n} failure(s)")
    sys.exit(1 if n else 0)
