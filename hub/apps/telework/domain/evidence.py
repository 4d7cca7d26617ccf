"""Evidence that the dates and times of work can be verified (Leave Regulation cl. 11).

Working time per day is the union of check-in/check-out intervals and e-meetings attended
that day (a meeting inside a checked-in interval is not counted twice). A scheduled day with
no evidence at all, once past, is reported to the supervisor.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from hub.apps.telework.domain.errors import TeleworkRefused
from hub.apps.telework.domain.model import EMEETING, TIME, Case, Evidence

EMEETING_SECRET_TH = "ห้ามประชุมผ่านสื่ออิเล็กทรอนิกส์ในเรื่องที่มีชั้นความลับ"
BANGKOK = dt.timezone(dt.timedelta(hours=7))


def require_day_in_order(case: Case, day: dt.date, field: str) -> None:
    if case.order is None:
        raise TeleworkRefused(f"case {case.case_id} has no order yet; evidence needs an order",
                              field="/case", rule="ordered", expected="an issued order")
    active = case.active_days()
    if day not in active:
        why = "after the revocation took effect" if case.revocation and day.isoformat() in case.scheduled_days \
            else "not a day of the order"
        first, last = (active[0], active[-1]) if active else (None, None)
        raise TeleworkRefused(
            f"{day} is {why} {case.book_number} (telework days {first}..{last}, {len(active)} days)",
            field=field, rule="day_within_order",
            expected=f"one of the {len(active)} days the order covers",
            reason_th="หลักฐานต้องเป็นวันปฏิบัติราชการนอกสถานที่ตามคำสั่ง", seed="001 §7.2 (ข้อ 11)")


def require_within_order_period(case: Case, day: dt.date, field: str) -> None:
    """Progress may be reported from the office too, but only while the order runs."""
    if case.order is None:
        raise TeleworkRefused(f"case {case.case_id} has no order yet", field="/case", rule="ordered",
                              expected="an issued order")
    start, end = dt.date.fromisoformat(case.order["start_date"]), dt.date.fromisoformat(case.order["end_date"])
    if case.revocation:
        end = min(end, dt.date.fromisoformat(case.revocation["effective_date"]) - dt.timedelta(days=1))
    if not start <= day <= end:
        raise TeleworkRefused(f"{day} is outside the order {case.book_number} ({start}..{end})", field=field,
                              rule="day_within_order", expected=f"a date in {start}..{end}", seed="001 §9.2")


def require_unclassified_meeting(classification: str) -> None:
    if classification != "001":
        raise TeleworkRefused(
            f"an electronic meeting on a matter classified {classification} is not allowed",
            field="/classification", rule="emeeting_not_classified", expected="001 (ปกติ)",
            reason_th=EMEETING_SECRET_TH, seed="001 §7.4-7.5")


def require_traffic_data(reference: str | None) -> None:
    """Seed 001 §7.5 (MICT standard B.E. 2557 cl. 4): the meeting keeps its computer traffic
    data next to the recording."""
    if not reference:
        raise TeleworkRefused("an e-meeting record needs its computer traffic data", field="/traffic_data_reference",
                              rule="traffic_data_required", expected="a reference to the meeting's traffic data",
                              reason_th="ต้องจัดเก็บข้อมูลจราจรทางคอมพิวเตอร์ที่เกิดจากการประชุม", seed="001 §7.5")


def require_quorum_in_one_place(participants: list[dict[str, Any]]) -> None:
    """Seed 001 §7.4 (NCPO Announcement 74/2557 cl. 1): at least one third of those meeting
    are together in one meeting place."""
    together = sum(1 for p in participants if p.get("attendance") == "on-site")
    needed = -(-len(participants) // 3)  # ceil(n / 3)
    if together < needed:
        raise TeleworkRefused(
            f"{together} of {len(participants)} participants are in the meeting place; at least {needed} must be",
            field="/participants", rule="one_third_in_one_place", expected=f"at least {needed} with attendance on-site",
            reason_th="ผู้ร่วมประชุมอย่างน้อยหนึ่งในสามขององค์ประชุมต้องอยู่ในที่ประชุมแห่งเดียวกัน", seed="001 §7.4")


def parse_instant(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=BANGKOK)


def local_date(text: str) -> dt.date:
    return parse_instant(text).astimezone(BANGKOK).date()


def intervals(item: Evidence) -> list[tuple[dt.datetime, dt.datetime]]:
    doc = item.document
    if item.kind == TIME and doc.get("check_out"):
        return [(parse_instant(doc["check_in"]["at"]), parse_instant(doc["check_out"]["at"]))]
    if item.kind == EMEETING:
        return [(parse_instant(doc["start"]), parse_instant(doc["end"]))]
    return []


def merged_minutes(spans: Iterable[tuple[dt.datetime, dt.datetime]]) -> int:
    total, current = 0.0, None
    for start, end in sorted(spans):
        if current is None or start > current[1]:
            if current:
                total += (current[1] - current[0]).total_seconds()
            current = [start, end]
        else:
            current[1] = max(current[1], end)
    if current:
        total += (current[1] - current[0]).total_seconds()
    return int(total // 60)


def working_time(items: Iterable[Evidence]) -> dict[str, dict[str, Any]]:
    """Per day: minutes worked (from intervals) and the kinds of evidence present."""
    by_day: dict[str, list[Evidence]] = {}
    for item in items:
        by_day.setdefault(item.work_date, []).append(item)
    out = {}
    for day, day_items in sorted(by_day.items()):
        spans = [s for i in day_items for s in intervals(i)]
        out[day] = {"minutes": merged_minutes(spans), "evidence": sorted({i.kind for i in day_items}),
                    "items": len(day_items)}
    return out


# Evidence of the dates and times of work (Leave Regulation cl. 11): a check-in / check-out or
# an e-meeting attended. A progress report says what was done, not when: it is not time evidence.
TIME_KINDS = frozenset({TIME, EMEETING})

COMPLETE, INCOMPLETE, LATE, MISSING, PENDING, SCHEDULED, FLAGGED = (
    "complete", "incomplete", "late", "missing", "pending", "scheduled", "flagged")
STATUS_TH = {COMPLETE: "ครบถ้วน", INCOMPLETE: "ไม่ครบ (ไม่มีเวลาเลิกงาน)", LATE: "ส่งหลักฐานล่าช้า",
             MISSING: "ไม่มีหลักฐาน", PENDING: "รอหลักฐาน", SCHEDULED: "ยังไม่ถึงวัน",
             FLAGGED: "ไม่เป็นไปตามรูปแบบ (มาสายหรือชั่วโมงไม่ครบ)"}


def _hhmm(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def _th_minutes(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours} ชั่วโมง {rest} นาที" if rest else f"{hours} ชั่วโมง"


def pattern_findings(pattern: dict[str, Any], items: list[Evidence], *, day_over: bool) -> list[dict[str, Any]]:
    """What a day's time evidence shows against a seed 003 on-site pattern: pattern 1
    (staggered hours) a check-in after the pattern's start or a check-out before its end;
    pattern 2 (counted hours) fewer minutes than its hours per day. Reported, never silently
    accepted; a day still in progress is not judged short."""
    if pattern.get("kind") != "new-normal":
        return []
    mode, found = pattern.get("mode"), []
    times = [i for i in items if i.kind == TIME]
    if mode == "staggered-hours" and pattern.get("start_time") and pattern.get("end_time"):
        start, end = _hhmm(pattern["start_time"]), _hhmm(pattern["end_time"])
        for item in times:
            came = parse_instant(item.document["check_in"]["at"]).astimezone(BANGKOK).time()
            if came > start:
                found.append({"finding": "late-arrival", "at": came.strftime("%H:%M"), "expected": pattern["start_time"],
                              "text_th": f"เข้างานเวลา {came:%H:%M} น. หลังเวลาเริ่มงานตามรูปแบบ {pattern['start_time']} น."})
            out = item.document.get("check_out")
            if out:
                left = parse_instant(out["at"]).astimezone(BANGKOK).time()
                if left < end:
                    found.append({"finding": "early-leave", "at": left.strftime("%H:%M"), "expected": pattern["end_time"],
                                  "text_th": f"ออกงานเวลา {left:%H:%M} น. ก่อนเวลาเลิกงานตามรูปแบบ {pattern['end_time']} น."})
    if mode == "counted-hours" and pattern.get("hours_per_day") and day_over and times:
        wanted = int(round(float(pattern["hours_per_day"]) * 60))
        worked = merged_minutes(s for i in items for s in intervals(i))
        if worked < wanted:
            found.append({"finding": "short-hours", "minutes": worked, "expected": wanted,
                          "text_th": f"ปฏิบัติงาน {_th_minutes(worked)} ไม่ครบ {_th_minutes(wanted)} ตามรูปแบบนับชั่วโมง"})
    return found


def days_without_evidence(case: Case, items: Iterable[Evidence], as_of: dt.date) -> list[dt.date]:
    have = {i.work_date for i in items if i.kind in TIME_KINDS}
    return [d for d in case.active_days() if d <= as_of and d.isoformat() not in have]


def day_status(day: dt.date, items: list[Evidence], as_of: dt.date) -> str:
    """The evidence status of one ordered day (seed 001 §7.2):

    * ``complete``: a check-in and check-out (or an e-meeting) recorded on the day itself;
    * ``late``: time evidence exists but reached the hub only after the day;
    * ``incomplete``: a check-in with no check-out, once the day is over;
    * ``missing``: no time evidence at all for a past day (progress reports do not count);
    * ``pending``: today, nothing yet; ``scheduled``: a day still to come.
    """
    timed = [i for i in items if i.kind in TIME_KINDS]
    if day > as_of:
        return SCHEDULED if not timed else COMPLETE
    if not timed:
        return PENDING if day == as_of else MISSING
    on_time = [i for i in timed if i.recorded_at is None or dt.date.fromisoformat(i.recorded_at[:10]) <= day]
    if not on_time:
        return LATE
    whole = any(i.kind == EMEETING or i.document.get("check_out") for i in on_time)
    if whole:
        return COMPLETE
    return PENDING if day == as_of else INCOMPLETE


def evidence_status(case: Case, items: Iterable[Evidence], as_of: dt.date) -> list[dict[str, Any]]:
    """Per ordered day: its status, the minutes proved and the kinds of evidence given."""
    by_day: dict[str, list[Evidence]] = {}
    for item in items:
        by_day.setdefault(item.work_date, []).append(item)
    rows = []
    for day in case.active_days():
        day_items = by_day.get(day.isoformat(), [])
        status = day_status(day, day_items, as_of)
        findings = pattern_findings(case.agreement.get("pattern", {}), day_items, day_over=day < as_of)
        if findings and status in (COMPLETE, INCOMPLETE, PENDING):
            status = FLAGGED
        rows.append({"date": day.isoformat(), "status": status, "status_th": STATUS_TH[status],
                     "minutes": merged_minutes(s for i in day_items for s in intervals(i)),
                     "evidence": sorted({i.kind for i in day_items}), "findings": findings})
    return rows
