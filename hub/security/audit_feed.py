"""Copies the transport's ``message_events`` into the audit chain, in order, exactly once.

Issue 5 asks that every accepted message and delivery attempt be in the tamper-evident log.
The transport already writes each of them as a ``message_events`` row (accepted, queued,
attempt_failed, delivered, dead_lettered, replayed, receiver_outcome, ...); this feed appends
one ``transport.<kind>`` entry per row with hashes only: the payload's SHA-256, the receipt's,
the error's, and one over the event's whole detail, so an auditor holding the message history
can prove it matches while the log itself carries no payload, receipt or error text.

Exactly once: the position (last event id copied) is one row, locked (``FOR UPDATE``; SQLite's
``BEGIN IMMEDIATE``) and moved in the same transaction that appends the entries. A restart
resumes from it; a second process waits for the lock and then sees the moved position.

In order, without skipping: event ids come from a sequence, and on PostgreSQL a transaction
may commit id 41 after id 42 is visible. The feed copies only the contiguous run after its
position; at a hole it waits (the missing event is usually a transaction still committing).
A hole that stays longer than ``gap_seconds`` is an id that will never appear (a rolled-back
insert, a deleted message): the feed appends an ``audit.feed_gap`` entry naming the ids it
moves past, so even that is in the chain rather than silent.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import Engine, Text, bindparam, cast, func, select, update
from sqlalchemy.exc import SQLAlchemyError

from hub.clock import as_utc, utcnow
from hub.security.audit import AuditLog, canonical
from hub.security.tables import audit_feed_position
from hub.transport.idle import IdleBackoff
from hub.transport.tables import message_events, messages

log = logging.getLogger(__name__)

FEED = "transport"
ACTOR = "hub:transport"
# Detail members that are plain facts about the event (numbers, flags, statuses) and are
# copied as they are; every other member is free text or agency data and is only hashed.
_PLAIN = ("payload_sha256", "payload_size", "route_id", "permanent", "status", "previous_status",
          "previous_attempts")
# Free-text members worth a hash of their own, so one of them can be proved without the rest.
_HASHED = ("receipt", "error", "reason")

Entry = tuple[str, str, str | None, str | None, str]

# Built once (compiled once and cached). The detail is read as its stored text, not through
# the driver's JSON loader: see ``parsed_detail``.
_NEXT_EVENTS = (
    select(message_events.c.id, message_events.c.message_id, message_events.c.at, message_events.c.kind,
           message_events.c.attempt, cast(message_events.c.detail, Text).label("detail_text"),
           messages.c.sender, messages.c.receiver, messages.c.service, messages.c.classification,
           messages.c.payload_sha256, messages.c.message_id.label("sender_message_id"))
    .select_from(message_events.outerjoin(messages, messages.c.id == message_events.c.message_id))
    .where(message_events.c.id > bindparam("position")).order_by(message_events.c.id)
    .limit(bindparam("batch"))
)


def sha256_text(value: Any) -> str:
    data = value.encode() if isinstance(value, str) else canonical(value)
    return hashlib.sha256(data).hexdigest()


def parsed_detail(text: str | None) -> Any:
    """An event's detail read as stored text: orjson parses it several times faster than the
    driver's ``json.loads``, which accepts a few forms orjson refuses (NaN, lone surrogates)."""
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def entry_for(row: Any) -> Entry:
    """The audit entry of one event row (a ``_NEXT_EVENTS`` row: the event joined with its
    message's parties and payload hash, its detail as stored text)."""
    (event_id, key, at, kind, attempt, detail_text, sender, receiver, service, classification,
     payload_sha256, sender_message_id) = row
    parsed = parsed_detail(detail_text)
    detail = parsed if isinstance(parsed, dict) else {}
    body: dict[str, Any] = {"event_id": event_id, "event_at": as_utc(at).isoformat(), "attempt": attempt,
                            "sender": sender, "receiver": receiver, "service": service,
                            "classification": classification, "payload_sha256": payload_sha256}
    if detail:
        body.update({k: detail[k] for k in _PLAIN if k in detail})
        body.update({f"{k}_sha256": sha256_text(detail[k]) for k in _HASHED if detail.get(k) is not None})
    if parsed is not None:
        body["detail_sha256"] = sha256_text(parsed)
    # The target is the id the sender knows; ids are unique per sender, so the hub key too.
    target = sender_message_id or key
    if target != key:
        body["key"] = key
    return (f"transport.{kind}"[:40], ACTOR, None, target, canonical(body).decode())


