"""Who may read the ledger (Art 32, 34).

Checkpoints, the verifier key and proofs are public: they reveal only hashes and sizes, and
anyone must be able to check the record without trusting the platform's operators.

The entries themselves (who did what, when, to which subject) are for supervision: supervisors
and authorities read the events of their own region and of every region below it. An agency's
events carry the agency's region (``core.events``), so they belong to that region. Events with no
region (people, tokens, the platform itself) are visible only to supervisors and authorities whose
grant is on a root region of this instance (the province, on a provincial instance). Agency
staff, agency admins, machine clients and the public never read entries.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import Depends

from govshare.core.auth import Principal, require
from govshare.core.errors import Forbidden

#: Region roles that may read ledger entries.
LEDGER_READERS = ("supervisor", "authority")
ARTICLE = "Art 32"
#: A supervisor or an authority: reads ledger entries of its regions.
Reader = Annotated[Principal, Depends(require(*LEDGER_READERS))]


@dataclasses.dataclass(frozen=True, slots=True)
class LedgerScope:
    """What part of the ledger a principal may read.

    ``everything``: every event, including those without a region. Otherwise only events whose
    region is one of ``region_codes`` (the regions of the grants and, resolved by the service,
    every region below them).
    """

    everything: bool
    grant_regions: tuple[str, ...]
    #: The region paths of those grants (the subtrees the principal reads).
    grant_paths: tuple[str, ...] = ()


def _is_root(region_path: str) -> bool:
    return "/" not in region_path


def ledger_scope(p: Principal) -> LedgerScope:
    """The principal's reading scope; raises ``Forbidden`` when it holds no reading role."""
    grants = [g for g in p.grants if g.role in LEDGER_READERS and g.agency_id is None]
    if not grants:
        raise Forbidden(
            "ledger.not_a_supervisor",
            "仅监督人员和主管部门可查阅账本条目",
            "Only supervisors and authorities may read ledger entries",
            article=ARTICLE,
        )
    if any(_is_root(g.region_path) for g in grants):
        return LedgerScope(everything=True, grant_regions=())
    return LedgerScope(
        everything=False,
        grant_regions=tuple(sorted({g.region_code for g in grants})),
        grant_paths=tuple(sorted({g.region_path for g in grants})),
    )


def can_read_event(p: Principal, region_path: str | None) -> bool:
    """True when ``p`` may read an event of the region with ``region_path`` (None: no region)."""
    if region_path is None:
        return any(g.role in LEDGER_READERS and g.agency_id is None and _is_root(g.region_path) for g in p.grants)
    return p.covers_region(region_path, *LEDGER_READERS)


def out_of_scope() -> Forbidden:
    return Forbidden(
        "ledger.out_of_scope",
        "该事件不在您的监督范围内",
        "This event is outside the region you supervise",
        article=ARTICLE,
    )
