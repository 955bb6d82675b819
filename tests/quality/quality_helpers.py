"""Helpers for the quality tests: the register of data elements, an authoritative hosted dataset
(the exchange tests' residents, provided by js-gat) and a secondary holder's copy of it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from govshare.core.auth import OPERATOR
from govshare.core.identifiers import make_id_number
from govshare.quality import service
from tests.exchange.exchange_helpers import attach_hosted, csv_bytes, publish_entry, residents, upload

API = "/api/v1/quality"

ELEMENTS = [
    ("DE0001", "公民身份号码", "Citizen identity number", "string", "id_number", "id_number"),
    ("DE0002", "姓名", "Name", "string", "none", "name"),
    ("DE0005", "统一社会信用代码", "Unified social credit code", "string", "uscc", "uscc"),
]


def register(session: Session) -> None:
    """The elements above; identity numbers assigned to js-gat for the whole province."""
    for code, name, name_en, data_type, rule, field_code in ELEMENTS:
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
        session, "DE0001", region_code="320000", agency_ref="js-gat", basis="《居民身份证法》", by=OPERATOR
    )
    service.elements.assign_source(
        session, "DE0005", region_code="320000", agency_ref="js-dsj", basis="省政府分工", by=OPERATOR
    )


def primary_dataset(session: Session, client: Any, world: Any) -> Any:
    """js-gat's published hosted dataset with the 30 residents as version 1."""
    resource = publish_entry(session)
    session.commit()
    attach_hosted(client, world, resource.id)
    r = upload(client, world, resource.id, "residents.csv", csv_bytes(residents()))
    assert r.status_code == 201, r.text
    return resource


def secondary_rows() -> list[dict[str, str]]:
    """The residents as another agency holds them: 2 missing, 1 extra, 3 names differ, 1 invalid ID
    number, and formatting differences that the normalisation rules remove (not discrepancies)."""
    rows = [dict(r) for r in residents()]
    del rows[28:30]  # missing in the secondary copy: 2
    rows[0]["姓名"] = "张三"  # mismatches: 3
    rows[1]["姓名"] = "李四"
    rows[2]["姓名"] = "王五"
    rows[3]["姓名"] = " " + rows[3]["姓名"] + "  "  # whitespace: equal after normalisation
    born = dt.date.fromisoformat(rows[4]["出生日期"])
    rows[4]["出生日期"] = f"{born.year}年{born.month}月{born.day}日"  # date format: equal after normalisation
    rows[5]["公民身份号码"] = rows[5]["公民身份号码"][:-1] + ("0" if rows[5]["公民身份号码"][-1] != "0" else "1")
    rows.append({**rows[6], "公民身份号码": make_id_number("320508", dt.date(1990, 5, 5), 777), "姓名": "新人"})
    return rows


SECONDARY_HEADER = ["公民身份号码", "姓名", "出生日期", "性别"]


def secondary_csv(encoding: str = "utf-8") -> bytes:
    return csv_bytes(secondary_rows(), SECONDARY_HEADER, encoding=encoding)


def start_upload(
    client: Any,
    world: Any,
    resource: Any,
    data: bytes,
    *,
    who: str = "szsj_admin",
    filename: str = "copy.csv",
    **fields: str,
) -> Any:
    body = {"primary": str(resource.id), "key": "公民身份号码", "items": "姓名,出生日期,性别", **fields}
    return client.post(f"{API}/reconciliations", files={"file": (filename, data)}, data=body, headers=world.h(who))
