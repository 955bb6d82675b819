"""Reconciliation as a use case (Art 11(2)): a secondary holder compares its copy with the
authoritative source's hosted dataset.

A run goes in two transactions around the slow part, so the comparison holds no database lock:

1. :func:`start` (short write): who compares what with which source; the key, the items and the
   normalisation rules are checked against the source's items; an uploaded copy is kept under the
   run's directory; the run is ``queued`` and ``quality.reconciliation.started`` recorded;
2. :func:`execute` (no transaction while comparing): ``quality.reconcile.reconcile`` in DuckDB on
   the stored Parquet of the source's served version, then a short write storing the report, the
   discrepancy files, ``quality.reconciliation.completed`` (or ``failed`` with the problem, e.g. a
   column missing or a broken CSV, naming row and column), and, when there are discrepancies the
   primary agency answers for, its verification task (Art 11(2)). Progress (``stage``,
   ``progress``) is written between the steps so a page can show it.

The uploaded copy is deleted when the run ends: the platform keeps the report and the
discrepancies, not the secondary holder's data.

A run is claimed by one process (``worker``: host, pid and a nonce of this process) with a
conditional UPDATE from ``queued``, as sharing's timed work claims its tick; while it compares, a
heartbeat (``heartbeat_at``) is written every ``reconcile_heartbeat_seconds`` and at each stage
(``stage``, ``step`` of ``steps``, ``progress`` in per cent). A restart kills the comparison but
not its row: :func:`recover_interrupted` (the app's background round, first at start-up) fails the
runs whose worker is gone (a dead process of this host, or a heartbeat older than
``reconcile_stale_seconds``), with the reason on the page and the event
``quality.reconciliation.interrupted``, and starts again, once, a queued run nobody started (its
background task died with its process; ``quality.reconciliation.requeued``); each run only once,
however many processes look.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import logging
import os
import re
import shutil
import socket
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, joinedload

from govshare.catalog import service as catalog_service
from govshare.catalog.models import CatalogResource
from govshare.core import clock, events
from govshare.core.auth import SYSTEM_PRINCIPAL, Principal
from govshare.core.db import transaction
from govshare.core.errors import DomainError, InvalidInput, NotFound
from govshare.core.paging import Page, paginate
from govshare.exchange import query
from govshare.quality import permissions as perm
from govshare.quality import reconcile, rules, sources
from govshare.quality.config import get_quality_settings
from govshare.quality.models import QualityItemLink, QualityReconciliation
from govshare.quality.normalize import DEFAULT_RULES, check_rules
from govshare.registry import service as registry_service
from govshare.registry.models import Agency, Region

log = logging.getLogger("govshare.quality.reconcile")

SUBJECT = "quality_reconciliation"
#: This process, as it signs the runs it claims: host, pid, and a nonce (a restarted server often
#: gets the same pid again, in a container always pid 1).
WORKER = f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
#: Discrepancy kinds the primary agency verifies and explains (Art 11(2)); the secondary copy's own
#: invalid or repeated keys are the secondary holder's business.
PRIMARY_KINDS = ("invalid_key_primary", "duplicate_key_primary", "missing_in_primary", "mismatch")
KEY_KIND_OF_FIELD = {"id_number": "id_number", "uscc": "uscc", "region_code": "region"}


#: What a run is doing, for its page and the API (the comparison's own stages in between).
STAGES: dict[str, tuple[str, str]] = {
    "queued": ("排队等待", "queued"),
    "requeued": ("服务重启后重新排队", "queued again after a restart"),
    **reconcile.STAGES,
    "done": ("已完成", "done"),
    "failed": ("未完成", "failed"),
    "interrupted": ("已中断", "interrupted"),
}


def stage_label(run: QualityReconciliation) -> tuple[str, str]:
    """What the run is doing, in words: "逐项比对：第 2/5 项 姓名（第 6/9 步）"."""
    zh, en = STAGES.get(run.stage or "", (run.stage or "", run.stage or ""))
    if run.state != "running" or not run.step or not run.steps:
        return zh, en
    if run.stage == "comparing_item":
        k, n = run.step - 4, len(run.items)
        name = run.items[k - 1]["primary"] if 0 < k <= n else ""
        zh, en = f"{zh}：第 {k}/{n} 项 {name}", f"{en}: item {k} of {n}, {name}"
    return f"{zh}（第 {run.step}/{run.steps} 步）", f"{en} (step {run.step} of {run.steps})"


def percent(step: int, steps: int) -> int:
    """Per cent done when ``step`` of ``steps`` begins: 5 at the first, below 100 until the end."""
    return min(95, 5 + 90 * (max(step, 1) - 1) // max(steps, 1))


def human_bytes(n: int) -> str:
    """1536 -> "1.5 KB" (powers of 1024, as file managers show sizes)."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError  # pragma: no cover


