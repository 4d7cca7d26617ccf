"""Requests and answers of ``/v1/telework``.

The documents a case carries (agreement, proposal, order, revocation, final report,
evaluation, the savings report) are the ``th.telework.*`` and ``th.gfmis.*`` standards' own
documents, validated against them before they were stored; the answers carry them as they
are (``standards/th.telework.*`` documents each one).
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hub.schemas.common import IsoDate

# -- requests ---------------------------------------------------------------------------


class AgreementIn(BaseModel):
    agency: str
    person_id: str = Field(description="Citizen ID of the official.")
    supervisor_id: str = Field(description="Citizen ID of the first-line supervisor.")
    work_category: str
    pattern: dict[str, Any]
    period: dict[str, str]
    targets: list[dict[str, Any]]
    reporting_channels: list[str] = ["e-office"]
    report_every_days: int = 7


# Who signs or decides is the person of the caller's own session (``/v1/auth/login``, linked to
# their citizen ID by POST /v1/telework/agencies/{member}/signers), never a value in the body:
# the decision bodies refuse unknown members so a client naming a signer is told so.
SESSION_SIGNS = ConfigDict(extra="forbid")


class SignerLinkIn(BaseModel):
    model_config = SESSION_SIGNS
    username: str = Field(description="The person's hub user (an agency operator of this agency).")
    citizen_id: str = Field(description="Their citizen ID as HR knows them.")


class ProposalIn(BaseModel):
    model_config = SESSION_SIGNS
    selection: str = "voluntary"
    reason: str | None = None


class OrderIn(BaseModel):
    model_config = SESSION_SIGNS
    time_evidence_method: str


class TimeIn(BaseModel):
    work_date: str
    check_in: str
    check_out: str | None = None
    source_system: str | None = Field(None, description="The system the time record was given in (the check-in app).")
    source_ip: str | None = None


class ProgressIn(BaseModel):
    period: dict[str, str]
    items: list[dict[str, Any]]
    channel: str
    issues: str | None = None


class MeetingIn(BaseModel):
    title: str
    organizer: str
    chair: dict[str, str]
    start: str
    end: str
    participants: list[dict[str, Any]]
    recording: dict[str, str]
    classification: str = "001"
    platform: str | None = None
    traffic_data_reference: str | None = None


class RevocationProposalIn(BaseModel):
    model_config = SESSION_SIGNS
    reason_code: str
    reason: str


class RevokeIn(BaseModel):
    model_config = SESSION_SIGNS
    effective_date: str | None = None


class FinalReportIn(BaseModel):
    results: list[dict[str, Any]]
    comments: str | None = None


class EvaluationIn(BaseModel):
    model_config = SESSION_SIGNS
    target_results: list[dict[str, Any]]
    overall: str
    recommendation: str


# -- answers ----------------------------------------------------------------------------


class PersonBlock(BaseModel):
    """The person block of the telework standards."""

    citizen_id: str
    name: str
    position: str
    unit: str | None = Field(None, description="Absent when HR names no unit.")


class EligibilityOut(BaseModel):
    """Whether the person's work may go off-site; when not, the category and the seed's reason."""

    person: PersonBlock
    eligible: bool
    category: str | None = None
    matched: str | None = Field(None, description="The word in the position or duties that placed it there.")
    seed: str | None = None
    reason_th: str | None = None
    reason_en: str | None = None
    basis: str | None = Field(None, description="What decided: policy-work-list, approved-exception, "
                                                "keyword-suggestion (the classifier only suggests).")
    work_category: str | None = None
    exception_id: str | None = None


class EsarabanIn(BaseModel):
    """An agency's own e-Saraban: its department on the e-CMS node and its book-number prefix."""

    model_config = ConfigDict(extra="forbid")
    department: str = Field(description="Its e-CMS department code, e.g. 0419.")
    ministry: str = Field(description="Its ministry's e-CMS code, e.g. 2100.")
    prefix: str = Field(description="Its book-number prefix, e.g. สธ 0419.")
    ministry_name: str | None = Field(None, description="The ministry's name, when the node does not list it yet.")
    node_url: str | None = Field(None, description="The e-CMS endpoint it posts to (default: this hub's).")


class AgencyIn(BaseModel):
    """An agency's telework: its policy (th.telework.policy) and where its systems are on the hub."""

    model_config = ConfigDict(extra="forbid")
    policy: dict[str, Any]
    name: str = Field(description="The agency's name as HR knows it (its department or ministry), e.g. กรมบัญชีกลาง.")
    hr_agency: str = Field(description="Whose DPIS keeps its staff (route {hr_agency}/dpis).")
    finance_agency: str = Field(description="Who receives the GFMIS-style savings batch ({finance_agency}/gfmis).")
    strategy_agency: str = Field(description="Who receives the KPI results ({strategy_agency}/gsms).")
    copy_to: list[str] = Field(default_factory=list)
    declared_holidays: list[IsoDate] = Field(default_factory=list, description="Days off besides public holidays.")
    gfmis_code: str | None = Field(None, description="The agency's code in GFMIS (its savings batches carry it).")
    gsms_code: str | None = Field(None, description="The agency's code in GSMS (its KPI reports carry it).")
    esaraban: EsarabanIn | None = Field(None, description="Its own e-Saraban, enrolled on the hub's e-CMS node.")


