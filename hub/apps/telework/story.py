"""The telework story across three agencies, through the hub (used by ``hub demo`` and the
end-to-end test).

CGD (กรมบัญชีกลาง) orders telework; the Ministry of Finance's permanent secretary office keeps
HR (DPIS) and finance (GFMIS-style); OPDC (สำนักงาน ก.พ.ร.) receives copies and the KPIs.
Four officers: two complete the cycle, one is refused (direct public service), one revoked.

Every artefact lands in the agencies' reference systems (``wiring.connect_pilot``): letters in
the e-Saraban registers through the hub's e-CMS node, telework days in the ministry's DPIS,
evidence in the hub's signed audit log, the savings batch in the ministry's GFMIS.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

from hub.apps.telework import pilot
from hub.apps.telework.domain.actors import Actor
from hub.apps.telework.domain.errors import TeleworkRefused
from hub.apps.telework.domain.evidence import BANGKOK
from hub.apps.telework.ports import BatchResult
from hub.apps.telework.wiring import PilotSystems, TeleworkApp, connect_pilot
from hub.transport.messages import FINISHED


class StoryClock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 10, 26, 9, 0, tzinfo=BANGKOK)

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, day: str, hhmm: str = "09:00") -> None:
        self.now = dt.datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=BANGKOK)

    def advance(self, *, minutes: int) -> None:
        self.now += dt.timedelta(minutes=minutes)


# The pilot's people who sign, each with their own hub login (an agency operator of CGD).
LOGINS = {pilot.DIRECTOR_GENERAL.citizen_id: "dg.cgd", pilot.DIVISION_HEAD.citizen_id: "director.gfs.cgd",
          pilot.ANALYST.citizen_id: "somjai.cgd", pilot.DEVELOPER.citizen_id: "somchai.cgd",
          pilot.AUDITOR.citizen_id: "sompong.cgd", pilot.PENSION_HEAD.citizen_id: "director.pen.cgd",
          pilot.COUNTER.citizen_id: "somsri.cgd"}
# Seed 003 New Normal pattern 1: on-site with staggered hours (a 07:00-15:00 shift).
STAGGERED = {"kind": "new-normal", "mode": "staggered-hours", "start_time": "07:00", "end_time": "15:00"}


def signers(hub, service) -> dict[str, tuple[str, str]]:  # noqa: ANN001
    """Give each signing officer a login and link it to their citizen ID. The password is
    random and not shown: the story signs for them through the service, as their session
    would (the API path, /v1/auth/login then the signing routes, is in the integration tests)."""
    import secrets

    from hub.schemas.principal import OPERATOR

    names = {o.citizen_id: o.name for o, _, _ in pilot.PEOPLE}
    for citizen_id, username in LOGINS.items():
        if hub.security.users.get(username) is None:  # kept from an earlier run on the same data folder
            hub.security.users.add(username, secrets.token_urlsafe(18), roles=(OPERATOR,), actor="demo",
                                   member_id=pilot.CGD)
        service.link_signer(pilot.CGD, username=username, citizen_id=citizen_id, actor="demo")
    return {cid: (u, names[cid]) for cid, u in LOGINS.items()}


@dataclass
class StoryResult:
    app: TeleworkApp
    systems: PilotSystems
    cases: dict[str, str] = field(default_factory=dict)  # officer name -> case id
    onsite: str | None = None  # the New Normal on-site case (seed 003 pattern 1)
    refusals: list[tuple[str, TeleworkRefused]] = field(default_factory=list)
    savings: dict[str, Any] = field(default_factory=dict)
    annual: dict[str, Any] = field(default_factory=dict)
    alerts: list[Any] = field(default_factory=list)
    batch: BatchResult | None = None  # the reference GFMIS's verdict on the savings batch
    gsms: dict[str, Any] = field(default_factory=dict)  # the KPI report sent to GSMS with that verdict
    log: list[str] = field(default_factory=list)


def meeting(app: TeleworkApp, case_id: str, day: str, person: pilot.Officer, classification: str = "001"):
    return app.service.record_emeeting(
        case_id, title="ประชุมติดตามงานประจำสัปดาห์", organizer=pilot.CGD,
        chair={"name": pilot.DIVISION_HEAD.name, "position": pilot.DIVISION_HEAD.position},
        start=f"{day}T10:00:00+07:00", end=f"{day}T11:30:00+07:00", classification=classification,
        platform="Cisco Webex", traffic_data_reference=f"webex-traffic-{day}",
        participants=[{"name": pilot.DIVISION_HEAD.name, "attendance": "on-site", "agency": pilot.CGD},
                      {"name": person.name, "attendance": "remote", "agency": pilot.CGD}],
        recording={"reference": f"vault://cgd/meetings/{day}.mp4", "media": "audio-video",
                   "sha256": hashlib.sha256(f"recording {day}".encode()).hexdigest()})


def run_story(hub, node_url: str) -> StoryResult:  # noqa: ANN001
    """Connect the pilot's systems (``node_url``: the hub's e-CMS endpoint, served) and run the
    cycle. The caller closes ``result.systems``."""
    clock = StoryClock()
    systems = connect_pilot(hub, node_url=node_url, clock=clock)
    try:
        systems.start_clerks()
        return _cycle(hub, systems, clock)
    except BaseException:
        systems.close()  # the clerks' threads and the e-Saraban connections
        raise


def _cycle(hub, systems: PilotSystems, clock: StoryClock) -> StoryResult:  # noqa: ANN001
    app = systems.app
    s, out = app.service, StoryResult(app, systems)
    say = out.log.append
    s.register_agency(pilot.policy(), name=pilot.AGENCY_NAMES[pilot.CGD], hr_agency=pilot.MOF,
                      finance_agency=pilot.MOF, strategy_agency=pilot.OPDC, copy_to=[pilot.OPDC],
                      gfmis_code=pilot.GFMIS_CODE, gsms_code=pilot.GSMS_CODE)
    say(f"policy {pilot.policy()['policy_id']} registered for {pilot.CGD}; HR at {pilot.MOF}, copies to {pilot.OPDC}")
    people = signers(hub, s)
    say(f"logins linked to people who sign: {', '.join(f'{u} = {n}' for u, n in people.values())}")

    def by(officer: pilot.Officer) -> Actor:  # the officer, in their own session
        return Actor.person(officer.citizen_id, f"user:{people[officer.citizen_id][0]}")

    drafting_app = Actor.machine(f"client:{pilot.CGD}/telework")

    def agree(person, pattern, start, end, category="academic-analysis"):
        case = s.record_agreement(pilot.CGD, person_id=person.citizen_id, supervisor_id=pilot.DIVISION_HEAD.citizen_id,
                                  work_category=category, pattern=pattern, period={"start": start, "end": end},
                                  targets=pilot.targets(start, end), reporting_channels=["e-office", "video-meeting"],
                                  by=drafting_app)
        clock.advance(minutes=20)
        s.sign_agreement(case.case_id, by=by(person))
        clock.advance(minutes=45)
        return s.sign_agreement(case.case_id, by=by(pilot.DIVISION_HEAD))

    # 1. Agreements (§6). The counter officer serves the public: refused with the seed's reason.
    analyst = agree(pilot.ANALYST, {"kind": "occasional", "working_days": 10}, "2026-11-02", "2026-11-13")
    developer = agree(pilot.DEVELOPER, {"kind": "regular", "days_per_week": 2, "months": 1}, "2026-11-02", "2026-11-27")
    auditor = agree(pilot.AUDITOR, {"kind": "regular", "days_per_week": 3, "months": 1}, "2026-11-02", "2026-11-27")
    for who, case in ((pilot.ANALYST, analyst), (pilot.DEVELOPER, developer), (pilot.AUDITOR, auditor)):
        out.cases[who.name] = case.case_id
        say(f"agreement {case.case_id}: {who.name} with {pilot.DIVISION_HEAD.name}, {len(case.scheduled_days)} days")
    try:
        agree(pilot.COUNTER, {"kind": "occasional", "working_days": 5}, "2026-11-02", "2026-11-06")
    except TeleworkRefused as exc:
        out.refusals.append((pilot.COUNTER.name, exc))
        say(f"REFUSED agreement for {pilot.COUNTER.name}: {exc.rule} — {exc.reason_th}")

    # 1b. Seed 003 New Normal, on-site: the counter officer serves the public at the office, in a
    # staggered 07:00-15:00 shift. On-site patterns are not judged by the off-site rules (§3.2).
    onsite = s.record_agreement(pilot.CGD, person_id=pilot.COUNTER.citizen_id,
                                supervisor_id=pilot.PENSION_HEAD.citizen_id, work_category="measurable-results",
                                pattern=STAGGERED, period={"start": "2026-11-02", "end": "2026-11-06"},
                                targets=pilot.targets("2026-11-02", "2026-11-06"), reporting_channels=["e-office"],
                                by=drafting_app)
    s.sign_agreement(onsite.case_id, by=by(pilot.COUNTER))
    s.sign_agreement(onsite.case_id, by=by(pilot.PENSION_HEAD))
    s.propose(onsite.case_id, by=by(pilot.PENSION_HEAD), selection="assigned",
              reason="แบ่งช่วงเวลาการทำงาน ณ จุดบริการตามแนวทาง New Normal")
    out.onsite = onsite.case_id
    say(f"New Normal on-site agreement {onsite.case_id}: {pilot.COUNTER.name}, staggered hours "
        f"{STAGGERED['start_time']}-{STAGGERED['end_time']} at the office (seed 003 pattern 1)")

    # 2. Proposals (§5) and orders; a division director may not sign the order.
    for case_id in out.cases.values():
        s.propose(case_id, by=by(pilot.DIVISION_HEAD), reason="โครงการนำร่องปีงบประมาณ 2570")
    try:
        s.issue_order(analyst.case_id, by=by(pilot.DIVISION_HEAD), time_evidence_method="check-in-app")
    except TeleworkRefused as exc:
        out.refusals.append((pilot.DIVISION_HEAD.name, exc))
        say(f"REFUSED order signed by {pilot.DIVISION_HEAD.name}: {exc.rule}")
    for name, case_id in out.cases.items():
        case = s.issue_order(case_id, by=by(pilot.DIRECTOR_GENERAL), time_evidence_method="check-in-app")
        say(f"order {case.book_number} for {name}: letter from CGD's e-Saraban to "
            f"{', '.join(case.order_letter['deliveries'])} via e-CMS, signed by {case.order['signer']['name']} "
            "in their session")

    shift = s.issue_order(onsite.case_id, by=by(pilot.DIRECTOR_GENERAL), time_evidence_method="check-in-app")
    say(f"order {shift.book_number} (คำสั่ง ที่ {shift.order_letter['order_number']}) for {pilot.COUNTER.name}: "
        "on-site, staggered hours")

    # 3. Evidence on telework days (Leave Regulation cl. 11).
    for day, came, left in (("2026-11-02", "06:55", "15:05"), ("2026-11-03", "07:40", "15:10"),
                            ("2026-11-04", "06:58", "15:02")):
        clock.set(day, "15:30")
        s.record_time(onsite.case_id, work_date=day, check_in=f"{day}T{came}:00+07:00",
                      check_out=f"{day}T{left}:00+07:00", source_system=f"{pilot.CGD}/timeclock")
    late = [d for d in s.evidence_status(onsite.case_id, dt.date(2026, 11, 4))["days"] if d["status"] == "flagged"]
    say(f"on-site shift of {pilot.COUNTER.name}: {len(late)} day(s) flagged against the pattern "
        f"({'; '.join(f['text_th'] for d in late for f in d['findings'])})")
    for name, case_id in out.cases.items():
        case = s.p.store.get_case(case_id)
        person = next(o for o, _, _ in pilot.PEOPLE if o.name == name)
        for day in case.scheduled_days[:3]:
            if name == pilot.AUDITOR.name and day > "2026-11-02":
                continue  # the auditor stops reporting: the supervisor is alerted
            clock.set(day, "16:45")
            s.record_time(case_id, work_date=day, check_in=f"{day}T08:30:00+07:00", check_out=f"{day}T16:30:00+07:00",
                          source_ip="10.20.30.40")
            if day == case.scheduled_days[1]:
                meeting(app, case_id, day, person)
        s.record_progress(case_id, period={"start": case.scheduled_days[0], "end": clock.now.date().isoformat()},
                          channel="e-office", items=[{"target_index": 0, "progress_percent": 40, "achieved_value": 1}])
    try:
        meeting(app, analyst.case_id, "2026-11-04", pilot.ANALYST, classification="003")
    except TeleworkRefused as exc:
        out.refusals.append(("e-meeting ลับมาก", exc))
        say(f"REFUSED e-meeting classified 003: {exc.rule}")
    try:
        s.record_time(analyst.case_id, work_date="2026-11-07", check_in="2026-11-07T09:00:00+07:00")
    except TeleworkRefused as exc:
        out.refusals.append(("evidence on Saturday 2026-11-07", exc))
        say(f"REFUSED evidence for 2026-11-07: {exc.rule}")
    clock.set("2026-11-06", "18:00")
    out.alerts = s.alert_missing_evidence()
    for alert in out.alerts:
        say(f"alert to supervisor: {alert.message}")

    # 4. Revocation (§9.2.6): the supervisor proposes, the head revokes.
    s.propose_revocation(auditor.case_id, by=by(pilot.DIVISION_HEAD), reason_code="agreement-breach",
                         reason="ไม่รายงานหลักฐานการปฏิบัติงานตามข้อตกลง")
    revoked = s.revoke(auditor.case_id, by=by(pilot.DIRECTOR_GENERAL), effective_date="2026-11-09")
    say(f"revocation {revoked.revocation['book_number']} of {revoked.book_number} ({pilot.AUDITOR.name})")

    # 5. Close (§9.3): final reports, evaluation against the targets, report to the head.
    clock.set("2026-11-30", "10:00")
    for name, case_id in out.cases.items():
        s.submit_final_report(case_id, results=[
            {"target_index": 0, "achieved_value": 2, "status": "achieved"},
            {"target_index": 1, "achieved_value": 88, "status": "partly-achieved"}])
        met = "met" if name != pilot.AUDITOR.name else "not-met"
        s.evaluate(case_id, by=by(pilot.DIVISION_HEAD),
                   overall="very-good" if met == "met" else "needs-improvement",
                   recommendation="continue" if met == "met" else "end",
                   target_results=[{"target_index": 0, "status": met, "score": 90 if met == "met" else 40},
                                   {"target_index": 1, "status": "partly-met", "score": 75}])
        say(f"evaluated {name}")

    # 6. Agency reporting (§9.3.3, §12; seed 000 GSMS <-> GFMIS).
    out.savings = app.reports.savings(pilot.CGD, 2570)
    doc = out.savings["document"]
    say(f"savings {doc['report_id']}: electricity {doc['utilities']['electricity']} THB, travel "
        f"{doc['travel']['cost']} THB / {doc['travel']['hours']} h -> GFMIS batch and GSMS KPIs")
    out.annual = app.reports.annual_evaluation(
        pilot.CGD, 2570, effectiveness_score=4.1, satisfaction_respondents=3, satisfaction_score=4.3,
        lessons=["กำหนดวันประชุมออนไลน์ประจำสัปดาห์ช่วยให้ติดตามงานได้ต่อเนื่อง",
                 "ผู้บังคับบัญชาควรได้รับแจ้งเตือนทันทีเมื่อไม่มีหลักฐานวันเวลาปฏิบัติราชการ"],
        savings_ref=doc["report_id"])

    # 7. The ministry's GFMIS answers the batch file; the hub records the answer on the batch.
    wait_delivered(hub)
    report = systems.settle_finance()
    out.batch = app.reports.finance_result(doc["report_id"])
    say(f"GFMIS: savings batch {out.batch.status} ({out.batch.detail.get('status')}); result files "
        f"applied {report.applied}, waiting {report.waiting}, failed {len(report.failed)}")
    # 8. GSMS records the KPIs together with GFMIS's verdict on the same figures (seed 000).
    if out.batch.status != "pending":
        out.gsms = app.reports.report_finance_verdict(doc["report_id"])
        wait_delivered(hub)
        say(f"GSMS: KPI report {doc['report_id']} recorded with the GFMIS verdict {out.gsms['verdict']}")
    return out


def wait_delivered(hub, timeout: float = 60.0) -> dict[str, int]:  # noqa: ANN001
    """Until no message is still on its way (each delivered, dead, or answered by its receiver)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = hub.messages.counts()
        if sum(v for k, v in counts.items() if k not in FINISHED) == 0:
            return counts
        time.sleep(0.1)
    return hub.messages.counts()


def wait_letters_accepted(systems: PilotSystems, book_numbers: list[str], timeout: float = 60.0) -> dict[str, dict]:
    """Until every recipient's e-Saraban has accepted each letter; {book number: {department: status}}."""
    office = systems.office(pilot.CGD)
    deadline = time.monotonic() + timeout
    while True:
        status = {book: office.delivery_status(book) for book in book_numbers}
        if all(d["accept_id"] for per_book in status.values() for d in per_book.values()):
            return status
        if time.monotonic() > deadline:
            return status
        time.sleep(0.2)
