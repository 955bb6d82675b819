"""Fixtures of the gateway tests: the app with a grant book, the hosted resource, keys."""

from __future__ import annotations

import pytest

from tests.exchange.gateway.gateway_helpers import GrantBook, hosted_resource, machine_key


@pytest.fixture
def book(app):  # type: ignore[no-untyped-def]
    # Check the cache's version at every call: a grant the test changes is seen at the next call.
    app.state.gateway.cache.interval = 0.0
    return GrantBook()


@pytest.fixture
def hosted(client, world, session):  # type: ignore[no-untyped-def]
    return hosted_resource(client, world, session)


@pytest.fixture
def sz_key(world, session):  # type: ignore[no-untyped-def]
    return machine_key(session, "sz-sj")