def split_names(text: str | None) -> list[str]:
    """Item names as typed: separated by commas (half or full width), 、 or new lines."""
    return [p.strip() for p in re.split(r"[,，、\n]", text or "") if p.strip()]


def run_dir(run_id: int) -> Path:
    path = get_quality_settings().resolved_dir / "reconciliations" / str(run_id)
    path.mkdir(parents=True, exist_ok=True)
    return path


def absolute(relative: str) -> Path:
    return get_quality_settings().resolved_dir / relative


def _agency_for(session: Session, agency_ref: str | int | None, by: Principal) -> Agency:
    if agency_ref is None:
        own = sorted(by.agency_ids(*perm.AGENCY_ROLES))
        if len(own) != 1:
            raise InvalidInput(
                "quality.reconcile.agency_required",
                "请指明以哪个单位的名义比对",
                "Say for which agency you compare",
                field="agency",
            )
        agency = session.get(Agency, own[0])
        assert agency is not None
    else:
        agency = registry_service.get_agency(session, agency_ref)
    perm.check_member(by, agency.id, article="Art 11(2)")
    return agency


def _item_kind(spec: Any) -> str:
    if spec.field_code == "id_number":
        return "id_number"
    if spec.data_type in ("date", "datetime"):
        return "date"
    return "text"


