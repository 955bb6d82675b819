"""The catalog migration creates exactly what the models declare, plus its full-text index."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from govshare.core.db import Base, get_engine
from govshare.models import import_all_models


def _catalog_only(obj, name, type_, reflected, compare_to):  # noqa: ARG001
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
    return bool(table) and table.startswith("catalog_") and not table.startswith(
        ("catalog_search_fts", "catalog_search_doc"))


def test_migration_matches_models():
    import_all_models()
    engine = get_engine()
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _catalog_only})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_full_text_index_follows_search_text(session):
    """The trigger-kept index (FTS5 or tsvector table) exists and matches inserted rows."""
    engine = get_engine()
    names = set(inspect(engine).get_table_names())
    table = "catalog_search_fts" if engine.dialect.name == "sqlite" else "catalog_search_doc"
    assert table in names
    from tests.factories import World

    from govshare.catalog import search

    World.build(session)
    from catalog_helpers import entry

    from govshare.catalog import service
    from govshare.catalog.schemas import ResourceCreate

    made = service.create_resource(session, ResourceCreate(**entry(provider="js-gat")))
    assert made.id in search.text_matches(session, ["人口"])
    made.search_text = "别的 词"
    session.flush()
    assert made.id not in search.text_matches(session, ["人口"])
    assert made.id in search.text_matches(session, ["别的"])
    session.rollback()
