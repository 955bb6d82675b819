"""Settings, read from the environment (prefix ``GOVSHARE_``) with the Measures' values as defaults."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
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
    #: Sign-in throttling (Art 31; OWASP ASVS 2.2.1). Failed sign-ins are counted per client address
    #: and per (account, address) over the last ``login_window_seconds`` (older ones are forgotten, so
    #: keep it well above ``login_delay_max_seconds``: the waits grow only while the failures before
    #: them are remembered). Failures for an account from *other* addresses never hold its owner back.
    #: Free failures per (account, address) before that pair must wait:
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=3600, ge=1)
    #: Free failures per client address over all account names (limits password spraying).
    login_address_max_failures: int = Field(default=20, ge=1)
    #: The first wait once the free failures are used up; it doubles with each further failure...
    login_delay_base_seconds: int = Field(default=30, ge=1)
    #: ...up to this many seconds.
    login_delay_max_seconds: int = Field(default=900, ge=1)
    #: Client addresses (IPs or CIDR networks, comma-separated) of reverse proxies whose
    #: ``X-Forwarded-For``/``X-Forwarded-Proto`` headers are believed. Empty (the default): the
    #: connection's own address is the client's, and those headers are ignored.
    trusted_proxies: str = ""
    #: Lifetime of a person's API token in days (OWASP ASVS 3.5).
    token_ttl_days: int = Field(default=90, ge=1, le=3650)
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

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, v: str) -> str:
        for item in _split(v):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"GOVSHARE_TRUSTED_PROXIES: {item!r} is not an IP address or network") from exc
        return v

    @property
    def trusted_proxy_list(self) -> list[str]:
        return _split(self.trusted_proxies)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def resolved_ledger_origin(self) -> str:
        return self.ledger_origin or f"govshare.local/{self.instance_name}"

    @property
    def resolved_ledger_key_path(self) -> Path:
        return self.ledger_key_path or self.var_dir / "ledger-signing.key"


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget cached settings (tests and the CLI change the environment)."""
    get_settings.cache_clear()
