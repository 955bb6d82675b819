"""Import every domain's models so ``Base.metadata`` is complete (Alembic, tests)."""

from __future__ import annotations


def import_all_models() -> None:
    import govshare.catalog.models  # noqa: F401
    import govshare.core.events  # noqa: F401
    import govshare.core.workdays  # noqa: F401
    import govshare.exchange.models  # noqa: F401
    import govshare.guide.models  # noqa: F401
    import govshare.quality.models  # noqa: F401
    import govshare.registry.models  # noqa: F401
    import govshare.sharing.models  # noqa: F401
    import govshare.supervision.models  # noqa: F401