class AuditFeed:
    def __init__(self, engine: Engine, audit: AuditLog, *, batch_size: int = 500, interval_seconds: float = 1.0,
                 gap_seconds: float = 30.0, idle_max_seconds: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self._audit = audit
        self._batch_size = batch_size
        self._interval = interval_seconds
        self._idle = IdleBackoff(interval_seconds, max(interval_seconds, idle_max_seconds or interval_seconds))
        self._gap_seconds = gap_seconds
        self._clock = clock
        self._gap_first_seen: dict[int, float] = {}  # missing event id -> when this feed first saw it missing

    def position(self) -> int:
        with self._engine.connect() as conn:
            return conn.execute(select(audit_feed_position.c.last_event_id)
                                .where(audit_feed_position.c.name == FEED)).scalar_one()

    def lag(self) -> tuple[int, float]:
        """How far the feed is behind: (events not yet copied, seconds since the oldest of them
        was written; 0 when caught up). Two reads by primary key, cheap enough for every scrape."""
        with self._engine.connect() as conn:
            position = conn.execute(select(audit_feed_position.c.last_event_id)
                                    .where(audit_feed_position.c.name == FEED)).scalar_one_or_none() or 0
            newest = conn.execute(select(func.max(message_events.c.id))).scalar_one_or_none() or 0
            if newest <= position:
                return 0, 0.0
            oldest = conn.execute(select(message_events.c.at).where(message_events.c.id > position)
                                  .order_by(message_events.c.id).limit(1)).scalar_one_or_none()
        seconds = (utcnow() - as_utc(oldest)).total_seconds() if oldest is not None else 0.0
        return newest - position, max(seconds, 0.0)

    def copy_batch(self) -> int:
        """Copy the next contiguous run of events (at most one batch); the number copied."""
        with self._engine.begin() as conn:
            position = conn.execute(select(audit_feed_position.c.last_event_id)
                                    .where(audit_feed_position.c.name == FEED).with_for_update()).scalar_one()
            rows = conn.execute(_NEXT_EVENTS, {"position": position, "batch": self._batch_size}).all()
            if not rows:
                return 0
            entries: list[Entry] = []
            expected = position + 1
            if rows[0].id != expected:
                if not self._gap_expired(expected):
                    return 0
                entries.append(("audit.feed_gap", ACTOR, None, FEED, canonical(
                    {"missing_from": expected, "missing_to": rows[0].id - 1,
                     "waited_seconds": self._gap_seconds}).decode()))
                log.warning("audit feed: event ids %d-%d never appeared; recorded as a gap", expected, rows[0].id - 1)
                expected = rows[0].id
            copied = 0
            for row in rows:
                if row.id != expected:
                    break  # a hole inside the batch: stop before it, the next batch waits at it
                entries.append(entry_for(row))
                expected += 1
                copied += 1
            self._audit.append_in(conn, entries)
            conn.execute(update(audit_feed_position).where(audit_feed_position.c.name == FEED)
                         .values(last_event_id=expected - 1, updated_at=utcnow()))
        self._gap_first_seen.clear()
        return copied

    def _gap_expired(self, missing: int) -> bool:
        first = self._gap_first_seen.setdefault(missing, self._clock())
        return self._clock() - first >= self._gap_seconds

    def catch_up(self) -> int:
        """Copy until nothing more is ready; the number of events copied."""
        total = 0
        while (copied := self.copy_batch()) > 0:
            total += copied
        return total

    def run(self, stop: threading.Event) -> None:
        """Background loop for ``Hub.start_workers``: copy, then sleep until the next look."""
        while not stop.is_set():
            try:
                copied = self.copy_batch()
            except SQLAlchemyError:
                # The database is unreachable or busy: nothing was copied (the transaction
                # rolled back with the position), so trying again later is safe.
                log.exception("audit feed: copying transport events failed; retrying in %.1fs", self._interval)
                copied = 0
            if copied < self._batch_size:
                stop.wait(self._idle.next_wait(copied > 0))
