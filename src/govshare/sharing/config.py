"""The sharing domain's settings (``GOVSHARE_*``), kept beside the domain that reads them."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SharingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GOVSHARE_", env_file=None, extra="ignore")

    #: Run the timed work (overdue marking, reminders, expiry) in the app's background.
    sharing_background: bool = True
    #: Length of one scheduler tick in seconds: the timed work runs once per tick, however many
    #: workers serve (the tick is claimed in the database).
    sharing_tick_seconds: int = Field(default=60, ge=1, le=86_400)


@lru_cache
def get_sharing_settings() -> SharingSettings:
    return SharingSettings()


def reset_sharing_settings() -> None:
    get_sharing_settings.cache_clear()
