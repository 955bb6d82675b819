"""The catalog migration creates its full-text index (the tables themselves: tests/core/test_schema.py)."""

from __future__ import annotations

from sqlalchemy import inspect

from govshare.core.auth import OPERATOR
from govshare.core.db import get_engine


def test_full_text_index_follows_search_text(session):
    """The trigger-kept index (FTS5 or tsvector table) exists and matches inserted rows."""
    engine = get_engine()
    names = set(inspect(engine).get_table_names())
    table = "catalog_search_fts" if engine.dialect.name == "sqlite" else "catalog_search_doc"
    assert table in names
    from govshare.catalog import search
    from tests.factories import World

    World.build(session)
    from govshare.catalog import service
    from govshare.catalog.schemas import ResourceCreate
    from tests.catalog.catalog_helpers import entry

    made = service.create_resource(session, ResourceCreate(**entry(provider="js-gat")), by=OPERATOR)
    assert made.id in search.text_matches(session, ["人口"])
    made.search_text = "别的 词"
    session.flush()
    assert made.id not in search.text_matches(session, ["人口"])
    assert made.id in search.text_matches(session, ["别的"])
    session.rollback()
