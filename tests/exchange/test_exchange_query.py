"""Querying hosted datasets (what the gateway calls): projection, row scope, filters, paging, counts,
injection attempts, and verification that answers booleans only."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from govshare.core.errors import InvalidInput, NotFound
from govshare.exchange import query
from govshare.exchange.query import Filter
from tests.exchange.exchange_helpers import (
    API,
    REGION_ROWS,
    attach_hosted,
    csv_bytes,
    publish_entry,
    residents,
    upload,
)

ALL = residents()


@pytest.fixture
def source(world, session, client):  # type: ignore[no-untyped-def]
    resource = publish_entry(session)
    session.commit()
    attach_hosted(client, world, resource.id)
    r = upload(client, world, resource.id, "a.csv", csv_bytes(ALL))
    assert r.status_code == 201, r.text
    loaded = query.load_source(session, resource.id)
    session.rollback()  # SQLite: a reading transaction holds the write lock the API needs
    return loaded


def _expected(pred=lambda r: True, regions=None):  # type: ignore[no-untyped-def]
    """Rows in stored order: by region code, then file order (what _row numbers)."""
    rows = [r for r in ALL if pred(r) and (regions is None or r["行政区划代码"] in regions)]
    return sorted(rows, key=lambda r: (r["行政区划代码"], ALL.index(r)))


def test_load_source_and_scope_codes(source, session):
    assert source.version == 1 and source.row_count == 30 and source.region_item == "行政区划代码"
    assert source.key_items == {"公民身份号码"}
    assert query.scope_codes(session, "320500") == {"320500", "320508"}
    assert query.scope_codes(session, "320000") == {"320000", "320100", "320500", "320508"}
    with pytest.raises(NotFound):
        query.load_source(session, 999)


def test_projection_returns_only_the_items_asked(source):
    page = query.query_hosted(source, items=["姓名", "出生日期"], region_codes=None, limit=5)
    assert [set(r) for r in page.rows] == [{"姓名", "出生日期"}] * 5
    assert page.rows[0]["出生日期"] == dt.date.fromisoformat(_expected()[0]["出生日期"])
    assert page.total == 30


@pytest.mark.parametrize(
    "scope,regions",
    [
        ({"320500", "320508"}, {"320500", "320508"}),  # Suzhou: its own rows and Gusu's
        ({"320508"}, {"320508"}),
        ({"320100"}, {"320100"}),
        ({"320000", "320100", "320500", "320508"}, None),
        (set(), set()),
    ],
)
def test_row_scope_by_region_subtree(source, scope, regions):
    page = query.query_hosted(source, items=["姓名", "行政区划代码"], region_codes=scope, limit=1000)
    expected = _expected(regions=regions)
    assert [r["姓名"] for r in page.rows] == [r["姓名"] for r in expected]
    assert page.total == len(expected) == sum(REGION_ROWS.get(c, 0) for c in scope)


def test_filters_eq_ne_in_ranges_and_typed_values(source):
    scope = {"320500", "320508"}

    def names(*filters: Filter) -> list[str]:
        page = query.query_hosted(source, items=["姓名"], region_codes=scope, filters=filters, limit=1000)
        assert page.total == len(page.rows)
        return [r["姓名"] for r in page.rows]

    def exp(pred):  # type: ignore[no-untyped-def]
        return [r["姓名"] for r in _expected(pred, scope)]

    assert names(Filter("性别", "eq", "女")) == exp(lambda r: r["性别"] == "女")
    assert names(Filter("性别", "ne", "女")) == exp(lambda r: r["性别"] != "女")
    assert names(Filter("家庭人口数", "in", ["1", 2])) == exp(lambda r: r["家庭人口数"] in ("1", "2"))
    assert names(Filter("出生日期", "ge", "1970-01-01"), Filter("出生日期", "lt", "1975-01-01")) == exp(
        lambda r: "1970-01-01" <= r["出生日期"] < "1975-01-01"
    )
    assert names(Filter("月收入", "gt", "1200.5")) == exp(lambda r: Decimal(r["月收入"]) > Decimal("1200.5"))
    assert names(Filter("是否低保", "eq", "true")) == exp(lambda r: r["是否低保"] == "是")
    assert names(Filter("登记时间", "ge", "2024-05-01T00:00:00")) == exp(lambda r: r["登记时间"] >= "2024-05-01")
    assert names(Filter("公民身份号码", "eq", ALL[20]["公民身份号码"].lower())) == [ALL[20]["姓名"]]


def test_paging_is_stable_and_counts_exact(source):
    seen = []
    for offset in range(0, 30, 7):
        page = query.query_hosted(source, items=["公民身份号码"], region_codes=None, offset=offset, limit=7)
        assert page.total == 30 and page.offset == offset
        seen += [r["公民身份号码"] for r in page.rows]
    assert seen == [r["公民身份号码"] for r in _expected()]
    assert query.query_hosted(source, items=["姓名"], region_codes=None, offset=30, limit=5).rows == []
    assert query.query_hosted(source, items=["姓名"], region_codes=None, count=False).total is None


def test_json_page_matches_the_rows(source):
    scope = {"320100"}
    rows = query.query_hosted(
        source, items=["姓名", "出生日期", "月收入", "是否低保", "登记时间"], region_codes=scope, limit=3
    )
    js = query.query_hosted_json(
        source, items=["姓名", "出生日期", "月收入", "是否低保", "登记时间"], region_codes=scope, limit=3
    )
    parsed = json.loads(js.items_json)
    assert js.total == rows.total == 10 and js.returned == 3 and len(parsed) == 3
    assert parsed[0] == {
        "姓名": rows.rows[0]["姓名"],
        "出生日期": rows.rows[0]["出生日期"].isoformat(),
        "月收入": float(rows.rows[0]["月收入"]),
        "是否低保": rows.rows[0]["是否低保"],
        "登记时间": rows.rows[0]["登记时间"].isoformat(),
    }


def test_items_and_filters_limited_to_allowed(source):
    granted = ["姓名", "性别", "行政区划代码"]
    with pytest.raises(InvalidInput) as e:
        query.query_hosted(source, items=["姓名", "公民身份号码"], allowed=granted, region_codes=None)
    assert e.value.code == "exchange.query.item_not_allowed" and e.value.extra["items"] == ["公民身份号码"]
    with pytest.raises(InvalidInput) as e:
        query.query_hosted(
            source, items=["姓名"], allowed=granted, region_codes=None, filters=[Filter("出生日期", "eq", "1951-02-02")]
        )
    assert e.value.field == "filter.出生日期"
    # Without items: every allowed item, nothing else.
    page = query.query_hosted(source, items=None, allowed=granted, region_codes=None, limit=1)
    assert set(page.rows[0]) == set(granted)


@pytest.mark.parametrize(
    "value",
    [
        "女' OR '1'='1",
        '女"; DROP TABLE x; --',
        "' UNION SELECT c0 FROM read_parquet('/etc/passwd') --",
        "女' --",
        "%",
        "*",
    ],
)
def test_injection_in_values_is_just_a_value(source, value):
    page = query.query_hosted(source, items=["姓名"], region_codes={"320100"}, filters=[Filter("性别", "eq", value)])
    assert page.rows == [] and page.total == 0
    page = query.query_hosted(
        source, items=["姓名"], region_codes={"320100"}, filters=[Filter("性别", "in", [value, "女"])], limit=100
    )
    assert page.total == len([r for r in ALL if r["行政区划代码"] == "320100" and r["性别"] == "女"])


@pytest.mark.parametrize("item", ['姓名" FROM x; --', "c0", "_row", "*", 'c1"', "行政区划代码' OR 1=1 --"])
def test_injection_in_item_names_is_refused(source, item):
    with pytest.raises(InvalidInput) as e:
        query.query_hosted(source, items=[item], region_codes=None)
    assert e.value.code == "exchange.query.item_not_allowed"
    with pytest.raises(InvalidInput):
        query.query_hosted(source, items=["姓名"], region_codes=None, filters=[Filter(item, "eq", "x")])


def test_injection_in_region_codes_matches_nothing(source):
    page = query.query_hosted(source, items=["姓名"], region_codes={"320100' OR '1'='1"})
    assert page.total == 0


@pytest.mark.parametrize(
    "filt,field",
    [
        (Filter("家庭人口数", "eq", "三"), "filter.家庭人口数"),
        (Filter("出生日期", "eq", "1990-13-01"), "filter.出生日期"),
        (Filter("月收入", "eq", "NaN"), "filter.月收入"),
        (Filter("是否低保", "eq", "maybe"), "filter.是否低保"),
        (Filter("姓名", "like", "张%"), "filter.姓名"),
        (Filter("姓名", "in", []), "filter.姓名"),
        (Filter("姓名", "eq", ["a", "b"]), "filter.姓名"),
        (Filter("家庭人口数", "eq", 2**70), "filter.家庭人口数"),
    ],
)
def test_bad_filter_values_refused(source, filt, field):
    with pytest.raises(InvalidInput) as e:
        query.query_hosted(source, items=["姓名"], region_codes=None, filters=[filt])
    assert e.value.field == field


def test_page_bounds(source):
    for offset, limit in ((-1, 10), (0, 0), (0, 100_000)):
        with pytest.raises(InvalidInput):
            query.query_hosted(source, items=["姓名"], region_codes=None, offset=offset, limit=limit)


def test_verification_answers_booleans_only(source):
    person = ALL[12]
    v = query.verify_hosted(
        source,
        key_item="公民身份号码",
        key_value=person["公民身份号码"],
        claims={"姓名": person["姓名"], "出生日期": person["出生日期"], "性别": "错"},
    )
    assert v.as_dict() == {"found": True, "matches": {"姓名": True, "出生日期": True, "性别": False}}
    assert all(isinstance(x, bool) for x in v.matches.values())
    assert person["姓名"] not in json.dumps(v.as_dict(), ensure_ascii=False)
    # Whitespace and the case of X do not matter; an empty record value matches nothing.
    v = query.verify_hosted(
        source,
        key_item="公民身份号码",
        key_value=" " + person["公民身份号码"].lower(),
        claims={"姓名": f" {person['姓名']} ", "经营主体代码": ""},
    )
    assert v.matches == {"姓名": True, "经营主体代码": False}
    missing = query.verify_hosted(
        source, key_item="公民身份号码", key_value="110101199003074514", claims={"姓名": "张三"}
    )
    assert missing.as_dict() == {"found": False, "matches": {"姓名": False}}


def test_verification_respects_scope_and_grants(source):
    nanjing = next(r for r in ALL if r["行政区划代码"] == "320100")
    outside = query.verify_hosted(
        source,
        key_item="公民身份号码",
        key_value=nanjing["公民身份号码"],
        claims={"姓名": nanjing["姓名"]},
        region_codes={"320500", "320508"},
    )
    assert outside.found is False and outside.matches == {"姓名": False}
    with pytest.raises(InvalidInput) as e:  # not a key item: a verification answers for one record
        query.verify_hosted(source, key_item="姓名", key_value="居民01", claims={"性别": "女"})
    assert e.value.code == "exchange.verify.key_invalid"
    with pytest.raises(InvalidInput) as e:
        query.verify_hosted(
            source,
            key_item="公民身份号码",
            key_value=nanjing["公民身份号码"],
            claims={"出生日期": "1990-01-01"},
            allowed=["公民身份号码", "姓名"],
        )
    assert e.value.code == "exchange.query.item_not_allowed"
    with pytest.raises(InvalidInput):
        query.verify_hosted(source, key_item="公民身份号码", key_value="x", claims={})


def test_query_reads_the_current_version(source, world, session, client):
    rows = [r for r in ALL if r["行政区划代码"] == "320508"]
    r = upload(client, world, source.resource_id, "b.csv", csv_bytes(rows))
    assert r.status_code == 201
    new = query.load_source(session, source.resource_id)
    assert new.version == 2 and new.path != source.path
    assert query.query_hosted(new, items=["姓名"], region_codes=None).total == 8
    assert query.query_hosted(source, items=["姓名"], region_codes=None).total == 30  # old file untouched
    assert query.load_source(session, source.resource_id, version=1).row_count == 30


def test_detached_interface_serves_nothing(source, world, session, client):
    r = client.delete(f"{API}/resources/{source.resource_id}/interface", headers=world.h("gat_admin"))
    assert r.status_code == 200 and r.json()["active"] is False
    with pytest.raises(NotFound):
        query.load_source(session, source.resource_id)


@pytest.mark.parametrize(
    "who,status",
    [
        ("gat_staff", 200),
        ("gat_admin", 200),
        ("province_authority", 403),
        ("supervisor", 403),
        ("szsj_admin", 403),
        ("secrecy", 403),
    ],
)
def test_preview_for_the_provider_only(source, client, world, who, status):
    r = client.post(
        f"{API}/resources/{source.resource_id}/preview",
        headers=world.h(who),
        json={"items": ["姓名", "出生日期"], "filters": [{"item": "性别", "op": "eq", "value": "女"}], "limit": 4},
    )
    assert r.status_code == status, r.text
    if status == 200:
        body = r.json()
        assert body["total"] == len([x for x in ALL if x["性别"] == "女"]) and len(body["items"]) == 4
        assert set(body["items"][0]) == {"姓名", "出生日期"}


def test_preview_refuses_bad_input_as_problems(source, client, world):
    h = world.h("gat_staff")
    r = client.post(f"{API}/resources/{source.resource_id}/preview", headers=h, json={"items": ["不存在"]})
    assert r.status_code == 422 and r.json()["code"] == "exchange.query.item_not_allowed"
    r = client.post(
        f"{API}/resources/{source.resource_id}/preview",
        headers=h,
        json={"filters": [{"item": "家庭人口数", "op": "gt", "value": "many"}]},
    )
    assert r.status_code == 422 and r.json()["field"] == "filter.家庭人口数"
    r = client.post(f"{API}/resources/{source.resource_id}/preview", headers=h, json={"version": 9})
    assert r.status_code == 404
