#!/usr/bin/env python3
"""The reproduction study: every objective from the same initial weights, seed and batches; STS-B dev (and test)
evaluated every K steps; repeated over seeds; then, beside --report, study_table.md, study_summary.json and the
plots in img/ (docs/results.md itself is written by hand from them).

    /usr/bin/python3 tools/study/run_study.py --dissipate build/dissipate --out runs/study [--seeds 1 2 3]
        [--steps 500] [--eval-every 50] [--lr 3e-5] [--jobs 2] [--report docs/results.md]

Runs that already have a complete log are not run again, so an interrupted study resumes. Hyper-parameters are
chosen on STS-B dev only (docs/results.md says how); test is read at the step where dev was best.
"""
import argparse
import json
import math
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# (label, objective, extra flags). The spec's defaults, plus au at the paper script's t = 6 (tiny-scale lesson 6).
CONFIGS = [
    ("infonce", "infonce", []),
    ("au (t=2)", "au", []),
    ("au (t=6)", "au", ["--unif-t", "6"]),
    ("dcl", "dcl", []),
    ("dclp", "dclp", []),
    ("mpt", "mpt", []),
    ("met", "met", []),
    ("mat", "mat", []),
]


def slug(label):
    return label.replace(" ", "").replace("(", "_").replace(")", "").replace("=", "")


def read_log(path):
    steps, evals = [], {}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if r["type"] == "step":
                steps.append(r)
            elif r["type"] == "eval":
                evals.setdefault(r["set"], []).append(r)
    return steps, evals


def complete(path, steps):
    if not os.path.exists(path):
        return False
    s, ev = read_log(path)
    return len(s) == steps and "dev" in ev and ev["dev"][-1]["step"] == steps


