"""A reconciliation says how far it is (stages, step k of n, per cent) on its page and in the API,
and a run whose worker is gone (a restart) is failed as interrupted, once, with its reason shown
and recorded (Art 11(2))."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from govshare.core import clock
from govshare.core.auth import OPERATOR
from govshare.core.db import transaction
from govshare.quality import reconcile as engine
from govshare.quality.models import QualityReconciliation
from govshare.quality.service import reconciliations as runs
from tests.portal.portal_helpers import browser, sign_in
from tests.quality.quality_helpers import API, primary_dataset, register, secondary_csv, start_upload
from tests.quality.test_reconcile import ITEMS, planted, run
from tests.recorded import recorded


@pytest.fixture(autouse=True)
def _no_copies_left_behind() -> Iterator[None]:
    """Runs left queued or running here keep their uploaded copies; the next test's run ids start
    at 1 again, so the folder goes with the test."""
    yield
    shutil.rmtree(runs.get_quality_settings().resolved_dir / "reconciliations", ignore_errors=True)


def test_the_engine_reports_each_stage_in_order(planted, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _pair, _ids, _x, s, p = planted
    seen: list[tuple[str, int, int, dict[str, object]]] = []
    run(s, p, parquet_path=tmp_path / "d.parquet", progress=lambda *a: seen.append(a))
    n = len(ITEMS)
    assert [(stage, step) for stage, step, _steps, _d in seen] == [
        ("loading", 1),
        ("validating_keys", 2),
        ("validating_keys", 3),
        ("matching_keys", 4),
        *(("comparing_item", 5 + k) for k in range(n)),
        ("writing_report", 5 + n),
    ]
    assert {steps for _s, _k, steps, _d in seen} == {engine.steps_for(n)} == {5 + n}
    assert [d.get("side") for _s, _k, _n, d in seen[1:3]] == ["secondary", "primary"]
    assert [(d["k"], d["n"], d["item"]) for stage, _k, _n, d in seen if stage == "comparing_item"] == [
        (k + 1, n, item.name) for k, item in enumerate(ITEMS)
    ]
    # Without files to write there is no report step, and the count says so.
    seen.clear()
    run(s, p, progress=lambda *a: seen.append(a))
    assert seen[-1][:3] == ("comparing_item", 4 + n, 4 + n)


def test_a_failing_progress_callback_stops_the_comparison(planted, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _pair, _ids, _x, s, p = planted

    class Cancelled(Exception):
        pass

    def cancel(stage: str, *_: object) -> None:
        if stage == "matching_keys":
            raise Cancelled

    try:
        run(s, p, parquet_path=tmp_path / "d.parquet", progress=cancel)
    except Cancelled:
        pass
    else:  # pragma: no cover - the assertion below says what went wrong
        raise AssertionError("the comparison went on")
    assert not (tmp_path / "d.parquet").exists()


def _queued_run(session, resource, tmp_path: Path) -> int:  # type: ignore[no-untyped-def]
    copy = tmp_path / "copy.csv"
    copy.write_bytes(secondary_csv())
    made = runs.start(
        session,
        primary=resource.id,
        key="公民身份号码",
        items=["姓名", "出生日期", "性别"],
        upload=copy,
        filename="copy.csv",
        agency="sz-sj",
        by=OPERATOR,
    )
    session.commit()
    return made.id


def test_progress_is_on_the_page_and_in_the_api_while_it_runs(world, session, client, app, tmp_path):
    register(session)
    session.commit()
    resource = primary_dataset(session, client, world)
    run_id = _queued_run(session, resource, tmp_path)
    queued = client.get(f"{API}/reconciliations/{run_id}", headers=world.h("szsj_admin")).json()
    assert (queued["state"], queued["stage"], queued["progress"], queued["stage_label"][0]) == (
        "queued",
        "queued",
        0,
        "排队等待",
    )
    sz = sign_in(browser(app), "szsj_admin")

    # The worker claims it as execute() does, then compares with its progress written as it goes;
    # after each write, what the API and the page say.
    with transaction() as s:
        assert runs._claim(s, run_id, runs.WORKER)
        plan = runs._plan(s, s.get(QualityReconciliation, run_id))
    with transaction() as s:  # a second claim (another worker, or the same task twice) loses
        assert not runs._claim(s, run_id, "elsewhere:1:x")
    write = runs.progress_writer(run_id, runs.WORKER)
    seen: list[tuple[object, ...]] = []
    pages: dict[str, str] = {}

    def watch(stage: str, step: int, steps: int, detail: dict[str, object]) -> None:
        write(stage, step, steps, detail)
        body = client.get(f"{API}/reconciliations/{run_id}", headers=world.h("szsj_admin")).json()
        seen.append((body["state"], body["stage"], body["step"], body["steps"], body["progress"]))
        if stage in ("validating_keys", "comparing_item") and not pages.get(stage):
            pages[stage] = body["stage_label"][0]
        if stage == "comparing_item" and detail["k"] == 2:
            pages["api_en"] = body["stage_label"][1]
            pages["html"] = sz.get(f"/quality/reconciliations/{run_id}").text
            pages["html_en"] = sz.get(f"/quality/reconciliations/{run_id}?lang=en").text
            sz.get(f"/quality/reconciliations/{run_id}?lang=zh")

    report, error = runs._compare(plan, watch)
    assert error is None
    assert [x[1:4] for x in seen] == [
        ("loading", 1, 8),
        ("validating_keys", 2, 8),
        ("validating_keys", 3, 8),
        ("matching_keys", 4, 8),
        ("comparing_item", 5, 8),
        ("comparing_item", 6, 8),
        ("comparing_item", 7, 8),
        ("writing_report", 8, 8),
    ]
    assert {x[0] for x in seen} == {"running"}
    progress = [x[4] for x in seen]
    assert progress == sorted(progress) and progress[0] == 5 and progress[-1] < 100
    assert pages["validating_keys"] == "校验主键（第 2/8 步）"
    assert pages["comparing_item"] == "逐项比对：第 1/3 项 姓名（第 5/8 步）"
    html = pages["html"]
    # The page refreshes itself (a meta refresh: the CSP allows no inline script) and says where it is.
    assert '<meta http-equiv="refresh" content="3">' in html and "<script" not in html.split("<main", 1)[1]
    assert "逐项比对：第 2/3 项 出生日期（第 6/8 步）" in html and 'value="' in html.split("<progress", 1)[1][:40]
    assert pages["api_en"] == "comparing item by item: item 2 of 3, 出生日期 (step 6 of 8)"
    assert "Comparing item by item: item 2 of 3, 出生日期 (step 6 of 8)" in pages["html_en"]

    with transaction() as s:
        runs._finish(s, run_id, report, error, worker=runs.WORKER)
    done = client.get(f"{API}/reconciliations/{run_id}", headers=world.h("szsj_admin")).json()
    assert (done["state"], done["stage"], done["step"], done["steps"], done["progress"]) == ("done", "done", 8, 8, 100)
    page = sz.get(f"/quality/reconciliations/{run_id}").text
    assert 'http-equiv="refresh"' not in page and "比对报告" in page


def test_an_uploaded_run_is_claimed_and_beats_through_the_api(world, session, client):
    register(session)
    session.commit()
    resource = primary_dataset(session, client, world)
    run_id = start_upload(client, world, resource, secondary_csv()).json()["id"]
    body = client.get(f"{API}/reconciliations/{run_id}", headers=world.h("szsj_admin")).json()
    assert (body["state"], body["step"], body["steps"], body["progress"]) == ("done", 8, 8, 100)
    assert body["heartbeat_at"] is not None
    stored = session.get(QualityReconciliation, run_id)
    assert stored.worker == runs.WORKER
    session.rollback()


def test_the_heartbeat_thread_beats_while_the_block_runs(world, session, client, tmp_path):
    register(session)
    session.commit()
    resource = primary_dataset(session, client, world)
    run_id = _queued_run(session, resource, tmp_path)
    with transaction() as s:
        assert runs._claim(s, run_id, runs.WORKER)

    def beat() -> dt.datetime:
        with transaction() as s:
            return s.get(QualityReconciliation, run_id).heartbeat_at

    first = beat()
    with runs.heartbeat(run_id, runs.WORKER, every=0.05):
        deadline = time.monotonic() + 10
        while beat() == first and time.monotonic() < deadline:
            time.sleep(0.05)
        assert beat() > first
    after = beat()
    time.sleep(0.2)
    assert beat() == after  # the thread stopped with the block


def _set(run_id: int, **values: object) -> None:
    with transaction() as s:
        run = s.get(QualityReconciliation, run_id)
        for k, v in values.items():
            setattr(run, k, v)


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_runs_whose_worker_is_gone_are_failed_as_interrupted_once(world, session, client, app, tmp_path):
    register(session)
    session.commit()
    resource = primary_dataset(session, client, world)
    ids = [_queued_run(session, resource, tmp_path) for _ in range(6)]
    now = clock.now()
    host = runs.WORKER.split(":", 1)[0]
    old, fresh = now - dt.timedelta(minutes=10), now - dt.timedelta(seconds=5)
    running = {"state": "running", "started_at": old, "stage": "comparing_item", "step": 6, "steps": 8, "progress": 50}
    # 0: another host's worker, silent for 10 minutes: gone.
    _set(ids[0], **running, worker="other-host:42:aaaa", heartbeat_at=old)
    # 1: another host's worker that beat 5 s ago: alive, left alone.
    _set(ids[1], **running, worker="other-host:42:aaaa", heartbeat_at=fresh)
    # 2: a process of this host that has ended, though it beat 5 s ago: gone at once (a restart).
    _set(ids[2], **running, worker=f"{host}:{_dead_pid()}:bbbb", heartbeat_at=fresh)
    # 3: an earlier process under this process's pid (containers restart as pid 1): gone at once.
    _set(ids[3], **running, worker=f"{host}:{os.getpid()}:cccc", heartbeat_at=fresh)
    # 4: queued 10 minutes ago and never claimed: its background task died with the old process.
    _set(ids[4], created_at=old)
    # 5: queued just now: its task may still come.
    copies = [p for p in runs.get_quality_settings().resolved_dir.rglob("copy.*")]
    assert len(copies) == 6

    with transaction() as s:
        recovered = runs.recover_interrupted(s)  # without requeue: a queued run nobody started fails
    assert recovered == runs.Recovered(failed=[ids[0], ids[2], ids[3], ids[4]], requeued=[])
    states = {}
    with transaction() as s:
        for r in s.scalars(select(QualityReconciliation).where(QualityReconciliation.id.in_(ids))):
            states[r.id] = (r.state, r.stage, (r.error or {}).get("reason"))
    assert states == {
        ids[0]: ("failed", "interrupted", "heartbeat_stale"),
        ids[1]: ("running", "comparing_item", None),
        ids[2]: ("failed", "interrupted", "worker_gone"),
        ids[3]: ("failed", "interrupted", "worker_gone"),
        ids[4]: ("failed", "interrupted", "never_started"),
        ids[5]: ("queued", "queued", None),
    }
    events = recorded("quality.reconciliation.interrupted")
    assert [(int(e.subject_id), e.data["reason"]) for e in events] == [
        (ids[0], "heartbeat_stale"),
        (ids[2], "worker_gone"),
        (ids[3], "worker_gone"),
        (ids[4], "never_started"),
    ]
    assert events[0].data["stage"] == "comparing_item" and events[0].data["step"] == 6
    assert events[0].data["worker"] == "other-host:42:aaaa" and events[0].agency_code == "sz-sj"
    # The uploaded copies of the interrupted runs are gone; the live ones keep theirs.
    left = sorted(int(p.parent.name) for p in runs.get_quality_settings().resolved_dir.rglob("copy.*"))
    assert left == [ids[1], ids[5]]

    # Once: a second round (or another worker's) finds nothing more.
    with transaction() as s:
        assert runs.recover_interrupted(s) == runs.Recovered([], [])
    assert len(recorded("quality.reconciliation.interrupted")) == 4
    # The worker of run 0 was alive after all and finishes: its result does not overwrite the end.
    with transaction() as s:
        runs._finish(s, ids[0], None, {"code": "x"}, worker="other-host:42:aaaa")
    with transaction() as s:
        assert s.get(QualityReconciliation, ids[0]).error["code"] == "quality.reconciliation.interrupted"
    assert not recorded("quality.reconciliation.failed")
    # Its progress writes and heartbeats change nothing either.
    runs.progress_writer(ids[0], "other-host:42:aaaa")("writing_report", 8, 8, {})
    with transaction() as s:
        assert s.get(QualityReconciliation, ids[0]).stage == "interrupted"

    # Shown: the API's error and the page's reason, in Chinese and English, without refreshing.
    body = client.get(f"{API}/reconciliations/{ids[0]}", headers=world.h("szsj_admin")).json()
    assert body["state"] == "failed" and body["error"]["code"] == "quality.reconciliation.interrupted"
    assert body["stage_label"] == ["已中断", "interrupted"]
    sz = sign_in(browser(app), "szsj_admin")
    page = sz.get(f"/quality/reconciliations/{ids[0]}").text
    assert "比对中断：执行比对的服务进程已停止（如服务重启）" in page and "逐项比对（第 6/8 步）" in page
    assert "请重新发起比对" in page and 'http-equiv="refresh"' not in page
    english = sz.get(f"/quality/reconciliations/{ids[0]}?lang=en").text
    assert "The comparison was interrupted" in english and "start the reconciliation again" in english
    assert "比对未能开始" in sz.get(f"/quality/reconciliations/{ids[4]}?lang=zh").text
    assert "已中断" in sz.get("/quality/reconciliations").text


def test_the_recovery_round_runs_with_the_app(monkeypatch):
    from govshare.app import background_jobs
    from govshare.quality.config import reset_quality_settings

    monkeypatch.setenv("GOVSHARE_QUALITY_BACKGROUND", "true")
    monkeypatch.setenv("GOVSHARE_RECONCILE_RECOVERY_INTERVAL_SECONDS", "7")
    reset_quality_settings()
    try:
        jobs = {j.name: j for j in background_jobs()}
    finally:
        monkeypatch.undo()
        reset_quality_settings()
    assert jobs["quality-recovery"].run is runs.recovery_round and jobs["quality-recovery"].interval == 7
    assert runs.recovery_round() == runs.Recovered([], [])  # an empty platform: nothing to do, no error


def test_a_queued_run_nobody_started_is_started_again_once(world, session, client, tmp_path):
    register(session)
    session.commit()
    resource = primary_dataset(session, client, world)
    old = clock.now() - dt.timedelta(minutes=10)
    lost, again = _queued_run(session, resource, tmp_path), _queued_run(session, resource, tmp_path)
    _set(lost, created_at=old)
    # Put back once already, and still not started 10 minutes later: not a second time.
    _set(again, created_at=old, stage="requeued", heartbeat_at=old)
    recovered = runs.recovery_round()
    assert recovered == runs.Recovered(failed=[again], requeued=[lost])
    done = client.get(f"{API}/reconciliations/{lost}", headers=world.h("szsj_admin")).json()
    assert done["state"] == "done" and done["task_id"] is not None and done["progress"] == 100
    assert [int(e.subject_id) for e in recorded("quality.reconciliation.requeued")] == [lost]
    assert [int(e.subject_id) for e in recorded("quality.reconciliation.completed")] == [lost]
    failed = client.get(f"{API}/reconciliations/{again}", headers=world.h("szsj_admin")).json()
    assert failed["error"]["code"] == "quality.reconciliation.never_started"
    # Nothing left to do: the next round (or another process's) changes nothing.
    assert runs.recovery_round() == runs.Recovered([], [])
    assert len(recorded("quality.reconciliation.requeued")) == 1


__all__ = ["planted"]  # the module fixture, shared with test_reconcile


def test_a_run_whose_source_is_gone_fails_saying_so_instead_of_staying_queued(world, session, client, tmp_path):
    register(session)
    session.commit()
    resource = primary_dataset(session, client, world)
    run_id = _queued_run(session, resource, tmp_path)
    _set(run_id, primary_version=99)  # the pinned version is no longer there to compare with
    runs.execute(run_id)
    body = client.get(f"{API}/reconciliations/{run_id}", headers=world.h("szsj_admin")).json()
    assert body["state"] == "failed" and body["error"]["code"] == "exchange.dataset.not_found"
    assert [e.data["code"] for e in recorded("quality.reconciliation.failed")] == ["exchange.dataset.not_found"]
    assert not list(runs.get_quality_settings().resolved_dir.rglob("copy.*"))