def start(
    session: Session,
    *,
    primary: str | int,
    key: str,
    items: Sequence[str],
    by: Principal,
    key_secondary: str | None = None,
    item_map: dict[str, str] | None = None,
    rule_codes: Sequence[str] | None = None,
    upload: Path | None = None,
    filename: str | None = None,
    hosted: str | int | None = None,
    agency: str | int | None = None,
) -> QualityReconciliation:
    """Queue a reconciliation of the secondary holder's copy (``upload``, a file already received, or
    ``hosted``, one of its own hosted datasets) against ``primary``'s served hosted dataset.

    ``key`` and ``items`` are the primary source's item names; the copy's columns are the same names
    unless ``key_secondary`` / ``item_map`` (primary name -> copy column) say otherwise."""
    secondary = _agency_for(session, agency, by)
    resource = catalog_service.get_resource(session, primary)
    source = query.load_source(session, resource.id)
    rules.check_not_self(secondary.id, resource.provider_id)
    if key not in source.items:
        raise InvalidInput(
            "quality.reconcile.key_unknown",
            f"主采集方数据集没有信息项 {key}",
            f"the source has no item named {key}",
            field="key",
            article="Art 11(2)",
            extra={"available": source.item_names},
        )
    items = list(dict.fromkeys(i for i in items if i != key))
    if not items:
        raise InvalidInput(
            "quality.reconcile.items_required",
            "请选择要比对的数据项",
            "Choose the items to compare",
            field="items",
            article="Art 11(2)",
        )
    if len(items) > rules.MAX_ITEMS:
        raise InvalidInput(
            "quality.reconcile.too_many_items",
            f"一次最多比对 {rules.MAX_ITEMS} 个数据项",
            f"at most {rules.MAX_ITEMS} items per reconciliation",
            field="items",
        )
    unknown = [i for i in items if i not in source.items]
    if unknown:
        raise InvalidInput(
            "quality.reconcile.item_unknown",
            f"主采集方数据集没有信息项：{'、'.join(unknown)}",
            f"the source has no item named {', '.join(unknown)}",
            field="items",
            article="Art 11(2)",
            extra={"unknown": unknown, "available": source.item_names},
        )
    chosen_rules = list(check_rules(DEFAULT_RULES if rule_codes is None else rule_codes))
    key_spec = source.items[key]
    key_kind = KEY_KIND_OF_FIELD.get(key_spec.field_code or "")
    if key_kind is None:
        link = session.scalar(
            select(QualityItemLink)
            .where(QualityItemLink.resource_id == resource.id, QualityItemLink.item_name == key)
            .options(joinedload(QualityItemLink.element))
        )
        key_kind = rules.KEY_KIND_OF_FORMAT.get(link.element.format_rule, "plain") if link else "plain"
    mapping = item_map or {}
    spec_items = [
        {"primary": i, "secondary": (mapping.get(i) or i).strip(), "kind": _item_kind(source.items[i])} for i in items
    ]

    if (upload is None) == (hosted is None):
        raise InvalidInput(
            "quality.reconcile.source_required",
            "请上传本单位的数据副本，或选择本单位的托管数据集（二选一）",
            "Upload your copy or name one of your hosted datasets (one of the two)",
            field="file",
        )
    run = QualityReconciliation(
        secondary_agency_id=secondary.id,
        primary_agency_id=resource.provider_id,
        region_code=resource.region_code,
        primary_resource_id=resource.id,
        primary_version=source.version,
        source_kind="upload" if upload is not None else "hosted",
        key_secondary=(key_secondary or key).strip(),
        key_primary=key,
        key_kind=key_kind,
        items=spec_items,
        rules=chosen_rules,
        state="queued",
        progress=0,
        stage="queued",
        created_at=clock.now(),
        created_by=by.actor.ref,
        created_by_name=by.actor.name[:200],
    )
    if hosted is not None:
        own = catalog_service.get_resource(session, hosted)
        if own.provider_id != secondary.id:
            raise InvalidInput(
                "quality.reconcile.not_own_dataset",
                "只能选择本单位的托管数据集",
                "Name one of your own agency's hosted datasets",
                field="hosted",
                article="Art 11(2)",
            )
        own_source = query.load_source(session, own.id)
        run.secondary_resource_id, run.secondary_version = own.id, own_source.version
    session.add(run)
    session.flush()
    if upload is not None:
        name = Path(filename or upload.name).name[:255]
        fmt = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if fmt not in ("csv", "txt", "xlsx", "parquet"):
            raise InvalidInput(
                "quality.input.format_unsupported",
                "不支持的文件格式：请上传 CSV、Excel (.xlsx) 或 Parquet",
                "Unsupported file format: upload CSV, Excel (.xlsx) or Parquet",
                field="file",
            )
        size, limit = upload.stat().st_size, get_quality_settings().reconcile_max_bytes
        if size > limit:
            raise InvalidInput(
                "quality.input.too_large",
                f"文件太大：{human_bytes(size)}，上限 {human_bytes(limit)}",
                f"The file is too large: {human_bytes(size)}, the limit is {human_bytes(limit)}",
                field="file",
                status=413,
                extra={"limit": limit, "size": size},
            )
        target = run_dir(run.id) / f"copy.{fmt}"
        shutil.copyfile(upload, target)
        digest = hashlib.sha256()
        with target.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        run.source_filename, run.source_bytes, run.source_sha256 = name, size, digest.hexdigest()
        session.flush()
    events.record(
        session,
        actor=by.actor,
        action="quality.reconciliation.started",
        subject_type=SUBJECT,
        subject_id=run.id,
        region_code=run.region_code,
        agency_code=secondary.code,
        data={
            "primary_resource": resource.code,
            "primary_version": source.version,
            "source_kind": run.source_kind,
            "source_sha256": run.source_sha256,
            "source_bytes": run.source_bytes,
            "secondary_resource_id": run.secondary_resource_id,
            "key": key,
            "key_kind": key_kind,
            "items": items,
            "rules": chosen_rules,
            "article": "Art 11(2)",
        },
    )
    return run


