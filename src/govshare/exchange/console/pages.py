"""The router of the exchange console pages: subject lookups, provider interfaces and versions,
off-platform filings (each in its own module of this package)."""

from __future__ import annotations

from fastapi import APIRouter

from govshare.exchange.console import filings, provider, subjects

router = APIRouter(include_in_schema=False)
for _module in (subjects, provider, filings):
    router.include_router(_module.router)
