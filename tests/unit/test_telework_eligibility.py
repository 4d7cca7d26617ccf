"""Eligibility as policy (seed 001 §3, §9.1; seed 003): the policy's work list decides, the
keyword classifier only suggests, a supervisor's reasoned exception counts once the head
approves it, and on-site New Normal patterns are not judged by the off-site rules."""
from __future__ import annotations

import pytest

from hub.apps.telework import pilot
from hub.apps.telework.domain.errors import NotAuthorised, TeleworkRefused
from hub.apps.telework.domain.model import Officer
from tests.unit.telework_world import MACHINE, World, build_world, by

HEALTH_ANALYST = Officer("3100100123531", "นางสาวสุขใจ รักษ์สุขภาพ", "นักวิชาการสาธารณสุขชำนาญการ", "กองระบบการคลังภาครัฐ",
                         duties=("วิเคราะห์ข้อมูลสาธารณสุขและจัดทำรายงานเชิงนโยบาย",))
SECURITY_IT = Officer("3100100123540", "นายมั่นคง ปลอดภัย", "นักวิชาการคอมพิวเตอร์ชำนาญการ", "กองระบบการคลังภาครัฐ",
                      duties=("ดูแลความมั่นคงปลอดภัยสารสนเทศและรักษาความปลอดภัยระบบเครือข่าย",))
WORK_LIST = [
    {"position": "นักวิชาการสาธารณสุข", "decision": "eligible", "work_category": "academic-analysis",
     "reason": "วิเคราะห์ข้อมูลและจัดทำรายงาน ไม่ให้บริการประชาชนโดยตรง"},
    {"duty": "ความมั่นคงปลอดภัยสารสนเทศ", "decision": "eligible", "work_category": "digital-accessible"},
]


def world_with(work_list=None) -> World:  # noqa: ANN001
    world = build_world()
    for officer in (HEALTH_ANALYST, SECURITY_IT):
        world.hr.add_person(officer, "CGD-GFS")
    if work_list is not None:
        setup = world.store.get_agency(pilot.CGD)
        world.service.register_agency({**pilot.policy(), "work_list": work_list}, name=setup.name,
                                      hr_agency=setup.hr_agency, finance_agency=setup.finance_agency,
                                      strategy_agency=setup.strategy_agency, copy_to=setup.copy_to)
    return world


def draft_for(world: World, officer: Officer, category: str, pattern=None):  # noqa: ANN001
    return world.service.record_agreement(
        pilot.CGD, person_id=officer.citizen_id, supervisor_id=world.hr.org_chain(officer.citizen_id)[0].head.citizen_id,
        work_category=category, pattern=pattern or {"kind": "occasional", "working_days": 5},
        period={"start": "2026-11-02", "end": "2026-11-13"}, targets=pilot.targets("2026-11-02", "2026-11-13"),
        reporting_channels=["e-office"], by=MACHINE)


def test_seed_001_3_keywords_alone_refuse_the_two_officers_as_a_suggestion() -> None:
    world = world_with()
    for officer, category in ((HEALTH_ANALYST, "academic-analysis"), (SECURITY_IT, "digital-accessible")):
        with pytest.raises(TeleworkRefused) as exc:
            draft_for(world, officer, category)
        assert exc.value.rule == "ineligible_work:direct-public-service"
        assert "suggested by the keywords" in exc.value.message
        _, result = world.service.eligibility(officer.citizen_id, pilot.CGD)
        assert not result.eligible and result.basis == "keyword-suggestion"


def test_seed_001_9_1_a_public_health_analyst_and_an_infosec_officer_are_eligible_under_a_policy_listing_their_work() -> None:
    world = world_with(WORK_LIST)
    health = draft_for(world, HEALTH_ANALYST, "academic-analysis")
    infosec = draft_for(world, SECURITY_IT, "digital-accessible")
    assert health.status == infosec.status == "draft"
    _, result = world.service.eligibility(SECURITY_IT.citizen_id, pilot.CGD)
    assert result.eligible and result.basis == "policy-work-list" and result.matched == "ความมั่นคงปลอดภัยสารสนเทศ"
    with pytest.raises(TeleworkRefused) as exc:  # the list also says what kind of work it is
        draft_for(world, HEALTH_ANALYST, "management-digital")
    assert exc.value.rule == "policy_work_list"


def test_seed_001_9_1_a_policy_listing_work_as_ineligible_refuses_it_whatever_the_keywords() -> None:
    world = world_with([{"position": "นักวิชาการคลัง", "decision": "ineligible", "category": "secret-documents"}])
    with pytest.raises(TeleworkRefused) as exc:
        draft_for(world, pilot.ANALYST, "academic-analysis")  # no keyword says so; the policy does
    assert exc.value.rule == "ineligible_work:secret-documents" and "policy lists" in exc.value.message


def test_seed_001_3_a_reasoned_exception_counts_once_the_head_approves_it() -> None:
    world = world_with()
    s = world.service
    with pytest.raises(NotAuthorised):  # a machine cannot propose it
        s.propose_exception(pilot.CGD, citizen_id=HEALTH_ANALYST.citizen_id, work_category="academic-analysis",
                            reason="งานวิเคราะห์ข้อมูลสาธารณสุขเชิงนโยบาย ไม่ให้บริการประชาชน", by=MACHINE)
    with pytest.raises(TeleworkRefused) as short:
        s.propose_exception(pilot.CGD, citizen_id=HEALTH_ANALYST.citizen_id, work_category="academic-analysis",
                            reason="ได้", by=by(pilot.DIVISION_HEAD))
    assert short.value.rule == "reasoned"
    item = s.propose_exception(pilot.CGD, citizen_id=HEALTH_ANALYST.citizen_id, work_category="academic-analysis",
                               reason="งานวิเคราะห์ข้อมูลสาธารณสุขเชิงนโยบาย ไม่ให้บริการประชาชน", by=by(pilot.DIVISION_HEAD))
    with pytest.raises(TeleworkRefused):  # proposed, not approved: still refused
        draft_for(world, HEALTH_ANALYST, "academic-analysis")
    with pytest.raises(NotAuthorised):  # the supervisor cannot approve their own proposal
        s.approve_exception(pilot.CGD, item["exception_id"], by=by(pilot.DIVISION_HEAD))
    approved = s.approve_exception(pilot.CGD, item["exception_id"], by=by(pilot.DIRECTOR_GENERAL))
    assert approved["approved_by"]["name"] == pilot.DIRECTOR_GENERAL.name
    assert draft_for(world, HEALTH_ANALYST, "academic-analysis").status == "draft"
    _, result = s.eligibility(HEALTH_ANALYST.citizen_id, pilot.CGD)
    assert result.basis == "approved-exception" and result.exception_id == item["exception_id"]


def test_seed_003_an_on_site_new_normal_pattern_is_not_judged_by_the_off_site_rules() -> None:
    world = world_with()
    # the counter officer serves the public: never off-site, but staggered hours on-site are fine
    case = draft_for(world, pilot.COUNTER, "academic-analysis",
                     {"kind": "new-normal", "mode": "staggered-hours", "start_time": "07:00", "end_time": "15:00"})
    assert case.status == "draft" and case.off_site is False
    with pytest.raises(TeleworkRefused):
        draft_for(world, pilot.COUNTER, "academic-analysis", {"kind": "new-normal", "mode": "off-site"})


