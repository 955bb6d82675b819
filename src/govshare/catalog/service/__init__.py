"""Catalog use cases. The only code that writes catalog tables; every change records its event.

Functions that change something take the session and ``by``, the acting :class:`Principal`
(``core.auth.OPERATOR`` on the command line and in the demo loader: it holds every scope, openly).
Functions that read take ``viewer``, ``None`` for the public. Services flush, never commit.

Lifecycle (Art 9-10)::

    create -> draft --submit--> submitted --publish--> published --withdraw--> withdrawn
                 ^                  |  (authority)         |
                 +-----reject-------+                      +--update--> pending revision
                                                               approve_revision / reject_revision

Every change of content is a new ``CatalogResourceVersion`` with a JSON snapshot. A provider's
change to a published entry becomes a pending revision reported to the authority (Art 10(2)); the
published content stays in force until the authority approves it.
"""

from govshare.catalog.service._common import (
    bump_search_generation,
    get_resource,
    get_visible,
    normalise,
    pending_version,
    raise_violations,
    ref_condition,
    refresh_search_text,
    snapshot_of,
    violations_of,
)
from govshare.catalog.service.demands import (
    DemandFilter,
    close_demand,
    file_demand,
    get_demand,
    get_visible_demand,
    list_demands,
    match_demand,
    route_demand,
    update_demand,
)
from govshare.catalog.service.entries import (
    create_resource,
    publish,
    reindex,
    reject,
    review_queue,
    submit,
    update_resource,
    withdraw,
)
from govshare.catalog.service.read import demand_read, read_model, summary
from govshare.catalog.service.revisions import (
    approve_revision,
    diff,
    get_version,
    list_versions,
    reject_revision,
)

__all__ = [
    "DemandFilter",
    "approve_revision",
    "bump_search_generation",
    "close_demand",
    "create_resource",
    "demand_read",
    "diff",
    "file_demand",
    "get_demand",
    "get_resource",
    "get_version",
    "get_visible",
    "get_visible_demand",
    "list_demands",
    "list_versions",
    "normalise",
    "pending_version",
    "ref_condition",
    "match_demand",
    "publish",
    "raise_violations",
    "read_model",
    "refresh_search_text",
    "reindex",
    "reject",
    "reject_revision",
    "review_queue",
    "route_demand",
    "snapshot_of",
    "submit",
    "summary",
    "update_demand",
    "update_resource",
    "violations_of",
    "withdraw",
]
