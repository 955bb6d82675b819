"""Watchers of the data items an agency registers (Art 11(1): "一个数据一个来源").

When an entry is created, a draft edited, or a revision of a published entry reported, the catalog
tells the watchers which data items the providing agency now says it collects, in the same
transaction: the quality domain flags items that collect a data element another agency is assigned
to collect. Watchers write their own domain's tables only, through their own service, and record
their own events; a watcher's refusal rolls the catalog change back with it.

The watching modules are imported on first use (:data:`WATCHER_MODULES`), so the catalog neither
imports them at start nor depends on them to load; each registers itself with :func:`watch_items`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from govshare.catalog.models import CatalogResource
from govshare.core.auth import Principal

#: (session, entry, its data items as dicts, trigger, catalog version number, who) -> None
ItemsWatcher = Callable[[Session, CatalogResource, Sequence[Mapping[str, Any]], str, "int | None", Principal], None]

#: Modules that register watchers when imported.
WATCHER_MODULES = ("govshare.quality.service.duplicates",)

_watchers: list[ItemsWatcher] = []
_loaded = False


def watch_items(fn: ItemsWatcher) -> ItemsWatcher:
    """Register ``fn`` (once) to hear of every registration of data items."""
    if fn not in _watchers:
        _watchers.append(fn)
    return fn


def items_registered(
    session: Session,
    resource: CatalogResource,
    items: Sequence[Mapping[str, Any]],
    *,
    trigger: str,
    version: int | None,
    by: Principal,
) -> None:
    global _loaded
    if not _loaded:
        for name in WATCHER_MODULES:
            importlib.import_module(name)
        _loaded = True
    for fn in list(_watchers):
        fn(session, resource, items, trigger, version, by)
