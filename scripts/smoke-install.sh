#!/usr/bin/env bash
# Smoke test of a plain install: what someone gets from `pip install .` of a clone, WITHOUT the
# dev extras. In a throwaway venv and directory it
#   1. installs the package (no extras) and checks no dev-only tool came with it,
#   2. imports every module of govshare (an import only the dev extras satisfy fails here),
#   3. runs `govshare db upgrade`, `govshare demo load` and `govshare ledger checkpoint` against a
#      throwaway SQLite file,
#   4. starts `govshare serve` on a free port, waits for /healthz and requests pages and API routes;
#      any answer other than 200 fails the script. The server is always stopped.
# Exit 0 when all of it works; nonzero with a message saying what failed otherwise.
#
#   bash scripts/smoke-install.sh        (PYTHON=python3.12 to use another interpreter)
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/govshare-smoke.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
  printf '\n!!! SMOKE TEST OF A PLAIN INSTALL FAILED: %s\n' "$1" >&2
  if [ -f "$TMP/server.log" ]; then
    printf -- '--- last lines of the server log ---\n' >&2
    tail -n 40 "$TMP/server.log" >&2
  fi
  exit 1
}
step() { printf '\n== smoke: %s\n' "$1"; }

# Install from a copy of what a clone holds (tracked files plus new, not ignored ones): a build/ or
# *.egg-info left in the work tree by an earlier build would otherwise lend the wheel files that
# package-data no longer names, and the smoke test would pass where a fresh clone fails.
step "copy the files of $REPO that git tracks or would track"
"$PYTHON" - "$REPO" "$TMP/src" <<'PY' || fail "could not copy the source tree (is $REPO a git checkout?)"
import pathlib
import shutil
import subprocess
import sys

repo, dest = map(pathlib.Path, sys.argv[1:])
listed = subprocess.run(["git", "-C", str(repo), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                        capture_output=True, check=True).stdout.decode().split("\0")
copied = 0
for name in filter(None, listed):
    if (repo / name).is_file():  # a tracked file deleted in the work tree is left out, as a commit would
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / name, dest / name)
        copied += 1
print(f"{copied} files")
PY

VENV="$TMP/venv"
step "pip install . (no extras) into $VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --disable-pip-version-check "$TMP/src" >"$TMP/pip.log" 2>&1 \
  || { tail -n 40 "$TMP/pip.log" >&2; fail "pip install . failed"; }

# Everything below runs in the throwaway directory, so nothing lands in the repository (var/ ...).
cd "$TMP"
# Settings from the caller's environment must not point the smoke run at a real database.
while IFS= read -r name; do unset "$name"; done < <(env | sed -n 's/^\(GOVSHARE_[A-Z0-9_]*\)=.*/\1/p')
export GOVSHARE_DATABASE_URL="sqlite:///$TMP/smoke.db"
export GOVSHARE_VAR_DIR="$TMP/var"
export GOVSHARE_LOG_LEVEL=warning
PY="$VENV/bin/python"
GOVSHARE="$VENV/bin/govshare"

step "the venv holds no dev extras, and every module of govshare imports"
"$PY" - <<'PY' || fail "a module of govshare does not import in a plain install (see above)"
import importlib
import importlib.util
import pkgutil
import sys
import traceback

dev_only = [m for m in ("pytest", "pyshacl", "hypothesis", "playwright") if importlib.util.find_spec(m)]
if dev_only:
    sys.exit(f"the plain install brought dev-only packages {dev_only}: the check would prove nothing")

import govshare

failed = []
def onerror(name):
    failed.append(name)
    traceback.print_exc()

names = ["govshare"]
for info in pkgutil.walk_packages(govshare.__path__, "govshare.", onerror=onerror):
    names.append(info.name)
    try:
        importlib.import_module(info.name)
    except Exception:
        failed.append(info.name)
        print(f"--- import {info.name} failed:", file=sys.stderr)
        traceback.print_exc()
if failed:
    sys.exit(f"modules that do not import: {', '.join(failed)}")
if len(names) < 40:
    sys.exit(f"only {len(names)} modules found under govshare: is the package installed whole?")
print(f"imported {len(names)} modules")
PY

