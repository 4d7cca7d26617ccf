"""In-memory implementations of the ports (cosmicpython style: they subclass the real ports).

They keep what a real system would keep, so a test asserts on the artefact where it lands
(the letter in the e-Saraban register, the day in the HR table, the hash in the chain).
"""
from __future__ import annotations

import copy
import datetime as dt
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hub.apps.telework.domain.errors import CaseNotFound
from hub.apps.telework.domain.model import AgencySetup, Alert, Case, Evidence, Officer, OrgUnit
from hub.apps.telework.ports import (
    AuditCheck, AuditTrail, BatchResult, Correspondence, Events, Finance, HrDirectory, HrRecords, Letter,
    Notifications, SentLetter, Strategy, TeleworkStore,
)


class FakeHrDirectory(HrDirectory):
    """People and an org tree given as data: units map to their parent."""

    def __init__(self) -> None:
        self.people: dict[str, Officer] = {}
        self.member_of: dict[str, str] = {}  # citizen id -> org id
        self.units: dict[str, OrgUnit] = {}
        self.parent: dict[str, str | None] = {}
        self.acting: list[tuple[str, Officer, dt.date, dt.date]] = []  # (org id, officer, from, to)

    def add_unit(self, org_id: str, name: str, level: str, parent: str | None = None) -> None:
        self.units[org_id] = OrgUnit(org_id, name, level)
        self.parent[org_id] = parent

    def add_person(self, officer: Officer, org_id: str, *, head: bool = False) -> Officer:
        self.people[officer.citizen_id] = officer
        self.member_of[officer.citizen_id] = org_id
        if head:
            unit = self.units[org_id]
            self.units[org_id] = OrgUnit(unit.org_id, unit.name, unit.level, officer)
        return officer

    def set_acting(self, org_id: str, officer: Officer, start: dt.date, end: dt.date) -> None:
        """Record an acting head (ผู้รักษาราชการแทน) of ``org_id`` from ``start`` to ``end``."""
        self.acting.append((org_id, officer, start, end))

    def acting_heads(self, org_id: str, on: dt.date) -> list[Officer]:
        return [o for org, o, start, end in self.acting if org == org_id and start <= on <= end]

    def person(self, citizen_id: str) -> Officer:
        try:
            return self.people[citizen_id]
        except KeyError:
            raise CaseNotFound(f"HR has no person with citizen ID {citizen_id}") from None

    def org_chain(self, citizen_id: str) -> list[OrgUnit]:
        self.person(citizen_id)
        chain, org = [], self.member_of[citizen_id]
        while org is not None:
            chain.append(self.units[org])
            org = self.parent[org]
        return chain


@dataclass
class RegisteredLetter:
    book_number: str
    letter: Letter
    receipts: dict[str, str] = field(default_factory=dict)


class FakeCorrespondence(Correspondence):
    """Each agency's e-Saraban register: outgoing book numbers and incoming receipt numbers."""

    def __init__(self, book_prefixes: dict[str, str], today: dt.date | None = None) -> None:
        self.prefixes = book_prefixes  # agency -> e.g. "มท 0309"
        self.outgoing: dict[str, list[RegisteredLetter]] = {}
        self.incoming: dict[str, list[RegisteredLetter]] = {}
        self._running: dict[str, itertools.count] = {}
        self._today = today or dt.date.today()

    def send_letter(self, letter: Letter) -> SentLetter:
        prefix = self.prefixes[letter.sender_agency]
        number = next(self._running.setdefault(letter.sender_agency, itertools.count(1)))
        book = f"{prefix}/{number}"
        entry = RegisteredLetter(book, letter)
        self.outgoing.setdefault(letter.sender_agency, []).append(entry)
        for n, recipient in enumerate(letter.recipients, 1):
            entry.receipts[recipient] = f"R{len(self.incoming.get(recipient, [])) + 1}"
            self.incoming.setdefault(recipient, []).append(entry)
        return SentLetter(book, f"letter-{letter.sender_agency}-{number}", (letter.date or self._today).isoformat(),
                          dict(entry.receipts))


class FakeHrRecords(HrRecords):
    def __init__(self) -> None:
        self.days: dict[tuple[str, str], dict[str, Any]] = {}  # (citizen id, date) -> row
        self.sent: list[tuple[str, str, Any]] = []

    def write_attendance(self, agency: str, hr_agency: str, time_evidence: dict[str, Any]) -> str:
        row = self.days.setdefault((time_evidence["person_citizen_id"], time_evidence["work_date"]),
                                   {"order": time_evidence["order_ref"], "source": time_evidence["source_system"]})
        row["check_in"] = time_evidence["check_in"]["at"]
        row["check_out"] = (time_evidence.get("check_out") or {}).get("at")
        self.sent.append((hr_agency, "attendance", time_evidence["evidence_id"]))
        return f"hr-attendance-{len(self.sent)}"


class FakeFinance(Finance):
    """Accepts a batch whose amounts are exact decimals, as the reference GFMIS checks them."""

    def __init__(self) -> None:
        self.batches: dict[str, tuple[str, dict[str, Any], BatchResult]] = {}

    def send_savings_batch(self, agency: str, savings: dict[str, Any]) -> str:
        ref = f"batch-{len(self.batches) + 1}"
        amounts = [savings["utilities"]["electricity"], savings["utilities"]["water"], savings["travel"]["cost"],
                   savings["office_space"]["cost"]]
        total = sum(Decimal(a) for a in amounts)
        self.batches[ref] = (agency, savings, BatchResult("accepted", {"lines": len(amounts), "total": str(total)}))
        return ref

    def batch_result(self, batch_ref: str) -> BatchResult:
        return self.batches[batch_ref][2]


