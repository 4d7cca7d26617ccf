"""``TeleworkStore`` on the hub's database (SQLite by default, PostgreSQL in production)."""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.apps.telework.domain.errors import CaseNotFound
from hub.apps.telework.domain.model import AgencySetup, Alert, Case, Evidence
from hub.apps.telework.ports import TeleworkStore
from hub.apps.telework.tables import (
    telework_agencies, telework_alerts, telework_cases, telework_evidence, telework_reports,
)
from hub.clock import utcnow


class SqlStore(TeleworkStore):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _upsert(self, table: Any, key: str, values: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(update(table).where(table.c[key] == values[key]).values(**values)).rowcount
            if not done:
                conn.execute(insert(table).values(**values))

    def save_agency(self, setup: AgencySetup) -> None:
        self._upsert(telework_agencies, "agency", {"agency": setup.agency, "body": dataclasses.asdict(setup),
                                                   "updated_at": utcnow()})

    def get_agency(self, agency: str) -> AgencySetup:
        with self.engine.connect() as conn:
            body = conn.execute(select(telework_agencies.c.body).where(telework_agencies.c.agency == agency)).scalar()
        if body is None:
            raise CaseNotFound(f"agency {agency} has no telework policy registered")
        return AgencySetup(**body)

    def list_agencies(self) -> list[AgencySetup]:
        with self.engine.connect() as conn:
            return [AgencySetup(**b) for b in conn.execute(select(telework_agencies.c.body)).scalars()]

    def save_case(self, case: Case) -> None:
        self._upsert(telework_cases, "case_id", {
            "case_id": case.case_id, "agency": case.agency, "citizen_id": case.citizen_id, "status": case.status,
            "book_number": case.book_number, "body": dataclasses.asdict(case), "updated_at": utcnow()})

    def get_case(self, case_id: str) -> Case:
        with self.engine.connect() as conn:
            body = conn.execute(select(telework_cases.c.body).where(telework_cases.c.case_id == case_id)).scalar()
        if body is None:
            raise CaseNotFound(f"no telework case {case_id}")
        return Case(**body)

    def list_cases(self, agency: str | None = None) -> list[Case]:
        query = select(telework_cases.c.body).order_by(telework_cases.c.case_id)
        if agency:
            query = query.where(telework_cases.c.agency == agency)
        with self.engine.connect() as conn:
            return [Case(**b) for b in conn.execute(query).scalars()]

    def has_agencies(self) -> bool:
        """Whether any agency registered its telework policy here (a read; creates nothing)."""
        with self.engine.connect() as conn:
            return conn.execute(select(telework_agencies.c.agency).limit(1)).first() is not None

    def add_evidence(self, item: Evidence) -> None:
        with self.engine.begin() as conn:
            values = dataclasses.asdict(item)
            # Kept in UTC: not every backend keeps a time zone (SQLite drops it).
            at = dt.datetime.fromisoformat(item.recorded_at) if item.recorded_at else utcnow()
            values["recorded_at"] = at.astimezone(dt.timezone.utc)
            conn.execute(insert(telework_evidence).values(**values))

    def list_evidence(self, case_id: str) -> list[Evidence]:
        cols = [telework_evidence.c[f.name] for f in dataclasses.fields(Evidence)]
        with self.engine.connect() as conn:
            rows = conn.execute(select(*cols).where(telework_evidence.c.case_id == case_id)
                                .order_by(telework_evidence.c.work_date, telework_evidence.c.recorded_at)).mappings()
            return [Evidence(**{**r, "recorded_at": _bangkok(r["recorded_at"])}) for r in rows]

    def add_alert(self, alert: Alert) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(telework_alerts).values(**dataclasses.asdict(alert)))
        except IntegrityError:  # the unique (case, day) constraint: this day was alerted already
            return False
        return True

    def remove_alert(self, alert_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(telework_alerts).where(telework_alerts.c.alert_id == alert_id))

    def set_alert_delivery(self, alert_id: str, ref: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(telework_alerts).where(telework_alerts.c.alert_id == alert_id).values(delivery_ref=ref))

    def list_alerts(self, case_id: str | None = None) -> list[Alert]:
        query = select(*[telework_alerts.c[f.name] for f in dataclasses.fields(Alert)])
        if case_id:
            query = query.where(telework_alerts.c.case_id == case_id)
        with self.engine.connect() as conn:
            return [Alert(**r) for r in conn.execute(query.order_by(telework_alerts.c.work_date)).mappings()]

    def save_report(self, report_id: str, kind: str, agency: str, fiscal_year: int,
                    document: dict[str, Any], refs: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(telework_reports).values(report_id=report_id, kind=kind, agency=agency,
                                                         fiscal_year=fiscal_year, document=document, refs=refs,
                                                         created_at=utcnow()))

    def get_report(self, report_id: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
        with self.engine.connect() as conn:
            row = conn.execute(select(telework_reports).where(telework_reports.c.report_id == report_id)).mappings().first()
        if row is None:
            raise CaseNotFound(f"no telework report {report_id}")
        return row["kind"], row["document"], row["refs"]


def _bangkok(value: dt.datetime) -> str:
    if value.tzinfo is None:  # stored in UTC by add_evidence
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone(dt.timedelta(hours=7))).isoformat(timespec="seconds")
