"""Small readers of page forms and query strings, shared by the domains' pages.

A page form is read as text, trimmed, field by field (``form_values``); a number typed into a
form or carried in a link is taken only as plain ASCII digits of bounded length (``whole``), so
that a full-width digit, a sign or an overlong value is a form error, never a 500.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.requests import Request


def form_values(form: Any, names: Iterable[str]) -> dict[str, str]:
    """The named fields of ``form`` as trimmed text ("" when absent)."""
    return {k: str(form.get(k) or "").strip() for k in names}


def whole(raw: str, max_digits: int = 9) -> int | None:
    """``raw`` as a non-negative integer if it is 1 to ``max_digits`` ASCII digits, else None."""
    if raw.isascii() and raw.isdigit() and len(raw) <= max_digits:
        return int(raw)
    return None


def offset_param(request: Request) -> int:
    """The list page's ``offset`` query parameter; 0 when absent or not a small whole number."""
    return whole(request.query_params.get("offset", "0")) or 0
