"""The catalog page's facets and chips: the facets come before the results (a sidebar on a desktop,
a folded filter panel above the results on a phone), and every condition of the search is a chip
linking to the same search without it, plus one to clear them all."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlsplit

from tests.catalog.catalog_helpers import entry, open_entry, publish

HTML = {"accept": "text/html"}


def chips(text: str) -> list[tuple[str, str, str]]:
    """(aria-label, href, visible text) of each chip."""
    out = []
    for m in re.finditer(r'<a class="chip" href="([^"]*)" aria-label="([^"]*)"[^>]*>(.*?)</a>', text, re.S):
        visible = re.sub(r"<[^>]+>", "", m.group(3)).replace("×", "").strip()
        out.append((html.unescape(m.group(2)), html.unescape(m.group(1)), visible))
    return out


def query(href: str) -> dict[str, str]:
    parts = urlsplit(href)
    assert parts.path == "/catalog"
    return dict(parse_qsl(parts.query))


def test_selected_filters_are_chips_that_remove_themselves(client, world) -> None:  # type: ignore[no-untyped-def]
    publish(client, world, entry(name="户籍人口信息"))
    publish(client, world, open_entry(name="公共图书馆名录"))
    r = client.get(
        "/catalog",
        params={"q": "人口", "classification": "basic", "provider": "js-gat", "offset": "20", "lang": "zh"},
        headers=HTML,
    )
    assert r.status_code == 200
    found = chips(r.text)
    assert [c[0] for c in found] == [
        "移除筛选：搜索：人口",
        "移除筛选：资源分类：基础信息资源",
        "移除筛选：提供单位：江苏省公安厅",
    ]
    assert [c[2] for c in found] == ["搜索：人口", "资源分类：基础信息资源", "提供单位：江苏省公安厅"]
    by_label = {label: query(href) for label, href, _text in found}
    # each chip's link is the same search without that condition (and back on the first page)
    assert by_label["移除筛选：搜索：人口"] == {"classification": "basic", "provider": "js-gat", "lang": "zh"}
    assert by_label["移除筛选：资源分类：基础信息资源"] == {"q": "人口", "provider": "js-gat", "lang": "zh"}
    assert by_label["移除筛选：提供单位：江苏省公安厅"] == {"q": "人口", "classification": "basic", "lang": "zh"}
    clear = re.search(r'<a class="chip-clear" href="([^"]*)">清除全部</a>', r.text)
    assert clear and query(html.unescape(clear.group(1))) == {"lang": "zh"}

    # following a chip's link drops the condition
    after = client.get(found[2][1], headers=HTML)
    assert [c[0] for c in chips(after.text)] == ["移除筛选：搜索：人口", "移除筛选：资源分类：基础信息资源"]

    # the selected facet value is itself a link that removes it, with the same accessible name
    assert re.search(
        r'<a class="facet-selected" aria-current="true" href="[^"]*" '
        r'aria-label="移除筛选：资源分类：基础信息资源">',
        r.text,
    )


def test_no_chips_without_conditions_and_facets_come_first(client, world) -> None:  # type: ignore[no-untyped-def]
    publish(client, world, entry(name="户籍人口信息"))
    r = client.get("/catalog?lang=zh", headers=HTML)
    assert chips(r.text) == [] and "chip-clear" not in r.text
    # the facets are in a disclosure (works without script) placed before the results
    facets, results = r.text.index('<aside class="facets"'), r.text.index('<section class="results"')
    assert facets < results
    assert re.search(r'<aside class="facets"[^>]*>\s*<details class="filter-panel">\s*<summary>', r.text)
    assert r.text.index('id="entry-') > results


def test_a_condition_nothing_matches_still_gets_its_name(client, world) -> None:  # type: ignore[no-untyped-def]
    publish(client, world, entry(name="户籍人口信息"))
    r = client.get(
        "/catalog",
        params={"classification": "thematic", "sector": "culture", "status": "published", "lang": "zh"},
        headers=HTML,
    )
    assert "没有符合条件的目录条目" in r.text
    assert [c[2] for c in chips(r.text)] == ["资源分类：主题信息资源", "领域：公共文化", "状态：已发布"]


def test_chips_in_english_and_clear_all_keeps_own_catalog(client, world) -> None:  # type: ignore[no-untyped-def]
    publish(client, world, entry(name="户籍人口信息"))
    r = client.get(
        "/catalog",
        params={"classification": "basic", "mine": "1", "lang": "en"},
        headers={**HTML, **world.h("gat_staff")},
    )
    assert r.status_code == 200
    found = chips(r.text)
    assert [(c[0], c[2]) for c in found] == [
        ("Remove filter: Classification: basic resource", "Classification: basic resource")
    ]
    clear = re.search(r'<a class="chip-clear" href="([^"]*)">Clear all</a>', r.text)
    assert clear and query(html.unescape(clear.group(1))) == {"mine": "1", "lang": "en"}
