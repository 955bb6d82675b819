"""Quality checks of hosted dataset versions (Art 12, Art 15(2)), stored per version.

Each accepted version is checked (``quality.checks.run_checks``: completeness of required items,
validity of types and identifiers, uniqueness of the key, freshness against the entry's update
cycle) by the background job :func:`check_pending` soon after it is accepted, or on demand by the
provider or the authority. The score is stored with the findings, so the trend over versions is a
query, per resource and per agency.
"""

from __future__ import annotations

from typing import Any

import duckdb
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from govshare.catalog import service as catalog_service
from govshare.catalog.models import CatalogResource
from govshare.core import clock, events
from govshare.core.auth import SYSTEM_PRINCIPAL, Principal
from govshare.core.db import transaction
from govshare.core.errors import NotFound
from govshare.exchange.datasets import storage
from govshare.exchange.models import ExchangeDatasetVersion
from govshare.quality import permissions as perm
from govshare.quality import rules
from govshare.quality.checks import ColumnSpec, run_checks
from govshare.quality.models import QualityCheckResult
from govshare.quality.sources import ident, lit
from govshare.registry import service as registry_service
from govshare.registry.models import Agency, Region

SUBJECT = "quality_check_result"
_TYPES = {
    "string": "text",
    "integer": "integer",
    "decimal": "decimal",
    "date": "date",
    "datetime": "datetime",
    "boolean": "boolean",
    "binary": "text",
    "geometry": "text",
}
_IDENTIFIERS = {"id_number": "id_number", "uscc": "uscc", "region_code": "region"}


def specs_of(columns: list[dict[str, Any]]) -> list[ColumnSpec]:
    return [
        ColumnSpec(
            c["name"],
            required=bool(c.get("required")),
            data_type=_TYPES.get(c["data_type"], "text"),
            identifier=_IDENTIFIERS.get(c.get("field_code") or ""),
        )
        for c in columns
    ]


def check_version(
    session: Session, resource: CatalogResource, version: ExchangeDatasetVersion, *, trigger: str, by: Principal
) -> QualityCheckResult:
    """Check one version and store the result, with its event."""
    keys = [c["name"] for c in version.columns if c.get("key")]
    con = duckdb.connect(":memory:")
    try:
        cols = ", ".join(f"{ident(c['column'])} AS {ident(c['name'])}" for c in version.columns)
        relation = con.sql(f"SELECT {cols} FROM read_parquet({lit(str(storage.absolute(version.path)))})")
        report = run_checks(
            relation,
            specs_of(version.columns),
            as_of=clock.today(),
            key=keys[0] if len(keys) == 1 else None,
            update_cycle=resource.update_cycle,
            last_updated=version.changed_at.astimezone(clock.LEGAL_TZ).date(),
            known_regions=list(session.scalars(select(Region.code))),
        )
    finally:
        con.close()
    from govshare.quality.service.objections import counted_against

    findings = [f.to_dict() for f in report.findings]
    score = report.score
    objections, counted = counted_against(session, resource.id)
    if objections:
        # 数据异议 count in the score (rules.OBJECTION_PENALTY): upheld by a correction, or overdue.
        penalty = rules.objection_penalty(counted)
        findings.append(
            {
                "rule": "quality.objections",
                "column": None,
                "checked": objections,
                "failed": counted,
                "samples": [],
                "passed": counted == 0,
                "article": rules.OBJECTION_ARTICLE,
                "name_zh": "数据异议",
                "name_en": "objections",
                "detail": f"扣 {penalty:g} 分 / {penalty:g} points off",
            }
        )
        if score is not None:
            score = round(max(0.0, score - penalty), 1)
    result = QualityCheckResult(
        resource_id=resource.id,
        dataset_version_id=version.id,
        version_number=version.number,
        provider_id=resource.provider_id,
        region_code=resource.region_code,
        rows=report.rows,
        score=score,
        dimensions=report.dimensions,
        findings=findings,
        as_of=report.as_of,
        trigger=trigger,
        checked_at=clock.now(),
        checked_by=by.actor.ref,
    )
    session.add(result)
    session.flush()
    agency = session.get(Agency, resource.provider_id)
    events.record(
        session,
        actor=by.actor,
        action="quality.check.recorded",
        subject_type=SUBJECT,
        subject_id=result.id,
        region_code=resource.region_code,
        agency_code=agency.code if agency else None,
        data={
            "resource_id": resource.id,
            "resource_code": resource.code,
            "version": version.number,
            "rows": report.rows,
            "score": score,
            "trigger": trigger,
            "failed": {f.rule + (f":{f.column}" if f.column else ""): f.failed for f in report.findings if f.failed},
            "article": "Art 12",
        },
    )
    return result


