"""The telework use cases, from policy to evaluation, on ports only (seed 001 §9).

Every document is built to a ``th.telework.*`` standard and validated before it is stored
or sent. Every refusal is a ``TeleworkRefused`` naming the field, the rule and what was
expected. Nothing here knows about HTTP, SQL or the broker.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from hub.apps.telework import documents as D
from hub.apps.telework.domain import authority, calendar, evidence as ev
from hub.apps.telework.domain.actors import Actor, require_person
from hub.apps.telework.domain.eligibility import Eligibility, assess, classify, require_eligible
from hub.apps.telework.domain.errors import CaseNotFound, InvalidState, NotAuthorised, TeleworkRefused
from hub.apps.telework.domain.model import (
    AGREED, DEPARTMENT, DRAFT, EMEETING, EVALUATED, MINISTRY, ORDERED, PROGRESS, PROPOSED, REPORTED, REVOCATION_PROPOSED,
    REVOKED, TIME, AgencySetup, Alert, Case, Evidence, Officer,
)
from hub.apps.telework.ports import (
    AuditTrail, Correspondence, Events, Finance, HrDirectory, HrRecords, Letter, Notifications, Strategy,
    TeleworkStore,
)
from hub.errors import FieldError
from hub.thai import thai_date

SIGNATURES = ("signed_by_person_at", "signed_by_supervisor_at")
# What seed 001 §9.1 says a policy sets "at least", besides patterns, work and time evidence.
POLICY_CONTENTS = {
    "selection": "แนวทางการคัดเลือกผู้ปฏิบัติราชการนอกสถานที่",
    "monitoring": "แนวทางการกำกับและติดตามการปฏิบัติงาน",
    "ending": "แนวทางการยุติการปฏิบัติราชการนอกสถานที่",
    "ethics": "แนวทางจริยธรรมในการปฏิบัติราชการนอกสถานที่",
}
LEGAL_BASIS = "ระเบียบสำนักนายกรัฐมนตรีว่าด้วยการลาของข้าราชการ พ.ศ. 2555 ข้อ 11"


def canonical(document: dict[str, Any]) -> bytes:
    """The bytes that are hashed: sorted keys, no spaces, UTF-8 (as the hub hashes payloads)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(document)).hexdigest()


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass
class Ports:
    hr: HrDirectory
    correspondence: Correspondence
    hr_records: HrRecords
    finance: Finance
    strategy: Strategy
    notifications: Notifications
    audit: AuditTrail
    store: TeleworkStore
    events: Events | None = None  # Tell Us Once: telework.order.issued/v1 to its subscribers


def require_policy_contents(policy: dict[str, Any]) -> None:
    """Refuse a policy lacking what seed 001 §9.1 says it sets at least (every gap named)."""
    missing = [key for key in POLICY_CONTENTS if key not in policy]
    if missing:
        refused = TeleworkRefused(f"the policy lacks {', '.join(missing)}", field=f"/{missing[0]}",
                                  rule="policy_contents", expected=POLICY_CONTENTS[missing[0]], seed="001 §9.1")
        refused.errors += [FieldError(f"/{key}", "policy_contents", POLICY_CONTENTS[key]) for key in missing[1:]]
        raise refused


def policy_in_force(policy: dict[str, Any], day: str, field: str) -> None:
    """Refuse a day outside the policy's effective dates (its ``effective_from`` .. ``effective_to``)."""
    start, end = policy["effective_from"], policy.get("effective_to")
    if day < start or (end and day > end):
        window = f"{start}..{end}" if end else f"{start} or later"
        first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end) if end else None
        raise TeleworkRefused(
            f"{day} is outside the period {policy['policy_id']} is in force ({window})", field=field,
            rule="policy_in_force", expected=f"a date in {window}",
            reason_th=f"หลักเกณฑ์ {policy['policy_id']} มีผลใช้บังคับตั้งแต่วันที่ {thai_date(first)}"
                      + (f" ถึงวันที่ {thai_date(last)}" if last else ""), seed="001 §9.1")


