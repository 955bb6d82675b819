"""``govshare calendar import`` in a process of its own recomputes provisional deadlines (the
command line registers the sharing domain's listener, as the app does); ``govshare sharing tick``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from govshare.core import clock
from tests.conftest import DATABASE_URL
from tests.sharing.sharing_helpers import API, at, file_request

SCHEDULE_2027 = {"year": 2027, "holidays": {"2027-01-01": "元旦"}, "workdays": {}}


def _govshare(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GOVSHARE_DATABASE_URL": DATABASE_URL}
    env.pop("GOVSHARE_CLOCK_START", None)
    return subprocess.run(
        [sys.executable, "-m", "govshare.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_cli_calendar_import_recomputes(sharing_world, client, tmp_path: Path):
    w = sharing_world
    with clock.frozen(at("2026-12-22")):
        req = file_request(client, w, w.entries.personal)
    assert req["deadline"]["provisional"]
    path = tmp_path / "2027.json"
    path.write_text(json.dumps(SCHEDULE_2027, ensure_ascii=False), encoding="utf-8")
    done = _govshare("calendar", "import", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    with clock.frozen(at("2026-12-22")):
        got = client.get(f"{API}/requests/{req['id']}", headers=w.h("szsj_staff")).json()
    assert got["deadline"]["deadline_on"] == "2027-01-13" and not got["deadline"]["provisional"]
    tick = _govshare("sharing", "tick")
    assert tick.returncode == 0 and "overdue" in tick.stdout, tick.stdout + tick.stderr