def run_on_demand(
    session: Session, resource_ref: str | int, *, version: int | None = None, by: Principal
) -> QualityCheckResult:
    resource = catalog_service.get_resource(session, resource_ref)
    perm.check_provider_or_authority(
        by, resource.provider_id, registry_service.region_path_of(session, resource.region_code)
    )
    stmt = select(ExchangeDatasetVersion).where(ExchangeDatasetVersion.resource_id == resource.id)
    stmt = (
        stmt.where(ExchangeDatasetVersion.number == version)
        if version is not None
        else stmt.order_by(ExchangeDatasetVersion.number.desc()).limit(1)
    )
    found = session.scalar(stmt)
    if found is None:
        raise NotFound(
            "quality.check.no_version",
            "该资源没有可检查的托管数据集版本",
            "The entry has no hosted dataset version to check",
            field="version",
        )
    return check_version(session, resource, found, trigger="on_demand", by=by)


def unchecked_versions(session: Session, limit: int = 10) -> list[ExchangeDatasetVersion]:
    checked = select(QualityCheckResult.dataset_version_id)
    return list(
        session.scalars(
            select(ExchangeDatasetVersion)
            .where(ExchangeDatasetVersion.id.not_in(checked))
            .order_by(ExchangeDatasetVersion.id)
            .limit(limit)
        )
    )


def check_pending(session: Session, *, limit: int = 10) -> int:
    """Check accepted versions not yet checked (Art 12: the platform checks every new version)."""
    done = 0
    for version in unchecked_versions(session, limit):
        resource = catalog_service.get_resource(session, version.resource_id)
        check_version(session, resource, version, trigger="accepted", by=SYSTEM_PRINCIPAL)
        done += 1
    return done


def background_round() -> None:
    """The app's background job: one transaction per round."""
    with transaction() as session:
        check_pending(session)


# --- Reading ---------------------------------------------------------------------------------------


def history(
    session: Session, resource_ref: str | int, *, viewer: Principal
) -> tuple[CatalogResource, list[QualityCheckResult]]:
    resource = catalog_service.get_resource(session, resource_ref)
    if not perm.can_read(
        viewer, (resource.provider_id,), registry_service.region_path_of(session, resource.region_code)
    ):
        raise NotFound(
            "quality.check.not_found", "没有该资源的质量检查", "No quality checks for this entry", field="resource"
        )
    rows = list(
        session.scalars(
            select(QualityCheckResult)
            .where(QualityCheckResult.resource_id == resource.id)
            .order_by(QualityCheckResult.version_number, QualityCheckResult.id)
        )
    )
    return resource, rows


def agency_history(
    session: Session, agency_ref: str | int, *, viewer: Principal
) -> tuple[Agency, dict[CatalogResource, list[QualityCheckResult]]]:
    agency = registry_service.get_agency(session, agency_ref)
    if not perm.can_read(viewer, (agency.id,), registry_service.region_path_of(session, agency.region_code)):
        raise NotFound(
            "quality.check.not_found", "没有该单位的质量检查", "No quality checks for this agency", field="agency"
        )
    rows = session.scalars(
        select(QualityCheckResult)
        .where(QualityCheckResult.provider_id == agency.id)
        .order_by(QualityCheckResult.resource_id, QualityCheckResult.version_number, QualityCheckResult.id)
    ).all()
    ids = sorted({r.resource_id for r in rows})
    resources = {
        r.id: r
        for r in session.scalars(
            select(CatalogResource).where(CatalogResource.id.in_(ids)).options(joinedload(CatalogResource.provider))
        )
    }
    out: dict[CatalogResource, list[QualityCheckResult]] = {}
    for r in rows:
        out.setdefault(resources[r.resource_id], []).append(r)
    return agency, out
