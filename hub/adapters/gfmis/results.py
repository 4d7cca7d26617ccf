"""Result files: GFMIS's per-line answer to one batch file.

A result file answers exactly one input file (``source_file``). Its header says whether
the whole file was rejected (``R`` with a file-level reason) and each D record whether
that line was accepted (with the GFMIS document number) or rejected (with a reason code).
:func:`parse_result` checks the result's own control totals before anything trusts it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hub.adapters.gfmis import layout


class ResultFileError(ValueError):
    """A result file that cannot be trusted; names the file, rule and what was expected."""

    def __init__(self, name: str, rule: str, message: str) -> None:
        super().__init__(f"result file {name}: {message} (rule {rule})")
        self.name = name
        self.rule = rule
        self.detail = message

    def as_dict(self) -> dict[str, str]:
        return {"file": self.name, "rule": self.rule, "message": self.detail}


@dataclass(frozen=True)
class ResultLine:
    line_no: int
    status: str  # A or R
    reason_code: str | None = None
    reason_text: str | None = None
    gfmis_doc_no: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status == "A"

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"line_no": self.line_no, "status": "accepted" if self.accepted else "rejected"}
        if self.accepted:
            data["gfmis_doc_no"] = self.gfmis_doc_no
        else:
            data.update(reason_code=self.reason_code, reason=self.reason_text)
        return data


@dataclass(frozen=True)
class ResultFile:
    name: str
    agency_code: str
    batch_id: str
    source_file: str
    processed_date: dt.date
    file_status: str  # A or R
    reason_code: str | None
    reason_text: str | None
    lines: list[ResultLine] = field(default_factory=list)
    accepted_total: Decimal = Decimal("0.00")
    sha256: str = ""

    @property
    def accepted(self) -> list[ResultLine]:
        return [line for line in self.lines if line.accepted]

    @property
    def rejected(self) -> list[ResultLine]:
        return [line for line in self.lines if not line.accepted]

    def summary(self) -> str:
        """One line for a message's ``last_error``: the file reason, or each rejected line."""
        if self.file_status == "R":
            return f"file rejected: {self.reason_code} {self.reason_text or ''}".strip()
        return "; ".join(f"line {r.line_no}: {r.reason_code} {r.reason_text or ''}".strip() for r in self.rejected)


def render_result(result: ResultFile) -> bytes:
    out = [layout.render(layout.RESULT_HEADER, {
        "agency_code": result.agency_code, "batch_id": result.batch_id, "source_file": result.source_file,
        "processed_date": result.processed_date, "file_status": result.file_status,
        "reason_code": result.reason_code, "reason_text": result.reason_text}, 1)]
    for number, line in enumerate(result.lines, start=2):
        out.append(layout.render(layout.RESULT_DETAIL, {
            "line_no": str(line.line_no), "line_status": line.status, "reason_code": line.reason_code,
            "reason_text": line.reason_text, "gfmis_doc_no": line.gfmis_doc_no}, number))
    out.append(layout.render(layout.RESULT_TRAILER, {
        "record_count": str(len(result.lines)), "accepted_count": str(len(result.accepted)),
        "rejected_count": str(len(result.rejected)), "accepted_total": result.accepted_total},
        len(result.lines) + 2))
    return b"".join(out)


def parse_result(name: str, data: bytes) -> ResultFile:
    """Parse and verify one result file; raises :class:`ResultFileError`."""
    try:
        records = layout.parse(layout.RESULT_RECORDS, data)
    except layout.LayoutError as exc:
        raise ResultFileError(name, f"layout.{exc.rule}", str(exc)) from None
    kinds = "".join(kind for kind, _ in records)
    if not (kinds.startswith("H") and kinds.endswith("T") and set(kinds[1:-1]) <= {"D"} and len(kinds) >= 2):
        raise ResultFileError(name, "order", f"records must be H, D..., T; found {kinds[:20]!r}")
    header, trailer = records[0][1], records[-1][1]
    lines = []
    for _, v in records[1:-1]:
        if v["line_status"] not in ("A", "R"):
            raise ResultFileError(name, "line_status", f"line {v['line_no']}: status {v['line_status']!r} "
                                                       "is not A or R")
        if v["line_status"] == "R" and not v["reason_code"]:
            raise ResultFileError(name, "reason_required", f"line {v['line_no']} is rejected without a reason code")
        lines.append(ResultLine(int(v["line_no"]), v["line_status"], v["reason_code"], v["reason_text"],
                                v["gfmis_doc_no"]))
    if header["file_status"] not in ("A", "R"):
        raise ResultFileError(name, "file_status", f"header file_status {header['file_status']!r} is not A or R")
    counts = {"record_count": len(lines), "accepted_count": sum(1 for x in lines if x.accepted),
              "rejected_count": sum(1 for x in lines if not x.accepted)}
    for key, actual in counts.items():
        if int(trailer[key]) != actual:
            raise ResultFileError(name, f"control_{key}",
                                  f"trailer {key} is {int(trailer[key])}; the file has {actual}")
    return ResultFile(
        name=name, agency_code=header["agency_code"], batch_id=header["batch_id"],
        source_file=header["source_file"], processed_date=header["processed_date"],
        file_status=header["file_status"], reason_code=header["reason_code"], reason_text=header["reason_text"],
        lines=lines, accepted_total=trailer["accepted_total"], sha256=hashlib.sha256(data).hexdigest(),
    )
