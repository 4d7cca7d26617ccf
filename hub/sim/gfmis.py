"""The reference GFMIS: watches a drop folder, validates batch files, writes result files.

It plays the finance system's side of ``th.gfmis.batch``: every ``*.TXT`` in ``outbound/``
is checked against the standard and answered with a result file of the same stem in
``results/``; the input then moves to ``archive/``.

Checks (reason codes in ``standards/th.gfmis.batch/1.0.0/file-layout.md``):
    whole file (every line rejected with the file's reason): layout and encoding (E101,
    E102), trailer count and total (E103, E104), agency code known (E105), file date inside
    the fiscal year (E106), batch id not sent before by the agency (E107);
    per line: fund source of the batch's fiscal year (E201) with a valid budget digit
    (E202) and allocated to the agency when allocations are configured (E203), payee ID
    valid for the vendor group (E204), known document type (E205), amount > 0 (E206).

Idempotent: every result issued is also kept in ``gfmis-state/``; an input file that comes
back (e.g. the simulator crashed after answering but before archiving) gets the same result
again rather than a duplicate-batch rejection.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from hub.adapters.gfmis.batch import FILE_SUFFIX, Batch, Detail, parse_batch, result_name_for
from hub.adapters.gfmis.dropfolder import LocalDropFolder
from hub.adapters.gfmis.layout import REASON_CODES, LayoutError
from hub.adapters.gfmis.results import ResultFile, ResultLine, render_result
from hub.thai import fiscal_year, is_valid_citizen_id, is_valid_juristic_id

log = logging.getLogger(__name__)

DOC_TYPES = {"K1", "G1"}
STATE_DIR = "gfmis-state"


@dataclass
class GfmisSimulator:
    root: Path
    # agency code -> fund sources allocated to it (None: any well-formed fund source)
    agencies: dict[str, set[str] | None] = field(default_factory=lambda: {"03008": None, "03004": None,
                                                                          "01009": None, "01008": None})
    today: dt.date | None = None

    def __post_init__(self) -> None:
        self.drop = LocalDropFolder(self.root)
        (self.drop.root / STATE_DIR).mkdir(exist_ok=True)

    def process_once(self) -> list[ResultFile]:
        """Answer every waiting batch file; one bad file never stops the others."""
        answered = []
        for name in self.drop.list("outbound", FILE_SUFFIX):
            try:
                answered.append(self.process_file(name))
            except OSError as exc:
                log.error("reference GFMIS: cannot process %s: %s", name, exc)
        return answered

    def process_file(self, name: str) -> ResultFile:
        result_name = result_name_for(name)
        kept = self.drop.root / STATE_DIR / result_name
        if kept.is_file():  # answered before: answer the same again
            data = kept.read_bytes()
            from hub.adapters.gfmis.results import parse_result

            result = parse_result(result_name, data)
        else:
            result = self.judge(name, self.drop.read("outbound", name))
            data = render_result(result)
            from hub.adapters.gfmis.dropfolder import write_atomic

            write_atomic(self.drop.root / STATE_DIR, result_name, data)
        self.drop.write_atomic("results", result_name, data)
        self.drop.move("outbound", name, "archive")
        log.info("reference GFMIS: %s -> %s (%s, %d accepted, %d rejected)", name, result_name,
                 result.file_status, len(result.accepted), len(result.rejected))
        return result

    def judge(self, name: str, data: bytes) -> ResultFile:
        today = self.today or dt.date.today()
        try:
            batch = parse_batch(data)
        except LayoutError as exc:
            code = "E102" if exc.rule == "encoding" else "E101"
            return self._whole_file(name, today, None, code, str(exc), lines=[])
        h = batch.header
        file_problem = self._file_problem(name, batch)
        if file_problem:
            code, text = file_problem
            return self._whole_file(name, today, batch, code, text, lines=[d.line_no for d in batch.details])
        lines, accepted_total = [], Decimal("0.00")
        for d in batch.details:
            problem = self._line_problem(batch, d)
            if problem:
                lines.append(ResultLine(d.line_no, "R", problem[0], problem[1][:100]))
            else:
                lines.append(ResultLine(d.line_no, "A", gfmis_doc_no=_doc_no(h.agency_code, h.batch_id, d)))
                accepted_total += d.amount
        return ResultFile(name=result_name_for(name), agency_code=h.agency_code, batch_id=h.batch_id,
                          source_file=name, processed_date=today, file_status="A", reason_code=None,
                          reason_text=None, lines=lines, accepted_total=accepted_total)

    def _whole_file(self, name: str, today: dt.date, batch: Batch | None, code: str, text: str,
                    lines: list[int]) -> ResultFile:
        reason = f"{REASON_CODES[code]}: {text}"
        log.warning("reference GFMIS: rejecting %s whole: %s %s", name, code, reason)
        return ResultFile(
            name=result_name_for(name), agency_code=batch.header.agency_code if batch else "00000",
            batch_id=batch.header.batch_id if batch else "UNREADABLE", source_file=name, processed_date=today,
            file_status="R", reason_code=code, reason_text=_fit(reason),
            lines=[ResultLine(n, "R", code, _fit(REASON_CODES[code])) for n in lines],
        )

    def _file_problem(self, name: str, batch: Batch) -> tuple[str, str] | None:
        h, t = batch.header, batch.trailer
        if t.record_count != len(batch.details):
            return "E103", f"record_count {t.record_count}, file has {len(batch.details)}"
        if t.amount_total != batch.amount_sum():
            return "E104", f"amount_total {t.amount_total:.2f}, details sum to {batch.amount_sum():.2f}"
        if h.agency_code not in self.agencies:
            return "E105", f"agency {h.agency_code}"
        if fiscal_year(h.file_date) != h.fiscal_year:
            return "E106", f"file_date in FY {fiscal_year(h.file_date)}, header says {h.fiscal_year}"
        for other in self.drop.list("archive", FILE_SUFFIX):
            parts = other.rsplit(".", 1)[0].split("_")
            if len(parts) == 4 and parts[1:3] == [h.agency_code, h.batch_id] and other != name:
                return "E107", f"batch {h.batch_id} already received in {other}"
        return None

    def _line_problem(self, batch: Batch, d: Detail) -> tuple[str, str] | None:
        fy = batch.header.fiscal_year
        if d.doc_type not in DOC_TYPES:
            return "E205", f"document type {d.doc_type} (known: {', '.join(sorted(DOC_TYPES))})"
        if d.amount <= 0:
            return "E206", f"amount {d.amount:.2f}"
        if d.fund_source[:2] != f"{fy % 100:02d}":
            return "E201", f"fund source {d.fund_source} is FY ..{d.fund_source[:2]}, batch FY {fy}"
        if d.fund_source[2] not in "12":
            return "E202", f"fund source {d.fund_source} budget digit {d.fund_source[2]}"
        allocated = self.agencies.get(batch.header.agency_code)
        if allocated is not None and d.fund_source not in allocated:
            return "E203", f"fund source {d.fund_source} not allocated to agency {batch.header.agency_code}"
        payee = d.vendor_tax_id
        if d.doc_type == "K1" and not payee:
            return "E204", "a K1 disbursement needs the payee's tax ID"
        if payee and d.vendor_group == "1000" and not is_valid_juristic_id(payee):
            return "E204", f"vendor group 1000 needs a valid juristic ID, got {payee}"
        if payee and d.vendor_group == "2000" and not is_valid_citizen_id(payee):
            return "E204", f"vendor group 2000 needs a valid citizen ID, got {payee}"
        return None

    def run(self, stop: threading.Event, interval: float = 1.0) -> None:
        while not stop.is_set():
            self.process_once()
            stop.wait(interval)


def _doc_no(agency: str, batch_id: str, d: Detail) -> str:
    digest = int(hashlib.sha256(f"{agency}|{batch_id}|{d.line_no}".encode()).hexdigest(), 16)
    return f"{d.doc_type}{digest % 10**8:08d}"


def _fit(text: str, width: int = 100) -> str:
    """Cut reason text to the field's width in cp874 bytes (one byte per Thai character)."""
    return text.encode("cp874", errors="replace")[:width].decode("cp874", errors="ignore")
