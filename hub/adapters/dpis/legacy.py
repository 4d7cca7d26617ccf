"""Turning raw legacy column values into clean values, one named error per bad value.

A DPIS row can hold cp874 bytes that do not decode, dates in BE or with impossible days,
Thai digits, or a citizen ID with a wrong check digit. Each converter here raises
:class:`LegacyRowError` naming the table, row key, column and rule, so the caller can log
that one item and carry on with the rest (the issue's "bad input" rule).
"""
from __future__ import annotations

import datetime as dt

from hub.thai import ThaiValueError, decode_legacy, normalize_digits, parse_date, parse_datetime, validate_citizen_id


class LegacyRowError(ValueError):
    """One value in one legacy row cannot be used."""

    def __init__(self, *, table: str, key: object, column: str, rule: str, message: str) -> None:
        super().__init__(f"{table} row {key}: {column}: {message} (rule {rule})")
        self.table = table
        self.key = key
        self.column = column
        self.rule = rule
        self.detail = message

    def as_dict(self) -> dict[str, object]:
        return {"table": self.table, "key": self.key, "column": self.column, "rule": self.rule,
                "message": self.detail}


class Decoder:
    """Converters bound to one installation's text encoding."""

    def __init__(self, encoding: str = "cp874") -> None:
        self.encoding = encoding

    def text(self, raw: object, *, table: str, key: object, column: str) -> str | None:
        if raw is None:
            return None
        if isinstance(raw, str):  # a column the driver already decoded (e.g. a tis620 charset column)
            return raw.strip()
        if isinstance(raw, memoryview):
            raw = raw.tobytes()
        if not isinstance(raw, (bytes, bytearray)):
            return str(raw)
        try:
            return decode_legacy(bytes(raw), self.encoding).strip()
        except ThaiValueError as exc:
            raise LegacyRowError(table=table, key=key, column=column, rule=exc.rule, message=str(exc)) from None

    def required_text(self, raw: object, *, table: str, key: object, column: str) -> str:
        value = self.text(raw, table=table, key=key, column=column)
        if not value:
            raise LegacyRowError(table=table, key=key, column=column, rule="required",
                                 message="is empty; a non-empty value is expected")
        return value

    def date(self, raw: object, *, table: str, key: object, column: str) -> dt.date | None:
        text = self.text(raw, table=table, key=key, column=column)
        if not text:
            return None
        # DPIS keeps dates as 'YYYY-MM-DD' or with a time part; the era is guessed from the
        # year (BE years are > 2400), which is how mixed CE/BE data is read correctly.
        try:
            if " " in text or "T" in text:
                return parse_datetime(text).date()
            return parse_date(text)
        except ThaiValueError as exc:
            raise LegacyRowError(table=table, key=key, column=column, rule=exc.rule, message=str(exc)) from None

    def datetime(self, raw: object, *, table: str, key: object, column: str) -> dt.datetime | None:
        text = self.text(raw, table=table, key=key, column=column)
        if not text:
            return None
        try:
            if " " in text or "T" in text:
                return parse_datetime(text)
            return dt.datetime.combine(parse_date(text), dt.time())
        except ThaiValueError as exc:
            raise LegacyRowError(table=table, key=key, column=column, rule=exc.rule, message=str(exc)) from None

    def citizen_id(self, raw: object, *, table: str, key: object, column: str) -> str:
        text = self.required_text(raw, table=table, key=key, column=column)
        try:
            return validate_citizen_id(text)
        except ThaiValueError as exc:
            raise LegacyRowError(table=table, key=key, column=column, rule=exc.rule, message=str(exc)) from None

    def code(self, raw: object, *, table: str, key: object, column: str) -> str | None:
        """A short code column (PN_CODE, LEVEL_NO, OL_CODE): Thai digits become ASCII."""
        text = self.text(raw, table=table, key=key, column=column)
        return normalize_digits(text) if text else None

    def encode(self, text: str, *, column: str) -> bytes:
        """Text for a legacy column; refuses characters the installation cannot store."""
        try:
            return text.encode(self.encoding)
        except UnicodeEncodeError as exc:
            raise LegacyRowError(
                table="(write)", key="-", column=column, rule="encoding",
                message=f"{text[exc.start:exc.end]!r} cannot be stored in {self.encoding}",
            ) from None


def citizen_id_variants(citizen_id: str, encoding: str) -> list[bytes]:
    """The spellings of one citizen ID legacy rows are known to hold, as stored bytes.

    Looking the ID up with ``IN (...)`` over these keeps the query on the column's index,
    which normalising every row in SQL would not.
    """
    compact = validate_citizen_id(citizen_id)
    dashed = f"{compact[0]}-{compact[1:5]}-{compact[5:10]}-{compact[10:12]}-{compact[12]}"
    thai = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
    spellings = [compact, dashed, compact.translate(thai), dashed.translate(thai)]
    return [s.encode(encoding) for s in spellings]
