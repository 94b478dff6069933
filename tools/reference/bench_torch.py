#!/usr/bin/python3
"""bench_torch.py — the same SimCSE training step timed in PyTorch (float32) and in the engine, side by side.

    /usr/bin/python3 tools/reference/bench_torch.py --dissipate build/dissipate [--model DIR] [--steps 20]
        [--pooler mean|cls|cls_mlp]

The step: the tiny preset (L=2, H=128, A=2, I=512), the first 64 sentences of the corpus x 2 dropout views, max
length 32, mean pooling (the engine's default; --pooler cls_mlp is SimCSE's training setting), InfoNCE (tau 0.05),
AdamW (lr 1e-4, no weight decay) with global-norm clipping at 1. With a [CLS] pooler the engine computes the last
layer after its attention for the [CLS] rows only (the same results: nothing else reaches the loss), while
PyTorch's BERT, like Hugging Face's, computes every row: that saving is the engine's, and this measures it.
PyTorch runs it the usual way — a padded [128, Lmax] batch with an attention mask, torch's dropout, autograd,
clip_grad_norm_, torch.optim.AdamW — in a child process with torch.set_num_threads(n) and OMP_NUM_THREADS =
OPENBLAS_NUM_THREADS = n (Debian's torch calls the system BLAS, OpenBLAS with its own thread pool, which
set_num_threads does not reach). The engine runs `dissipate train` on the same
64 sentences (one batch per step) with --threads n, and the per-step wall times are read from its JSONL log.
Both sides see the same token ids (read back from `dissipate parity-dump`) and the same initial weights.
On a machine busy with other work, OpenMP's spin-waiting inflates PyTorch's multi-threaded wall time many times
over: run with OMP_WAIT_POLICY=PASSIVE (the environment is passed to the PyTorch child) for a fair number.
The configurations run in --rounds rounds (each round: every thread count, PyTorch and the engine, the order of the
two sides alternating), so that a slow spell of this shared machine falls on all of them rather than on one.
Reported over all rounds: the median wall ms/step of the --steps timed steps after warm-up of each round, the
median CPU ms/step (all threads), the fastest step (what the code costs when the machine is quiet), the ratios
PyTorch / engine (> 1: the engine is faster), and the ratio of each side at its own fastest thread count.
Last, the bound the arithmetic sets: `dissipate bench` counts the step's floating-point operations and measures the
multiply-add ceiling of the engine's kernels on one core and on the most threads timed at once; no step can be
faster than the one at that ceiling, so PyTorch's step over it is the largest ratio any engine doing this
arithmetic could reach here, at that thread count.
"""
import argparse
import collections
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

try:
    import torch
except ImportError:  # --help still answers: it needs no torch
    if not {"-h", "--help"} & set(sys.argv[1:]):
        print("bench_torch: PyTorch is not installed for this python (use /usr/bin/python3)")
        sys.exit(77)
    torch = None

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
if torch is not None:
    import bert_ref  # noqa: E402
    import objectives_ref  # noqa: E402
    import safetensors_io  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.environ.get("DSP_DATA_DIR", os.path.join(ROOT, "..", "shared", "data"))


