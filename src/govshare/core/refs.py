"""Reading numbers and row references out of request text (paths, query strings, form fields).

Request text is arbitrary unicode. ``str.isdigit()`` is true for "¹", "²", "①" and other digits
that ``int()`` refuses (a ValueError, so a 500, where a lookup by code was meant), and ``int()``
itself accepts "٣", "１" (full-width), "1_000" and surrounding spaces, and raises on numbers of
more than 4,300 digits. Every place that turns request text into a number goes through here: only
ASCII digits count, the length is bounded before ``int()`` runs, and a value that is not a number
in range is ``None`` for the caller to answer (404 for a reference, 422 for a field), never an
exception.
"""

from __future__ import annotations

#: Row ids are ``INTEGER`` columns: 32-bit signed on PostgreSQL.
ID_MAX = 2**31 - 1


def ascii_int(text: object, *, maximum: int | None = None, minimum: int = 0) -> int | None:
    """The non-negative integer ``text`` spells in ASCII digits (surrounding spaces ignored),
    within ``minimum``..``maximum``; ``None`` for anything else. An ``int`` passes through, range
    checked; ``bool`` is not a number here."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        value = text
    elif isinstance(text, str):
        s = text.strip()
        # Bounded before int(): 19 digits cover every 64-bit value; more is out of any range here.
        if not s or len(s) > 19 or not (s.isascii() and s.isdigit()):
            return None
        value = int(s)
    else:
        return None
    if value < minimum or (maximum is not None and value > maximum):
        return None
    return value


def id_of(ref: object) -> int | None:
    """The row id ``ref`` names (an ``int`` or ASCII digits, 1..:data:`ID_MAX`), or ``None`` when
    it is not an id: then it is a code, a username or nothing at all, for the caller to look up."""
    return ascii_int(ref, minimum=1, maximum=ID_MAX)
