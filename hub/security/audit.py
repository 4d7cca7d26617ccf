"""The tamper-evident audit trail: an append-only, hash-chained, batch-signed log.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's canonical JSON
(sorted keys, UTF-8, its sequence number included), so changing, removing or reordering one
entry breaks the chain at that entry. Every committed batch of entries is sealed in its own
transaction: the chain's head signed with the hub's Ed25519 key (X-Road signs its message log
in batches the same way), so no committed entry is ever outside a seal. Payloads never appear
here: callers pass their SHA-256.

Someone with the database but not the key can recompute the hash chain, so ``verify`` also
fails when
* a seal does not match the entries it covers, or its signature does not verify;
* the seals do not cover the chain contiguously from entry 1 (a seal was deleted);
* an entry after the last seal is older than ``unsealed_grace`` (its seal was deleted:
  committed entries are always sealed, so only a transaction still in flight may be newer);
* the chain holds fewer seals, or other seals, than a previous ``hub audit verify`` or
  ``export`` saw (the tail was truncated). That memory is the *witness* file
  (``<data_dir>/audit/witness.json``, signed by the hub's key): copy it off the host to anchor
  the chain outside the hub.
``export`` verifies first and refuses a database that does not verify.

Appenders lock the one-row ``audit_head`` inside their transaction, so the API and every
worker process extend one chain; within a process, concurrent appends share a transaction.
On PostgreSQL the lock is taken by the last statement that needs an answer and the writes
after it travel in one pipelined round trip, so every appender holds it as briefly as it can.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, bindparam, insert, select, update

from hub.clock import as_utc, utcnow
from hub.db import execute_on_driver, insert_rows, pipelined, pipelines
from hub.errors import Conflict
from hub.group_commit import GroupCommitter
from hub.security.keys import (
    SigningKey, key_id, public_pem, retired_keys, successions, trusted_keys, verify_signature,
)
from hub.security.tables import audit_head, audit_log, audit_seals

GENESIS = "0" * 64
BUNDLE_FORMAT = "hub-audit-bundle/1"
ENTRY_FIELDS = ("seq", "at", "kind", "actor", "decision", "target", "detail")


def canonical(data: Any) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def entry_hash(prev_hash: str, entry: Mapping[str, Any]) -> str:
    body = canonical({k: entry[k] for k in ENTRY_FIELDS})
    return hashlib.sha256(prev_hash.encode("ascii") + body).hexdigest()


def seal_body(first_seq: int, last_seq: int, last_hash: str, signed_at: str, kid: str) -> bytes:
    return canonical({"first_seq": first_seq, "last_seq": last_seq, "last_hash": last_hash,
                      "signed_at": signed_at, "key_id": kid})


def timestamp(at: datetime | None = None) -> str:
    return as_utc(at or utcnow()).isoformat(timespec="microseconds")


@dataclass
class VerifyReport:
    ok: bool
    entries: int
    seals: int
    first_bad_seq: int | None = None
    problem: str | None = None
    unsealed: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "seals": self.seals, "first_bad_seq": self.first_bad_seq,
                "problem": self.problem, "unsealed": self.unsealed, "notes": self.notes}


def check_chain(rows: list[Mapping[str, Any]], *, anchor_seq: int = 0, anchor_hash: str = GENESIS) -> tuple[int, str] | None:
    """The first bad entry as (seq, what is wrong), or None when the chain holds."""
    by_hash = {r["entry_hash"]: r["seq"] for r in rows}
    expected_seq, expected_prev = anchor_seq + 1, anchor_hash
    for row in rows:
        if row["seq"] != expected_seq:
            if row["seq"] > expected_seq:
                missing = (f"entry {expected_seq}" if row["seq"] == expected_seq + 1
                           else f"entries {expected_seq}-{row['seq'] - 1}")
                return expected_seq, f"{missing} removed: the chain goes from {expected_seq - 1} to {row['seq']}"
            return row["seq"], f"entry {row['seq']} appears twice or out of order"
        if entry_hash(row["prev_hash"], row) != row["entry_hash"]:
            original = by_hash.get(row["prev_hash"])
            if original is not None and original + 1 != row["seq"]:
                return row["seq"], (f"entry {row['seq']} was moved: its content was recorded as entry "
                                    f"{original + 1}")
            return row["seq"], f"entry {row['seq']} was changed: its hash does not match its content"
        if row["prev_hash"] != expected_prev:
            original = by_hash.get(row["prev_hash"])
            where = f" (it follows entry {original})" if original is not None else ""
            return row["seq"], (f"entry {row['seq']} does not follow entry {row['seq'] - 1}: an entry was "
                                f"removed or reordered{where}")
        expected_seq, expected_prev = row["seq"] + 1, row["entry_hash"]
    return None


def check_seals(rows: list[Mapping[str, Any]], seals: Iterable[Mapping[str, Any]],
                public: Ed25519PublicKey | Mapping[str, Ed25519PublicKey], *, from_seq: int = 1
                ) -> tuple[int, str] | None:
    """The first seal that is forged, does not match its entries, or leaves a gap; None when all hold.

    Seals must cover the entries contiguously from ``from_seq`` (1 for a whole database).
    ``public``: the key, or the keys by id (the current one and those retired by rotation): each
    seal is checked with the key it names."""
    keyring = public if isinstance(public, Mapping) else {key_id(public): public}
    hashes = {r["seq"]: r["entry_hash"] for r in rows}
    expected_first = None if from_seq is None else from_seq
    for seal in seals:
        if expected_first is not None and seal["last_seq"] >= expected_first and seal["first_seq"] > expected_first:
            return expected_first, (f"no seal covers entries {expected_first}-{seal['first_seq'] - 1}: "
                                    "a seal was removed")
        expected_first = max(expected_first or 0, seal["last_seq"] + 1)
        body = seal_body(seal["first_seq"], seal["last_seq"], seal["last_hash"], seal["signed_at"], seal["key_id"])
        signer = keyring.get(seal["key_id"])
        if signer is None:
            return seal["first_seq"], (f"the seal over entries {seal['first_seq']}-{seal['last_seq']} names key "
                                       f"{seal['key_id']}, which is neither this hub's key nor one it retired")
        if not verify_signature(signer, seal["signature"], body):
            return seal["first_seq"], (f"the seal over entries {seal['first_seq']}-{seal['last_seq']} has an "
                                       "invalid signature (not made with this public key, or altered)")
        if seal["last_seq"] in hashes and hashes[seal["last_seq"]] != seal["last_hash"]:
            return seal["first_seq"], (f"entries {seal['first_seq']}-{seal['last_seq']} differ from what the "
                                       "hub signed: the chain was rewritten")
    return None


def unsealed_problem(rows: list[Mapping[str, Any]], covered: int, grace: timedelta,
                     now: datetime) -> tuple[int, str] | None:
    """Entries after the last seal older than ``grace``: their seal was removed."""
    for row in rows:
        if row["seq"] > covered and datetime.fromisoformat(row["at"]) < now - grace:
            return row["seq"], (f"entry {row['seq']} and those after it are not sealed although committed "
                                f"before {timestamp(now - grace)}: their seals were removed")
    return None


_COLUMNS = (*ENTRY_FIELDS, "prev_hash", "entry_hash")
# The append's statements, built once: every accept batch runs them, and building and
# cache-keying them anew each time cost more than executing them on SQLite.
_HEAD_FOR_UPDATE = select(audit_head).where(audit_head.c.id == 1).with_for_update()
_ADVANCE_HEAD = update(audit_head).where(audit_head.c.id == 1).values(
    last_seq=bindparam("new_last_seq"), last_hash=bindparam("new_last_hash"), sealed_seq=bindparam("new_sealed_seq"))
_INSERT_SEAL = insert(audit_seals)
# The same on PostgreSQL (``append_pipelined``): pipeline mode allows no COPY, so entries go as
# arrays, in binary; the statement's text is the same for every batch size (psycopg prepares
# it once), and for the audit feed's batches of hundreds it costs the client what COPY did.
_PG_HEAD_FOR_UPDATE = "SELECT last_seq, last_hash, sealed_seq FROM audit_head WHERE id = 1 FOR UPDATE"
_PG_INSERT_ENTRIES = (f"INSERT INTO audit_log ({', '.join(_COLUMNS)}) SELECT * FROM unnest("
                      "%b::integer[], %b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::text[], "
                      "%b::text[], %b::text[])")
_PG_ADVANCE_HEAD = "UPDATE audit_head SET last_seq = %s, last_hash = %s, sealed_seq = %s WHERE id = 1"
_SEAL_COLUMNS = ("first_seq", "last_seq", "last_hash", "signed_at", "key_id", "signature")
_PG_INSERT_SEAL = (f"INSERT INTO audit_seals ({', '.join(_SEAL_COLUMNS)}) "
                   f"VALUES ({', '.join(f'%({c})s' for c in _SEAL_COLUMNS)})")
# And on SQLite (``_append_sqlite``).
_SQLITE_HEAD = "SELECT last_seq, last_hash, sealed_seq FROM audit_head WHERE id = 1"
_SQLITE_INSERT_SEAL = (f"INSERT INTO audit_seals ({', '.join(_SEAL_COLUMNS)}) "
                       f"VALUES ({', '.join('?' * len(_SEAL_COLUMNS))})")
_SQLITE_ADVANCE_HEAD = "UPDATE audit_head SET last_seq = ?, last_hash = ?, sealed_seq = ? WHERE id = 1"


class Witness:
    """The seal count and last seal a previous verification saw, signed by the hub's key."""

    def __init__(self, path: Path | None, key: SigningKey) -> None:
        self.path = path
        self._key = key

    def _signed_by_us(self, signature: str, body: bytes) -> bool:
        # Written by the current key, or by one retired since (the witness outlives a rotation).
        return any(verify_signature(public, signature, body)
                   for public in (self._key.public, *(p for _, p in retired_keys(self._key))))

    def read(self) -> dict[str, Any] | None:
        if self.path is None or not self.path.exists():
            return None
        data = json.loads(self.path.read_text(encoding="utf-8"))
        body = {k: data[k] for k in ("seals", "last_seq", "last_hash", "signature_of_last_seal")}
        if not self._signed_by_us(data.get("signature", ""), canonical(body)):
            raise Conflict(f"the audit witness {self.path} is not signed by this hub's key: it was altered")
        return body

    def remember(self, seals: list[Mapping[str, Any]]) -> None:
        if self.path is None or not seals:
            return
        last = seals[-1]
        body = {"seals": len(seals), "last_seq": last["last_seq"], "last_hash": last["last_hash"],
                "signature_of_last_seal": last["signature"]}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({**body, "signature": self._key.sign(canonical(body))}), encoding="utf-8")
        os.replace(tmp, self.path)

    @staticmethod
    def problem(seen: Mapping[str, Any] | None, seals: list[Mapping[str, Any]]) -> tuple[int, str] | None:
        if seen is None:
            return None
        if len(seals) < seen["seals"]:
            return seen["last_seq"], (f"the chain holds {len(seals)} seals but {seen['seals']} were seen before "
                                      f"(up to entry {seen['last_seq']}): seals or the tail were removed")
        same = seals[seen["seals"] - 1]
        if same["signature"] != seen["signature_of_last_seal"] or same["last_seq"] != seen["last_seq"]:
            return seen["last_seq"], (f"seal {seen['seals']} (up to entry {seen['last_seq']}) is not the one "
                                      "seen before: the chain was rewritten")
        return None


