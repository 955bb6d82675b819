"""Settings, read from the environment (prefix ``GOVSHARE_``) with the Measures' values as defaults."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GOVSHARE_", env_file=None, extra="ignore")

    #: SQLAlchemy URL. The embedded default keeps a single file under ``var/``.
    database_url: str = "sqlite:///var/govshare.db"
    #: Name of this instance (one per administrative level, Art 14); used in the ledger origin.
    instance_name: str = "jiangsu"
    #: Directory for local state that must not live in the database (signing keys).
    var_dir: Path = Path("var")
    #: Secret used to sign CSRF tokens. Generated into ``var/secret_key`` when not given.
    secret_key: str | None = None
    #: Mark session cookies ``Secure`` (set true behind HTTPS).
    cookie_secure: bool = False
    #: Largest request body accepted, in bytes; a larger one is answered 413 before it is read whole.
    #: (The catalog import page keeps its own, smaller limit for the uploaded file.)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    #: Portal session lifetime in seconds.
    session_ttl_seconds: int = 8 * 3600
    #: Failed logins per name within ``login_window_seconds`` before further attempts are refused.
    login_max_failures: int = 5
    login_window_seconds: int = 900
    #: Load the demo data on the first start (``make run``).
    demo_on_first_start: bool = False
    #: Default language of pages and error titles.
    default_locale: str = "zh_Hans"

    # Ledger (Art 32).
    ledger_origin: str | None = None
    ledger_key_path: Path | None = None
    ledger_checkpoint_every_events: int = Field(default=1000, ge=1)
    ledger_checkpoint_every_seconds: int = Field(default=60, ge=1)
    #: Run the ledger's integrator and timed checkpoints in the app's background (tests turn it off).
    ledger_background: bool = True

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def resolved_ledger_origin(self) -> str:
        return self.ledger_origin or f"govshare.local/{self.instance_name}"

    @property
    def resolved_ledger_key_path(self) -> Path:
        return self.ledger_key_path or self.var_dir / "ledger-signing.key"


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget cached settings (tests and the CLI change the environment)."""
    get_settings.cache_clear()
