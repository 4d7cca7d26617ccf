"""What the telework application needs from other systems, as abstract ports.

Production implementations go through the hub (``hub_ports.py``); tests and not-yet-connected
systems use the in-memory fakes in ``fakes.py``, which subclass these same ports.
"""
from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from hub.apps.telework.domain.model import AgencySetup, Alert, Case, Evidence, Officer, OrgUnit


class HrDirectory(ABC):
    """The HR system of record (DPIS-style): people, positions, the org tree."""

    @abstractmethod
    def person(self, citizen_id: str) -> Officer:
        """The person with their position and duties; ``CaseNotFound`` when HR has no such person."""

    @abstractmethod
    def org_chain(self, citizen_id: str) -> list[OrgUnit]:
        """The person's unit first, then each parent up to the ministry, each with its head."""

    def for_agency(self, agency: str) -> HrDirectory:
        """The directory that keeps ``agency``'s staff (its HR agency's DPIS); one directory
        for every agency by default."""
        return self

    def acting_heads(self, org_id: str, on: dt.date) -> list[Officer]:
        """Who HR records as acting head (ผู้รักษาราชการแทน) of the unit on that day; none by
        default (an HR system that keeps no acting assignments)."""
        return []


@dataclass(frozen=True)
class Letter:
    """An official letter (หนังสือราชการ) to be sent from an agency's e-Saraban."""

    sender_agency: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    signer: Officer
    standard: str  # the th.telework.* standard of the attached document
    document: dict[str, Any]  # without book_number: the sender's e-Saraban assigns it (DOMAIN.md §4)
    secret_code: str = "001"
    speed_code: str = "001"
    reference: str | None = None  # book number this letter refers to
    date: dt.date | None = None  # the letter's date: the date of the order or revocation it carries


@dataclass(frozen=True)
class SentLetter:
    book_number: str
    letter_id: str
    sent_on: str
    deliveries: dict[str, str] = field(default_factory=dict)  # recipient -> e-CMS ProcessID / receipt


class Correspondence(ABC):
    @abstractmethod
    def send_letter(self, letter: Letter) -> SentLetter:
        """Register the letter in the sender's e-Saraban (book number) and send it to each recipient."""


class HrRecords(ABC):
    """Writes into the HR system of record.

    Only evidence reaches HR's attendance: a check-in / check-out the person actually gave,
    with its source (Leave Regulation B.E. 2555 cl. 11, seed 001 §7.2). An order or a
    progress report is never written as attendance."""

    @abstractmethod
    def write_attendance(self, agency: str, hr_agency: str, time_evidence: dict[str, Any]) -> str:
        """Record one day's check-in / check-out (a ``th.telework.time-evidence``) given to
        ``agency``'s telework as attendance in ``hr_agency``'s HR system."""


@dataclass(frozen=True)
class BatchResult:
    status: str  # pending | accepted | rejected
    detail: dict[str, Any] = field(default_factory=dict)


class Finance(ABC):
    @abstractmethod
    def send_savings_batch(self, agency: str, savings: dict[str, Any]) -> str:
        """Send the savings report as a GFMIS-style batch; returns the batch reference."""

    @abstractmethod
    def batch_result(self, batch_ref: str) -> BatchResult:
        """What finance answered for the batch (pending until its result file is read)."""


class Strategy(ABC):
    @abstractmethod
    def publish_kpis(self, agency: str, report: dict[str, Any]) -> str:
        """KPI results next to the financial figures, to the strategy side (GSMS)."""


class Notifications(ABC):
    @abstractmethod
    def notify(self, agency: str, recipient_citizen_id: str, subject: str, body: dict[str, Any]) -> str:
        """Tell an official something (a supervisor alert, a report to the head)."""


class Events(ABC):
    @abstractmethod
    def order_issued(self, agency: str, event: dict[str, Any]) -> str | None:
        """Tell the subscribers of ``telework.order.issued/v1`` (Tell Us Once); the event's
        reference, or None when nobody can be told (no one uses events on this hub)."""


@dataclass(frozen=True)
class AuditCheck:
    ok: bool
    entries: int
    first_bad: str | None = None
    detail: str = ""


class AuditTrail(ABC):
    @abstractmethod
    def append(self, kind: str, *, actor: str, target: str, sha256: str, detail: dict[str, Any]) -> str:
        """Append a hash of one item; returns the entry's reference."""

    @abstractmethod
    def verify(self) -> AuditCheck:
        """Check the whole chain; name the first entry that was changed."""

    @abstractmethod
    def find(self, sha256: str) -> str | None:
        """The reference of the entry holding this hash, if any."""


class TeleworkStore(ABC):
    """The application's own state."""

    @abstractmethod
    def save_agency(self, setup: AgencySetup) -> None: ...

    @abstractmethod
    def get_agency(self, agency: str) -> AgencySetup: ...

    @abstractmethod
    def save_case(self, case: Case) -> None: ...

    @abstractmethod
    def get_case(self, case_id: str) -> Case: ...

    @abstractmethod
    def list_cases(self, agency: str | None = None) -> list[Case]: ...

    @abstractmethod
    def add_evidence(self, item: Evidence) -> None: ...

    @abstractmethod
    def list_evidence(self, case_id: str) -> list[Evidence]: ...

    @abstractmethod
    def add_alert(self, alert: Alert) -> bool:
        """Store an alert; False if one for the same case and day exists (alert once per day)."""

    @abstractmethod
    def remove_alert(self, alert_id: str) -> None:
        """Forget an alert that could not be sent (so the next run raises it again)."""

    @abstractmethod
    def set_alert_delivery(self, alert_id: str, ref: str) -> None: ...

    @abstractmethod
    def list_alerts(self, case_id: str | None = None) -> list[Alert]: ...

    @abstractmethod
    def save_report(self, report_id: str, kind: str, agency: str, fiscal_year: int,
                    document: dict[str, Any], refs: dict[str, Any]) -> None: ...

    @abstractmethod
    def get_report(self, report_id: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """(kind, document, refs)."""
