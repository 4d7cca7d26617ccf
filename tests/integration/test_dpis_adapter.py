"""DPIS adapter against MariaDB and SQLite: cp874 text, mixed dates, idempotent writes, bad rows."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import func, insert, select

from hub.adapters.dpis import DpisAdapter, DpisSettings
from hub.adapters.dpis.legacy import LegacyRowError
from hub.adapters.dpis.schema import hub_message_log, per_absent, per_personal, per_time_attendance
from hub.config import default_standards_dir
from hub.db import make_engine
from hub.errors import DeliveryError, NotFound
from hub.sim import dpis as dpis_sim
from tests.support.conformance import outbound
from tests.support.legacy import DPIS_BACKENDS, dpis_database

STANDARDS = default_standards_dir()
NAME, SURNAME = "ณัฐพงศ์", "ศรีสวัสดิ์วงศ์"
CITIZEN_ID = "1101700203450"  # valid check digit
THAI_DIGITS = "๑-๑๐๑๗-๐๐๒๐๓-๔๕-๐"  # the same ID as a data-entry screen stored it


@pytest.fixture(params=DPIS_BACKENDS)
def dpis(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DpisAdapter]:
    with dpis_database(request.param, tmp_path) as url:
        engine = make_engine(url)
        dpis_sim.create_schema(engine)
        seeded = dpis_sim.seed(engine, people=30)
        with engine.begin() as conn:
            conn.execute(insert(per_personal).values(
                PER_ID=9001, PER_TYPE=1, PN_CODE="003", PER_NAME=NAME.encode("cp874"),
                PER_SURNAME=SURNAME.encode("cp874"), PER_CARDNO=THAI_DIGITS.encode("cp874"), ORG_ID=101,
                POS_ID=None, LEVEL_NO="K2", PER_STARTDATE=b"2560-04-01", PER_STATUS=1,
                PER_EMAIL="nattapong.s@ocsc.go.th", UPDATE_USER="T", UPDATE_DATE=b"2025-01-06 09:00:00"))
        engine.dispose()
        adapter = DpisAdapter(DpisSettings(url=url))
        adapter.seeded = seeded  # type: ignore[attr-defined]
        try:
            yield adapter
        finally:
            adapter.close()


def test_reads_a_person_whose_thai_text_is_stored_as_cp874(dpis: DpisAdapter) -> None:
    with dpis.engine.connect() as conn:
        raw = conn.execute(select(per_personal.c.PER_NAME).where(per_personal.c.PER_ID == 9001)).scalar_one()
    assert bytes(raw) == NAME.encode("cp874") and len(raw) == len(NAME)  # one byte per character: not UTF-8

    person = dpis.person("1-1017-00203-45-0")
    assert (person.per_name, person.per_surname, person.per_cardno) == (NAME, SURNAME, CITIZEN_ID)
    assert person.per_startdate.isoformat() == "2017-04-01"  # stored in BE 2560
    assert [o.ol_code for o in person.organization] == ["03", "02", "01"]
    assert person.organization[-1].org_name == "สำนักนายกรัฐมนตรี"
    schema = json.loads((STANDARDS / "th.hr.person/1.0.0/schema.json").read_text())
    assert not list(Draft202012Validator(schema).iter_errors(person.to_standard()))


def test_org_tree_positions_and_supervisors(dpis: DpisAdapter) -> None:
    roots = dpis.org_tree()
    assert [r.org_name for r in roots] == ["สำนักนายกรัฐมนตรี", "กระทรวงการคลัง"]
    ocsc = next(d for d in roots[0].children if d.org_id == 10)
    assert {u.org_id for u in ocsc.children} == {101, 102}
    heads = [p for p in dpis.positions(101) if p.pm_code]
    assert len(heads) == 1 and heads[0].pm_name == "ผู้อำนวยการกอง"
    assert heads[0].holder_per_id == dpis.seeded.heads[101]  # type: ignore[attr-defined]

    chain = dpis.supervisors(CITIZEN_ID)
    assert [s.relation for s in chain] == ["first_line", "higher", "higher"]
    assert [s.person.per_id for s in chain] == [dpis.seeded.heads[o] for o in (101, 10, 1)]  # type: ignore[attr-defined]
    # The head of a unit reports to the head of the department, not to themself.
    with dpis.engine.connect() as conn:
        head_of_unit = dpis.reader.person_by_id(conn, dpis.seeded.heads[101])  # type: ignore[attr-defined]
    assert [s.org.org_id for s in dpis.supervisors(head_of_unit.per_cardno)] == [10, 1]
    chain = dpis.org_chain(head_of_unit.per_cardno)
    assert [(unit.org_id, head.per_id, title) for unit, head, title in chain][0] == (
        101, head_of_unit.per_id, "ผู้อำนวยการกอง")


def test_telework_attendance_written_twice_from_one_message_is_one_row(dpis: DpisAdapter) -> None:
    message = outbound("TH/GOV/OCSC/telework", "hr.attendance/v1",
                       {"citizen_id": CITIZEN_ID, "days": [{"date": "2568-01-07", "check_in": "08:30:00"}]})
    first = dpis.send(message)
    second = dpis.send(message)
    assert first.detail["duplicate"] is False and second.detail["duplicate"] is True
    with dpis.engine.connect() as conn:
        rows = conn.execute(select(per_time_attendance).where(per_time_attendance.c.PER_ID == 9001)).all()
        markers = conn.execute(select(func.count()).select_from(hub_message_log)).scalar_one()
    assert [(bytes(r.TIME_STAMP), r.TA_CODE) for r in rows] == [(b"2025-01-07 08:30:00", "W1")]
    assert markers == 1


def test_no_attendance_row_without_a_given_check_in_seed_001_7_2(dpis: DpisAdapter) -> None:
    """Seed 001 §7.2 (Leave Regulation B.E. 2555 cl. 11): attendance is evidence of the times
    worked, so a day with no check-in given is refused, not filled with a default time."""
    with pytest.raises(DeliveryError) as caught:
        dpis.send(outbound("TH/GOV/OCSC/telework", "hr.attendance/v1",
                           {"citizen_id": CITIZEN_ID, "date": "2025-01-07", "kind": "telework"}))
    assert caught.value.permanent and "no check-in given for 2025-01-07" in caught.value.reason
    with dpis.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(per_time_attendance)).scalar_one() == 0


def test_time_evidence_and_absence_mode(dpis: DpisAdapter) -> None:
    absence = DpisAdapter(DpisSettings(url=dpis.settings.url, telework_as="absence", ab_code="91"))
    try:
        days = {"citizen_id": THAI_DIGITS, "days": [{"date": "2025-01-08"}, {"date": "2025-01-09", "period": 1}]}
        absence.write_telework("2b3f9f0c-0000-4000-8000-000000000001", days)
        absence.write_telework("2b3f9f0c-0000-4000-8000-000000000001", days)
        with absence.engine.connect() as conn:
            rows = conn.execute(select(per_absent).where(per_absent.c.PER_ID == 9001)
                                .order_by(per_absent.c.ABS_ID)).mappings().all()
        assert [(bytes(r["ABS_STARTDATE"]), float(r["ABS_DAY"]), r["AB_CODE"]) for r in rows] == [
            (b"2025-01-08", 1.0, "91"), (b"2025-01-09", 0.5, "91")]
        assert bytes(rows[0]["ABS_REASON"]).decode("cp874") == "ปฏิบัติงานนอกสถานที่"
    finally:
        absence.close()
    evidence = {"evidence_id": "EV-1", "person_citizen_id": CITIZEN_ID, "order_ref": "นร 1009/123",
                "work_date": "2025-01-10", "source_system": "TH/GOV/OCSC/telework",
                "check_in": {"at": "2025-01-10T01:05:00Z", "method": "check-in-app"},
                "check_out": {"at": "2025-01-10T16:31:00+07:00", "method": "check-in-app"}}
    dpis.send(outbound("TH/GOV/OCSC/telework", "hr.attendance/v1", evidence))
    with dpis.engine.connect() as conn:
        stamps = conn.execute(select(per_time_attendance.c.TIME_STAMP, per_time_attendance.c.TA_CODE)
                              .where(per_time_attendance.c.PER_ID == 9001)
                              .order_by(per_time_attendance.c.TIME_STAMP)).all()
    assert [(bytes(s), c) for s, c in stamps] == [(b"2025-01-10 08:05:00", "W1"), (b"2025-01-10 16:31:00", "W2")]


def test_bad_rows_are_named_and_do_not_hide_the_rest(dpis: DpisAdapter) -> None:
    bad = [
        (9101, "1100400728564", "PER_NAME", b"\xdb\xfc bad", b"2020-01-01"),     # undecodable in cp874
        (9102, "3500100234569", "PER_STARTDATE", "ดี".encode("cp874"), b"2025-02-30"),  # impossible date
        (9103, "1100400728565", "PER_CARDNO", "ดี".encode("cp874"), b"2020-01-01"),    # wrong check digit
    ]
    with dpis.engine.begin() as conn:
        for per_id, cid, _col, name, start in bad:
            conn.execute(insert(per_personal).values(
                PER_ID=per_id, PER_TYPE=1, PER_NAME=name, PER_SURNAME=b"x", PER_CARDNO=cid.encode(), ORG_ID=101,
                PER_STARTDATE=start, PER_STATUS=1, UPDATE_DATE=b"2025-01-06 09:00:00"))
    for per_id, cid, column, _name, _start in bad[:2]:
        with pytest.raises(LegacyRowError) as caught:
            dpis.person(cid)
        assert (caught.value.table, caught.value.key, caught.value.column) == ("PER_PERSONAL", per_id, column)
    assert caught.value.rule == "calendar"
    with pytest.raises(NotFound):  # an invalid ID cannot be looked up at all
        dpis.person("1100400728565")
    problems = [o for _, _, o in dpis.person_rows(None, 7) if isinstance(o, LegacyRowError)]
    assert sorted((p.key, p.column) for p in problems) == [(9101, "PER_NAME"), (9102, "PER_STARTDATE"),
                                                           (9103, "PER_CARDNO")]
    assert dpis.person(CITIZEN_ID).per_name == NAME  # the others still read


def test_unknown_person_and_bad_payload_are_permanent_failures(dpis: DpisAdapter) -> None:
    with pytest.raises(DeliveryError) as caught:
        dpis.send(outbound("TH/GOV/OCSC/telework", "hr.attendance/v1",
                           {"citizen_id": "3500100234569", "days": [{"date": "2025-01-07", "check_in": "08:30"}]}))
    assert caught.value.permanent and "3500100234569" in caught.value.reason
    with pytest.raises(DeliveryError) as caught:
        dpis.send(outbound("TH/GOV/OCSC/telework", "hr.attendance/v1", {"citizen_id": CITIZEN_ID,
                                                                         "date": "2025-02-30"}))
    assert caught.value.permanent and "days.0.date" in caught.value.reason
