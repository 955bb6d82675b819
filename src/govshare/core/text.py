"""Required text in request schemas: stripped, and refused when nothing visible is left.

A name of only spaces passed ``min_length`` and reached the database as an empty string (or as
NULL, a 500): ASCII spaces, the ideographic space U+3000 that Chinese input methods type, tabs,
line breaks, and invisible format characters such as the zero-width space all count as blank.
Use :data:`RequiredText` (or ``RequiredText | None`` for an optional update) with the field's usual
``Field(min_length=..., max_length=...)``; the error is a ``value_error`` naming the field, shown in
Chinese or English by the API and the pages alike.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

#: Unicode categories that show nothing: controls, format characters (U+200B, U+FEFF...), separators.
_INVISIBLE = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})

BLANK_MESSAGE = "不能为空，也不能只有空格 / must not be empty or only spaces"


def is_blank(value: str | None) -> bool:
    """True when ``value`` has no visible character."""
    return value is None or all(unicodedata.category(ch) in _INVISIBLE for ch in value)


def visible(value: str) -> str:
    """``value`` stripped; ``ValueError`` when nothing visible is left."""
    if is_blank(value):
        raise ValueError(BLANK_MESSAGE)
    return value.strip()


#: A required text field: stripped, at least one visible character.
RequiredText = Annotated[str, AfterValidator(visible)]


#: The escape character :func:`contains` uses; pass it as ``column.like(pattern, escape=LIKE_ESCAPE)``.
LIKE_ESCAPE = "\\"


def contains(value: str) -> str:
    """A LIKE pattern matching text that contains ``value`` literally: ``%`` and ``_`` typed in a
    search box are characters to find, not wildcards (unescaped, "%" matched every row)."""
    escaped = value.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
    for wildcard in ("%", "_"):
        escaped = escaped.replace(wildcard, LIKE_ESCAPE + wildcard)
    return f"%{escaped}%"
