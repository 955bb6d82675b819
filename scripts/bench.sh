#!/usr/bin/env bash
# Runs every benchmark; each prints one table. Copy results with date and machine into docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
for b in benchmarks/*.py; do
  echo "== $b"
  .venv/bin/python "$b"
done
