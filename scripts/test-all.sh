#!/usr/bin/env bash
# The README's second command: install everything the project needs, then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund
npm test
