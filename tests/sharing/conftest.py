"""Fixtures of the sharing tests."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.factories import World, person
from tests.sharing.sharing_helpers import entries


@pytest.fixture
def sharing_world(world: World, session: Session):  # type: ignore[no-untyped-def]
    """The factories' World, more people (the Suzhou and Nanjing market regulators' staff), and
    five published entries of the provincial public security department (js-gat)."""
    world.tokens["szsj_staff"] = person(session, "szsj_staff", "agency_staff", agency="sz-sj")
    world.tokens["njsj_staff"] = person(session, "njsj_staff", "agency_staff", agency="nj-sj")
    world.tokens["njsj_admin"] = person(session, "njsj_admin", "agency_admin", agency="nj-sj")
    world.tokens["nanjing_secrecy"] = person(session, "nj_secrecy", "secrecy_admin", region="320100")
    e = entries(session)
    session.commit()
    world.entries = e  # type: ignore[attr-defined]
    return world


@pytest.fixture(autouse=True)
def long_lived_tokens(monkeypatch):  # type: ignore[no-untyped-def]
    """The tests move the clock around; the people's API tokens must outlive that."""
    from govshare.core.config import reset_settings

    monkeypatch.setenv("GOVSHARE_TOKEN_TTL_DAYS", "3650")
    reset_settings()
    yield
    monkeypatch.delenv("GOVSHARE_TOKEN_TTL_DAYS")
    reset_settings()
