"""Factories: build rows through the services (so every row has its event), not behind their back."""

from __future__ import annotations

import dataclasses
import itertools

from sqlalchemy.orm import Session

from govshare.core.auth import OPERATOR
from govshare.registry import service
from govshare.registry.models import Agency, Region
from govshare.registry.rules import make_uscc
from govshare.registry.schemas import AgencyCreate, GrantCreate, PersonCreate, RegionCreate

_seq = itertools.count(1)
PASSWORD = "correct-horse-9"


def region(session: Session, code: str, name: str, parent: str | None = None) -> Region:
    return service.create_region(session, RegionCreate(code=code, name=name, parent_code=parent), by=OPERATOR)


def agency(session: Session, code: str, name: str, region_code: str, **extra: object) -> Agency:
    n = next(_seq)
    uscc = make_uscc("1", "1", region_code, f"{10000000 + n:08d}")
    data = AgencyCreate(code=code, uscc=uscc, name=name, region_code=region_code, **extra)  # type: ignore[arg-type]
    return service.create_agency(session, data, by=OPERATOR)


def person(session: Session, username: str, role: str, *, agency: str | None = None, region: str | None = None) -> str:
    """Create a person with one role; returns a bearer token for them."""
    service.create_person(
        session,
        PersonCreate(
            username=username,
            display_name=username,
            password=PASSWORD,
            grants=[GrantCreate(role=role, agency_code=agency, region_code=region)],  # type: ignore[arg-type]
        ),
        by=OPERATOR,
    )
    _token, secret = service.issue_token(session, username, by=OPERATOR)
    return secret


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclasses.dataclass
class World:
    tokens: dict[str, str]

    def h(self, who: str) -> dict[str, str]:
        return bearer(self.tokens[who])

    @classmethod
    def build(cls, session: Session) -> World:
        region(session, "320000", "江苏省")
        region(session, "320100", "南京市", "320000")
        region(session, "320500", "苏州市", "320000")
        region(session, "320508", "姑苏区", "320500")
        agency(
            session,
            "js-dsj",
            "江苏省大数据管理中心",
            "320000",
            is_authority=True,
            responsible_unit="数据共享处",
            responsible_person="王明",
        )
        agency(
            session,
            "js-gat",
            "江苏省公安厅",
            "320000",
            vertical_system="public_security",
            responsible_unit="科技信息化处",
            responsible_person="李强",
        )
        agency(session, "nj-sj", "南京市市场监督管理局", "320100")
        agency(
            session, "sz-sj", "苏州市市场监督管理局", "320500", responsible_unit="信息中心", responsible_person="陈静"
        )
        agency(session, "sz-dsj", "苏州市大数据管理局", "320500", is_authority=True)
        tokens = {
            "province_authority": person(session, "prov_auth", "authority", region="320000"),
            "suzhou_authority": person(session, "sz_auth", "authority", region="320500"),
            "nanjing_authority": person(session, "nj_auth", "authority", region="320100"),
            "supervisor": person(session, "super", "supervisor", region="320000"),
            "gat_staff": person(session, "gat_staff", "agency_staff", agency="js-gat"),
            "gat_admin": person(session, "gat_admin", "agency_admin", agency="js-gat"),
            "szsj_admin": person(session, "szsj_admin", "agency_admin", agency="sz-sj"),
            "secrecy": person(session, "secrecy", "secrecy_admin", region="320000"),
        }
        return cls(tokens=tokens)
