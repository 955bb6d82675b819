"""Helpers for the catalog tests: valid entry payloads and the walk from draft to published."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

API = "/api/v1/catalog"


def entry(**overrides: Any) -> dict[str, Any]:
    """A valid basic (population) entry, shared on conditions, with personal data items."""
    body: dict[str, Any] = {
        "classification": "basic",
        "category": "population",
        "name": "人口基础信息",
        "abstract": "全省常住人口和户籍人口的基础登记信息，包括姓名、公民身份号码、户籍地址。",
        "format": "database",
        "share_type": "conditional",
        "share_conditions": "仅限履行法定职责的行政机关按需调用，须签订保密协议",
        "provision_method": "gateway_api",
        "open_to_public": True,
        "update_cycle": "daily",
        "security_classification": "restricted",
        "contains_personal_info": True,
        "sectors": ["public_safety", "civil_affairs"],
        "data_items": [
            {"name": "公民身份号码", "field_code": "id_number", "data_type": "string", "is_personal": True},
            {"name": "姓名", "data_type": "string", "is_personal": True},
            {"name": "户籍地址", "data_type": "string", "is_personal": True},
        ],
    }
    body.update(overrides)
    return body


def open_entry(**overrides: Any) -> dict[str, Any]:
    """A departmental entry without personal data, shared unconditionally."""
    body = {
        "classification": "departmental",
        "name": "公共图书馆名录",
        "abstract": "公共图书馆名称、地址和开放时间。",
        "format": "spreadsheet",
        "share_type": "unconditional",
        "provision_method": "hosted_dataset",
        "open_to_public": True,
        "update_cycle": "yearly",
        "security_classification": "public",
        "sectors": ["culture"],
        "data_items": [{"name": "图书馆名称"}, {"name": "地址"}],
    }
    body.update(overrides)
    return body


def create(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    r = client.post(API, json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def publish(
    client: TestClient,
    world: Any,
    body: dict[str, Any],
    *,
    provider: str = "gat_staff",
    authority: str = "province_authority",
) -> dict[str, Any]:
    """Create, submit and publish an entry; returns the published entry."""
    made = create(client, world.h(provider), body)
    r = client.post(f"{API}/{made['id']}/submit", headers=world.h(provider))
    assert r.status_code == 200, r.text
    r = client.post(f"{API}/{made['id']}/publish", headers=world.h(authority))
    assert r.status_code == 200, r.text
    return r.json()
