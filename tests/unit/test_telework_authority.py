"""Decisions by the people who hold the authority, each in their own session (seed 001 §5,
§6, §9.2; Leave Regulation B.E. 2555 cl. 11: the head of the agency orders)."""
from __future__ import annotations

import datetime as dt

import pytest

from hub.apps.telework import pilot
from hub.apps.telework.domain.errors import InvalidState, NotAuthorised
from tests.unit.telework_world import MACHINE, World, agree, build_world, by, draft


@pytest.fixture
def world() -> World:
    return build_world()


def proposed(world: World):
    case = agree(world)
    return world.service.propose(case.case_id, by=by(pilot.DIVISION_HEAD))


def test_seed_001_5_an_order_from_a_machine_client_is_refused(world: World) -> None:
    case = proposed(world)
    with pytest.raises(NotAuthorised) as exc:
        world.service.issue_order(case.case_id, by=MACHINE, time_evidence_method="check-in-app")
    assert exc.value.rule == "person_session" and exc.value.status_code == 403
    assert world.saraban.outgoing == {} and world.service.p.store.get_case(case.case_id).status == "proposed"


def test_seed_001_5_an_order_from_a_person_who_is_not_the_head_is_refused(world: World) -> None:
    case = proposed(world)
    for officer in (pilot.DIVISION_HEAD, pilot.ANALYST, pilot.PENSION_HEAD):
        with pytest.raises(NotAuthorised) as exc:
            world.service.issue_order(case.case_id, by=by(officer), time_evidence_method="check-in-app")
        assert exc.value.rule == "head_of_agency"
    assert world.saraban.outgoing == {}


def test_seed_001_5_the_acting_head_recorded_in_hr_for_the_date_is_accepted(world: World) -> None:
    # HR records the pension division's director as acting director-general (ผู้รักษาราชการแทน) for one week.
    world.hr.set_acting("CGD", pilot.PENSION_HEAD, dt.date(2026, 10, 26), dt.date(2026, 10, 30))
    case = proposed(world)
    order = world.service.issue_order(case.case_id, by=by(pilot.PENSION_HEAD), time_evidence_method="check-in-app")
    assert order.status == "ordered"
    assert order.order["signer"] == {"name": pilot.PENSION_HEAD.name, "position": pilot.PENSION_HEAD.position,
                                     "role": "acting-head-of-agency"}
    entry = world.audit.entries[-1]
    assert entry["kind"] == "telework.order" and entry["detail"]["citizen_id"] == pilot.PENSION_HEAD.citizen_id
    assert entry["actor"] == f"user:{pilot.PENSION_HEAD.citizen_id}"


def test_seed_001_5_an_acting_head_outside_the_recorded_dates_is_refused(world: World) -> None:
    world.hr.set_acting("CGD", pilot.PENSION_HEAD, dt.date(2026, 10, 19), dt.date(2026, 10, 23))
    case = proposed(world)  # the clock says 2026-10-26
    with pytest.raises(NotAuthorised) as exc:
        world.service.issue_order(case.case_id, by=by(pilot.PENSION_HEAD), time_evidence_method="check-in-app")
    assert exc.value.rule == "head_of_agency"


def test_seed_001_6_each_signature_is_a_separate_timestamped_act(world: World) -> None:
    s = world.service
    case = draft(world)
    assert case.status == "draft" and "signed_by_person_at" not in case.agreement
    with pytest.raises(NotAuthorised) as exc:
        s.sign_agreement(case.case_id, by=MACHINE)  # a machine client may draft, never sign
    assert exc.value.rule == "person_session"
    with pytest.raises(NotAuthorised) as exc:
        s.sign_agreement(case.case_id, by=by(pilot.PENSION_HEAD))  # not a party to it
    assert exc.value.rule == "agreement_party"
    with pytest.raises(InvalidState):  # not signed yet: it cannot be proposed
        s.propose(case.case_id, by=by(pilot.DIVISION_HEAD))
    world.clock.set("2026-10-26", "10:15")
    s.sign_agreement(case.case_id, by=by(pilot.ANALYST))
    with pytest.raises(InvalidState) as again:
        s.sign_agreement(case.case_id, by=by(pilot.ANALYST))
    assert again.value.errors[0].rule == "signed_once"
    world.clock.set("2026-10-27", "14:02")
    signed = s.sign_agreement(case.case_id, by=by(pilot.DIVISION_HEAD))
    assert signed.status == "agreed"
    assert signed.agreement["signed_by_person_at"] == "2026-10-26T10:15:00+07:00"
    assert signed.agreement["signed_by_supervisor_at"] == "2026-10-27T14:02:00+07:00"
    acts = [(e["actor"], e["detail"]["role"], e["detail"]["signed_at"])
            for e in world.audit.entries if e["kind"] == "telework.agreement.signed"]
    assert acts == [(f"user:{pilot.ANALYST.citizen_id}", "person", "2026-10-26T10:15:00+07:00"),
                    (f"user:{pilot.DIVISION_HEAD.citizen_id}", "supervisor", "2026-10-27T14:02:00+07:00")]


def test_seed_001_5_a_proposal_and_a_revocation_need_a_person_session(world: World) -> None:
    case = agree(world)
    with pytest.raises(NotAuthorised) as exc:
        world.service.propose(case.case_id, by=MACHINE)
    assert exc.value.rule == "person_session"
    world.service.propose(case.case_id, by=by(pilot.DIVISION_HEAD))
    ordered = world.service.issue_order(case.case_id, by=by(pilot.DIRECTOR_GENERAL), time_evidence_method="check-in-app")
    world.service.propose_revocation(ordered.case_id, by=by(pilot.DIVISION_HEAD), reason_code="agreement-breach",
                                     reason="ไม่รายงานผล")
    with pytest.raises(NotAuthorised) as exc:
        world.service.revoke(ordered.case_id, by=MACHINE)
    assert exc.value.rule == "person_session"


def test_an_issued_order_tells_the_subscribers_once_tell_us_once() -> None:
    """telework.order.issued/v1: HR, finance and oversight learn of the order through the hub's events."""
    from hub.apps.telework.fakes import FakeEvents

    world = build_world()
    world.service.p.events = FakeEvents()
    order = world.service.issue_order(proposed(world).case_id, by=by(pilot.DIRECTOR_GENERAL),
                                      time_evidence_method="check-in-app")
    [(agency, event)] = world.service.p.events.published
    assert agency == pilot.CGD and event == {
        "order_id": order.case_id, "order_no": order.order_letter["order_number"], "citizen_id": pilot.ANALYST.citizen_id,
        "agency": pilot.CGD, "effective_from": "2026-11-02", "effective_to": "2026-11-13"}
    assert order.order_letter["event_ref"] == "event-1"
    world.service.documents.validate("th.telework.order-issued", event)
