"""GSMS (Government Strategic Management System) intake: ``th.gsms.kpi`` reports written into
the GSMS database, one record per report with the GFMIS verdict it relates to (seed 000:
GSMS reports KPI results together with the financial results from GFMIS).

A report is sent when it is made (verdict ``pending``) and again once GFMIS has answered; the
record keeps the latest verdict, and a final verdict is never overwritten by ``pending`` (a
delayed first message arriving late changes nothing). Every message is applied once.

Connection string (route settings): {"url": "sqlite:///gsms.sqlite3"}
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, insert, select, update

from hub.adapters.base import OutboundMessage, Receipt
from hub.adapters.sql_intake import SqlIntakeAdapter
from hub.clock import utcnow
from hub.errors import DeliveryError

gsms_metadata = MetaData()
GSMS_REPORTS = Table(
    "GSMS_KPI_REPORT", gsms_metadata,
    Column("REPORT_REF", String(64), primary_key=True),
    Column("AGENCY", String(200), nullable=False),
    Column("AGENCY_CODE", String(10)),
    Column("FISCAL_YEAR", Integer, nullable=False),
    Column("GFMIS_BATCH_REF", String(64), nullable=False),
    Column("GFMIS_VERDICT", String(20), nullable=False),
    Column("DOCUMENT", Text, nullable=False),  # the th.gsms.kpi document as last received
    Column("RECEIVED_AT", String(32), nullable=False),
    Column("UPDATED_AT", String(32), nullable=False),
)
GSMS_INTAKE = Table(
    "GSMS_INTAKE", gsms_metadata,
    Column("MESSAGE_ID", String(64), primary_key=True),
    Column("REPORT_REF", String(64), nullable=False),
    Column("VERDICT", String(20), nullable=False),
    Column("RECEIVED_AT", String(32), nullable=False),
)
PENDING = "pending"


class GsmsAdapter(SqlIntakeAdapter):
    scheme = "gsms"
    summary = "GSMS strategy system: th.gsms.kpi reports kept with the GFMIS verdict they relate to (SQL)."
    metadata = gsms_metadata
    counted = GSMS_REPORTS
    system = "GSMS"

    def send(self, message: OutboundMessage) -> Receipt:
        report = self.payload(message)
        try:
            ref, verdict = report["report_ref"], report["gfmis"]["verdict"]
            agency, year, batch = report["agency"], int(report["fiscal_year"]), report["gfmis"]["batch_ref"]
        except (KeyError, TypeError, ValueError) as exc:
            raise DeliveryError(f"payload is not a th.gsms.kpi document: missing {exc}", permanent=True) from exc
        document = json.dumps(report, ensure_ascii=False, sort_keys=True)
        now = utcnow().isoformat(timespec="seconds")

        def apply(conn) -> str:  # noqa: ANN001
            if conn.execute(select(GSMS_INTAKE.c.MESSAGE_ID).where(GSMS_INTAKE.c.MESSAGE_ID == message.id)).first():
                return "duplicate"
            conn.execute(insert(GSMS_INTAKE).values(MESSAGE_ID=message.id, REPORT_REF=ref, VERDICT=verdict,
                                                    RECEIVED_AT=now))
            known = conn.execute(select(GSMS_REPORTS.c.GFMIS_VERDICT).where(GSMS_REPORTS.c.REPORT_REF == ref)).first()
            values: dict[str, Any] = {"AGENCY": agency, "AGENCY_CODE": report.get("agency_code"), "FISCAL_YEAR": year,
                                      "GFMIS_BATCH_REF": batch, "GFMIS_VERDICT": verdict, "DOCUMENT": document,
                                      "UPDATED_AT": now}
            if known is None:
                conn.execute(insert(GSMS_REPORTS).values(REPORT_REF=ref, RECEIVED_AT=now, **values))
                return "recorded"
            if verdict == PENDING and known[0] != PENDING:
                return "kept"  # a late pending report never hides the verdict GFMIS gave
            conn.execute(update(GSMS_REPORTS).where(GSMS_REPORTS.c.REPORT_REF == ref).values(**values))
            return "updated"

        outcome = self.write(apply)
        return Receipt(f"GSMS {outcome} KPI report {ref} (GFMIS {verdict})",
                       {"report_ref": ref, "verdict": verdict, "duplicate": outcome == "duplicate"})