def sh(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode:
        raise SystemExit(f"bench_torch: {' '.join(cmd)} failed ({r.returncode}):\n{r.stderr}")
    return r.stdout


def corpus_vocab(path, out):
    """A vocabulary like the CLI tests': special tokens, single characters, the 3000 most frequent corpus words."""
    words = collections.Counter()
    for name in sorted(os.listdir(os.path.dirname(path))):
        if name.endswith(".txt"):
            with open(os.path.join(os.path.dirname(path), name), encoding="utf-8") as f:
                words.update(w for w in re.sub(r"[^a-z\n]", " ", f.read().lower()).split() if len(w) >= 2)
    chars = list("abcdefghijklmnopqrstuvwxyz0123456789.,'\"()-:;?!")
    top = [w for w, _ in sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))[:3000]]
    with open(out, "w") as f:
        f.write("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars + top) + "\n")


def torch_step_times(model_dir, seqs, steps, threads, pooler, warmup=3):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = bert_ref.BertConfig.load(model_dir)
    P = bert_ref.to_torch(bert_ref.load_weights(model_dir), bert_ref.param_names(cfg), dtype=torch.float32,
                          requires_grad=True)
    if pooler == "cls_mlp":  # SimCSE's MLP, new as the engine makes it for a model without one (values don't matter)
        H = cfg.hidden_size
        P["mlp.dense.weight"] = (torch.randn(H, H) * 0.02).requires_grad_()
        P["mlp.dense.bias"] = torch.zeros(H, requires_grad=True)
    opt = torch.optim.AdamW(P.values(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    drop = bert_ref.TorchDropout(cfg.hidden_dropout_prob, cfg.attention_probs_dropout_prob)
    N = len(seqs)
    times, cpu = [], []
    for s in range(warmup + steps):
        t0, c0 = time.perf_counter(), time.process_time()
        batch = bert_ref.Batch(seqs + seqs)  # view 1, view 2: the same tokens, different dropout
        opt.zero_grad(set_to_none=True)
        _, z = bert_ref.encode(P, cfg, batch, drop, pooler)
        h = torch.nn.functional.normalize(z, dim=1)
        loss = objectives_ref.infonce(h[:N], h[N:], 0.05)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(P.values(), 1.0)
        opt.step()
        if s >= warmup:
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
    return times, cpu


def child_cpu_ms():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r.ru_utime + r.ru_stime) * 1000


def engine_step_times(dsp, model_dir, corpus, batch, steps, threads, pooler, tmp):
    """(wall ms of each timed step from the JSONL log, CPU ms per step, kernel set). The CPU time per step is the
    difference between a run of steps + 1 and a run of 1 step (which pays the same loading and setup)."""
    log = os.path.join(tmp, f"train-{threads}.jsonl")
    cpu = []
    for n in (1, steps + 1):
        c0 = child_cpu_ms()
        sh([dsp, "train", "--model", model_dir, "--corpus", corpus, "--batch", str(batch), "--max-len", "32",
            "--steps", str(n), "--threads", str(threads), "--lr", "1e-4", "--schedule", "constant",
            "--pooler", pooler, "--eval-every", "0", "--log", log, "--force", "--quiet"])
        cpu.append(child_cpu_ms() - c0)
    cpu_per_step = (cpu[1] - cpu[0]) / steps
    kernels, ms = "?", []
    with open(log) as f:
        for line in f:
            r = json.loads(line)
            if r.get("type") == "config":
                kernels = r.get("kernels", "?")
            elif "ms" in r and "loss" in r:
                ms.append(r["ms"])
    if len(ms) < steps + 1:
        raise SystemExit(f"bench_torch: {log} holds {len(ms)} step records with \"ms\", expected {steps + 1}")
    # the first step also touches every buffer for the first time
    return ms[1:], cpu_per_step, kernels


CEILING_RUNS = 9  # the ceiling is the fastest of this many runs of the multiply-add loop: one run reads low


def arithmetic_floor(dissipate, model, sentences, batch, pooler, kernels, threads_max):
    """(GFLOP per step, {threads: multiply-add ceiling in GFLOP/s}) from `dissipate bench`, which counts the step's
    operations (with a [CLS] pooler, only those it computes) and measures its kernels' multiply-add loop on one core
    and on threads_max threads at once."""
    out = sh([dissipate, "bench", "--model", model, "--corpus", sentences, "--batch", str(batch), "--steps",
              str(CEILING_RUNS), "--threads-max", str(threads_max), "--kernels", kernels, "--pooler", pooler,
              "--no-gemm"])
    flop = re.search(r"([0-9.]+) GFLOP/step", out)
    one = re.search(rf"^\s*{re.escape(kernels)}\s+([0-9.]+) GFLOP/s: [0-9.]+ ms at 1 thread", out, re.M)
    many = re.search(r"(\d+) threads at once ([0-9.]+) GFLOP/s", out)
    if not flop or not one or (threads_max > 1 and not many):
        raise SystemExit(f"bench_torch: could not read the step's GFLOP and the {kernels} ceilings from "
                         f"`dissipate bench`:\n{out}")
    ceilings = {1: float(one.group(1))}
    if many:
        ceilings[int(many.group(1))] = float(many.group(2))
    return float(flop.group(1)), ceilings


def check_args(ap, a):
    """Everything the measurement needs, before the first model is made: a message, not a traceback."""
    for name in ("batch", "steps", "rounds"):
        if getattr(a, name) < 1:
            ap.error(f"--{name} {getattr(a, name)}: must be at least 1")
    if any(n < 1 for n in a.threads):
        ap.error(f"--threads {' '.join(map(str, a.threads))}: every count must be at least 1")
    if a.torch_child:
        return
    if not (os.path.isfile(a.dissipate) and os.access(a.dissipate, os.X_OK)):
        ap.error(f"--dissipate {a.dissipate}: no executable there (build the CLI, or pass its path)")
    a.dissipate = os.path.abspath(a.dissipate)  # a bare name would be looked up on PATH, not the file checked
    if not os.path.isfile(a.corpus):
        ap.error(f"--corpus {a.corpus}: no such file (pass --corpus FILE, or set DSP_DATA_DIR to the data folder; "
                 f"the default is its corpus/wiki1m_head.txt)")
    if a.model and not os.path.isfile(os.path.join(a.model, "config.json")):
        ap.error(f"--model {a.model}: no config.json there")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dissipate", required=True, help="the native dissipate binary")
    ap.add_argument("--model", help="a tiny-preset model folder (default: models/tiny, else one made by "
                                    "`dissipate init` with models/tiny/vocab.txt or a corpus vocabulary)")
    ap.add_argument("--corpus", default=os.path.join(DATA, "corpus", "wiki1m_head.txt"),
                    help="sentences, one a line; the first --batch are the step's (default: "
                         "$DSP_DATA_DIR/corpus/wiki1m_head.txt, else ../shared/data's)")
    ap.add_argument("--batch", type=int, default=64, help="sentences per step, each encoded twice (default 64)")
    ap.add_argument("--steps", type=int, default=20, help="timed steps per configuration and round (default 20)")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts to time (default 1 2)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds over all configurations (default 3)")
    ap.add_argument("--pooler", choices=["mean", "cls", "cls_mlp"], default="mean",
                    help="the sentence vector: mean (the engine's default), cls, or cls_mlp (SimCSE's training "
                         "setting); with cls and cls_mlp the engine skips the last layer's other rows")
    ap.add_argument("--torch-child", nargs=2, metavar=("MODEL", "SEQS"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    check_args(ap, a)
    if a.torch_child:  # one PyTorch measurement, in a process whose BLAS thread count is set by the environment
        with open(a.torch_child[1]) as f:
            seqs = json.load(f)
        ms, cpu = torch_step_times(a.torch_child[0], seqs, a.steps, a.threads[0], a.pooler)
        print(json.dumps({"ms": ms, "cpu_ms": cpu}))
        return
    with tempfile.TemporaryDirectory() as tmp:
        model = a.model or os.path.join(ROOT, "models", "tiny")
        if not os.path.exists(os.path.join(model, "config.json")):
            vocab = os.path.join(ROOT, "models", "tiny", "vocab.txt")
            if not os.path.exists(vocab):
                vocab = os.path.join(tmp, "vocab.txt")
                corpus_vocab(a.corpus, vocab)
            model = os.path.join(tmp, "model")
            sh([a.dissipate, "init", "--vocab", vocab, "--out", model, "--preset", "tiny"])
        cfg = bert_ref.BertConfig.load(model)
        sentences = os.path.join(tmp, "sentences.txt")
        with open(a.corpus, encoding="utf-8") as f, open(sentences, "w", encoding="utf-8") as out:
            lines = [l for l in f if l.strip()][:a.batch]
            out.writelines(lines)
        # the engine's token ids of those sentences, truncated to 32 as in training
        ids_path = os.path.join(tmp, "ids.safetensors")
        sh([a.dissipate, "parity-dump", "--model", model, "--corpus", sentences, "--batch", str(a.batch),
            "--max-len", "32", "--out", ids_path])
        t, _ = safetensors_io.read(ids_path)
        lens = [int(x) for x in t["seq_len"][:a.batch]]
        ids = [int(x) for x in t["ids"][:sum(lens)]]
        seqs, o = [], 0
        for n in lens:
            seqs.append(ids[o:o + n])
            o += n
        print(f"model L={cfg.num_hidden_layers} H={cfg.hidden_size} A={cfg.num_attention_heads} "
              f"I={cfg.intermediate_size} V={cfg.vocab_size}; {a.batch} sentences x 2 views, {2 * sum(lens)} real "
              f"tokens (padded to {2 * a.batch} x {max(lens)}); {a.pooler} pooling, InfoNCE, AdamW, clip 1; "
              f"{a.rounds} rounds of {a.steps} steps per configuration")
        print(f"PyTorch {torch.__version__} float32 on the system BLAS (OPENBLAS_CORETYPE="
              f"{os.environ.get('OPENBLAS_CORETYPE', 'unset')}); engine: {a.dissipate}")
        if os.environ.get("OPENBLAS_CORETYPE"):  # e.g. Haswell's AVX2 kernels on a CPU with full-width AVX-512
            print("note: OPENBLAS_CORETYPE pins PyTorch's BLAS kernels; unset it to let OpenBLAS choose its own for "
                  "this CPU (the fair comparison when the engine runs wider kernels, as avx512 does)")
        print(f"load average before: {open('/proc/loadavg').read().split()[0]} (other processes inflate wall "
              f"times; CPU time per step is the steadier measure at 1 thread)")
        print(f"{'threads':>7s} {'openblas':>10s} {'engine':>7s} | {'wall ms/step: pytorch':>22s} {'engine':>7s} "
              f"{'ratio':>6s} | {'cpu ms/step: pytorch':>21s} {'engine':>7s} {'ratio':>6s} | "
              f"{'fastest step: pytorch':>21s} {'engine':>7s} {'ratio':>6s}")
        seqs_path = os.path.join(tmp, "seqs.json")
        with open(seqs_path, "w") as f:
            json.dump(seqs, f)
        def run_torch(n):
            # OPENBLAS_VERBOSE=2 makes OpenBLAS name the kernels it picked ("Core: Haswell") on stderr
            env = dict(os.environ, OMP_NUM_THREADS=str(n), OPENBLAS_NUM_THREADS=str(n), OPENBLAS_VERBOSE="2")
            r = subprocess.run([sys.executable, os.path.abspath(__file__), "--dissipate", a.dissipate, "--steps",
                                str(a.steps), "--threads", str(n), "--pooler", a.pooler, "--torch-child", model,
                                seqs_path],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, check=True)
            res = json.loads(r.stdout.strip().splitlines()[-1])
            core = re.search(r"Core: (\S+)", r.stderr)
            got = runs[n]
            got["torch_ms"] += res["ms"]
            got["torch_cpu"] += res["cpu_ms"]
            got["blas_core"] = core.group(1) if core else "?"

        def run_engine(n):
            ms, cpu, kernels = engine_step_times(a.dissipate, model, sentences, a.batch, a.steps, n, a.pooler, tmp)
            got = runs[n]
            got["eng_ms"] += ms
            got["eng_cpu"].append(cpu)
            got["kernels"] = kernels

        runs = {n: collections.defaultdict(list) for n in a.threads}
        for r in range(a.rounds):
            for n in a.threads:
                sides = (run_torch, run_engine) if r % 2 == 0 else (run_engine, run_torch)
                for side in sides:
                    side(n)
        best_torch = best_eng = (float("inf"), 0)
        med = statistics.median
        for n in a.threads:
            g = runs[n]
            t_torch, t_eng = med(g["torch_ms"]), med(g["eng_ms"])
            c_torch, c_eng = med(g["torch_cpu"]), med(g["eng_cpu"])
            f_torch, f_eng = min(g["torch_ms"]), min(g["eng_ms"])
            print(f"{n:7d} {g['blas_core']:>10s} {g['kernels']:>7s} | {t_torch:22.1f} {t_eng:7.1f} "
                  f"{t_torch / t_eng:5.2f}x | {c_torch:21.1f} {c_eng:7.1f} {c_torch / c_eng:5.2f}x | "
                  f"{f_torch:21.1f} {f_eng:7.1f} {f_torch / f_eng:5.2f}x", flush=True)
            best_torch = min(best_torch, (t_torch, n))
            best_eng = min(best_eng, (t_eng, n))
        # each side at its own best thread count (PyTorch is often slower with more threads than with one)
        print(f"each at its fastest thread count (median wall): PyTorch {best_torch[0]:.1f} ms ({best_torch[1]} "
              f"thread{'s' if best_torch[1] > 1 else ''}), engine {best_eng[0]:.1f} ms ({best_eng[1]} "
              f"thread{'s' if best_eng[1] > 1 else ''}): {best_torch[0] / best_eng[0]:.2f}x")
        # the bound the arithmetic sets, at 1 thread and at the most threads timed (the loop on all at once)
        g0 = runs[min(a.threads)]
        gflop, ceilings = arithmetic_floor(a.dissipate, model, sentences, a.batch, a.pooler, g0["kernels"],
                                           max(a.threads))
        print(f"the arithmetic's bound: the engine's step is {gflop:.3g} GFLOP; {g0['kernels']}'s multiply-add "
              f"ceiling measured now, the fastest of {CEILING_RUNS} runs:")
        for n in a.threads:
            if n not in ceilings:
                continue
            g, floor_ms = runs[n], 1000 * gflop / ceilings[n]
            print(f"  {n} thread{'s' if n > 1 else ''}: {ceilings[n]:.1f} GFLOP/s, a step of {floor_ms:.1f} ms at it; "
                  f"PyTorch's step over that: {med(g['torch_ms']) / floor_ms:.2f}x on medians, "
                  f"{min(g['torch_ms']) / floor_ms:.2f}x on fastest steps, the most any engine doing this "
                  f"arithmetic could reach here (the engine above ran at {floor_ms / med(g['eng_ms']):.0%} and "
                  f"{floor_ms / min(g['eng_ms']):.0%} of the ceiling)")
        print(f"load average after: {open('/proc/loadavg').read().split()[0]}")


if __name__ == "__main__":
    main()
