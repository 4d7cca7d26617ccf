"""The policy's contents and dates (seed 001 §9.1): a policy sets at least the patterns, the
work, the selection, the monitoring, the ending and the ethics guidelines; nothing is agreed
or ordered outside the dates it is in force, and its selection, monitoring and ending rules
decide the later steps."""
from __future__ import annotations

import pytest

from hub.apps.telework import pilot
from hub.apps.telework.domain.errors import TeleworkRefused
from tests.unit.telework_world import World, agree, build_world, by, draft, ordered_case


def with_policy(**changes) -> World:  # noqa: ANN003
    world = build_world()
    policy = {**pilot.policy(), **changes}
    world.service.register_agency(policy, name=pilot.AGENCY_NAMES[pilot.CGD], hr_agency=pilot.MOF,
                                  finance_agency=pilot.MOF, strategy_agency=pilot.OPDC, copy_to=[pilot.OPDC])
    return world


def test_seed_001_9_1_a_policy_without_selection_ending_and_ethics_is_refused() -> None:
    world = build_world()
    policy = {k: v for k, v in pilot.policy().items() if k not in ("selection", "ending", "ethics")}
    with pytest.raises(TeleworkRefused) as refused:
        world.service.register_agency(policy, name="กรมบัญชีกลาง", hr_agency=pilot.MOF, finance_agency=pilot.MOF,
                                      strategy_agency=pilot.OPDC)
    assert [(e.field, e.rule) for e in refused.value.errors] == [
        ("/selection", "policy_contents"), ("/ending", "policy_contents"), ("/ethics", "policy_contents")]
    assert refused.value.extra["seed"] == "001 §9.1"
    assert "จริยธรรม" in refused.value.errors[2].message


def test_seed_001_9_1_an_order_before_the_policy_is_in_force_is_refused() -> None:
    world = with_policy(effective_from="2026-10-27")  # the clock says 2026-10-26
    case = world.service.propose(agree(world).case_id, by=by(pilot.DIVISION_HEAD))
    with pytest.raises(TeleworkRefused) as refused:
        world.service.issue_order(case.case_id, by=by(pilot.DIRECTOR_GENERAL), time_evidence_method="check-in-app")
    assert (refused.value.field, refused.value.rule) == ("/order_date", "policy_in_force")
    assert "27 ตุลาคม 2569" in refused.value.reason_th
    assert world.saraban.outgoing == {}  # no letter left
    world.clock.set("2026-10-27")
    assert world.service.issue_order(case.case_id, by=by(pilot.DIRECTOR_GENERAL),
                                     time_evidence_method="check-in-app").status == "ordered"


def test_seed_001_9_1_telework_beyond_the_policy_end_is_refused() -> None:
    world = with_policy(effective_to="2026-11-10")
    with pytest.raises(TeleworkRefused) as refused:
        draft(world, start="2026-11-02", end="2026-11-13")
    assert (refused.value.field, refused.value.rule) == ("/period/end", "policy_in_force")
    assert "10 พฤศจิกายน 2569" in refused.value.reason_th


def test_seed_001_9_2_4_progress_less_often_than_the_policy_monitors_is_refused() -> None:
    world = build_world()
    with pytest.raises(TeleworkRefused) as refused:
        world.service.record_agreement(
            pilot.CGD, person_id=pilot.ANALYST.citizen_id, supervisor_id=pilot.DIVISION_HEAD.citizen_id,
            work_category="academic-analysis", pattern={"kind": "occasional", "working_days": 10},
            period={"start": "2026-11-02", "end": "2026-11-13"}, targets=pilot.targets("2026-11-02", "2026-11-13"),
            reporting_channels=["e-office"], by=by(pilot.DIVISION_HEAD), report_every_days=14)
    assert (refused.value.field, refused.value.rule) == ("/report_every_days", "policy_monitoring")


def test_seed_001_9_2_1_selection_the_policy_does_not_provide_is_refused() -> None:
    world = with_policy(selection={"methods": ["voluntary"], "criteria": "สมัครใจและมีทักษะดิจิทัลเพียงพอ"})
    case = agree(world)
    with pytest.raises(TeleworkRefused) as refused:
        world.service.propose(case.case_id, by=by(pilot.DIVISION_HEAD), selection="assigned")
    assert refused.value.rule == "policy_selection"
    assert world.service.propose(case.case_id, by=by(pilot.DIVISION_HEAD)).status == "proposed"


def test_seed_001_9_2_6_revocation_only_on_the_grounds_the_policy_sets() -> None:
    world = with_policy(ending={"grounds": ["agreement-breach", "ethics-breach"]})
    case = ordered_case(world)
    with pytest.raises(TeleworkRefused) as refused:
        world.service.propose_revocation(case.case_id, by=by(pilot.DIVISION_HEAD), reason_code="operational-need",
                                         reason="ต้องการกำลังคน ณ สำนักงาน")
    assert (refused.value.field, refused.value.rule) == ("/reason_code", "policy_ending")
    done = world.service.propose_revocation(case.case_id, by=by(pilot.DIVISION_HEAD), reason_code="ethics-breach",
                                            reason="เปิดเผยข้อมูลราชการในพื้นที่สาธารณะ")
    assert done.status == "revocation-proposed"
