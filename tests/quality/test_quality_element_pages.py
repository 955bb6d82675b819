"""The register's pages (Art 11-12): the authority registers and corrects data elements and assigns
their collecting agency per region; a provider links its entry's items to elements, which runs the
duplicate-collection check. Refusals come back on the form naming the field, nothing stored."""

from __future__ import annotations

import re

from sqlalchemy import select

from govshare.quality.models import QualityDataElement, QualityDuplicateFlag, QualitySourceAssignment
from tests.portal.portal_helpers import browser, field_block, sign_in, token_of
from tests.quality.quality_helpers import register
from tests.quality.test_quality_sources import _sz_entry
from tests.recorded import recorded

NEW = {
    "code": "de0010",
    "name": "性别",
    "name_en": "Sex",
    "data_type": "string",
    "format_rule": "none",
    "field_code": "sex",
    "description": "GB/T 2261.1",
}


def _count(session, model) -> int:  # type: ignore[no-untyped-def]
    n = len(session.scalars(select(model)).all())
    session.rollback()  # end the read (SQLite: one writer at a time)
    return n


def test_the_authority_registers_corrects_and_assigns_an_element(world, session, app):
    register(session)
    session.commit()
    auth = sign_in(browser(app), "prov_auth")
    page = auth.get("/quality/elements")
    assert page.status_code == 200 and 'action="/quality/elements"' in page.text
    token = token_of(page.text)
    before = _count(session, QualityDataElement)

    # A code that is not one: the form again, the error beside the code, nothing stored.
    r = auth.post("/quality/elements", data={**NEW, "code": "1x", "csrf_token": token})
    assert r.status_code == 422
    assert "数据元代码为 2-32 位大写字母" in field_block(r.text, "code")
    assert 'value="性别"' in r.text  # what was typed stays
    # A name the register already has.
    r = auth.post("/quality/elements", data={**NEW, "name": "姓名", "csrf_token": token})
    assert r.status_code == 422 and "数据元 姓名 已存在" in field_block(r.text, "name")
    # A type that is not in the list (a tampered form): named, not a 500.
    r = auth.post("/quality/elements", data={**NEW, "data_type": "blob", "csrf_token": token})
    assert r.status_code == 422 and "类型的取值 blob 无效" in field_block(r.text, "data_type")
    # In English when the page is.
    r = auth.post("/quality/elements?lang=en", data={**NEW, "code": "1x", "csrf_token": token})
    assert r.status_code == 422 and "a data element code is 2-32 upper-case letters" in field_block(r.text, "code")
    auth.get("/quality/elements?lang=zh")  # back to Chinese (the choice is kept in a cookie)
    assert _count(session, QualityDataElement) == before and not recorded("quality.element.created")[3:]

    r = auth.post("/quality/elements", data={**NEW, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/quality/elements/DE0010?done=created"
    page = auth.get(r.headers["location"])
    assert page.status_code == 200 and "数据元已登记" in page.text and "GB/T 2261.1" in page.text
    assert recorded("quality.element.created")[-1].data["code"] == "DE0010"

    # Corrected: the type and the description; the event says what changed, old and new.
    r = auth.post(
        "/quality/elements/DE0010",
        data={**NEW, "name": "", "csrf_token": token_of(page.text)},
    )
    assert r.status_code == 422 and "名称不能为空" in field_block(r.text, "name")
    r = auth.post(
        "/quality/elements/DE0010",
        data={**NEW, "description": "GB/T 2261.1-2003 人的性别代码", "csrf_token": token_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "人的性别代码" in auth.get("/quality/elements/DE0010").text
    (updated,) = recorded("quality.element.updated")
    assert updated.data["changed"] == {"description": ["GB/T 2261.1", "GB/T 2261.1-2003 人的性别代码"]}

    # Assigned for the province to js-gat.
    page = auth.get("/quality/elements/DE0010")
    r = auth.post(
        "/quality/elements/DE0010/assignments",
        data={"region_code": "320000", "agency": "", "csrf_token": token_of(page.text)},
    )
    assert r.status_code == 422 and "请选择采集单位" in field_block(r.text, "agency")
    r = auth.post(
        "/quality/elements/DE0010/assignments",
        data={"region_code": "320000", "agency": "js-gat", "basis": "省政府分工", "csrf_token": token_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = auth.get(r.headers["location"])
    assert "采集单位已确定" in page.text and "省政府分工" in page.text
    assert recorded("quality.source.assigned")[-1].data["element"] == "DE0010"

    # Others read the register, without its forms, and cannot post to them.
    gat = sign_in(browser(app), "gat_staff")
    listing = gat.get("/quality/elements").text
    assert "/quality/elements/DE0010" in listing and 'action="/quality/elements"' not in listing
    assert 'action="/quality/elements/DE0010"' not in gat.get("/quality/elements/DE0010").text
    r = gat.post("/quality/elements", data={**NEW, "code": "DE0011", "name": "民族", "csrf_token": token_of(listing)})
    assert r.status_code == 403
    assert _count(session, QualityDataElement) == before + 1


def test_a_city_authority_assigns_in_its_city_and_ends_it(world, session, app):
    register(session)
    session.commit()
    sz = sign_in(browser(app), "sz_auth")
    page = sz.get("/quality/elements/DE0002")
    assert page.status_code == 200
    regions = re.findall(r'<option value="(\d{6})"', field_block(page.text, "region_code"))
    assert "320500" in regions and "320100" not in regions and "320000" not in regions
    token = token_of(page.text)
    # Nanjing's agency cannot collect for Suzhou: said beside the agency, with the article.
    r = sz.post(
        "/quality/elements/DE0002/assignments",
        data={"region_code": "320500", "agency": "nj-sj", "csrf_token": token},
    )
    assert r.status_code == 422 and "采集单位须为该地区或其上级地区的单位" in field_block(r.text, "agency")
    # Nanjing is not Suzhou's authority's to assign: the 403 page, nothing stored.
    r = sz.post(
        "/quality/elements/DE0002/assignments",
        data={"region_code": "320100", "agency": "nj-sj", "csrf_token": token},
    )
    assert r.status_code == 403
    # A region that does not exist: named, not a 500.
    r = sz.post(
        "/quality/elements/DE0002/assignments",
        data={"region_code": "999999", "agency": "sz-sj", "csrf_token": token},
    )
    assert r.status_code == 422 and "999999" in r.text
    assert _count(session, QualitySourceAssignment) == 2
    r = sz.post(
        "/quality/elements/DE0002/assignments",
        data={"region_code": "320500", "agency": "sz-sj", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = sz.get("/quality/elements/DE0002").text
    (end_action,) = re.findall(r'action="(/quality/assignments/\d+/end)"', page)
    r = sz.post(end_action, data={"csrf_token": token_of(page)}, follow_redirects=False)
    assert r.status_code == 303 and "采集分工已终止" in sz.get(r.headers["location"]).text
    assert len(recorded("quality.source.ended")) == 1
    # Ended already: said on the page, not a 500.
    r = sz.post(end_action, data={"csrf_token": token_of(page)})
    assert r.status_code == 422 and "没有这项有效的采集分工" in r.text


def test_a_provider_links_its_items_and_the_duplicate_check_runs(world, session, app):
    register(session)
    rid = _sz_entry(session).id
    session.commit()
    flags_before = _count(session, QualityDuplicateFlag)
    auth = sign_in(browser(app), "prov_auth")
    page = auth.get("/quality/elements")
    auth.post("/quality/elements", data={**NEW, "csrf_token": token_of(page.text)})
    page = auth.get("/quality/elements/DE0010")
    auth.post(
        "/quality/elements/DE0010/assignments",
        data={"region_code": "320000", "agency": "js-gat", "csrf_token": token_of(page.text)},
    )

    sz = sign_in(browser(app), "szsj_admin")
    index = sz.get("/quality/links")
    assert index.status_code == 200 and "市场主体登记" in index.text
    page = sz.get(f"/quality/resources/{rid}/links")
    assert page.status_code == 200 and "性别" in page.text and "未关联" in page.text
    token = token_of(page.text)
    # An element that does not exist: said above the table, naming the item; nothing linked.
    r = sz.post(f"/quality/resources/{rid}/links", data={"item": "性别", "element": "DE9999", "csrf_token": token})
    assert r.status_code == 422 and "数据元 DE9999 不存在" in r.text and "信息项 性别" in r.text
    r = sz.post(f"/quality/resources/{rid}/links", data={"item": "不存在", "element": "DE0010", "csrf_token": token})
    assert r.status_code == 422 and "目录条目没有信息项 不存在" in r.text
    r = sz.post(f"/quality/resources/{rid}/links?lang=en", data={"item": "性别", "element": "", "csrf_token": token})
    assert r.status_code == 422 and "Choose a data element" in r.text
    sz.get("/quality/links?lang=zh")
    assert not [e for e in recorded("quality.item.linked") if e.data["item"] == "性别"]

    r = sz.post(
        f"/quality/resources/{rid}/links",
        data={"item": "性别", "element": "DE0010", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = sz.get(r.headers["location"]).text
    assert "已关联" in page and 'href="/quality/elements/DE0010"' in page
    assert [e.data["how"] for e in recorded("quality.item.linked") if e.data["item"] == "性别"] == ["manual"]
    # js-gat collects 性别 for the province: sz-sj registering it is a duplicate collection (Art 11(1)).
    assert _count(session, QualityDuplicateFlag) == flags_before + 1
    assert "市场主体登记" in auth.get("/quality/elements/DE0010").text

    # Another agency may read the links but not change them.
    gat = sign_in(browser(app), "gat_staff")
    other = gat.get(f"/quality/resources/{rid}/links")
    assert 'name="element"' not in other.text
    r = gat.post(
        f"/quality/resources/{rid}/links",
        data={"item": "性别", "element": "DE0001", "csrf_token": token_of(other.text)},
    )
    assert r.status_code == 403


def test_the_api_corrects_an_element_too(world, session, client):
    register(session)
    session.commit()
    body = {"name": "姓名", "name_en": "Full name", "data_type": "string", "format_rule": "none", "field_code": "name"}
    r = client.put("/api/v1/quality/elements/DE0002", json=body, headers=world.h("gat_staff"))
    assert r.status_code == 403
    r = client.put(
        "/api/v1/quality/elements/DE0002", json={**body, "name": "公民身份号码"}, headers=world.h("province_authority")
    )
    assert r.status_code == 409 and r.json()["field"] == "name"
    r = client.put("/api/v1/quality/elements/DE0002", json=body, headers=world.h("province_authority"))
    assert r.status_code == 200 and r.json()["name_en"] == "Full name" and r.json()["code"] == "DE0002"
    assert recorded("quality.element.updated")[-1].data["changed"] == {"name_en": ["Name", "Full name"]}
    # The same again changes nothing and records nothing.
    client.put("/api/v1/quality/elements/DE0002", json=body, headers=world.h("province_authority"))
    assert len(recorded("quality.element.updated")) == 1
