"""The discrepancy duty (Art 11(2) "应当进行核实并予以说明").

Each reconciliation with discrepancies the primary agency answers for becomes a verification task
for it, due ``verify_workdays`` working days (default 15) after the day it was received, on the
official calendar (``core.workdays``). The agency answers each discrepancy (its row in the
reconciliation's discrepancy file) or every remaining one at once: source corrected, source right
(with the explanation), cannot verify (with the reason). Tasks, answers and overdue tasks are read
by both agencies and by the authority and supervisors of the source's region.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from govshare.core import clock, events, workdays
from govshare.core.auth import Principal
from govshare.core.errors import InvalidInput, NotFound
from govshare.core.paging import Page, paginate
from govshare.quality import permissions as perm
from govshare.quality import rules
from govshare.quality.config import get_quality_settings
from govshare.quality.models import QualityReconciliation, QualityVerificationAnswer, QualityVerificationTask
from govshare.quality.reconcile import DISCREPANCY_KINDS
from govshare.quality.service.reconciliations import PRIMARY_KINDS, _actor, absolute
from govshare.quality.sources import lit
from govshare.registry import service as registry_service
from govshare.registry.models import Agency

SUBJECT = "quality_verification_task"


def open_task(session: Session, run: QualityReconciliation, discrepancies: int) -> QualityVerificationTask:
    """Open the primary agency's task for ``run`` (called when the run completes)."""
    received = clock.today()
    days = get_quality_settings().verify_workdays
    due = workdays.deadline(session, received, days)
    task = QualityVerificationTask(
        reconciliation_id=run.id,
        primary_agency_id=run.primary_agency_id,
        secondary_agency_id=run.secondary_agency_id,
        region_code=run.region_code,
        discrepancies=discrepancies,
        answered=0,
        received_on=received,
        due_on=due.deadline,
        workdays=days,
        provisional=due.provisional,
        state="open",
    )
    session.add(task)
    session.flush()
    primary = session.get(Agency, run.primary_agency_id)
    events.record(
        session,
        actor=_actor(run),
        action="quality.verification.opened",
        subject_type=SUBJECT,
        subject_id=task.id,
        region_code=run.region_code,
        agency_code=primary.code if primary else None,
        data={
            "reconciliation": run.id,
            "discrepancies": discrepancies,
            "due_on": due.deadline,
            "workdays": days,
            "provisional": due.provisional,
            "article": "Art 11(2)",
        },
    )
    return task


def _options() -> tuple[Any, ...]:
    return (
        joinedload(QualityVerificationTask.primary_agency),
        joinedload(QualityVerificationTask.secondary_agency),
        joinedload(QualityVerificationTask.reconciliation),
    )


def get_task(session: Session, task_id: int, *, viewer: Principal) -> QualityVerificationTask:
    task = session.scalar(
        select(QualityVerificationTask).where(QualityVerificationTask.id == task_id).options(*_options())
    )
    if task is not None:
        path = registry_service.region_path_of(session, task.region_code)
        if not perm.can_read(viewer, (task.primary_agency_id, task.secondary_agency_id), path):
            task = None
    if task is None:
        raise NotFound(
            "quality.verification.not_found",
            f"核实任务 {task_id} 不存在",
            f"Verification task {task_id} not found",
            field="task",
        )
    return task


def task_for_run(session: Session, run_id: int) -> QualityVerificationTask | None:
    return session.scalar(select(QualityVerificationTask).where(QualityVerificationTask.reconciliation_id == run_id))


