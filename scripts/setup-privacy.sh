#!/usr/bin/env bash
# Google's dp-accounting (requirements-privacy.txt) in the project's .venv: test/optim/rdp.test.ts checks
# our RDP accountant against it. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
if .venv/bin/python -c "import importlib.metadata as m; assert m.version('dp-accounting') == '0.6.0'" 2>/dev/null; then
  echo "setup:privacy: dp-accounting already installed in .venv"
else
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-privacy.txt 2> >(grep -v "is ignored: it is neither" >&2)
  echo "setup:privacy: installed dp-accounting $(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("dp-accounting"))')"
fi