class FakeEvents(Events):
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []

    def order_issued(self, agency: str, event: dict[str, Any]) -> str | None:
        self.published.append((agency, event))
        return f"event-{len(self.published)}"


class FakeStrategy(Strategy):
    def __init__(self) -> None:
        self.reports: list[tuple[str, dict[str, Any]]] = []

    def publish_kpis(self, agency: str, report: dict[str, Any]) -> str:
        self.reports.append((agency, report))
        return f"kpi-{len(self.reports)}"


class FakeNotifications(Notifications):
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str, dict[str, Any]]] = []

    def notify(self, agency: str, recipient_citizen_id: str, subject: str, body: dict[str, Any]) -> str:
        self.sent.append((agency, recipient_citizen_id, subject, body))
        return f"note-{len(self.sent)}"


class FakeAuditTrail(AuditTrail):
    """A SHA-256 hash chain in memory, checked the way the hub's audit log is."""

    GENESIS = "0" * 64

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    @staticmethod
    def _hash(prev: str, entry: dict[str, Any]) -> str:
        body = {k: v for k, v in entry.items() if k not in ("entry_hash",)}
        return hashlib.sha256((prev + json.dumps(body, sort_keys=True, ensure_ascii=False)).encode()).hexdigest()

    def append(self, kind: str, *, actor: str, target: str, sha256: str, detail: dict[str, Any]) -> str:
        prev = self.entries[-1]["entry_hash"] if self.entries else self.GENESIS
        entry = {"seq": len(self.entries) + 1, "kind": kind, "actor": actor, "target": target, "sha256": sha256,
                 "detail": detail, "prev_hash": prev}
        entry["entry_hash"] = self._hash(prev, entry)
        self.entries.append(entry)
        return f"audit:{entry['seq']}"

    def verify(self) -> AuditCheck:
        prev = self.GENESIS
        for entry in self.entries:
            if entry["prev_hash"] != prev or self._hash(prev, entry) != entry["entry_hash"]:
                return AuditCheck(False, len(self.entries), f"audit:{entry['seq']}", "hash chain broken")
            prev = entry["entry_hash"]
        return AuditCheck(True, len(self.entries))

    def find(self, sha256: str) -> str | None:
        for entry in self.entries:
            if entry["sha256"] == sha256:
                return f"audit:{entry['seq']}"
        return None


class InMemoryStore(TeleworkStore):
    """Copies in and out, so a caller mutating a case does not change the stored one."""

    def __init__(self) -> None:
        self.agencies: dict[str, AgencySetup] = {}
        self.cases: dict[str, Case] = {}
        self.evidence: dict[str, list[Evidence]] = {}
        self.alerts: list[Alert] = []
        self.reports: dict[str, tuple[str, str, int, dict[str, Any], dict[str, Any]]] = {}

    def save_agency(self, setup: AgencySetup) -> None:
        self.agencies[setup.agency] = copy.deepcopy(setup)

    def get_agency(self, agency: str) -> AgencySetup:
        if agency not in self.agencies:
            raise CaseNotFound(f"agency {agency} has no telework policy registered")
        return copy.deepcopy(self.agencies[agency])

    def save_case(self, case: Case) -> None:
        self.cases[case.case_id] = copy.deepcopy(case)

    def get_case(self, case_id: str) -> Case:
        if case_id not in self.cases:
            raise CaseNotFound(f"no telework case {case_id}")
        return copy.deepcopy(self.cases[case_id])

    def list_cases(self, agency: str | None = None) -> list[Case]:
        return [copy.deepcopy(c) for c in self.cases.values() if agency in (None, c.agency)]

    def add_evidence(self, item: Evidence) -> None:
        self.evidence.setdefault(item.case_id, []).append(copy.deepcopy(item))

    def list_evidence(self, case_id: str) -> list[Evidence]:
        return [copy.deepcopy(e) for e in self.evidence.get(case_id, [])]

    def add_alert(self, alert: Alert) -> bool:
        if any(a.case_id == alert.case_id and a.work_date == alert.work_date for a in self.alerts):
            return False
        self.alerts.append(copy.deepcopy(alert))
        return True

    def remove_alert(self, alert_id: str) -> None:
        self.alerts = [a for a in self.alerts if a.alert_id != alert_id]

    def set_alert_delivery(self, alert_id: str, ref: str) -> None:
        for a in self.alerts:
            if a.alert_id == alert_id:
                a.delivery_ref = ref

    def list_alerts(self, case_id: str | None = None) -> list[Alert]:
        return [copy.deepcopy(a) for a in self.alerts if case_id in (None, a.case_id)]

    def save_report(self, report_id: str, kind: str, agency: str, fiscal_year: int,
                    document: dict[str, Any], refs: dict[str, Any]) -> None:
        self.reports[report_id] = (kind, agency, fiscal_year, copy.deepcopy(document), dict(refs))

    def get_report(self, report_id: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
        if report_id not in self.reports:
            raise CaseNotFound(f"no telework report {report_id}")
        kind, _, _, doc, refs = self.reports[report_id]
        return kind, copy.deepcopy(doc), dict(refs)