def _relation(con: duckdb.DuckDBPyConnection, src: query.HostedSource) -> duckdb.DuckDBPyRelation:
    cols = ", ".join(f"{sources.ident(spec.column)} AS {sources.ident(name)}" for name, spec in src.items.items())
    return con.sql(f"SELECT {cols} FROM read_parquet({sources.lit(str(src.path))})")


@dataclasses.dataclass
class _Plan:
    """What a queued run compares, read from the database once (the comparison then needs none)."""

    run_id: int
    primary: query.HostedSource
    secondary_hosted: query.HostedSource | None
    copy: Path | None
    key: tuple[str, str]
    items: list[dict[str, Any]]
    rules: list[str]
    key_kind: str
    known_regions: list[str] | None


def _plan(session: Session, run: QualityReconciliation) -> _Plan:
    return _Plan(
        run_id=run.id,
        primary=query.load_source(session, run.primary_resource_id, version=run.primary_version),
        secondary_hosted=(
            query.load_source(session, run.secondary_resource_id, version=run.secondary_version)
            if run.secondary_resource_id
            else None
        ),
        copy=next(iter(sorted(run_dir(run.id).glob("copy.*"))), None),
        key=(run.key_secondary, run.key_primary),
        items=list(run.items),
        rules=list(run.rules),
        key_kind=run.key_kind,
        known_regions=list(session.scalars(select(Region.code))) if run.key_kind == "region" else None,
    )


def error_of(exc: DomainError) -> dict[str, Any]:
    """A refusal as a failed run keeps it (``error``)."""
    error = {
        "code": exc.code,
        "title": exc.title_zh,
        "title_en": exc.title_en,
        "detail": exc.detail,
        "field": exc.field,
    }
    # Where in the file (row, or line for an encoding fault), which side, what there is instead.
    for name in ("row", "line", "side", "available_columns", "limit", "size"):
        if exc.extra and exc.extra.get(name) is not None:
            error[name] = exc.extra[name]
    return error


def _compare(
    plan: _Plan, progress: reconcile.Progress | None = None
) -> tuple[reconcile.ReconcileReport | None, dict[str, Any] | None]:
    """The comparison itself, in DuckDB; no database session. (report, None) or (None, error)."""
    settings = get_quality_settings()
    directory = run_dir(plan.run_id)
    con = duckdb.connect(
        ":memory:", config={"memory_limit": settings.reconcile_memory_limit, "temp_directory": str(directory / "spill")}
    )
    try:
        con.execute("SET enable_progress_bar = false")
        secondary: Any = (
            _relation(con, plan.secondary_hosted)
            if plan.secondary_hosted
            else sources.FileSource(plan.copy or directory / "copy.missing")
        )
        report = reconcile.reconcile(
            secondary,
            _relation(con, plan.primary),
            key=plan.key,
            items=[
                reconcile.Item(secondary=i["secondary"], primary=i["primary"], kind=i["kind"], label=i["primary"])
                for i in plan.items
            ],
            rules=plan.rules,
            key_kind=plan.key_kind,
            known_regions=plan.known_regions,
            parquet_path=directory / "discrepancies.parquet",
            xlsx_path=directory / "discrepancies.xlsx",
            connection=con,
            max_bytes=settings.reconcile_max_bytes,
            progress=progress,
        )
        return report, None
    except DomainError as exc:
        return None, error_of(exc)
    except duckdb.Error as exc:
        return None, {
            "code": "quality.reconcile.engine_failed",
            "title": "比对失败",
            "title_en": "The comparison failed",
            "detail": str(exc).splitlines()[0][:300],
            "field": None,
        }
    finally:
        con.close()
        shutil.rmtree(directory / "spill", ignore_errors=True)
        for copy in directory.glob("copy.*"):
            with contextlib.suppress(OSError):
                copy.unlink()