class AuditLog:
    def __init__(self, engine: Engine, key: SigningKey, *, witness_path: Path | None = None,
                 unsealed_grace_seconds: float = 60.0) -> None:
        self._engine = engine
        self._key = key
        self._witness = Witness(witness_path, key)
        self._grace = timedelta(seconds=unsealed_grace_seconds)
        self._appender: GroupCommitter[tuple[str, str, str | None, str | None, str], int] = GroupCommitter(
            self._append_batch, name="audit")

    def record(self, kind: str, *, actor: str, decision: str | None = None, target: str | None = None,
               **detail: Any) -> int:
        """Append one entry; returns its sequence number once it is committed.

        ``detail`` must hold no secret or payload. Entries from concurrent callers are
        group-committed: one transaction (one head lock, one fsync) appends them all, in order.
        """
        return self._appender.submit((kind, actor, decision, target, canonical(detail).decode()))

    def _append_batch(self, items: list[tuple[str, str, str | None, str | None, str]]) -> list[int]:
        if pipelines(self._engine):
            with pipelined(self._engine) as pg:
                return self.append_pipelined(pg, items)
        with self._engine.begin() as conn:
            return self.append_in(conn, items)

    def append_in(self, conn: Any, items: list[tuple[str, str, str | None, str | None, str]]) -> list[int]:
        """Append entries ``(kind, actor, decision, target, detail JSON)`` inside the caller's
        transaction: for a writer that must commit its own state with the entries (the audit
        feed's position), so both are kept or neither is."""
        if not items:
            return []
        if conn.dialect.driver == "psycopg":
            # Two round trips (head, then the writes) instead of five, so the head, which every
            # accept also locks, is held that much shorter.
            pg = conn.connection.driver_connection
            with pg.pipeline():
                return self.append_pipelined(pg, items)
        if conn.dialect.name == "sqlite":
            return self._append_sqlite(conn, items)
        head = conn.execute(_HEAD_FOR_UPDATE).mappings().one()
        entries = self._chain(head["last_seq"], head["last_hash"], items)
        last = entries[-1]
        insert_rows(conn, audit_log, entries)
        # Every batch is sealed in the transaction that appends it: no committed entry is unsealed.
        conn.execute(_INSERT_SEAL, self._seal_row(head["sealed_seq"] + 1, last["seq"], last["entry_hash"]))
        conn.execute(_ADVANCE_HEAD, {"new_last_seq": last["seq"], "new_last_hash": last["entry_hash"],
                                     "new_sealed_seq": last["seq"]})
        return [e["seq"] for e in entries]

    def _append_sqlite(self, conn: Any, items: list[tuple[str, str, str | None, str | None, str]]) -> list[int]:
        """``append_in`` on SQLite, its statements straight on the driver (``execute_on_driver``:
        each accept transaction appends, and SQLAlchemy's execution around the head's read, the
        seal and the head's update cost more than SQLite's work). The write transaction the
        caller holds (``BEGIN IMMEDIATE``) is what keeps the head for this append alone."""
        last_seq, last_hash, sealed_seq = execute_on_driver(conn, _SQLITE_HEAD).fetchone()
        entries = self._chain(last_seq, last_hash, items)
        last = entries[-1]
        insert_rows(conn, audit_log, entries)
        seal = self._seal_row(sealed_seq + 1, last["seq"], last["entry_hash"])
        execute_on_driver(conn, _SQLITE_INSERT_SEAL, [seal[c] for c in _SEAL_COLUMNS])
        execute_on_driver(conn, _SQLITE_ADVANCE_HEAD, (last["seq"], last["entry_hash"], last["seq"]))
        return [e["seq"] for e in entries]

    def append_pipelined(self, pg: Any, items: list[tuple[str, str, str | None, str | None, str]]) -> list[int]:
        """``append_in`` for a ``hub.db.pipelined`` transaction on PostgreSQL (``pg``: its psycopg
        connection). The head lock is queued behind whatever the caller queued before and read
        in one round trip with it; the entries, seal and head update are queued and leave with
        the caller's ``COMMIT``, so the lock is held for that one round trip and the commit."""
        if not items:
            return []
        last_seq, last_hash, sealed_seq = pg.execute(_PG_HEAD_FOR_UPDATE).fetchone()
        entries = self._chain(last_seq, last_hash, items)
        last = entries[-1]
        pg.execute(_PG_INSERT_ENTRIES, [[e[c] for e in entries] for c in _COLUMNS])
        pg.execute(_PG_INSERT_SEAL, self._seal_row(sealed_seq + 1, last["seq"], last["entry_hash"]))  # as append_in
        pg.execute(_PG_ADVANCE_HEAD, (last["seq"], last["entry_hash"], last["seq"]))
        return [e["seq"] for e in entries]

    @staticmethod
    def _chain(seq: int, prev: str, items: list[tuple[str, str, str | None, str | None, str]]
               ) -> list[dict[str, Any]]:
        """The entries for ``items``, chained after entry ``seq`` whose hash is ``prev``."""
        at = timestamp()  # one time for the batch: its entries are committed together
        entries = []
        for kind, actor, decision, target, detail in items:
            seq += 1
            entry = {"seq": seq, "at": at, "kind": kind, "actor": actor, "decision": decision,
                     "target": target, "detail": detail, "prev_hash": prev}
            entry["entry_hash"] = prev = entry_hash(prev, entry)
            entries.append(entry)
        return entries

    def _seal_row(self, first_seq: int, last_seq: int, last_hash: str) -> dict[str, Any]:
        signed_at = timestamp()
        signature = self._key.sign(seal_body(first_seq, last_seq, last_hash, signed_at, self._key.key_id))
        return {"first_seq": first_seq, "last_seq": last_seq, "last_hash": last_hash,
                "signed_at": signed_at, "key_id": self._key.key_id, "signature": signature}

    def seal(self) -> bool:
        """Sign the entries not yet covered by a seal; False when there were none."""
        with self._engine.begin() as conn:
            head = conn.execute(select(audit_head).where(audit_head.c.id == 1).with_for_update()).mappings().one()
            if head["last_seq"] == head["sealed_seq"]:
                return False
            conn.execute(_INSERT_SEAL, self._seal_row(head["sealed_seq"] + 1, head["last_seq"], head["last_hash"]))
            conn.execute(update(audit_head).where(audit_head.c.id == 1).values(sealed_seq=head["last_seq"]))
        return True

    def entries(self, *, since: datetime | None = None, kind: str | None = None, target: str | None = None,
                limit: int | None = None) -> list[dict[str, Any]]:
        query = select(audit_log).order_by(audit_log.c.seq)
        if since is not None:
            query = query.where(audit_log.c.at >= timestamp(since))
        if kind is not None:
            query = query.where(audit_log.c.kind == kind)
        if target is not None:
            query = query.where(audit_log.c.target == target)
        if limit is not None:
            query = query.limit(limit)
        with self._engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings().all()]

    def _seals(self, conn: Any) -> list[dict[str, Any]]:
        return [dict(r) for r in conn.execute(select(audit_seals).order_by(audit_seals.c.id)).mappings().all()]

    def verify(self, public: Ed25519PublicKey | None = None, *, remember: bool = False,
               now: datetime | None = None) -> VerifyReport:
        """Check the whole chain and every seal; name the first entry changed, removed or reordered.

        ``remember``: after a verification that holds, record the seal count in the witness
        (``hub audit verify`` and ``export`` do; the API's read-only check does not)."""
        with self._engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(select(audit_log).order_by(audit_log.c.seq)).mappings().all()]
            seals = self._seals(conn)
            head = conn.execute(select(audit_head).where(audit_head.c.id == 1)).mappings().one()
        report = VerifyReport(ok=True, entries=len(rows), seals=len(seals))
        bad = check_chain(rows)
        if bad is None and rows and (rows[-1]["seq"] != head["last_seq"] or rows[-1]["entry_hash"] != head["last_hash"]):
            bad = (rows[-1]["seq"] + 1, f"the log ends at entry {rows[-1]['seq']} but the hub wrote up to entry "
                                        f"{head['last_seq']}: the last entries were removed")
        if bad is None and not rows and head["last_seq"]:
            bad = (1, f"the log is empty but the hub wrote {head['last_seq']} entries")
        if bad is None:
            bad = check_seals(rows, seals, self.keyring() if public is None else public)
        covered = max((s["last_seq"] for s in seals), default=0)
        if bad is None:
            bad = unsealed_problem(rows, covered, self._grace, now or utcnow())
        if bad is None:
            seen = self._witness.read()
            bad = Witness.problem(seen, seals)
            if seen is None and self._witness.path is not None:
                report.notes.append(f"no witness yet at {self._witness.path}: the seal count is remembered from now")
        if bad is not None:
            report.ok, (report.first_bad_seq, report.problem) = False, bad
        report.unsealed = sum(1 for r in rows if r["seq"] > covered)
        if report.ok and remember:
            self._witness.remember(seals)
        return report

    def seals(self) -> list[dict[str, Any]]:
        with self._engine.connect() as conn:
            return self._seals(conn)

    def entry_hashes(self) -> dict[int, str]:
        with self._engine.connect() as conn:
            return dict(conn.execute(select(audit_log.c.seq, audit_log.c.entry_hash)).all())

    def keyring(self) -> dict[str, Ed25519PublicKey]:
        """The keys seals may name: the current one and those retired by ``hub audit rotate-key``."""
        return {self._key.key_id: self._key.public, **dict(retired_keys(self._key))}

    def export(self, since: datetime | None = None) -> dict[str, Any]:
        """A bundle of the entries since ``since`` with their seals, signed as a whole.

        The database is verified first: a trail that does not verify is never signed again."""
        report = self.verify(remember=True)
        if not report.ok:
            raise Conflict(f"the audit trail does not verify, so it is not exported: entry {report.first_bad_seq}: "
                           f"{report.problem}", first_bad_seq=report.first_bad_seq)
        self.seal()  # a legacy tail from before every batch was sealed (none is left after this)
        rows = self.entries(since=since)
        with self._engine.connect() as conn:
            first = rows[0]["seq"] if rows else None
            seals = [s for s in self._seals(conn) if first is not None and s["last_seq"] >= first]
        bundle = {
            "format": BUNDLE_FORMAT,
            "exported_at": timestamp(),
            "since": timestamp(since) if since else None,
            "key_id": self._key.key_id,
            "public_key_pem": public_pem(self._key.public).decode(),
            "anchor": {"seq": (first - 1) if first else 0, "hash": rows[0]["prev_hash"] if rows else GENESIS},
            "entries": [{k: r[k] for k in (*ENTRY_FIELDS, "prev_hash", "entry_hash")} for r in rows],
            "seals": [{k: s[k] for k in ("first_seq", "last_seq", "last_hash", "signed_at", "key_id", "signature")}
                      for s in seals],
            # How the current key vouches for the keys it replaced (both signed each record), so
            # seals made before a rotation verify offline with only the current public key.
            "key_succession": successions(self._key),
        }
        bundle["signature"] = self._key.sign(canonical(bundle))
        return bundle