class AgencyOut(BaseModel):
    agency: str
    name: str
    policy_id: str
    hr_agency: str
    finance_agency: str
    strategy_agency: str
    copy_to: list[str]
    declared_holidays: list[str]
    gfmis_code: str | None = None
    gsms_code: str | None = None
    esaraban: dict[str, str] | None = None
    missing_routes: list[str] = Field(default_factory=list, description=(
        "Routes its telework uses that the hub does not have yet; a step needing one is refused until it is added."))


class AnnualEvaluationIn(BaseModel):
    """The agency's yearly evaluation (seed 001 §9.3.3): what the survey and the review found."""

    model_config = ConfigDict(extra="forbid")
    fiscal_year: int = Field(ge=2500, le=2700, description="Buddhist-Era fiscal year, e.g. 2570.")
    effectiveness_score: float = Field(ge=0, le=5)
    effectiveness_note: str | None = None
    satisfaction_respondents: int = Field(ge=0)
    satisfaction_score: float = Field(ge=0, le=5)
    lessons: list[str] = Field(default_factory=list)
    savings_ref: str | None = None


class ExceptionIn(BaseModel):
    model_config = SESSION_SIGNS
    citizen_id: str
    work_category: str
    reason: str = Field(min_length=20, description="Why this person's work can go off-site although the keywords "
                                                   "suggest otherwise (seed 001 §3).")


class CaseOut(BaseModel):
    """One official's telework arrangement, from agreement to evaluation."""

    case_id: str
    agency: str
    citizen_id: str
    status: str = Field(description="agreed, proposed, ordered, revocation-proposed, revoked, reported, evaluated")
    agreement: dict[str, Any] = Field(description="th.telework.agreement")
    supervisor_citizen_id: str
    proposal: dict[str, Any] | None
    order: dict[str, Any] | None = Field(description="th.telework.order")
    order_letter: dict[str, Any] | None = Field(description="The e-Saraban letter that carried the order.")
    scheduled_days: list[IsoDate]
    off_site: bool
    revocation_proposal: dict[str, Any] | None
    revocation: dict[str, Any] | None
    final_report: dict[str, Any] | None
    evaluation: dict[str, Any] | None
    hr_messages: list[str] = Field(description="References of what was sent to HR (and the reports to the head).")
    book_number: str | None = Field(description="The order's book number, once ordered.")


class EvidenceOut(BaseModel):
    """One item of evidence and where it was anchored in the audit trail."""

    evidence_id: str
    case_id: str
    kind: str = Field(description="time, progress or emeeting")
    work_date: IsoDate
    document: dict[str, Any]
    sha256: str
    audit_ref: str
    minutes: int = Field(description="Working minutes this item proves on work_date.")


class WorkingDay(BaseModel):
    minutes: int
    evidence: list[str] = Field(description="The kinds of evidence present.")
    items: int


class EvidenceDay(BaseModel):
    date: IsoDate
    status: str = Field(description="complete | incomplete | late | missing | pending | scheduled (seed 001 §7.2).")
    status_th: str
    minutes: int
    evidence: list[str] = Field(description="The kinds of evidence given that day (time, emeeting, progress).")
    findings: list[dict[str, Any]] = Field(default_factory=list, description="What a seed 003 on-site pattern flags: "
                                           "late-arrival, early-leave, short-hours (with text_th).")


class EvidenceStatusOut(BaseModel):
    case_id: str
    person: dict[str, Any]
    order_ref: str | None
    as_of: IsoDate
    days: list[EvidenceDay]
    summary: dict[str, int] = Field(description="Days per status.")


class PersonEvidenceOut(BaseModel):
    person: dict[str, Any]
    orders: list[dict[str, Any]]
    summary: dict[str, int]


class AlertOut(BaseModel):
    alert_id: str
    case_id: str
    supervisor_citizen_id: str
    work_date: IsoDate
    message: str
    delivery_ref: str | None = Field(description="The hub message that notified the supervisor.")


class SavingsOut(BaseModel):
    """The savings report, the GFMIS batch that carried it to finance and the KPI results."""

    document: dict[str, Any] = Field(description="th.telework.savings")
    finance_batch_ref: str
    kpi_ref: str
    kpis: list[dict[str, Any]]
