"""Reconciliation as a use case, end to end over the API (Art 11(2)): upload a copy, the report,
the downloads, the primary agency's verification task and its answers."""

from __future__ import annotations

import io

import duckdb
from openpyxl import load_workbook

from tests.quality.quality_helpers import API, primary_dataset, register, secondary_csv, start_upload
from tests.recorded import recorded


def test_upload_reconciliation_reports_and_opens_a_task(world, session, client, tmp_path):
    register(session)
    session.commit()
    resource = primary_dataset(session, client, world)
    r = start_upload(client, world, resource, secondary_csv("gbk"))
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    report = client.get(f"{API}/reconciliations/{run_id}", headers=world.h("szsj_admin")).json()
    assert report["state"] == "done", report
    rep = report["report"]
    assert rep["key_kind"] == "id_number"
    assert rep["secondary"]["rows"] == 29 and rep["primary"]["rows"] == 30
    assert rep["secondary"]["invalid_keys"] == 1
    assert rep["missing_in_secondary"] == 3  # 2 dropped + the one whose ID number was broken
    assert rep["missing_in_primary"] == 1
    names = next(i for i in rep["items"] if i["label"] == "姓名")
    born = next(i for i in rep["items"] if i["label"] == "出生日期")
    assert names["mismatched"] == 3 and born["mismatched"] == 0
    # The primary agency answers for missing-in-primary and mismatches: 1 + 3.
    task_id = report["task_id"]
    task = client.get(f"{API}/tasks/{task_id}", headers=world.h("gat_staff")).json()
    assert task["discrepancies"] == 4 and task["state"] == "open" and task["workdays"] == 15
    assert task["primary_agency"] == "js-gat" and task["secondary_agency"] == "sz-sj"
    assert [e.data["discrepancies"] for e in recorded("quality.verification.opened")] == [4]
    assert len(recorded("quality.reconciliation.completed")) == 1

    # Downloads: Excel and Parquet hold the same discrepancy rows.
    x = client.get(f"{API}/reconciliations/{run_id}/discrepancies.xlsx", headers=world.h("gat_staff"))
    assert x.status_code == 200
    wb = load_workbook(io.BytesIO(x.content), read_only=True)
    detail = list(wb.worksheets[1].iter_rows(values_only=True))
    p = client.get(f"{API}/reconciliations/{run_id}/discrepancies.parquet", headers=world.h("province_authority"))
    (tmp_path / "d.parquet").write_bytes(p.content)
    count = duckdb.sql(f"SELECT count(*) FROM '{tmp_path / 'd.parquet'}'").fetchall()[0][0]
    assert count == len(detail) - 1 == rep["discrepancy_rows"]

    # The secondary holder may not answer; the primary agency answers one, then the rest.
    rows = client.get(f"{API}/tasks/{task_id}/discrepancies", headers=world.h("gat_staff")).json()
    assert len(rows) == 4 and {r["kind"] for r in rows} == {"missing_in_primary", "mismatch"}
    first = rows[0]["position"]
    denied = client.post(
        f"{API}/tasks/{task_id}/answers",
        headers=world.h("szsj_admin"),
        json={"answers": [{"position": first, "outcome": "source_corrected"}]},
    )
    assert denied.status_code == 403
    no_note = client.post(
        f"{API}/tasks/{task_id}/answers",
        headers=world.h("gat_staff"),
        json={"answers": [{"position": first, "outcome": "source_right"}]},
    )
    assert no_note.status_code == 422 and no_note.json()["code"] == "quality.verification.note_required"
    ok = client.post(
        f"{API}/tasks/{task_id}/answers",
        headers=world.h("gat_staff"),
        json={"answers": [{"position": first, "outcome": "source_right", "note": "以户籍登记为准"}]},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["answered"] == 1 and ok.json()["state"] == "open"
    again = client.post(
        f"{API}/tasks/{task_id}/answers",
        headers=world.h("gat_staff"),
        json={"answers": [{"position": first, "outcome": "source_corrected"}]},
    )
    assert again.status_code == 422 and again.json()["code"] == "quality.verification.already_answered"
    bulk = client.post(
        f"{API}/tasks/{task_id}/answer-all",
        headers=world.h("gat_staff"),
        json={"outcome": "cannot_verify", "note": "原始档案缺失"},
    )
    assert bulk.status_code == 200 and bulk.json()["state"] == "answered"
    assert len(recorded("quality.verification.answered")) == 1
    assert len(recorded("quality.verification.answered_all")) == 1
