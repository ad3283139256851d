#!/usr/bin/env bash
# Debian's GNU parallel, for fanning out sweep and federated-study jobs (docs/federated.md) and
# for the test that runs a two-process fan-out. Idempotent.
set -euo pipefail
if command -v parallel >/dev/null 2>&1; then
  echo "setup:parallel: $(parallel --version 2>/dev/null | head -1)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends parallel >/dev/null
echo "setup:parallel: $(parallel --version 2>/dev/null | head -1)"