step "govshare db upgrade / demo load / ledger checkpoint"
"$GOVSHARE" db upgrade || fail "govshare db upgrade"
COLUMNS=80 "$GOVSHARE" demo load >"$TMP/demo.txt" || { cat "$TMP/demo.txt"; fail "govshare demo load"; }
grep -q "demo_authority" "$TMP/demo.txt" || { cat "$TMP/demo.txt"; fail "govshare demo load printed no demo accounts"; }
# /api/v1/ledger/checkpoint answers 404 (ledger.no_checkpoint) until a checkpoint is signed: the
# server's background round signs the first one about a second after start, and never when
# GOVSHARE_LEDGER_BACKGROUND=false. Sign one now, so the route must serve this very note.
"$GOVSHARE" ledger checkpoint >"$TMP/checkpoint.txt" || fail "govshare ledger checkpoint"

PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
step "govshare serve on 127.0.0.1:$PORT"
"$GOVSHARE" serve --host 127.0.0.1 --port "$PORT" >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
healthy() {
  "$PY" - "$PORT" <<'PY' 2>/dev/null
import json, sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=5) as r:
    sys.exit(0 if r.status == 200 and json.load(r)["database"]["status"] == "ok" else 1)
PY
}
for i in $(seq 1 180); do
  kill -0 "$SERVER_PID" 2>/dev/null || fail "govshare serve exited before /healthz answered"
  healthy && break
  [ "$i" -eq 180 ] && fail "/healthz did not answer 200 with the database ok within 90 s"
  sleep 0.5
done

"$PY" - "$PORT" "$TMP/checkpoint.txt" <<'PY' || fail "a route of the installed server did not answer as it should (see above)"
import json
import sys
import urllib.error
import urllib.request

port, checkpoint_file = int(sys.argv[1]), sys.argv[2]
base = f"http://127.0.0.1:{port}"


def get(path, **headers):
    request = urllib.request.Request(base + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


signed = open(checkpoint_file, encoding="utf-8").read()


def has(*needles):
    return lambda body: all(n.encode() in body for n in needles)


def package_list(body):
    result = json.loads(body)
    return result["success"] is True and len(result["result"]) > 0


# path, request headers, check of the body (what must be there beyond a 200)
routes = [
    ("/", {"Accept": "text/html"}, has("<html", "govshare")),
    ("/", {"Accept": "text/html", "Accept-Language": "en"}, has('lang="en"')),
    ("/catalog", {"Accept": "text/html"}, has("<html")),
    ("/guide", {"Accept": "text/html"}, has("<html")),
    ("/login", {"Accept": "text/html"}, has("<form")),
    ("/static/portal.css", {}, lambda b: len(b) > 100),
    ("/api/v1/catalog/dcat", {"Accept": "application/ld+json"}, has("dcat:Catalog")),
    ("/api/v1/catalog/dcat", {"Accept": "text/turtle"}, has("dcat:Catalog")),
    ("/api/3/action/package_list", {}, package_list),
    # the note the CLI signed: origin, tree size and root hash (the first three lines)
    ("/api/v1/ledger/checkpoint", {}, lambda b: b.decode().splitlines()[:3] == signed.splitlines()[:3]),
    ("/api/v1/ledger/vkey", {}, lambda b: len(b) > 10),
    ("/docs", {"Accept": "text/html"}, has("swagger-ui")),
    ("/docs-assets/swagger-ui-bundle.js", {}, lambda b: len(b) > 100_000),
    ("/openapi.json", {}, lambda b: "/api/v1/catalog/dcat" in json.loads(b)["paths"]),
]
failures = []
for path, headers, check in routes:
    try:
        status, _, body = get(path, **headers)
    except OSError as exc:
        failures.append(f"GET {path} {headers}: no answer ({exc!r})")
        continue
    if status != 200:
        failures.append(f"GET {path} {headers}: {status} (expected 200): {body[:300]!r}")
        continue
    try:
        ok = check(body)
    except Exception as exc:  # a body that does not even parse
        ok, body = False, body[:300] + f" [{exc!r}]".encode()
    if not ok:
        failures.append(f"GET {path} {headers}: 200 but not the expected content: {body[:300]!r}")
        continue
    print(f"  200 GET {path} {headers or ''}")
if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(f"{len(failures)} of {len(routes)} requests failed")
PY

kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
if grep -q "Traceback" "$TMP/server.log"; then
  fail "the server logged a traceback"
fi
step "OK: a plain install migrates, loads the demo and serves"
