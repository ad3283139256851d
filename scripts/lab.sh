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
# only tslab is offered and only tslab starts (scripts/jupyter_lab_config.py): the venv's ipykernel (a
# dependency of the Jupyter tools) would add "Python 3", and could be started through the REST API
exec .venv/bin/jupyter lab "${root[@]}" --config="$PWD/scripts/jupyter_lab_config.py" --ServerApp.ip=127.0.0.1 \
  --notebook-dir="$PWD/notebooks" "$@"
