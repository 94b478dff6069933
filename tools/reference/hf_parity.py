#!/usr/bin/python3
"""hf_parity.py — does the engine load Hugging Face checkpoints and compute what BertModel computes?

    /usr/bin/python3 tools/reference/hf_parity.py --dissipate build/dissipate [--tmp DIR] [--kernels auto]

For each storage variant of one random BERT (make_hf_model.py: plain names in F32; the "bert." prefix with the old
LayerNorm.gamma/beta names and the extra tensors of a BertForPreTraining checkpoint; F16; BF16 with the prefix;
BF16 with gamma/beta), the engine encodes the reference token-id sequences (`dissipate encode --ids-file`, no
dropout) and its final hidden states and mean / [CLS] pooled vectors are compared with the float64 reference computed
from the same stored (rounded) weights. Tolerances come from check_parity.py's table.

Exit status: 0 pass, 1 mismatch or `dissipate encode` failing, 2 bad arguments (no --dissipate binary, no --tmp folder), 77 PyTorch missing.
"""
import argparse
import os
import subprocess
import sys
import tempfile

try:
    import torch  # noqa: F401  (make_hf_model's reference outputs need it)
except ImportError:
    print("hf_parity: PyTorch is not installed for this python (use /usr/bin/python3): skipped")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_parity  # noqa: E402  (the tolerance table and the report)
import make_hf_model  # noqa: E402
import safetensors_io  # noqa: E402

VARIANTS = [
    # (label, prefix, gamma_beta, extras, dtype)
    ("plain-F32", False, False, False, "F32"),
    ("bert-prefix-gamma-beta-extras-F32", True, True, True, "F32"),
    ("plain-F16", False, False, False, "F16"),
    ("bert-prefix-BF16", True, False, False, "BF16"),
    ("gamma-beta-BF16", False, True, True, "BF16"),
]


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return r.returncode, r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dissipate", required=True)
    ap.add_argument("--tmp", default=None, help="scratch folder (default: a new temporary one)")
    ap.add_argument("--kernels", default="auto")
    a = ap.parse_args()
    if not (os.path.isfile(a.dissipate) and os.access(a.dissipate, os.X_OK)):
        print(f"hf_parity: --dissipate {a.dissipate}: no executable there (build the CLI, or pass its path)",
              file=sys.stderr)
        return 2
    if a.tmp is not None and not os.path.isdir(a.tmp):
        print(f"hf_parity: --tmp {a.tmp}: not a folder", file=sys.stderr)
        return 2
    code, out = run([os.path.abspath(a.dissipate), "encode", "--help"])
    if code != 0:  # encode is part of the CLI: its absence is a failure, not a missing prerequisite
        print(f"hf_parity: `{a.dissipate} encode --help` failed:\n{out}")
        return 1
    rep = check_parity.Report(verbose=True)
    with tempfile.TemporaryDirectory(dir=a.tmp) as tmp:
        for label, prefix, gamma_beta, extras, dtype in VARIANTS:
            d = os.path.join(tmp, label)
            make_hf_model.build(d, prefix=prefix, gamma_beta=gamma_beta, extras=extras, dtype=dtype, seed=0)
            ref, _ = safetensors_io.read(os.path.join(d, "reference.safetensors"))
            for pooler in ("mean", "cls"):
                enc = os.path.join(d, f"engine-{pooler}.safetensors")
                code, out = run([a.dissipate, "encode", "--model", d, "--ids-file", os.path.join(d, "ids.txt"),
                                 "--pooler", pooler, "--hidden", "--kernels", a.kernels, "--out", enc])
                if code != 0:
                    print(f"FAIL {label}: dissipate encode exited {code}:\n{out}")
                    rep.failed.append(label)
                    continue
                got, _ = safetensors_io.read(enc)
                if list(got["ids"]) != list(ref["ids"]) or list(got["seq_len"]) != list(ref["seq_len"]):
                    print(f"FAIL {label}: the engine read other token ids than ids.txt holds")
                    rep.failed.append(label)
                    continue
                rep.compare(f"hidden ({label}, {pooler})", got["hidden"], ref["hidden"])
                rep.compare(f"pooled ({label}, {pooler})", got["pooled"], ref["pooled_" + pooler])
    rep.print()
    if rep.failed:
        print(f"hf_parity: MISMATCH in {sorted(set(rep.failed))}")
        return 1
    print("hf_parity: every variant loads and matches the reference")
    return 0


if __name__ == "__main__":
    sys.exit(main())
