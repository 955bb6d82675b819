"""The ledger page reads as a record of what happened: each action by its label and the article it
serves (Chinese, English on switch), each subject, agency and region by name with a link to its
page where the viewer has one, numbers kept whole; names read in one query per kind of subject."""

from __future__ import annotations

import html
import re

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from govshare.core import db, events
from govshare.core.events import Actor
from govshare.registry import service as registry_service
from tests.guide.guide_helpers import API as GUIDE_API
from tests.guide.guide_helpers import entry, payload

HTML = {"Accept": "text/html"}


def page(client, world, who: str = "supervisor", **params) -> str:  # type: ignore[no-untyped-def]
    r = client.get("/supervision/ledger", params=params, headers={**world.h(who), **HTML})
    assert r.status_code == 200, r.text
    return r.text


def row(text: str, seq: int) -> str:
    """The table row of event ``seq``."""
    m = re.search(rf'<tr>\s*<th scope="row"[^>]*><a href="/supervision/ledger/events/{seq}".*?</tr>', text, re.S)
    assert m, f"no row for event {seq}"
    return m.group(0)


def seq_of(session: Session, action: str, subject_id: str) -> int:
    from sqlalchemy import select

    from govshare.core.events import Event

    seq = session.scalar(
        select(Event.seq).where(Event.action == action, Event.subject_id == subject_id).order_by(Event.seq.desc())
    )
    session.rollback()  # SQLite: release the read before the next request
    assert seq is not None, (action, subject_id)
    return seq


def test_actions_show_their_label_and_article_in_both_languages(client, world, session: Session) -> None:  # type: ignore[no-untyped-def]
    published_id = entry(session, "户籍人口信息").id
    seq = seq_of(session, "catalog.resource.published", str(published_id))
    text = page(client, world)
    r = row(text, seq)
    assert "发布目录条目" in r and "《办法》第九条" in r
    # the action filter suggests every code with its label
    assert 'list="action-codes"' in text and '<option value="catalog.resource.published">发布目录条目</option>' in text
    assert "catalog.resource.published" not in re.sub(r'title="[^"]*"', "", r)  # the code only as a tooltip
    en = row(page(client, world, lang="en"), seq)
    assert "Catalog entry published" in en and "Art 9 of the Measures" in en and "发布目录条目" not in en
    detail = client.get(f"/supervision/ledger/events/{seq}?lang=zh", headers={**world.h("supervisor"), **HTML}).text
    assert "发布目录条目" in detail and "《办法》第九条" in detail and "catalog.resource.published" in detail


def test_an_unknown_action_is_shown_as_its_code(client, world, session: Session) -> None:  # type: ignore[no-untyped-def]
    ev = events.record(
        session,
        actor=events.SYSTEM,
        action="future.thing.done",
        subject_type="thing",
        subject_id="T-1",
        region_code="320500",
    )
    session.commit()
    r = row(page(client, world), ev.seq)  # type: ignore[arg-type]
    assert "future.thing.done" in r and "T-1" in r and "《办法》" not in r


def test_subjects_agencies_and_regions_by_name_with_links(client, world, session: Session) -> None:  # type: ignore[no-untyped-def]
    made = entry(session, "户籍人口信息")
    published_id, published_code = made.id, made.code
    draft_id = entry(session, "草拟中的条目", publish=False).id
    session.rollback()
    service = client.post(GUIDE_API, json=payload(), headers=world.h("province_authority"))
    assert service.status_code == 201, service.text
    text = page(client, world)

    r = row(text, seq_of(session, "catalog.resource.published", str(published_id)))
    assert f'<a href="/catalog/{published_code}">户籍人口信息</a>' in r
    assert '<a href="/agencies/js-gat">江苏省公安厅</a>' in r and '<a href="/regions/320000">江苏省</a>' in r
    # numbers and codes never break: each in an unbreakable span, the sequence number in a nowrap cell
    assert re.search(r'<span class="muted code nowrap">js-gat</span>', r)
    assert re.search(r'<th scope="row" class="num"', r)

    # a draft is the provider's: the supervisor reads its name, but gets no link to a page they cannot open
    r = row(text, seq_of(session, "catalog.resource.created", str(draft_id)))
    assert "草拟中的条目" in r and f'href="/catalog/{draft_id}"' not in r

    sid = service.json()["id"]
    r = row(text, seq_of(session, "guide.service.created", str(sid)))
    assert "登记服务指引" in r and "《办法》第二十条" in r
    assert f'#service-{sid}">社会保险参保信息查询</a>' in html.unescape(r)

    r = row(text, seq_of(session, "registry.agency.created", "sz-sj"))
    assert '<a href="/agencies/sz-sj">苏州市市场监督管理局</a>' in r and '<a href="/regions/320500">苏州市</a>' in r
    r = row(text, seq_of(session, "registry.region.created", "320508"))
    assert '<a href="/regions/320508">姑苏区</a>' in r

    # a person working in an agency: linked to that agency's people, for those who may list them
    r = row(text, seq_of(session, "registry.person.created", "gat_staff"))
    assert '<a href="/agencies/js-gat/people">gat_staff</a>' in r
    r = row(text, seq_of(session, "registry.person.created", "szsj_admin"))
    assert '<a href="/agencies/sz-sj/people">szsj_admin</a>' in r
    # a person with a regional role only has no agency page: the name without a link
    r = row(text, seq_of(session, "registry.person.created", "super"))
    assert "super" in r and "/people" not in r

    en = row(page(client, world, lang="en"), seq_of(session, "registry.agency.created", "sz-sj"))
    assert "Agency registered" in en and "Art 5 of the Measures" in en


