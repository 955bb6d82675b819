#!/usr/bin/env bash
# Runs the whole suite on SQLite, then on PostgreSQL. Says loudly when a leg is skipped; in CI
# (CI=true) a missing PostgreSQL or Chromium is a failure, not a skip.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
# Two workers (pytest-xdist): each gets its own database, so the legs stay isolated.
WORKERS="${GOVSHARE_TEST_WORKERS:-2}"
XDIST=(-n "$WORKERS")
[ "$WORKERS" = "0" ] && XDIST=()
PG_URL="${GOVSHARE_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"
export GOVSHARE_TEST_POSTGRES_URL="$PG_URL"

banner() { printf '\n%s\n%s\n%s\n' "==========================================================================" "$1" "=========================================================================="; }

if [ ! -x /usr/bin/chromium ]; then
  banner "!!! Chromium (/usr/bin/chromium) is missing: BROWSER TESTS WILL BE SKIPPED. apt-get install -y chromium fonts-noto-cjk"
  [ "${CI:-}" = "true" ] && { echo "CI needs Chromium; failing."; exit 1; }
fi

echo "ruff:"
$BIN/ruff check src tests benchmarks || exit 1
$BIN/ruff format --check src tests benchmarks || { echo "run: make fmt"; exit 1; }

banner "Leg 1/2: SQLite"
GOVSHARE_TEST_DB=sqlite $BIN/pytest "${XDIST[@]}" "$@"
sqlite_rc=$?

pg_rc=0
if $BIN/python - "$PG_URL" <<'PY'
import sys
import sqlalchemy as sa
try:
    sa.create_engine(sys.argv[1]).connect().close()
except Exception as exc:
    print(f"PostgreSQL unreachable: {exc}", file=sys.stderr)
    sys.exit(1)
PY
then
  banner "Leg 2/2: PostgreSQL ($PG_URL)"
  GOVSHARE_TEST_DB=postgres $BIN/pytest "${XDIST[@]}" "$@"
  pg_rc=$?
else
  banner "!!! POSTGRESQL LEG SKIPPED: no server at $PG_URL (set GOVSHARE_TEST_POSTGRES_URL)"
  if [ "${CI:-}" = "true" ]; then pg_rc=1; fi
fi

# pytest exits 5 when it collected no test: that is a failure here.
banner "SQLite leg: exit $sqlite_rc; PostgreSQL leg: exit $pg_rc"
[ "$sqlite_rc" -eq 0 ] && [ "$pg_rc" -eq 0 ]
