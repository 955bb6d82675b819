"""No silent bypass: every service function that acts takes its actor, and none defaults to "no one".

A ``by`` with a default of ``None`` used to skip the scope checks when a caller forgot it. Now the
command line and the demo loader pass ``core.auth.OPERATOR`` and background work
``SYSTEM_PRINCIPAL``, so a forgotten actor is a ``TypeError`` instead of wider access.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import govshare
from govshare.core.auth import OPERATOR, SYSTEM_PRINCIPAL, Principal
from govshare.core.events import SYSTEM


def _service_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(govshare.__path__, "govshare."):
        last = info.name.rsplit(".", 1)[-1]
        parts = info.name.split(".")
        if last in ("service", "importer") or "service" in parts[:-1]:
            names.append(info.name)
    return names


def test_the_walk_finds_the_service_modules() -> None:
    found = _service_modules()
    for expected in ("govshare.registry.service", "govshare.catalog.service.entries", "govshare.guide.service"):
        assert expected in found


@pytest.mark.parametrize("module", _service_modules())
def test_no_service_function_defaults_its_actor(module: str) -> None:
    mod = importlib.import_module(module)
    bad = []
    for name, fn in inspect.getmembers(mod, inspect.isfunction):
        if fn.__module__ != mod.__name__:
            continue
        param = inspect.signature(fn).parameters.get("by")
        if param is None:
            continue
        if param.default is not inspect.Parameter.empty or "None" in str(param.annotation):
            bad.append(name)
    assert not bad, f"{module}: 'by' must be required and never None in {bad}"


def test_system_principals_hold_every_scope_and_act_as_system() -> None:
    for p in (OPERATOR, SYSTEM_PRINCIPAL):
        assert p.is_system
        assert p.covers_region("320000/320500", "authority")
        assert p.in_agency(42, "agency_admin")
        assert p.actor == SYSTEM
    person = Principal(kind="person", id=1, name="p")
    assert not person.is_system
    assert not person.covers_region("320000", "authority")
    assert not person.in_agency(42, "agency_admin")
