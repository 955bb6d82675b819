"""Demo data quality: data elements, their collecting agencies, linked catalog items, one
reconciliation with discrepancies and the primary agency's verification task (Art 11-12).

``load_demo_quality`` (called by ``govshare demo load`` after the exchange demo):

* registers the usual data elements and assigns them for the whole province (320000): public
  security collects identity numbers, names and registered addresses; market regulation credit
  codes and enterprise names; natural resources real estate unit numbers;
* links the demo catalog's items to them (by field code or exact name) through the same check that
  runs when an entry is registered, so the entries of other agencies that collect an assigned
  element get their duplicate-collection flags (Art 11(1));
* files one objection (数据异议) under the sharing demo's first usable grant;
* records two changes in source data (Art 15(2)): one open, one overdue;
* has civil affairs (js-mzt) reconcile its copy of some residents (taken from the hosted population
  dataset, with a few names and addresses changed, some rows missing or added, and broken identity
  numbers) against public security's dataset, in the loader's transaction: the report, the files,
  and the verification task for public security (Art 11(2)).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import duckdb
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.catalog import service as catalog_service
from govshare.catalog.models import CatalogResource
from govshare.core import identifiers
from govshare.core.auth import OPERATOR
from govshare.exchange import query
from govshare.exchange.datasets import storage
from govshare.quality import service
from govshare.quality.sources import ident, lit

#: (code, name, English name, type, format rule, field code, collecting agency)
ELEMENTS: tuple[tuple[str, str, str, str, str, str | None, str], ...] = (
    ("DE0001", "公民身份号码", "Citizen identity number", "string", "id_number", "id_number", "js-gat"),
    ("DE0002", "姓名", "Name", "string", "none", "name", "js-gat"),
    ("DE0003", "户籍地址", "Registered address", "string", "none", "address", "js-gat"),
    ("DE0004", "统一社会信用代码", "Unified social credit code", "string", "uscc", "uscc", "js-scjgj"),
    ("DE0005", "企业名称", "Enterprise name", "string", "none", None, "js-scjgj"),
    ("DE0006", "不动产单元号", "Real estate unit number", "string", "property_unit", None, "js-zrzyt"),
)
BASIS = {
    "js-gat": "《中华人民共和国居民身份证法》《中华人民共和国户口登记条例》",
    "js-scjgj": "《中华人民共和国市场主体登记管理条例》",
    "js-zrzyt": "《不动产登记暂行条例》",
}
POPULATION = "全省人口基础信息"
SECONDARY = "js-mzt"
#: Residents in civil affairs' copy.
COPY_ROWS = 2000


@dataclasses.dataclass(frozen=True)
class DemoQualitySummary:
    elements: int
    flags: int
    reconciliation_id: int | None
    discrepancies: int


def _write_copy(source: query.HostedSource, target: Path) -> None:
    """Civil affairs' copy: the first residents with planted differences, as a UTF-8 CSV."""
    cols = {name: ident(spec.column) for name, spec in source.items.items()}
    idn, name, born, addr = cols["公民身份号码"], cols["姓名"], cols["出生日期"], cols["户籍地址"]
    # Residents civil affairs registered that public security's copy lacks (valid numbers).
    extra = ", ".join(
        f"({lit(identifiers.make_id_number('320508', dt.date(1990, 5, 5), 900 + k))}, '新登记居民', "
        f"'1990-05-05', '江苏省苏州市姑苏区人民路{k + 1}号')"
        for k in range(3)
    )
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"""
            COPY (
              WITH r AS (
                SELECT row_number() OVER () AS n, {idn} AS id, {name} AS nm, {born} AS bd, {addr} AS ad
                FROM read_parquet({lit(str(source.path))}) LIMIT {COPY_ROWS + 40}
              )
              SELECT CASE WHEN n % 500 = 7 THEN left(id, 17) || CASE WHEN right(id, 1) = '0' THEN '1' ELSE '0' END
                          ELSE id END AS "公民身份号码",
                     CASE WHEN n % 50 = 3 THEN nm || '某' WHEN n % 97 = 5 THEN ' ' || nm ELSE nm END AS "姓名",
                     CASE WHEN n % 10 = 1 THEN strftime(bd, '%Y年%-m月%-d日') ELSE strftime(bd, '%Y-%m-%d') END
                       AS "出生日期",
                     CASE WHEN n % 40 = 9 THEN replace(ad, '号', '号院') ELSE ad END AS "户籍地址"
              FROM r WHERE n % 100 <> 11 AND n <= {COPY_ROWS}
              UNION ALL
              SELECT * FROM (VALUES {extra}) AS x("公民身份号码", "姓名", "出生日期", "户籍地址")
            ) TO {lit(str(target))} (FORMAT csv, HEADER true)""")
    finally:
        con.close()


