"""Seed 003 patterns enforced and monitoring (seed 001 §7.4-7.5, §9.2-9.3): late and short
days are reported, progress is due on the agreement's cadence, the final report waits for
the end of the period, an e-meeting keeps traffic data and a third of its members together."""
from __future__ import annotations

import pytest

from hub.apps.telework import pilot
from hub.apps.telework.domain.errors import TeleworkRefused
from tests.unit.telework_world import World, build_world, ordered_case
from tests.unit.test_telework_service import meeting


@pytest.fixture
def world() -> World:
    return build_world()


def statuses(world: World, case) -> dict[str, dict]:  # noqa: ANN001
    return {d["date"]: d for d in world.service.evidence_status(case.case_id)["days"]}


def test_seed_003_pattern_1_staggered_hours_flags_a_late_check_in_and_an_early_leave(world: World) -> None:
    case = ordered_case(world, pilot.ANALYST, pattern={"kind": "new-normal", "mode": "staggered-hours",
                                                       "start_time": "07:00", "end_time": "15:00"})
    assert case.off_site is False
    s = world.service
    world.clock.set("2026-11-02", "15:10")
    s.record_time(case.case_id, work_date="2026-11-02", check_in="2026-11-02T06:55:00+07:00",
                  check_out="2026-11-02T15:05:00+07:00")
    world.clock.set("2026-11-03", "15:10")
    s.record_time(case.case_id, work_date="2026-11-03", check_in="2026-11-03T10:30:00+07:00",
                  check_out="2026-11-03T14:00:00+07:00")  # accepted as evidence, but not silently
    world.clock.set("2026-11-04", "09:00")
    days = statuses(world, case)
    assert days["2026-11-02"]["status"] == "complete" and days["2026-11-02"]["findings"] == []
    assert days["2026-11-03"]["status"] == "flagged"
    assert [f["finding"] for f in days["2026-11-03"]["findings"]] == ["late-arrival", "early-leave"]
    alerts = {a.work_date: a.message for a in s.alert_missing_evidence()}
    assert "เข้างานเวลา 10:30 น. หลังเวลาเริ่มงานตามรูปแบบ 07:00 น." in alerts["2026-11-03"]
    assert "3 พฤศจิกายน 2569" in alerts["2026-11-03"]


def test_seed_003_pattern_2_counted_hours_flags_a_short_day(world: World) -> None:
    case = ordered_case(world, pilot.ANALYST, pattern={"kind": "new-normal", "mode": "counted-hours",
                                                       "hours_per_day": 7})
    world.clock.set("2026-11-02", "10:05")
    world.service.record_time(case.case_id, work_date="2026-11-02", check_in="2026-11-02T09:00:00+07:00",
                              check_out="2026-11-02T10:00:00+07:00")
    world.clock.set("2026-11-03", "09:00")
    day = statuses(world, case)["2026-11-02"]
    assert day["status"] == "flagged" and day["minutes"] == 60
    assert day["findings"] == [{"finding": "short-hours", "minutes": 60, "expected": 420,
                                "text_th": "ปฏิบัติงาน 1 ชั่วโมง ไม่ครบ 7 ชั่วโมง ตามรูปแบบนับชั่วโมง"}]


def test_seed_001_9_2_overdue_progress_is_alerted_once(world: World) -> None:
    case = ordered_case(world)  # 2026-11-02..13, reports every 7 days: due 2026-11-08
    s = world.service
    world.clock.set("2026-11-09", "09:00")
    overdue = [a for a in s.alert_missing_evidence() if "ความก้าวหน้า" in a.message]
    assert [a.work_date for a in overdue] == ["2026-11-08"]
    assert "8 พฤศจิกายน 2569" in overdue[0].message
    assert world.notes.sent[-1][1] == pilot.DIVISION_HEAD.citizen_id
    assert not [a for a in s.alert_missing_evidence() if "ความก้าวหน้า" in a.message]  # once


