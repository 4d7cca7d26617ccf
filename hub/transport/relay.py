"""The outbox relay: hands due messages to the broker.

A message is due when its ``next_action_at`` has passed: just accepted, retry time reached,
or its lease ran out (the broker copy or the worker holding it was lost). The relay marks a
batch ``queued`` with a fresh lease in one transaction, then publishes. If it dies between
the two, the lease brings the batch back; a duplicate broker copy is harmless because a
worker must claim the message in the database before delivering it.
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import Engine, bindparam, func, select, update

from hub.clock import as_utc, utcnow
from hub.transport.broker import Publisher
from hub.transport.idle import IdleBackoff
from hub.transport.messages import ACCEPTED, QUEUED, RETRYING
from hub.transport.tables import id_in, insert_events, messages

log = logging.getLogger(__name__)


# Built once with the id list as one parameter (``id_in``), instead of a bind parameter cloned
# per id on every round.
_MARK_QUEUED, _MARK_QUEUED_PG = (
    update(messages).where(id_in(messages.c.id, "ids", postgresql=pg))
    .values(status=bindparam("r_status"), next_action_at=bindparam("r_next"), updated_at=bindparam("r_now"))
    for pg in (False, True))

_DUE = (select(messages.c.id, messages.c.status).where(messages.c.next_action_at <= bindparam("r_due"))
        .order_by(messages.c.next_action_at).limit(bindparam("r_limit")))
_DUE_SKIP_LOCKED = _DUE.with_for_update(skip_locked=True)
_EARLIEST = select(func.min(messages.c.next_action_at))


# Woken by an accept right after a round that handed messages out, the relay waits this long
# before the next round. Every accept commit wakes it, and under a steady load a round per wake
# marked and published only that commit's few messages: each round is a transaction of four
# statements and a publish, and in the end-to-end profile the relay cost about as much CPU per
# message as a delivery's claim. Waiting lets a round carry the messages of several commits
# (and the worker's claim and outcome batches grow with it), for at most this much delay. A
# message after a quiet spell (the previous round found nothing) is handed out at once.
LINGER_SECONDS = 0.02


class Relay:
    def __init__(self, engine: Engine, publisher: Publisher, *, lease_seconds: float, batch_size: int,
                 interval_seconds: float, idle_max_seconds: float | None = None) -> None:
        self._engine = engine
        self._publisher = publisher
        self._lease = timedelta(seconds=lease_seconds)
        self._batch = batch_size
        self._idle = IdleBackoff(interval_seconds, max(interval_seconds, idle_max_seconds or interval_seconds))
        self._wake = threading.Event()

    def wake(self) -> None:
        self._wake.set()

    def run_once(self) -> int:
        now = utcnow()
        with self._engine.begin() as conn:
            postgresql = conn.dialect.name == "postgresql"
            query = _DUE_SKIP_LOCKED if postgresql else _DUE
            due = conn.execute(query, {"r_due": now, "r_limit": self._batch}).all()
            if not due:
                return 0
            ids = [row.id for row in due]
            conn.execute(_MARK_QUEUED_PG if postgresql else _MARK_QUEUED, {"ids": ids, "r_status": QUEUED, "r_next": now + self._lease, "r_now": now})
            insert_events(conn, [
                {"message_id": row.id, "at": now, "kind": QUEUED, "attempt": None, "detail": None}
                if row.status in (ACCEPTED, RETRYING)
                else {"message_id": row.id, "at": now, "kind": "requeued", "attempt": None,
                      "detail": {"reason": f"lease expired while {row.status}"}}
                for row in due
            ])
        self._publisher.publish(ids)
        return len(ids)

    def seconds_to_next_due(self) -> float | None:
        """How long until the earliest unfinished message is due (0 if one is due now); None
        when nothing is waiting at all."""
        with self._engine.connect() as conn:
            earliest = conn.execute(_EARLIEST).scalar_one_or_none()
        if earliest is None:
            return None
        return max((as_utc(earliest) - utcnow()).total_seconds(), 0.0)

    def run(self, stop: threading.Event) -> None:
        """Hand out due messages until ``stop``. Idle, it sleeps until the next retry or lease
        falls due, at most the idle ceiling; an accept in this process wakes it at once.

        After a round that found nothing, the next looks first at when the earliest message is
        due (one indexed read) and opens the marking transaction only if one is: an idle relay
        costs one small query per wake-up, where it took a transaction and that query."""
        handed = 0
        while not stop.is_set():
            due: float | None = 0.0
            try:
                if handed == 0:
                    due = self.seconds_to_next_due()
                    handed = self.run_once() if due == 0.0 else 0
                else:
                    handed = self.run_once()
                wait = self._idle.next_wait(handed > 0)
                if handed == 0 and due is not None:
                    wait = min(wait, max(due, self._idle.shortest))
            except Exception:
                # The database or broker is down: keep trying, the outbox holds everything.
                log.exception("relay round failed; retrying in 1 s")
                handed = 0
                stop.wait(1.0)
                continue
            if handed < self._batch:
                if self._wake.wait(wait):
                    self._idle.reset()
                    if handed > 0:
                        stop.wait(LINGER_SECONDS)  # busy: let more accepts commit first (see LINGER_SECONDS)
                    handed = -1  # woken by an accept: mark without looking first
                self._wake.clear()
