"""Pure telework rules: calendar of days, eligibility, authority, working time, savings."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from hub.apps.telework import pilot
from hub.apps.telework.domain import authority, calendar, evidence, reporting
from hub.apps.telework.domain.eligibility import EQUIPMENT, PUBLIC_SERVICE, SECRET, classify
from hub.apps.telework.domain.errors import NotAuthorised, TeleworkRefused
from hub.apps.telework.domain.model import TIME, Evidence, Officer


def test_regular_two_days_a_week_are_monday_and_wednesday() -> None:
    days, off_site = calendar.schedule({"kind": "regular", "days_per_week": 2, "months": 1},
                                       {"start": "2026-11-02", "end": "2026-11-15"})
    assert off_site and [d.isoformat() for d in days] == ["2026-11-02", "2026-11-04", "2026-11-09", "2026-11-11"]


def test_regular_days_per_month_are_spread_and_counted_per_month() -> None:
    days, _ = calendar.schedule({"kind": "regular", "days_per_month": 4, "months": 2},
                                {"start": "2026-11-01", "end": "2026-12-31"})
    assert len(days) == 8 and len({d.month for d in days}) == 2 and all(d.weekday() < 5 for d in days)


def test_regular_period_longer_than_its_months_is_refused() -> None:
    with pytest.raises(TeleworkRefused) as exc:
        calendar.schedule({"kind": "regular", "days_per_week": 2, "months": 6}, {"start": "2026-11-01", "end": "2027-06-30"})
    assert exc.value.rule == "within_pattern_months"


def test_occasional_span_takes_working_days_and_skips_holidays() -> None:
    days, _ = calendar.schedule({"kind": "occasional", "working_days": 5}, {"start": "2026-12-03", "end": "2026-12-31"},
                                holidays=[dt.date(2026, 12, 7)])
    assert [d.day for d in days] == [3, 4, 8, 9, 10]


def test_new_normal_counted_hours_is_on_site() -> None:
    days, off_site = calendar.schedule({"kind": "new-normal", "mode": "counted-hours", "hours_per_day": 8},
                                       {"start": "2026-11-02", "end": "2026-11-06"})
    assert len(days) == 5 and off_site is False


@pytest.mark.parametrize("position,duty,category", [
    ("นักเทคนิคการแพทย์ชำนาญการ", "", EQUIPMENT),
    ("เจ้าพนักงานปกครอง", "นายทะเบียนงานทะเบียนราษฎร", PUBLIC_SERVICE),
    ("นักวิเคราะห์นโยบายและแผน", "จัดเก็บและรักษาเอกสารลับของทางราชการ", SECRET),
    ("Air traffic controller", "", EQUIPMENT),
])
def test_ineligible_work_carries_the_seed_reason(position: str, duty: str, category: str) -> None:
    result = classify(Officer("3100100123493", "x", position, duties=(duty,) if duty else ()))
    assert not result.eligible and result.category == category
    assert result.reason_th and result.seed.startswith("§3.2")


def test_analysis_work_is_eligible() -> None:
    assert classify(pilot.ANALYST).eligible


def test_authority_from_the_org_tree() -> None:
    hr = pilot.fake_hr()
    chain = hr.org_chain(pilot.ANALYST.citizen_id)
    assert [s.citizen_id for s in authority.supervisors(pilot.ANALYST, chain)] == [
        pilot.DIVISION_HEAD.citizen_id, pilot.DIRECTOR_GENERAL.citizen_id, pilot.PERM_SEC.citizen_id]
    assert authority.require_supervisor(pilot.ANALYST, chain, pilot.DIRECTOR_GENERAL.citizen_id)[1] == "higher"
    assert authority.require_head_of_agency(chain, pilot.PERM_SEC.citizen_id)[0].level == "ministry"
    with pytest.raises(NotAuthorised) as exc:
        authority.require_head_of_agency(chain, pilot.DIVISION_HEAD.citizen_id)
    assert exc.value.rule == "head_of_agency" and "ข้อ 11" in exc.value.reason_th
    with pytest.raises(NotAuthorised):
        authority.require_supervisor(pilot.ANALYST, chain, pilot.PENSION_HEAD.citizen_id)


def test_working_time_merges_overlapping_evidence() -> None:
    def item(kind: str, doc: dict) -> Evidence:
        return Evidence("e", "c", kind, "2026-11-02", doc, "h", "a")
    items = [item(TIME, {"check_in": {"at": "2026-11-02T08:30:00+07:00"}, "check_out": {"at": "2026-11-02T12:00:00+07:00"}}),
             item("emeeting", {"start": "2026-11-02T11:00:00+07:00", "end": "2026-11-02T13:00:00+07:00"})]
    assert evidence.working_time(items)["2026-11-02"]["minutes"] == 270


def test_savings_are_exact_decimals() -> None:
    figures = reporting.savings_figures(24, reporting.SavingsRates())
    assert figures["utilities"]["electricity"] == "840.00" and figures["travel"]["hours"] == "48.00"
    assert figures["office_space"]["square_metres"] == "0.60"
    assert reporting.total_saved(figures) == Decimal("840.00") + Decimal("108.00") + Decimal("2880.00") + Decimal("2880.00")