def test_seed_001_9_2_progress_on_time_is_not_overdue(world: World) -> None:
    case = ordered_case(world)
    world.clock.set("2026-11-06", "16:00")
    world.service.record_progress(case.case_id, period={"start": "2026-11-02", "end": "2026-11-06"},
                                  channel="e-office", items=[{"target_index": 0, "progress_percent": 30}])
    world.clock.set("2026-11-09", "09:00")
    assert not [a for a in world.service.alert_missing_evidence() if "ความก้าวหน้า" in a.message]


def test_seed_001_9_3_a_final_report_before_the_end_of_the_period_is_refused(world: World) -> None:
    case = ordered_case(world)
    world.clock.set("2026-11-13", "16:00")  # the last day of the period
    with pytest.raises(TeleworkRefused) as exc:
        world.service.submit_final_report(case.case_id, results=[
            {"target_index": 0, "achieved_value": 2, "status": "achieved"}])
    assert exc.value.rule == "after_period" and exc.value.field == "/submitted_at"
    world.clock.set("2026-11-16", "09:00")
    assert world.service.submit_final_report(case.case_id, results=[
        {"target_index": 0, "achieved_value": 2, "status": "achieved"}]).status == "reported"


def test_seed_001_7_5_an_emeeting_without_traffic_data_is_refused(world: World) -> None:
    case = ordered_case(world)
    world.clock.set("2026-11-04", "12:00")
    with pytest.raises(TeleworkRefused) as exc:
        world.service.record_emeeting(
            case.case_id, title="ประชุม", organizer=pilot.CGD,
            chair={"name": pilot.DIVISION_HEAD.name, "position": pilot.DIVISION_HEAD.position},
            start="2026-11-04T10:00:00+07:00", end="2026-11-04T11:00:00+07:00",
            participants=[{"name": pilot.DIVISION_HEAD.name, "attendance": "on-site", "agency": pilot.CGD},
                          {"name": pilot.ANALYST.name, "attendance": "remote", "agency": pilot.CGD}],
            recording={"reference": "vault://x.mp4", "media": "audio-video", "sha256": "0" * 64})
    assert exc.value.rule == "traffic_data_required"


def test_seed_001_7_4_an_emeeting_without_a_third_in_one_place_is_refused(world: World) -> None:
    case = ordered_case(world)
    world.clock.set("2026-11-04", "12:00")
    with pytest.raises(TeleworkRefused) as exc:
        world.service.record_emeeting(
            case.case_id, title="ประชุม", organizer=pilot.CGD,
            chair={"name": pilot.DIVISION_HEAD.name, "position": pilot.DIVISION_HEAD.position},
            start="2026-11-04T10:00:00+07:00", end="2026-11-04T11:00:00+07:00", traffic_data_reference="log-1",
            participants=[{"name": n, "attendance": "remote", "agency": pilot.CGD}
                          for n in (pilot.DIVISION_HEAD.name, pilot.ANALYST.name, pilot.AUDITOR.name)],
            recording={"reference": "vault://x.mp4", "media": "audio-video", "sha256": "0" * 64})
    assert exc.value.rule == "one_third_in_one_place"
    assert meeting(world, case).kind == "emeeting"  # one of two together: accepted


def test_seed_001_7_2_an_alert_that_could_not_be_sent_is_raised_again_on_the_next_run() -> None:
    """Nothing is lost: a notice the hub did not take (no e-Office route yet) leaves no alert
    behind that would stop the next run from sending it."""
    from hub.errors import NoRoute

    world = build_world()
    case = ordered_case(world)
    world.clock.set("2026-11-04", "18:00")
    sent = world.notes.notify

    def refuse(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise NoRoute("no route for receiver 'TH/GOV/CGD/eoffice'")

    world.notes.notify = refuse
    with pytest.raises(NoRoute):
        world.service.alert_missing_evidence()
    assert world.store.list_alerts(case.case_id) == []
    world.notes.notify = sent
    raised = world.service.alert_missing_evidence()
    assert raised and all(a.delivery_ref for a in world.store.list_alerts(case.case_id))
