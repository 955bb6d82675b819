"""Concurrent creates of one entry name by one agency on PostgreSQL: one draft, and every other
request gets the same 409 as a sequential duplicate (issue #8: 20 concurrent creates left 9 drafts,
the service read before it inserted with no constraint behind the check)."""

from __future__ import annotations

import os
import threading

import httpx
import pytest
from sqlalchemy import func, select

from govshare.catalog import service
from govshare.catalog.models import CatalogResource
from govshare.catalog.schemas import ResourceCreate
from govshare.core.db import transaction
from govshare.core.errors import Conflict
from govshare.registry import service as registry_service
from tests.catalog.catalog_helpers import API, entry
from tests.live_server import serve

BACKEND = os.environ.get("GOVSHARE_TEST_DB", "sqlite")

THREADS = 20


def _live(name: str) -> int:
    with transaction() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(CatalogResource)
                .where(CatalogResource.name == name, CatalogResource.status != "withdrawn")
            )
            or 0
        )


@pytest.mark.postgres_only
@pytest.mark.skipif(BACKEND != "postgres", reason="concurrent writers race only on PostgreSQL (SQLite serialises)")
def test_threads_with_their_own_sessions(world):
    """The service called from 20 threads at once, each in its own transaction."""
    barrier = threading.Barrier(THREADS)
    outcomes: list[object] = []
    lock = threading.Lock()

    def create() -> None:
        try:
            with transaction() as s:
                by = registry_service.authenticate_secret(s, world.tokens["gat_staff"])
                barrier.wait(timeout=30)
                made = service.create_resource(s, ResourceCreate(**entry(name="并发编目的条目")), by=by)
                result: object = made.id
        except Conflict as exc:
            result = exc.code
        except Exception as exc:  # anything else is a failure of the test, reported below
            result = exc
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=create) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(outcomes) == THREADS
    created = [o for o in outcomes if isinstance(o, int)]
    refused = [o for o in outcomes if o == "catalog.resource.duplicate_name"]
    assert len(created) == 1 and len(refused) == THREADS - 1, outcomes
    assert _live("并发编目的条目") == 1


@pytest.mark.postgres_only
@pytest.mark.skipif(BACKEND != "postgres", reason="concurrent writers race only on PostgreSQL (SQLite serialises)")
def test_http_against_a_live_server(app, world):
    """Over real sockets: 20 concurrent POSTs of one name; one 201, nineteen 409 problems."""
    barrier = threading.Barrier(THREADS)
    answers: list[httpx.Response] = []
    lock = threading.Lock()
    with serve(app) as base:

        def post() -> None:
            with httpx.Client(base_url=base, timeout=60) as http:
                barrier.wait(timeout=30)
                r = http.post(API, json=entry(name="并发接口编目"), headers=world.h("gat_staff"))
            with lock:
                answers.append(r)

        threads = [threading.Thread(target=post) for _ in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=90)
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [201] + [409] * (THREADS - 1), [r.text for r in answers if r.status_code not in (201, 409)]
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"catalog.resource.duplicate_name"}
    assert _live("并发接口编目") == 1


def test_the_index_answers_when_the_check_is_passed(client, world, monkeypatch):
    """Both backends: with the service's read-before-insert check out of the way (as when a
    concurrent request passes it at the same moment), the database refuses the second live entry
    of a name, and the answer is the same 409; a withdrawn entry frees its name, as in the check."""
    from govshare.catalog.service import _common, entries

    monkeypatch.setattr(entries, "_check_name_free", lambda *_a, **_k: None)
    monkeypatch.setattr(_common, "_check_name_free", lambda *_a, **_k: None)
    first = client.post(API, json=entry(name="可重用的名称"), headers=world.h("gat_staff")).json()
    second = client.post(API, json=entry(name="可重用的名称"), headers=world.h("gat_staff"))
    assert second.status_code == 409 and second.json()["code"] == "catalog.resource.duplicate_name"
    assert second.json()["field"] == "name"
    other = client.post(API, json=entry(name="另一个名称"), headers=world.h("gat_staff")).json()
    renamed = client.patch(f"{API}/{other['id']}", json={"name": "可重用的名称"}, headers=world.h("gat_staff"))
    assert renamed.status_code == 409 and renamed.json()["code"] == "catalog.resource.duplicate_name"
    r = client.post(f"{API}/{first['id']}/withdraw", json={"reason": "重新编目"}, headers=world.h("gat_staff"))
    assert r.status_code == 200, r.text
    assert client.post(API, json=entry(name="可重用的名称"), headers=world.h("gat_staff")).status_code == 201
    assert _live("可重用的名称") == 1


def test_migration_is_reversible_and_refuses_existing_duplicates(client, world, monkeypatch):
    """Down to the previous revision (index gone), two live entries of one name slip in, the
    upgrade refuses naming them and changes nothing; once one is withdrawn it applies."""
    from sqlalchemy import inspect, update

    from govshare.catalog.service import _common, entries
    from govshare.core.db import get_engine
    from govshare.core.migrate import downgrade, upgrade
    from tests.conftest import DATABASE_URL

    def has_index() -> bool:
        names = {ix["name"] for ix in inspect(get_engine()).get_indexes("catalog_resource")}
        return "uq_catalog_resource_provider_name" in names

    assert has_index()
    downgrade(DATABASE_URL, "guide")
    try:
        assert not has_index()
        monkeypatch.setattr(entries, "_check_name_free", lambda *_a, **_k: None)
        monkeypatch.setattr(_common, "_check_name_free", lambda *_a, **_k: None)
        ids = [
            client.post(API, json=entry(name="重名条目"), headers=world.h("gat_staff")).json()["id"] for _ in range(2)
        ]
        with pytest.raises(RuntimeError, match="js-gat: '重名条目' x2"):
            upgrade(DATABASE_URL)
        assert not has_index()
        with transaction() as s:
            s.execute(update(CatalogResource).where(CatalogResource.id == ids[0]).values(status="withdrawn"))
    finally:
        upgrade(DATABASE_URL)
    assert has_index()
