"""Data elements, authoritative sources and duplicate collection (Art 11(1), Art 12)."""

from __future__ import annotations

import pytest

from govshare.catalog import service as catalog_service
from govshare.catalog.schemas import ResourceCreate, ResourceUpdate
from govshare.core.auth import OPERATOR, Principal
from govshare.core.errors import Forbidden, InvalidInput
from govshare.quality import service
from govshare.quality.models import QualityDuplicateFlag
from tests.exchange.exchange_helpers import entry_body
from tests.quality.quality_helpers import API, register
from tests.recorded import recorded


def _sz_entry(session, **overrides):  # type: ignore[no-untyped-def]
    body = entry_body(
        provider="sz-sj",
        name="市场主体登记",
        classification="departmental",
        category=None,
        provision_method="off_platform",
        **overrides,
    )
    return catalog_service.create_resource(session, ResourceCreate(**body), by=OPERATOR)


def test_registering_an_item_another_agency_collects_is_flagged(world, session, client):
    register(session)
    resource = _sz_entry(session)
    session.commit()
    flags = session.query(QualityDuplicateFlag).all()
    # 公民身份号码 is js-gat's, 统一社会信用代码 (经营主体代码, field code uscc) js-dsj's: two flags.
    assert sorted((f.item_name, f.assigned_agency_id != f.agency_id) for f in flags) == [
        ("公民身份号码", True),
        ("经营主体代码", True),
    ]
    # The provider of the source itself is not flagged for its own element.
    links = service.elements.links_of(session, resource.id)
    assert links["公民身份号码"].element.code == "DE0001"
    session.rollback()  # end the read (SQLite: one writer at a time)
    ev = recorded("quality.duplicate.flagged")
    assert len(ev) == 2 and ev[0].agency_code == "sz-sj" and ev[0].data["article"] == "Art 11(1)"

    # The authority sees every flag; the assigned agency sees the flag on its element; others nothing.
    listed = client.get(f"{API}/duplicates", headers=world.h("province_authority")).json()
    assert listed["total"] == 2
    assert client.get(f"{API}/duplicates", headers=world.h("gat_staff")).json()["total"] == 1
    assert client.get(f"{API}/duplicates", headers=world.h("nanjing_authority")).json()["total"] == 0

    flag_id = next(f["id"] for f in listed["items"] if f["item"] == "公民身份号码")
    # The exception needs its citation; only the flagged agency answers.
    r = client.post(
        f"{API}/duplicates/{flag_id}/answer", json={"answer": "legal_exception"}, headers=world.h("szsj_admin")
    )
    assert r.status_code == 422 and r.json()["code"] == "quality.duplicate.citation_required"
    assert r.json()["article"] == "Art 11(1)"
    r = client.post(
        f"{API}/duplicates/{flag_id}/answer", json={"answer": "switch_to_sharing"}, headers=world.h("gat_staff")
    )
    assert r.status_code == 403
    r = client.post(
        f"{API}/duplicates/{flag_id}/answer",
        headers=world.h("szsj_admin"),
        json={"answer": "legal_exception", "citation": "《市场主体登记管理条例》第九条"},
    )
    assert r.status_code == 200 and r.json()["state"] == "legal_exception"
    seen = client.get(f"{API}/duplicates/{flag_id}", headers=world.h("province_authority")).json()
    assert seen["citation"] == "《市场主体登记管理条例》第九条"
    r = client.post(
        f"{API}/duplicates/{flag_id}/answer", json={"answer": "switch_to_sharing"}, headers=world.h("szsj_admin")
    )
    assert r.status_code == 409


def test_a_revision_adding_an_item_is_flagged_and_the_source_itself_never(world, session):
    register(session)
    body = entry_body(
        provider="sz-sj",
        name="个体户",
        classification="departmental",
        category=None,
        provision_method="off_platform",
        data_items=[{"name": "字号", "data_type": "string"}, {"name": "区划", "field_code": "region_code"}],
    )
    made = catalog_service.create_resource(session, ResourceCreate(**body), by=OPERATOR)
    catalog_service.submit(session, made.id, by=OPERATOR)
    catalog_service.publish(session, made.id, by=OPERATOR)
    assert session.query(QualityDuplicateFlag).count() == 0
    items = [*body["data_items"], {"name": "经营者身份证号", "field_code": "id_number", "data_type": "string"}]
    catalog_service.update_resource(session, made.id, ResourceUpdate(data_items=items), by=OPERATOR)
    flags = session.query(QualityDuplicateFlag).all()
    assert [(f.item_name, f.trigger) for f in flags] == [("经营者身份证号", "revision")]
    # js-gat's own entry: its ID numbers raise nothing, its credit codes (js-dsj's element) do.
    own = catalog_service.create_resource(session, ResourceCreate(**entry_body(name="人口库")), by=OPERATOR)
    assert [f.item_name for f in session.query(QualityDuplicateFlag).filter_by(resource_id=own.id)] == ["经营主体代码"]


def test_assignments_are_the_authoritys_within_its_region(world, session, client):
    register(session)
    session.commit()
    # The Suzhou authority assigns in Suzhou, not in Nanjing; an agency of Nanjing cannot collect for Suzhou.
    r = client.post(
        f"{API}/elements/DE0002/assignments",
        json={"region_code": "320100", "agency": "nj-sj"},
        headers=world.h("suzhou_authority"),
    )
    assert r.status_code == 403 and r.json()["article"] == "Art 12"
    r = client.post(
        f"{API}/elements/DE0002/assignments",
        json={"region_code": "320500", "agency": "nj-sj"},
        headers=world.h("suzhou_authority"),
    )
    assert r.status_code == 422 and r.json()["code"] == "quality.assignment.agency_out_of_region"
    r = client.post(
        f"{API}/elements/DE0002/assignments",
        json={"region_code": "320500", "agency": "sz-sj"},
        headers=world.h("suzhou_authority"),
    )
    assert r.status_code == 201 and r.json()["agency"] == "sz-sj"
    # The nearest assignment wins: Suzhou's own below, the province's elsewhere.
    el = service.elements.get_element(session, "DE0002")
    assert service.elements.authoritative_source(session, el.id, "320508").agency.code == "sz-sj"
    assert service.elements.authoritative_source(session, el.id, "320100") is None
    session.rollback()
    r = client.post(f"{API}/elements", json={"code": "DE9", "name": "x"}, headers=world.h("gat_staff"))
    assert r.status_code == 403
    listed = client.get(f"{API}/assignments?element=DE0002", headers=world.h("gat_staff")).json()
    assert [a["region_code"] for a in listed] == ["320500"]


def test_bad_element_input_is_refused_naming_the_field(world, session):
    with pytest.raises(InvalidInput) as bad:
        service.elements.create_element(
            session,
            code="1x",
            name="x",
            name_en=None,
            data_type="string",
            format_rule="none",
            field_code=None,
            description=None,
            by=OPERATOR,
        )
    assert bad.value.field == "code"
    with pytest.raises(Forbidden):
        service.elements.create_element(
            session,
            code="DE1",
            name="x",
            name_en=None,
            data_type="string",
            format_rule="none",
            field_code=None,
            description=None,
            by=Principal(kind="person", id=99, name="nobody"),
        )
