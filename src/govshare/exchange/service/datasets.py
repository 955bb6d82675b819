"""Hosted dataset versions: upload, validation, acceptance (Art 15), and the provider's preview.

An upload goes in three steps, so the slow middle one holds no database transaction (SQLite
takes its write lock at the first statement of a transaction):

1. :func:`prepare_upload` (a short read): who uploads what, into which entry; its items;
2. :func:`stage_upload` (no database): read, validate and write the Parquet file under ``tmp/``
   (``datasets.validate``); a bad file is refused naming its rows and columns, nothing is kept;
3. :func:`accept_version` (a short write): check again that nothing changed, move the file into
   place, insert the version, make it current and record ``exchange.dataset.version_accepted``,
   all in the caller's transaction; if that rolls back, the file goes with it.

:func:`upload_version` does the three in one go (command line, demo, tests). Each accepted version
is a data change of the entry with its time (``changed_at``, Art 15(2)).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govshare.core import clock, events
from govshare.core.auth import Principal
from govshare.core.errors import Conflict, InvalidInput, NotFound
from govshare.core.paging import Page, paginate
from govshare.exchange import permissions as perm
from govshare.exchange import query, rules
from govshare.exchange.datasets import SourceFile, StagedVersion, stage, storage
from govshare.exchange.models import ExchangeDatasetVersion, ExchangeInterface
from govshare.exchange.schemas import ColumnRead, VersionRead
from govshare.exchange.service.interfaces import _check_open, get_interface, load_resource, region_path
from govshare.registry.models import Region

SUBJECT = "exchange_dataset"
#: How far in the future a stated change time may lie (clock skew between systems).
CHANGED_AT_SKEW = dt.timedelta(minutes=5)


@dataclasses.dataclass(frozen=True, slots=True)
class UploadPlan:
    """What :func:`prepare_upload` found: the entry, its interface and the columns to store."""

    resource_id: int
    interface_id: int
    specs: tuple[rules.ItemSpec, ...]
    region_codes: tuple[str, ...]


def _hosted_interface(session: Session, resource_id: int, *, for_update: bool = False) -> ExchangeInterface:
    interface = get_interface(session, resource_id, for_update=for_update)
    if interface.kind != "hosted_dataset":
        raise Conflict(
            "exchange.interface.not_hosted",
            "该目录条目接入的是代理接口，不接收数据上传",
            "The entry's interface is a proxied API: it takes no uploads",
            field="resource",
            article="Art 15",
        )
    return interface


def prepare_upload(session: Session, ref: str | int, *, by: Principal) -> UploadPlan:
    resource = load_resource(session, ref)
    perm.check_provider(by, resource.provider_id)
    _check_open(resource)
    interface = _hosted_interface(session, resource.id)
    specs = rules.plan_items(
        resource.data_items, required=interface.required_items or [], keys=interface.key_items or []
    )
    codes = tuple(session.scalars(select(Region.code)))
    return UploadPlan(resource.id, interface.id, tuple(specs), codes)


def stage_upload(
    plan: UploadPlan,
    path: Path,
    *,
    filename: str,
    fmt: str | None = None,
    source_bytes: int | None = None,
    source_sha256: str | None = None,
) -> StagedVersion:
    """Validate the file at ``path`` and write its Parquet under ``tmp/``. No database access."""
    if source_bytes is None or source_sha256 is None:
        source_bytes, source_sha256 = storage.file_digest(path)
    source = SourceFile(path, filename, rules.format_of(filename, fmt), source_bytes, source_sha256)
    return stage(source, plan.specs, region_codes=plan.region_codes, as_of=clock.today())


def _changed_at(value: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    if value is None:
        return now
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.LEGAL_TZ)
    value = value.astimezone(dt.UTC)
    if value > now + CHANGED_AT_SKEW:
        raise InvalidInput(
            "exchange.dataset.changed_at_future",
            "数据变更时间不能晚于现在",
            "the data change time cannot lie in the future",
            field="changed_at",
            article="Art 15(2)",
        )
    if value.year < 1900:
        raise InvalidInput(
            "exchange.dataset.changed_at_invalid",
            "数据变更时间不合理",
            "the data change time is not plausible",
            field="changed_at",
        )
    return value


def accept_version(
    session: Session,
    plan: UploadPlan,
    staged: StagedVersion,
    *,
    by: Principal,
    changed_at: dt.datetime | None = None,
    note: str | None = None,
) -> ExchangeDatasetVersion:
    """Accept a staged version: checks again, moves the file into place, inserts the row, makes it
    current and records the event, in the caller's transaction. The staged file is consumed."""
    resource = load_resource(session, plan.resource_id)
    perm.check_provider(by, resource.provider_id)
    _check_open(resource)
    interface = _hosted_interface(session, resource.id, for_update=True)
    specs = tuple(
        rules.plan_items(resource.data_items, required=interface.required_items or [], keys=interface.key_items or [])
    )
    if interface.id != plan.interface_id or specs != plan.specs:
        raise Conflict(
            "exchange.dataset.entry_changed",
            "上传期间目录条目的信息项或接口设置已变更，请重新上传",
            "The entry's data items or interface changed during the upload: upload again",
            field="resource",
        )
    now = clock.now()
    when = _changed_at(changed_at, now)
    if note is not None and len(note) > 2000:
        raise InvalidInput(
            "exchange.dataset.note_too_long",
            "说明不能超过 2000 个字符",
            "the note must not exceed 2000 characters",
            field="note",
        )
    number = (
        session.scalar(
            select(func.max(ExchangeDatasetVersion.number)).where(ExchangeDatasetVersion.resource_id == resource.id)
        )
        or 0
    ) + 1
    relative = storage.final_relative_path(resource.id, number)
    storage.move_into_place(session, staged.path, relative)
    version = ExchangeDatasetVersion(
        interface_id=interface.id,
        resource_id=resource.id,
        number=number,
        path=relative,
        row_count=staged.row_count,
        bytes=staged.bytes,
        sha256=staged.sha256,
        columns=[s.as_dict() for s in staged.specs],
        source_filename=staged.source.filename[:255],
        source_format=staged.source.format,
        source_encoding=staged.encoding,
        source_bytes=staged.source.bytes,
        source_sha256=staged.source.sha256,
        changed_at=when,
        accepted_at=now,
        uploaded_by=by.actor.ref,
        uploaded_by_name=by.actor.name[:200],
        note=(note or "").strip() or None,
    )
    session.add(version)
    interface.current_version = number
    interface.updated_at = now
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            "exchange.dataset.concurrent_upload",
            "同一资源的另一版本刚刚被接收，请重新上传",
            "Another version of this entry was accepted just now: upload again",
            field="file",
        ) from None
    events.record(
        session,
        actor=by.actor,
        action="exchange.dataset.version_accepted",
        subject_type=SUBJECT,
        subject_id=resource.id,
        region_code=resource.region_code,
        agency_code=resource.provider.code,
        data={
            "resource_code": resource.code,
            "version": number,
            "rows": staged.row_count,
            "bytes": staged.bytes,
            "sha256": staged.sha256,
            "source_format": staged.source.format,
            "source_bytes": staged.source.bytes,
            "source_sha256": staged.source.sha256,
            "changed_at": when,
            "columns": [s.name for s in staged.specs],
        },
    )
    return version


