"""The quality domain's settings (``GOVSHARE_*``), kept beside the domain that reads them."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from govshare.core.config import get_settings
from govshare.quality.rules import DEFAULT_OBJECTION_WORKDAYS, DEFAULT_VERIFY_WORKDAYS


class QualitySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GOVSHARE_", env_file=None, extra="ignore")

    #: Working days the primary agency has to verify and explain a reconciliation's discrepancies
    #: (Art 11(2) "核实并予以说明"; the Measures set no number, the platform's default is 15).
    verify_workdays: int = Field(default=DEFAULT_VERIFY_WORKDAYS, ge=1, le=120)
    #: Working days the provider has to check and answer an objection (数据异议; default 10).
    objection_workdays: int = Field(default=DEFAULT_OBJECTION_WORKDAYS, ge=1, le=120)
    #: Where reconciliation uploads and reports are kept. Default: ``<var_dir>/quality``.
    quality_dir: Path | None = None
    #: Largest copy a secondary holder uploads for reconciliation, in bytes.
    reconcile_max_bytes: int = Field(default=2 * 1024**3, ge=1)
    #: DuckDB memory of one reconciliation (it spills to disk beyond).
    reconcile_memory_limit: str = Field(default="2GB", pattern=r"^[0-9]+(\.[0-9]+)?\s*[KMGT]i?B$")
    #: A running reconciliation's worker writes a heartbeat this often (and at each stage).
    reconcile_heartbeat_seconds: float = Field(default=10.0, ge=0.05, le=3_600)
    #: A run whose heartbeat (or, queued, whose start) is older than this lost its worker, e.g. to a
    #: restart, and is failed as interrupted by the recovery round (at start-up and then periodically).
    reconcile_stale_seconds: float = Field(default=120.0, ge=1, le=86_400)
    #: How often the recovery round looks for interrupted reconciliations.
    reconcile_recovery_interval_seconds: float = Field(default=60.0, ge=0.1, le=86_400)
    #: Check newly accepted hosted dataset versions in the app's background (tests turn it off).
    quality_background: bool = True
    quality_check_interval_seconds: float = Field(default=30.0, ge=0.1, le=86_400)
    #: How often change feeds are polled and overdue updates marked (Art 15(2)).
    quality_update_interval_seconds: float = Field(default=300.0, ge=0.1, le=86_400)

    @property
    def resolved_dir(self) -> Path:
        return self.quality_dir or get_settings().var_dir / "quality"


@lru_cache
def get_quality_settings() -> QualitySettings:
    return QualitySettings()


def reset_quality_settings() -> None:
    get_quality_settings.cache_clear()
