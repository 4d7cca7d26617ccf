"""The node's own state: departments, letters sent, and each department's poll queue.

Transactions that race each other — the ``ecms-queue`` adapter placing a letter in the
receiver's queue and the sender withdrawing it — lock the letter row (``FOR UPDATE``;
SQLite serialises writers with ``BEGIN IMMEDIATE``), so a withdrawn letter is never
queued and a read letter is never withdrawn.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.clock import as_utc, utcnow
from hub.refresh_ahead import RefreshAhead
from hub.adapters.ecms.codec.codes import EcmsFault
from hub.errors import Conflict, NotFound
from hub.adapters.ecms.node import statements as sql
from hub.adapters.ecms.node.tables import ecms_departments, ecms_letters, ecms_queue
from hub.schemas.principal import CLEARANCE_LEVELS, OPERATOR, Principal

PBKDF2_ITERATIONS = 120_000
# Every SOAP call reads its caller's department (the secret check, the queue's owner), and a
# letter reads both parties' again: cached, a department changed by another process (removed,
# re-bound, a new secret) takes effect within this, as a client does in the security layer
# (hub.security.authn.CACHE_SECONDS); changes made through this store take effect at once.
DEPARTMENT_CACHE_SECONDS = 2.0


class Recorded(NamedTuple):
    created: bool  # the letter's row is new (not a retried send)
    settled: bool  # its hub message was recorded delivered with its queue row


class Enqueued(NamedTuple):
    process_id: str
    queued: bool
    already_since: datetime | None = None  # the item was in the queue before (since then)


@dataclass(frozen=True)
class Department:
    code: str
    ministry_code: str
    kind: str
    name_th: str
    name_en: str | None
    party: str | None
    clearance: str


def _department(row: Any) -> Department:
    return Department(row.code, row.ministry_code, row.kind, row.name_th, row.name_en, row.party, row.clearance)


class _Known(NamedTuple):
    """A department row as cached: the department and its secret's hash."""

    department: Department
    secret_hash: str | None


def hash_secret(secret: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, PBKDF2_ITERATIONS)
    return f"pbkdf2_sha256${PBKDF2_ITERATIONS}${salt.hex()}${digest.hex()}"


def check_secret(secret: str, stored: str) -> bool:
    try:
        algorithm, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if algorithm != "pbkdf2_sha256":
        return False
    candidate = hashlib.pbkdf2_hmac("sha256", secret.encode(), bytes.fromhex(salt), int(iterations))
    return hmac.compare_digest(candidate.hex(), digest)


def conversation_id(sender_code: str, letter_id: str, correspondence_date: str) -> str:
    """One conversation per letter: the letter and every notifier about it share this id."""
    readable = f"ecms:{sender_code}:{correspondence_date}:{letter_id}"
    if len(readable) <= 128:
        return readable
    return "ecms:" + hashlib.sha256(readable.encode()).hexdigest()


class EcmsStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._verified: dict[tuple[str, str], float] = {}
        # ("code", code) or ("party", party) -> the row, or None when there is none.
        self._known: RefreshAhead[tuple[str, str], _Known | None] = RefreshAhead(
            self._load_known, ttl=DEPARTMENT_CACHE_SECONDS, maxsize=10_000)

    def _load_known(self, key: tuple[str, str]) -> _Known | None:
        query = sql.DEPARTMENT_BY_CODE if key[0] == "code" else sql.DEPARTMENT_BY_PARTY
        with self._engine.connect() as conn:
            row = conn.execute(query, {"key": key[1]}).first()
        return _Known(_department(row), row.secret_hash) if row else None

    def _lookup(self, kind: str, value: str) -> _Known | None:
        key = (kind, value)
        known = self._known.get(key)
        return known if known is not None else self._known.load_now(key)

    # -------------------------------------------------------------- departments

    def add_department(self, code: str, ministry_code: str, name_th: str, *, name_en: str | None = None,
                       party: str | None = None, clearance: str = "001", secret: str | None = None) -> Department:
        if clearance not in CLEARANCE_LEVELS:
            raise ValueError(f"clearance must be one of {CLEARANCE_LEVELS}")
        kind = "ministry" if code == ministry_code else "department"
        if kind == "department" and self.department(ministry_code) is None:
            raise ValueError(f"ministry {ministry_code} is not registered; add it first")
        values = {"code": code, "ministry_code": ministry_code, "kind": kind, "name_th": name_th,
                  "name_en": name_en, "party": party, "clearance": clearance,
                  "secret_hash": hash_secret(secret) if secret else None}
        with self._engine.begin() as conn:
            exists = conn.execute(select(ecms_departments.c.code).where(ecms_departments.c.code == code)).first()
            if exists:
                values.pop("code")
                if secret is None:
                    values.pop("secret_hash")
                conn.execute(update(ecms_departments).where(ecms_departments.c.code == code).values(**values))
            else:
                conn.execute(insert(ecms_departments).values(**values, created_at=utcnow()))
        self._known.clear()
        return self.department(code)  # type: ignore[return-value]

    def remove_department(self, code: str) -> None:
        """Remove a department with nothing waiting in its queue (a ministry: with no departments)."""
        with self._engine.begin() as conn:
            if conn.execute(select(ecms_departments.c.code).where(ecms_departments.c.code == code)).first() is None:
                raise NotFound(f"no e-CMS department {code}")
            members = conn.execute(select(ecms_departments.c.code).where(
                ecms_departments.c.ministry_code == code, ecms_departments.c.code != code)).scalars().all()
            if members:
                raise Conflict(f"ministry {code} still has departments {', '.join(members)}; remove them first")
            waiting = conn.execute(select(ecms_queue.c.process_id).where(
                ecms_queue.c.owner_code == code, ecms_queue.c.deleted_at.is_(None),
                ecms_queue.c.withdrawn_at.is_(None)).limit(1)).first()
            if waiting is not None:
                raise Conflict(f"department {code} has undeleted items in its queue; they would be lost")
            conn.execute(delete(ecms_departments).where(ecms_departments.c.code == code))
        self._known.clear()

    def set_secret(self, code: str, secret: str) -> None:
        with self._engine.begin() as conn:
            done = conn.execute(update(ecms_departments).where(ecms_departments.c.code == code)
                                .values(secret_hash=hash_secret(secret))).rowcount
        self._known.clear()
        if not done:
            raise NotFound(f"no e-CMS department {code}")
        self._verified = {k: v for k, v in self._verified.items() if k[0] != code}

    def has_secret(self, code: str) -> bool:
        with self._engine.connect() as conn:
            return bool(conn.execute(select(ecms_departments.c.secret_hash)
                                     .where(ecms_departments.c.code == code)).scalar())

    def department(self, code: str) -> Department | None:
        known = self._lookup("code", code)
        return known.department if known is not None else None

    def departments(self, *, kind: str | None = None, ministry_code: str | None = None) -> list[Department]:
        query = select(ecms_departments).order_by(ecms_departments.c.code)
        if kind:
            query = query.where(ecms_departments.c.kind == kind)
        if ministry_code:
            query = query.where(ecms_departments.c.ministry_code == ministry_code)
        with self._engine.connect() as conn:
            return [_department(r) for r in conn.execute(query)]

    def by_party(self, party: str) -> Department | None:
        known = self._lookup("party", party)
        return known.department if known is not None else None

    def departments_of(self, principal: Principal) -> list[Department]:
        """The departments whose queue and letters this principal may use."""
        if not principal.is_admin and OPERATOR not in principal.roles:
            # A client acts for its own subsystems only: their rows (party is unique), not
            # every department of the country on each SOAP call.
            found = (self.by_party(party) for party in principal.subsystems)
            return sorted((d for d in found if d is not None and principal.acts_for(d.party)), key=lambda d: d.code)
        query = select(ecms_departments).where(ecms_departments.c.party.is_not(None)).order_by(ecms_departments.c.code)
        with self._engine.connect() as conn:
            return [d for r in conn.execute(query) if principal.acts_for((d := _department(r)).party)]

    def verify_secret(self, code: str, secret: str) -> Department | None:
        key = (code, hashlib.sha256(secret.encode()).hexdigest())
        row = self._lookup("code", code)
        if row is None or not row.secret_hash:
            return None
        # PBKDF2 is slow on purpose; remember a verified (code, secret) per stored hash.
        if self._verified.get(key) != row.secret_hash:
            if not check_secret(secret, row.secret_hash):
                return None
            self._verified[key] = row.secret_hash
        return row.department

    # -------------------------------------------------------------- letters

    def latest_letter(self, sender: str, receiver: str, letter_id: str, date: str) -> Any:
        with self._engine.connect() as conn:
            return conn.execute(sql.LATEST_LETTER, {"sender": sender, "receiver": receiver, "letter_id": letter_id,
                                                    "date": date}).first()

    def record_letter(self, values: dict[str, Any], *, queue: dict[str, Any] | None = None,
                      settle: Callable[[Any, str], bool] | None = None, hub_key: str | None = None) -> Recorded:
        """Insert the letter's row; ``created`` is False when it exists already (a retried send
        of the same letter), and then nothing else is done.

        ``queue``: ``enqueue``'s arguments, to place the letter in the receiver's poll queue in
        the same transaction (its route is this node's poll queue). ``settle(conn, process_id)``
        first records the hub message (key ``hub_key``) delivered with the item it is about to
        be: the transport then does nothing more for it. If the transport has taken the message
        already (its hold ran out after a placement that failed), the item is placed only if
        that delivery has not placed it under the message's hub key (it did so while the
        letter's row was missing); the transport's delivery finds an item placed here. Without
        ``settle``, the ``ecms-queue`` delivery that follows finds the item and queues nothing
        twice; if this transaction fails, that delivery still places it.
        """
        try:
            with self._engine.begin() as conn:
                conn.execute(sql.INSERT_LETTER, {**values, "created_at": utcnow()})
                settled = False
                if queue is not None and settle is not None:
                    process_id = str(uuid.uuid4())
                    settled = settle(conn, process_id)
                    if settled or conn.execute(sql.QUEUED, {"message_id": hub_key}).first() is None:
                        self._enqueue_in(conn, **queue, letter_is_new=True, process_id=process_id)
                elif queue is not None:
                    self._enqueue_in(conn, **queue, letter_is_new=True)
        except IntegrityError:
            return Recorded(False, False)
        return Recorded(True, settled)

    def letter(self, message_id: str) -> Any:
        with self._engine.connect() as conn:
            return conn.execute(sql.LETTER, {"message_id": message_id}).first()

    def letter_for_notifier(self, codes: list[str], letter_id: str, date: str, *, as_receiver: bool) -> Any:
        """The newest not-withdrawn letter with this id and date that ``codes`` received (or sent)."""
        side = ecms_letters.c.receiver_code if as_receiver else ecms_letters.c.sender_code
        with self._engine.connect() as conn:
            return conn.execute(
                select(ecms_letters)
                .where(side.in_(codes), ecms_letters.c.letter_id == letter_id,
                       ecms_letters.c.correspondence_date == date, ecms_letters.c.withdrawn_at.is_(None))
                .order_by(ecms_letters.c.created_at.desc()).limit(1)
            ).first()

    def set_accept_id(self, message_id: str, accept_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(update(ecms_letters).where(ecms_letters.c.message_id == message_id)
                         .values(accept_id=accept_id))

    def refused(self, letter_message_id: str) -> bool:
        """Whether the receiver sent a Reject or Invalid notifier about this letter."""
        with self._engine.connect() as conn:
            return conn.execute(
                select(ecms_queue.c.process_id)
                .where(ecms_queue.c.letter_message_id == letter_message_id,
                       ecms_queue.c.kind.in_(("RejectLetterNotifier", "InvalidLetterNotifier"))).limit(1)
            ).first() is not None

    def outbound_letters(self, codes: list[str]) -> list[Any]:
        with self._engine.connect() as conn:
            return list(conn.execute(
                select(ecms_letters).where(ecms_letters.c.sender_code.in_(codes))
                .order_by(ecms_letters.c.created_at, ecms_letters.c.message_id)))

    def special_item(self, codes: list[str], clearance: str, kind: str, letter_id: str, date: str,
                     sender_code: str, receiver_code: str) -> Any:
        """The newest item of ``kind`` about that letter in the caller's queues, deleted or not."""
        letters = select(ecms_letters.c.message_id).where(
            ecms_letters.c.sender_code == sender_code, ecms_letters.c.receiver_code == receiver_code,
            ecms_letters.c.letter_id == letter_id, ecms_letters.c.correspondence_date == date)
        about = (ecms_queue.c.message_id.in_(letters) if kind == "GovernmentDocument"
                 else ecms_queue.c.letter_message_id.in_(letters))
        with self._engine.connect() as conn:
            return conn.execute(
                select(ecms_queue).where(*self._visible(codes, clearance), about, ecms_queue.c.kind == kind)
                .order_by(ecms_queue.c.created_at.desc()).limit(1)
            ).first()

    def withdraw(self, message_id: str, *, delivered_elsewhere: bool, refused: bool = False) -> None:
        """Withdraw a letter not yet read — or one the receiver refused (Reject or Invalid
        notifier: deployed clients withdraw exactly then, to send it again)."""
        now = utcnow()
        with self._engine.begin() as conn:
            letter = conn.execute(
                select(ecms_letters).where(ecms_letters.c.message_id == message_id).with_for_update()
            ).first()
            if letter is None or letter.withdrawn_at is not None:
                raise EcmsFault("E011", "the letter is not (or no longer) in transit")
            item = conn.execute(select(ecms_queue).where(ecms_queue.c.message_id == message_id)).first()
            read = (item is not None and item.read_at is not None) or (item is None and delivered_elsewhere)
            if read and not refused:
                raise EcmsFault("E012", "the receiver has already read the letter; it cannot be withdrawn")
            conn.execute(update(ecms_letters).where(ecms_letters.c.message_id == message_id)
                         .values(withdrawn_at=now))
            if item is not None:
                conn.execute(update(ecms_queue).where(ecms_queue.c.message_id == message_id)
                             .values(withdrawn_at=now))

    # -------------------------------------------------------------- queues

    def queued(self, message_id: str) -> Any:
        """The queue row held under ``message_id`` (no payload), or None."""
        with self._engine.connect() as conn:
            return conn.execute(sql.QUEUED_ITEM, {"message_id": message_id}).first()

    def enqueue(self, *, owner_code: str, message_id: str, kind: str, letter_message_id: str | None,
                secret_code: str, payload: bytes) -> Enqueued:
        """Place a delivered message in ``owner_code``'s queue once.

        A letter withdrawn before delivery is not queued (``queued`` is False).
        """
        with self._engine.begin() as conn:
            return self._enqueue_in(conn, owner_code=owner_code, message_id=message_id, kind=kind,
                                    letter_message_id=letter_message_id, secret_code=secret_code, payload=payload)

    def _enqueue_in(self, conn: Any, *, owner_code: str, message_id: str, kind: str, letter_message_id: str | None,
                    secret_code: str, payload: bytes, letter_is_new: bool = False,
                    process_id: str | None = None) -> Enqueued:
        """``letter_is_new``: the letter's row was inserted in this transaction, so it is not
        withdrawn (and already locked) and nothing can be queued under its id yet (the
        transport queues a node's letter under that id only once its row exists; a row there
        all the same fails the insert, and the transaction with it)."""
        if not letter_is_new:
            existing = conn.execute(sql.QUEUED, {"message_id": message_id}).first()
            if existing:  # a redelivery of the same message id, or a letter the node queued at accept
                return Enqueued(existing.process_id, True, existing.created_at)
        if kind == "GovernmentDocument" and not letter_is_new:
            letter = conn.execute(sql.LETTER_WITHDRAWN_FOR_UPDATE, {"message_id": message_id}).first()
            if letter is not None and letter.withdrawn_at is not None:
                return Enqueued("", False)
        process_id = process_id or str(uuid.uuid4())
        conn.execute(sql.INSERT_QUEUED, {
            "process_id": process_id, "owner_code": owner_code, "message_id": message_id,
            "letter_message_id": letter_message_id, "kind": kind, "secret_code": secret_code, "payload": payload,
            "created_at": utcnow(),
        })
        return Enqueued(process_id, True)

    @staticmethod
    def _allowed(clearance: str) -> list[str]:
        return list(CLEARANCE_LEVELS[: CLEARANCE_LEVELS.index(clearance) + 1])

    def _visible(self, codes: list[str], clearance: str) -> list[Any]:
        allowed = self._allowed(clearance)
        return [ecms_queue.c.owner_code.in_(codes), ecms_queue.c.withdrawn_at.is_(None),
                ecms_queue.c.secret_code.in_(allowed)]

    def next_item(self, codes: list[str], clearance: str) -> Any:
        """The oldest undeleted item of these queues; marks it read (first read kept)."""
        with self._engine.begin() as conn:
            return conn.execute(sql.READ_NEXT_ITEM, {"codes": codes, "allowed": self._allowed(clearance),
                                                     "at": utcnow()}).first()

    def item(self, codes: list[str], clearance: str, process_id: str) -> Any:
        with self._engine.connect() as conn:
            return conn.execute(
                select(ecms_queue).where(*self._visible(codes, clearance), ecms_queue.c.process_id == process_id)
            ).first()

    def delete_item(self, codes: list[str], process_id: str) -> bool:
        # One statement: deleting again matches the row and keeps its first deletion time.
        with self._engine.begin() as conn:
            return conn.execute(sql.MARK_DELETED, {"codes": codes, "pid": process_id, "at": utcnow()}).rowcount > 0

    def queue_depths(self) -> dict[str, int]:
        """Items waiting in each department's queue (not yet deleted by it, not withdrawn), for
        the ``hub_ecms_queue_depth`` gauge; read over ``ix_ecms_queue_owner``."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(ecms_queue.c.owner_code, func.count())
                                .where(ecms_queue.c.deleted_at.is_(None), ecms_queue.c.withdrawn_at.is_(None))
                                .group_by(ecms_queue.c.owner_code)).all()
        return {code: n for code, n in rows}

    def queue_item_for(self, message_id: str) -> Any:
        with self._engine.connect() as conn:
            return conn.execute(select(ecms_queue).where(ecms_queue.c.message_id == message_id)).first()


def when(value: Any) -> str | None:
    return as_utc(value).isoformat() if value is not None else None
