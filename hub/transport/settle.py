"""A delivery the receiver's side applied when the message was accepted, recorded without the
transport's hop.

An adapter's receiving side that lives in this hub (the e-CMS node's poll queues) can apply
a message in the transaction that records its own state. Sending it on through relay,
broker, claim and attempt would only find it applied. Instead the caller accepts it held
(``MessageService.accept(..., hold_seconds=...)``: not due before then) and, in its own
transaction, applies it and records it ``delivered`` here. Either both commit or neither:
if that transaction never commits, the hold runs out and the transport delivers the message
as any other (the adapter must find an item already applied, as for any redelivery).

The message is marked only while it is still ``accepted`` with no attempt: once the relay
has handed it out (a hold that ran out), the transport's delivery decides, and finds the
item applied.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, update

from hub import metrics
from hub.adapters.base import Receipt
from hub.clock import utcnow
from hub.transport.delivery import storable, storable_values
from hub.transport.messages import ACCEPTED, DELIVERED
from hub.transport.tables import insert_events, messages

_SETTLE = (update(messages)
           .where(messages.c.id == bindparam("s_id"), messages.c.status == ACCEPTED, messages.c.attempts == 0)
           .values(status=DELIVERED, attempts=1, receipt=bindparam("s_receipt"), next_action_at=None,
                   last_error=None, updated_at=bindparam("s_now")))


def record_delivered_in(conn: Any, key: str, receipt: Receipt) -> bool:  # noqa: ANN401 (a SQLAlchemy Connection)
    """In ``conn``'s transaction, mark the message ``key`` (the hub key) delivered as attempt 1
    with ``receipt``, and add its ``delivered`` event (``applied_at_accept``). False if the
    transport has taken it already (or it is another message's state altogether)."""
    now = utcnow()
    text = storable(receipt.receipt)
    if conn.execute(_SETTLE, {"s_id": key, "s_receipt": text, "s_now": now}).rowcount != 1:
        return False
    detail = {"receipt": text, **storable_values(receipt.detail), "applied_at_accept": True}
    insert_events(conn, [{"message_id": key, "at": now, "kind": DELIVERED, "attempt": 1, "detail": detail}])
    return True


def count_delivered(adapter: str) -> None:
    """Count a delivery recorded here, once committed, as the delivery worker counts its own."""
    metrics.ATTEMPTS.labels(adapter, DELIVERED).inc()
    metrics.OUTCOMES.labels(DELIVERED).inc()
