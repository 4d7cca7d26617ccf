"""REST API ``/v1/telework``: thin routes that turn a request into a service call.

Every route needs an authenticated principal acting for the agency concerned; who may sign
what (supervisor, head of agency) is then decided by the regulation against the HR org tree.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hub.api.deps import HubDep, PrincipalDep
from hub.apps.telework.wiring import TeleworkApp, app_for
from hub.errors import Forbidden, NotFound
from hub.schemas.principal import Principal

router = APIRouter(prefix="/v1/telework", tags=["telework"])


def _app(hub) -> TeleworkApp:  # noqa: ANN001
    return app_for(hub)


def _may(principal: Principal, agency: str) -> None:
    # The agency's own operators, or its telework subsystem (the client the agency runs).
    if not (principal.acts_for(agency) or principal.acts_for(f"{agency}/telework")):
        raise Forbidden(f"{principal.subject} does not act for {agency}")


def _own_agency(principal: Principal) -> str:
    """The agency a caller belongs to: its member, or the member of its one subsystem."""
    members = {s.rsplit("/", 1)[0] for s in principal.subsystems} | ({principal.member} if principal.member else set())
    if len(members) != 1:
        raise Forbidden(f"{principal.subject} must name the agency (query parameter agency)")
    return members.pop()


def _case_out(case: Any) -> dict[str, Any]:
    return {**dataclasses.asdict(case), "book_number": case.book_number}


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


class ProposalIn(BaseModel):
    proposer_id: str
    selection: str = "voluntary"
    reason: str | None = None


class OrderIn(BaseModel):
    signer_id: str
    time_evidence_method: str


class TimeIn(BaseModel):
    work_date: str
    check_in: str
    check_out: str | None = None
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
    proposer_id: str
    reason_code: str
    reason: str


class RevokeIn(BaseModel):
    head_id: str
    effective_date: str | None = None


class FinalReportIn(BaseModel):
    results: list[dict[str, Any]]
    comments: str | None = None


class EvaluationIn(BaseModel):
    evaluator_id: str
    target_results: list[dict[str, Any]]
    overall: str
    recommendation: str


def _owned_case(hub, principal: Principal, case_id: str):  # noqa: ANN001, ANN202
    case = _app(hub).ports.store.get_case(case_id)
    _may(principal, case.agency)
    return case


@router.get("/eligibility/{citizen_id}")
def eligibility(citizen_id: str, hub: HubDep, principal: PrincipalDep) -> dict[str, Any]:
    """Whether a person's work may go off-site, with the seed's reason when not.

    Only the person's own agency (or a hub admin) may ask: the answer reveals their position
    and duties from HR. Anyone else gets the same 404 as for an unknown person."""
    service = _app(hub).service
    if not principal.is_admin:
        agency = _own_agency(principal)
        _may(principal, agency)
        if not service.works_for(citizen_id, agency):
            raise NotFound(f"{agency} has no official with citizen ID {citizen_id}")
    officer, result = service.eligibility(citizen_id)
    return {"person": officer.party(), **result.as_dict()}


@router.get("/cases")
def list_cases(hub: HubDep, principal: PrincipalDep, agency: str | None = None) -> list[dict[str, Any]]:
    """Telework cases of an agency (default: the caller's own agency)."""
    agency = agency or _own_agency(principal)
    _may(principal, agency)
    return [_case_out(c) for c in _app(hub).ports.store.list_cases(agency)]


@router.get("/cases/{case_id}")
def get_case(case_id: str, hub: HubDep, principal: PrincipalDep) -> dict[str, Any]:
    """One case with its documents."""
    return _case_out(_owned_case(hub, principal, case_id))


@router.post("/agreements", status_code=201)
def record_agreement(body: AgreementIn, hub: HubDep, principal: PrincipalDep) -> dict[str, Any]:
    """Person and first-line supervisor sign an agreement with measurable targets."""
    _may(principal, body.agency)
    return _case_out(_app(hub).service.record_agreement(**body.model_dump()))


@router.post("/cases/{case_id}/proposal")
def propose(case_id: str, body: ProposalIn, hub: HubDep, principal: PrincipalDep) -> dict[str, Any]:
    """A supervisor (first-line or higher) proposes the person to the head of agency."""
    _owned_case(hub, principal, case_id)
    return _case_out(_app(hub).service.propose(case_id, **body.model_dump()))


@router.post("/cases/{case_id}/order")
def issue_order(case_id: str, body: OrderIn, hub: HubDep, principal: PrincipalDep) -> dict[str, Any]:
    """The head of agency orders telework: a letter through e-Saraban, days to HR."""
    _owned_case(hub, principal, case_id)
    return _case_out(_app(hub).service.issue_order(case_id, **body.model_dump()))


@router.post("/cases/{case_id}/evidence/time", status_code=201)
def record_time(case_id: str, body: TimeIn, hub: HubDep, principal: PrincipalDep) -> dict[str, Any]:
    """Check-in / check-out for one telework day."""
    _owned_case(hub, principal, case_id)
    return dataclasses.asdict(_app(hub).service.record_time(case_id, **body.model_dump()))


@router.post("/cases/{case_id}/evidence/progress", status_code=201)
def record_progress(case_id: str, body: ProgressIn, hub: HubDep, principal: PrincipalDep) -> dict[str, Any]:
    """A progress report against the agreed targets."""
    _owned_case(hub, principal, case_id)
    return dataclasses.asdict(_app(hub).service.record_progress(case_id, **body.model_dump()))


@router.post("/cases/{case_id}/evidence/emeeting", status_code=201)
def record_emeeting(case_id: str, body: MeetingIn, hub: HubDep, principal: PrincipalDep) -> dict[str, Any]:
    """An e-meeting record (participants, times, recording reference and hash)."""
    _owned_case(hub, principal, case_id)
    return dataclasses.asdict(_app(hub).service.record_emeeting(case_id, **body.model_dump()))


@router.get("/cases/{case_id}/working-time")
def working_time(case_id: str, hub: HubDep, principal: PrincipalDep) -> dict[str, Any]:
    """Minutes worked per day, computed from the evidence."""
    _owned_case(hub, principal, case_id)
    return _app(hub).service.working_time(case_id)


@router.post("/alerts/run")
def run_alerts(hub: HubDep, principal: PrincipalDep, agency: str | None = None,
               as_of: dt.date | None = None) -> list[dict[str, Any]]:
    """Alert supervisors about past telework days without evidence."""
    agency = agency or _own_agency(principal)
    _may(principal, agency)
    return [dataclasses.asdict(a) for a in _app(hub).service.alert_missing_evidence(as_of, agency)]


@router.post("/cases/{case_id}/revocation-proposal")
def propose_revocation(case_id: str, body: RevocationProposalIn, hub: HubDep, principal: PrincipalDep) -> dict[str, Any]:
    """A supervisor proposes that the head revoke the permission."""
    _owned_case(hub, principal, case_id)
    return _case_out(_app(hub).service.propose_revocation(case_id, **body.model_dump()))


@router.post("/cases/{case_id}/revocation")
def revoke(case_id: str, body: RevokeIn, hub: HubDep, principal: PrincipalDep) -> dict[str, Any]:
    """The head revokes: a revocation letter, HR updated."""
    _owned_case(hub, principal, case_id)
    return _case_out(_app(hub).service.revoke(case_id, **body.model_dump()))


@router.post("/cases/{case_id}/final-report")
def final_report(case_id: str, body: FinalReportIn, hub: HubDep, principal: PrincipalDep) -> dict[str, Any]:
    """The person reports results per target."""
    _owned_case(hub, principal, case_id)
    return _case_out(_app(hub).service.submit_final_report(case_id, **body.model_dump()))


@router.post("/cases/{case_id}/evaluation")
def evaluate(case_id: str, body: EvaluationIn, hub: HubDep, principal: PrincipalDep) -> dict[str, Any]:
    """The first-line supervisor evaluates against the targets and reports to the head."""
    _owned_case(hub, principal, case_id)
    return _case_out(_app(hub).service.evaluate(case_id, **body.model_dump()))


@router.post("/agencies/{member:path}/savings")
def savings(member: str, hub: HubDep, principal: PrincipalDep, fiscal_year: int | None = None) -> dict[str, Any]:
    """Savings and KPI report: a GFMIS-style batch to finance, KPIs to the strategy side."""
    _may(principal, member)
    from hub.thai import fiscal_year as fiscal_year_of

    return _app(hub).reports.savings(member, fiscal_year or fiscal_year_of(_app(hub).service.now().date()))
