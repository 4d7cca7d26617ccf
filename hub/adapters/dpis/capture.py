"""Change capture: new or changed PER_PERSONAL rows become ``hr.person.changed`` messages.

How it avoids missing a change:
    each poll reads every row whose ``UPDATE_DATE`` is at or after *watermark - overlap*
    (the overlap catches a transaction that committed late with an earlier stamp, and rows
    changed within the same second as the last poll), plus every row whose stamp is not a
    plain CE string (BE years, Thai digits), since those do not sort with CE strings. The
    watermark moves only after a poll has gone through all its rows.

How it avoids repeating one:
    a row's *version* is a hash of its decoded content and its ``UPDATE_DATE``; the version
    last published per row is kept in the hub's database (the inbound sink's durable
    state, ``InboundState``), and the message id is derived from (source, PER_ID, version).
    A row re-read in the overlap is skipped; a crash between publishing and recording the
    version re-publishes the *same* id, which the hub's idempotent accept turns into the
    existing message.

A row that cannot be read (undecodable text, impossible date, invalid citizen ID) is logged
with its table, key, column and rule, counted, and remembered so it is logged once per
distinct content; it never stops the poll.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import func, or_

from hub.adapters.base import InboundState
from hub.adapters.dpis.legacy import LegacyRowError
from hub.adapters.dpis.schema import per_personal
from hub.schemas.envelope import Envelope

log = logging.getLogger(__name__)

PERSON_CHANGED_SERVICE = "hr.person.changed/v1"
PERSON_STANDARD = "th.hr.person@1.0.0"
_ID_NAMESPACE = uuid.UUID("5b0c2f64-8a53-4f0e-9d57-2f1d0a6c7e11")
STAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass
class CaptureReport:
    published: list[str] = field(default_factory=list)   # message ids accepted as new
    known: list[str] = field(default_factory=list)       # ids the hub already had (after a crash)
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    watermark: str | None = None
    complete: bool = True

    @property
    def republished(self) -> int:
        return len(self.known)


@dataclass(frozen=True)
class CaptureTarget:
    sender: str
    receiver: str
    service: str = PERSON_CHANGED_SERVICE
    overlap_seconds: float = 300.0
    start_at: str = "now"
    page_size: int = 500


Publish = Callable[[Envelope], Any]  # InboundSink.accept: returns an object with ``created``


class ChangeCapture:
    """Poll a DPIS database for changed people and publish each change once."""

    def __init__(self, adapter: Any, state: InboundState, publish: Publish, target: CaptureTarget) -> None:
        self._adapter = adapter
        self._state = state
        self._publish = publish
        self._target = target

    def poll(self, limit: int | None = None) -> CaptureReport:
        """One pass over the candidate rows. With ``limit``, stops after that many publications
        (the watermark then stays, so the next poll carries on where this one stopped)."""
        report = CaptureReport()
        watermark = self._state.watermark()
        if watermark is None and self._target.start_at == "now":
            report.watermark = self._baseline()
            return report
        highest: dt.datetime | None = None
        for per_id, raw_stamp, outcome in self._candidates(watermark):
            stamp = _parse_stamp(self._adapter, per_id, raw_stamp)
            if isinstance(stamp, dt.datetime):
                highest = max(filter(None, (highest, stamp)))
            if isinstance(outcome, LegacyRowError) or isinstance(stamp, LegacyRowError):
                error = outcome if isinstance(outcome, LegacyRowError) else stamp
                version = "bad:" + _digest(error.as_dict(), raw_stamp)
                if self._state.get(str(per_id)) != version:
                    log.error("DPIS change capture: skipping %s", error, extra={"legacy_error": error.as_dict()})
                    report.errors.append(error.as_dict())
                    self._state.put(str(per_id), version)
                continue
            version = _digest(outcome, raw_stamp)
            if self._state.get(str(per_id)) == version:
                report.unchanged += 1
                continue
            if limit is not None and len(report.published) + len(report.known) >= limit:
                report.complete = False
                break
            message_id = str(uuid.uuid5(_ID_NAMESPACE, f"{self._target.sender}|{per_id}|{version}"))
            result = self._publish(Envelope(
                id=message_id, sender=self._target.sender, receiver=self._target.receiver,
                service=self._target.service, standard=PERSON_STANDARD, correlation_id=f"dpis-per-{per_id}",
                payload=outcome,
            ))
            self._state.put(str(per_id), version, ref=message_id)
            if getattr(result, "created", True):
                report.published.append(message_id)
            else:
                report.known.append(message_id)
        if report.complete and highest is not None:
            self._state.advance(highest.strftime(STAMP_FORMAT))
        report.watermark = self._state.watermark()
        return report

    def _candidates(self, watermark: str | None):  # noqa: ANN202 (generator of tuples)
        lower = None
        if watermark is not None:
            lower = (dt.datetime.strptime(watermark, STAMP_FORMAT)
                     - dt.timedelta(seconds=self._target.overlap_seconds)).strftime(STAMP_FORMAT).encode("ascii")
        yield from self._adapter.person_rows(candidate_filter(lower), self._target.page_size)

    def _baseline(self) -> str:
        """First start with ``start_at="now"``: remember every row as already seen."""
        versions: dict[str, str] = {}
        highest: dt.datetime | None = None
        for per_id, raw_stamp, outcome in self._candidates(None):
            stamp = _parse_stamp(self._adapter, per_id, raw_stamp)
            if isinstance(stamp, dt.datetime):
                highest = max(filter(None, (highest, stamp)))
            if isinstance(outcome, LegacyRowError) or isinstance(stamp, LegacyRowError):
                error = outcome if isinstance(outcome, LegacyRowError) else stamp
                versions[str(per_id)] = "bad:" + _digest(error.as_dict(), raw_stamp)
            else:
                versions[str(per_id)] = _digest(outcome, raw_stamp)
        self._state.put_many(versions)
        mark = (highest or dt.datetime(1900, 1, 1)).strftime(STAMP_FORMAT)
        self._state.advance(mark)
        return mark


def _parse_stamp(adapter: Any, per_id: int, raw: object) -> dt.datetime | LegacyRowError | None:
    try:
        return adapter.decoder.datetime(raw, table="PER_PERSONAL", key=per_id, column="UPDATE_DATE")
    except LegacyRowError as exc:
        return exc


def _digest(content: object, raw_stamp: object) -> str:
    stamp = raw_stamp.hex() if isinstance(raw_stamp, (bytes, bytearray)) else str(raw_stamp)
    body = orjson.dumps(content, option=orjson.OPT_SORT_KEYS) + b"|" + stamp.encode()
    return hashlib.sha256(body).hexdigest()[:32]


def candidate_filter(lower: bytes | None):  # noqa: ANN201 (SQL expression or None)
    """Rows stamped at/after ``lower``, plus every row whose stamp is not ``YYYY-...``.

    As bytes, a BE year ('2568-...') or Thai digits sort above any CE ``lower``, so they are
    always read again (and skipped by version); a ``DD/MM/YYYY`` stamp does not sort at all,
    so any stamp without '-' as its 5th byte is always a candidate too.
    """
    if lower is None:
        return None
    column = per_personal.c.UPDATE_DATE
    return or_(column >= lower, func.substr(column, 5, 1) != b"-")
