"""The telework cycle on in-memory fakes: each refusal with its reason, and the full cycle."""
from __future__ import annotations

import hashlib

import pytest

from hub.apps.telework import pilot
from hub.apps.telework.domain.errors import InvalidState, NotAuthorised, TeleworkRefused
from hub.errors import ValidationFailed
from tests.unit.telework_world import MACHINE, World, agree, build_world, by, ordered_case

REC = {"reference": "s3://cgd-meetings/2026-11-04/weekly.mp4", "media": "audio-video",
       "sha256": hashlib.sha256(b"recording").hexdigest()}


def meeting(world: World, case, classification: str = "001", start: str = "2026-11-04T10:00:00+07:00",
            end: str = "2026-11-04T11:00:00+07:00"):
    return world.service.record_emeeting(
        case.case_id, title="ประชุมติดตามงานประจำสัปดาห์", organizer=pilot.CGD,
        chair={"name": pilot.DIVISION_HEAD.name, "position": pilot.DIVISION_HEAD.position},
        start=start, end=end, classification=classification, platform="Webex",
        participants=[{"name": pilot.DIVISION_HEAD.name, "attendance": "on-site", "agency": pilot.CGD},
                      {"name": pilot.ANALYST.name, "attendance": "remote", "agency": pilot.CGD}],
        recording=REC, traffic_data_reference="webex-log-2026-11-04")


@pytest.fixture
def world() -> World:
    return build_world()


def test_order_by_someone_not_head_of_agency_is_refused(world: World) -> None:
    case = agree(world)
    world.service.propose(case.case_id, by=by(pilot.DIVISION_HEAD))
    with pytest.raises(NotAuthorised) as exc:
        world.service.issue_order(case.case_id, by=by(pilot.DIVISION_HEAD),
                                  time_evidence_method="check-in-app")
    err = exc.value
    assert err.rule == "head_of_agency" and err.field == "/signer/citizen_id" and err.status_code == 403
    assert "ข้อ 11" in err.reason_th and "head of the agency" in err.message
    assert world.saraban.outgoing == {} and world.hr_records.days == {}  # nothing sent


def test_agreement_for_ineligible_work_is_refused_with_the_seed_reason(world: World) -> None:
    with pytest.raises(TeleworkRefused) as exc:
        agree(world, pilot.COUNTER)
    err = exc.value
    assert err.rule == "ineligible_work:direct-public-service" and err.field == "/person/position"
    assert err.reason_th.startswith("งานที่มีหน้าที่รับผิดชอบเกี่ยวกับการให้บริการประชาชน")
    assert world.store.cases == {}


def test_emeeting_on_a_classified_matter_is_refused(world: World) -> None:
    case = ordered_case(world)
    with pytest.raises(TeleworkRefused) as exc:
        meeting(world, case, classification="002")
    assert exc.value.rule == "emeeting_not_classified" and exc.value.expected == "001 (ปกติ)"
    assert "ชั้นความลับ" in exc.value.reason_th
    assert world.audit.entries[-1]["kind"] == "telework.order"  # nothing appended


def test_evidence_for_a_day_outside_the_order_is_refused(world: World) -> None:
    case = ordered_case(world)
    with pytest.raises(TeleworkRefused) as exc:
        world.service.record_time(case.case_id, work_date="2026-11-16", check_in="2026-11-16T08:30:00+07:00")
    assert exc.value.rule == "day_within_order" and exc.value.field == "/work_date"
    with pytest.raises(TeleworkRefused):  # a Saturday inside the period is not a telework day either
        world.service.record_time(case.case_id, work_date="2026-11-07", check_in="2026-11-07T08:30:00+07:00")


def test_proposal_by_someone_outside_the_supervisor_chain_is_refused(world: World) -> None:
    case = agree(world)
    with pytest.raises(NotAuthorised) as exc:
        world.service.propose(case.case_id, by=by(pilot.PENSION_HEAD))
    assert exc.value.rule == "supervisor_chain"


def test_agreement_must_be_with_the_first_line_supervisor(world: World) -> None:
    with pytest.raises(NotAuthorised) as exc:
        world.service.record_agreement(
            pilot.CGD, person_id=pilot.ANALYST.citizen_id, supervisor_id=pilot.DIRECTOR_GENERAL.citizen_id,
            work_category="academic-analysis", pattern={"kind": "occasional", "working_days": 5},
            period={"start": "2026-11-02", "end": "2026-11-13"}, targets=pilot.targets("2026-11-02", "2026-11-13"),
            reporting_channels=["e-office"], by=MACHINE)
    assert exc.value.rule == "first_line_supervisor"


def test_unmeasurable_target_fails_the_standard(world: World) -> None:
    with pytest.raises(ValidationFailed) as exc:
        world.service.record_agreement(
            pilot.CGD, person_id=pilot.ANALYST.citizen_id, supervisor_id=pilot.DIVISION_HEAD.citizen_id,
            work_category="academic-analysis", pattern={"kind": "occasional", "working_days": 5},
            period={"start": "2026-11-02", "end": "2026-11-13"},
            targets=[{"description": "ทำงานให้ดี", "due": "2026-11-13"}], reporting_channels=["e-office"], by=MACHINE)
    assert {e.field for e in exc.value.errors} >= {"/targets/0/measure", "/targets/0/target_value"}