def _finish(
    session: Session,
    run_id: int,
    report: reconcile.ReconcileReport | None,
    error: dict[str, Any] | None,
    *,
    worker: str | None = None,
) -> QualityReconciliation:
    """Store the outcome, record its event and open the primary agency's task (Art 11(2)).
    With ``worker``, only while the run is still that worker's: one the recovery round has failed
    as interrupted meanwhile keeps that end (one end, one event)."""
    from govshare.quality.service.verification import open_task

    run = session.scalar(
        select(QualityReconciliation)
        .where(QualityReconciliation.id == run_id)
        .options(joinedload(QualityReconciliation.secondary_agency))
    )
    assert run is not None
    if worker is not None and (run.state != "running" or run.worker != worker):
        log.warning("reconciliation %s ended as %s before its worker finished; result dropped", run_id, run.state)
        return run
    run.finished_at = clock.now()
    run.started_at = run.started_at or run.finished_at
    run.progress = 100
    run.step = run.steps
    if report is None:
        run.state, run.stage, run.error = "failed", "failed", error
        session.flush()
        events.record(
            session,
            actor=_actor(run),
            action="quality.reconciliation.failed",
            subject_type=SUBJECT,
            subject_id=run.id,
            region_code=run.region_code,
            agency_code=run.secondary_agency.code,
            data={"code": (error or {}).get("code"), "field": (error or {}).get("field")},
        )
        return run
    data = report.to_dict()
    data["parquet_path"] = data["xlsx_path"] = None
    run.state, run.stage, run.report = "done", "done", data
    run.discrepancies = report.discrepancy_rows
    run.parquet_path = f"reconciliations/{run_id}/discrepancies.parquet"
    run.xlsx_path = f"reconciliations/{run_id}/discrepancies.xlsx"
    session.flush()
    events.record(
        session,
        actor=_actor(run),
        action="quality.reconciliation.completed",
        subject_type=SUBJECT,
        subject_id=run.id,
        region_code=run.region_code,
        agency_code=run.secondary_agency.code,
        data={
            "rows_secondary": report.secondary.rows,
            "rows_primary": report.primary.rows,
            "missing_in_primary": report.missing_in_primary,
            "missing_in_secondary": report.missing_in_secondary,
            "mismatched": {i.label: i.mismatched for i in report.items},
            "invalid_keys_secondary": report.secondary.invalid_keys,
            "invalid_keys_primary": report.primary.invalid_keys,
            "discrepancy_rows": report.discrepancy_rows,
            "seconds": round(report.seconds, 3),
        },
    )
    duty = primary_discrepancies(data)
    if duty:
        open_task(session, run, duty)
    return run


