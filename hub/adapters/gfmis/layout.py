"""The fixed-width record layout of ``th.gfmis.batch`` files and their result files.

This module is the layout's single source: ``standards/th.gfmis.batch/1.0.0/layout.json`` is
:func:`layout_document` written out (a test keeps them equal), and both the adapter and the
reference GFMIS read and write records through :func:`render` and :func:`parse`.

Every record is exactly :data:`RECORD_LENGTH` bytes of windows-874 (cp874, one byte per
Thai character, so widths are in bytes *and* characters) followed by CR LF.
Field kinds: ``N`` digits, right-aligned, zero-padded; ``A`` ASCII, left-aligned, space-
padded; ``X`` Thai text (cp874), left-aligned, space-padded; ``M`` money, 16 bytes,
``9999999999999.99`` zero-padded with a decimal point (exact, never a float); ``D`` a date
``YYYYMMDD`` with a Buddhist Era year.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from hub.thai import be_to_ce_year, ce_to_be_year

ENCODING = "cp874"
RECORD_LENGTH = 256
NEWLINE = b"\r\n"
LAYOUT_VERSION = "1.0.0"
MONEY_WIDTH = 16
MAX_MONEY = Decimal("9999999999999.99")


class LayoutError(ValueError):
    """A record that does not follow the layout; names the record, field and rule."""

    def __init__(self, *, record: int, field: str, rule: str, message: str) -> None:
        super().__init__(f"record {record}: {field}: {message} (rule {rule})")
        self.record = record
        self.field = field
        self.rule = rule
        self.detail = message


@dataclass(frozen=True)
class Field:
    name: str
    length: int
    kind: str  # N, A, X, M, D
    description: str
    required: bool = True


@dataclass(frozen=True)
class Record:
    type: str
    fields: tuple[Field, ...]

    def positions(self) -> list[tuple[Field, int]]:
        """Each field with its 1-based start byte (the record type is byte 1)."""
        out, start = [], 2
        for f in self.fields:
            out.append((f, start))
            start += f.length
        return out


BATCH_HEADER = Record("H", (
    Field("agency_code", 5, "N", "5-digit GFMIS-style department code"),
    Field("fiscal_year", 4, "N", "fiscal year (BE), 1 Oct - 30 Sep"),
    Field("file_date", 8, "D", "date the file was produced, YYYYMMDD, BE year; inside the fiscal year"),
    Field("batch_id", 32, "A", "sender-unique batch id [A-Z0-9-]; resending the same id is a duplicate"),
    Field("layout_version", 5, "A", "layout version, '1.0.0'"),
))
BATCH_DETAIL = Record("D", (
    Field("line_no", 6, "N", "1-based line number, consecutive"),
    Field("doc_type", 2, "A", "document type: K1 (disbursement request), G1 (revenue remittance)"),
    Field("fund_source", 7, "N", "fund-source code: digits 1-2 = fiscal year, digit 3 = 1 in budget / 2 off budget"),
    Field("amount", MONEY_WIDTH, "M", "amount in THB, exactly 2 decimals, > 0"),
    Field("vendor_group", 4, "N", "1000 juristic person, 2000 individual, 5000 other"),
    Field("vendor_tax_id", 13, "A", "13-digit payee ID (juristic for 1000, citizen for 2000); blank if none",
          required=False),
    Field("description", 100, "X", "line text (Thai, cp874)"),
))
BATCH_TRAILER = Record("T", (
    Field("record_count", 6, "N", "number of D records"),
    Field("amount_total", MONEY_WIDTH, "M", "sum of D amounts, exactly"),
))
RESULT_HEADER = Record("H", (
    Field("agency_code", 5, "N", "agency code of the input file"),
    Field("batch_id", 32, "A", "batch id of the input file"),
    Field("source_file", 96, "A", "name of the input file this result answers"),
    Field("processed_date", 8, "D", "processing date, YYYYMMDD, BE year"),
    Field("file_status", 1, "A", "A file accepted (lines may still be rejected), R whole file rejected"),
    Field("reason_code", 4, "A", "file-level reason code when R (see reason codes)", required=False),
    Field("reason_text", 100, "X", "file-level reason text (Thai/English)", required=False),
))
RESULT_DETAIL = Record("D", (
    Field("line_no", 6, "N", "line number of the input D record"),
    Field("line_status", 1, "A", "A accepted, R rejected"),
    Field("reason_code", 4, "A", "reason code when R", required=False),
    Field("reason_text", 100, "X", "reason text when R", required=False),
    Field("gfmis_doc_no", 10, "A", "document number GFMIS assigned when A", required=False),
))
RESULT_TRAILER = Record("T", (
    Field("record_count", 6, "N", "number of D records"),
    Field("accepted_count", 6, "N", "D records with status A"),
    Field("rejected_count", 6, "N", "D records with status R"),
    Field("accepted_total", MONEY_WIDTH, "M", "sum of the amounts of accepted lines"),
))

BATCH_RECORDS = {r.type: r for r in (BATCH_HEADER, BATCH_DETAIL, BATCH_TRAILER)}
RESULT_RECORDS = {r.type: r for r in (RESULT_HEADER, RESULT_DETAIL, RESULT_TRAILER)}

REASON_CODES = {
    "E101": "record layout: wrong record length, type or order, or a malformed field",
    "E102": "text is not valid windows-874 (cp874)",
    "E103": "trailer record_count differs from the number of detail records",
    "E104": "trailer amount_total differs from the sum of detail amounts",
    "E105": "agency code unknown to GFMIS",
    "E106": "file_date is not inside the header's fiscal year",
    "E107": "duplicate batch: this agency already sent this batch_id",
    "E201": "fund source belongs to another fiscal year (digits 1-2)",
    "E202": "fund source budget digit (3rd) is not 1 (in budget) or 2 (off budget)",
    "E203": "fund source not allocated to the agency",
    "E204": "payee ID missing, invalid, or not matching the vendor group",
    "E205": "document type unknown",
    "E206": "amount must be greater than zero",
}
FILE_LEVEL_CODES = ("E101", "E102", "E103", "E104", "E105", "E106", "E107")


def format_money(value: Decimal) -> str:
    quantized = value.quantize(Decimal("0.01"))
    if quantized != value or value < 0 or value > MAX_MONEY:
        raise ValueError(f"amount {value} is not a non-negative THB amount with at most 2 decimals "
                         f"and at most {MAX_MONEY}")
    return f"{quantized:0{MONEY_WIDTH}.2f}"


def format_be_date(value: dt.date) -> str:
    return f"{ce_to_be_year(value.year):04d}{value.month:02d}{value.day:02d}"


def _field_bytes(f: Field, value: Any, record_no: int) -> bytes:
    def bad(rule: str, message: str) -> LayoutError:
        return LayoutError(record=record_no, field=f.name, rule=rule, message=message)

    if value is None or value == "":
        if f.required:
            raise bad("required", "is required")
        return b" " * f.length
    if f.kind == "N":
        text = str(value)
        if not (text.isascii() and text.isdigit()) or len(text) > f.length:
            raise bad("digits", f"{value!r} must be at most {f.length} digits")
        return text.zfill(f.length).encode("ascii")
    if f.kind == "M":
        try:
            return format_money(Decimal(value)).encode("ascii")
        except (InvalidOperation, ValueError) as exc:
            raise bad("money", str(exc)) from None
    if f.kind == "D":
        return format_be_date(value).encode("ascii")
    try:
        data = str(value).encode(ENCODING if f.kind == "X" else "ascii")
    except UnicodeEncodeError as exc:
        raise bad("encoding", f"{str(value)[exc.start:exc.end]!r} cannot be written in "
                              f"{ENCODING if f.kind == 'X' else 'ASCII'}") from None
    if len(data) > f.length:
        raise bad("length", f"is {len(data)} bytes in {ENCODING}; the field holds {f.length}")
    return data.ljust(f.length, b" ")


def render(record: Record, values: dict[str, Any], record_no: int = 0) -> bytes:
    """One record: type byte, fields, space filler to RECORD_LENGTH, CR LF."""
    body = record.type.encode("ascii") + b"".join(_field_bytes(f, values.get(f.name), record_no)
                                                  for f in record.fields)
    return body.ljust(RECORD_LENGTH, b" ") + NEWLINE


def _field_value(f: Field, raw: bytes, record_no: int) -> Any:
    def bad(rule: str, message: str) -> LayoutError:
        return LayoutError(record=record_no, field=f.name, rule=rule, message=message)

    if f.kind == "X":
        try:
            text = raw.decode(ENCODING).rstrip(" ")
        except UnicodeDecodeError as exc:
            raise bad("encoding", f"byte 0x{raw[exc.start]:02X} at field offset {exc.start} is not "
                                  f"valid {ENCODING}") from None
    else:
        try:
            text = raw.decode("ascii").rstrip(" ")
        except UnicodeDecodeError as exc:
            raise bad("encoding", f"byte 0x{raw[exc.start]:02X} in an ASCII field") from None
    if not text:
        if f.required:
            raise bad("required", "is blank")
        return None
    if f.kind == "N":
        if not text.isdigit() or len(text) != f.length:
            raise bad("digits", f"{text!r} must be {f.length} digits, zero-padded")
        return text
    if f.kind == "M":
        if len(text) != MONEY_WIDTH or text[-3] != "." or not (text[:-3] + text[-2:]).isdigit():
            raise bad("money", f"{text!r} must be {MONEY_WIDTH} bytes like 0000000012500.00")
        return Decimal(text)
    if f.kind == "D":
        try:
            if len(text) != 8 or not text.isdigit():
                raise ValueError("not 8 digits")
            return dt.date(be_to_ce_year(int(text[:4])), int(text[4:6]), int(text[6:8]))
        except ValueError as exc:
            raise bad("date", f"{text!r} is not a BE date YYYYMMDD: {exc}") from None
    return text


def parse(records: dict[str, Record], data: bytes) -> list[tuple[str, dict[str, Any]]]:
    """Split a file into (type, values) records; the first layout fault raises LayoutError."""
    if not data.endswith(NEWLINE):
        raise LayoutError(record=0, field="(file)", rule="newline", message="file must end with CR LF")
    out = []
    for number, line in enumerate(data[: -len(NEWLINE)].split(NEWLINE), start=1):
        if len(line) != RECORD_LENGTH:
            raise LayoutError(record=number, field="(record)", rule="length",
                              message=f"is {len(line)} bytes; every record is {RECORD_LENGTH}")
        kind = chr(line[0])
        record = records.get(kind)
        if record is None:
            raise LayoutError(record=number, field="record_type", rule="enum",
                              message=f"{kind!r} is not one of {sorted(records)}")
        values = {f.name: _field_value(f, line[start - 1:start - 1 + f.length], number)
                  for f, start in record.positions()}
        out.append((kind, values))
    return out


def layout_document() -> dict[str, Any]:
    """The machine-readable layout published as ``layout.json``."""

    def record_doc(r: Record) -> dict[str, Any]:
        return {"record_type": r.type, "fields": [
            {"name": "record_type", "start": 1, "length": 1, "kind": "A", "value": r.type, "required": True},
            *({"name": f.name, "start": start, "length": f.length, "kind": f.kind, "required": f.required,
               "description": f.description} for f, start in r.positions())]}

    return {
        "standard": "th.gfmis.batch",
        "version": LAYOUT_VERSION,
        "encoding": "windows-874 (cp874)",
        "record_length": RECORD_LENGTH,
        "record_separator": "CRLF",
        "field_kinds": {"N": "digits, right-aligned, zero-padded", "A": "ASCII, left-aligned, space-padded",
                        "X": "Thai text in cp874, left-aligned, space-padded",
                        "M": "money: 16 bytes 9999999999999.99, zero-padded, exact decimal",
                        "D": "date YYYYMMDD with a Buddhist Era year"},
        "batch_file": {"name": "GF_<agency_code>_<batch_id>_<message_id>.TXT", "order": "H, D (1..n), T",
                       "records": [record_doc(r) for r in (BATCH_HEADER, BATCH_DETAIL, BATCH_TRAILER)]},
        "result_file": {"name": "<input file name without .TXT>.RES", "order": "H, D (one per input line), T",
                        "records": [record_doc(r) for r in (RESULT_HEADER, RESULT_DETAIL, RESULT_TRAILER)]},
        "reason_codes": REASON_CODES,
        "file_level_reason_codes": list(FILE_LEVEL_CODES),
    }
