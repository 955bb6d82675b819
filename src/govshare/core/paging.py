"""Paging, written once: a query's page of rows with the total, and the pager a page shows.

``paginate(session, stmt, offset=..., limit=...)`` runs the count and the page of a ``select``;
the API returns ``rows`` and ``total`` in its ``XPage`` schema (a subclass of :class:`PageOf`), a portal page hands
:class:`Pager` to the ``pager`` macro of ``forms.html``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

#: Most rows one API page returns.
MAX_LIMIT = 200


class PageOf(BaseModel, Generic[T]):
    """An API page of ``items``: subclass it per item schema (``class XPage(PageOf[XRead])``) so that
    the OpenAPI schema keeps the name ``XPage``."""

    items: list[T]
    total: int
    offset: int
    limit: int


@dataclasses.dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    rows: Sequence[T]
    total: int
    offset: int
    limit: int


def count(session: Session, stmt: Select[Any]) -> int:
    """Rows ``stmt`` would return (its ordering dropped: it changes nothing about the count)."""
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def paginate(
    session: Session, stmt: Select[Any], *, offset: int = 0, limit: int = 50, scalars: bool = True, unique: bool = False
) -> Page[Any]:
    """The rows of ``stmt`` from ``offset`` (at most ``limit``) and how many there are in all.

    ``stmt`` carries its own ``order_by`` (a page without a stable order is not a page).
    ``scalars``: the first column of each row (an ORM entity, typically); else whole rows.
    ``unique``: for statements with joined eager loads of collections.
    """
    total = count(session, stmt)
    paged = stmt.offset(offset).limit(limit)
    if scalars:
        result = session.scalars(paged)
        rows: list[Any] = list(result.unique() if unique else result)
    else:
        rows = list(session.execute(paged).all())
    return Page(rows, total, offset, limit)


@dataclasses.dataclass(frozen=True, slots=True)
class Pager:
    """What a page needs to link to the previous and next pages of a list."""

    offset: int
    limit: int
    total: int

    @property
    def prev_offset(self) -> int | None:
        return max(self.offset - self.limit, 0) if self.offset > 0 else None

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.total else None

    @property
    def first(self) -> int:
        """1-based number of the first row shown (0 when there is none)."""
        return self.offset + 1 if self.total and self.offset < self.total else 0

    @property
    def last(self) -> int:
        return min(self.offset + self.limit, self.total)

    @property
    def needed(self) -> bool:
        return self.prev_offset is not None or self.next_offset is not None

    @classmethod
    def of(cls, page: Page[Any]) -> Pager:
        return cls(page.offset, page.limit, page.total)
