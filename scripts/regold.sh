#!/usr/bin/env bash
# Regenerate the golden fixtures (test/golden/) ON PURPOSE: only after a change that is meant to change
# what the program prints or writes (a fix, a new default). A restructure that moves files must NOT need it.
#
#   scripts/regold.sh                      all three golden test files
#   scripts/regold.sh examples studies     some of them (examples, attacks, studies)
#   REGOLD=1 node --test --test-concurrency=1 --test-name-pattern "Example 2" dist/test/app/golden_examples.test.js
#                                          one test's fixtures only (after npx tsc -p .)
#
# What it does: builds; runs the chosen golden test files with REGOLD=1, where every golden assertion
# writes its fixture instead of comparing (the other assertions, e.g. "recovered", still hold); then
# runs them twice more as usual, so a fixture that does not reproduce fails here rather than later;
# then shows which fixtures changed. Review `git diff test/golden/` line by line and say in the commit
# message which numbers moved and why. A fixture no test writes any more is not deleted: remove it by hand.
# The fixtures are produced on the wasm backend (what `auto` picks for every pinned run); the tests
# import nothing from lib/, only the entry points in dist/cli and dist/scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then set -- examples attacks studies; fi
for p in "$@"; do
  [ -f "test/app/golden_$p.test.ts" ] || { echo "regold: no test/app/golden_$p.test.ts (choose from examples, attacks, studies)" >&2; exit 2; }
done
npx tsc -p .
for p in "$@"; do REGOLD=1 node --test --test-concurrency=1 "dist/test/app/golden_$p.test.js"; done
for run in 1 2; do
  echo "regold: check $run of 2 (the fixtures must reproduce)"
  for p in "$@"; do node --test --test-concurrency=1 "dist/test/app/golden_$p.test.js"; done
done
git --no-pager diff --stat -- test/golden/
git status --short -- test/golden/