def verify_bundle(bundle: Mapping[str, Any], public: Ed25519PublicKey) -> VerifyReport:
    """Offline check of an exported bundle with the hub's public key (not the one inside it)."""
    if bundle.get("format") != BUNDLE_FORMAT:
        return VerifyReport(False, 0, 0, problem=f"not an audit bundle: format is {bundle.get('format')!r}, "
                                                 f"expected {BUNDLE_FORMAT!r}")
    entries, seals = list(bundle.get("entries", [])), list(bundle.get("seals", []))
    report = VerifyReport(ok=True, entries=len(entries), seals=len(seals))
    unsigned = {k: v for k, v in bundle.items() if k != "signature"}
    if not verify_signature(public, str(bundle.get("signature", "")), canonical(unsigned)):
        report.ok = False
        report.problem = "the bundle's signature does not verify with this public key (altered, or another hub's)"
    bad = check_chain(entries, anchor_seq=bundle["anchor"]["seq"], anchor_hash=bundle["anchor"]["hash"])
    first = entries[0]["seq"] if entries else 0
    if bad is None:
        keyring = trusted_keys(public, list(bundle.get("key_succession", [])))
        bad = check_seals(entries, [s for s in seals if s["last_seq"] >= first], keyring, from_seq=None)
    covered_to = max((s["last_seq"] for s in seals), default=0)
    if bad is None and entries and entries[-1]["seq"] > covered_to:
        # export verifies and seals first, so every entry of a bundle is under a seal
        bad = (max(first, covered_to + 1), f"entries {max(first, covered_to + 1)}-{entries[-1]['seq']} "
                                            "are covered by no seal in the bundle")
    if bad is not None:
        report.ok, (report.first_bad_seq, report.problem) = False, bad
    if key_id(public) != bundle.get("key_id"):
        report.notes.append(f"bundle names key {bundle.get('key_id')}, the given public key is {key_id(public)}")
    covered = max((s["last_seq"] for s in seals), default=0)
    report.unsealed = sum(1 for e in entries if e["seq"] > covered)
    return report
