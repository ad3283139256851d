#!/usr/bin/env bash
# JupyterLab on localhost with the project's .venv and its tslab (TypeScript) kernel.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/jupyter ] || { echo "lab: run 'npm run setup:jupyter' first" >&2; exit 1; }
npx tsc -p .   # notebooks import the compiled library from dist/
export JUPYTER_PATH="$PWD/.venv/share/jupyter"
exec .venv/bin/jupyter lab --ServerApp.ip=127.0.0.1 --notebook-dir="$PWD/notebooks" "$@"