def test_a_subject_whose_row_is_gone_keeps_the_name_its_event_recorded(client, world, session: Session) -> None:  # type: ignore[no-untyped-def]
    ev = events.record(
        session,
        actor=events.SYSTEM,
        action="catalog.resource.withdrawn",
        subject_type="catalog_resource",
        subject_id="999999",
        region_code="320500",
        data={"name": "早已删除的条目"},
    )
    session.commit()
    r = row(page(client, world), ev.seq)  # type: ignore[arg-type]
    assert "早已删除的条目" in r and "999999" in r and 'href="/catalog/' not in r


def _count_queries(client, world, **params) -> int:  # type: ignore[no-untyped-def]
    engine = db.get_engine()
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        page(client, world, **params)
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_names_are_read_in_one_query_per_kind_of_subject(client, world, session: Session) -> None:  # type: ignore[no-untyped-def]
    gat = registry_service.get_person(session, "gat_staff")
    actor = Actor("person", gat.id, gat.display_name)
    ids = [entry(session, f"条目{i}").id for i in range(25)]

    recorded = []
    for i in range(25):
        recorded.append(
            events.record(
                session,
                actor=actor,
                action="catalog.resource.updated",
                subject_type="catalog_resource",
                subject_id=ids[i],
                region_code="320000",
                agency_code="js-gat",
            )
        )
        recorded.append(
            events.record(
                session,
                actor=actor,
                action="registry.agency.updated",
                subject_type="agency",
                subject_id=["js-gat", "sz-sj", "nj-sj"][i % 3],
                region_code="320500",
                agency_code="sz-sj",
            )
        )
    session.commit()
    first_two = _count_queries(client, world, actor="gat_staff", before=recorded[2].seq)
    all_fifty = _count_queries(client, world, actor="gat_staff")
    assert all_fifty == first_two, f"{first_two} queries for 2 events, {all_fifty} for 50: names are read per event"
    text = page(client, world, actor="gat_staff")
    assert len(re.findall(r'href="/catalog/[0-9-]+">条目\d+</a>', text)) == 25
    assert text.count('<a href="/agencies/nj-sj">南京市市场监督管理局</a>') == 8


def test_sharing_subjects_link_to_their_request_for_those_who_may_read_it(client, world, session: Session) -> None:  # type: ignore[no-untyped-def]
    """A request, and the grant it produced, are named by number and entry and link to the
    request's page, where the supervisor of the region may read them (Art 17, 32)."""
    from tests.factories import person
    from tests.sharing.sharing_helpers import entries, file_request

    world.tokens["szsj_staff"] = person(session, "szsj_staff", "agency_staff", agency="sz-sj")
    e = entries(session)
    session.commit()
    made = file_request(client, world, e.unconditional, items=["统一社会信用代码", "名称"])
    rid = made["id"]
    text = page(client, world)
    r = row(text, seq_of(session, "sharing.request.submitted", str(rid)))
    assert f'<a href="/sharing/requests/{rid}">共享申请 #{rid} · 公共场所名录</a>' in r
    grant = client.get("/api/v1/sharing/grants", headers=world.h("szsj_staff")).json()["items"][0]
    r = row(text, seq_of(session, "sharing.grant.created", str(grant["id"])))
    assert f'<a href="/sharing/requests/{rid}">共享授权 #{grant["id"]} · 公共场所名录</a>' in r

    opened = client.get(f"/sharing/requests/{rid}", headers={**world.h("supervisor"), **HTML})
    assert opened.status_code == 200 and "公共场所名录" in opened.text

    en = row(page(client, world, lang="en"), seq_of(session, "sharing.request.submitted", str(rid)))
    assert f"Sharing request #{rid}" in en
