#!/usr/bin/env python3
"""The reproduction study: every objective from the same initial weights, seed and batches; STS-B dev (and test)
evaluated every K steps; repeated over seeds; then, into --report-dir, study_table.md, study_summary.json and the
plots in img/ (docs/results.md itself is written by hand from them).

    /usr/bin/python3 tools/study/run_study.py --dissipate build/dissipate --out runs/study [--seeds 1 2 3]
        [--steps 500] [--eval-every 50] [--lr 3e-5] [--jobs 2] [--report-dir DIR] [--only NAME...]

The per-run JSONL logs go to --out; the table, summary and figures to --report-dir (default: --out, so a trial run
writes nothing into the repository; docs/results.md passes --report-dir docs). The plots need matplotlib.

Resuming: a run whose log is complete and whose `config` record matches the settings asked is not run again, so an
interrupted study resumes (an incomplete log of the same settings is run again from the start). A log recorded
with other settings (another lr, batch, step count, model, corpus, objective parameter...) is never reused and never
replaced unasked: the study stops before running anything and names the differences; --force reruns those runs over
their logs. The same holds for inputs changed in place: --out/study_inputs.json keeps, per log, the SHA-256 of every
file its run read (the model folder's three files, the corpus, STS-B dev and test), so a log of a model rebuilt at
the same path is not taken for a log of the new one. Hyper-parameters are chosen on STS-B dev only (docs/results.md
says how); test is read at the step where dev was best.

Study names for --only: {names}, or an objective's name for all its variants ({objectives}).
"""
import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# (label, objective, objective flags). The spec's defaults, plus au at the paper script's t = 6 (tiny-scale lesson
# 6). The parameters are passed explicitly, not left to the CLI's defaults, so that a log's config record can be
# checked against them on resume.
CONFIGS = [
    ("infonce", "infonce", ["--tau", "0.05"]),
    ("au (t=2)", "au", ["--lambda", "0.5", "--alpha", "2", "--unif-t", "2"]),
    ("au (t=6)", "au", ["--lambda", "0.5", "--alpha", "2", "--unif-t", "6"]),
    ("dcl", "dcl", ["--tau", "0.05"]),
    ("dclp", "dclp", ["--tau", "0.05"]),
    ("mpt", "mpt", ["--margin", "0.09"]),
    ("met", "met", ["--margin", "0.44"]),
    ("mat", "mat", ["--margin", "0.15"]),
]


def slug(label):
    return label.replace(" ", "").replace("(", "_").replace(")", "").replace("=", "")


def fail(msg):
    sys.exit(f"run_study: {msg}")


def read_log(path):
    """(config record or None, step records, {set: eval records}). A torn last line (a run killed mid-write) ends
    the log there: the run is then incomplete, not unreadable."""
    config, steps, evals = None, [], {}
    with open(path) as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                break
            if r.get("type") == "config" and config is None:
                config = r
            elif r.get("type") == "step":
                steps.append(r)
            elif r.get("type") == "eval":
                evals.setdefault(r["set"], []).append(r)
    return config, steps, evals


def train_command(args, objective, extra, seed, log):
    """The `dissipate train` command of one run, and the settings it asks for as {config-record key: value}: every
    flag that shapes the run (all but --log and --quiet)."""
    data = os.path.abspath(args.data)
    sets = [os.path.join(data, "stsb", "dev.tsv"), os.path.join(data, "stsb", "test.tsv")]
    flags = [("--model", os.path.abspath(args.model)), ("--corpus", args.corpus), ("--eval", sets),
             ("--objective", objective)]
    flags += [(extra[i], extra[i + 1]) for i in range(0, len(extra), 2)]
    flags += [("--steps", args.steps), ("--batch", args.batch), ("--optimizer", args.optimizer), ("--lr", args.lr),
              ("--seed", seed),
              ("--eval-every", args.eval_every), ("--max-len", args.max_len), ("--pooler", args.pooler),
              ("--threads", 1)]
    if args.optimizer == "sgd":
        flags.append(("--momentum", args.momentum))
    cmd = [args.dissipate, "train"]
    for flag, value in flags:
        cmd += [flag, *(value if isinstance(value, list) else [str(value)])]
    cmd += ["--quiet", "--log", log]
    return cmd, {flag[2:].replace("-", "_"): value for flag, value in flags}


