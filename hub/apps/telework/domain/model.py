"""The values the telework rules work on. Plain dataclasses; documents are the standard
``th.telework.*`` dicts, kept as dicts so what is stored is exactly what was validated."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

MINISTRY, DEPARTMENT, UNIT = "ministry", "department", "unit"


@dataclass(frozen=True)
class Officer:
    """A person as the HR system knows them."""

    citizen_id: str
    name: str
    position: str
    unit: str = ""
    duties: tuple[str, ...] = ()
    management_position: str | None = None  # e.g. อธิบดี, ผู้อำนวยการกอง; None for staff

    def party(self) -> dict[str, str]:
        """The person block of the telework standards."""
        data = {"citizen_id": self.citizen_id, "name": self.name, "position": self.position}
        if self.unit:
            data["unit"] = self.unit
        return data


@dataclass(frozen=True)
class OrgUnit:
    """One level of the HR org tree with its head (None when the post is vacant)."""

    org_id: str
    name: str
    level: str  # ministry | department | unit
    head: Officer | None = None


# Case status, in the order of seed 001 §9.2-9.3. A draft agreement waits for the two
# signatures (the person's and the first-line supervisor's), each a separate act.
DRAFT = "draft"
AGREED, PROPOSED, ORDERED, REVOCATION_PROPOSED, REVOKED, REPORTED, EVALUATED = (
    "agreed", "proposed", "ordered", "revocation-proposed", "revoked", "reported", "evaluated",
)


@dataclass
class Case:
    """One official's telework arrangement, from agreement to evaluation."""

    case_id: str
    agency: str
    citizen_id: str
    status: str
    agreement: dict[str, Any]
    supervisor_citizen_id: str
    proposal: dict[str, Any] | None = None
    order: dict[str, Any] | None = None
    order_letter: dict[str, Any] | None = None
    scheduled_days: list[str] = field(default_factory=list)  # ISO dates off-site (or counted on-site)
    off_site: bool = True
    revocation_proposal: dict[str, Any] | None = None
    revocation: dict[str, Any] | None = None
    final_report: dict[str, Any] | None = None
    evaluation: dict[str, Any] | None = None
    hr_messages: list[str] = field(default_factory=list)
    progress_alerts: list[str] = field(default_factory=list)  # progress due dates already alerted as overdue

    @property
    def book_number(self) -> str | None:
        return self.order["book_number"] if self.order else None

    def active_days(self) -> list[dt.date]:
        """Scheduled days still covered by the order (a revocation ends it)."""
        days = [dt.date.fromisoformat(d) for d in self.scheduled_days]
        if self.revocation:
            effective = dt.date.fromisoformat(self.revocation["effective_date"])
            days = [d for d in days if d < effective]
        return days


TIME, PROGRESS, EMEETING = "time", "progress", "emeeting"


@dataclass
class Evidence:
    """One item of evidence (Leave Regulation B.E. 2555 cl. 11) and where it was anchored."""

    evidence_id: str
    case_id: str
    kind: str  # time | progress | emeeting
    work_date: str  # ISO date the evidence is for
    document: dict[str, Any]
    sha256: str
    audit_ref: str
    minutes: int = 0  # working minutes this item proves on work_date
    recorded_at: str | None = None  # when the hub received it (ISO, Asia/Bangkok); set by the service


@dataclass
class Alert:
    alert_id: str
    case_id: str
    supervisor_citizen_id: str
    work_date: str
    message: str
    delivery_ref: str | None = None


@dataclass
class AgencySetup:
    """Where an agency's systems are on the hub, and who gets copies of its orders."""

    agency: str  # X-Road member, e.g. TH/GOV/DOPA
    name: str
    policy: dict[str, Any]
    hr_agency: str  # whose HR system (DPIS) keeps this agency's staff, e.g. the ministry's
    finance_agency: str  # who receives the GFMIS-style savings batch
    strategy_agency: str  # who receives KPI results (the GSMS side)
    copy_to: list[str] = field(default_factory=list)  # oversight agencies named by the policy
    # The agency's people who sign in their own hub session: hub username -> citizen ID.
    signers: dict[str, str] = field(default_factory=dict)
    # Reasoned eligibility exceptions (a supervisor proposes, the head approves; seed 001 §3, §5).
    exceptions: list[dict[str, Any]] = field(default_factory=list)
    # Days off the agency declares besides the public holidays (ISO dates), e.g. วันหยุดพิเศษ.
    declared_holidays: list[str] = field(default_factory=list)
    # The agency's own codes in the finance and strategy systems (GFMIS ORG_CODE, GSMS code).
    gfmis_code: str | None = None
    gsms_code: str | None = None
    # Its e-Saraban's department on the hub's e-CMS node: {"department", "ministry", "prefix"}.
    esaraban: dict[str, str] | None = None
