"""Durable accept, status history, listing with cursor paging, and replay.

A message is accepted only once its row, payload and ``accepted`` event are committed; the
relay then hands it to the broker. Re-posting the same id from the same sender with the
same content returns the first result and creates nothing.

Message ids are the sender's: unique per sender only (``message_id``). The row's own key
(``messages.id``, ``StoredMessage.key``) is derived from sender and id (``message_key``); the
transport's internals (delivery, outcomes, payloads, events) work with that key, and a
``ref`` given to the lookups here may be either (see ``resolve_key``).
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import IO, Any

import orjson
from sqlalchemy import Connection, Engine, and_, bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from hub.adapters.base import OUTCOME_STATUSES
from hub.clock import as_utc, utcnow
from hub.db import execute_on_driver, insert_rows, pipelined, pipelines, power_of_two_chunks
from hub.errors import FieldError, IdempotencyConflict, InputError, NotFound, PayloadTooLarge
from hub.paging import decode_cursor, page
from hub.schemas.envelope import XML_TYPES, Envelope, StoredMessage, StreamedPayload, message_key, sha256_hex
from hub.group_commit import GroupCommitter
from hub.logging_setup import story
from hub.transport.payload_store import read_payload, whole, write_pieces
from hub.transport.pg_accept import queue_store
from hub.transport.routing import Router
from hub.transport.tables import insert_events, message_events, message_payloads, messages

ACCEPTED, QUEUED, DELIVERING, RETRYING, DELIVERED, DEAD = (
    "accepted", "queued", "delivering", "retrying", "delivered", "dead",
)
# After ``delivered``, a receiver that reports back later (a GFMIS result file) moves a
# message to one of the outcome statuses (COMPLETED, PARTLY_REJECTED, REJECTED, defined with
# the adapter contract that reports them); see hub/transport/outcomes.py.
STATUSES = (ACCEPTED, QUEUED, DELIVERING, RETRYING, DELIVERED, DEAD, *OUTCOME_STATUSES)
FINISHED = (DELIVERED, DEAD, *OUTCOME_STATUSES)
UNFINISHED = (ACCEPTED, QUEUED, DELIVERING, RETRYING)
log = story(__name__)
# The accept transaction's statements, built once: rebuilding and cache-keying them for every
# batch was a visible share of the group commit's CPU.
# Looked up by message id alone, the pairs picked out here: SQLite (3.40) answers a row-value
# ``(sender, message_id) IN (VALUES ...)`` by scanning the whole unique index, so every batch
# read every stored message's key (2.2 ms a batch at 37,000 messages, and growing), where the
# id's own index finds the few rows.
_EXISTING = select(messages.c.sender, messages.c.message_id).where(
    messages.c.message_id.in_(bindparam("ids", expanding=True)))


@lru_cache(maxsize=16)
def existing_sql(n: int) -> str:
    """``_EXISTING`` for ``n`` ids as SQLite's own statement text (see ``existing_pairs``)."""
    return f"SELECT sender, message_id FROM messages WHERE message_id IN ({', '.join('?' * n)})"


