"""Writing telework days into DPIS, once per hub message, in one transaction.

Idempotency has two layers, because at-least-once delivery means the same message can
arrive twice, even concurrently from two workers:

1. ``HUB_MESSAGE_LOG`` (owned by the adapter) gets the message id as its primary key in the
   same transaction as the rows. A second copy fails on that key, rolls back, and reports
   the first application; a concurrent copy waits on the key lock and then does the same.
2. Each row is also checked by its natural key (person, day, code) before insert, so two
   *different* messages for the same day (a re-sent order) do not double a record either.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from sqlalchemy import Connection, Engine, and_, delete, insert, select
from sqlalchemy.exc import IntegrityError

from hub.adapters.dpis.legacy import Decoder
from hub.adapters.dpis.models import TeleworkCancel, TeleworkDay, TeleworkDays
from hub.adapters.dpis.reader import DpisReader
from hub.adapters.dpis.schema import hub_message_log, per_absent, per_time_attendance

Target = Literal["attendance", "absence"]
PERIOD_DAYS = {1: Decimal("0.5"), 2: Decimal("0.5"), 3: Decimal("1.0")}


@dataclass(frozen=True)
class WriteCodes:
    """The codes one agency uses for telework in its DPIS (route settings)."""

    target: Target
    ta_code_in: str
    ta_code_out: str
    ab_code: str
    reason: str
    update_user: str


@dataclass(frozen=True)
class WriteResult:
    message_id: str
    per_id: int
    rows_written: int
    duplicate: bool


class TeleworkWriter:
    def __init__(self, engine: Engine, reader: DpisReader, decoder: Decoder, codes: WriteCodes) -> None:
        self._engine = engine
        self._reader = reader
        self._decode = decoder
        self._codes = codes

    def write(self, message_id: str, days: TeleworkDays) -> WriteResult:
        return self._once(message_id, days.citizen_id, self._codes.target,
                          lambda conn, per_id: sum(self._write_day(conn, per_id, day) for day in days.days))

    def cancel(self, message_id: str, cancel: TeleworkCancel) -> WriteResult:
        """Remove the telework rows of the given days (a revocation), once per message id.

        Only rows with the agency's telework codes are removed, so a day's ordinary
        attendance or another kind of leave is never touched; ``rows_written`` counts the
        rows removed. Cancelling days already removed removes nothing (idempotent by content
        as well as by message id).
        """
        return self._once(message_id, cancel.citizen_id, f"cancel-{self._codes.target}",
                          lambda conn, per_id: sum(self._cancel_day(conn, per_id, day) for day in cancel.dates))

    def _once(self, message_id: str, citizen_id: str, target: str, apply) -> WriteResult:  # noqa: ANN001
        """Run ``apply(conn, per_id)`` in one transaction with the message's marker row."""
        try:
            with self._engine.begin() as conn:
                person_row = self._reader.person_row_by_citizen_id(conn, citizen_id)
                per_id = person_row["PER_ID"]
                # The marker goes first: a concurrent duplicate blocks here, not after writing.
                conn.execute(insert(hub_message_log).values(
                    MESSAGE_ID=message_id, PER_ID=per_id, TARGET=target, ROWS_WRITTEN=0,
                    APPLIED_AT=_stamp(dt.datetime.now()),
                ))
                written = apply(conn, per_id)
                conn.execute(
                    hub_message_log.update().where(hub_message_log.c.MESSAGE_ID == message_id)
                    .values(ROWS_WRITTEN=written)
                )
        except IntegrityError:
            with self._engine.connect() as conn:
                first = conn.execute(
                    select(hub_message_log).where(hub_message_log.c.MESSAGE_ID == message_id)
                ).mappings().first()
            if first is None:  # the integrity error was not our marker: a real schema problem
                raise
            return WriteResult(message_id, first["PER_ID"], first["ROWS_WRITTEN"], duplicate=True)
        return WriteResult(message_id, per_id, written, duplicate=False)

    def _write_day(self, conn: Connection, per_id: int, day: TeleworkDay) -> int:
        if self._codes.target == "attendance":
            if day.check_in is None:  # DpisAdapter.write_telework refuses these first; never invent a time
                raise ValueError(f"{day.date}: no check-in given")
            stamps = [(day.check_in, self._codes.ta_code_in)]
            if day.check_out is not None:
                stamps.append((day.check_out, self._codes.ta_code_out))
            written = 0
            for clock, code in stamps:
                stamp = _stamp(dt.datetime.combine(day.date, clock)).encode("ascii")
                exists = conn.execute(select(per_time_attendance.c.PER_ID).where(
                    per_time_attendance.c.PER_ID == per_id, per_time_attendance.c.TIME_STAMP == stamp,
                    per_time_attendance.c.TA_CODE == code,
                )).first()
                if exists is None:
                    conn.execute(insert(per_time_attendance).values(PER_ID=per_id, TIME_STAMP=stamp, TA_CODE=code))
                    written += 1
            return written
        start = day.date.isoformat().encode("ascii")
        exists = conn.execute(select(per_absent.c.ABS_ID).where(and_(
            per_absent.c.PER_ID == per_id, per_absent.c.AB_CODE == self._codes.ab_code,
            per_absent.c.ABS_STARTDATE == start,
        ))).first()
        if exists is not None:
            return 0
        conn.execute(insert(per_absent).values(
            PER_ID=per_id, AB_CODE=self._codes.ab_code, ABS_STARTDATE=start, ABS_ENDDATE=start,
            ABS_STARTPERIOD=day.period, ABS_ENDPERIOD=day.period, ABS_DAY=PERIOD_DAYS[day.period],
            ABS_REASON=self._decode.encode(self._codes.reason, column="ABS_REASON"),
            UPDATE_USER=self._codes.update_user, UPDATE_DATE=_stamp(dt.datetime.now()).encode("ascii"),
        ))
        return 1


    def _cancel_day(self, conn: Connection, per_id: int, day: dt.date) -> int:
        if self._codes.target == "attendance":
            # TIME_STAMP is 'YYYY-MM-DD HH:MM:SS' bytes: the day is a byte range, which every
            # backend compares the same way (LIKE on VARBINARY differs between them).
            start = _stamp(dt.datetime.combine(day, dt.time())).encode("ascii")
            end = _stamp(dt.datetime.combine(day + dt.timedelta(days=1), dt.time())).encode("ascii")
            result = conn.execute(delete(per_time_attendance).where(
                per_time_attendance.c.PER_ID == per_id, per_time_attendance.c.TIME_STAMP >= start,
                per_time_attendance.c.TIME_STAMP < end,
                per_time_attendance.c.TA_CODE.in_([self._codes.ta_code_in, self._codes.ta_code_out]),
            ))
        else:
            result = conn.execute(delete(per_absent).where(
                per_absent.c.PER_ID == per_id, per_absent.c.AB_CODE == self._codes.ab_code,
                per_absent.c.ABS_STARTDATE == day.isoformat().encode("ascii"),
            ))
        return result.rowcount or 0


def _stamp(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")
