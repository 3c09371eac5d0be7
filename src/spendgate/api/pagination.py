"""Cursor pagination: `?limit=N&starting_after=CURSOR` -> {"data", "has_more", "next_cursor"}.

A cursor is the id of the last item of the previous page (opaque to clients: pass it back).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from spendgate.errors import InvalidRequest

DEFAULT_LIMIT = 50
MAX_LIMIT = 100

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int = DEFAULT_LIMIT
    starting_after: str | None = None


def page_request(limit: str | None, starting_after: str | None) -> PageRequest:
    if limit is None:
        size = DEFAULT_LIMIT
    else:
        if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
            raise InvalidRequest(f"limit must be an integer from 1 to {MAX_LIMIT}",
                                 param="limit")
        size = int(limit)
    if starting_after is not None and not 1 <= len(starting_after) <= 256:
        raise InvalidRequest("starting_after must be a cursor from a previous page",
                             param="starting_after")
    return PageRequest(size, starting_after)


def page(items: Sequence[T], req: PageRequest, cursor: Callable[[T], str],
         render: Callable[[T], Any]) -> dict[str, Any]:
    """A page from `items` fetched with limit + 1 (the extra one only says there is more)."""
    shown = list(items[: req.limit])
    more = len(items) > req.limit
    return {"data": [render(i) for i in shown], "has_more": more,
            "next_cursor": cursor(shown[-1]) if more and shown else None}


def slice_after(items: Sequence[T], req: PageRequest, cursor: Callable[[T], str]) -> list[T]:
    """For lists read whole (sorted by cursor): the items after the cursor, limit + 1 of them."""
    start = 0
    if req.starting_after is not None:
        start = next((i for i, item in enumerate(items) if cursor(item) > req.starting_after),
                     len(items))
    return list(items[start:start + req.limit + 1])
