"""The migrations create exactly what the models declare, on the backend under test: every table,
column type, index (including partial ones such as one authority per region) and constraint."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from govshare.core.db import Base, get_engine
from govshare.models import import_all_models

#: Kept by triggers and created in raw SQL by the catalog migration, not declared as models.
SEARCH_TABLES = ("catalog_search_fts", "catalog_search_doc")


def _declared(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]  # noqa: ARG001
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
    return not (table or "").startswith(SEARCH_TABLES)


def test_migrations_match_models():
    import_all_models()
    with get_engine().connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _declared})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_the_comparison_sees_a_missing_index():
    """Control: the same comparison reports an index the database lacks."""
    import_all_models()
    engine = get_engine()
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX uq_agency_authority_region")
        try:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _declared})
            diff = compare_metadata(ctx, Base.metadata)
        finally:
            conn.exec_driver_sql(
                "CREATE UNIQUE INDEX uq_agency_authority_region ON agency (region_code) WHERE is_authority"
            )
    assert [d[0] for d in diff] == ["add_index"] and diff[0][1].name == "uq_agency_authority_region"


def test_migrations_end_in_one_head():
    """Domains grow their migrations in parallel; before a release they are joined, so the next
    migration has one parent and `alembic heads` names the schema's version."""
    from alembic.script import ScriptDirectory

    from govshare.core.migrate import alembic_config

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"several migration heads, join them with a merge revision: {heads}"
