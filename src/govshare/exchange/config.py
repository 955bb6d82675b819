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

    @property
    def resolved_dataset_dir(self) -> Path:
        return self.dataset_dir or get_settings().var_dir / "datasets"


@lru_cache
def get_exchange_settings() -> ExchangeSettings:
    return ExchangeSettings()


def reset_exchange_settings() -> None:
    """Forget cached settings (tests change the environment)."""
    get_exchange_settings.cache_clear()
