"""REST API ``/v1/telework``: thin routes that turn a request into a service call.

Every route needs an authenticated principal acting for the agency concerned; who may sign
what (supervisor, head of agency) is then decided by the regulation against the HR org tree.
Which agency that is comes from a dependency: ``OwnedCase`` (the case's agency),
``CallerAgency`` (``?agency=``, default the caller's own).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import PlainTextResponse

from hub.api.deps import HubDep, PrincipalDep, SecurityDep, TeleworkDep
from hub.api.roles import require_admin
from hub.apps.telework.domain.actors import Actor
from hub.apps.telework.domain.model import Case
from hub.apps.telework.wiring import TeleworkNotConfigured, app_for, missing_routes, onboard_agency
from hub.apps.telework.schemas import (
    AgencyIn, AgencyOut, AgreementIn, AlertOut, AnnualEvaluationIn, CaseOut, EligibilityOut, EvaluationIn, EvidenceOut, EvidenceStatusOut, ExceptionIn,
    FinalReportIn, MeetingIn, OrderIn, PersonEvidenceOut, ProgressIn, ProposalIn, RevocationProposalIn, RevokeIn,
    SavingsOut, SignerLinkIn, TimeIn, WorkingDay,
)
from hub.errors import FieldError, Forbidden, InputError, NotFound
from hub.schemas.principal import OPERATOR, Principal
from hub.thai import fiscal_year as fiscal_year_of

router = APIRouter(prefix="/v1/telework", tags=["telework"])


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


def caller_agency(principal: PrincipalDep, agency: str | None = None) -> str:
    """``?agency=`` (default: the caller's own), once the caller is known to act for it."""
    agency = agency or _own_agency(principal)
    _may(principal, agency)
    return agency


def configured(hub, what: str):  # noqa: ANN001, ANN201
    """The hub's telework application; on a hub that runs none, the thing looked up does not
    exist (404), so a caller learns no more than on a hub where it is someone else's."""
    try:
        return app_for(hub)
    except TeleworkNotConfigured:
        raise NotFound(f"no {what}") from None


def owned_case(case_id: str, hub: HubDep, principal: PrincipalDep) -> Case:
    """The case named in the path, if the caller acts for its agency (403 otherwise)."""
    case = configured(hub, f"telework case {case_id}").ports.store.get_case(case_id)
    _may(principal, case.agency)
    return case


def member_agency(member: str, principal: PrincipalDep) -> str:
    """The agency named in the path, once the caller is known to act for it (before any lookup)."""
    _may(principal, member)
    return member


def acting(principal: Principal, agency: str, telework) -> Actor:  # noqa: ANN001
    """Who acts: the person of a login session linked to their citizen ID in this agency, or
    else a machine client (which the service lets prepare drafts, never sign)."""
    if principal.method == "session" and principal.subject.startswith("user:"):
        citizen_id = telework.ports.store.get_agency(agency).signers.get(principal.subject.removeprefix("user:"))
        if citizen_id:
            return Actor.person(citizen_id, principal.subject)
    return Actor.machine(principal.subject)


# Each is declared before ``TeleworkDep`` in a route: dependencies are solved in order, so the
# caller's permission is checked before the application is looked up.
CallerAgency = Annotated[str, Depends(caller_agency)]
OwnedCase = Annotated[Case, Depends(owned_case)]
MemberAgency = Annotated[str, Depends(member_agency)]


def _case_out(case: Case) -> CaseOut:
    return CaseOut(**dataclasses.asdict(case), book_number=case.book_number)


@router.get("/eligibility/{citizen_id}", response_model=EligibilityOut, response_model_exclude_unset=True)
def eligibility(citizen_id: str, hub: HubDep, principal: PrincipalDep, agency: str | None = None) -> dict:
    """Whether a person's work may go off-site under their agency's policy (its work list and
    approved exceptions decide; the keyword classifier only suggests), with the seed's reason when not.

    Only the person's own agency (or a hub admin, naming ``?agency=`` or getting only the
    suggestion) may ask: the answer reveals their position and duties from HR. Anyone else
    gets the same 404 as for an unknown person."""
    if not principal.is_admin:
        agency = _own_agency(principal)
        _may(principal, agency)
        service = configured(hub, f"official of {agency} with citizen ID {citizen_id}").service
        if not service.works_for(citizen_id, agency):
            raise NotFound(f"{agency} has no official with citizen ID {citizen_id}")
    else:
        service = app_for(hub).service
    officer, result = service.eligibility(citizen_id, agency)
    return {"person": officer.party(), **result.as_dict()}


@router.get("/cases", response_model=list[CaseOut])
def list_cases(agency: CallerAgency, telework: TeleworkDep) -> list[CaseOut]:
    """Telework cases of an agency (default: the caller's own agency)."""
    return [_case_out(c) for c in telework.ports.store.list_cases(agency)]


@router.get("/cases/{case_id}", response_model=CaseOut)
def get_case(case: OwnedCase) -> CaseOut:
    """One case with its documents."""
    return _case_out(case)


@router.post("/agreements", status_code=201, response_model=CaseOut)
def record_agreement(body: AgreementIn, hub: HubDep, principal: PrincipalDep) -> CaseOut:
    """A draft agreement with measurable targets (a machine client may prepare it); each party then signs it."""
    _may(principal, body.agency)
    telework = app_for(hub)
    by = acting(principal, body.agency, telework)
    return _case_out(telework.service.record_agreement(**body.model_dump(), by=by))


@router.post("/cases/{case_id}/signature", response_model=CaseOut)
def sign_agreement(case: OwnedCase, telework: TeleworkDep, principal: PrincipalDep) -> CaseOut:
    """The person or the first-line supervisor signs the draft agreement, in their own session (seed 001 §6)."""
    return _case_out(telework.service.sign_agreement(case.case_id, by=acting(principal, case.agency, telework)))


@router.post("/cases/{case_id}/proposal", response_model=CaseOut)
def propose(body: ProposalIn, case: OwnedCase, telework: TeleworkDep, principal: PrincipalDep) -> CaseOut:
    """A supervisor (first-line or higher) proposes the person to the head of agency, in their session."""
    by = acting(principal, case.agency, telework)
    return _case_out(telework.service.propose(case.case_id, **body.model_dump(), by=by))


@router.post("/cases/{case_id}/order", response_model=CaseOut)
def issue_order(body: OrderIn, case: OwnedCase, telework: TeleworkDep, principal: PrincipalDep) -> CaseOut:
    """The head of agency (or the acting head HR records for the day) orders telework in their own session."""
    by = acting(principal, case.agency, telework)
    return _case_out(telework.service.issue_order(case.case_id, **body.model_dump(), by=by))


@router.post("/cases/{case_id}/evidence/time", status_code=201, response_model=EvidenceOut)
def record_time(body: TimeIn, case: OwnedCase, telework: TeleworkDep) -> EvidenceOut:
    """Check-in / check-out for one telework day."""
    return EvidenceOut(**dataclasses.asdict(telework.service.record_time(case.case_id, **body.model_dump())))


@router.post("/cases/{case_id}/evidence/progress", status_code=201, response_model=EvidenceOut)
def record_progress(body: ProgressIn, case: OwnedCase, telework: TeleworkDep) -> EvidenceOut:
    """A progress report against the agreed targets."""
    return EvidenceOut(**dataclasses.asdict(telework.service.record_progress(case.case_id, **body.model_dump())))


@router.post("/cases/{case_id}/evidence/emeeting", status_code=201, response_model=EvidenceOut)
def record_emeeting(body: MeetingIn, case: OwnedCase, telework: TeleworkDep) -> EvidenceOut:
    """An e-meeting record (participants, times, recording reference and hash)."""
    return EvidenceOut(**dataclasses.asdict(telework.service.record_emeeting(case.case_id, **body.model_dump())))


@router.get("/cases/{case_id}/working-time", response_model=dict[str, WorkingDay])
def working_time(case: OwnedCase, telework: TeleworkDep) -> dict:
    """Minutes worked per day (ISO date -> minutes, kinds of evidence, items), computed from the evidence."""
    return telework.service.working_time(case.case_id)


@router.get("/cases/{case_id}/evidence-status", response_model=EvidenceStatusOut)
def evidence_status(case: OwnedCase, telework: TeleworkDep, as_of: dt.date | None = None) -> dict:
    """The order's daily evidence status: complete, incomplete, late or missing (seed 001 §7.2)."""
    return telework.service.evidence_status(case.case_id, as_of)


@router.get("/evidence-status", response_model=list[PersonEvidenceOut])
def evidence_status_by_person(agency: CallerAgency, telework: TeleworkDep,
                              as_of: dt.date | None = None) -> list[dict]:
    """Per person of the agency: the evidence status counts over their orders."""
    return telework.service.evidence_status_by_person(agency, as_of)


@router.post("/alerts/run", response_model=list[AlertOut])
def run_alerts(agency: CallerAgency, telework: TeleworkDep, as_of: dt.date | None = None) -> list[AlertOut]:
    """Alert supervisors about past telework days without evidence."""
    return [AlertOut(**dataclasses.asdict(a)) for a in telework.service.alert_missing_evidence(as_of, agency)]


@router.post("/cases/{case_id}/revocation-proposal", response_model=CaseOut)
def propose_revocation(body: RevocationProposalIn, case: OwnedCase, telework: TeleworkDep,
                       principal: PrincipalDep) -> CaseOut:
    """A supervisor proposes that the head revoke the permission, in their session."""
    by = acting(principal, case.agency, telework)
    return _case_out(telework.service.propose_revocation(case.case_id, **body.model_dump(), by=by))


@router.post("/cases/{case_id}/revocation", response_model=CaseOut)
def revoke(body: RevokeIn, case: OwnedCase, telework: TeleworkDep, principal: PrincipalDep) -> CaseOut:
    """The head (or acting head) revokes in their session: a revocation letter."""
    return _case_out(telework.service.revoke(case.case_id, **body.model_dump(),
                                             by=acting(principal, case.agency, telework)))


@router.post("/cases/{case_id}/final-report", response_model=CaseOut)
def final_report(body: FinalReportIn, case: OwnedCase, telework: TeleworkDep) -> CaseOut:
    """The person reports results per target."""
    return _case_out(telework.service.submit_final_report(case.case_id, **body.model_dump()))


@router.post("/cases/{case_id}/evaluation", response_model=CaseOut)
def evaluate(body: EvaluationIn, case: OwnedCase, telework: TeleworkDep, principal: PrincipalDep) -> CaseOut:
    """The first-line supervisor evaluates against the targets, in their session, and reports to the head."""
    return _case_out(telework.service.evaluate(case.case_id, **body.model_dump(),
                                               by=acting(principal, case.agency, telework)))


def _agency_out(setup) -> AgencyOut:  # noqa: ANN001
    return AgencyOut(agency=setup.agency, name=setup.name, policy_id=setup.policy["policy_id"],
                     hr_agency=setup.hr_agency, finance_agency=setup.finance_agency,
                     strategy_agency=setup.strategy_agency, copy_to=setup.copy_to,
                     declared_holidays=setup.declared_holidays, gfmis_code=setup.gfmis_code,
                     gsms_code=setup.gsms_code, esaraban=setup.esaraban)


@router.post("/agencies", status_code=201, response_model=AgencyOut)
def register_agency(body: AgencyIn, hub: HubDep, principal: PrincipalDep) -> AgencyOut:
    """Onboard an agency's telework (hub admins): its policy, its HR, finance and strategy
    agencies, who gets copies, its declared days off, its GFMIS and GSMS codes and its own
    e-Saraban (enrolled with its own credentials). Any agency, not only the pilot's."""
    if not principal.is_admin:
        raise Forbidden("only a hub admin registers an agency's telework")
    data = body.model_dump()
    setup = onboard_agency(hub, data.pop("policy"), **data)
    return _agency_out(setup).model_copy(update={"missing_routes": missing_routes(hub, setup)})


@router.post("/agencies/{member:path}/annual-evaluation", status_code=201, response_model=dict)
def annual_evaluation(member: MemberAgency, body: AnnualEvaluationIn, telework: TeleworkDep, principal: PrincipalDep) -> dict:
    """The agency's yearly evaluation (seed 001 §9.3.3): efficiency from the cases' targets,
    effectiveness, staff satisfaction, lessons; printable at /v1/telework/reports/{id}/printable."""
    return telework.reports.annual_evaluation(member, **body.model_dump())


@router.get("/reports/{report_id}/printable", response_class=PlainTextResponse,
            responses={200: {"content": {"text/plain": {}}}})
def printable_report(report_id: str, hub: HubDep, principal: PrincipalDep) -> PlainTextResponse:
    """The yearly evaluation as a person reads it (official Thai, Buddhist-Era dates)."""
    agency, text = configured(hub, f"report {report_id}").reports.printable(report_id)
    if not principal.acts_for(agency) and not principal.acts_for(f"{agency}/telework"):
        raise NotFound(f"no report {report_id}")  # as if unknown: the report is the agency's
    return PlainTextResponse(text)


@router.post("/agencies/{member:path}/exceptions", status_code=201, response_model=dict)
def propose_exception(member: MemberAgency, body: ExceptionIn, telework: TeleworkDep, principal: PrincipalDep) -> dict:
    """A supervisor, in their session, records a reasoned eligibility exception for the head to approve."""
    return telework.service.propose_exception(member, **body.model_dump(), by=acting(principal, member, telework))


@router.post("/agencies/{member:path}/exceptions/{exception_id}/approval", response_model=dict)
def approve_exception(member: MemberAgency, exception_id: str, telework: TeleworkDep, principal: PrincipalDep) -> dict:
    """The head of agency (or acting head), in their session, approves the exception."""
    return telework.service.approve_exception(member, exception_id, by=acting(principal, member, telework))


@router.post("/agencies/{member:path}/signers", status_code=204, dependencies=[Depends(require_admin)])
def link_signer(member: str, body: SignerLinkIn, telework: TeleworkDep, principal: PrincipalDep,
                security: SecurityDep) -> Response:
    """Link a person's hub login to their citizen ID in HR (hub admins only: it decides who signs as whom).
    The login must be an agency operator of this agency (a person who acts for it)."""
    if not principal.is_admin:
        raise Forbidden("only a hub admin links a login to a person who signs")
    user = security.users.get(body.username)
    if user is None or user.member_id != member or OPERATOR not in user.roles:
        raise InputError(f"{body.username} is not an operator login of {member}",
                         errors=[FieldError("/username", "agency_operator", f"a user with role {OPERATOR} for {member}")])
    telework.service.link_signer(member, username=body.username, citizen_id=body.citizen_id, actor=principal.subject)
    return Response(status_code=204)


@router.post("/agencies/{member:path}/savings", response_model=SavingsOut)
def savings(member: MemberAgency, telework: TeleworkDep, principal: PrincipalDep, fiscal_year: int | None = None) -> dict:
    """Savings and KPI report: a GFMIS-style batch to finance, KPIs to the strategy side."""
    return telework.reports.savings(member, fiscal_year or fiscal_year_of(telework.service.now().date()))


@router.post("/reports/{report_id}/finance-verdict", response_model=dict)
def report_finance_verdict(report_id: str, hub: HubDep, principal: PrincipalDep) -> dict:
    """Once GFMIS has answered the savings batch, send the KPIs to GSMS with its verdict (seed 000);
    409 while GFMIS has not answered."""
    telework = configured(hub, f"report {report_id}")
    _, document, _ = telework.ports.store.get_report(report_id)
    if not principal.acts_for(document["agency"]) and not principal.acts_for(f"{document['agency']}/telework"):
        raise NotFound(f"no report {report_id}")  # as if unknown: the report is the agency's
    return telework.reports.report_finance_verdict(report_id)
