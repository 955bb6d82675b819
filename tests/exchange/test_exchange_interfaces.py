"""Provider interfaces (Art 15): attaching a proxied API or a hosted dataset, what is checked, events,
and who may do it."""

from __future__ import annotations

import json

import pytest

from govshare.exchange import rules
from tests.exchange.exchange_helpers import API, attach_hosted, entry_body, publish_entry
from tests.recorded import recorded

OPENAPI_JSON = json.dumps(
    {
        "openapi": "3.0.3",
        "info": {"title": "人口核验接口", "version": "1.2"},
        "paths": {"/verify": {"post": {"responses": {"200": {"description": "ok"}}}}},
    }
)
OPENAPI_YAML = """openapi: 3.1.0
info:
  title: Population
  version: 2026.1
webhooks: {}
"""


@pytest.fixture
def proxied(world, session):  # type: ignore[no-untyped-def]
    made = publish_entry(session, name="居民身份证签发信息", provision_method="gateway_api")
    session.commit()
    return made


def _attach(client, world, ref, who="gat_staff", **body):  # type: ignore[no-untyped-def]
    return client.post(
        f"{API}/resources/{ref}/interface",
        json={"kind": "proxied_api", **body},
        headers={**world.h(who), "Accept-Language": "en"},
    )


def test_attach_a_proxied_api_with_openapi(proxied, client, world):
    r = _attach(
        client,
        world,
        proxied.id,
        base_url="https://node.gat.js.gov.cn:8443/api/v1",
        openapi=OPENAPI_JSON,
        timeout_ms=3000,
        secrecy_network=True,
        lookup_path="/persons/{id_number}/check",
        change_feed_url="https://node.gat.js.gov.cn/changes",
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["kind"] == "proxied_api" and body["base_url"] == "https://node.gat.js.gov.cn:8443/api/v1"
    assert (body["openapi_title"], body["openapi_version"], body["has_openapi"]) == ("人口核验接口", "1.2", True)
    assert body["timeout_ms"] == 3000 and body["secrecy_network"] is True and body["provider"] == "js-gat"
    doc = client.get(f"{API}/resources/{proxied.id}/interface/openapi", headers=world.h("supervisor")).json()
    assert json.loads(doc["document"])["info"]["title"] == "人口核验接口"
    (event,) = recorded("exchange.interface.attached")
    assert event.data["base_url"] == body["base_url"] and len(event.data["openapi_sha256"]) == 64
    assert "paths" not in event.canonical.decode()  # the document itself is not in the ledger
    r = client.post(
        f"{API}/resources/{proxied.id}/interface",
        json={"kind": "proxied_api", "base_url": "https://x.example"},
        headers=world.h("gat_staff"),
    )
    assert r.status_code == 409 and r.json()["code"] == "exchange.interface.exists"


def test_defaults_and_yaml_openapi(proxied, client, world):
    r = _attach(client, world, proxied.id, base_url="http://10.1.2.3/api", openapi=OPENAPI_YAML)
    assert r.status_code == 201, r.text
    assert r.json()["timeout_ms"] == rules.DEFAULT_TIMEOUT_MS and r.json()["openapi_version"] == "2026.1"
    assert r.json()["secrecy_network"] is False


@pytest.mark.parametrize(
    "url",
    [
        "ftp://node.example/api",
        "node.example/api",
        "https://user:pw@node.example/api",
        "https://@node.example",
        "https://node.example/api?key=secret",
        "https://node.example/api#x",
        "https://node example/api",
        "https://node.example:99999/",
        "javascript:alert(1)",
        "",
        "https://" + "a" * 600,
    ],
)
def test_bad_base_urls_refused(proxied, client, world, url):
    r = _attach(client, world, proxied.id, base_url=url)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "base_url"
    assert recorded("exchange.interface.attached") == []


@pytest.mark.parametrize(
    "doc,why",
    [
        ("{not json", "JSON"),
        ("- a\n- b", "object"),
        ('{"swagger": "2.0", "info": {}}', "openapi"),
        ('{"openapi": "3.0.0", "info": {"title": "x", "version": "1"}}', "paths"),
        ('{"openapi": "3.1.0", "info": {"title": "x", "version": "1"}}', "paths"),
        ('{"openapi": "3.0.0", "info": {"version": "1"}, "paths": {}}', "info"),
        ("openapi: 3.0.0\ninfo: [1]\npaths: {}", "info"),
    ],
)
def test_bad_openapi_refused(proxied, client, world, doc, why):
    r = _attach(client, world, proxied.id, base_url="https://node.example", openapi=doc)
    assert r.status_code == 422 and r.json()["code"] == "exchange.interface.openapi_invalid", r.text
    assert r.json()["field"] == "openapi" and why.lower() in r.json()["title"].lower()


@pytest.mark.parametrize(
    "field,value,code",
    [
        ("timeout_ms", 50, "exchange.interface.timeout_out_of_range"),
        ("timeout_ms", 600_000, "exchange.interface.timeout_out_of_range"),
        ("lookup_path", "verify", "exchange.interface.lookup_path_invalid"),
        ("lookup_path", "/a/../../admin", "exchange.interface.lookup_path_invalid"),
        ("lookup_path", "/check?x=1", "exchange.interface.lookup_path_invalid"),
        ("change_feed_url", "https://a:b@c.example", "exchange.interface.url_invalid"),
        ("required_items", ["姓名"], "exchange.interface.field_not_applicable"),
    ],
)
def test_proxied_fields_checked(proxied, client, world, field, value, code):
    r = _attach(client, world, proxied.id, base_url="https://node.example", **{field: value})
    assert r.status_code == 422 and r.json()["code"] == code and r.json()["field"] == field, r.text


def test_kind_must_match_the_provision_method(proxied, world, session, client):
    r = client.post(
        f"{API}/resources/{proxied.id}/interface", json={"kind": "hosted_dataset"}, headers=world.h("gat_staff")
    )
    assert r.status_code == 422 and r.json()["code"] == "exchange.interface.kind_mismatch"
    assert r.json()["article"] == "Art 10"
    filed = publish_entry(session, name="离线文件", provision_method="file")
    session.commit()
    r = _attach(client, world, filed.id, base_url="https://node.example")
    assert r.status_code == 422 and r.json()["code"] == "exchange.interface.kind_mismatch"


def test_state_secrets_need_a_secrecy_network(world, session, client):
    secret = publish_entry(
        session,
        name="涉密资源",
        provision_method="gateway_api",
        share_type="not_shared",
        legal_basis="《中华人民共和国保守国家秘密法》第二十条",
        security_classification="secret",
        contains_personal_info=True,
        open_to_public=False,
    )
    session.commit()
    r = _attach(client, world, secret.id, base_url="https://node.example")
    assert r.status_code == 422 and r.json()["code"] == "exchange.interface.secrecy_network_required"
    assert r.json()["article"] == "Art 18(2)"
    assert _attach(client, world, secret.id, base_url="https://node.example", secrecy_network=True).status_code == 201
    r = client.patch(
        f"{API}/resources/{secret.id}/interface", json={"secrecy_network": False}, headers=world.h("gat_staff")
    )
    assert r.status_code == 422


def test_hosted_interface_defaults_and_checks(world, session, client):
    made = publish_entry(session)
    session.commit()
    r = client.post(
        f"{API}/resources/{made.id}/interface", json={"kind": "hosted_dataset"}, headers=world.h("gat_staff")
    )
    assert r.status_code == 201
    assert r.json()["key_items"] == ["公民身份号码", "经营主体代码"]  # identifier items by default
    r = client.patch(
        f"{API}/resources/{made.id}/interface", json={"key_items": ["不存在"]}, headers=world.h("gat_staff")
    )
    assert r.status_code == 422 and r.json()["code"] == "exchange.item.unknown" and r.json()["field"] == "key_items"
    r = client.patch(
        f"{API}/resources/{made.id}/interface", json={"base_url": "https://x.example"}, headers=world.h("gat_staff")
    )
    assert r.status_code == 422 and r.json()["code"] == "exchange.interface.field_not_applicable"


def test_hosted_entry_needs_a_region_item(world, session, client):
    body = entry_body(name="无地区的资源")
    body["data_items"] = [i for i in body["data_items"] if i["field_code"] != "region_code"]
    from govshare.catalog import service as catalog_service
    from govshare.catalog.schemas import ResourceCreate
    from govshare.core.auth import OPERATOR

    made = catalog_service.create_resource(session, ResourceCreate(**body), by=OPERATOR)
    session.commit()
    r = client.post(
        f"{API}/resources/{made.id}/interface", json={"kind": "hosted_dataset"}, headers=world.h("gat_staff")
    )
    assert r.status_code == 422 and r.json()["code"] == "exchange.dataset.region_item_required"
    assert r.json()["article"] == "Art 14"


def test_update_records_what_changed_and_detach_reattach(proxied, client, world):
    h = world.h("gat_admin")
    assert _attach(client, world, proxied.id, base_url="https://a.example").status_code == 201
    r = client.patch(
        f"{API}/resources/{proxied.id}/interface", json={"timeout_ms": 2000, "openapi": OPENAPI_JSON}, headers=h
    )
    assert r.status_code == 200 and r.json()["timeout_ms"] == 2000
    (event,) = recorded("exchange.interface.updated")
    assert event.data["changed"] == ["openapi_sha256", "timeout_ms"]
    r = client.patch(f"{API}/resources/{proxied.id}/interface", json={"timeout_ms": 2000}, headers=h)
    assert r.status_code == 200 and len(recorded("exchange.interface.updated")) == 1  # no change, no event
    assert (
        client.patch(f"{API}/resources/{proxied.id}/interface", json={"openapi": ""}, headers=h).json()["has_openapi"]
        is False
    )
    assert client.delete(f"{API}/resources/{proxied.id}/interface", headers=h).json()["active"] is False
    assert client.delete(f"{API}/resources/{proxied.id}/interface", headers=h).status_code == 404
    assert (
        client.patch(f"{API}/resources/{proxied.id}/interface", json={"timeout_ms": 900}, headers=h).status_code == 404
    )
    r = _attach(client, world, proxied.id, base_url="https://b.example")
    assert r.status_code == 201 and r.json()["active"] is True and r.json()["base_url"] == "https://b.example"
    assert [e.data.get("reattached") for e in recorded("exchange.interface.attached")] == [False, True]
    assert len(recorded("exchange.interface.detached")) == 1


def test_withdrawn_entries_take_no_interface(proxied, client, world):
    r = client.post(
        f"/api/v1/catalog/{proxied.id}/withdraw",
        json={"reason": "停止提供该资源"},
        headers=world.h("province_authority"),
    )
    assert r.status_code == 200, r.text
    r = _attach(client, world, proxied.id, base_url="https://a.example")
    assert r.status_code == 409 and r.json()["code"] == "exchange.resource.withdrawn"


@pytest.mark.parametrize(
    "who,status",
    [
        ("gat_staff", 201),
        ("gat_admin", 201),
        ("province_authority", 201),
        ("suzhou_authority", 403),
        ("szsj_admin", 403),
        ("supervisor", 403),
        ("secrecy", 403),
    ],
)
def test_who_may_attach(proxied, client, world, who, status):
    assert _attach(client, world, proxied.id, who=who, base_url="https://a.example").status_code == status


@pytest.mark.parametrize(
    "who,visible",
    [
        ("gat_staff", True),
        ("province_authority", True),
        ("supervisor", True),
        ("suzhou_authority", False),
        ("szsj_admin", False),
        ("secrecy", False),
    ],
)
def test_who_may_read(proxied, client, world, who, visible):
    assert _attach(client, world, proxied.id, base_url="https://a.example").status_code == 201
    r = client.get(f"{API}/resources/{proxied.id}/interface", headers=world.h(who))
    assert r.status_code == (200 if visible else 404 if who != "secrecy" else 403)
    listed = client.get(f"{API}/interfaces", headers=world.h(who))
    if who == "secrecy":
        assert listed.status_code == 403
    else:
        assert (listed.json()["total"] == 1) == visible


def test_versions_readable_by_overseers_not_by_others(world, session, client):
    made = publish_entry(session)
    session.commit()
    attach_hosted(client, world, made.id)
    for who, status in (
        ("supervisor", 200),
        ("province_authority", 200),
        ("gat_staff", 200),
        ("szsj_admin", 404),
        ("suzhou_authority", 404),
    ):
        assert client.get(f"{API}/resources/{made.id}/versions", headers=world.h(who)).status_code == status
    assert client.get(f"{API}/resources/{made.id}/versions/1", headers=world.h("gat_staff")).status_code == 404
    assert client.get(f"{API}/resources/{made.id}/versions").status_code == 401
