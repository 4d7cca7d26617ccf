"""Attendance only from evidence (seed 001 §7.2; Leave Regulation B.E. 2555 cl. 11: "จะต้องมี
หลักฐานให้สามารถตรวจสอบวัน เวลาการปฏิบัติราชการได้"), and the daily evidence status."""
from __future__ import annotations

import pytest

from hub.apps.telework import pilot
from hub.apps.telework.domain.errors import TeleworkRefused
from tests.unit.telework_world import World, build_world, ordered_case


@pytest.fixture
def world() -> World:
    return build_world()


def test_seed_001_7_2_an_order_writes_no_attendance(world: World) -> None:
    ordered_case(world)
    assert world.hr_records.days == {} and world.hr_records.sent == []


def test_seed_001_7_2_attendance_reaches_hr_only_from_a_given_time_record_with_its_source(world: World) -> None:
    case = ordered_case(world)
    world.clock.set("2026-11-02", "17:00")
    world.service.record_time(case.case_id, work_date="2026-11-02", check_in="2026-11-02T08:41:00+07:00",
                              check_out="2026-11-02T16:45:00+07:00", source_system="TH/GOV/CGD/checkin-app",
                              source_ip="203.0.113.7")
    assert list(world.hr_records.days) == [(pilot.ANALYST.citizen_id, "2026-11-02")]
    row = world.hr_records.days[(pilot.ANALYST.citizen_id, "2026-11-02")]
    assert row == {"order": case.book_number, "source": "TH/GOV/CGD/checkin-app",
                   "check_in": "2026-11-02T08:41:00+07:00", "check_out": "2026-11-02T16:45:00+07:00"}


def test_seed_001_7_2_a_progress_report_is_not_time_evidence(world: World) -> None:
    case = ordered_case(world)
    world.clock.set("2026-11-03", "15:00")
    world.service.record_progress(case.case_id, period={"start": "2026-11-02", "end": "2026-11-03"},
                                  channel="e-office", items=[{"target_index": 0, "progress_percent": 20}])
    assert world.hr_records.sent == []  # progress never becomes attendance
    alerts = world.service.alert_missing_evidence()
    assert [a.work_date for a in alerts] == ["2026-11-02", "2026-11-03"]  # the report day is still without evidence
    world.clock.set("2026-11-04", "09:00")
    status = {d["date"]: d["status"] for d in world.service.evidence_status(case.case_id)["days"]}
    assert status["2026-11-03"] == "missing"


def test_seed_001_7_2_a_time_record_in_advance_is_refused(world: World) -> None:
    case = ordered_case(world)
    world.clock.set("2026-11-02", "07:00")
    with pytest.raises(TeleworkRefused) as exc:
        world.service.record_time(case.case_id, work_date="2026-11-03", check_in="2026-11-03T08:30:00+07:00")
    assert exc.value.rule == "not_in_future" and exc.value.field == "/check_in/at"
    assert world.hr_records.sent == []


def test_seed_001_7_2_daily_status_complete_incomplete_late_missing_per_order_and_person(world: World) -> None:
    s = world.service
    case = ordered_case(world)
    world.clock.set("2026-11-02", "16:40")
    s.record_time(case.case_id, work_date="2026-11-02", check_in="2026-11-02T08:30:00+07:00",
                  check_out="2026-11-02T16:35:00+07:00")
    world.clock.set("2026-11-03", "12:00")
    s.record_time(case.case_id, work_date="2026-11-03", check_in="2026-11-03T08:30:00+07:00")
    world.clock.set("2026-11-06", "10:00")  # 11-04's record arrives two days later
    s.record_time(case.case_id, work_date="2026-11-04", check_in="2026-11-04T08:30:00+07:00",
                  check_out="2026-11-04T16:30:00+07:00")
    report = s.evidence_status(case.case_id)
    days = {d["date"]: d["status"] for d in report["days"]}
    assert days["2026-11-02"] == "complete" and days["2026-11-03"] == "incomplete"
    assert days["2026-11-04"] == "late" and days["2026-11-05"] == "missing"
    assert days["2026-11-06"] == "pending" and days["2026-11-09"] == "scheduled"
    assert report["order_ref"] == case.book_number and report["summary"]["missing"] == 1
    people = s.evidence_status_by_person(pilot.CGD)
    assert [p["person"]["citizen_id"] for p in people] == [pilot.ANALYST.citizen_id]
    assert people[0]["summary"] == report["summary"] and people[0]["orders"][0]["order_ref"] == case.book_number
