"""The catalog rules, each with its article: pure checks and the 422 answers of the API."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govshare.catalog import rules
from tests.catalog.catalog_helpers import API, create, entry, open_entry

# --- Pure rules ---------------------------------------------------------------------------------


def _codes(content):
    return [v.code for v in rules.violations(content)]


def test_basic_resource_not_shared_needs_legal_basis_art_7():
    c = entry(share_type="not_shared", legal_basis=None)
    vs = rules.violations(c)
    assert [v.code for v in vs] == ["catalog.basic.not_shared_without_basis"]
    assert vs[0].article == "Art 7(1)" and vs[0].field == "legal_basis"
    assert _codes(entry(share_type="not_shared", legal_basis="无")) == ["catalog.basic.not_shared_without_basis"]
    assert _codes(entry(share_type="not_shared", legal_basis="《中华人民共和国保守国家秘密法》第九条")) == []


def test_not_shared_needs_legal_basis_art_13():
    vs = rules.violations(open_entry(share_type="not_shared"))
    assert [(v.code, v.article, v.field) for v in vs] == [
        ("catalog.not_shared.legal_basis_required", "Art 13", "legal_basis")
    ]
    assert _codes(open_entry(share_type="not_shared", legal_basis="n/a")) == ["catalog.not_shared.legal_basis_required"]
    assert _codes(open_entry(share_type="not_shared", legal_basis="涉及商业秘密（《反不正当竞争法》第九条）")) == []


def test_conditional_needs_conditions_art_10():
    vs = rules.violations(entry(share_conditions="  "))
    assert [(v.code, v.article, v.field) for v in vs] == [
        ("catalog.conditional.conditions_required", "Art 10", "share_conditions")
    ]


@pytest.mark.parametrize("fee", ["5", 0.01, "abc", -1])
def test_no_fee_art_16(fee):
    vs = rules.violations(open_entry(fee=fee))
    assert [(v.code, v.article, v.field) for v in vs] == [("catalog.fee.not_allowed", "Art 16", "fee")]


@given(st.decimals(allow_nan=False, allow_infinity=False, places=2))
def test_fee_rule_accepts_only_zero(fee):
    assert rules.fee_is_zero(fee) == (fee == 0)


def test_update_deadline_1_to_20_workdays_art_15():
    assert _codes(open_entry(update_deadline_workdays=20)) == []
    assert _codes(open_entry(update_deadline_workdays=1)) == []
    for days, code in ((0, "too_short"), (-3, "too_short"), (21, "too_long"), (60, "too_long"), (True, "invalid")):
        vs = rules.violations(open_entry(update_deadline_workdays=days))
        assert [(v.code, v.article) for v in vs] == [(f"catalog.update_deadline.{code}", "Art 15")], days
    (short,) = rules.violations(open_entry(update_deadline_workdays=0))
    assert "至少为 1 个工作日" in short.zh and "at least 1 working day" in short.en


def test_update_deadline_zero_over_the_api(client, world):
    body = {
        "classification": "departmental",
        "name": "图书馆名录",
        "format": "database",
        "share_type": "unconditional",
        "provision_method": "gateway_api",
        "update_cycle": "daily",
    }
    r = client.post("/api/v1/catalog", json={**body, "update_deadline_workdays": 0}, headers=world.h("gat_staff"))
    assert r.status_code == 422
    assert (r.json()["code"], r.json()["field"], r.json()["article"]) == (
        "catalog.update_deadline.too_short",
        "update_deadline_workdays",
        "Art 15",
    )
    r = client.post("/api/v1/catalog", json={**body, "update_deadline_workdays": 21}, headers=world.h("gat_staff"))
    assert r.status_code == 422 and r.json()["code"] == "catalog.update_deadline.too_long"


def test_category_must_fit_classification():
    assert _codes(entry(category=None)) == ["catalog.category.required"]
    assert _codes(entry(category="health")) == ["catalog.category.invalid"]  # a theme, not a basic category
    assert _codes(entry(classification="thematic", category="health")) == []
    assert _codes(open_entry(category="population")) == ["catalog.category.not_applicable"]


def test_sensitive_data_cannot_be_unconditional_art_18():
    vs = rules.violations(entry(share_type="unconditional"))
    assert [(v.code, v.article, v.field) for v in vs] == [("catalog.unconditional.sensitive", "Art 18", "share_type")]
    assert _codes(open_entry(contains_commercial_secret=True)) == ["catalog.unconditional.sensitive"]
    assert _codes(open_entry(security_classification="secret")) == ["catalog.unconditional.sensitive"]


def test_item_flags_must_show_on_the_entry_art_18_19():
    c = entry(contains_personal_info=False)
    assert "catalog.personal_info.undeclared" in _codes(c)
    c = open_entry(data_items=[{"name": "坐标", "is_secret": True}])
    vs = rules.violations(c)
    assert [(v.code, v.article) for v in vs] == [("catalog.security.undeclared", "Art 19")]


def test_duplicate_item_names():
    c = open_entry(data_items=[{"name": "地址"}, {"name": "地址"}])
    assert _codes(c) == ["catalog.data_item.duplicate"]


def test_resource_code_scheme():
    assert rules.code_prefix("basic", "population") == "101"
    assert rules.code_prefix("basic", "e_licence") == "105"
    assert rules.code_prefix("thematic", "health") == "202"
    assert rules.code_prefix("departmental", None) == "300"
    assert rules.resource_code("101", 123) == "101-000123"
    assert rules.RESOURCE_CODE_RE.match("101-000123")
    with pytest.raises(ValueError):
        rules.resource_code("101", 1_000_000)


def test_every_rule_names_its_article():
    for rule in rules.RULES:
        assert "Art " in (rule.__doc__ or ""), rule.__name__


# --- The API answers with problem+json naming rule, article and field ---------------------------


@pytest.mark.parametrize(
    ("body", "code", "article", "field"),
    [
        (entry(share_type="not_shared"), "catalog.basic.not_shared_without_basis", "Art 7(1)", "legal_basis"),
        (open_entry(share_type="not_shared"), "catalog.not_shared.legal_basis_required", "Art 13", "legal_basis"),
        (entry(share_conditions=None), "catalog.conditional.conditions_required", "Art 10", "share_conditions"),
        (open_entry(fee="100"), "catalog.fee.not_allowed", "Art 16", "fee"),
        (
            open_entry(update_deadline_workdays=30),
            "catalog.update_deadline.too_long",
            "Art 15",
            "update_deadline_workdays",
        ),
        (entry(share_type="unconditional"), "catalog.unconditional.sensitive", "Art 18", "share_type"),
    ],
)
def test_api_refuses_with_article(client, world, body, code, article, field):
    r = client.post(API, json=body, headers=world.h("gat_staff"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    p = r.json()
    assert (p["code"], p["article"], p["field"]) == (code, article, field)
    assert p["violations"][0]["code"] == code
    # English titles when asked.
    r = client.post(API, json=body, headers={**world.h("gat_staff"), "Accept-Language": "en"})
    assert r.json()["title"].isascii()
    # Nothing was stored.
    assert client.get(API, params={"mine": True}, headers=world.h("gat_staff")).json()["total"] == 0


def test_api_reports_all_violations(client, world):
    r = client.post(API, json=open_entry(share_type="not_shared", fee="1"), headers=world.h("gat_staff"))
    p = r.json()
    assert [v["code"] for v in p["violations"]] == [
        "catalog.not_shared.legal_basis_required",
        "catalog.fee.not_allowed",
    ]


def test_edit_breaking_a_rule_is_refused_and_changes_nothing(client, world):
    made = create(client, world.h("gat_staff"), open_entry())
    r = client.patch(f"{API}/{made['id']}", json={"share_type": "conditional"}, headers=world.h("gat_staff"))
    assert r.status_code == 422 and r.json()["code"] == "catalog.conditional.conditions_required"
    again = client.get(f"{API}/{made['id']}", headers=world.h("gat_staff")).json()
    assert again["share_type"] == "unconditional" and again["version_number"] == 1


def test_bad_enum_is_a_422_naming_the_field(client, world):
    r = client.post(API, json=entry(share_type="sometimes"), headers=world.h("gat_staff"))
    assert r.status_code == 422
    assert r.json()["field"] == "share_type"
    r = client.post(API, json=entry(colour="red"), headers=world.h("gat_staff"))
    assert r.status_code == 422 and r.json()["field"] == "colour"
