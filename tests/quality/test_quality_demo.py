"""The demo's data quality: elements assigned, catalog items linked and flagged, one reconciliation
with discrepancies and public security's verification task (Art 11-12)."""

from __future__ import annotations

from sqlalchemy import select

from govshare import demo
from govshare.quality.models import (
    QualityDuplicateFlag,
    QualityItemLink,
    QualityObjection,
    QualityReconciliation,
    QualitySourceAssignment,
    QualityUpdateChange,
    QualityVerificationTask,
)


def test_demo_assigns_links_flags_and_reconciles(session):
    demo.load(session)
    assigned = {
        (a.element.name, a.agency.code)
        for a in session.scalars(select(QualitySourceAssignment).where(QualitySourceAssignment.ended_at.is_(None)))
        if session.refresh(a, ["element", "agency"]) is None
    }
    assert {
        ("公民身份号码", "js-gat"),
        ("户籍地址", "js-gat"),
        ("统一社会信用代码", "js-scjgj"),
        ("不动产单元号", "js-zrzyt"),
    } <= assigned
    assert session.scalar(select(QualityItemLink.id).limit(1)) is not None
    flags = session.scalars(select(QualityDuplicateFlag)).all()
    # e.g. health's death certificates collect identity numbers; civil affairs' social organisations credit codes.
    assert flags and all(f.agency_id != f.assigned_agency_id for f in flags)
    run = session.scalar(select(QualityReconciliation))
    assert run.state == "done", run.error
    report = run.report
    assert report["secondary"]["invalid_keys"] == 4
    assert report["missing_in_primary"] == 3 and report["missing_in_secondary"] > 0
    names = next(i for i in report["items"] if i["label"] == "姓名")
    born = next(i for i in report["items"] if i["label"] == "出生日期")
    assert names["mismatched"] == 40 and born["mismatched"] == 0  # whitespace and date formats normalised
    task = session.scalar(select(QualityVerificationTask))
    assert task.state == "open" and task.discrepancies > 0 and task.reconciliation_id == run.id
    assert session.scalar(select(QualityObjection)).state == "open"
    updates = session.scalars(select(QualityUpdateChange).order_by(QualityUpdateChange.id)).all()
    assert [u.state for u in updates] == ["overdue", "open"]
