"""Demo: a machine client for the consumer of the demo's first active grant, and the curl line
that calls the gateway with it (printed by ``govshare demo load`` with the accounts)."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.core import clock
from govshare.core.auth import OPERATOR
from govshare.exchange.gateway.examples import curl_line
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
        return curl_line(
            base, resource_code=self.resource_code, purpose=self.purpose, items=self.items[:3], key=self.key
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
