#!/usr/bin/env bash
# Everything beyond `npm ci` that the tests need, each step idempotent:
#   .venv with torch 2.13.0 (the PyTorch cross-check and the bench smoke),
#   the same .venv with dp-accounting 0.6.0 (the RDP accountant cross-check),
#   the same .venv with JupyterLab, nbconvert, nbclient and the tslab kernel,
#   Debian's chromium (the report and JupyterLab tests),
#   Debian's GNU parallel (the fan-out test of the federated study),
#   the optional tensorflow backend (@tensorflow/tfjs-node built from the tensorflow-cpu wheel on PyPI,
#   scripts/setup-tfjs-node.sh), so that the tests run the tensorflow routes that `--backend auto`
#   picks for LeNet training. That step needs PyPI and about a minute of compiling; where it fails
#   (no PyPI, no compiler) setup says so and goes on, and the tests run on wasm and cpu (they name
#   the backends they ran). TFJS_NODE=skip leaves it out; TFJS_NODE=required makes its failure fatal.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-bench.sh
bash scripts/setup-privacy.sh
bash scripts/setup-jupyter.sh
bash scripts/setup-browser.sh
bash scripts/setup-parallel.sh
case "${TFJS_NODE:-optional}" in
  skip) echo "setup: the tensorflow backend skipped (TFJS_NODE=skip)" ;;
  required) bash scripts/setup-tfjs-node.sh ;;
  optional)
    if ! bash scripts/setup-tfjs-node.sh; then
      echo "setup: WARNING: the optional tensorflow backend (@tensorflow/tfjs-node) was not built; everything else is set up, and LeNet training and the tests use wasm (npm run setup:tfjs-node retries it; TFJS_NODE=required makes this fatal)" >&2
    fi ;;
  *) echo "setup: TFJS_NODE is skip, optional or required, got '${TFJS_NODE}'" >&2; exit 2 ;;
esac
