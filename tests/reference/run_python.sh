#!/usr/bin/env bash
# run_python.sh SCRIPT [ARGS...] — runs a reference script with Debian's /usr/bin/python3 (the one that sees
# python3-torch), or exits 77 (skipped) when that python does not exist. The scripts exit 77 themselves when
# PyTorch is missing.
PY=${DSP_PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || { echo "skipped: $PY not found (the reference needs Debian's python3 with python3-torch)"; exit 77; }
exec "$PY" "$@"