class TeleworkService:
    def __init__(self, ports: Ports, documents: D.Documents, *, clock: Callable[[], dt.datetime] | None = None,
                 holidays: Callable[[], Iterable[dt.date]] = lambda: ()) -> None:
        self.p = ports
        self.documents = documents  # every document is checked against its standard before it is kept or sent
        self.clock = clock or (lambda: dt.datetime.now(ev.BANGKOK))
        self.holidays = holidays

    # -- helpers --------------------------------------------------------------------------
    def now(self) -> dt.datetime:
        return self.clock().astimezone(ev.BANGKOK)

    def _stamp(self) -> str:
        return self.now().isoformat(timespec="seconds")

    def _case(self, case_id: str, *allowed: str) -> Case:
        case = self.p.store.get_case(case_id)
        if allowed and case.status not in allowed:
            raise InvalidState(f"case {case_id} is {case.status!r}", field="/case/status", rule="workflow_step",
                               expected=f"one of {list(allowed)}")
        return case

    def _hr(self, agency: str | None) -> HrDirectory:
        """The HR directory keeping ``agency``'s staff (its HR agency's DPIS)."""
        return self.p.hr.for_agency(agency) if agency else self.p.hr

    def _people(self, agency: str, citizen_id: str) -> tuple[Officer, list]:
        hr = self._hr(agency)
        return hr.person(citizen_id), hr.org_chain(citizen_id)

    def _audit(self, kind: str, actor: str, target: str, document: dict[str, Any], **detail: Any) -> tuple[str, str]:
        digest = sha256(document)
        return digest, self.p.audit.append(kind, actor=actor, target=target, sha256=digest, detail=detail)

    # -- policy and eligibility (seed 001 §3, §9.1) ----------------------------------------
    def register_agency(self, policy: dict[str, Any], *, name: str, hr_agency: str, finance_agency: str,
                        strategy_agency: str, copy_to: list[str] | None = None,
                        declared_holidays: list[str] | None = None, gfmis_code: str | None = None,
                        gsms_code: str | None = None, esaraban: dict[str, str] | None = None) -> AgencySetup:
        self.documents.validate(D.POLICY, policy)
        require_policy_contents(policy)
        for key, value in (("gfmis_code", gfmis_code), ("gsms_code", gsms_code)):
            if value is not None and not (value.isascii() and value.isdigit() and 2 <= len(value) <= 10):
                raise TeleworkRefused(f"{key} {value!r} is not an agency code", field=f"/{key}", rule="pattern",
                                      expected="2-10 digits, e.g. 21004 (the agency's code in that system)")
        for i, day in enumerate(declared_holidays or []):
            try:
                dt.date.fromisoformat(day)
            except (TypeError, ValueError):
                raise TeleworkRefused(f"declared holiday {day!r} is not a date", field=f"/declared_holidays/{i}",
                                      rule="format:date", expected="YYYY-MM-DD") from None
        setup = AgencySetup(policy["agency"], name, policy, hr_agency, finance_agency, strategy_agency,
                            list(copy_to or []), declared_holidays=sorted(set(declared_holidays or [])),
                            gfmis_code=gfmis_code, gsms_code=gsms_code, esaraban=esaraban)
        try:  # a re-registration keeps who signs and the exceptions granted under the agency's policy
            known = self.p.store.get_agency(setup.agency)
        except CaseNotFound:
            known = None
        if known is not None:
            setup.signers, setup.exceptions = known.signers, known.exceptions
            setup.esaraban = setup.esaraban or known.esaraban
        self.p.store.save_agency(setup)
        return setup

    def link_signer(self, agency: str, *, username: str, citizen_id: str, actor: str) -> AgencySetup:
        """Bind a hub user (a person's login) to the citizen ID HR knows them by, so what they
        sign in their session is signed as that person. An audited act of the hub's admin."""
        setup = self.p.store.get_agency(agency)
        self._hr(agency).person(citizen_id)  # HR must know them
        if not self.works_for(citizen_id, agency):
            raise TeleworkRefused(f"HR does not place {citizen_id} in {setup.name}", field="/citizen_id",
                                  rule="agency_staff", expected=f"an official of {setup.name}")
        taken = {u for u, c in setup.signers.items() if c == citizen_id and u != username}
        if taken:
            raise TeleworkRefused(f"{citizen_id} is already linked to {sorted(taken)[0]}", field="/citizen_id",
                                  rule="one_login_per_person", expected="a person not yet linked")
        setup.signers[username] = citizen_id
        self.p.store.save_agency(setup)
        self._audit("telework.signer.linked", actor, agency, {"username": username, "citizen_id": citizen_id})
        return setup

    def days_off(self, setup: AgencySetup, period: dict[str, str]) -> set[dt.date]:
        """Thailand's public holidays (the maintained ``holidays`` package, substitution days
        included) plus the days the agency declares, plus any the caller supplies."""
        import holidays as public_holidays

        start, end = dt.date.fromisoformat(period["start"]), dt.date.fromisoformat(period["end"])
        public = public_holidays.country_holidays("TH", years=range(start.year, end.year + 1))
        return set(public) | {dt.date.fromisoformat(d) for d in setup.declared_holidays} | set(self.holidays())

    def works_for(self, citizen_id: str, agency: str) -> bool:
        """Whether HR places the person in ``agency`` (its department or ministry in their org
        chain carries the name the agency registered with)."""
        setup = self.p.store.get_agency(agency)
        return any(u.name == setup.name for u in self._hr(agency).org_chain(citizen_id) if u.level in (DEPARTMENT, MINISTRY))

    def eligibility(self, citizen_id: str, agency: str | None = None) -> tuple[Officer, Eligibility]:
        """Under ``agency``'s policy (its work list, its approved exceptions) when given;
        otherwise only the keyword suggestion."""
        officer = self._hr(agency).person(citizen_id)
        if agency is None:
            return officer, classify(officer)
        setup = self.p.store.get_agency(agency)
        return officer, assess(officer, setup.policy, exception=self._exception_for(setup, citizen_id))

    @staticmethod
    def _exception_for(setup: AgencySetup, citizen_id: str) -> dict[str, Any] | None:
        return next((e for e in setup.exceptions if e["citizen_id"] == citizen_id and e["status"] == "approved"), None)

    def propose_exception(self, agency: str, *, citizen_id: str, work_category: str, reason: str,
                          by: Actor) -> dict[str, Any]:
        """A supervisor records, with reasons, that the person's work may go off-site although
        the keywords suggest otherwise; it counts once the head of agency approves it."""
        setup = self.p.store.get_agency(agency)
        person, chain = self._people(agency, citizen_id)
        proposer, _ = authority.require_supervisor(person, chain, require_person(by, "propose an exception"))
        if work_category not in setup.policy["eligible_work"]:
            raise TeleworkRefused(f"work category {work_category!r} is not one the policy allows",
                                  field="/work_category", rule="policy_eligible_work",
                                  expected=f"one of {setup.policy['eligible_work']}", seed="001 §9.1")
        if len(reason.strip()) < 20:
            raise TeleworkRefused("an exception needs its reasons", field="/reason", rule="reasoned",
                                  expected="at least 20 characters of reasons", seed="001 §3")
        item = {"exception_id": new_id("EX"), "citizen_id": citizen_id, "work_category": work_category,
                "reason": reason, "suggested": classify(person).as_dict(), "proposed_by": proposer.party(),
                "proposed_at": self._stamp(), "status": "proposed"}
        setup.exceptions.append(item)
        self.p.store.save_agency(setup)
        self._audit("telework.exception.proposed", by.subject, item["exception_id"], item)
        return item

    def approve_exception(self, agency: str, exception_id: str, *, by: Actor) -> dict[str, Any]:
        setup = self.p.store.get_agency(agency)
        item = next((e for e in setup.exceptions if e["exception_id"] == exception_id), None)
        if item is None:
            raise CaseNotFound(f"{agency} has no exception {exception_id}")
        if item["status"] != "proposed":
            raise InvalidState(f"exception {exception_id} is {item['status']}", field="/status",
                               rule="workflow_step", expected="proposed")
        _, chain = self._people(agency, item["citizen_id"])
        _, head, role = authority.require_head_of_agency(chain, require_person(by, "approve an exception"),
                                                         "approve an eligibility exception",
                                                         acting=self._acting(agency, chain, self.now().date()))
        item.update(status="approved", approved_by={"name": head.name, "position": head.position, "role": role},
                    approved_at=self._stamp())
        self.p.store.save_agency(setup)
        self._audit("telework.exception.approved", by.subject, exception_id, item)
        return item

    # -- agreement, proposal, order (seed 001 §5, §6, §9.2) ---------------------------------
    def record_agreement(self, agency: str, *, person_id: str, supervisor_id: str, work_category: str,
                         pattern: dict[str, Any], period: dict[str, str], targets: list[dict[str, Any]],
                         reporting_channels: list[str], by: Actor, report_every_days: int = 7,
                         performance_agreement_ref: str | None = None) -> Case:
        """A draft agreement (anyone acting for the agency may prepare it, a machine client too);
        it binds once the person and the first-line supervisor each sign it (``sign_agreement``)."""
        setup = self.p.store.get_agency(agency)
        policy = setup.policy
        person, chain = self._people(agency, person_id)
        require_eligible(person, policy, work_category, pattern=pattern,
                         exception=self._exception_for(setup, person_id))
        supervisor = authority.require_first_line(person, chain, supervisor_id)
        if pattern.get("kind") not in policy["patterns_allowed"]:
            raise TeleworkRefused(f"pattern {pattern.get('kind')!r} is not allowed by {agency}'s policy",
                                  field="/pattern/kind", rule="policy_patterns_allowed",
                                  expected=f"one of {policy['patterns_allowed']}", seed="001 §9.1")
        limit = policy.get("max_days_per_week")
        if limit and pattern.get("days_per_week", 0) > limit:
            raise TeleworkRefused(f"{pattern['days_per_week']} days per week exceeds the policy's {limit}",
                                  field="/pattern/days_per_week", rule="policy_max_days_per_week",
                                  expected=f"at most {limit}")
        policy_in_force(policy, period["start"], "/period/start")
        policy_in_force(policy, period["end"], "/period/end")
        longest = (policy.get("monitoring") or {}).get("report_every_days_max")
        if longest and report_every_days > longest:
            raise TeleworkRefused(f"progress every {report_every_days} days is less often than the policy's "
                                  f"{longest}", field="/report_every_days", rule="policy_monitoring",
                                  expected=f"at most {longest} days between progress reports",
                                  reason_th=POLICY_CONTENTS["monitoring"], seed="001 §9.1, §9.2.4")
        for i, target in enumerate(targets):
            if not (period["start"] <= target.get("due", "") <= period["end"]):
                raise TeleworkRefused(f"target {i} is due {target.get('due')}, outside the agreed period",
                                      field=f"/targets/{i}/due", rule="due_within_period",
                                      expected=f"{period['start']}..{period['end']}", seed="001 §6")
        case_id = new_id("TW")
        agreement = {
            "agreement_id": case_id, "agency": agency, "person": person.party(), "supervisor": supervisor.party(),
            "work_category": work_category, "pattern": pattern, "period": period, "targets": targets,
            "reporting_channels": reporting_channels, "report_every_days": report_every_days,
        }
        if performance_agreement_ref:
            agreement["performance_agreement_ref"] = performance_agreement_ref
        self.documents.validate(D.AGREEMENT, agreement, pending=SIGNATURES)
        days, off_site = calendar.schedule(pattern, period, self.days_off(setup, period))
        case = Case(case_id, agency, person_id, DRAFT, agreement, supervisor.citizen_id,
                    scheduled_days=[d.isoformat() for d in days], off_site=off_site)
        self._audit("telework.agreement.drafted", by.subject, case_id, agreement)
        self.p.store.save_case(case)
        return case

    def sign_agreement(self, case_id: str, *, by: Actor) -> Case:
        """The person or the first-line supervisor signs, in their own session (seed 001 §6):
        each signature is its own timestamped act in the audit trail."""
        case = self._case(case_id, DRAFT)
        signer = require_person(by, "sign an agreement")
        a = case.agreement
        roles = {a["person"]["citizen_id"]: "signed_by_person_at", a["supervisor"]["citizen_id"]: "signed_by_supervisor_at"}
        if signer not in roles:
            raise NotAuthorised(f"{signer} is neither the person nor the first-line supervisor of agreement {case_id}",
                                field="/session", rule="agreement_party",
                                expected=f"{a['person']['name']} or {a['supervisor']['name']}", seed="001 §6")
        key = roles[signer]
        if key in a:
            raise InvalidState(f"{signer} signed agreement {case_id} already at {a[key]}", field=f"/{key}",
                               rule="signed_once", expected="one signature per party")
        a[key] = self._stamp()
        self._audit("telework.agreement.signed", by.subject, case_id, a, citizen_id=signer,
                    role=key.removeprefix("signed_by_").removesuffix("_at"), signed_at=a[key])
        if all(k in a for k in SIGNATURES):
            case.agreement = self.documents.validate(D.AGREEMENT, a)
            case.status = AGREED
        self.p.store.save_case(case)
        return case

    def propose(self, case_id: str, *, by: Actor, selection: str = "voluntary", reason: str | None = None) -> Case:
        """A supervisor (first-line or higher) proposes the person, signing in their session (§5)."""
        case = self._case(case_id, AGREED)
        person, chain = self._people(case.agency, case.citizen_id)
        proposer, level = authority.require_supervisor(person, chain, require_person(by, "sign a proposal"))
        methods = (self.p.store.get_agency(case.agency).policy.get("selection") or {}).get("methods")
        if methods and selection not in methods:
            raise TeleworkRefused(f"selection {selection!r} is not a way the policy selects people",
                                  field="/selection", rule="policy_selection", expected=f"one of {methods}",
                                  reason_th=POLICY_CONTENTS["selection"], seed="001 §9.1, §9.2.1")
        a = case.agreement
        proposal = {
            "proposal_id": new_id("PR"), "agency": case.agency, "proposer": proposer.party(), "proposer_level": level,
            "person": a["person"], "selection": selection, "work_category": a["work_category"],
            "pattern": a["pattern"], "period": a["period"], "targets": a["targets"],
            "proposed_date": self.now().date().isoformat(),
        }
        if reason:
            proposal["reason"] = reason
        case.proposal = self.documents.validate(D.PROPOSAL, proposal)
        self._audit("telework.proposal.signed", by.subject, case.case_id, proposal, citizen_id=proposer.citizen_id,
                    signed_at=self._stamp())
        case.status = PROPOSED
        self.p.store.save_case(case)
        return case

    def _next_order_number(self, agency: str, on: dt.date) -> str:
        """The agency's order number "N/ปี" (คำสั่ง ที่ 1/2569): running within the BE year."""
        year = on.year + 543
        taken = [c.order_letter.get("order_number", "") for c in self.p.store.list_cases(agency) if c.order_letter]
        used = [int(n.split("/")[0]) for n in taken if n.endswith(f"/{year}")]
        return f"{max(used, default=0) + 1}/{year}"

    def _acting(self, agency: str, chain: list, on: dt.date) -> dict[str, list[Officer]]:
        hr = self._hr(agency)
        return {u.org_id: hr.acting_heads(u.org_id, on) for u in chain if u.level in (DEPARTMENT, MINISTRY)}

    def issue_order(self, case_id: str, *, by: Actor, time_evidence_method: str) -> Case:
        """The head of agency (or the acting head HR records for the day) orders, in their own
        session (Leave Regulation B.E. 2555 cl. 11; seed 001 §5)."""
        case = self._case(case_id, PROPOSED)
        signer_id = require_person(by, "order telework")
        setup = self.p.store.get_agency(case.agency)
        person, chain = self._people(case.agency, case.citizen_id)
        today = self.now().date()
        unit, head, role = authority.require_head_of_agency(chain, signer_id, acting=self._acting(case.agency, chain, today))
        policy_in_force(setup.policy, today.isoformat(), "/order_date")
        policy_in_force(setup.policy, case.agreement["period"]["end"], "/end_date")
        methods = setup.policy["time_evidence_methods"]
        if time_evidence_method not in methods:
            raise TeleworkRefused(f"time evidence method {time_evidence_method!r} is not in the policy",
                                  field="/time_evidence_method", rule="policy_time_evidence_methods",
                                  expected=f"one of {methods}", seed="001 §7.2 (ข้อ 11)")
        a = case.agreement
        order = {
            "order_date": self.now().date().isoformat(), "issuing_agency": case.agency,
            "signer": {"name": head.name, "position": head.position, "role": role},
            "person": a["person"], "agreement_ref": a["agreement_id"], "pattern": a["pattern"],
            "start_date": a["period"]["start"], "end_date": a["period"]["end"],
            "time_evidence_method": time_evidence_method, "legal_basis": LEGAL_BASIS,
        }
        self.documents.validate(D.ORDER, order, pending=("book_number",))
        recipients = tuple(dict.fromkeys(r for r in [setup.hr_agency, *setup.copy_to] if r != case.agency)) \
            or (case.agency,)
        number = self._next_order_number(case.agency, today)
        start, end = dt.date.fromisoformat(order["start_date"]), dt.date.fromisoformat(order["end_date"])
        sent = self.p.correspondence.send_letter(Letter(
            sender_agency=case.agency, recipients=recipients,
            subject=f"คำสั่งให้ปฏิบัติราชการนอกสถานที่ ({person.name})",
            text=f"คำสั่ง{setup.name}\nที่ {number}\nเรื่อง ให้ข้าราชการปฏิบัติราชการนอกสถานที่\n\n"
                 f"อาศัยอำนาจตาม{LEGAL_BASIS} อนุญาตให้ {person.name} ตำแหน่ง {person.position} "
                 f"ปฏิบัติราชการนอกสถานที่ ตั้งแต่วันที่ {thai_date(start)} ถึงวันที่ {thai_date(end)} "
                 f"ตามข้อตกลง {a['agreement_id']}\n\nสั่ง ณ วันที่ {thai_date(today)}",
            signer=head, standard=D.ref(D.ORDER), document=order, date=today))
        order["book_number"] = sent.book_number
        case.order = self.documents.validate(D.ORDER, order)
        case.order_letter = {"book_number": sent.book_number, "order_number": number, "letter_id": sent.letter_id,
                             "sent_on": sent.sent_on, "deliveries": sent.deliveries, "signed_for": unit.name}
        # Nothing goes to HR's attendance here: an order is not evidence that a day was worked
        # (Leave Regulation B.E. 2555 cl. 11, seed 001 §7.2). Attendance reaches HR only from a
        # check-in / check-out actually given (``record_time``).
        self._audit("telework.order", by.subject, sent.book_number, order, citizen_id=signer_id, role=role,
                    signed_at=self._stamp())
        case.status = ORDERED
        self.p.store.save_case(case)
        if self.p.events is not None:
            event = {"order_id": case.case_id, "order_no": number, "citizen_id": case.citizen_id,
                     "agency": case.agency, "effective_from": order["start_date"], "effective_to": order["end_date"]}
            if a["pattern"].get("days_per_week"):
                event["days_per_week"] = a["pattern"]["days_per_week"]
            ref = self.p.events.order_issued(case.agency, event)
            if ref:
                case.order_letter["event_ref"] = ref
                self.p.store.save_case(case)
        return case

    # -- evidence (Leave Regulation cl. 11; seed 001 §7.4-7.5, §9.2) ------------------------
    def _store_evidence(self, case: Case, kind: str, work_date: str, doc: dict[str, Any], minutes: int) -> Evidence:
        digest, audit_ref = self._audit(f"telework.evidence.{kind}", case.citizen_id, case.case_id, doc,
                                        work_date=work_date, order=case.book_number)
        item = Evidence(doc.get("evidence_id") or doc.get("report_id") or doc["meeting_id"], case.case_id, kind,
                        work_date, doc, digest, audit_ref, minutes, recorded_at=self._stamp())
        self.p.store.add_evidence(item)
        return item

    def record_time(self, case_id: str, *, work_date: str, check_in: str, check_out: str | None = None,
                    method: str | None = None, source_system: str | None = None,
                    source_ip: str | None = None) -> Evidence:
        case = self._case(case_id, ORDERED, REVOCATION_PROPOSED, REVOKED)
        day = dt.date.fromisoformat(work_date)
        ev.require_day_in_order(case, day, "/work_date")
        if ev.local_date(check_in) != day:
            raise TeleworkRefused(f"check-in {check_in} is not on {work_date}", field="/check_in/at",
                                  rule="same_day", expected=f"a time on {work_date} (Asia/Bangkok)")
        latest = self.now() + dt.timedelta(minutes=5)  # a little clock skew between devices
        for edge, at in (("check_in", check_in), ("check_out", check_out)):
            if at and ev.parse_instant(at) > latest:
                raise TeleworkRefused(f"{edge.replace('_', '-')} {at} is in the future: a time record is given when "
                                      "it happens, never in advance", field=f"/{edge}/at", rule="not_in_future",
                                      expected=f"at or before {self.now().isoformat(timespec='minutes')}",
                                      reason_th="ต้องมีหลักฐานให้สามารถตรวจสอบวัน เวลาการปฏิบัติราชการได้",
                                      seed="001 §7.2 (ข้อ 11)")
        if check_out and ev.parse_instant(check_out) <= ev.parse_instant(check_in):
            raise TeleworkRefused("check-out is not after check-in", field="/check_out/at",
                                  rule="after_check_in", expected=f"later than {check_in}")
        method = method or case.order["time_evidence_method"]
        edge = {"method": method, **({"source_ip": source_ip} if source_ip else {})}
        doc = {"evidence_id": new_id("EV"), "person_citizen_id": case.citizen_id, "order_ref": case.book_number,
               "work_date": work_date, "check_in": {"at": check_in, **edge},
               "source_system": source_system or f"{case.agency}/telework"}
        if check_out:
            doc["check_out"] = {"at": check_out, **edge}
        self.documents.validate(D.TIME_EVIDENCE, doc)
        minutes = ev.merged_minutes([(ev.parse_instant(check_in), ev.parse_instant(check_out))]) if check_out else 0
        item = self._store_evidence(case, TIME, work_date, doc, minutes)
        setup = self.p.store.get_agency(case.agency)
        case.hr_messages.append(self.p.hr_records.write_attendance(case.agency, setup.hr_agency, doc))
        self.p.store.save_case(case)
        return item

    def record_progress(self, case_id: str, *, period: dict[str, str], items: list[dict[str, Any]],
                        channel: str, issues: str | None = None) -> Evidence:
        case = self._case(case_id, ORDERED, REVOCATION_PROPOSED)
        now = self.now()
        ev.require_within_order_period(case, now.date(), "/reported_at")
        targets = case.agreement["targets"]
        for i, item in enumerate(items):
            if not 0 <= item.get("target_index", -1) < len(targets):
                raise TeleworkRefused(f"progress item {i} names target {item.get('target_index')}",
                                      field=f"/items/{i}/target_index", rule="agreed_target",
                                      expected=f"0..{len(targets) - 1} (the agreement's targets)", seed="001 §6")
        doc = {"report_id": new_id("PG"), "agreement_ref": case.case_id, "person_citizen_id": case.citizen_id,
               "period": period, "reported_at": now.isoformat(timespec="seconds"), "channel": channel, "items": items}
        if issues:
            doc["issues"] = issues
        self.documents.validate(D.PROGRESS, doc)
        return self._store_evidence(case, PROGRESS, now.date().isoformat(), doc, 0)

    def record_emeeting(self, case_id: str, *, title: str, organizer: str, chair: dict[str, str], start: str,
                        end: str, participants: list[dict[str, Any]], recording: dict[str, str],
                        classification: str = "001", platform: str | None = None,
                        traffic_data_reference: str | None = None) -> Evidence:
        ev.require_unclassified_meeting(classification)
        ev.require_traffic_data(traffic_data_reference)
        ev.require_quorum_in_one_place(participants)
        case = self._case(case_id, ORDERED, REVOCATION_PROPOSED, REVOKED)
        day = ev.local_date(start)
        ev.require_day_in_order(case, day, "/start")
        name = case.agreement["person"]["name"]
        if all(p.get("name") != name for p in participants):
            raise TeleworkRefused(f"{name} is not among the meeting's participants", field="/participants",
                                  rule="person_attended", expected=f"a participant named {name}")
        doc = {"meeting_id": new_id("MT"), "title": title, "organizer": organizer, "chair": chair,
               "classification": classification, "start": start, "end": end, "participants": participants,
               "recording": recording}
        if platform:
            doc["platform"] = platform
        if traffic_data_reference:
            doc["traffic_data_reference"] = traffic_data_reference
        self.documents.validate(D.EMEETING, doc)
        minutes = ev.merged_minutes([(ev.parse_instant(start), ev.parse_instant(end))])
        return self._store_evidence(case, EMEETING, day.isoformat(), doc, minutes)

    def working_time(self, case_id: str) -> dict[str, dict[str, Any]]:
        case = self._case(case_id)
        table = ev.working_time(self.p.store.list_evidence(case_id))
        for day in case.active_days():
            table.setdefault(day.isoformat(), {"minutes": 0, "evidence": [], "items": 0})
        return dict(sorted(table.items()))

    def evidence_status(self, case_id: str, as_of: dt.date | None = None) -> dict[str, Any]:
        """The daily evidence status of one order (complete / incomplete / late / missing)."""
        case = self._case(case_id)
        as_of = as_of or self.now().date()
        days = ev.evidence_status(case, self.p.store.list_evidence(case_id), as_of)
        counts: dict[str, int] = {}
        for day in days:
            counts[day["status"]] = counts.get(day["status"], 0) + 1
        return {"case_id": case.case_id, "person": case.agreement["person"], "order_ref": case.book_number,
                "as_of": as_of.isoformat(), "days": days, "summary": counts}

    def evidence_status_by_person(self, agency: str, as_of: dt.date | None = None) -> list[dict[str, Any]]:
        """Per person of the agency with an order: the status counts over all their orders."""
        people: dict[str, dict[str, Any]] = {}
        for case in self.p.store.list_cases(agency):
            if case.order is None:
                continue
            status = self.evidence_status(case.case_id, as_of)
            row = people.setdefault(case.citizen_id, {"person": status["person"], "orders": [], "summary": {}})
            row["orders"].append({"case_id": case.case_id, "order_ref": case.book_number, "summary": status["summary"]})
            for key, n in status["summary"].items():
                row["summary"][key] = row["summary"].get(key, 0) + n
        return list(people.values())

    def alert_missing_evidence(self, as_of: dt.date | None = None, agency: str | None = None) -> list[Alert]:
        """Tell each supervisor, once per day, about ordered days with no time evidence (seed
        001 §7.2), about days a seed 003 on-site pattern flags (late arrival, early leave, short
        hours), and about progress reports overdue under the agreement's cadence (§9.2)."""
        as_of = as_of or self.now().date()
        raised = []
        for case in self.p.store.list_cases(agency):
            if case.status not in (ORDERED, REVOCATION_PROPOSED, REVOKED, REPORTED, EVALUATED):
                continue
            items = self.p.store.list_evidence(case.case_id)
            name = case.agreement["person"]["name"]
            notes = {d.isoformat(): f"{name}: ไม่มีหลักฐานวันเวลาปฏิบัติราชการ {thai_date(d)} ตามคำสั่ง {case.book_number}"
                     for d in ev.days_without_evidence(case, items, as_of)}
            for row in ev.evidence_status(case, items, as_of):
                if row["status"] == ev.FLAGGED and row["date"] not in notes:
                    findings = "; ".join(f["text_th"] for f in row["findings"])
                    notes[row["date"]] = (f"{name}: วันที่ {thai_date(dt.date.fromisoformat(row['date']))} "
                                          f"{findings} (ตามคำสั่ง {case.book_number})")
            for day, message in sorted(notes.items()):
                alert = Alert(new_id("AL"), case.case_id, case.supervisor_citizen_id, day, message)
                if self.p.store.add_alert(alert):
                    try:
                        alert.delivery_ref = self.p.notifications.notify(
                            case.agency, case.supervisor_citizen_id, "telework day without evidence or off its pattern",
                            {"case_id": case.case_id, "work_date": alert.work_date, "order_ref": case.book_number,
                             "message": alert.message})
                    except Exception:
                        # Not handed to the hub (e.g. no e-Office route yet): forget the alert so the
                        # next run raises it again, rather than keeping one that was never sent.
                        self.p.store.remove_alert(alert.alert_id)
                        raise
                    self.p.store.set_alert_delivery(alert.alert_id, alert.delivery_ref)
                    raised.append(alert)
            raised.extend(self._alert_overdue_progress(case, items, as_of))
        return raised

    def progress_schedule(self, case: Case, items: list[Evidence], as_of: dt.date) -> list[dict[str, Any]]:
        """The agreement's progress due dates (every ``report_every_days`` from the start, within
        the order) and whether a report came in the window ending at each (seed 001 §9.2)."""
        every = int(case.agreement.get("report_every_days") or 7)
        start = dt.date.fromisoformat(case.agreement["period"]["start"])
        end = dt.date.fromisoformat(case.agreement["period"]["end"])
        if case.revocation:
            end = min(end, dt.date.fromisoformat(case.revocation["effective_date"]) - dt.timedelta(days=1))
        reports = sorted(dt.date.fromisoformat(i.document["reported_at"][:10]) for i in items if i.kind == PROGRESS)
        rows, previous, due = [], start - dt.timedelta(days=1), start + dt.timedelta(days=every - 1)
        while due <= end:
            got = [r for r in reports if previous < r <= due]
            status = "received" if got else ("overdue" if due < as_of else "due")
            rows.append({"due": due.isoformat(), "status": status})
            previous, due = due, due + dt.timedelta(days=every)
        return rows

    def _alert_overdue_progress(self, case: Case, items: list[Evidence], as_of: dt.date) -> list[Alert]:
        raised = []
        for row in self.progress_schedule(case, items, as_of):
            if row["status"] != "overdue" or row["due"] in case.progress_alerts:
                continue
            due = dt.date.fromisoformat(row["due"])
            alert = Alert(new_id("AL"), case.case_id, case.supervisor_citizen_id, row["due"],
                          f"{case.agreement['person']['name']}: ไม่ได้รายงานความก้าวหน้าซึ่งครบกำหนด {thai_date(due)} "
                          f"ตามข้อตกลง {case.case_id}")
            alert.delivery_ref = self.p.notifications.notify(
                case.agency, case.supervisor_citizen_id, "telework progress report overdue",
                {"case_id": case.case_id, "due": row["due"], "message": alert.message})
            case.progress_alerts.append(row["due"])
            self.p.store.save_case(case)
            raised.append(alert)
        return raised

    # -- revocation (seed 001 §9.2.6) -------------------------------------------------------
    def propose_revocation(self, case_id: str, *, by: Actor, reason_code: str, reason: str) -> Case:
        case = self._case(case_id, ORDERED)
        person, chain = self._people(case.agency, case.citizen_id)
        proposer, _ = authority.require_supervisor(person, chain, require_person(by, "propose a revocation"))
        grounds = (self.p.store.get_agency(case.agency).policy.get("ending") or {}).get("grounds")
        if grounds and reason_code not in grounds:
            raise TeleworkRefused(f"{reason_code!r} is not a ground on which the policy ends telework",
                                  field="/reason_code", rule="policy_ending", expected=f"one of {grounds}",
                                  reason_th=POLICY_CONTENTS["ending"], seed="001 §9.1, §9.2.6")
        case.revocation_proposal = {"proposed_by": proposer.party(), "reason_code": reason_code, "reason": reason,
                                    "proposed_at": self._stamp()}
        self._audit("telework.revocation.proposed", by.subject, case.case_id, case.revocation_proposal,
                    citizen_id=proposer.citizen_id)
        case.status = REVOCATION_PROPOSED
        self.p.store.save_case(case)
        return case

    def revoke(self, case_id: str, *, by: Actor, effective_date: str | None = None) -> Case:
        case = self._case(case_id, REVOCATION_PROPOSED)
        head_id = require_person(by, "revoke a telework order")
        setup = self.p.store.get_agency(case.agency)
        person, chain = self._people(case.agency, case.citizen_id)
        unit, head, role = authority.require_head_of_agency(chain, head_id, "revoke a telework order",
                                                            acting=self._acting(case.agency, chain, self.now().date()))
        effective = effective_date or (self.now().date() + dt.timedelta(days=1)).isoformat()
        prop = case.revocation_proposal
        doc = {"revocation_id": new_id("RV"), "order_ref": case.book_number, "person_citizen_id": case.citizen_id,
               "proposed_by": prop["proposed_by"], "reason_code": prop["reason_code"], "reason": prop["reason"],
               "effective_date": effective,
               "decided_by": {"name": head.name, "position": head.position, "role": role},
               "decided_at": self._stamp()}
        self.documents.validate(D.REVOCATION, doc, pending=("book_number",))
        recipients = tuple(dict.fromkeys(r for r in [setup.hr_agency, *setup.copy_to] if r != case.agency)) \
            or (case.agency,)
        sent = self.p.correspondence.send_letter(Letter(
            sender_agency=case.agency, recipients=recipients,
            subject=f"ยกเลิกคำสั่งให้ปฏิบัติราชการนอกสถานที่ ({person.name})",
            text=f"ยกเลิกคำสั่ง{setup.name} ที่ {(case.order_letter or {}).get('order_number', '-')} "
                 f"(หนังสือที่ {case.book_number}) ตั้งแต่วันที่ {thai_date(dt.date.fromisoformat(effective))} "
                 f"เนื่องจาก{prop['reason']}\n\nสั่ง ณ วันที่ {thai_date(self.now().date())}",
            signer=head, standard=D.ref(D.REVOCATION), document=doc, reference=case.book_number,
            date=self.now().date()))
        doc["book_number"] = sent.book_number
        case.revocation = self.documents.validate(D.REVOCATION, doc)
        # HR holds only attendance that was actually given, so a revocation has nothing to
        # withdraw there: it ends the days on which evidence is accepted (``active_days``).
        self._audit("telework.revocation", by.subject, sent.book_number, doc, citizen_id=head_id, role=role)
        case.status = REVOKED
        self.p.store.save_case(case)
        return case

    # -- close (seed 001 §9.3) ----------------------------------------------------------------
    def submit_final_report(self, case_id: str, *, results: list[dict[str, Any]], comments: str | None = None) -> Case:
        """Results per target, once the period is over (seed 001 §9.3.1; a revocation ends it early)."""
        case = self._case(case_id, ORDERED, REVOKED)
        last = dt.date.fromisoformat(case.agreement["period"]["end"])
        if case.revocation:
            last = min(last, dt.date.fromisoformat(case.revocation["effective_date"]) - dt.timedelta(days=1))
        if self.now().date() <= last:
            raise TeleworkRefused(f"the period runs until {last}: the final report comes after it",
                                  field="/submitted_at", rule="after_period",
                                  expected=f"a date after {last}", reason_th="รายงานผลเมื่อสิ้นสุดระยะเวลาที่กำหนด",
                                  seed="001 §9.3.1")
        targets = case.agreement["targets"]
        for i, r in enumerate(results):
            if not 0 <= r.get("target_index", -1) < len(targets):
                raise TeleworkRefused(f"result {i} names target {r.get('target_index')}",
                                      field=f"/results/{i}/target_index", rule="agreed_target",
                                      expected=f"0..{len(targets) - 1}")
        evidenced = {e.work_date for e in self.p.store.list_evidence(case_id) if e.kind in ev.TIME_KINDS}
        days = [d for d in case.active_days() if d.isoformat() in evidenced]
        doc = {"report_id": new_id("FR"), "agreement_ref": case.case_id, "person_citizen_id": case.citizen_id,
               "period": case.agreement["period"], "days_worked_off_site": len(days) if case.off_site else 0,
               "results": results, "submitted_at": self._stamp()}
        if comments:
            doc["comments"] = comments
        case.final_report = self.documents.validate(D.FINAL_REPORT, doc)
        case.status = REPORTED
        self.p.store.save_case(case)
        return case

    def evaluate(self, case_id: str, *, by: Actor, target_results: list[dict[str, Any]], overall: str,
                 recommendation: str) -> Case:
        case = self._case(case_id, REPORTED)
        person, chain = self._people(case.agency, case.citizen_id)
        evaluator = authority.require_first_line(person, chain, require_person(by, "sign an evaluation"))
        indices = sorted(r.get("target_index") for r in target_results)
        if indices != list(range(len(case.agreement["targets"]))):
            raise TeleworkRefused("the evaluation must judge every agreed target once", field="/target_results",
                                  rule="every_target", expected=f"target_index 0..{len(case.agreement['targets']) - 1}",
                                  seed="001 §9.3.2")
        heads = authority.heads_of_agency(chain)
        doc = {"evaluation_id": new_id("EL"), "agreement_ref": case.case_id,
               "final_report_ref": case.final_report["report_id"], "person_citizen_id": case.citizen_id,
               "evaluator": evaluator.party(), "target_results": target_results, "overall": overall,
               "recommendation": recommendation, "reported_to_head_at": self._stamp()}
        case.evaluation = self.documents.validate(D.EVALUATION, doc)
        self._audit("telework.evaluation.signed", by.subject, case.case_id, doc, citizen_id=evaluator.citizen_id)
        if heads:
            case.hr_messages.append(self.p.notifications.notify(
                case.agency, heads[0][1].citizen_id, "telework evaluation reported to the head of agency", doc))
        case.status = EVALUATED
        self.p.store.save_case(case)
        return case
