#!/usr/bin/env bash
# Runs every benchmark, or the ones named (`scripts/bench.sh reconcile`); each prints one table.
# Copy results with date and machine into docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -gt 0 ]; then
  benches=()
  for name in "$@"; do benches+=("benchmarks/${name%.py}.py"); done
else
  benches=(benchmarks/*.py)
fi
for b in "${benches[@]}"; do
  echo "== $b"
  .venv/bin/python "$b"
done
