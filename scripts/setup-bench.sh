#!/usr/bin/env bash
# The PyTorch reference for `npm run bench` (torch 2.13.0, CPU build) and matplotlib for its figures, in the project's .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
if .venv/bin/python -c "import torch, numpy, matplotlib; assert torch.__version__.startswith('2.13.0') and matplotlib.__version__ == '3.10.8'" 2>/dev/null; then
  echo "setup:bench: torch already installed in .venv"
else
  .venv/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt 2> >(grep -v "is ignored: it is neither" >&2)
  echo "setup:bench: installed $(.venv/bin/python -c 'import torch; print("torch", torch.__version__)')"
fi
