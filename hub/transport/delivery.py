"""Delivery attempts: claim messages in the database, send them, record the outcomes.

The claim (``queued`` -> ``delivering``, attempts + 1) is a conditional update, so however
many broker copies of an id exist, only one worker delivers it at a time. Claims are taken
for a whole batch of broker messages at once, and outcomes are group-committed; an outcome
is recorded only if the claim is still ours (same attempt number).
"""
from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Engine, and_, bindparam, exists, func, select, text, update

from hub import metrics
from hub.adapters.base import Adapter, OutboundMessage, Receipt
from hub.adapters.registry import AdapterRegistry
from hub.clock import as_utc, utcnow
from hub.errors import DeliveryError
from hub.schemas.envelope import StoredMessage, delivery_id
from hub.schemas.routes import DeliveryPolicy, Route
from hub.transport.backoff import retry_delay
from hub.group_commit import GroupCommitter
from hub.logging_setup import story
from hub.transport.messages import (
    ACCEPTED, DEAD, DELIVERED, DELIVERING, FINISHED, QUEUED, RETRYING, UNFINISHED, meta_columns, row_to_meta,
)
from hub.transport.payload_store import read_payload, whole
from hub.transport.routing import Router
from hub.transport.tables import id_in, insert_events, message_payloads, messages

log = logging.getLogger(__name__)
story_log = story(__name__)


class AdapterPool:
    """One live adapter per route, rebuilt when the route's adapter or settings change."""

    def __init__(self, registry: AdapterRegistry) -> None:
        self._registry = registry
        self._live: dict[int, tuple[tuple[str, str], Adapter]] = {}
        self._lock = threading.Lock()

    def for_route(self, route: Route) -> Adapter:
        key = (route.adapter, repr(route.settings))
        current = self._live.get(route.id)
        if current and current[0] == key:  # the common case takes no lock
            return current[1]
        with self._lock:
            current = self._live.get(route.id)
            if current and current[0] == key:
                return current[1]
            adapter = self._registry.build(route.adapter, route.settings)
            self._live[route.id] = (key, adapter)
        if current:
            current[1].close()
        return adapter

    def close(self) -> None:
        with self._lock:
            live, self._live = self._live, {}
        for _, adapter in live.values():
            adapter.close()


# Payloads up to this size are read together with the claim; larger ones one at a time,
# so a batch of claims never holds many large payloads in memory at once.
INLINE_PAYLOAD_BYTES = 256 * 1024
OUTCOME_COLUMNS = ("status", "receipt", "next_action_at", "last_error")
# One outcome committer per process, which lingers up to OUTCOME_LINGER_SECONDS for more
# outcomes while attempts are still running in this process. Outcomes come in a steady trickle
# (each delivery thread finishes on its own time): two committers taking whatever had arrived
# recorded about three outcomes per transaction in the end-to-end load, and those transactions
# were six in ten of all the database's. Lingering gathers them into a few larger ones, which
# cost the hub and the database less per message (and drain faster, not slower). A lone
# delivery, with nothing else in progress, is recorded at once. Nobody's request waits on it;
# the broker message's acknowledgement waits a little longer, within its prefetch room.
OUTCOME_LINGER_SECONDS = 0.025


def _claim_statement(postgresql: bool) -> Any:
    """Built once, with the id list as one parameter (``id_in``): ``in_(list)`` cloned a bind
    parameter per id on every call (a third of a worker's CPU in a profile)."""
    earlier = messages.alias("earlier")
    waits_for_earlier = exists().where(
        earlier.c.receiver == messages.c.receiver,
        earlier.c.correlation_id == messages.c.correlation_id,
        earlier.c.received_at < messages.c.received_at,
        earlier.c.status.in_(UNFINISHED),
    )
    return (
        update(messages)
        .where(id_in(messages.c.id, "ids", postgresql=postgresql), messages.c.status == QUEUED,
               ~waits_for_earlier)
        .values(status=bindparam("c_status"), attempts=messages.c.attempts + 1,
                next_action_at=bindparam("c_next"), updated_at=bindparam("c_now"))
        .returning(*meta_columns(), messages.c.cycle_started_at)
    )


