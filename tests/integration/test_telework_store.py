"""The telework state in the hub's database: the cycle on SqlStore, after the tw0001 migration."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect

from hub.apps.telework import pilot
from hub.apps.telework.store_sql import SqlStore
from hub.bootstrap import Hub
from tests.unit import telework_world


@pytest.fixture
def world(embedded_hub: Hub, monkeypatch: pytest.MonkeyPatch) -> telework_world.World:
    monkeypatch.setattr(telework_world, "InMemoryStore", lambda: SqlStore(embedded_hub.engine))
    return telework_world.build_world()


def test_migration_creates_the_telework_tables(embedded_hub: Hub) -> None:
    names = set(inspect(embedded_hub.engine).get_table_names())
    assert {"telework_agencies", "telework_cases", "telework_evidence", "telework_alerts", "telework_reports"} <= names


def test_cycle_persists_in_sql(world: telework_world.World) -> None:
    case = telework_world.ordered_case(world)
    world.clock.set("2026-11-03", "17:00")
    world.service.record_time(case.case_id, work_date="2026-11-02", check_in="2026-11-02T08:30:00+07:00",
                              check_out="2026-11-02T16:00:00+07:00")
    alerts = world.service.alert_missing_evidence()
    assert [a.work_date for a in alerts] == ["2026-11-03"] and world.service.alert_missing_evidence() == []
    stored = world.store.get_case(case.case_id)
    assert stored.book_number == "กค 0401/1" and stored.order["person"]["citizen_id"] == pilot.ANALYST.citizen_id
    assert world.service.working_time(case.case_id)["2026-11-02"]["minutes"] == 450
    report = world.reports.savings(pilot.CGD, 2570)
    assert world.store.get_report(report["document"]["report_id"])[0] == "savings"
