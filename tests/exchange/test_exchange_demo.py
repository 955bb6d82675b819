"""The demo's hosted dataset: generated residents whose identity numbers, birth dates, sexes and
region codes agree, served by region (a Suzhou grant sees Suzhou's residents only)."""

from __future__ import annotations

import datetime as dt

import duckdb

from govshare import demo
from govshare.core import identifiers
from govshare.exchange import query
from govshare.exchange.config import get_exchange_settings
from govshare.exchange.demo import RESOURCE_NAME, county_regions, write_residents


def test_demo_hosts_the_population_entry(session):
    summary = demo.load(session)
    rows = get_exchange_settings().demo_residents
    assert summary.hosted_rows == rows == 3000  # tests/conftest.py: fewer than make run's 100,000
    from sqlalchemy import select

    from govshare.catalog.models import CatalogResource

    entry = session.scalar(select(CatalogResource).where(CatalogResource.name == RESOURCE_NAME))
    source = query.load_source(session, entry.id)
    suzhou = query.scope_codes(session, "320500")
    page = query.query_hosted(
        source, items=["公民身份号码", "出生日期", "性别", "行政区划代码"], region_codes=suzhou, limit=1000
    )
    assert 0 < page.total < rows
    for r in page.rows:
        assert r["行政区划代码"] in suzhou and r["公民身份号码"][:6] == r["行政区划代码"]
        assert r["公民身份号码"][6:14] == r["出生日期"].strftime("%Y%m%d")
        assert (int(r["公民身份号码"][16]) % 2 == 1) == (r["性别"] == "男")
    person = page.rows[0]
    v = query.verify_hosted(
        source,
        key_item="公民身份号码",
        key_value=person["公民身份号码"],
        claims={"性别": person["性别"]},
        region_codes=suzhou,
    )
    assert v.found and v.matches == {"性别": True}
    assert query.query_hosted(source, items=["姓名"], region_codes=None).total == rows


def test_generator_makes_unique_valid_numbers(session, tmp_path):
    demo.load(session)
    regions = county_regions(session)
    path = tmp_path / "r.parquet"
    write_residents(path, 50_000, regions)
    reason = identifiers.id_number_reason_sql("id_number", identifiers.sql_date(dt.date(2026, 11, 29)))
    total, distinct, bad, mismatched = (
        duckdb.connect()
        .execute(
            f"SELECT count(*), count(DISTINCT id_number), count(*) FILTER (WHERE ({reason}) IS NOT NULL), "
            f"count(*) FILTER (WHERE substr(id_number, 1, 6) <> region_code) FROM '{path}'"
        )
        .fetchone()
    )
    assert (total, distinct, bad, mismatched) == (50_000, 50_000, 0, 0)
