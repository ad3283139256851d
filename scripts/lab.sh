#!/usr/bin/env bash
# JupyterLab on localhost with the project's .venv and its tslab (TypeScript) kernel only.
# As root (Docker, CI machines) Jupyter refuses to start without --allow-root, so it is added then.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/jupyter ] || { echo "lab: run 'npm run setup:jupyter' first" >&2; exit 1; }
node scripts/build-if-stale.mjs   # notebooks import the compiled library from dist/
export JUPYTER_PATH="$PWD/.venv/share/jupyter"
root=()
[ "$(id -u)" = 0 ] && root=(--allow-root)
# only tslab is offered: the venv's ipykernel (a dependency of the Jupyter tools) would add "Python 3"
exec .venv/bin/jupyter lab "${root[@]}" --ServerApp.ip=127.0.0.1 --notebook-dir="$PWD/notebooks" \
  --KernelSpecManager.allowed_kernelspecs=tslab --MappingKernelManager.default_kernel_name=tslab "$@"