def list_tasks(
    session: Session,
    *,
    viewer: Principal,
    overdue: bool = False,
    state: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page[QualityVerificationTask]:
    stmt = (
        select(QualityVerificationTask)
        .where(
            perm.readable_condition(
                viewer,
                (QualityVerificationTask.primary_agency_id, QualityVerificationTask.secondary_agency_id),
                QualityVerificationTask.region_code,
            )
        )
        .options(*_options())
        .order_by(QualityVerificationTask.due_on, QualityVerificationTask.id)
    )
    if state:
        rules.check_vocab(state, rules.TASK_STATES, field="state")
        stmt = stmt.where(QualityVerificationTask.state == state)
    if overdue:
        stmt = stmt.where(QualityVerificationTask.state == "open", QualityVerificationTask.due_on < clock.today())
    return paginate(session, stmt, offset=offset, limit=limit)


def is_overdue(task: QualityVerificationTask) -> bool:
    return rules.is_overdue(task.state, task.due_on, clock.today())


# --- Discrepancies of a task -----------------------------------------------------------------------


def discrepancies(task: QualityVerificationTask, *, offset: int = 0, limit: int = 50) -> list[dict[str, Any]]:
    """The task's discrepancies, in file order: position, kind, key, item, both values."""
    run = task.reconciliation
    if run.parquet_path is None:
        return []
    path = absolute(run.parquet_path)
    kinds = ", ".join(lit(k) for k in PRIMARY_KINDS)
    con = duckdb.connect(":memory:")
    try:
        rows = con.execute(
            "SELECT file_row_number + 1, kind, key, item, secondary_value, primary_value, reason "
            f"FROM read_parquet({lit(str(path))}, file_row_number=true) WHERE kind IN ({kinds}) "
            "ORDER BY file_row_number LIMIT ? OFFSET ?",
            [int(limit), int(offset)],
        ).fetchall()
    finally:
        con.close()
    return [
        {
            "position": int(r[0]),
            "kind": r[1],
            "kind_label": DISCREPANCY_KINDS[r[1]],
            "key": r[2],
            "item": r[3],
            "secondary_value": r[4],
            "primary_value": r[5],
            "reason": r[6],
        }
        for r in rows
    ]


def _discrepancy_at(task: QualityVerificationTask, position: int) -> dict[str, Any]:
    run = task.reconciliation
    con = duckdb.connect(":memory:")
    try:
        row = con.execute(
            f"SELECT kind, key, item FROM read_parquet({lit(str(absolute(run.parquet_path or '')))}, "
            "file_row_number=true) WHERE file_row_number = ?",
            [int(position) - 1],
        ).fetchone()
    finally:
        con.close()
    if row is None or row[0] not in PRIMARY_KINDS:
        raise InvalidInput(
            "quality.verification.position_unknown",
            f"第 {position} 条差异不属于本任务",
            f"discrepancy {position} is not part of this task",
            field="position",
        )
    return {"kind": row[0], "key": row[1], "item": row[2]}


def answers(session: Session, task: QualityVerificationTask) -> dict[int, QualityVerificationAnswer]:
    return {
        a.position: a
        for a in session.scalars(select(QualityVerificationAnswer).where(QualityVerificationAnswer.task_id == task.id))
    }


def _load_for_answer(session: Session, task_id: int, by: Principal) -> QualityVerificationTask:
    task = get_task(session, task_id, viewer=by)
    perm.check_member(by, task.primary_agency_id, article="Art 11(2)")
    rules.check_task_open(task.state)
    return task


def _close_if_done(session: Session, task: QualityVerificationTask) -> None:
    task.answered = (
        session.scalar(
            select(func.count())
            .select_from(QualityVerificationAnswer)
            .where(QualityVerificationAnswer.task_id == task.id)
        )
        or 0
    )
    if task.bulk_outcome is not None or task.answered >= task.discrepancies:
        task.state = "answered"
        task.answered_at = clock.now()
        task.answered_on = clock.today()


def answer(
    session: Session, task_id: int, entries: Sequence[tuple[int, str, str | None]], *, by: Principal
) -> QualityVerificationTask:
    """Answer discrepancies one by one: (position, outcome, note) each. All or nothing."""
    task = _load_for_answer(session, task_id, by)
    if not entries:
        raise InvalidInput(
            "quality.verification.answers_required",
            "请至少答复一条差异",
            "Answer at least one discrepancy",
            field="answers",
        )
    done = answers(session, task)
    now, actor = clock.now(), by.actor
    counts: dict[str, int] = {}
    for position, outcome, note in entries:
        note = rules.check_outcome(outcome, note)
        if position in done:
            raise InvalidInput(
                "quality.verification.already_answered",
                f"第 {position} 条差异已答复",
                f"discrepancy {position} is already answered",
                field="position",
                article="Art 11(2)",
            )
        found = _discrepancy_at(task, position)
        row = QualityVerificationAnswer(
            task_id=task.id,
            position=position,
            kind=found["kind"],
            key=(found["key"] or "")[:200] or None,
            item=found["item"],
            outcome=outcome,
            note=note,
            answered_at=now,
            answered_by=actor.ref,
            answered_by_name=actor.name[:200],
        )
        session.add(row)
        done[position] = row
        counts[outcome] = counts.get(outcome, 0) + 1
    session.flush()
    _close_if_done(session, task)
    session.flush()
    events.record(
        session,
        actor=actor,
        action="quality.verification.answered",
        subject_type=SUBJECT,
        subject_id=task.id,
        region_code=task.region_code,
        agency_code=task.primary_agency.code,
        data={
            "answers": len(entries),
            "outcomes": counts,
            "state": task.state,
            "late": clock.today() > task.due_on,
            "article": "Art 11(2)",
        },
    )
    return task


def answer_all(
    session: Session, task_id: int, outcome: str, note: str | None, *, by: Principal
) -> QualityVerificationTask:
    """Answer every discrepancy not yet answered with one outcome (and its note)."""
    task = _load_for_answer(session, task_id, by)
    note = rules.check_outcome(outcome, note)
    task.bulk_outcome, task.bulk_note = outcome, note
    _close_if_done(session, task)
    session.flush()
    events.record(
        session,
        actor=by.actor,
        action="quality.verification.answered_all",
        subject_type=SUBJECT,
        subject_id=task.id,
        region_code=task.region_code,
        agency_code=task.primary_agency.code,
        data={
            "outcome": outcome,
            "remaining": task.discrepancies - task.answered,
            "late": clock.today() > task.due_on,
            "article": "Art 11(2)",
        },
    )
    return task
