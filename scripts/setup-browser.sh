#!/usr/bin/env bash
# Debian's Chromium for the browser tests (headless; driven by playwright-core). Idempotent.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "setup:browser: $(/usr/bin/chromium --version 2>/dev/null)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
echo "setup:browser: $(/usr/bin/chromium --version 2>/dev/null)"