def _claim(session: Session, run_id: int, worker: str) -> bool:
    """Whether ``worker`` now owns the queued run (a conditional UPDATE: one claimant wins)."""
    run = session.get(QualityReconciliation, run_id)
    if run is None or run.state != "queued":
        return False
    now = clock.now()
    steps = reconcile.steps_for(len(run.items))
    claimed = session.execute(
        update(QualityReconciliation)
        .where(QualityReconciliation.id == run_id, QualityReconciliation.state == "queued")
        .values(
            state="running",
            stage="loading",
            step=1,
            steps=steps,
            progress=percent(1, steps),
            started_at=now,
            worker=worker,
            heartbeat_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    session.expire(run)
    return claimed.rowcount == 1  # type: ignore[attr-defined]


def _still_mine(run_id: int, worker: str) -> Any:
    return and_(
        QualityReconciliation.id == run_id,
        QualityReconciliation.state == "running",
        QualityReconciliation.worker == worker,
    )


def progress_writer(run_id: int, worker: str) -> reconcile.Progress:
    """The comparison's progress, each stage written at once in a short transaction of its own
    (with a heartbeat), for the page and the API. A write that fails is logged, not raised: the
    comparison goes on, and the next stage or heartbeat tries again."""

    def write(stage: str, step: int, steps: int, detail: dict[str, Any]) -> None:
        try:
            with transaction() as s:
                s.execute(
                    update(QualityReconciliation)
                    .where(_still_mine(run_id, worker))
                    .values(
                        stage=stage, step=step, steps=steps, progress=percent(step, steps), heartbeat_at=clock.now()
                    )
                    .execution_options(synchronize_session=False)
                )
        except SQLAlchemyError as exc:
            log.warning("progress of reconciliation %s not written: %s", run_id, exc)

    return write


@contextlib.contextmanager
def heartbeat(run_id: int, worker: str, every: float) -> Any:
    """While the block runs, a thread writes the run's heartbeat every ``every`` seconds: a long
    DuckDB step says nothing for minutes, and the recovery round must not take it for dead."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every):
            try:
                with transaction() as s:
                    s.execute(
                        update(QualityReconciliation)
                        .where(_still_mine(run_id, worker))
                        .values(heartbeat_at=clock.now())
                        .execution_options(synchronize_session=False)
                    )
            except SQLAlchemyError as exc:
                log.warning("heartbeat of reconciliation %s not written: %s", run_id, exc)

    thread = threading.Thread(target=beat, name=f"govshare-reconcile-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=every + 30)


def execute(run_id: int, *, worker: str = WORKER) -> None:
    """Run a queued reconciliation to its end in its own transactions (the app's background task):
    the claim and plan in one, progress and heartbeats in short ones, the comparison in none, the
    outcome in the last. Bad input does not raise: the run ends ``failed`` with the problem (row,
    column) in ``error``. A run another worker claimed is left alone."""
    settings = get_quality_settings()
    plan: _Plan | None = None
    with transaction() as s:
        if not _claim(s, run_id, worker):
            return
        run = s.get(QualityReconciliation, run_id)
        assert run is not None
        try:
            plan = _plan(s, run)
        except DomainError as exc:  # e.g. the source's version is gone: the run fails, saying so
            report, error = None, error_of(exc)
    if plan is not None:
        with heartbeat(run_id, worker, settings.reconcile_heartbeat_seconds):
            report, error = _compare(plan, progress_writer(run_id, worker))
    else:
        _discard_copy(run_id)
    with transaction() as s:
        _finish(s, run_id, report, error, worker=worker)


def execute_in(session: Session, run: QualityReconciliation) -> QualityReconciliation:
    """Run a queued reconciliation in the caller's transaction (command line, demo loader, tests)."""
    report, error = _compare(_plan(session, run))
    return _finish(session, run.id, report, error)


def _actor(run: QualityReconciliation) -> events.Actor:
    kind, _, ident = run.created_by.partition(":")
    return events.Actor(kind, int(ident) if ident.isdigit() else None, run.created_by_name)


def primary_discrepancies(report: dict[str, Any]) -> int:
    """Discrepancy rows the primary agency answers for (:data:`PRIMARY_KINDS`)."""
    return int(
        report["primary"]["invalid_keys"]
        + report["primary"]["duplicate_keys"]
        + report["missing_in_primary"]
        + sum(i["mismatched"] for i in report["items"])
    )


# --- Recovery of interrupted runs -------------------------------------------------------------------


def _worker_gone(worker: str | None) -> bool:
    """Whether ``worker`` certainly no longer runs: a process of this host that has ended, or an
    earlier process under this process's pid (same host and pid, another nonce). A worker of
    another host cannot be asked: its heartbeat decides."""
    host, _, rest = (worker or "").partition(":")
    pid_text, _, nonce = rest.partition(":")
    if worker is None or host != WORKER.split(":", 1)[0] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return worker != WORKER
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists (and belongs to someone else)
        return False
    return False


def _interruption(run: QualityReconciliation, reason: str) -> dict[str, Any]:
    stage_zh, stage_en = STAGES.get(run.stage or "", (run.stage or "—", run.stage or "—"))
    beat = run.heartbeat_at.astimezone(clock.LEGAL_TZ).strftime("%Y-%m-%d %H:%M:%S") if run.heartbeat_at else "—"
    if reason == "never_started":
        return {
            "code": "quality.reconciliation.never_started",
            "title": "比对未能开始：排队期间服务已重启",
            "title_en": "The comparison never started: the service restarted while it was queued",
            "detail": "上传的副本已删除，请重新发起比对。",
            "detail_en": "The uploaded copy is deleted; start the reconciliation again.",
            "field": None,
            "reason": reason,
        }
    step = f"（第 {run.step}/{run.steps} 步）" if run.step and run.steps else ""
    step_en = f" (step {run.step} of {run.steps})" if run.step and run.steps else ""
    return {
        "code": "quality.reconciliation.interrupted",
        "title": "比对中断：执行比对的服务进程已停止（如服务重启）",
        "title_en": "The comparison was interrupted: the process running it stopped (e.g. a restart)",
        "detail": f"中断时：{stage_zh}{step}，最后心跳 {beat}（北京时间）。上传的副本已删除，请重新发起比对。",
        "detail_en": f"At the time: {stage_en}{step_en}, last heartbeat {beat} (Beijing time). The uploaded copy "
        "is deleted; start the reconciliation again.",
        "field": None,
        "reason": reason,
    }


def _same(column: Any, value: Any) -> Any:
    return column.is_(None) if value is None else column == value


@dataclasses.dataclass(frozen=True)
class Recovered:
    """What one recovery did: runs failed as interrupted, queued runs put back to be started."""

    failed: list[int]
    requeued: list[int]


def recover_interrupted(
    session: Session,
    *,
    now: dt.datetime | None = None,
    stale_seconds: float | None = None,
    requeue: bool = False,
) -> Recovered:
    """Deal with the runs that lost their worker: running with a dead worker of this host or a
    heartbeat older than ``stale_seconds`` (default ``reconcile_stale_seconds``) are failed as
    interrupted; queued that long without anyone claiming them (the background task died with its
    process) are, with ``requeue``, put back once (``stage`` ``requeued``, event
    ``quality.reconciliation.requeued``; the caller starts them), else, or the second time, failed
    as never started. Each is taken by a conditional UPDATE on what was read (state, stage, worker,
    heartbeat), so a run whose worker is alive after all (it beat meanwhile) or that another
    process took first is left alone. Records ``quality.reconciliation.interrupted`` per failed
    run; flushes only."""
    now = now or clock.now()
    cutoff = now - dt.timedelta(seconds=stale_seconds or get_quality_settings().reconcile_stale_seconds)
    R = QualityReconciliation
    candidates = session.scalars(
        select(R)
        .where(or_(R.state == "running", and_(R.state == "queued", R.created_at < cutoff)))
        .options(joinedload(R.secondary_agency))
        .order_by(R.id)
    ).all()
    requeued: list[int] = []
    failed: list[int] = []
    for run in candidates:
        if run.state == "queued":
            if (run.heartbeat_at or run.created_at) >= cutoff:
                continue  # put back less than ``stale_seconds`` ago: its start may still come
            if requeue and run.stage == "queued":
                if _requeue(session, run, now):
                    requeued.append(run.id)
                continue
            reason = "never_started"
        elif _worker_gone(run.worker):
            reason = "worker_gone"
        elif (run.heartbeat_at or run.started_at or run.created_at) < cutoff:
            reason = "heartbeat_stale"
        else:
            continue
        error = _interruption(run, reason)
        taken = session.execute(
            update(R)
            .where(
                R.id == run.id,
                R.state == run.state,
                _same(R.stage, run.stage),
                _same(R.worker, run.worker),
                _same(R.heartbeat_at, run.heartbeat_at),
            )
            .values(state="failed", stage="interrupted", error=error, finished_at=now)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            continue
        stage, step, steps, worker, beat = run.stage, run.step, run.steps, run.worker, run.heartbeat_at
        run_id, region_code, agency_code = run.id, run.region_code, run.secondary_agency.code
        session.expire(run)
        events.record(
            session,
            actor=SYSTEM_PRINCIPAL.actor,
            action="quality.reconciliation.interrupted",
            subject_type=SUBJECT,
            subject_id=run_id,
            region_code=region_code,
            agency_code=agency_code,
            data={
                "reason": reason,
                "stage": stage,
                "step": step,
                "steps": steps,
                "worker": worker,
                "heartbeat_at": beat.isoformat() if beat else None,
                "article": "Art 11(2)",
            },
        )
        _discard_copy(run_id)
        failed.append(run_id)
    return Recovered(failed=failed, requeued=requeued)


def _requeue(session: Session, run: QualityReconciliation, now: dt.datetime) -> bool:
    """Put a queued run nobody started back, once: whoever wins this UPDATE starts it."""
    R = QualityReconciliation
    taken = session.execute(
        update(R)
        .where(R.id == run.id, R.state == "queued", R.stage == "queued", _same(R.heartbeat_at, run.heartbeat_at))
        .values(stage="requeued", heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return False
    run_id, region_code, agency_code = run.id, run.region_code, run.secondary_agency.code
    session.expire(run)
    events.record(
        session,
        actor=SYSTEM_PRINCIPAL.actor,
        action="quality.reconciliation.requeued",
        subject_type=SUBJECT,
        subject_id=run_id,
        region_code=region_code,
        agency_code=agency_code,
        data={"reason": "never_started", "article": "Art 11(2)"},
    )
    return True


def _discard_copy(run_id: int) -> None:
    """The uploaded copy and any spill of an interrupted run: the platform keeps no copy of it."""
    directory = get_quality_settings().resolved_dir / "reconciliations" / str(run_id)
    shutil.rmtree(directory / "spill", ignore_errors=True)
    for copy in directory.glob("copy.*"):
        with contextlib.suppress(OSError):
            copy.unlink()


def recovery_round() -> Recovered:
    """The app's background job (first at start-up): one recovery in one transaction, then the
    runs it put back are run here, one after the other (each claimed first, so once)."""
    with transaction() as session:
        recovered = recover_interrupted(session, requeue=True)
    for run_id in recovered.requeued:
        execute(run_id)
    return recovered


# --- Reading ---------------------------------------------------------------------------------------


def _options() -> tuple[Any, ...]:
    return (
        joinedload(QualityReconciliation.secondary_agency),
        joinedload(QualityReconciliation.primary_agency),
        joinedload(QualityReconciliation.primary_resource),
    )


def get(session: Session, run_id: int, *, viewer: Principal | None) -> QualityReconciliation:
    """A run, for its secondary and primary agencies and the overseers of the source's region.
    ``viewer=None`` is the platform's own read (after :func:`execute`)."""
    run = session.scalar(select(QualityReconciliation).where(QualityReconciliation.id == run_id).options(*_options()))
    if run is not None and viewer is not None:
        path = registry_service.region_path_of(session, run.region_code)
        if not perm.can_read(viewer, (run.secondary_agency_id, run.primary_agency_id), path):
            run = None
    if run is None:
        raise NotFound(
            "quality.reconciliation.not_found",
            f"比对 {run_id} 不存在",
            f"Reconciliation {run_id} not found",
            field="reconciliation",
        )
    return run


def list_runs(session: Session, *, viewer: Principal, offset: int = 0, limit: int = 50) -> Page[QualityReconciliation]:
    stmt = (
        select(QualityReconciliation)
        .where(
            perm.readable_condition(
                viewer,
                (QualityReconciliation.secondary_agency_id, QualityReconciliation.primary_agency_id),
                QualityReconciliation.region_code,
            )
        )
        .options(*_options())
        .order_by(QualityReconciliation.id.desc())
    )
    return paginate(session, stmt, offset=offset, limit=limit)


def download_path(run: QualityReconciliation, fmt: str) -> Path:
    relative = run.xlsx_path if fmt == "xlsx" else run.parquet_path
    if run.state != "done" or relative is None or not absolute(relative).is_file():
        raise NotFound(
            "quality.reconciliation.no_file",
            "该比对没有可下载的差异文件",
            "This reconciliation has no discrepancy file to download",
            field="format",
        )
    return absolute(relative)


def hosted_sources(session: Session) -> list[CatalogResource]:
    """Published entries with a hosted dataset to compare against (for forms)."""
    from govshare.exchange.models import ExchangeInterface

    return list(
        session.scalars(
            select(CatalogResource)
            .join(ExchangeInterface, ExchangeInterface.resource_id == CatalogResource.id)
            .where(
                ExchangeInterface.kind == "hosted_dataset",
                ExchangeInterface.detached_at.is_(None),
                ExchangeInterface.current_version.is_not(None),
                CatalogResource.status == "published",
            )
            .options(joinedload(CatalogResource.provider), joinedload(CatalogResource.data_items))
            .order_by(CatalogResource.code)
        ).unique()
    )