def test_the_whole_cycle_on_fakes(world: World) -> None:
    s = world.service
    case = ordered_case(world)
    assert case.book_number == "กค 0401/1"
    letter = world.saraban.outgoing[pilot.CGD][0]
    assert letter.letter.recipients == (pilot.MOF, pilot.OPDC) and world.saraban.incoming[pilot.MOF][0] is letter
    assert world.hr_records.days == {}  # an order is not attendance (seed 001 §7.2): nothing to HR yet

    world.clock.set("2026-11-02", "17:00")
    s.record_time(case.case_id, work_date="2026-11-02", check_in="2026-11-02T08:30:00+07:00",
                  check_out="2026-11-02T16:30:00+07:00")
    world.clock.set("2026-11-04", "12:00")
    item = meeting(world, case)
    s.record_progress(case.case_id, period={"start": "2026-11-02", "end": "2026-11-04"}, channel="e-office",
                      items=[{"target_index": 0, "progress_percent": 50, "achieved_value": 1}])
    table = s.working_time(case.case_id)
    assert table["2026-11-02"]["minutes"] == 480 and table["2026-11-04"]["minutes"] == 60
    assert table["2026-11-03"]["minutes"] == 0  # a scheduled day without evidence so far

    alerts = s.alert_missing_evidence()
    assert [a.work_date for a in alerts] == ["2026-11-03"]
    assert world.notes.sent[0][1] == pilot.DIVISION_HEAD.citizen_id
    assert s.alert_missing_evidence() == []  # once per day

    assert world.audit.find(item.sha256) == item.audit_ref and world.audit.verify().ok
    world.audit.entries[1]["detail"]["work_date"] = "2026-11-05"  # tamper
    check = world.audit.verify()
    assert not check.ok and check.first_bad == "audit:2"
    world.audit.entries[1]["detail"]["work_date"] = "2026-11-02"

    world.clock.set("2026-11-14")
    s.submit_final_report(case.case_id, results=[
        {"target_index": 0, "achieved_value": 2, "status": "achieved"},
        {"target_index": 1, "achieved_value": 92, "status": "achieved"}])
    done = s.evaluate(case.case_id, by=by(pilot.DIVISION_HEAD), overall="very-good",
                      recommendation="continue", target_results=[
                          {"target_index": 0, "status": "met", "score": 95},
                          {"target_index": 1, "status": "met", "score": 90}])
    assert done.status == "evaluated" and done.final_report["days_worked_off_site"] == 2
    assert world.notes.sent[-1][1] == pilot.DIRECTOR_GENERAL.citizen_id  # reported to the head

    report = world.reports.savings(pilot.CGD, 2570)
    assert report["document"]["participants"] == 1
    assert world.reports.finance_result(report["document"]["report_id"]).status == "accepted"
    kpi_agency, kpi = world.strategy.reports[0]
    assert kpi_agency == pilot.OPDC and kpi["financial"]["utilities"] == report["document"]["utilities"]
    assert kpi["gfmis"] == {"batch_ref": report["finance_batch_ref"], "verdict": "pending"}
    # seed 000: GSMS gets the KPIs again together with GFMIS's verdict on the same figures
    verdict = world.reports.report_finance_verdict(report["document"]["report_id"])
    _, again = world.strategy.reports[1]
    assert verdict["verdict"] == "accepted" and again["gfmis"]["verdict"] == "accepted"
    assert again["report_ref"] == kpi["report_ref"] == report["document"]["report_id"]
    annual = world.reports.annual_evaluation(pilot.CGD, 2570, effectiveness_score=4.2, satisfaction_respondents=12,
                                             satisfaction_score=4.5, lessons=["ควรกำหนดวันประชุมออนไลน์ประจำสัปดาห์"],
                                             savings_ref=report["document"]["report_id"])
    assert annual["document"]["efficiency"] == {"targets_total": 2, "targets_met": 2,
                                                "note": "2 of 2 agreed targets met in 1 arrangements"}


def test_revocation_needs_a_proposal_then_the_head_and_updates_hr(world: World) -> None:
    s = world.service
    case = ordered_case(world, pilot.AUDITOR)
    with pytest.raises(InvalidState):
        s.revoke(case.case_id, by=by(pilot.DIRECTOR_GENERAL))
    world.clock.set("2026-11-05")
    s.propose_revocation(case.case_id, by=by(pilot.DIVISION_HEAD), reason_code="agreement-breach",
                         reason="ไม่รายงานความก้าวหน้าตามข้อตกลง")
    with pytest.raises(NotAuthorised):
        s.revoke(case.case_id, by=by(pilot.DIVISION_HEAD))
    revoked = s.revoke(case.case_id, by=by(pilot.DIRECTOR_GENERAL))
    assert revoked.status == "revoked" and revoked.revocation["book_number"] == "กค 0401/2"
    assert revoked.revocation["order_ref"] == "กค 0401/1"
    # HR never held pre-filled days, so nothing is withdrawn from it (only evidence reaches HR)
    assert world.hr_records.sent == []
    with pytest.raises(TeleworkRefused) as exc:
        s.record_time(case.case_id, work_date="2026-11-09", check_in="2026-11-09T08:30:00+07:00")
    assert "after the revocation" in exc.value.message