def existing_pairs(conn: Connection, pairs: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (sender, message id) pairs are stored already.

    On SQLite the statement goes to the driver directly (``hub.db.execute_on_driver``), in
    power-of-two chunks of ids: an expanding ``IN`` is compiled anew for every list length,
    and with SQLAlchemy's execution around it this one read was a sixth of a one-message
    accept transaction's CPU."""
    wanted = set(pairs)
    ids = list({message_id for _, message_id in wanted})
    if conn.dialect.name != "sqlite":
        rows: Any = conn.execute(_EXISTING, {"ids": ids})
        return {pair for row in rows if (pair := (row[0], row[1])) in wanted}
    found = set()
    for start, n in power_of_two_chunks(len(ids), _SQLITE_IDS_PER_LOOKUP):
        for row in execute_on_driver(conn, existing_sql(n), ids[start:start + n]).fetchall():
            if (pair := (row[0], row[1])) in wanted:
                found.add(pair)
    return found


_SQLITE_IDS_PER_LOOKUP = 512  # a power of two under SQLite's historical 999 parameters


@dataclass(frozen=True)
class AcceptResult:
    id: str  # the sender's message id
    status: str
    created: bool
    key: str = ""  # the hub's key (``StoredMessage.key``)


@dataclass(frozen=True)
class Spooled:
    """A payload's stored form in a file (written while the request was parsed), its hash and size."""

    file: IO[bytes]
    sha256: str
    size: int

    def load(self, content_type: str) -> Any:
        """The payload as the envelope carries it (for validators that read it)."""
        self.file.seek(0)
        data = self.file.read()
        return data.decode("utf-8") if content_type in XML_TYPES else orjson.loads(data)


@dataclass(frozen=True)
class _Prepared:
    """An accepted-to-be message: validated, routed, its rows ready to insert.

    It keeps the payload only as the stored bytes, not the parsed envelope, so a large
    payload is not held twice while its batch commits.
    """

    row: dict[str, Any]
    body: bytes | None  # None: the payload is in ``spooled``, stored in pieces
    event: dict[str, Any]
    # An audit entry (kind, actor, decision, target, detail JSON) to commit with the message.
    audit: tuple[str, str, str | None, str | None, str] | None = None
    spooled: Spooled | None = None

    @property
    def id(self) -> str:
        return self.row["message_id"]

    @property
    def key(self) -> str:
        return self.row["id"]

    @property
    def pair(self) -> tuple[str, str]:
        return self.row["sender"], self.row["message_id"]


def meta_columns() -> list[Any]:
    return [c for c in messages.c if c.name not in ("route_id", "next_action_at", "updated_at", "cycle_started_at")]


def row_to_meta(row: Any) -> StoredMessage:
    data = dict(row)
    data["received_at"] = as_utc(data["received_at"])
    data["key"] = data["id"]
    data["id"] = data.pop("message_id") or data["key"]
    return StoredMessage.model_validate(data)


def resolve_key(conn: Connection, ref: str, sender: str | None = None) -> str | None:
    """The hub key of the message ``ref`` names, or None.

    With ``sender``: ``ref`` is that sender's message id. Without: ``ref`` is a hub key, or a
    message id that names exactly one message (an id two senders used names neither: the
    caller must say whose). Callers acting for a party (the API) never come here without the
    sender: they choose among ``MessageService.find``'s messages those they may see.
    """
    if sender is not None:
        return conn.execute(select(messages.c.id).where(
            messages.c.sender == sender, messages.c.message_id == ref)).scalar_one_or_none()
    key = conn.execute(select(messages.c.id).where(messages.c.id == ref)).scalar_one_or_none()
    if key is not None:
        return key
    keys = conn.execute(select(messages.c.id).where(messages.c.message_id == ref).limit(2)).scalars().all()
    return keys[0] if len(keys) == 1 else None


class MessageService:
    def __init__(
        self,
        engine: Engine,
        router: Router,
        *,
        max_payload_bytes: int,
        validators: list[Callable[[Envelope], None]] | None = None,
        on_accepted: Callable[[], None] | None = None,
    ) -> None:
        self._engine = engine
        self._router = router
        self._max_payload = max_payload_bytes
        self._validators: list[tuple[Callable[[Envelope], None], Callable[[Envelope], bool]]] = [
            (v, _always) for v in validators or []]
        self._on_accepted = on_accepted
        self._audit_writer: Callable[[Any, list[Any]], Any] | None = None
        self._audit_pipelined: Callable[[Any, list[Any]], Any] | None = None
        self._pipelines = pipelines(engine)
        self._committer: GroupCommitter[_Prepared, AcceptResult] = GroupCommitter(
            self._commit_batch, name="accept", max_batch=256
        )

    def add_validator(self, validator: Callable[[Envelope], None],
                      reads_payload: Callable[[Envelope], bool] | None = None) -> None:
        """``reads_payload(env)``: whether ``validator`` looks at this envelope's payload (by
        default it does). A spooled payload is loaded for the validators only when one does."""
        self._validators.append((validator, reads_payload or _always))

    def set_audit_writer(self, writer: Callable[[Any, list[Any]], Any],
                         pipelined: Callable[[Any, list[Any]], Any] | None = None) -> None:
        """``writer(connection, entries)`` appends audit entries inside the accept transaction.

        ``pipelined(pg, entries)``: the same inside a ``hub.db.pipelined`` transaction (on
        PostgreSQL); without it the accept takes the generic path there too."""
        self._audit_writer = writer
        self._audit_pipelined = pipelined

    def accept(self, env: Envelope, *, audit: tuple[str, str, str | None, str | None, str] | None = None,
               hold_seconds: float = 0.0) -> AcceptResult:
        """Validate, route and durably store one message (committed with others in flight).

        ``audit``: an entry for the audit trail committed in the same transaction (the access
        decision that admitted this message), so neither exists without the other.
        ``hold_seconds``: the message is not due for the relay before then. For a caller that
        applies the delivery itself and records it with ``hub.transport.settle`` in a
        transaction of its own; should that never commit, the transport delivers it after
        the hold.
        """
        result = self._committer.submit(self._prepare(env, audit, hold_seconds=hold_seconds))
        if result.created and self._on_accepted and not hold_seconds:
            self._on_accepted()
        return result

    async def accept_async(self, env: Envelope, *,
                           audit: tuple[str, str, str | None, str | None, str] | None = None,
                           release_payload: bool = False) -> AcceptResult:
        """``accept`` for the event loop: waits for the group commit without holding a thread.

        ``release_payload``: the caller is done with ``env.payload``; it is dropped once its
        stored bytes exist, so a large payload is not held twice while the batch commits.
        """
        # Routing reads the routes table every few seconds: not on the event loop.
        prepared = (self._prepare(env, audit) if self._router.is_fresh()
                    else await asyncio.to_thread(self._prepare, env, audit))
        if release_payload:
            env.payload = None
        return await self._submit(prepared)

    async def accept_spooled_async(self, env: Envelope, spooled: Spooled, *,
                                   audit: tuple[str, str, str | None, str | None, str] | None = None
                                   ) -> AcceptResult:
        """``accept_async`` for a payload spooled to a file (``env.payload`` is a stand-in of
        its type): it is stored in pieces from the file, in the accept transaction."""
        prepared = await asyncio.to_thread(self._prepare, env, audit, spooled)
        return await self._submit(prepared)

    async def _submit(self, prepared: _Prepared) -> AcceptResult:
        # The commit thread hands the outcome straight to the event loop, rather than through a
        # ``concurrent.futures.Future`` (its lock and condition, taken on both threads) or
        # ``asyncio.wrap_future``'s two-way chaining, which also cancels the commit's future when
        # the waiting request is cancelled: a commit in progress cannot honour that (the message
        # is stored all the same; re-posting it answers as for any duplicate).
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._committer.submit_callback(prepared, lambda outcome: loop.call_soon_threadsafe(_settle, outcome, waiter))
        result = await waiter
        if result.created and self._on_accepted:
            self._on_accepted()
        return result

    def _prepare(self, env: Envelope, audit: tuple[str, str, str | None, str | None, str] | None = None,
                 spooled: Spooled | None = None, *, hold_seconds: float = 0.0) -> _Prepared:
        body = env.payload_bytes() if spooled is None else None
        size = len(body) if body is not None else spooled.size  # type: ignore[union-attr]
        if size > self._max_payload:
            raise PayloadTooLarge(
                f"payload is {size} bytes; the limit (HUB_MAX_PAYLOAD_BYTES) is {self._max_payload}",
                limit=self._max_payload,
            )
        route = self._router.resolve(env.receiver, env.service)
        self._router.check_standard(route, env.standard)
        self._validate(env, spooled)
        message_id = str(env.id or uuid.uuid4())
        key = message_key(env.sender, message_id)
        digest = sha256_hex(body) if body is not None else spooled.sha256  # type: ignore[union-attr]
        now = utcnow()
        row = {
            "id": key,
            "message_id": message_id,
            # Read off the model rather than ``model_dump``: the same values, at a fraction of the cost.
            "sender": env.sender,
            "receiver": env.receiver,
            "service": env.service,
            "standard": env.standard,
            "correlation_id": env.correlation_id,
            "classification": str(env.classification),  # a StrEnum: its value
            "speed": str(env.speed),
            "user_id": env.user_id,
            "content_type": env.content_type,
            "received_at": now,
            "cycle_started_at": now,
            "payload_sha256": digest,
            "payload_size": size,
            "route_id": route.id,
            "status": ACCEPTED,
            "attempts": 0,
            "next_action_at": now + timedelta(seconds=hold_seconds) if hold_seconds else now,
            "updated_at": now,
        }
        event = {"message_id": key, "at": now, "kind": ACCEPTED, "attempt": None,
                 "detail": {"payload_sha256": digest, "payload_size": size, "route_id": route.id}}
        return _Prepared(row, body, event, audit, spooled)

    def _validate(self, env: Envelope, spooled: Spooled | None) -> None:
        if spooled is None:  # the payload is in the envelope: every validator reads it there
            for validate, _ in self._validators:
                validate(env)
            return
        readers = [validate for validate, reads in self._validators if reads(env)]
        if readers:  # a spooled payload is loaded only for the validators that read it
            stand_in, env.payload = env.payload, spooled.load(env.content_type)  # type: ignore[union-attr]
            try:
                for validate in readers:
                    validate(env)
            finally:
                env.payload = stand_in
        for validate, _ in self._validators:
            if validate not in readers:
                validate(env)

    def _commit_batch(self, batch: list[_Prepared]) -> list[AcceptResult | BaseException]:
        if self._pipelines and all(p.spooled is None for p in batch) and (
                self._audit_pipelined is not None or all(p.audit is None for p in batch)):
            return self._commit_pipelined(batch)
        try:
            with self._engine.begin() as conn:
                # By (sender, id): a message stored before migration s3a_0001 has its id as key.
                existing = existing_pairs(conn, [p.pair for p in batch])
                fresh, seen = [], set()
                for p in batch:
                    if p.pair not in existing and p.pair not in seen:
                        seen.add(p.pair)
                        fresh.append(p)
                if fresh:
                    insert_rows(conn, messages, [p.row for p in fresh])
                    insert_rows(conn, message_payloads,
                                [{"message_id": p.key, "body": p.body} for p in fresh if p.body is not None])
                    for p in fresh:
                        if p.spooled is not None:
                            write_pieces(conn, p.key, p.spooled.file)
                    # One COPY on PostgreSQL: as cheap as an insert for one event, a fraction of
                    # its CPU (held under the GIL) for the larger batches of a busy moment.
                    insert_events(conn, [p.event for p in fresh])
                audited = [p for p in batch if p.audit is not None]
                if audited:
                    if self._audit_writer is None:
                        raise RuntimeError("an audit entry was given but this hub has no audit trail")
                    self._audit_writer(conn, [_with_message(p) for p in audited])
        except IntegrityError:
            if len(batch) == 1:  # another process stored this id between our check and insert
                return [self._repost_result(batch[0])]
            # Commit one by one so a single colliding id does not fail the others.
            return [self._commit_batch([p])[0] for p in batch]
        return self._results(batch, fresh)

    def _commit_pipelined(self, batch: list[_Prepared]) -> list[AcceptResult | BaseException]:
        """``_commit_batch`` on PostgreSQL in two round trips (``hub.transport.pg_accept``)."""
        fresh, seen = [], set()
        for p in batch:  # the first of two with the same id is stored, the other is its re-post
            if p.pair not in seen:
                seen.add(p.pair)
                fresh.append(p)
        audited = [_with_message(p) for p in batch if p.audit is not None]
        try:
            with pipelined(self._engine) as pg:
                stored = queue_store(pg, [p.row for p in fresh], [p.body for p in fresh],  # type: ignore[misc]
                                     [p.event for p in fresh])
                if audited:
                    self._audit_pipelined(pg, audited)  # type: ignore[misc]
        except IntegrityError:
            # Not a repeated (sender, id), which the insert skips: a key taken by another row.
            if len(batch) == 1:
                return [self._repost_result(batch[0])]
            return [self._commit_pipelined([p])[0] for p in batch]
        keys = stored()
        return self._results(batch, [p for p in fresh if p.key in keys])

    def _results(self, batch: list[_Prepared], fresh: list[_Prepared]) -> list[AcceptResult | BaseException]:
        """Per item: created if it is in ``fresh`` (stored by this batch), else a re-post's answer."""
        created = {id(p) for p in fresh}
        if fresh and log.isEnabledFor(logging.INFO):
            for p in fresh:
                row = p.row
                log.info("message.accepted", message_id=p.id, key=p.key, route_id=row["route_id"], sender=row["sender"],
                         receiver=row["receiver"], service=row["service"], size=row["payload_size"])
        return [AcceptResult(p.id, ACCEPTED, True, p.key) if id(p) in created else self._repost_result(p)
                for p in batch]

    def _repost_result(self, p: _Prepared) -> AcceptResult | BaseException:
        existing = self.get_meta(p.id, sender=p.row["sender"], missing_ok=True)
        if existing is None:
            return RuntimeError(f"message {p.id} could not be stored and is not in the store")
        same = (
            existing.receiver == p.row["receiver"]
            and existing.service == p.row["service"]
            and existing.payload_sha256 == p.row["payload_sha256"]
        )
        if not same:
            return IdempotencyConflict(
                f"message {p.id} was already accepted with different content; "
                "use a new id for a new message",
                errors=[FieldError("/id", "idempotency", "the same id from the same sender must carry the "
                                   "same receiver, service and payload")],
            )
        return AcceptResult(p.id, existing.status, False, existing.key or p.key)

    def close(self) -> None:
        self._committer.close()

    def _key(self, conn: Connection, ref: str, sender: str | None = None) -> str:
        key = resolve_key(conn, ref, sender)
        if key is None:
            if sender is None and len(conn.execute(select(messages.c.id).where(messages.c.message_id == ref)
                                                   .limit(2)).all()) > 1:
                raise InputError(f"message id {ref} was used by more than one sender; name the message by its "
                                 "hub key (the `key` of each, e.g. in `hub messages list --json`)",
                                 errors=[FieldError("/message_id", "unique_per_sender", "a hub key")])
            raise NotFound(f"no message with id {ref}")
        return key

    def get_meta(self, message_id: str, *, sender: str | None = None,
                 missing_ok: bool = False) -> StoredMessage | None:
        """The message ``message_id`` names (a hub key, or the id ``sender`` gave it; see ``resolve_key``)."""
        with self._engine.connect() as conn:
            key = resolve_key(conn, message_id, sender) if missing_ok else self._key(conn, message_id, sender)
            row = None if key is None else conn.execute(
                select(*meta_columns()).where(messages.c.id == key)).mappings().first()
        if row is None:
            if missing_ok:
                return None
            raise NotFound(f"no message with id {message_id}")
        return row_to_meta(row)

    def find(self, message_id: str) -> list[StoredMessage]:
        """Every message any sender sent with this id (the caller picks those it may see)."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(*meta_columns()).where(messages.c.message_id == message_id)
                                .order_by(messages.c.sender)).mappings().all()
        return [row_to_meta(r) for r in rows]

    def history(self, message_id: str) -> list[dict[str, Any]]:
        with self._engine.connect() as conn:
            key = self._key(conn, message_id)
            rows = conn.execute(
                select(message_events)
                .where(message_events.c.message_id == key)
                .order_by(message_events.c.id)
            ).mappings().all()
        return [
            {"at": as_utc(r["at"]).isoformat(), "kind": r["kind"], "attempt": r["attempt"], "detail": r["detail"]}
            for r in rows
        ]

    def note(self, message_id: str, kind: str, detail: dict[str, Any], *, sender: str | None = None) -> None:
        """Add an event to a message's history (an adapter's observation, e.g. the e-CMS
        node's tolerated deviations); the message's status is unchanged."""
        with self._engine.begin() as conn:
            conn.execute(insert(message_events).values(message_id=self._key(conn, message_id, sender), at=utcnow(),
                                                       kind=kind, attempt=None, detail=detail))

    def payload(self, message_id: str) -> bytes:
        """The stored payload in one piece (see ``payload_stream`` for large ones)."""
        return whole(self.payload_stream(message_id))

    def payload_stream(self, message_id: str) -> bytes | StreamedPayload:
        """The stored payload: bytes, or for a spooled one its pieces to read one at a time."""
        with self._engine.connect() as conn:
            key = resolve_key(conn, message_id)
        body = None if key is None else read_payload(self._engine, key)
        if body is None:
            raise NotFound(f"no message with id {message_id}")
        return body

    def list(
        self,
        *,
        sender: str | None = None,
        receiver: str | None = None,
        service: str | None = None,
        status: str | None = None,
        since: datetime | None = None,
        correlation_id: str | None = None,
        cursor: str | None = None,
        limit: int = 100,
        user_id: str | None = None,
        until: datetime | None = None,
    ) -> tuple[list[StoredMessage], str | None]:
        if status is not None and status not in STATUSES:
            raise InputError(
                f"unknown status {status!r}",
                errors=[FieldError("/query/status", "enum", f"one of {', '.join(STATUSES)}")],
            )
        query = select(*meta_columns())
        for column, value in (("sender", sender), ("receiver", receiver), ("service", service), ("status", status),
                              ("correlation_id", correlation_id), ("user_id", user_id)):
            if value is not None:
                query = query.where(messages.c[column] == value)
        if since is not None:
            since = as_utc(since)
            query = query.where(messages.c.received_at >= since)
        if until is not None:
            query = query.where(messages.c.received_at <= as_utc(until))
        if cursor:
            after_at, after_id = decode_cursor(cursor)
            query = query.where(
                or_(messages.c.received_at > after_at,
                    and_(messages.c.received_at == after_at, messages.c.id > after_id))
            )
        query = query.order_by(messages.c.received_at, messages.c.id).limit(limit + 1)
        with self._engine.connect() as conn:
            rows = [row_to_meta(r) for r in conn.execute(query).mappings().all()]
        return page(rows, limit, StoredMessage.list_position)

    def replay(self, message_id: str, *, reason: str = "replay requested") -> StoredMessage:
        """Deliver a message again; the original and its history are kept."""
        now = utcnow()
        with self._engine.begin() as conn:
            message_id = self._key(conn, message_id)
            row = conn.execute(
                select(messages.c.status, messages.c.attempts, messages.c.route_id, messages.c.message_id)
                .where(messages.c.id == message_id)
            ).first()
            if row is None:
                raise NotFound(f"no message with id {message_id}")
            # A replay is a new delivery cycle: a fresh attempt budget and age clock. The
            # earlier attempts stay in the history.
            conn.execute(
                update(messages)
                .where(messages.c.id == message_id)
                .values(status=ACCEPTED, attempts=0, cycle_started_at=now, next_action_at=now, updated_at=now,
                        last_error=None)
            )
            conn.execute(
                insert(message_events).values(
                    message_id=message_id, at=now, kind="replayed",
                    detail={"previous_status": row.status, "previous_attempts": row.attempts, "reason": reason},
                )
            )
        log.info("message.replayed", message_id=row.message_id or message_id, key=message_id, route_id=row.route_id, previous_status=row.status,
                 previous_attempts=row.attempts, reason=reason)
        if self._on_accepted:
            self._on_accepted()
        return self.get_meta(message_id)

    def counts(self) -> dict[str, int]:
        from sqlalchemy import func

        with self._engine.connect() as conn:
            rows = conn.execute(select(messages.c.status, func.count()).group_by(messages.c.status)).all()
        return {status: n for status, n in rows}


def _settle(outcome: AcceptResult | BaseException, waiter: asyncio.Future[AcceptResult]) -> None:
    """On the event loop: the commit's outcome to the request waiting for it (unless it gave up)."""
    if waiter.cancelled():
        return
    if isinstance(outcome, BaseException):
        waiter.set_exception(outcome)
    else:
        waiter.set_result(outcome)


def _always(env: Envelope) -> bool:
    return True


def _with_message(p: _Prepared) -> tuple[str, str, str | None, str | None, str]:
    """The prepared audit entry, its detail extended with the message id and payload hash."""
    kind, actor, decision, target, detail = p.audit  # type: ignore[misc]
    extended = {**orjson.loads(detail), "message_id": p.id, "payload_sha256": p.row["payload_sha256"]}
    return kind, actor, decision, target, orjson.dumps(extended, option=orjson.OPT_SORT_KEYS).decode()
