"""Alembic, configured in code so ``govshare db upgrade`` works from any directory."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d_%%(slug)s")
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None, revision: str = "heads") -> None:
    from govshare.core.config import get_settings

    command.upgrade(alembic_config(url or get_settings().database_url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    from govshare.core.config import get_settings

    command.downgrade(alembic_config(url or get_settings().database_url), revision)
