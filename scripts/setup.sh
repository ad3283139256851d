#!/usr/bin/env bash
# Everything beyond `npm ci` that the tests need, each step idempotent:
#   .venv with torch 2.13.0 (the PyTorch cross-check and the bench smoke),
#   the same .venv with JupyterLab, nbconvert, nbclient and the tslab kernel,
#   Debian's chromium (the report and JupyterLab tests),
#   Debian's GNU parallel (the fan-out test of the federated study).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-bench.sh
bash scripts/setup-jupyter.sh
bash scripts/setup-browser.sh
bash scripts/setup-parallel.sh
