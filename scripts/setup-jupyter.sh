#!/usr/bin/env bash
# Jupyter for the notebooks: a project-local .venv with the pinned toolchain
# (requirements-jupyter.txt) and the tslab TypeScript kernel from node_modules registered into that
# venv only (not for the user, not system-wide). Idempotent: a second run checks and returns.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
[ -x node_modules/.bin/tslab ] || { echo "setup:jupyter: run 'npm ci' first (node_modules/.bin/tslab is missing)" >&2; exit 1; }
[ -x .venv/bin/python ] || python3 -m venv .venv
stamp=.venv/.jupyter-requirements
if ! cmp -s requirements-jupyter.txt "$stamp"; then
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-jupyter.txt 2> >(grep -v "is ignored: it is neither" >&2)
  cp requirements-jupyter.txt "$stamp"
fi
kernel=.venv/share/jupyter/kernels/tslab/kernel.json
if ! grep -q "$root/node_modules/.bin/tslab" "$kernel" 2>/dev/null; then
  node_modules/.bin/tslab install --python="$root/.venv/bin/python" --binary="$root/node_modules/.bin/tslab" --prefix="$root/.venv" >/dev/null
fi
# only the TypeScript kernel: an older set-up also registered tslab's JavaScript kernel (jslab), which
# JupyterLab once pre-selected on a cold "Run All"
rm -rf .venv/share/jupyter/kernels/jslab
echo "setup:jupyter: $(.venv/bin/jupyter lab --version | sed 's/^/jupyterlab /'), kernels: $(.venv/bin/jupyter kernelspec list --json | .venv/bin/python -c 'import json,sys; print(", ".join(sorted(json.load(sys.stdin)["kernelspecs"])))')"
