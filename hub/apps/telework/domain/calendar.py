"""Which days a telework pattern puts off-site (seed 001 §2.1, seed 003 New Normal).

Working days are Monday to Friday minus the holidays the caller supplies (public holidays
are set each year by Cabinet, so they are data, not code).

* regular, N days per week: in every week of the period the days are spread as
  Mon, Wed, Fri, Tue, Thu (first N of that order), so the office is never empty of the
  person for long;
* regular, N days per month: N working days spread evenly through each month;
* occasional: the first N working days from the start;
* new-normal off-site: every working day; staggered / counted hours are on-site, so no day
  is off-site but every working day needs evidence of hours.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from hub.apps.telework.domain.errors import TeleworkRefused

WEEKLY_SPREAD = (0, 2, 4, 1, 3)  # Mon, Wed, Fri, Tue, Thu


def working_days(start: dt.date, end: dt.date, holidays: Iterable[dt.date] = ()) -> list[dt.date]:
    off = set(holidays)
    days, day = [], start
    while day <= end:
        if day.weekday() < 5 and day not in off:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for dom in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, dom)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a 28th")


def _period(period: dict[str, str]) -> tuple[dt.date, dt.date]:
    start, end = dt.date.fromisoformat(period["start"]), dt.date.fromisoformat(period["end"])
    if end < start:
        raise TeleworkRefused(f"period ends {end} before it starts {start}", field="/period/end",
                              rule="end_after_start", expected=f"a date on or after {start}")
    return start, end


def schedule(pattern: dict[str, Any], period: dict[str, str],
             holidays: Iterable[dt.date] = ()) -> tuple[list[dt.date], bool]:
    """The days the pattern covers within the period, and whether they are off-site."""
    start, end = _period(period)
    holidays = list(holidays)
    kind = pattern["kind"]
    if kind == "regular":
        limit = add_months(start, pattern["months"]) - dt.timedelta(days=1)
        if end > limit:
            raise TeleworkRefused(
                f"a regular pattern of {pattern['months']} months starting {start} ends by {limit}, "
                f"but the period ends {end}",
                field="/period/end", rule="within_pattern_months", expected=f"on or before {limit}")
        all_days = working_days(start, end, holidays)
        if "days_per_week" in pattern:
            wanted = set(WEEKLY_SPREAD[: pattern["days_per_week"]])
            return [d for d in all_days if d.weekday() in wanted], True
        per_month = pattern["days_per_month"]
        chosen: list[dt.date] = []
        months: dict[tuple[int, int], list[dt.date]] = {}
        for d in all_days:
            months.setdefault((d.year, d.month), []).append(d)
        for days in months.values():
            n = min(per_month, len(days))
            chosen.extend(days[round(i * len(days) / n)] for i in range(n))
        return sorted(set(chosen)), True
    if kind == "occasional":
        days = working_days(start, end, holidays)
        n = pattern["working_days"]
        if len(days) < n:
            raise TeleworkRefused(
                f"an occasional span of {n} working days does not fit in {start}..{end} "
                f"({len(days)} working days)",
                field="/period/end", rule="span_fits_period", expected=f"a period with at least {n} working days")
        return days[:n], True
    if kind == "new-normal":
        days = working_days(start, end, holidays)
        return days, pattern["mode"] == "off-site"
    raise TeleworkRefused(f"unknown pattern kind {kind!r}", field="/pattern/kind", rule="enum",
                          expected="regular, occasional or new-normal")
