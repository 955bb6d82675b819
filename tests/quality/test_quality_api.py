"""Reconciliation and verification over the API: bad input answered naming row and column with
nothing half-stored, scopes, overdue tasks seen by both agencies and the authority, checks."""

from __future__ import annotations

import datetime as dt

from govshare.core import clock
from govshare.quality.config import get_quality_settings
from tests.exchange.exchange_helpers import csv_bytes
from tests.quality.quality_helpers import API, primary_dataset, register, secondary_csv, secondary_rows, start_upload
from tests.recorded import recorded


def _run(client, world, run_id, who="szsj_admin"):  # type: ignore[no-untyped-def]
    return client.get(f"{API}/reconciliations/{run_id}", headers=world.h(who)).json()


def test_bad_copies_fail_the_run_naming_the_column_or_line(world, session, client):
    register(session)
    session.commit()
    resource = primary_dataset(session, client, world)
    # The key column is missing from the copy.
    no_key = csv_bytes(secondary_rows(), ["身份证", "姓名", "出生日期", "性别"])
    run = _run(client, world, start_upload(client, world, resource, no_key).json()["id"])
    assert run["state"] == "failed" and run["error"]["code"] == "quality.input.column_missing"
    assert run["error"]["field"] == "公民身份号码" and run["task_id"] is None
    # A broken CSV line.
    broken = secondary_csv() + '"unclosed,王,2000-01-01,男\r\n'.encode()
    run = _run(client, world, start_upload(client, world, resource, broken).json()["id"])
    assert run["state"] == "failed" and run["error"]["code"] == "quality.input.csv_malformed"
    assert run["error"]["row"] == 31
    assert [e.data["code"] for e in recorded("quality.reconciliation.failed")] == [
        "quality.input.column_missing",
        "quality.input.csv_malformed",
    ]
    # Refused before anything is stored: unknown items, a format that is not a table, the agency's own source.
    before = len(recorded("quality.reconciliation.started"))
    r = start_upload(client, world, resource, secondary_csv(), items="姓名,不存在")
    assert r.status_code == 422 and r.json()["code"] == "quality.reconcile.item_unknown"
    assert r.json()["field"] == "items"
    r = start_upload(client, world, resource, b"%PDF-1.4", filename="copy.pdf")
    assert r.status_code == 422 and r.json()["code"] == "quality.input.format_unsupported"
    r = start_upload(client, world, resource, secondary_csv(), who="gat_staff")
    assert r.status_code == 422 and r.json()["code"] == "quality.reconcile.same_agency"
    r = start_upload(client, world, resource, secondary_csv(), who="province_authority")
    assert r.status_code == 403
    assert len(recorded("quality.reconciliation.started")) == before
    # Uploaded copies are not kept once a run ends.
    root = get_quality_settings().resolved_dir
    assert not list(root.rglob("copy.*"))


def test_reports_are_read_by_both_agencies_and_overseers_only(world, session, client):
    register(session)
    session.commit()
    resource = primary_dataset(session, client, world)
    run_id = start_upload(client, world, resource, secondary_csv()).json()["id"]
    for who, status in (
        ("szsj_admin", 200),
        ("gat_staff", 200),
        ("province_authority", 200),
        ("supervisor", 200),
        ("nanjing_authority", 404),
        ("suzhou_authority", 404),
    ):
        assert client.get(f"{API}/reconciliations/{run_id}", headers=world.h(who)).status_code == status, who
    assert (
        client.get(
            f"{API}/reconciliations/{run_id}/discrepancies.xlsx", headers=world.h("nanjing_authority")
        ).status_code
        == 404
    )
    assert client.get(f"{API}/reconciliations", headers=world.h("nanjing_authority")).json()["total"] == 0


