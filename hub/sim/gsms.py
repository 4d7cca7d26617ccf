"""The reference GSMS (Government Strategic Management System, OPDC): a database of KPI
reports, each kept with the GFMIS verdict on the financial figures it explains (seed 000).

``create_schema`` makes its tables (the ``gsms`` adapter writes into them through the hub);
``reports`` reads them back as GSMS shows them.
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from hub.adapters.gsms import GSMS_INTAKE, GSMS_REPORTS, gsms_metadata
from hub.db import make_engine


def create_schema(url: str) -> None:
    engine = make_engine(url)
    try:
        gsms_metadata.create_all(engine)
    finally:
        engine.dispose()


def reports(url: str, agency: str | None = None) -> list[dict[str, Any]]:
    """Every KPI report with its GFMIS verdict and how many hub messages it took."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            query = select(GSMS_REPORTS).order_by(GSMS_REPORTS.c.RECEIVED_AT, GSMS_REPORTS.c.REPORT_REF)
            if agency:
                query = query.where(GSMS_REPORTS.c.AGENCY == agency)
            rows = conn.execute(query).mappings().all()
            intake = conn.execute(select(GSMS_INTAKE.c.REPORT_REF, GSMS_INTAKE.c.MESSAGE_ID)).all()
    finally:
        engine.dispose()
    return [{"report_ref": r["REPORT_REF"], "agency": r["AGENCY"], "agency_code": r["AGENCY_CODE"],
             "fiscal_year": r["FISCAL_YEAR"], "gfmis_batch_ref": r["GFMIS_BATCH_REF"],
             "gfmis_verdict": r["GFMIS_VERDICT"], "document": json.loads(r["DOCUMENT"]),
             "messages": sorted(m for ref, m in intake if ref == r["REPORT_REF"])} for r in rows]
