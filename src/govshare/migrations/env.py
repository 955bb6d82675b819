"""Alembic environment: every domain's models register on ``Base.metadata``."""

from __future__ import annotations

from alembic import context

from govshare.core.db import Base, make_engine
from govshare.models import import_all_models

import_all_models()
config = context.config
target_metadata = Base.metadata


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave out of autogenerate the catalog's full-text tables, which its migration creates outside
    the ORM metadata (SQLite FTS5 and its shadow tables; PostgreSQL tsvector table)."""
    return not (type_ == "table" and name is not None and name.startswith(("catalog_search_fts", "catalog_search_doc")))


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