def same(key, got, want):
    if key in ("model", "corpus", "eval"):  # paths: the log holds them as the CLI was given them
        norm = lambda v: [os.path.realpath(p) for p in (v if isinstance(v, list) else [v])]
        return norm(got) == norm(want)
    if isinstance(got, (int, float)) and not isinstance(got, bool):
        try:
            # the log prints float32 values (lr 3e-5 is 2.99999992e-05)
            return math.isclose(float(got), float(want), rel_tol=1e-6, abs_tol=0.0)
        except ValueError:
            return False
    return str(got) == str(want)


def show(v):
    return " ".join(map(str, v)) if isinstance(v, list) else str(v)


def log_state(log, asked):
    """('missing' | 'complete' | 'incomplete' | 'other', differences, keys the log does not record)."""
    if not os.path.exists(log):
        return "missing", [], []
    config, steps, ev = read_log(log)
    if config is None:
        return "other", ["no config record (not a dissipate train log?)"], []
    diffs = [f"{k} {show(config[k])} (asked {show(v)})" for k, v in asked.items()
             if k in config and not same(k, config[k], v)]
    if diffs:
        return "other", diffs, []
    unrecorded = [k for k in asked if k not in config]  # an older CLI recorded fewer settings
    done = (len(steps) == asked["steps"] and "dev" in ev and ev["dev"][-1]["step"] == asked["steps"]
            and "test" in ev)
    return ("complete" if done else "incomplete"), [], unrecorded


INPUTS_RECORD = "study_inputs.json"


def input_digests(asked):
    """{real path: SHA-256} of every file a run reads: the model folder's files, the corpus and the STS files. A log
    records their paths, so without these a file changed in place (a rebuilt model) would pass for the same."""
    files = [os.path.join(asked["model"], f) for f in ("config.json", "vocab.txt", "model.safetensors")]
    for key in ("corpus", "eval"):
        v = asked.get(key, [])
        files += v if isinstance(v, list) else [v]
    out = {}
    for f in files:
        h = hashlib.sha256()
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        out[os.path.realpath(f)] = h.hexdigest()
    return out


def read_inputs_record(out_dir):
    """{log file name: {path: SHA-256}} from --out, or {} when there is none (or it is unreadable)."""
    try:
        with open(os.path.join(out_dir, INPUTS_RECORD)) as f:
            logs = json.load(f).get("logs", {})
        return logs if isinstance(logs, dict) else {}
    except (OSError, ValueError, AttributeError):
        return {}


