"""The telework application's HR side against the reference DPIS (SQLite): the pilot's people
read back through the DPIS adapter as the domain sees them, and a revocation's
``hr.telework.cancel/v1`` removing the ended days once, in one transaction."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from hub.adapters.dpis import DpisAdapter
from hub.adapters.dpis.schema import hub_message_log, per_absent, per_time_attendance
from hub.apps.telework import pilot
from hub.apps.telework.domain import authority
from hub.apps.telework.domain.eligibility import classify
from hub.apps.telework.hub_ports import DpisHrDirectory
from hub.errors import NotFound
from hub.sim import dpis as dpis_sim
from tests.support.conformance import outbound

DAYS = ["2026-11-09", "2026-11-10", "2026-11-11"]


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'dpis.sqlite3'}"
    pilot.seed_dpis(url)
    return url


def adapter(url: str, **settings: object) -> DpisAdapter:
    return DpisAdapter(DpisAdapter.Settings(url=url, **settings))


def test_pilot_people_read_back_from_dpis_as_the_domain_knows_them(url: str) -> None:
    hr = DpisHrDirectory(adapter(url))
    try:
        for officer, _org, _head in pilot.PEOPLE:
            assert hr.person(officer.citizen_id) == officer
        chain = hr.org_chain(pilot.ANALYST.citizen_id)
        assert [(u.name, u.level) for u in chain] == [("กองระบบการคลังภาครัฐ", "unit"), ("กรมบัญชีกลาง", "department"),
                                                      ("กระทรวงการคลัง", "ministry")]
        assert [u.head.citizen_id for u in chain] == [pilot.DIVISION_HEAD.citizen_id,
                                                      pilot.DIRECTOR_GENERAL.citizen_id, pilot.PERM_SEC.citizen_id]
        assert authority.first_line(pilot.ANALYST, chain) == pilot.DIVISION_HEAD
        assert classify(hr.person(pilot.COUNTER.citizen_id)).category == "direct-public-service"
        with pytest.raises(NotFound):
            hr.person("1101700203451")
    finally:
        hr.adapter.close()


def test_seed_without_named_people_is_unchanged(tmp_path: Path) -> None:
    """The extension is backward compatible: the same seed gives the same random part."""
    summaries = []
    for name in ("plain", "named"):
        engine = create_engine(f"sqlite:///{tmp_path / name}.sqlite3")
        dpis_sim.create_schema(engine)
        extra = {"extra_units": pilot.DPIS_UNITS, "named": pilot.dpis_people()} if name == "named" else {}
        summaries.append(dpis_sim.seed(engine, people=20, **extra))
        engine.dispose()
    plain, named = summaries
    assert plain.named == {} and set(named.named) == {o.citizen_id for o, _, _ in pilot.PEOPLE}
    # the named heads took over the seeded head rows of the ministry and the department
    assert named.named[pilot.PERM_SEC.citizen_id] == plain.heads[2]
    assert named.named[pilot.DIRECTOR_GENERAL.citizen_id] == plain.heads[20]


@pytest.mark.parametrize("telework_as", ["attendance", "absence"])
def test_cancel_removes_the_ended_days_once(url: str, telework_as: str) -> None:
    dpis = adapter(url, telework_as=telework_as)
    cid = pilot.AUDITOR.citizen_id
    try:
        order = outbound("TH/GOV/CGD/telework", "hr.attendance/v1",
                         {"citizen_id": cid, "kind": "telework", "days": [{"date": d, "check_in": "08:30"} for d in DAYS]})
        assert dpis.send(order).detail["rows"] == 3
        cancel = outbound("TH/GOV/CGD/telework", "hr.telework.cancel/v1",
                          {"citizen_id": cid, "dates": DAYS[1:], "revocation_ref": "กค 0401/4"})
        first = dpis.send(cancel)
        assert first.detail == {"per_id": first.detail["per_id"], "rows": 2, "duplicate": False}
        assert dpis.send(cancel).detail["duplicate"] is True  # redelivery: applied once
        # another message for the same days removes nothing more
        again = outbound("TH/GOV/CGD/telework", "hr.telework.cancel/v1", {"citizen_id": cid, "dates": DAYS[1:]},
                         message_id=str(uuid.uuid4()))
        assert dpis.send(again).detail["rows"] == 0
        engine = create_engine(url)
        with engine.connect() as conn:
            if telework_as == "attendance":
                left = [r.TIME_STAMP.decode()[:10] for r in conn.execute(select(per_time_attendance))]
            else:
                left = [r.ABS_STARTDATE.decode() for r in conn.execute(select(per_absent))]
            targets = [r.TARGET for r in conn.execute(select(hub_message_log))]
        engine.dispose()
        assert left == DAYS[:1]
        assert targets.count(f"cancel-{telework_as}") == 2
    finally:
        dpis.close()


def test_cancel_payload_is_checked(url: str) -> None:
    from hub.errors import DeliveryError

    dpis = adapter(url)
    try:
        bad = outbound("TH/GOV/CGD/telework", "hr.telework.cancel/v1",
                       {"citizen_id": pilot.AUDITOR.citizen_id, "days": [{"date": DAYS[0]}]})
        with pytest.raises(DeliveryError) as refused:
            dpis.send(bad)
        assert refused.value.permanent and "telework days to cancel" in refused.value.reason
    finally:
        dpis.close()