def load_demo_quality(session: Session) -> DemoQualitySummary | None:
    """Flushes, never commits. Does nothing when the demo registry is not there."""
    from govshare.quality.models import QualityDuplicateFlag

    if session.scalar(select(CatalogResource.id).limit(1)) is None:
        return None
    for code, name, name_en, data_type, rule, field_code, agency in ELEMENTS:
        service.elements.create_element(
            session,
            code=code,
            name=name,
            name_en=name_en,
            data_type=data_type,
            format_rule=rule,
            field_code=field_code,
            description=None,
            by=OPERATOR,
        )
        service.elements.assign_source(
            session, code, region_code="320000", agency_ref=agency, basis=BASIS[agency], by=OPERATOR
        )
    for rid in session.scalars(
        select(CatalogResource.id).where(CatalogResource.status != "withdrawn").order_by(CatalogResource.id)
    ).all():
        resource = catalog_service.get_resource(session, rid)
        items = catalog_service.snapshot_of(resource)["data_items"]
        service.duplicates.check_items(session, resource, items, "linked", resource.version_number, OPERATOR)
    flags = len(session.scalars(select(QualityDuplicateFlag.id)).all())

    population = session.scalar(
        select(CatalogResource).where(CatalogResource.name == POPULATION, CatalogResource.status == "published")
    )
    if population is None:
        _demo_updates(session)
        return DemoQualitySummary(len(ELEMENTS), flags, None, 0)
    try:
        source = query.load_source(session, population.id)
    except Exception:  # noqa: BLE001 - no hosted data in this demo: no reconciliation
        _demo_updates(session)
        return DemoQualitySummary(len(ELEMENTS), flags, None, 0)
    from govshare.registry import service as registry_service

    agency = registry_service.get_agency(session, SECONDARY)
    with storage.temporary(".csv") as path:
        _write_copy(source, path)
        run = service.reconciliations.start(
            session,
            primary=population.id,
            key="公民身份号码",
            items=["姓名", "出生日期", "户籍地址"],
            upload=path,
            filename="民政低保对象身份信息.csv",
            agency=agency.code,
            by=OPERATOR,
        )
    run = service.reconciliations.execute_in(session, run)
    _demo_objection(session)
    _demo_updates(session)
    return DemoQualitySummary(len(ELEMENTS), flags, run.id, run.discrepancies or 0)


def _demo_objection(session: Session) -> None:
    """One open objection (数据异议) under the first usable grant of the sharing demo, if any."""
    from govshare.sharing import service as sharing_service

    grants = sharing_service.list_grants(session, viewer=OPERATOR, usable=True, limit=1).rows
    if not grants:
        return
    grant = grants[0]
    service.objections.file_objection(
        session,
        grant_id=grant.id,
        record_key="演示记录 / demo record",
        item=grant.items[0] if grant.items else None,
        problem="该记录与本单位掌握的情况不一致 / the record disagrees with what we hold",
        evidence="现场核查记录 / on-site check",
        by=OPERATOR,
    )


def _demo_updates(session: Session) -> None:
    """Update duty (Art 15(2)): two changes in source data of published entries without a hosted
    version (so no version meets them): one from yesterday, open; one from 60 days ago, past its
    20 working days and marked overdue by the tick."""
    from govshare.core import clock
    from govshare.exchange.models import ExchangeDatasetVersion

    hosted = select(ExchangeDatasetVersion.resource_id)
    ids = session.scalars(
        select(CatalogResource.id)
        .where(CatalogResource.status == "published", CatalogResource.id.not_in(hosted))
        .order_by(CatalogResource.id)
        .limit(2)
    ).all()
    if not ids:
        return
    now = clock.now()
    service.updates.record_change(
        session,
        ids[0],
        changed_at=now - dt.timedelta(days=60),
        note="行政区划调整后地址批量变更 / addresses changed after a boundary change",
        by=OPERATOR,
    )
    service.updates.record_change(
        session,
        ids[-1],
        changed_at=now - dt.timedelta(days=1),
        note="新增一批登记记录 / a batch of new registrations",
        by=OPERATOR,
    )
    service.updates.tick(session, by=OPERATOR)