def write_inputs_record(out_dir, logs):
    path = os.path.join(out_dir, INPUTS_RECORD)
    with open(path + ".tmp", "w") as f:
        json.dump({"logs": logs}, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(path + ".tmp", path)


def changed_inputs(recorded, digests):
    """The differences between a log's recorded input digests and the current ones, for the refusal."""
    return [f"{p} changed since this log (SHA-256 {recorded.get(p, 'not recorded')[:12]}…, now {d[:12]}…)"
            for p, d in sorted(digests.items()) if recorded.get(p) != d]


RUNNING = set()  # the dissipate processes under way, so that an interruption can stop them (run_one's threads)


def run_one(cmd, log):
    # one write per line: print writes the text and its end separately, so two runs starting at once mixed lines
    sys.stdout.write("run: " + " ".join(cmd) + "\n")
    sys.stdout.flush()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    RUNNING.add(proc)
    try:
        _, err = proc.communicate()
    finally:
        RUNNING.discard(proc)
    if proc.returncode != 0:
        return f"{os.path.basename(log)}: dissipate train exited {proc.returncode}:\n{err.strip()}"
    return None


def mean_std(xs):
    m = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return m, sd


def summarise(log):
    _, steps, ev = read_log(log)
    dev, test = ev["dev"], {r["step"]: r for r in ev["test"]}
    best = max(dev, key=lambda r: r["spearman"])
    return {"best_dev": best["spearman"], "best_step": best["step"], "final_dev": dev[-1]["spearman"],
            "test_at_best": test[best["step"]]["spearman"], "final_test": test[dev[-1]["step"]]["spearman"],
            "start_dev": dev[0]["spearman"],
            "final_gd": steps[-1]["gd"], "steps": steps, "dev": dev}


def plots(args, results):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    figdir = os.path.join(args.report_dir, "img")
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
        a.grid(alpha=0.3)
        if a.get_legend_handles_labels()[0]:  # au alone has no gd: an empty legend only draws a warning
            a.legend(fontsize=7)
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


def selected(only):
    """The CONFIGS that --only names: a label ('au (t=6)'), its file-name slug ('au_t6') or an objective ('au')."""
    if not only:
        return CONFIGS
    unknown = [n for n in only if not any(n in (label, slug(label), obj) for label, obj, _ in CONFIGS)]
    if unknown:
        fail(f"--only {', '.join(repr(n) for n in unknown)}: not a study name; the names are "
             f"{', '.join(slug(c[0]) for c in CONFIGS)} (or their labels as the table prints them, 'au (t=6)'), "
             f"or an objective for all its variants: {', '.join(sorted({c[1] for c in CONFIGS}))}")
    return [c for c in CONFIGS if any(n in (c[0], slug(c[0]), c[1]) for n in only)]


def positive_int(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {v}")
    return v


def positive_float(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
    if not (v > 0 and math.isfinite(v)):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return v


def parse_args(argv=None):
    names = ", ".join(slug(c[0]) for c in CONFIGS)
    objectives = ", ".join(sorted({c[1] for c in CONFIGS}))
    # allow_abbrev off: the retired --report would otherwise pass as an abbreviation of --report-dir
    p = argparse.ArgumentParser(description=__doc__.format(names=names, objectives=objectives),
                                formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    p.add_argument("--dissipate", metavar="PATH", default=os.path.join(ROOT, "build", "dissipate"),
                   help="the native dissipate binary (default: build/dissipate)")
    p.add_argument("--model", metavar="DIR", default=os.path.join(ROOT, "models", "tiny"),
                   help="the model every run starts from (default: models/tiny)")
    p.add_argument("--data", metavar="DIR", default=os.environ.get("DSP_DATA_DIR", os.path.join(ROOT, "..", "shared", "data")),
                   help="data folder: trains on every corpus/*.txt, evaluates stsb/dev.tsv and stsb/test.tsv "
                        "(default: $DSP_DATA_DIR, else ../shared/data)")
    p.add_argument("--out", metavar="DIR", default=os.path.join(ROOT, "runs", "study"),
                   help="folder of the per-run JSONL logs (default: runs/study)")
    p.add_argument("--report-dir", metavar="DIR", help="folder for study_table.md, study_summary.json and img/study_*.png "
                                        "(default: the --out folder; the documented study passes docs)")
    p.add_argument("--report", help=argparse.SUPPRESS)
    p.add_argument("--seeds", type=int, metavar="N", nargs="+", default=[1, 2, 3], help="seeds, one run each (default: 1 2 3)")
    p.add_argument("--steps", metavar="N", type=positive_int, default=500, help="training steps per run (default: 500)")
    p.add_argument("--batch", metavar="N", type=positive_int, default=64, help="sentences per batch (default: 64)")
    p.add_argument("--eval-every", metavar="K", type=positive_int, default=50,
                   help="evaluate STS-B dev and test every K steps (default: 50)")
    p.add_argument("--optimizer", default="adamw", choices=["adamw", "sgd"],
                   help="adamw, or sgd to see a dissipated gradient shrink the steps (default: adamw)")
    p.add_argument("--momentum", metavar="X", type=float, default=0.9, help="SGD's momentum (default: 0.9)")
    p.add_argument("--lr", metavar="X", type=positive_float, default=3e-5, help="peak learning rate (default: 3e-5)")
    p.add_argument("--max-len", metavar="N", type=positive_int, default=32, help="tokens per sentence (default: 32)")
    p.add_argument("--pooler", default="mean", choices=["mean", "cls", "cls_mlp"], help="pooler (default: mean)")
    p.add_argument("--jobs", metavar="N", type=positive_int, default=2, help="runs at a time, one thread each (default: 2)")
    p.add_argument("--only", nargs="+", metavar="NAME",
                   help=f"run only these: {names}; or an objective for all its variants: {objectives} "
                        "(default: all)")
    p.add_argument("--force", action="store_true",
                   help="rerun the runs whose logs in --out were recorded with other settings, replacing those logs")
    args = p.parse_args(argv)
    if any(s < 0 for s in args.seeds):  # dissipate would refuse it only once the runs start
        p.error(f"--seeds {' '.join(map(str, args.seeds))}: seeds are integers >= 0")
    if not 0 <= args.momentum < 1:  # dissipate would refuse it only once the runs start
        p.error(f"--momentum {args.momentum}: must be in [0, 1)")
    if len(set(args.seeds)) != len(args.seeds):  # two runs of one seed would write one log at once
        p.error(f"--seeds {' '.join(map(str, args.seeds))}: a seed is given twice")
    if args.report is not None:
        p.error("--report is gone (it named a file that was never written): --report-dir DIR names the folder "
                "that receives study_table.md, study_summary.json and img/")
    return args


def check_inputs(args):
    """Everything a run needs, before the first run: a mistake costs a message, not a traceback or a half study."""
    args.dissipate = os.path.abspath(args.dissipate)  # a bare name would be looked up on PATH, not checked here
    if not (os.path.isfile(args.dissipate) and os.access(args.dissipate, os.X_OK)):
        fail(f"--dissipate {args.dissipate}: no executable there (build it: cmake -S . -B build -DCMAKE_BUILD_TYPE="
             f"Release && cmake --build build -j2, or pass --dissipate PATH)")
    for f in ("config.json", "vocab.txt", "model.safetensors"):
        if not os.path.isfile(os.path.join(args.model, f)):
            fail(f"--model {args.model}: no {f} there (a model folder holds config.json, vocab.txt, "
                 f"model.safetensors)")
    corpus_dir = os.path.join(args.data, "corpus")
    if not os.path.isdir(corpus_dir):
        fail(f"data folder {args.data}: no corpus/ folder (pass --data DIR or set DSP_DATA_DIR; tools/fetch-data.sh "
             f"makes one)")
    args.corpus = sorted(os.path.abspath(os.path.join(corpus_dir, f)) for f in os.listdir(corpus_dir)
                         if f.endswith(".txt"))
    if not args.corpus:
        fail(f"{corpus_dir}: no *.txt training sentences")
    for f in ("dev.tsv", "test.tsv"):
        if not os.path.isfile(os.path.join(args.data, "stsb", f)):
            fail(f"data folder {args.data}: no stsb/{f}")
    if args.report_dir is None:
        args.report_dir = args.out
    for what, d in (("--out", args.out), ("--report-dir", args.report_dir)):
        if os.path.exists(d) and not os.path.isdir(d):
            fail(f"{what} {d}: exists and is not a folder")
    try:  # the figures come last: a missing matplotlib must not surface after the runs
        import matplotlib  # noqa: F401
    except ImportError:
        fail(f"matplotlib is missing for {sys.executable} (the figures need it): install it "
             f"(apt-get install python3-matplotlib), or run the script with a python that has it")


def main():
    args = parse_args()
    configs = selected(args.only)
    check_inputs(args)
    jobs, stale, unrecorded_keys, old_logs = [], [], set(), 0
    inputs, digests, unchecked = read_inputs_record(args.out), None, 0
    first_asked = None  # every run reads the same input files: the first run's settings name them
    for label, objective, extra in configs:
        for seed in args.seeds:
            log = os.path.join(args.out, f"{slug(label)}_seed{seed}.jsonl")
            cmd, asked = train_command(args, objective, extra, seed, log)
            first_asked = first_asked or asked
            state, diffs, unrecorded = log_state(log, asked)
            if state in ("complete", "incomplete"):
                digests = digests or input_digests(first_asked)
                recorded = inputs.get(os.path.basename(log))
                if recorded is None:
                    unchecked += 1
                elif recorded != digests:
                    state, diffs = "other", changed_inputs(recorded, digests)
            if state == "other":
                stale.append((log, diffs))
            if unrecorded:
                unrecorded_keys.update(unrecorded)
                old_logs += 1
            jobs.append((label, log, cmd, state))
    if unchecked:
        print(f"note: {unchecked} log(s) in {args.out} have no entry in {INPUTS_RECORD} (an older run_study.py): "
              f"their input files are not compared")
    if old_logs:
        print(f"note: {old_logs} log(s) in {args.out} do not record {', '.join(sorted(unrecorded_keys))} (an older "
              f"dissipate): those settings are not compared")
    if stale and not args.force:
        lines = "\n".join(f"  {log}: {'; '.join(d)}" for log, d in stale)
        fail(f"{len(stale)} log(s) in {args.out} were recorded with other settings than asked:\n{lines}\n"
             f"Nothing was run. Pass another --out for these settings, or --force to rerun these runs over their "
             f"logs.")
    for log, diffs in stale:
        print(f"rerun (--force): {log} was recorded with {'; '.join(diffs)}")
    for label, log, cmd, state in jobs:
        if state == "incomplete":
            print(f"rerun: {log} is incomplete (an interrupted run): running it again from the start")
    os.makedirs(args.out, exist_ok=True)
    # a rerun replaces its log, which dissipate train refuses without --force
    todo = [(cmd + (["--force"] if state != "missing" else []), log) for _, log, cmd, state in jobs
            if state != "complete"]
    if todo:  # recorded before the runs start, so that a log cut short by a kill is still checked on resume
        digests = digests or input_digests(first_asked)
        inputs.update({os.path.basename(log): digests for _, log in todo})
        write_inputs_record(args.out, inputs)
    ex = ThreadPoolExecutor(args.jobs)
    try:
        errors = [e for e in ex.map(lambda j: run_one(*j), todo) if e]
    except KeyboardInterrupt:  # stop the runs under way and start no more, rather than wait for them to finish
        for proc in list(RUNNING):
            proc.terminate()
        ex.shutdown(wait=True, cancel_futures=True)
        raise
    ex.shutdown()
    if errors:
        fail(f"{len(errors)} run(s) failed; the other runs' logs are kept and resume:\n" + "\n".join(errors))
    results = {}
    for label, log, _, _ in jobs:
        results.setdefault(label, []).append(summarise(log))
    os.makedirs(args.report_dir, exist_ok=True)
    figs = plots(args, results)
    write_report(args, results, figs)


def write_report(args, results, figs):
    rel = lambda f: os.path.relpath(f, args.report_dir)
    n = len(next(iter(results.values())))
    spread = f", mean ± std over {n} seeds" if n > 1 else ", one seed"
    # the optimizer and learning rate in the header, so that a table copied elsewhere still says how it was trained
    lines = [f"| objective ({args.optimizer}, lr {args.lr:g}){spread} | best dev | final dev (step {args.steps}) | "
             f"test at best dev | final test (step {args.steps}) | best-dev step per seed | "
             f"final gd (seed {args.seeds[0]}) |",
             "|---|---|---|---|---|---|---|"]
    for label, per_seed in results.items():
        cols = []
        for key in ("best_dev", "final_dev", "test_at_best", "final_test"):
            m, sd = mean_std([r[key] for r in per_seed])
            cols.append(f"{m:.2f} ± {sd:.2f}" if len(per_seed) > 1 else f"{m:.2f}")  # one seed: no spread
        bs = ", ".join(str(r["best_step"]) for r in per_seed)
        gd = per_seed[0]["final_gd"]
        lines.append(f"| {label} | {' | '.join(cols)} | {bs} | {'–' if gd is None else f'{gd:.3g}'} |")
    start = results[next(iter(results))][0]["start_dev"]
    table = "\n".join(lines)
    table_path = os.path.join(args.report_dir, "study_table.md")
    summary_path = os.path.join(args.report_dir, "study_summary.json")
    with open(table_path, "w") as f:
        f.write(table + "\n")
    with open(summary_path, "w") as f:
        keys = ("best_dev", "best_step", "final_dev", "test_at_best", "final_test", "final_gd")
        json.dump({k: [{x: r[x] for x in keys} for r in v] for k, v in results.items()}, f, indent=1)
    print(table)
    print(f"start (step 0) dev {start:.2f}")
    print(f"wrote {table_path}, {summary_path} and the figures in {args.report_dir}: "
          + ", ".join(rel(f) for f in figs.values()))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("run_study: interrupted; the runs under way were stopped, the finished runs' logs are kept: "
                 "run the same command again to resume")