def run_one(args, label, objective, extra, seed):
    log = os.path.join(args.out, f"{slug(label)}_seed{seed}.jsonl")
    if complete(log, args.steps):
        return log
    corpus = sorted(os.path.join(args.data, "corpus", f) for f in os.listdir(os.path.join(args.data, "corpus"))
                    if f.endswith(".txt"))
    cmd = [args.dissipate, "train", "--model", args.model, "--corpus", *corpus,
           "--eval", os.path.join(args.data, "stsb", "dev.tsv"), os.path.join(args.data, "stsb", "test.tsv"),
           "--objective", objective, *extra, "--steps", str(args.steps), "--batch", str(args.batch),
           "--lr", str(args.lr), "--seed", str(seed), "--eval-every", str(args.eval_every),
           "--threads", "1", "--quiet", "--log", log]
    print("run:", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return log


def mean_std(xs):
    m = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return m, sd


def summarise(log):
    steps, ev = read_log(log)
    dev, test = ev["dev"], {r["step"]: r for r in ev["test"]}
    best = max(dev, key=lambda r: r["spearman"])
    return {"best_dev": best["spearman"], "best_step": best["step"], "final_dev": dev[-1]["spearman"],
            "test_at_best": test[best["step"]]["spearman"], "start_dev": dev[0]["spearman"],
            "final_gd": steps[-1]["gd"], "steps": steps, "dev": dev}


def plots(args, results):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    figdir = os.path.join(os.path.dirname(args.report), "img")
    os.makedirs(figdir, exist_ok=True)
    out = {}

    # STS-B dev vs step: mean over seeds, band = min..max
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for i, (label, per_seed) in enumerate(results.items()):
        xs = [r["step"] for r in per_seed[0]["dev"]]
        ys = [[s["dev"][k]["spearman"] for s in per_seed] for k in range(len(xs))]
        ax.plot(xs, [sum(y) / len(y) for y in ys], label=label, color=colors[i % len(colors)])
        ax.fill_between(xs, [min(y) for y in ys], [max(y) for y in ys], alpha=0.15, color=colors[i % len(colors)])
    ax.set_xlabel("step"); ax.set_ylabel("STS-B dev Spearman ×100"); ax.grid(alpha=0.3)
    ax.set_title("STS-B dev during training (mean over seeds, band = min–max)")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout(); out["stsb"] = os.path.join(figdir, "study_stsb_dev.png"); fig.savefig(out["stsb"], dpi=110)
    plt.close(fig)

    # gd and grad_h vs step (first seed), smoothed over 10 steps
    def smooth(v, w=10):
        return [sum(v[max(0, i - w + 1):i + 1]) / len(v[max(0, i - w + 1):i + 1]) for i in range(len(v))]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for i, (label, per_seed) in enumerate(results.items()):
        st = per_seed[0]["steps"]
        xs = [r["step"] for r in st]
        gd = [r["gd"] for r in st]
        if all(g is not None for g in gd):
            axes[0].plot(xs, smooth(gd), label=label, color=colors[i % len(colors)])
        axes[1].plot(xs, smooth([r["grad_h"] for r in st]), label=label, color=colors[i % len(colors)])
    axes[0].set_title("gradient-dissipation factor gd (smoothed)"); axes[0].set_xlabel("step")
    axes[1].set_title("per-sample gradient on the anchor, grad_h (smoothed)"); axes[1].set_xlabel("step")
    axes[1].set_yscale("log")
    for a in axes:
        a.grid(alpha=0.3); a.legend(fontsize=7)
    fig.tight_layout(); out["gd"] = os.path.join(figdir, "study_gd_gradh.png"); fig.savefig(out["gd"], dpi=110)
    plt.close(fig)

    # align–uniform trajectory on STS-B dev (first seed)
    fig, ax = plt.subplots(figsize=(6.5, 5))
    for i, (label, per_seed) in enumerate(results.items()):
        dev = per_seed[0]["dev"]
        ax.plot([r["uniform"] for r in dev], [r["align"] for r in dev], "-o", ms=3, label=label,
                color=colors[i % len(colors)])
        ax.annotate("start", (dev[0]["uniform"], dev[0]["align"]), fontsize=7)
    ax.set_xlabel("uniform (lower is more uniform)"); ax.set_ylabel("align (lower is better aligned)")
    ax.set_title("align–uniform on STS-B dev, every evaluation"); ax.grid(alpha=0.3); ax.legend(fontsize=7)
    fig.tight_layout(); out["au"] = os.path.join(figdir, "study_align_uniform.png"); fig.savefig(out["au"], dpi=110)
    plt.close(fig)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dissipate", default=os.path.join(ROOT, "build", "dissipate"))
    p.add_argument("--model", default=os.path.join(ROOT, "models", "tiny"))
    p.add_argument("--data", default=os.environ.get("DSP_DATA_DIR", os.path.join(ROOT, "..", "shared", "data")))
    p.add_argument("--out", default=os.path.join(ROOT, "runs", "study"))
    p.add_argument("--report", default=os.path.join(ROOT, "docs", "results.md"))
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--steps", type=int, default=500)  # the study of docs/results.md
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--eval-every", type=int, default=50)
    p.add_argument("--lr", type=float, default=3e-5)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--only", nargs="*", help="labels to run (default: all)")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    configs = [c for c in CONFIGS if not args.only or c[0] in args.only]
    jobs = [(c, s) for c in configs for s in args.seeds]
    with ThreadPoolExecutor(args.jobs) as ex:
        logs = list(ex.map(lambda cs: run_one(args, cs[0][0], cs[0][1], cs[0][2], cs[1]), jobs))
    results = {}
    for (c, s), log in zip(jobs, logs):
        results.setdefault(c[0], []).append(summarise(log))
    figs = plots(args, results)
    write_report(args, results, figs)


def write_report(args, results, figs):
    rel = lambda f: os.path.relpath(f, os.path.dirname(args.report))
    lines = []
    for label, per_seed in results.items():
        cols = []
        for key in ("best_dev", "final_dev", "test_at_best"):
            m, sd = mean_std([r[key] for r in per_seed])
            cols.append(f"{m:.2f} ± {sd:.2f}")
        bs = ", ".join(str(r["best_step"]) for r in per_seed)
        gd = per_seed[0]["final_gd"]
        lines.append(f"| {label} | {' | '.join(cols)} | {bs} | {'–' if gd is None else f'{gd:.3g}'} |")
    start = results[next(iter(results))][0]["start_dev"]
    table = "\n".join(lines)
    seeds = " ".join(str(s) for s in args.seeds)
    with open(os.path.join(os.path.dirname(args.report), "study_table.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(os.path.dirname(args.report), "study_summary.json"), "w") as f:
        json.dump({k: [{x: r[x] for x in ("best_dev", "best_step", "final_dev", "test_at_best", "final_gd")}
                       for r in v] for k, v in results.items()}, f, indent=1)
    print(table)
    print(f"start (step 0) dev {start:.2f}")
    print("figures:", ", ".join(rel(f) for f in figs.values()))


if __name__ == "__main__":
    main()
