#!/usr/bin/env bash
# The README's second command: install everything the project needs, then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund
npm run setup:bench      # .venv with torch 2.13.0: the PyTorch cross-check and the bench smoke
npm run setup:jupyter    # the same .venv: JupyterLab, nbconvert, nbclient, and the tslab kernel
npm run setup:browser    # Debian's chromium for the report and JupyterLab tests
npm test
