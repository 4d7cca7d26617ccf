"""Agency-level results: the annual evaluation (seed 001 §9.3.3) and the savings and KPI
report (seed 001 §12, seed 000: the OPDC pilot saved energy; GSMS shows KPIs next to GFMIS).

Savings are estimated from off-site person-days with per-agency rates, in exact decimals.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hub.apps.telework.domain.model import EVALUATED, Case

CENT = Decimal("0.01")


@dataclass(frozen=True)
class SavingsRates:
    """Per off-site person-day unless stated; an agency sets its own (defaults: illustrative)."""

    electricity_per_day: Decimal = Decimal("35.00")
    water_per_day: Decimal = Decimal("4.50")
    commute_hours_per_day: Decimal = Decimal("2.0")
    commute_cost_per_day: Decimal = Decimal("120.00")
    desk_square_metres: Decimal = Decimal("6.0")  # freed per full-time-equivalent
    space_cost_per_square_metre_year: Decimal = Decimal("4800.00")
    working_days_per_year: Decimal = Decimal("240")


def money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def savings_figures(person_days: int, rates: SavingsRates) -> dict[str, Any]:
    days = Decimal(person_days)
    fte = days / rates.working_days_per_year  # desks freed over a year
    area = (fte * rates.desk_square_metres)
    return {
        "utilities": {"electricity": money(days * rates.electricity_per_day),
                      "water": money(days * rates.water_per_day)},
        "travel": {"hours": money(days * rates.commute_hours_per_day),
                   "cost": money(days * rates.commute_cost_per_day)},
        "office_space": {"square_metres": money(area), "cost": money(area * rates.space_cost_per_square_metre_year)},
    }


def total_saved(figures: dict[str, Any]) -> Decimal:
    return (Decimal(figures["utilities"]["electricity"]) + Decimal(figures["utilities"]["water"])
            + Decimal(figures["travel"]["cost"]) + Decimal(figures["office_space"]["cost"]))


def target_counts(cases: list[Case]) -> tuple[int, int]:
    total = met = 0
    for case in cases:
        total += len(case.agreement["targets"])
        if case.status == EVALUATED and case.evaluation:
            met += sum(1 for r in case.evaluation["target_results"] if r["status"] == "met")
    return total, met


def kpis(cases: list[Case], evidence_days: int, scheduled_days: int, figures: dict[str, Any]) -> list[dict[str, Any]]:
    """KPI results for the strategy side (GSMS), each next to the financial figure it explains."""
    total, met = target_counts(cases)
    return [
        {"kpi": "targets-met-percent", "value": money(Decimal(100 * met) / total) if total else "0.00",
         "basis": f"{met} of {total} agreed targets met"},
        {"kpi": "evidenced-days-percent",
         "value": money(Decimal(100 * evidence_days) / scheduled_days) if scheduled_days else "0.00",
         "basis": f"{evidence_days} of {scheduled_days} telework days with verifiable evidence"},
        {"kpi": "baht-saved", "value": money(total_saved(figures)), "basis": "utilities + travel + office space"},
        {"kpi": "commute-hours-saved", "value": figures["travel"]["hours"], "basis": "travel.hours"},
    ]
