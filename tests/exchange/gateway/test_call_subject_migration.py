"""The call_subject and subject_bytes migrations on a database of its own, on the backend under test: calls recorded
before it get their subject digests indexed (one row per digest and call, a digest listed twice
once); the downgrade drops the index table. (That the migrated schema equals the models:
tests/core/test_schema.py.)"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import create_engine, inspect, text

from govshare.core.migrate import downgrade, upgrade
from tests.registry.test_credentials_migration import url  # noqa: F401 - the fixture

A, B = "a" * 64, "b" * 64


def test_upgrade_indexes_the_digests_of_earlier_calls(url):  # noqa: F811
    upgrade(url, "one_head")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for seq, subjects in ((1, [A, B, A]), (2, [B]), (3, []), (None, [A])):
                conn.execute(
                    text(
                        "INSERT INTO exchange_call (at, event_seq, resource_code, mode, outcome, status, rows, "
                        "bytes, sha256, latency_ms, subjects) VALUES (:at, :seq, 'r', 'query', 'allowed', 200, "
                        "0, 0, :sha, 1.0, :subjects)"
                    ),
                    {
                        "at": dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
                        "seq": seq,
                        "sha": "0" * 64,
                        "subjects": json.dumps(subjects),
                    },
                )
        upgrade(url, "call_subject")
        with engine.connect() as conn:
            rows = sorted(conn.execute(text("SELECT digest, event_seq FROM exchange_call_subject")).all())
        assert rows == [(A, 1), (B, 1), (B, 2)]
        # subject_bytes: the digests become their 32 bytes, and back on the downgrade.
        upgrade(url, "subject_bytes")
        with engine.connect() as conn:
            rows = sorted(conn.execute(text("SELECT digest, event_seq FROM exchange_call_subject")).all())
        assert [(bytes(d), q) for d, q in rows] == [(bytes.fromhex(A), 1), (bytes.fromhex(B), 1), (bytes.fromhex(B), 2)]
        downgrade(url, "call_subject")
        with engine.connect() as conn:
            rows = sorted(conn.execute(text("SELECT digest, event_seq FROM exchange_call_subject")).all())
        assert rows == [(A, 1), (B, 1), (B, 2)]
        downgrade(url, "one_head")
        assert "exchange_call_subject" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
