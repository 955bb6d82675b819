"""Region and agency pages: the tree, the directory and its filters, profiles, create and edit forms."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from govshare.core.auth import OPERATOR
from govshare.core.db import transaction
from govshare.core.events import Event
from govshare.registry import service
from govshare.registry.rules import make_uscc
from govshare.registry.schemas import AgencyUpdate
from tests.portal.portal_helpers import browser, field_block, sign_in, token_of
from tests.recorded import recorded

NEW_USCC = make_uscc("1", "1", "320000", "20000001")


def _form(**override: str) -> dict[str, str]:
    data = {
        "code": "js-wlj",
        "uscc": NEW_USCC,
        "name": "江苏省网络测试局",
        "name_en": "",
        "region_code": "320000",
        "kind": "agency",
        "vertical_system": "",
        "responsible_unit": "信息处",
        "responsible_person": "赵敏",
        "responsible_phone": "025-1234567",
    }
    data.update(override)
    return data


def _post_new(c, **override: str):
    token = token_of(c.get("/agencies/new").text)
    return c.post("/agencies/new", data={**_form(**override), "csrf_token": token}, follow_redirects=False)


# --- Regions ------------------------------------------------------------------------------------


def test_region_tree_nests_cities_and_counties(app, world):
    html = browser(app).get("/regions").text
    tree = html[html.index('class="tree"') :]
    # 姑苏区 sits in a list inside 苏州市's item, which sits inside 江苏省's
    suzhou = tree.index('href="/regions/320500"')
    gusu = tree.index('href="/regions/320508"')
    assert tree.index('href="/regions/320000"') < suzhou < gusu
    assert tree[suzhou:gusu].count("<ul>") == 1
    assert "共 4 个行政区划" in html


def test_region_page_lists_its_agencies_and_subregions(app, world):
    html = browser(app).get("/regions/320500").text
    assert "苏州市" in html and 'href="/regions/320508"' in html  # sub-region
    assert 'href="/agencies/sz-sj"' in html and 'href="/agencies/sz-dsj"' in html
    assert "/agencies/nj-sj" not in html and "/agencies/js-gat" not in html
    assert 'href="/regions/320000"' in html  # breadcrumb up to the province


def test_unknown_region_is_a_404_page(app, world):
    r = browser(app).get("/regions/999999")
    assert r.status_code == 404 and "行政区划 999999 不存在" in r.text


# --- Agency directory ---------------------------------------------------------------------------


def _codes(html: str) -> set[str]:
    return set(re.findall(r'<a href="/agencies/([\w.-]+)">', html))


def test_agency_list_filters(app, world):
    c = browser(app)
    assert _codes(c.get("/agencies").text) == {"js-dsj", "js-gat", "nj-sj", "sz-sj", "sz-dsj"}
    assert _codes(c.get("/agencies", params={"region": "320500"}).text) == {"sz-sj", "sz-dsj"}
    assert _codes(c.get("/agencies", params={"q": "公安"}).text) == {"js-gat"}
    missing = c.get("/agencies", params={"missing": "1"}).text
    assert _codes(missing) == {"nj-sj", "sz-dsj"}  # Art 30: no responsible unit/person
    assert "未明确" in missing
    assert _codes(c.get("/agencies", params={"missing": "1", "region": "320100"}).text) == {"nj-sj"}
    assert "没有符合条件的机关" in c.get("/agencies", params={"q": "不存在的机关"}).text


def test_agency_list_pages_through_results(app, world, session):
    from tests.factories import agency

    for i in range(55):
        agency(session, f"nj-x{i:02d}", f"南京市测试机关{i:02d}", "320100")
    session.commit()
    c = browser(app)
    first = c.get("/agencies", params={"region": "320100"}).text
    assert "共 56 个机关" in first and len(_codes(first)) == 50 and 'rel="next"' in first
    second = c.get("/agencies", params={"region": "320100", "offset": 50}).text
    assert len(_codes(second)) == 6 and 'rel="prev"' in second and 'rel="next"' not in second


def test_agency_profile_shows_art30_state_and_hides_phone_from_the_public(app, world, session):
    service.update_agency(session, "js-gat", AgencyUpdate(responsible_phone="025-88888888"), by=OPERATOR)
    session.commit()
    public = browser(app).get("/agencies/js-gat").text
    assert "江苏省公安厅" in public and "李强" in public and "025-88888888" not in public
    assert "修改登记信息" not in public
    staff = sign_in(browser(app), "gat_staff").get("/agencies/js-gat").text
    assert "025-88888888" in staff and "修改登记信息" not in staff
    admin = sign_in(browser(app), "gat_admin").get("/agencies/js-gat").text
    assert 'href="/agencies/js-gat/edit"' in admin
    lacking = browser(app).get("/agencies/nj-sj").text
    assert "不符合《办法》第三十条的要求" in lacking


# --- Creating an agency -------------------------------------------------------------------------


def test_authority_registers_an_agency_through_the_form(app, world, client):
    c = sign_in(browser(app), "prov_auth")
    r = _post_new(c)
    assert r.status_code == 303 and r.headers["location"] == "/agencies/js-wlj?created=1"
    page = c.get(r.headers["location"])
    assert "机关已登记" in page.text and "江苏省网络测试局" in page.text
    with transaction() as s:
        a = service.get_agency(s, "js-wlj")
        assert (a.uscc, a.region_code, a.responsible_person) == (NEW_USCC, "320000", "赵敏")
        assert a.name_en is None and a.vertical_system is None  # empty fields are stored as absent
    api = client.get("/api/v1/agencies/js-wlj")
    assert api.status_code == 200 and api.json()["name"] == "江苏省网络测试局"
    [event] = recorded("registry.agency.created")[-1:]
    assert event.subject_id == "js-wlj" and event.actor_name == "prov_auth" and event.actor.startswith("person:")


def test_create_form_is_only_for_authorities(app, world):
    r = sign_in(browser(app), "gat_admin").get("/agencies/new")
    assert r.status_code == 403 and "当前身份无权执行此操作" in r.text
    assert browser(app).get("/agencies/new", follow_redirects=False).status_code == 303  # to /login


def test_suzhou_authority_cannot_register_a_nanjing_agency(app, world):
    c = sign_in(browser(app), "sz_auth")
    form_page = c.get("/agencies/new").text
    assert 'value="320500"' in form_page and 'value="320100"' not in form_page  # only its own regions offered
    before = len(recorded("registry.agency.created"))
    r = _post_new(c, code="nj-forged", region_code="320100", name="南京市伪造局")
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("text/html")
    assert "超出您的管辖范围" in r.text and "第五条" in r.text
    assert browser(app).get("/agencies/nj-forged").status_code == 404
    assert len(recorded("registry.agency.created")) == before


def test_bad_input_rerenders_with_errors_next_to_fields_and_keeps_values(app, world):
    c = sign_in(browser(app), "prov_auth")
    r = _post_new(c, code="坏 代号", uscc="91320000ABC", name="局", name_en="Test Bureau")
    assert r.status_code == 422
    assert "机构代号只能包含字母" in field_block(r.text, "code")
    assert "统一社会信用代码应为 18 位" in field_block(r.text, "uscc")
    assert "至少 2 个字符" in field_block(r.text, "name")
    assert 'value="Test Bureau"' in r.text and 'value="赵敏"' in r.text and 'value="坏 代号"' in r.text
    assert 'aria-invalid="true"' in field_block(r.text, "uscc")
    assert "must be 18 characters" not in r.text  # Chinese page: only the Chinese half


def test_missing_fields_are_named(app, world):
    c = sign_in(browser(app), "prov_auth")
    r = _post_new(c, code="", uscc="", name="", region_code="")
    assert r.status_code == 422
    for name in ("code", "uscc", "name", "region_code"):
        assert "请填写此项" in field_block(r.text, name)


def test_service_errors_land_on_their_field(app, world):
    c = sign_in(browser(app), "prov_auth")
    taken = _post_new(c, code="js-gat")
    assert taken.status_code == 422 and "已被其他机关使用" in field_block(taken.text, "code")
    second_authority = _post_new(c, is_authority="on")
    assert second_authority.status_code == 422
    block = field_block(second_authority.text, "is_authority")
    assert "该地区已有信息化主管部门" in block and "第五条" in block
    assert "checked" in block  # the ticked box stays ticked
    nowhere = _post_new(c, region_code="329999")
    assert nowhere.status_code == 422 and "行政区划 329999 不存在" in field_block(nowhere.text, "region_code")
    assert c.get("/agencies/js-wlj").status_code == 404


def test_errors_in_english(app, world):
    c = sign_in(browser(app), "prov_auth")
    c.get("/", params={"lang": "en"})
    r = _post_new(c, uscc="123", code="js-gat")
    assert r.status_code == 422
    assert "must be 18 characters" in field_block(r.text, "uscc")
    assert "统一社会信用代码应为" not in r.text
    assert "The form was not saved" in r.text


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)  # NUL included


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    code=_text,
    uscc=_text,
    name=_text,
    region=st.sampled_from(["320000", "320508", "", "x" * 20, "999999"]),
    kind=st.sampled_from(["agency", "entrusted", "", "bogus"]),
    person=_text,
    phone=_text,
)
def test_create_form_never_fails_with_a_500(app, world, code, uscc, name, region, kind, person, phone):
    c = getattr(app.state, "signed_in_client", None)  # one sign-in for all examples (argon2 is slow)
    if c is None:
        c = app.state.signed_in_client = sign_in(browser(app), "prov_auth")
    r = _post_new(
        c,
        code=code,
        uscc=uscc,
        name=name,
        region_code=region,
        kind=kind,
        responsible_person=person,
        responsible_phone=phone,
    )
    assert r.status_code in (303, 422), r.text[:300]


# --- Editing an agency --------------------------------------------------------------------------


def test_agency_admin_edits_own_agency_but_not_its_authority_flags(app, world):
    c = sign_in(browser(app), "gat_admin")
    page = c.get("/agencies/js-gat/edit")
    assert page.status_code == 200 and 'value="李强"' in page.text
    for locked in ("is_authority", "active", "kind", "vertical_system"):  # Art 5: the authority's to set
        assert f'name="{locked}"' not in page.text
    assert "public_security" in page.text  # shown, not offered
    data = {
        "name": "江苏省公安厅",
        "kind": "entrusted",
        "vertical_system": "forged",
        "responsible_unit": "科技信息化处",
        "responsible_person": "周杰",
        "is_authority": "on",
        "csrf_token": token_of(page.text),
    }
    r = c.post("/agencies/js-gat/edit", data=data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/agencies/js-gat?saved=1"
    with transaction() as s:
        a = service.get_agency(s, "js-gat")
        assert a.responsible_person == "周杰"
        # fields the admin may not set are ignored, not applied
        assert (a.is_authority, a.kind, a.vertical_system) == (False, "agency", "public_security")
    [event] = recorded("registry.agency.updated")
    assert event.data["changes"] == {"responsible_person": {"from": "李强", "to": "周杰"}}


def test_agency_admin_cannot_edit_another_agency(app, world):
    c = sign_in(browser(app), "gat_admin")
    assert c.get("/agencies/js-dsj/edit").status_code == 403
    token = token_of(c.get("/agencies/js-gat/edit").text)
    r = c.post("/agencies/js-dsj/edit", data={"name": "改名", "csrf_token": token})
    assert r.status_code == 403 and "超出您的管辖范围" in r.text
    assert recorded("registry.agency.updated") == []


def test_authority_names_the_art30_person_and_the_flag_clears(app, world):
    c = sign_in(browser(app), "nj_auth")
    page = c.get("/agencies/nj-sj/edit")
    for field in ("is_authority", "active", "kind", "vertical_system"):
        assert f'name="{field}"' in page.text
    data = {
        "name": "南京市市场监督管理局",
        "kind": "authorised",
        "responsible_unit": "信息中心",
        "responsible_person": "孙磊",
        "active": "on",
        "csrf_token": token_of(page.text),
    }
    assert c.post("/agencies/nj-sj/edit", data=data, follow_redirects=False).status_code == 303
    with transaction() as s:
        assert service.get_agency(s, "nj-sj").kind == "authorised"
    assert "nj-sj" not in _codes(c.get("/agencies", params={"missing": "1"}).text)
    assert "修改已保存" in c.get("/agencies/nj-sj?saved=1").text


def test_edit_errors_rerender(app, world):
    c = sign_in(browser(app), "prov_auth")
    token = token_of(c.get("/agencies/js-gat/edit").text)
    r = c.post(
        "/agencies/js-gat/edit",
        data={"name": "", "responsible_person": "x" * 101, "kind": "agency", "active": "on", "csrf_token": token},
    )
    assert r.status_code == 422
    assert "请填写此项" in field_block(r.text, "name")
    assert "最多 100 个字符" in field_block(r.text, "responsible_person")
    r = c.post(
        "/agencies/js-gat/edit",
        data={"name": "江苏省公安厅", "kind": "agency", "is_authority": "on", "active": "on", "csrf_token": token},
    )
    assert r.status_code == 422 and "该地区已有信息化主管部门" in field_block(r.text, "is_authority")
    with transaction() as s:
        assert s.scalar(select(func.count()).select_from(Event).where(Event.action == "registry.agency.updated")) == 0
