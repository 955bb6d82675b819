"""Fixtures of the gateway tests: the app with a grant book, the hosted resource, keys."""

from __future__ import annotations

import pytest

from tests.exchange.gateway.gateway_helpers import GrantBook, hosted_resource, machine_key


@pytest.fixture
def book(app):  # type: ignore[no-untyped-def]
    b = GrantBook()
    app.state.gateway.cache.grant_loader = b.load
    return b


@pytest.fixture
def hosted(client, world, session):  # type: ignore[no-untyped-def]
    return hosted_resource(client, world, session)


@pytest.fixture
def sz_key(world, session):  # type: ignore[no-untyped-def]
    return machine_key(session, "sz-sj")
