"""Demo hosted dataset: generated residents across Jiangsu, served as 全省人口基础信息 (Art 14(2)).

``load_demo_exchange`` (called by ``govshare demo load`` after the catalog) generates 100,000
residents (setting ``demo_residents``) with DuckDB SQL in a second or two and uploads them
through the same service a provider uses (``service.upload_version``): validated item by item,
ID check characters included, stored as Parquet. Every resident lives in one of the demo's
counties; the first six digits of the identity number are that county's code and agree with the
row's region code, so a Suzhou grant sees Suzhou's residents. Names, birth dates, sexes and
addresses are made up, deterministic (seeded), and valid: each identity number carries its birth
date, its sex (odd sequence: male) and its check character.

:func:`write_residents` is also the generator of the hosted-query benchmark (10,000,000 rows).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import duckdb
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.catalog.models import CatalogResource
from govshare.core import identifiers
from govshare.core.auth import OPERATOR
from govshare.registry.models import Region

#: The demo's hosted dataset: the catalog entry (by name and provider) and its interface.
RESOURCE_NAME = "全省人口基础信息"
PROVIDER_CODE = "js-gat"
SEED = 20261129
#: Items of the entry (catalog demo) -> column of the generated file, by field code.
COLUMNS = ("id_number", "name", "gender", "ethnicity", "birth_date", "address", "region_code")

_SURNAMES = (
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "黄",
    "赵",
    "吴",
    "周",
    "徐",
    "孙",
    "马",
    "朱",
    "胡",
    "郭",
    "何",
    "高",
    "林",
    "罗",
    "郑",
    "梁",
    "谢",
    "宋",
    "唐",
    "许",
    "韩",
    "冯",
    "邓",
    "曹",
    "彭",
    "曾",
    "肖",
    "田",
    "董",
    "袁",
    "潘",
    "于",
    "蒋",
    "蔡",
    "余",
    "杜",
    "叶",
    "程",
    "苏",
    "魏",
    "吕",
    "丁",
    "任",
    "沈",
)
_GIVEN = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀",
    "霞",
    "平",
    "刚",
    "桂",
    "英",
    "华",
    "文",
    "玉",
    "兰",
    "建",
    "国",
    "宇",
    "浩",
    "婷",
    "雪",
    "琳",
    "晨",
    "欣",
    "博",
    "睿",
    "怡",
    "子",
    "梓",
    "涵",
    "思",
    "嘉",
    "俊",
    "鑫",
    "佳",
    "悦",
    "然",
    "宁",
)
_ROADS = (
    "人民路",
    "中山路",
    "建设路",
    "解放路",
    "长江路",
    "和平路",
    "新华路",
    "东风路",
    "学府路",
    "文化路",
    "园林路",
    "友谊路",
    "健康路",
    "运河路",
    "太湖路",
    "青年路",
)
_ETHNICITIES = ("汉族",) * 97 + ("回族", "满族", "蒙古族")
#: Birth dates span 1935-01-01 .. 2014-12-31 (80 years).
_BORN_FROM = dt.date(1935, 1, 1)
_BORN_DAYS = (dt.date(2015, 1, 1) - _BORN_FROM).days


def _list(values: Sequence[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def write_residents(
    path: Path,
    count: int,
    regions: Sequence[tuple[str, str]],
    *,
    seed: int = SEED,
    con: duckdb.DuckDBPyConnection | None = None,
    fmt: str = "parquet",
) -> None:
    """Write ``count`` residents of ``regions`` ((code, name) of counties) to ``path`` (Parquet or CSV)
    with columns :data:`COLUMNS`. Identity numbers are unique: row i takes the county ``i mod R``
    and a birth day and sequence number from a bijection of ``i div R`` (a multiplier coprime to the
    number of (day, sequence) pairs), so no two rows share region, birth day and sequence."""
    r = len(regions)
    space = _BORN_DAYS * 1000
    if count > r * space:
        raise ValueError("more residents than the regions' identity numbers allow")
    mult = 7_919 * 104_729  # primes; coprime to space (29220 * 1000 has factors 2, 3, 5, 487)
    codes, names = _list([c for c, _ in regions]), _list([n for _, n in regions])
    first17 = "(t.region || strftime(t.birth, '%Y%m%d') || lpad(t.seq::VARCHAR, 3, '0'))"
    sql = f"""
        WITH base AS (
            SELECT i, (i % {r}) + 1 AS ri, ((i // {r}) * {mult} + {seed}) % {space} AS k FROM range({count}) t(i)
        ), t AS (
            SELECT i, {codes}[ri] AS region, {names}[ri] AS region_name,
                   DATE '{_BORN_FROM.isoformat()}' + (k // 1000)::INTEGER AS birth, (k % 1000)::INTEGER AS seq,
                   hash(i, {seed}) AS h
            FROM base
        )
        SELECT {first17} || {identifiers.id_check_char_sql(first17)} AS id_number,
               {_list(_SURNAMES)}[(h % {len(_SURNAMES)})::INTEGER + 1]
                 || {_list(_GIVEN)}[((h // 64) % {len(_GIVEN)})::INTEGER + 1]
                 || CASE WHEN h % 3 = 0 THEN '' ELSE {_list(_GIVEN)}[((h // 4096) % {len(_GIVEN)})::INTEGER + 1] END
                 AS name,
               CASE WHEN t.seq % 2 = 1 THEN '男' ELSE '女' END AS gender,
               {_list(_ETHNICITIES)}[((h // 262144) % {len(_ETHNICITIES)})::INTEGER + 1] AS ethnicity,
               t.birth AS birth_date,
               '江苏省' || t.region_name || {_list(_ROADS)}[((h // 16777216) % {len(_ROADS)})::INTEGER + 1]
                 || ((h // 1024) % 300 + 1)::VARCHAR || '号' AS address,
               t.region AS region_code
        FROM t ORDER BY i
    """
    own = con is None
    con = con or duckdb.connect()
    try:
        options = "FORMAT parquet, COMPRESSION zstd" if fmt == "parquet" else "FORMAT csv, HEADER true"
        con.execute(f"COPY ({sql}) TO '{str(path).replace(chr(39), chr(39) * 2)}' ({options})")
    finally:
        if own:
            con.close()


def county_regions(session: Session, under: str = "320000") -> list[tuple[str, str]]:
    """(code, name) of the county-level regions of the registry below ``under`` (city name first)."""
    root = session.get(Region, under)
    if root is None:
        return []
    rows = session.execute(
        select(Region.code, Region.name, Region.parent_code)
        .where(Region.level == "county", Region.path.like(root.path + "/%"))
        .order_by(Region.code)
    ).all()
    cities = dict(session.execute(select(Region.code, Region.name).where(Region.level == "city")).all())
    return [(code, cities.get(parent or "", "") + name) for code, name, parent in rows]


@dataclasses.dataclass(frozen=True)
class DemoExchangeSummary:
    resource_code: str | None
    rows: int


def load_demo_exchange(session: Session, *, residents: int | None = None) -> DemoExchangeSummary | None:
    """Attach a hosted dataset to the demo's population entry and upload the generated residents.
    Flushes, never commits. Does nothing when the entry or the regions are missing."""
    from govshare.exchange import service
    from govshare.exchange.config import get_exchange_settings
    from govshare.exchange.datasets import storage
    from govshare.exchange.schemas import InterfaceCreate

    resource = session.scalar(
        select(CatalogResource).where(CatalogResource.name == RESOURCE_NAME, CatalogResource.status == "published")
    )
    regions = county_regions(session)
    if resource is None or not regions or resource.provision_method != "hosted_dataset":
        return None
    service.attach_interface(
        session,
        resource.id,
        InterfaceCreate(kind="hosted_dataset", required_items=["姓名", "性别", "出生日期"], key_items=["公民身份号码"]),
        by=OPERATOR,
    )
    with storage.temporary(".parquet") as path:
        write_residents(path, residents or get_exchange_settings().demo_residents, regions)
        version = service.upload_version(
            session,
            resource.id,
            path,
            filename="residents-2026.parquet",
            note="演示数据：生成的居民信息 / demo: generated residents",
            by=OPERATOR,
        )
    return DemoExchangeSummary(resource.code, version.row_count)
