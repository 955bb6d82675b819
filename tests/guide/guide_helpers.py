"""Helpers for the service guide tests: catalog entries to rely on, valid service payloads."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from govshare.catalog import service as catalog_service
from govshare.catalog.models import CatalogResource
from govshare.catalog.schemas import ResourceCreate
from govshare.core.auth import OPERATOR
from tests.recorded import recorded

API = "/api/v1/guide"


def entry(
    session: Session, name: str, *, provider: str = "js-gat", open_to_public: bool = True, publish: bool = True
) -> CatalogResource:
    """A departmental catalog entry, published unless asked otherwise (as the platform operator)."""
    made = catalog_service.create_resource(
        session,
        ResourceCreate(
            provider=provider,
            classification="departmental",
            name=name,
            abstract=f"{name}的说明。",
            format="database",
            share_type="unconditional",
            provision_method="gateway_api",
            update_cycle="daily",
            open_to_public=open_to_public,
        ),
        by=OPERATOR,
    )
    if publish:
        catalog_service.submit(session, made.id, by=OPERATOR)
        made = catalog_service.publish(session, made.id, by=OPERATOR)
    session.commit()
    return made


def payload(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "社会保险参保信息查询",
        "name_en": "Social insurance contribution record",
        "sector": "social_security",
        "agency": "js-gat",
        "description": "查询本人参保记录和缴费明细，打印参保证明。",
        "link_url": "https://www.jszwfw.gov.cn/",
        "channels": [{"channel": "web", "detail": "江苏政务服务网"}, {"channel": "phone", "detail": "12333"}],
        "resources": [],
    }
    body.update(overrides)
    return body


def events(session: Session, prefix: str = "guide.") -> list[tuple[str, str, dict[str, Any]]]:
    session.rollback()  # release SQLite's lock before the next request
    return [(e.action, e.subject_id, e.data) for e in recorded(prefix=prefix)]
