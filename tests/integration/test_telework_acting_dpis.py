"""Acting heads read from the agency's DPIS (seed 001 §5; Leave Regulation B.E. 2555 cl. 11: the
head of the agency, or whoever acts for them on the day, orders telework): the assignment is a
row of the DPIS-style legacy table PER_ACTINGHIS with BE dates and a cp874 order number, read
through the DPIS adapter, not something recorded in the hub."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, update

from hub.adapters.dpis import DpisAdapter
from hub.adapters.dpis.schema import per_acting
from hub.apps.telework import pilot
from hub.apps.telework.domain.errors import NotAuthorised
from hub.apps.telework.hub_ports import DpisHrDirectory
from hub.sim import dpis as dpis_sim
from tests.unit.telework_world import World, agree, build_world, by

CGD_ORG = pilot.DPIS_ORG["CGD"]


@pytest.fixture
def dpis(tmp_path: Path) -> Iterator[tuple[str, DpisHrDirectory]]:
    url = f"sqlite:///{tmp_path / 'dpis.sqlite3'}"
    pilot.seed_dpis(url)
    engine = create_engine(url)
    try:  # the pension division's director acts as director-general for one week, typed in BE
        dpis_sim.record_acting(engine, citizen_id=pilot.PENSION_HEAD.citizen_id, org_id=CGD_ORG,
                               start=dt.date(2026, 10, 26), end=dt.date(2026, 10, 30),
                               order="คำสั่งกรมบัญชีกลาง ที่ 512/2569")
    finally:
        engine.dispose()
    directory = DpisHrDirectory(DpisAdapter(DpisAdapter.Settings(url=url)))
    try:
        yield url, directory
    finally:
        directory.adapter.close()


def dpis_world(directory: DpisHrDirectory) -> World:
    world = build_world()
    world.service.p.hr = directory
    return world


def test_seed_001_5_dpis_reports_the_acting_head_on_the_recorded_dates_only(dpis) -> None:  # noqa: ANN001
    url, directory = dpis
    assert directory.acting_heads(str(CGD_ORG), dt.date(2026, 10, 28)) == [pilot.PENSION_HEAD]
    for outside in (dt.date(2026, 10, 25), dt.date(2026, 10, 31)):
        assert directory.acting_heads(str(CGD_ORG), outside) == []
    assert directory.acting_heads(str(pilot.DPIS_ORG["MOF"]), dt.date(2026, 10, 28)) == []
    engine = create_engine(url)
    try:  # an open end: acting until further notice (CE dates, as other installations keep them)
        dpis_sim.record_acting(engine, citizen_id=pilot.DIVISION_HEAD.citizen_id, org_id=CGD_ORG,
                               start=dt.date(2026, 12, 1), end=None, order="คำสั่ง ที่ 600/2569",
                               buddhist_era=False)
    finally:
        engine.dispose()
    assert directory.acting_heads(str(CGD_ORG), dt.date(2027, 3, 1)) == [pilot.DIVISION_HEAD]


def test_seed_001_5_an_order_by_the_acting_head_recorded_in_dpis_is_accepted(dpis) -> None:  # noqa: ANN001
    _, directory = dpis
    world = dpis_world(directory)  # the clock says 2026-10-26, inside the acting week
    case = world.service.propose(agree(world).case_id, by=by(pilot.DIVISION_HEAD))
    order = world.service.issue_order(case.case_id, by=by(pilot.PENSION_HEAD), time_evidence_method="check-in-app")
    assert order.order["signer"] == {"name": pilot.PENSION_HEAD.name, "position": pilot.PENSION_HEAD.position,
                                     "role": "acting-head-of-agency"}


def test_seed_001_5_the_acting_head_is_refused_outside_the_dpis_dates(dpis) -> None:  # noqa: ANN001
    url, directory = dpis
    world = dpis_world(directory)
    case = world.service.propose(agree(world).case_id, by=by(pilot.DIVISION_HEAD))
    world.clock.set("2026-10-31")  # the day after the acting week
    with pytest.raises(NotAuthorised) as refused:
        world.service.issue_order(case.case_id, by=by(pilot.PENSION_HEAD), time_evidence_method="check-in-app")
    assert refused.value.rule == "head_of_agency"
    engine = create_engine(url)
    try:  # an unreadable date in DPIS is left out, never read as an acting assignment
        with engine.begin() as conn:
            conn.execute(update(per_acting).values(ACTH_ENDDATE=b"2569-13-45"))
    finally:
        engine.dispose()
    world.clock.set("2026-10-28")
    with pytest.raises(NotAuthorised):
        world.service.issue_order(case.case_id, by=by(pilot.PENSION_HEAD), time_evidence_method="check-in-app")
