"""Listing messages for a principal that may see only its own (sent or received, up to its clearance).

The transport's ``list`` filters by one sender and one receiver; a principal acts for one or
more parties, as sender or receiver. Each (party as sender) and (party as receiver) query
runs with the same cursor; the pages are merged in the transport's order
(``StoredMessage.list_position``) and cut by the same ``hub.paging.page``, which keeps
cursor paging exact. Messages above the principal's clearance are dropped from the page
afterwards; the cursor still moves past them, so a page may be short.
"""
from __future__ import annotations

from typing import Any

from hub.paging import page
from hub.schemas.envelope import StoredMessage
from hub.security.authz import Scope, higher


def list_visible(store: Any, scope: Scope, *, sender: str | None, receiver: str | None, limit: int,
                 **filters: Any) -> tuple[list[StoredMessage], str | None]:
    combos: set[tuple[str | None, str | None]] = set()
    for party in scope.parties:
        if sender in (None, party):
            combos.add((party, receiver))
        if receiver in (None, party):
            combos.add((sender, party))
    merged: dict[str, StoredMessage] = {}
    more = False
    for s, r in sorted(combos, key=str):
        items, next_cursor = store.list(sender=s, receiver=r, limit=limit, **filters)
        more = more or next_cursor is not None
        for item in items:
            merged[item.key or str(item.id)] = item  # ids are per sender; the key is not
    ordered = sorted(merged.values(), key=StoredMessage.list_position)
    ordered, next_cursor = page(ordered, limit, StoredMessage.list_position, more=more)
    visible = [m for m in ordered if not higher(m.classification, scope.max_classification)]
    return visible, next_cursor
