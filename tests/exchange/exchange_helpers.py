"""Helpers for the exchange tests: a published hosted-dataset entry, residents' rows, uploads."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare.catalog import service as catalog_service
from govshare.catalog.schemas import ResourceCreate
from govshare.core.auth import OPERATOR
from govshare.core.db import transaction
from govshare.core.identifiers import make_id_number, make_uscc
from govshare.exchange.datasets import storage
from govshare.exchange.models import ExchangeDatasetVersion

API = "/api/v1/exchange"

#: Items of the test entry: name, field code, type.
ITEMS = [
    ("公民身份号码", "id_number", "string"),
    ("姓名", None, "string"),
    ("性别", None, "string"),
    ("出生日期", None, "date"),
    ("家庭人口数", None, "integer"),
    ("月收入", None, "decimal"),
    ("是否低保", None, "boolean"),
    ("登记时间", None, "datetime"),
    ("经营主体代码", "uscc", "string"),
    ("行政区划代码", "region_code", "string"),
]
HEADER = [name for name, _c, _t in ITEMS]
#: Regions of tests.factories.World, the row counts of each in :func:`residents`.
REGION_ROWS = {"320000": 4, "320100": 10, "320500": 8, "320508": 8}
USCC = make_uscc("9", "1", "320508", "12345678")


def entry_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "provider": "js-gat",
        "classification": "basic",
        "category": "population",
        "name": "低保家庭信息",
        "abstract": "测试用托管数据集。",
        "format": "database",
        "share_type": "conditional",
        "share_conditions": "仅限履行法定职责",
        "provision_method": "hosted_dataset",
        "update_cycle": "monthly",
        "security_classification": "restricted",
        "contains_personal_info": True,
        "data_items": [
            {"name": n, "field_code": c, "data_type": t, "is_personal": n in ("公民身份号码", "姓名")}
            for n, c, t in ITEMS
        ],
    }
    body.update(overrides)
    return body


def publish_entry(session: Session, **overrides: Any) -> Any:
    made = catalog_service.create_resource(session, ResourceCreate(**entry_body(**overrides)), by=OPERATOR)
    catalog_service.submit(session, made.id, by=OPERATOR)
    catalog_service.publish(session, made.id, by=OPERATOR)
    return made


def residents() -> list[dict[str, str]]:
    """30 rows across the World's regions; values as text, the way a provider's file holds them."""
    rows = []
    n = 0
    for region, count in REGION_ROWS.items():
        for k in range(count):
            n += 1
            born = dt.date(1950 + n, 1 + n % 12, 1 + n % 28)
            rows.append(
                {
                    "公民身份号码": make_id_number(region, born, 2 * n + (k % 2)),
                    "姓名": f"居民{n:02d}",
                    "性别": "男" if k % 2 else "女",
                    "出生日期": born.isoformat(),
                    "家庭人口数": str(1 + n % 5),
                    "月收入": f"{1000 + n * 10}.50",
                    "是否低保": "是" if n % 3 == 0 else "否",
                    "登记时间": f"2024-0{1 + n % 9}-1{n % 10} 08:30:00",
                    "经营主体代码": USCC if n % 4 == 0 else "",
                    "行政区划代码": region,
                }
            )
    return rows


def csv_bytes(
    rows: list[dict[str, str]], header: list[str] | None = None, *, encoding: str = "utf-8", bom: bool = False
) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    header = header or HEADER
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(h, "") for h in header])
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def jsonl_bytes(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def parquet_bytes(rows: list[dict[str, str]], tmp: Path) -> bytes:
    import duckdb

    src = tmp / "rows.csv"
    src.write_bytes(csv_bytes(rows))
    out = tmp / "rows.parquet"
    con = duckdb.connect()
    # Typed columns, as a provider's own Parquet would have them.
    con.execute(
        f'COPY (SELECT * REPLACE (CAST("出生日期" AS DATE) AS "出生日期", CAST("家庭人口数" AS BIGINT) '
        f"AS \"家庭人口数\") FROM read_csv('{src}', all_varchar = true)) TO '{out}' (FORMAT parquet)"
    )
    con.close()
    return out.read_bytes()


def attach_hosted(client: Any, world: Any, ref: Any, **fields: Any) -> dict[str, Any]:
    body = {"kind": "hosted_dataset", "required_items": ["姓名"], "key_items": ["公民身份号码"], **fields}
    r = client.post(f"{API}/resources/{ref}/interface", json=body, headers=world.h("gat_staff"))
    assert r.status_code == 201, r.text
    return r.json()


def upload(
    client: Any, world: Any, ref: Any, filename: str, data: bytes, *, who: str = "gat_staff", **fields: str
) -> Any:
    return client.post(
        f"{API}/resources/{ref}/versions", files={"file": (filename, data)}, data=fields, headers=world.h(who)
    )


def stored_files() -> list[Path]:
    """Every file under the dataset directory (accepted versions and anything left in tmp/)."""
    root = storage.dataset_dir()
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def version_rows() -> int:
    with transaction() as s:
        return s.scalar(select(func.count()).select_from(ExchangeDatasetVersion)) or 0