def upload_version(
    session: Session,
    ref: str | int,
    path: Path,
    *,
    filename: str,
    by: Principal,
    fmt: str | None = None,
    changed_at: dt.datetime | None = None,
    note: str | None = None,
) -> ExchangeDatasetVersion:
    """Prepare, validate and accept in one transaction (the caller's)."""
    plan = prepare_upload(session, ref, by=by)
    staged = stage_upload(plan, path, filename=filename, fmt=fmt)
    try:
        return accept_version(session, plan, staged, by=by, changed_at=changed_at, note=note)
    finally:
        staged.path.unlink(missing_ok=True)


# --- Reading --------------------------------------------------------------------------------------


def _check_read(session: Session, ref: str | int, viewer: Principal) -> ExchangeInterface:
    resource = load_resource(session, ref)
    if not perm.can_read(viewer, resource.provider_id, region_path(session, resource)):
        raise NotFound(
            "exchange.interface.not_found",
            "该目录条目没有接入接口",
            "The entry has no interface attached",
            field="resource",
        )
    return get_interface(session, resource.id, active=False)


def list_versions(
    session: Session, ref: str | int, *, viewer: Principal, offset: int = 0, limit: int = 50
) -> tuple[ExchangeInterface, Page[ExchangeDatasetVersion]]:
    interface = _check_read(session, ref, viewer)
    stmt = (
        select(ExchangeDatasetVersion)
        .where(ExchangeDatasetVersion.resource_id == interface.resource_id)
        .order_by(ExchangeDatasetVersion.number.desc())
    )
    return interface, paginate(session, stmt, offset=offset, limit=limit)


def get_version(
    session: Session, ref: str | int, number: int, *, viewer: Principal
) -> tuple[ExchangeInterface, ExchangeDatasetVersion]:
    interface = _check_read(session, ref, viewer)
    version = session.scalar(
        select(ExchangeDatasetVersion).where(
            ExchangeDatasetVersion.resource_id == interface.resource_id, ExchangeDatasetVersion.number == number
        )
    )
    if version is None:
        raise NotFound(
            "exchange.dataset.version_not_found", f"版本 {number} 不存在", f"Version {number} not found", field="number"
        )
    return interface, version


def version_read(interface: ExchangeInterface, v: ExchangeDatasetVersion) -> VersionRead:
    return VersionRead(
        number=v.number,
        current=interface.current_version == v.number,
        row_count=v.row_count,
        bytes=v.bytes,
        sha256=v.sha256,
        columns=[
            ColumnRead(
                name=c["name"],
                field_code=c["field_code"],
                data_type=c["data_type"],
                required=c["required"],
                key=c["key"],
            )
            for c in v.columns
        ],
        source_filename=v.source_filename,
        source_format=v.source_format,
        source_encoding=v.source_encoding,
        source_bytes=v.source_bytes,
        source_sha256=v.source_sha256,
        changed_at=v.changed_at,
        accepted_at=v.accepted_at,
        uploaded_by_name=v.uploaded_by_name,
        note=v.note,
    )


def preview(
    session: Session,
    ref: str | int,
    *,
    by: Principal,
    items: Sequence[str] | None = None,
    filters: Sequence[query.Filter] = (),
    offset: int = 0,
    limit: int = 20,
    version: int | None = None,
) -> query.HostedPage:
    """The provider looks at its own data (every row, no region scope). Providers only."""
    resource = load_resource(session, ref)
    perm.check_provider(by, resource.provider_id)
    source = query.load_source(session, resource.id, version=version)
    return query.query_hosted(source, items=items, region_codes=None, filters=filters, offset=offset, limit=limit)
