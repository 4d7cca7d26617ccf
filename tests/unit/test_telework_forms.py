"""Official Thai forms (DOMAIN.md §3; issue 14): order letters number the order "ที่ N/ปี",
read dates in Buddhist Era with Thai month names and are dated as the order; telework days
skip Thailand's public holidays (the `holidays` package) and the agency's declared days."""
from __future__ import annotations

import re

from hub.apps.telework import pilot
from tests.unit.telework_world import World, agree, build_world, by, ordered_case


def test_order_letter_is_numbered_dated_and_worded_in_official_thai() -> None:
    world = build_world()
    world.clock.set("2026-10-28", "10:00")
    first = ordered_case(world)
    second = ordered_case(world, pilot.AUDITOR)
    letters = world.saraban.outgoing[pilot.CGD]
    text = letters[0].letter.text
    assert "\nที่ 1/2569\n" in text and "\nที่ 2/2569\n" in letters[1].letter.text
    assert "ตั้งแต่วันที่ 2 พฤศจิกายน 2569 ถึงวันที่ 13 พฤศจิกายน 2569" in text
    assert "สั่ง ณ วันที่ 28 ตุลาคม 2569" in text and not re.search(r"\d{4}-\d{2}-\d{2}", text)
    assert first.order_letter["order_number"] == "1/2569" and second.order_letter["order_number"] == "2/2569"
    assert first.order_letter["sent_on"] == first.order["order_date"] == "2026-10-28"  # dated as the order


def test_revocation_letter_names_the_order_by_its_number_in_thai_dates() -> None:
    world = build_world()
    case = ordered_case(world)
    world.clock.set("2026-11-05", "11:00")
    world.service.propose_revocation(case.case_id, by=by(pilot.DIVISION_HEAD), reason_code="agreement-breach",
                                     reason="ไม่รายงานผลตามข้อตกลง")
    world.service.revoke(case.case_id, by=by(pilot.DIRECTOR_GENERAL), effective_date="2026-11-09")
    text = world.saraban.outgoing[pilot.CGD][-1].letter.text
    assert "ที่ 1/2569" in text and "ตั้งแต่วันที่ 9 พฤศจิกายน 2569" in text
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)


def test_telework_days_skip_thai_public_holidays_and_the_agencys_declared_days() -> None:
    world: World = build_world()
    setup = world.store.get_agency(pilot.CGD)
    world.service.register_agency(pilot.policy(), name=setup.name, hr_agency=setup.hr_agency,
                                  finance_agency=setup.finance_agency, strategy_agency=setup.strategy_agency,
                                  copy_to=setup.copy_to, declared_holidays=["2026-12-03"])
    case = agree(world, start="2026-12-01", end="2026-12-14", pattern={"kind": "occasional", "working_days": 6})
    # 5 Dec (Sat) is substituted on Mon 7 Dec, 10 Dec is Constitution Day (holidays package);
    # 3 Dec is the agency's own declared day off
    assert case.scheduled_days == ["2026-12-01", "2026-12-02", "2026-12-04", "2026-12-08", "2026-12-09",
                                   "2026-12-11"]


def test_seed_001_9_3_3_the_yearly_evaluation_prints_in_official_thai() -> None:
    world = build_world()
    ordered_case(world)
    world.clock.set("2026-11-30", "10:00")
    made = world.reports.annual_evaluation(pilot.CGD, 2570, effectiveness_score=4.2, satisfaction_respondents=12,
                                           satisfaction_score=4.5, lessons=["ควรกำหนดวันประชุมออนไลน์ประจำสัปดาห์"])
    agency, text = world.reports.printable(made["report_id"])
    assert agency == pilot.CGD
    assert text.startswith("รายงานผลการประเมินการปฏิบัติราชการนอกสถานที่ ประจำปีงบประมาณ พ.ศ. 2570\nกรมบัญชีกลาง\n")
    assert "ระหว่างวันที่ 1 ตุลาคม 2569 ถึงวันที่ 30 กันยายน 2570" in text
    assert "บรรลุเป้าหมายตามข้อตกลง 0 จาก 2 เป้าหมาย" in text and "ผู้ตอบแบบสำรวจ 12 คน" in text
    assert text.rstrip().endswith("จัดทำ ณ วันที่ 30 พฤศจิกายน 2569")
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)
