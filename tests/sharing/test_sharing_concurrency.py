"""Two of the provider's staff answer the same request at the same moment on PostgreSQL: one
answer wins, the other gets the 409 any illegal transition gets, naming the state it found. The
state changes by a conditional UPDATE on the state read (``service._common.move``)."""

from __future__ import annotations

import os
import threading
import time

import pytest
from sqlalchemy import func, select

from govshare.core.db import transaction
from govshare.core.errors import Conflict
from govshare.registry import service as registry_service
from govshare.sharing import service
from govshare.sharing.models import SharingFiling, SharingGrant
from govshare.sharing.schemas import ApproveIn, RefuseIn
from tests.sharing.sharing_helpers import file_request

BACKEND = os.environ.get("GOVSHARE_TEST_DB", "sqlite")
REFUSAL = RefuseIn(ground="personal_privacy", reason="申请的信息项涉及个人隐私，用途与职责不符")


@pytest.mark.postgres_only
@pytest.mark.skipif(BACKEND != "postgres", reason="concurrent writers race only on PostgreSQL (SQLite serialises)")
def test_approve_and_refuse_at_once(sharing_world, client):
    w = sharing_world
    rid = file_request(client, w, w.entries.conditional, items=["名称"])["id"]
    outcome: dict[str, object] = {}

    def refuse() -> None:
        try:
            with transaction() as s:
                by = registry_service.authenticate_secret(s, w.tokens["gat_admin"])
                outcome["refuse"] = service.refuse_request(s, rid, REFUSAL, by=by).state
        except Conflict as exc:
            outcome["refuse"] = exc

    with transaction() as s:
        by = registry_service.authenticate_secret(s, w.tokens["gat_staff"])
        assert service.approve_request(s, rid, ApproveIn(), by=by).state == "approved"
        # The approval holds the row; the refusal reads "pending" and waits on it.
        t = threading.Thread(target=refuse)
        t.start()
        time.sleep(1.0)
        assert "refuse" not in outcome
    t.join(timeout=30)
    err = outcome["refuse"]
    assert isinstance(err, Conflict) and err.status == 409, err
    assert err.code == "sharing.request.invalid_transition" and err.extra["state"] == "approved"
    with transaction() as s:
        assert s.scalar(select(func.count()).select_from(SharingGrant)) == 1
        assert s.scalar(select(func.count()).select_from(SharingFiling)) == 0


@pytest.mark.postgres_only
@pytest.mark.skipif(BACKEND != "postgres", reason="concurrent writers race only on PostgreSQL (SQLite serialises)")
def test_many_answers_one_winner(sharing_world, client):
    w = sharing_world
    rid = file_request(client, w, w.entries.conditional, items=["名称"])["id"]
    n = 8
    barrier = threading.Barrier(n)
    results: list[object] = []
    lock = threading.Lock()

    def answer(k: int) -> None:
        try:
            with transaction() as s:
                by = registry_service.authenticate_secret(s, w.tokens["gat_staff" if k % 2 else "gat_admin"])
                service.get_request(s, rid, viewer=by)
                barrier.wait(timeout=30)
                if k % 2:
                    service.approve_request(s, rid, ApproveIn(), by=by)
                else:
                    service.refuse_request(s, rid, REFUSAL, by=by)
                result: object = "ok"
        except Conflict as exc:
            result = exc.status
        except Exception as exc:  # reported by the assertion below
            result = exc
        with lock:
            results.append(result)

    threads = [threading.Thread(target=answer, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results, key=str) == [409] * (n - 1) + ["ok"], results
