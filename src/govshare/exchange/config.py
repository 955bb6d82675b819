"""The exchange domain's settings (``GOVSHARE_*``), kept beside the domain that reads them.

Hosted datasets live as Parquet files under ``dataset_dir`` (default ``<var_dir>/datasets``), one
immutable file per accepted version; DuckDB reads them in-process. The values here are platform
choices, not the Measures': where one serves an article, the field says which.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from govshare.core.config import get_settings


class ExchangeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GOVSHARE_", env_file=None, extra="ignore")

    #: Where accepted dataset versions are stored (Parquet). Default: ``<var_dir>/datasets``.
    dataset_dir: Path | None = None
    #: Largest upload accepted, in bytes (the file as sent); a larger one is refused while it streams.
    max_upload_bytes: int = Field(default=1024 * 1024 * 1024, ge=1)
    #: How many row errors a refused upload lists (the count of all errors is reported too).
    upload_max_errors: int = Field(default=50, ge=1, le=10_000)
    #: DuckDB per process: memory limit (DuckDB syntax, e.g. ``1GB``) and worker threads.
    duckdb_memory_limit: str = Field(default="1GB", pattern=r"^[0-9]+(\.[0-9]+)?\s*[KMGT]i?B$")
    duckdb_threads: int = Field(default=2, ge=1, le=64)
    #: Memory of the DuckDB that validates an upload (it spills to disk beyond; ten million rows
    #: sort in memory with the default).
    ingest_memory_limit: str = Field(default="4GB", pattern=r"^[0-9]+(\.[0-9]+)?\s*[KMGT]i?B$")
    #: Most rows one hosted-dataset query returns.
    hosted_max_limit: int = Field(default=1000, ge=1, le=100_000)
    #: Off-platform sharing (Art 14(3)): default reporting period of a filing, and how many working
    #: days after a period ends its statistics report is due. The Measures say only "定期"
    #: (periodically): both are the platform's settings.
    filing_report_period: str = Field(default="monthly", pattern="^(monthly|quarterly|half_yearly|yearly)$")
    filing_report_due_workdays: int = Field(default=10, ge=1, le=60)
    #: Residents the demo's hosted dataset holds (``govshare demo load``; the tests load fewer).
    demo_residents: int = Field(default=100_000, ge=1, le=10_000_000)
    #: The demo's proxied provider (``exchange.demo_provider``): served by the platform's own app
    #: under ``/demo-provider`` (turn off in production), and the base URL the demo's interface
    #: stores for it (the gateway calls it over HTTP like any provider; ``make run`` sets the port).
    demo_provider: bool = True
    demo_provider_url: str = "http://127.0.0.1:8000/demo-provider"

    # The exchange gateway (``exchange.gateway``).
    #: How often (seconds) a serving gateway asks the database whether keys, interfaces or grants
    #: changed (one small query); a revoked key or grant stops working within this time.
    gateway_cache_seconds: float = Field(default=1.0, ge=0.0, le=300.0)
    #: Group commit of call records: a group closes at this many records or this many ms after its first.
    gateway_batch_max: int = Field(default=500, ge=1, le=10_000)
    gateway_batch_wait_ms: float = Field(default=2.0, ge=0.0, le=1000.0)
    #: Set by ``govshare gateway serve`` for its workers: the Unix socket of the one process that
    #: writes the call records of them all (``exchange.gateway.writer``). Unset: each process
    #: commits its own calls from a thread (the gateway mounted in the platform's app, tests).
    gateway_recorder_socket: str | None = None
    #: Proxied APIs: default timeout of a provider's answer (an interface may set its own), the
    #: largest answer taken (bigger: 502), and keep-alive connections per worker.
    gateway_upstream_timeout_ms: int = Field(default=10_000, ge=10, le=300_000)
    gateway_upstream_max_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    gateway_upstream_connections: int = Field(default=200, ge=1, le=10_000)
    #: This platform instance runs on a network with secrecy measures (Art 18(2)): only then may it
    #: serve hosted datasets classified as state secrets.
    gateway_secrecy_network: bool = False
    #: Key of the subject digests (HMAC-SHA256 of identity numbers and credit codes in call
    #: records). Default: derived from the platform's secret key. Changing it breaks the link to
    #: earlier records.
    gateway_subject_key: str | None = None

    @property
    def resolved_dataset_dir(self) -> Path:
        return self.dataset_dir or get_settings().var_dir / "datasets"


@lru_cache
def get_exchange_settings() -> ExchangeSettings:
    return ExchangeSettings()


def reset_exchange_settings() -> None:
    """Forget cached settings (tests change the environment)."""
    get_exchange_settings.cache_clear()
