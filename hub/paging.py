"""Cursor paging over rows ordered by (time, id): one page and the cursor to the next.

The cursor is opaque to clients: the (time, id) of the last row of the page, which the next
query resumes strictly after. Because ids break ties between equal times, no row is skipped
or shown twice while rows are added. The transport pages its message list with it, and the
security layer uses it again when it merges the pages of a principal's several parties.
"""
from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

import orjson

from hub.errors import FieldError, InputError

T = TypeVar("T")


def encode_cursor(at: datetime, row_id: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([at.isoformat(), row_id])).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, row_id = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(at), str(row_id)
    except (ValueError, TypeError) as exc:
        raise InputError(
            "cursor is not one this hub issued",
            errors=[FieldError("/query/cursor", "opaque_cursor", "pass next_cursor from a previous page unchanged")],
        ) from exc


def page(rows: Sequence[T], limit: int, position: Callable[[T], tuple[datetime, str]], *,
         more: bool = False) -> tuple[list[T], str | None]:
    """The first ``limit`` of ``rows`` (in paging order) and the cursor after them.

    ``rows`` may hold more than ``limit`` (a query asks for ``limit + 1`` to learn whether
    another page follows); ``more`` says that rows beyond these exist anyway. The cursor is
    ``None`` on the last page.
    """
    more = more or len(rows) > limit
    kept = list(rows[:limit])
    return kept, (encode_cursor(*position(kept[-1])) if more and kept else None)