def test_overdue_tasks_are_listed_for_both_agencies_and_the_authority(world, session, client):
    register(session)
    session.commit()
    resource = primary_dataset(session, client, world)
    clock.set_now(dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC))  # a Tuesday
    run = _run(client, world, start_upload(client, world, resource, secondary_csv()).json()["id"])
    task = client.get(f"{API}/tasks/{run['task_id']}", headers=world.h("gat_staff")).json()
    assert task["received_on"] == "2026-12-01" and task["due_on"] == "2026-12-22"  # 15 working days
    assert not task["overdue"]
    clock.set_now(dt.datetime(2026, 12, 23, 2, 0, tzinfo=dt.UTC))
    for who in ("gat_staff", "szsj_admin", "province_authority", "supervisor"):
        listed = client.get(f"{API}/tasks?overdue=true", headers=world.h(who)).json()
        assert listed["total"] == 1 and listed["items"][0]["overdue"], who
    assert client.get(f"{API}/tasks?overdue=true", headers=world.h("nanjing_authority")).json()["total"] == 0
    # Answered late: closed, and the event says it was late.
    r = client.post(
        f"{API}/tasks/{task['id']}/answer-all", headers=world.h("gat_admin"), json={"outcome": "source_corrected"}
    )
    assert r.status_code == 200 and r.json()["state"] == "answered" and not r.json()["overdue"]
    assert recorded("quality.verification.answered_all")[0].data["late"] is True
    r = client.post(
        f"{API}/tasks/{task['id']}/answer-all", headers=world.h("gat_admin"), json={"outcome": "source_corrected"}
    )
    assert r.status_code == 409 and r.json()["code"] == "quality.verification.closed"


def test_reconcile_a_hosted_copy_and_check_versions(world, session, client):
    from govshare.core.auth import OPERATOR
    from govshare.quality import service
    from tests.exchange.exchange_helpers import publish_entry, upload

    register(session)
    session.commit()
    primary = primary_dataset(session, client, world)
    # sz-sj hosts its own copy (the same items) and names it instead of uploading.
    own = publish_entry(session, provider="sz-sj", name="苏州低保家庭信息")
    session.commit()
    r = client.post(
        f"/api/v1/exchange/resources/{own.id}/interface",
        headers=world.h("szsj_admin"),
        json={"kind": "hosted_dataset", "key_items": ["公民身份号码"]},
    )
    assert r.status_code == 201, r.text
    from tests.exchange.exchange_helpers import residents

    rows = secondary_rows()
    rows[4]["出生日期"] = residents()[4]["出生日期"]  # a hosted dataset takes ISO dates only
    valid = [r for i, r in enumerate(rows) if i != 5]  # ... and valid ID numbers only
    r = upload(client, world, own.id, "copy.csv", csv_bytes(valid), who="szsj_admin")
    assert r.status_code == 201, r.text
    body = {"primary": str(primary.id), "hosted": str(own.id), "key": "公民身份号码", "items": ["姓名", "性别"]}
    r = client.post(f"{API}/reconciliations/hosted", json=body, headers=world.h("szsj_admin"))
    assert r.status_code == 202, r.text
    run = _run(client, world, r.json()["id"])
    assert run["state"] == "done" and run["source_kind"] == "hosted"
    assert run["report"]["missing_in_primary"] == 1 and run["report"]["secondary"]["invalid_keys"] == 0
    names = next(i for i in run["report"]["items"] if i["label"] == "姓名")
    assert names["mismatched"] == 3  # whitespace around a name is normalised away
    r = client.post(
        f"{API}/reconciliations/hosted", json={**body, "hosted": str(primary.id)}, headers=world.h("szsj_admin")
    )
    assert r.status_code == 422 and r.json()["code"] == "quality.reconcile.not_own_dataset"

    # Quality checks: run for both accepted versions; the provider runs one on demand.
    assert service.checks.check_pending(session) == 2
    session.commit()
    checks = client.get(f"{API}/resources/{primary.id}/checks", headers=world.h("gat_staff")).json()
    assert len(checks) == 1 and checks[0]["trigger"] == "accepted" and 0 < checks[0]["score"] <= 100
    r = client.post(f"{API}/resources/{primary.id}/checks", headers=world.h("szsj_admin"))
    assert r.status_code == 403
    r = client.post(f"{API}/resources/{primary.id}/checks", headers=world.h("gat_staff"))
    assert r.status_code == 201 and r.json()["trigger"] == "on_demand"
    assert len(recorded("quality.check.recorded")) == 3
    assert OPERATOR.is_system