# Each in two forms (``id_in``): [0] for SQLite, [1] for PostgreSQL.
_CLAIM = (_claim_statement(False), _claim_statement(True))


def _release_next() -> Any:
    """The conversation's next unfinished message after a finished one, if it waits queued.

    Only that one: every later message still waits for it. Handing out all of them, as before,
    made each finished message of a backlog in one conversation re-queue, publish and have
    claimed and skipped every message behind it: a burst of n events about one subject
    cost each subscriber n²/2 such rounds (a fan-out of 1,100 events slowed to a third)."""
    later = messages.alias("later")
    next_at = (select(func.min(later.c.received_at))
               .where(later.c.receiver == bindparam("r_receiver"), later.c.correlation_id == bindparam("r_correlation"),
                      later.c.received_at > bindparam("r_after"), later.c.status.in_(UNFINISHED))
               .scalar_subquery())
    return (update(messages)
            .where(messages.c.receiver == bindparam("r_receiver"),
                   messages.c.correlation_id == bindparam("r_correlation"),
                   messages.c.received_at == next_at, messages.c.status == QUEUED)
            .values(status=ACCEPTED, next_action_at=bindparam("r_now"), updated_at=bindparam("r_now")))


_RELEASE_NEXT = _release_next()


def _claim_with_bodies() -> Any:
    """On PostgreSQL the claim and the small payloads in one statement: the claiming UPDATE as
    a CTE, its rows joined to their payloads (a round trip fewer per claim than a second
    SELECT; under a steady load a claim carries only a few messages)."""
    claimed = _claim_statement(True).cte("claimed")
    return select(claimed, message_payloads.c.body).select_from(claimed.outerjoin(
        message_payloads, and_(message_payloads.c.message_id == claimed.c.id,
                               claimed.c.payload_size <= INLINE_PAYLOAD_BYTES)))


_CLAIM_WITH_BODIES = _claim_with_bodies()
_SMALL_BODIES = tuple(select(message_payloads.c.message_id, message_payloads.c.body).where(
    id_in(message_payloads.c.message_id, "ids", postgresql=pg)) for pg in (False, True))
_HELD = tuple(select(messages.c.id, messages.c.status, messages.c.attempts, messages.c.receiver,
                     messages.c.correlation_id, messages.c.received_at).where(
    id_in(messages.c.id, "ids", postgresql=pg)).order_by(messages.c.id) for pg in (False, True))
_HELD_FOR_UPDATE = _HELD[1].with_for_update()
_RECORD_OUTCOME = (update(messages).where(messages.c.id == bindparam("m_id"))
                   .values({c: bindparam(f"m_{c}") for c in OUTCOME_COLUMNS} | {"updated_at": bindparam("m_now")}))
# On PostgreSQL a batch's outcomes are one UPDATE joined to the outcomes passed as one JSON
# document: the executemany sent, and psycopg built the parameters of, one UPDATE per outcome
# (a fifth of the outcome committer's time in a profile), and arrays as parameters cost about
# as much again (psycopg escapes each element of a text array with a regular expression).
_RECORD_OUTCOMES_PG = text(
    "UPDATE messages SET status = o.status, receipt = o.receipt, next_action_at = o.next_action_at,"
    " last_error = o.last_error, updated_at = :m_now"
    " FROM json_to_recordset(CAST(:m_outcomes AS json))"
    " AS o(id varchar, status varchar, receipt text, next_action_at timestamptz, last_error text)"
    " WHERE messages.id = o.id")


@functools.cache
def _attempts_counter(adapter: str, status: str) -> Any:
    """The labelled child, looked up once per (adapter, outcome) rather than per attempt."""
    return metrics.ATTEMPTS.labels(adapter, status)


@functools.cache
def _attempt_seconds(adapter: str) -> Any:
    return metrics.ATTEMPT_SECONDS.labels(adapter)


@dataclass(frozen=True)
class Claim:
    """A message this worker holds the lease on, for attempt number ``attempt``."""

    meta: StoredMessage
    attempt: int
    cycle_started_at: datetime
    payload: bytes | None = None


