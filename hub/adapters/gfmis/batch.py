"""``th.gfmis.batch`` documents: the JSON form (schema.json) and the fixed-width file form.

:class:`Batch` is the JSON document as a model with exact ``Decimal`` amounts;
:func:`render_batch` / :func:`parse_batch` turn it into and out of the file of
:mod:`hub.adapters.gfmis.layout`. :meth:`Batch.control_problems` checks what the schema
cannot: the trailer's count and total and consecutive line numbers.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from hub.adapters.gfmis import layout
from hub.errors import FieldError
from hub.thai import Calendar, FiscalYearBE, ThaiValueError, format_date, parse_date

_MONEY = re.compile(r"^[0-9]{1,13}\.[0-9]{2}$")
FILE_SUFFIX = ".TXT"
RESULT_SUFFIX = ".RES"
FILE_PREFIX = "GF"


def _money(value: Any) -> Any:
    # The standard carries money as strings with exactly two decimals; a JSON number would
    # already have gone through a float, so it is refused rather than rounded.
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str) or not _MONEY.match(value):
        raise ValueError(f"amount must be a string like '12500.00' (exactly 2 decimals), got {value!r}")
    return Decimal(value)


def _be_date(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"file_date must be 'YYYY-MM-DD' with a BE year, got {value!r}")
    year = value[:4]
    if not (year.isdigit() and int(year) > 2400):
        raise ValueError(f"file_date {value!r} must have a BE year (e.g. 2568-01-31)")
    try:
        return parse_date(value, Calendar.BE)
    except ThaiValueError as exc:
        raise ValueError(str(exc)) from None


Money = Annotated[Decimal, BeforeValidator(_money), PlainSerializer(lambda v: f"{v:.2f}", return_type=str)]
BEDate = Annotated[dt.date, BeforeValidator(_be_date),
                   PlainSerializer(lambda d: format_date(d, Calendar.BE), return_type=str)]


class Header(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency_code: str = Field(pattern=r"^[0-9]{5}$")
    fiscal_year: FiscalYearBE
    file_date: BEDate
    batch_id: str = Field(pattern=r"^[A-Z0-9-]{1,32}$")


class Detail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line_no: int = Field(ge=1, le=999999)
    doc_type: str = Field(pattern=r"^[A-Z0-9]{2}$")  # the schema's enum (K1, G1) is GFMIS's rule: E205
    fund_source: str = Field(pattern=r"^[0-9]{7}$")
    amount: Money
    vendor_group: Literal["1000", "2000", "5000"]
    vendor_tax_id: str | None = Field(None, pattern=r"^[0-9]{13}$")
    description: str = Field(min_length=1, max_length=100)


class Trailer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record_count: int = Field(ge=0, le=999999)
    amount_total: Money


class Batch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    header: Header
    details: list[Detail] = Field(min_length=1)
    trailer: Trailer

    def amount_sum(self) -> Decimal:
        return sum((d.amount for d in self.details), Decimal("0.00"))

    def control_problems(self) -> list[FieldError]:
        problems = []
        if self.trailer.record_count != len(self.details):
            problems.append(FieldError("/trailer/record_count", "control_count",
                                       f"is {self.trailer.record_count}; there are {len(self.details)} details"))
        if self.trailer.amount_total != self.amount_sum():
            problems.append(FieldError("/trailer/amount_total", "control_total",
                                       f"is {self.trailer.amount_total:.2f}; the details sum to {self.amount_sum():.2f}"))
        for expected, detail in enumerate(self.details, start=1):
            if detail.line_no != expected:
                problems.append(FieldError(f"/details/{expected - 1}/line_no", "consecutive",
                                           f"is {detail.line_no}; expected {expected}"))
                break
        return problems

    def file_name(self, message_id: str) -> str:
        return f"{FILE_PREFIX}_{self.header.agency_code}_{self.header.batch_id}_{message_id}{FILE_SUFFIX}"


def message_id_of(file_name: str) -> str | None:
    """The hub message id a batch (or result) file name carries, or None for a foreign file."""
    stem = file_name.rsplit(".", 1)[0]
    parts = stem.split("_")
    if len(parts) != 4 or parts[0] != FILE_PREFIX:
        return None
    try:
        return str(uuid.UUID(parts[3]))
    except ValueError:
        return None


def result_name_for(file_name: str) -> str:
    return file_name.rsplit(".", 1)[0] + RESULT_SUFFIX


def render_batch(batch: Batch) -> bytes:
    """The batch file: H, one D per detail, T. Raises LayoutError if a value does not fit."""
    h = batch.header
    out = [layout.render(layout.BATCH_HEADER, {
        "agency_code": h.agency_code, "fiscal_year": str(h.fiscal_year), "file_date": h.file_date,
        "batch_id": h.batch_id, "layout_version": layout.LAYOUT_VERSION}, 1)]
    for number, d in enumerate(batch.details, start=2):
        out.append(layout.render(layout.BATCH_DETAIL, {
            "line_no": str(d.line_no), "doc_type": d.doc_type, "fund_source": d.fund_source, "amount": d.amount,
            "vendor_group": d.vendor_group, "vendor_tax_id": d.vendor_tax_id, "description": d.description}, number))
    out.append(layout.render(layout.BATCH_TRAILER, {
        "record_count": str(batch.trailer.record_count), "amount_total": batch.trailer.amount_total},
        len(batch.details) + 2))
    return b"".join(out)


def parse_batch(data: bytes) -> Batch:
    """The file back as a Batch. Raises LayoutError (layout, order, encoding, values)."""
    records = layout.parse(layout.BATCH_RECORDS, data)
    kinds = "".join(kind for kind, _ in records)
    if not re.fullmatch(r"HD*T", kinds):
        raise layout.LayoutError(record=0, field="record_type", rule="order",
                                 message=f"records must be H, D..., T; found {kinds[:20]!r}")
    header, trailer = records[0][1], records[-1][1]
    try:
        return Batch.model_validate({
            "header": {"agency_code": header["agency_code"], "fiscal_year": int(header["fiscal_year"]),
                       "file_date": header["file_date"], "batch_id": header["batch_id"]},
            "details": [{"line_no": int(v["line_no"]), "doc_type": v["doc_type"], "fund_source": v["fund_source"],
                         "amount": v["amount"], "vendor_group": v["vendor_group"],
                         "vendor_tax_id": v["vendor_tax_id"], "description": v["description"]}
                        for _, v in records[1:-1]],
            "trailer": {"record_count": int(trailer["record_count"]), "amount_total": trailer["amount_total"]},
        })
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise layout.LayoutError(record=0, field="(values)", rule="value", message=str(exc).splitlines()[0]
                                 + ": " + " ".join(str(exc).splitlines()[1:3])) from None
