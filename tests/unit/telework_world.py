"""A telework world on the in-memory fakes, with a clock the test moves."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hub.apps.telework import pilot
from hub.apps.telework.documents import Documents
from hub.apps.telework.domain.actors import Actor
from hub.apps.telework.domain.evidence import BANGKOK
from hub.apps.telework.fakes import (
    FakeAuditTrail, FakeCorrespondence, FakeFinance, FakeHrDirectory, FakeHrRecords, FakeNotifications,
    FakeStrategy, InMemoryStore,
)
from hub.apps.telework.reports import AgencyReports
from hub.apps.telework.service import Ports, TeleworkService
from hub.config import default_standards_dir


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, day: str, time: str = "09:00") -> None:
        self.now = dt.datetime.fromisoformat(f"{day}T{time}:00").replace(tzinfo=BANGKOK)


@dataclass
class World:
    service: TeleworkService
    reports: AgencyReports
    clock: Clock
    hr: FakeHrDirectory
    saraban: FakeCorrespondence
    hr_records: FakeHrRecords
    finance: FakeFinance
    strategy: FakeStrategy
    notes: FakeNotifications
    audit: FakeAuditTrail
    store: InMemoryStore


def build_world() -> World:
    clock = Clock(dt.datetime(2026, 10, 26, 9, 0, tzinfo=BANGKOK))
    hr, saraban = pilot.fake_hr(), FakeCorrespondence(pilot.BOOK_PREFIXES, dt.date(2026, 10, 26))
    ports = Ports(hr, saraban, FakeHrRecords(), FakeFinance(), FakeStrategy(), FakeNotifications(),
                  FakeAuditTrail(), InMemoryStore())
    service = TeleworkService(ports, Documents(default_standards_dir()), clock=clock)
    service.register_agency(pilot.policy(), name=pilot.AGENCY_NAMES[pilot.CGD], hr_agency=pilot.MOF,
                            finance_agency=pilot.MOF, strategy_agency=pilot.OPDC, copy_to=[pilot.OPDC])
    return World(service, AgencyReports(service), clock, hr, saraban, ports.hr_records, ports.finance,
                 ports.strategy, ports.notifications, ports.audit, ports.store)


def by(officer) -> Actor:  # noqa: ANN001
    """The officer acting in their own session."""
    return Actor.person(officer.citizen_id, f"user:{officer.citizen_id}")


MACHINE = Actor.machine("client:cgd-telework-app")


def draft(world: World, person=pilot.ANALYST, pattern=None, start="2026-11-02", end="2026-11-13",
          category="academic-analysis"):
    return world.service.record_agreement(
        pilot.CGD, person_id=person.citizen_id, supervisor_id=world.service.p.hr.org_chain(person.citizen_id)[0].head.citizen_id,
        work_category=category, pattern=pattern or {"kind": "occasional", "working_days": 10},
        period={"start": start, "end": end}, targets=pilot.targets(start, end), reporting_channels=["e-office"],
        by=MACHINE)


def agree(world: World, person=pilot.ANALYST, **kw):
    """A draft signed by the person, then by the first-line supervisor, each in their session."""
    case = draft(world, person, **kw)
    world.service.sign_agreement(case.case_id, by=by(person))
    supervisor = world.service.p.hr.org_chain(person.citizen_id)[0].head
    return world.service.sign_agreement(case.case_id, by=by(supervisor))


def ordered_case(world: World, person=pilot.ANALYST, **kw):
    case = agree(world, person, **kw)
    world.service.propose(case.case_id, by=by(pilot.DIVISION_HEAD), reason="โครงการนำร่อง")
    return world.service.issue_order(case.case_id, by=by(pilot.DIRECTOR_GENERAL), time_evidence_method="check-in-app")