@dataclass(frozen=True)
class Outcome:
    message_id: str  # the hub key
    attempt: int
    status: str
    values: dict[str, Any]
    events: list[dict[str, Any]]
    # Where and how the attempt went, for the story lines and metrics (not stored).
    route_id: int | None = None
    adapter: str | None = None
    seconds: float | None = None
    sender_message_id: str | None = None  # the id its sender knows, for the story lines


class Deliverer:
    def __init__(self, engine: Engine, router: Router, pool: AdapterPool, *, attempt_timeout: float,
                 on_outcome: Any = None, guards: list[Callable[[StoredMessage], None]] | None = None) -> None:
        """``guards`` run before every send; one raising ``DeliveryError`` stops the attempt."""
        self._guards = list(guards or [])
        self._engine = engine
        self._router = router
        self._pool = pool
        self._lease = timedelta(seconds=attempt_timeout * 2)
        self._on_outcome = on_outcome
        self._attempting = 0  # attempts in progress in this process: their outcomes are coming
        self._attempting_lock = threading.Lock()
        self._recorder: GroupCommitter[Outcome, str] = GroupCommitter(
            self._record_batch, name="outcomes", linger_seconds=OUTCOME_LINGER_SECONDS,
            linger_while=lambda: self._attempting > 0)

    def deliver(self, message_id: str) -> str:
        """Claim, attempt and record one message. Returns delivered, retrying, dead or skipped."""
        claims = self.claim([message_id])
        return self.attempt_and_record(claims[0]) if claims else "skipped"

    def claim(self, message_ids: list[str]) -> list[Claim]:
        """Take the lease on those of ``message_ids`` that are queued and next in their conversation.

        Messages of one conversation (same receiver and ``correlation_id``) are delivered in the
        order they were accepted: one whose predecessor is unfinished is left queued, and is
        handed out again when that predecessor finishes (``_release_successors``).
        """
        now = utcnow()
        with self._engine.begin() as conn:
            pg = conn.dialect.name == "postgresql"
            params = {"ids": message_ids, "c_status": DELIVERING, "c_next": now + self._lease, "c_now": now}
            if pg:
                rows = conn.execute(_CLAIM_WITH_BODIES, params).mappings().all()
                bodies = {r["id"]: r["body"] for r in rows if r["body"] is not None}
            else:
                rows = conn.execute(_CLAIM[pg], params).mappings().all()
                small = [r["id"] for r in rows if r["payload_size"] <= INLINE_PAYLOAD_BYTES]
                bodies = dict(conn.execute(_SMALL_BODIES[pg], {"ids": small}).all()) if small else {}
        claims = []
        for row in rows:
            meta = row_to_meta(row)  # StoredMessage ignores the extra columns (cycle_started_at, body)
            claims.append(Claim(meta, meta.attempts, as_utc(row["cycle_started_at"]), bodies.get(row["id"])))
        return claims

    def attempt_and_record(self, claim: Claim) -> str:
        return self.record_async(self.attempt(claim)).result()

    def record_async(self, outcome: Outcome) -> Future[str]:
        """Queue ``outcome`` for the next group commit; the future resolves once it is committed."""
        future = self._recorder.submit_async(outcome)
        if self._on_outcome:
            future.add_done_callback(self._count)
        return future

    def _count(self, future: Future[str]) -> None:
        if future.exception() is None and future.result() != "superseded":
            self._on_outcome(future.result())

    def attempt(self, claim: Claim) -> Outcome:
        """One delivery attempt; no database writes (the outcome is recorded in a batch)."""
        started = time.perf_counter()
        with self._attempting_lock:
            self._attempting += 1
        try:
            route = self._router.find(claim.meta.receiver, claim.meta.service)
            outcome = self._attempt(claim, route)
        finally:
            with self._attempting_lock:
                self._attempting -= 1
        seconds = time.perf_counter() - started
        for event in outcome.events:  # the timeline shows how long each attempt took
            if event["kind"] in ("attempt_failed", DELIVERED) and isinstance(event.get("detail"), dict):
                event["detail"]["duration_ms"] = round(seconds * 1000, 1)
        return replace(outcome, route_id=route.id if route else None, adapter=route.adapter if route else None,
                       seconds=seconds, sender_message_id=str(claim.meta.id))

    def _attempt(self, claim: Claim, route: Route | None) -> Outcome:
        meta, attempt = claim.meta, claim.attempt
        message_id = meta.key or str(meta.id)  # the hub key: payloads and outcomes are kept under it
        policy: DeliveryPolicy = route or DeliveryPolicy()
        if attempt > policy.max_attempts:
            # The previous attempt's worker vanished and used up the last try.
            return self._dead(message_id, attempt, f"no attempts left ({policy.max_attempts} allowed)")
        if route is None:
            return self._failed(message_id, claim, policy,
                                DeliveryError(f"no route for {meta.receiver!r} / {meta.service!r}"))
        try:
            for guard in self._guards:
                guard(meta)
            delivery = delivery_id(message_id, meta.received_at, claim.cycle_started_at)
            adapter = self._pool.for_route(route)
            receipt = adapter.send(self._outbound(claim, message_id, delivery, adapter.streams_payload))
        except DeliveryError as exc:
            return self._failed(message_id, claim, policy, exc)
        except Exception as exc:  # an adapter bug must not kill the worker; the attempt fails
            log.exception("adapter %r raised unexpectedly for message %s", route.adapter, message_id)
            return self._failed(message_id, claim, policy,
                                DeliveryError(f"adapter error: {type(exc).__name__}: {exc}"))
        return self._delivered(message_id, attempt, receipt)

    def _outbound(self, claim: Claim, message_id: str, delivery: str, streams: bool) -> OutboundMessage:
        """The message to send; a spooled payload as a stream to an adapter that streams,
        joined for any other (which parses it whole anyway)."""
        if claim.payload is not None:
            return OutboundMessage(claim.meta, claim.payload, delivery)
        payload = read_payload(self._engine, message_id)
        if payload is None:
            raise LookupError(f"message {message_id} has no stored payload")
        if isinstance(payload, bytes) or not streams:
            return OutboundMessage(claim.meta, whole(payload), delivery)
        return OutboundMessage(claim.meta, b"", delivery, stream=payload)

    def _record_batch(self, outcomes: list[Outcome]) -> list[str]:
        now = utcnow()
        with self._engine.begin() as conn:
            current = _HELD_FOR_UPDATE if conn.dialect.name == "postgresql" else _HELD[0]
            held = {row.id: row for row in conn.execute(current, {"ids": [o.message_id for o in outcomes]})}
            # Recorded only if the lease is still ours: same attempt, still delivering.
            won = [o for o in outcomes
                   if (row := held.get(o.message_id)) and row.status == DELIVERING and row.attempts == o.attempt]
            if won:
                self._record_outcomes(conn, won, now)
                insert_events(conn, [
                    {"message_id": o.message_id, "at": now, "attempt": o.attempt, "kind": e["kind"],
                     "detail": e.get("detail")}
                    for o in won for e in o.events
                ])
        finished = [held[o.message_id] for o in won if o.status in FINISHED and held[o.message_id].correlation_id]
        if finished:
            with self._engine.begin() as conn:
                self._release_successors(conn, finished, now)
        winners = {id(o) for o in won}
        for o in won:
            self._tell(o)
        for o in outcomes:
            if id(o) not in winners:
                log.warning("message %s attempt %d finished after its lease was taken over", o.message_id, o.attempt)
        return [o.status if id(o) in winners else "superseded" for o in outcomes]

    @staticmethod
    def _record_outcomes(conn: Any, won: list[Outcome], now: datetime) -> None:
        if conn.dialect.name == "postgresql":
            outcomes = [{"id": o.message_id, **{c: o.values.get(c) for c in OUTCOME_COLUMNS}} for o in won]
            conn.execute(_RECORD_OUTCOMES_PG, {"m_now": now, "m_outcomes": orjson.dumps(outcomes, option=orjson.OPT_NAIVE_UTC).decode()})
            return
        conn.execute(_RECORD_OUTCOME, [
            {"m_id": o.message_id, "m_now": now, **{f"m_{c}": o.values.get(c) for c in OUTCOME_COLUMNS}}
            for o in won])

    @staticmethod
    def _tell(o: Outcome) -> None:
        """Count a recorded attempt per adapter; the story line of a failure or dead letter
        (deliveries are counted, not logged)."""
        adapter = o.adapter or "none"
        _attempts_counter(adapter, o.status).inc()
        if o.seconds is not None:
            _attempt_seconds(adapter).observe(o.seconds)
        if o.status == DELIVERED:
            return
        where = {"message_id": o.sender_message_id or o.message_id, "key": o.message_id, "route_id": o.route_id, "adapter": o.adapter, "attempt": o.attempt,
                 "duration_ms": None if o.seconds is None else round(o.seconds * 1000, 1)}
        failed = next((e["detail"] for e in o.events if e["kind"] == "attempt_failed"), None)
        if failed is not None:
            story_log.warning("delivery.attempt_failed", **where, error=failed.get("error"),
                              permanent=failed.get("permanent"), retry_at=failed.get("retry_at"))
        if o.status == DEAD:
            story_log.error("delivery.dead_lettered", **where, reason=o.values.get("last_error"))

    @staticmethod
    def _release_successors(conn: Any, finished: list[Any], now: datetime) -> None:
        """Hand out again the queued message that waited for each of these to finish: the next
        of its conversation (``_RELEASE_NEXT``).

        Run in a transaction of its own after the outcomes' commit, never inside it: a successor
        still ``accepted`` when the outcome transaction looked could be marked ``queued`` by the
        relay and skipped by a claim that still saw its predecessor ``delivering`` (the outcome
        not yet committed), all before that commit, and would then wait for its lease. Looking
        after the commit finds every successor a claim could have skipped. Should the process
        stop between the two, the successor's lease still brings it back."""
        conn.execute(_RELEASE_NEXT, [{"r_receiver": row.receiver, "r_correlation": row.correlation_id,
                                      "r_after": row.received_at, "r_now": now} for row in finished])

    def close(self) -> None:
        self._recorder.close()

    @staticmethod
    def _delivered(message_id: str, attempt: int, receipt: Receipt) -> Outcome:
        text = storable(receipt.receipt)
        return Outcome(
            message_id, attempt, DELIVERED,
            {"status": DELIVERED, "receipt": text, "next_action_at": None, "last_error": None},
            [{"kind": DELIVERED, "detail": {"receipt": text, **storable_values(receipt.detail)}}],
        )

    @staticmethod
    def _dead(message_id: str, attempt: int, reason: str, events: list[dict[str, Any]] | None = None) -> Outcome:
        return Outcome(
            message_id, attempt, DEAD,
            {"status": DEAD, "next_action_at": None, "last_error": reason},
            [*(events or []), {"kind": "dead_lettered", "detail": {"reason": reason}}],
        )

    def _failed(self, message_id: str, claim: Claim, policy: DeliveryPolicy, exc: DeliveryError) -> Outcome:
        attempt, reason = claim.attempt, storable(exc.reason)
        failed = {"kind": "attempt_failed",
                  "detail": {"error": reason, "permanent": exc.permanent, **storable_values(exc.extra)}}
        if exc.permanent:
            return self._dead(message_id, attempt, f"permanent failure: {reason}", [failed])
        if attempt >= policy.max_attempts:
            return self._dead(message_id, attempt, f"gave up after {attempt} attempts: {reason}", [failed])
        retry_at = utcnow() + timedelta(
            seconds=retry_delay(attempt, policy.backoff_base_seconds, policy.backoff_max_seconds))
        if (retry_at - claim.cycle_started_at).total_seconds() > policy.max_age_seconds:
            return self._dead(message_id, attempt,
                              f"older than max_age_seconds={policy.max_age_seconds:g}: {reason}", [failed])
        failed["detail"]["retry_at"] = retry_at.isoformat()
        return Outcome(message_id, attempt, RETRYING,
                       {"status": RETRYING, "next_action_at": retry_at, "last_error": reason}, [failed])


def storable(text: str) -> str:
    """A receiver's answer as the database keeps it: PostgreSQL's ``text`` (and JSON read into
    it) has no U+0000, and an outcome that cannot be written leaves the message to be handed
    out again after its lease. U+0000 is kept visible as U+FFFD."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def storable_values(detail: dict[str, Any]) -> dict[str, Any]:
    return {key: storable(value) if isinstance(value, str) else value for key, value in detail.items()}
