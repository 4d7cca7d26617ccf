"""What the receiving system decided, after delivery: recorded on the original message.

Some systems answer later and out of band: the GFMIS-style finance system takes a batch file
(delivery ends with ``delivered``) and hours later drops a result file accepting or rejecting
each line. :func:`record_receiver_outcome` brings that answer back to the original message:
an ``receiver_outcome`` event in its history and a final status

* ``completed``        the receiver accepted everything;
* ``partly_rejected``  some lines were rejected (the reasons are in ``last_error`` and the event);
* ``rejected``         everything was rejected (e.g. a whole file with wrong control totals).

Recording is idempotent by ``key`` (e.g. the result file's name and digest): processing the
same result twice changes nothing the second time. An outcome is only recorded once the
message is ``delivered`` (or already has an outcome); earlier, :class:`NotYetDelivered` is
raised so the caller keeps the result and tries again, because moving a message that is
still being delivered would race with the delivery worker's own bookkeeping.

Adapters reach this through their inbound sink (``InboundSink.record_outcome``,
implemented in :mod:`hub.transport.inbound`), never directly.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, insert, select, update

from hub.clock import utcnow
from hub.errors import NotFound, NotYetDelivered
from hub.transport.messages import DELIVERED, OUTCOME_STATUSES, resolve_key
from hub.transport.tables import message_events, messages

OUTCOME_EVENT = "receiver_outcome"
_LAST_ERROR_LIMIT = 2000


def record_receiver_outcome(
    engine: Engine,
    message_id: str,
    *,
    key: str,
    status: str,
    detail: dict[str, Any],
    error: str | None = None,
) -> bool:
    """Record the receiver's answer on a message. Returns False if ``key`` was recorded before."""
    if status not in OUTCOME_STATUSES:
        raise ValueError(f"outcome status must be one of {OUTCOME_STATUSES}, got {status!r}")
    now = utcnow()
    with engine.begin() as conn:
        # FOR UPDATE (ignored by SQLite, whose BEGIN IMMEDIATE already serialises writers) keeps
        # two processes reading the same result file from both recording it.
        # A receiver names the message by the hub key or by an id that only one sender used.
        ref, message_id = message_id, resolve_key(conn, message_id)
        row = None if message_id is None else conn.execute(
            select(messages.c.status).where(messages.c.id == message_id).with_for_update()
        ).first()
        if row is None:
            raise NotFound(f"no message with id {ref}")
        earlier = conn.execute(
            select(message_events.c.detail).where(
                message_events.c.message_id == message_id, message_events.c.kind == OUTCOME_EVENT)
        ).scalars().all()
        if any(isinstance(d, dict) and d.get("key") == key for d in earlier):
            return False
        if row.status != DELIVERED and row.status not in OUTCOME_STATUSES:
            raise NotYetDelivered(
                f"message {ref} is {row.status!r}; a receiver outcome is recorded once it is delivered")
        conn.execute(
            update(messages).where(messages.c.id == message_id)
            .values(status=status, last_error=(error or None) and error[:_LAST_ERROR_LIMIT], updated_at=now)
        )
        conn.execute(insert(message_events).values(
            message_id=message_id, at=now, kind=OUTCOME_EVENT, attempt=None,
            detail={"key": key, "status": status, **detail},
        ))
    return True
