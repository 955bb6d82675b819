"""Demo: a machine client for the consumer of the demo's first active grant, and the curl line
that calls the gateway with it (printed by ``govshare demo load`` with the accounts)."""

from __future__ import annotations

import dataclasses
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.core import clock
from govshare.core.auth import OPERATOR
from govshare.registry import service as registry_service
from govshare.registry.models import Agency
from govshare.sharing.models import SharingGrant

CLIENT_NAME = "gateway-demo"


@dataclasses.dataclass(frozen=True)
class GatewayDemo:
    agency_code: str
    key: str
    resource_code: str
    purpose: str
    items: tuple[str, ...]

    def curl(self, base: str) -> str:
        items = ",".join(self.items[:3])
        return (
            f'curl -G "{base}/exchange/v1/{self.resource_code}" -H "X-API-Key: {self.key}" '
            f'-H "X-Govshare-Purpose: {quote(self.purpose)}" --data-urlencode "items={items}" -d limit=5'
        )


def load_demo_gateway(session: Session) -> GatewayDemo | None:
    """Flushes, never commits. None when the demo has no active grant in its term."""
    today = clock.today()
    row = session.execute(
        select(SharingGrant, Agency.code)
        .join(Agency, Agency.id == SharingGrant.consumer_id)
        .where(
            SharingGrant.state == "active",
            SharingGrant.starts_on <= today,
            SharingGrant.ends_on >= today,
            SharingGrant.channel != "off_platform",
            SharingGrant.verify_only.is_(False),
        )
        .order_by(SharingGrant.id)
    ).first()
    if row is None:
        return None
    grant, agency_code = row
    _client, key = registry_service.add_client(session, agency_code, CLIENT_NAME, by=OPERATOR)
    return GatewayDemo(agency_code, key, grant.resource_code, grant.purpose, tuple(grant.items))
