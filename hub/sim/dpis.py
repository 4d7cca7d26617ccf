"""The reference DPIS: a DPIS-style HR database with believable seed data.

Creates the tables of :mod:`hub.adapters.dpis.schema` in MariaDB/MySQL or SQLite and fills
them the way a long-lived installation looks: Thai text stored as windows-874 bytes, a
ministry -> department -> unit tree (Prime Minister's Office and Ministry of Finance, with
OCSC, OPDC, the Comptroller General's Department and the Fiscal Policy Office), positions
with heads of ministry, department and unit, people with valid citizen IDs, and the mess
real data has: some start dates in BE, some citizen IDs with hyphens or Thai digits.

Seeding is deterministic for a given ``seed``. A caller that needs particular people (the
telework demo's officers: a known head of department, an officer serving the public...)
passes ``extra_units`` and ``named`` people: named heads take over the seeded head position
of their unit, named staff get positions of their own with their duty lines in
``PER_POSITION_DUTY``. Without them the seed is exactly what it always was.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from sqlalchemy import Engine, insert

from hub.adapters.dpis.schema import (
    LEGACY_TABLES,
    OPTIONAL_TABLES,
    hub_message_log,
    legacy_metadata,
    per_absenttype,
    per_acting,
    per_mgt,
    per_org,
    per_personal,
    per_position,
    per_position_duty,
)
from hub.thai import check_digit, ce_to_be_year

ENCODING = "cp874"

# (ORG_ID, parent, OL_CODE, ORG_CODE, name, short)
ORGS = [
    (1, None, "01", "01000", "สำนักนายกรัฐมนตรี", "นร"),
    (10, 1, "02", "01009", "สำนักงานคณะกรรมการข้าราชการพลเรือน", "สำนักงาน ก.พ."),
    (101, 10, "03", "0100901", "กองบริหารทรัพยากรบุคคล", "กบท."),
    (102, 10, "03", "0100902", "ศูนย์เทคโนโลยีสารสนเทศและการสื่อสาร", "ศทส."),
    (11, 1, "02", "01008", "สำนักงานคณะกรรมการพัฒนาระบบราชการ", "สำนักงาน ก.พ.ร."),
    (111, 11, "03", "0100801", "กองยุทธศาสตร์และแผนงาน", "กยผ."),
    (112, 11, "03", "0100802", "กองพัฒนาระบบบริหาร", "กพบ."),
    (2, None, "01", "03000", "กระทรวงการคลัง", "กค"),
    (20, 2, "02", "03004", "กรมบัญชีกลาง", "บก."),
    (201, 20, "03", "0300401", "กองระบบการบริหารการเงินการคลังภาครัฐแบบอิเล็กทรอนิกส์", "กบร."),
    (202, 20, "03", "0300402", "กองการเงินและบัญชี", "กกบ."),
    (21, 2, "02", "03005", "สำนักงานเศรษฐกิจการคลัง", "สศค."),
    (211, 21, "03", "0300501", "สำนักนโยบายการคลัง", "สนค."),
]
MGT = [("01", "ปลัดกระทรวง", 1), ("02", "หัวหน้าส่วนราชการระดับกรม", 2), ("03", "ผู้อำนวยการกอง", 3)]
ABSENT_TYPES = [("01", "ลาป่วย"), ("02", "ลาคลอดบุตร"), ("03", "ลากิจส่วนตัว"), ("04", "ลาพักผ่อน"),
                ("91", "ปฏิบัติงานนอกสถานที่")]
PLINES = [("510703", "นักทรัพยากรบุคคล"), ("510903", "นักวิเคราะห์นโยบายและแผน"),
          ("511013", "นักวิชาการคอมพิวเตอร์"), ("510403", "นักวิชาการเงินและบัญชี"),
          ("510113", "นักจัดการงานทั่วไป"), ("110101", "นักบริหาร")]
GIVEN = ["สมชาย", "สมหญิง", "ประเสริฐ", "วิไลวรรณ", "กิตติพงษ์", "ณัฐธิดา", "ธนากร", "พิมพ์ชนก", "อนุชา",
         "สุนิสา", "วรวุฒิ", "ปวีณา", "ศุภชัย", "จิราพร", "ชยพล", "กมลวรรณ", "ธีรวัฒน์", "นภัสสร", "พงศกร", "รัตนา"]
FAMILY = ["ใจดี", "ศรีสุข", "วงศ์สวัสดิ์", "แก้วมณี", "บุญมา", "ทองคำ", "สุวรรณรัตน์", "พูลสวัสดิ์", "จันทร์เพ็ญ",
          "ศักดิ์สิทธิ์", "มั่นคง", "เพชรรัตน์", "รุ่งเรือง", "สายบุญ", "อินทรวงศ์"]
PRENAMES = ["003", "004", "005"]  # นาย, นาง, นางสาว in common DPIS prename tables
LEVELS = ["K1", "K2", "K3", "K4", "O2", "O3"]


@dataclass(frozen=True)
class NamedPerson:
    """Someone the caller needs in DPIS as given. ``head`` puts them in the unit's management
    position (replacing the seeded head); otherwise they get a staff position of their own."""

    citizen_id: str
    pn_code: str  # 003 นาย, 004 นาง, 005 นางสาว
    given: str
    family: str
    org_id: int
    pl_name: str  # position line (or the executive's title)
    level: str  # LEVEL_NO: K1-K4, O1-O3, D1, M1, M2
    head: bool = False
    duties: tuple[str, ...] = ()
    per_type: int = 1


@dataclass(frozen=True)
class SeedSummary:
    orgs: int
    positions: int
    people: int
    heads: dict[int, int]  # ORG_ID -> PER_ID of its head
    named: dict[str, int] = field(default_factory=dict)  # citizen ID -> PER_ID of each named person


def citizen_id(rng: random.Random) -> str:
    first12 = str(rng.choice("13")) + "".join(str(rng.randrange(10)) for _ in range(11))
    return first12 + str(check_digit(first12))


def enc(text: str) -> bytes:
    return text.encode(ENCODING)


def create_schema(engine: Engine, *, reset: bool = False) -> None:
    if reset:
        legacy_metadata.drop_all(engine, tables=[*LEGACY_TABLES, *OPTIONAL_TABLES, hub_message_log])
    legacy_metadata.create_all(engine, tables=[*LEGACY_TABLES, *OPTIONAL_TABLES])


def seed(engine: Engine, *, people: int = 60, seed: int = 2568, now: dt.datetime | None = None,
         extra_units: tuple[tuple[int, int | None, str, str, str, str], ...] = (),
         named: tuple[NamedPerson, ...] = ()) -> SeedSummary:
    """Fill an empty DPIS schema. ``people`` counts staff besides the heads (one per org).

    ``extra_units`` are more ``ORGS`` rows; their head positions stay vacant unless a named
    person heads them. ``named`` people are applied after the random ones, so the random
    part (and every PER_ID / POS_ID in it) is the same with or without them.
    """
    rng = random.Random(seed)
    stamp = (now or dt.datetime(2025, 1, 6, 9, 0, 0)).strftime("%Y-%m-%d %H:%M:%S").encode("ascii")
    used_ids: set[str] = set()
    positions, persons, heads = [], [], {}
    pos_id, per_id = 1000, 5000

    def new_person(org_id: int, pos: int, level: str) -> dict[str, object]:
        nonlocal per_id
        per_id += 1
        cid = citizen_id(rng)
        while cid in used_ids:
            cid = citizen_id(rng)
        used_ids.add(cid)
        stored = cid
        roll = rng.random()
        if roll < 0.08:  # typed with separators, as some data entry screens allow
            stored = f"{cid[0]}-{cid[1:5]}-{cid[5:10]}-{cid[10:12]}-{cid[12]}"
        elif roll < 0.12:  # Thai digits
            stored = cid.translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))
        start = dt.date(rng.randrange(1995, 2024), rng.randrange(1, 13), rng.randrange(1, 29))
        start_text = start.isoformat()
        if rng.random() < 0.15:  # a BE year slipped in
            start_text = f"{ce_to_be_year(start.year)}-{start.month:02d}-{start.day:02d}"
        return {
            "PER_ID": per_id, "PER_TYPE": rng.choice([1, 1, 1, 2, 3]), "PN_CODE": rng.choice(PRENAMES),
            "PER_NAME": enc(rng.choice(GIVEN)), "PER_SURNAME": enc(rng.choice(FAMILY)),
            "PER_CARDNO": enc(stored), "ORG_ID": org_id, "POS_ID": pos, "LEVEL_NO": level,
            "PER_STARTDATE": start_text.encode("ascii"), "PER_STATUS": 1,
            "PER_EMAIL": f"officer{per_id}@example.go.th", "UPDATE_USER": "SEED", "UPDATE_DATE": stamp,
        }

    for org_id, _parent, ol_code, _code, _name, _short in ORGS:
        pos_id += 1
        pm_code = {"01": "01", "02": "02", "03": "03"}[ol_code]
        positions.append({"POS_ID": pos_id, "POS_NO": str(pos_id), "PL_CODE": "110101", "PL_NAME": enc("นักบริหาร"),
                          "PM_CODE": pm_code, "ORG_ID": org_id})
        head = new_person(org_id, pos_id, {"01": "M2", "02": "M1", "03": "D1"}[ol_code])
        head["PER_TYPE"] = 1
        persons.append(head)
        heads[org_id] = head["PER_ID"]
    units = [o[0] for o in ORGS if o[2] == "03"]
    for i in range(people):
        pos_id += 1
        org_id = units[i % len(units)]
        pl_code, pl_name = rng.choice(PLINES[:-1])
        positions.append({"POS_ID": pos_id, "POS_NO": str(pos_id), "PL_CODE": pl_code, "PL_NAME": enc(pl_name),
                          "PM_CODE": None, "ORG_ID": org_id})
        persons.append(new_person(org_id, pos_id, rng.choice(LEVELS)))
    duties: list[dict[str, object]] = []
    named_ids: dict[str, int] = {}
    head_pos = {p["ORG_ID"]: p for p in positions if p["PM_CODE"] is not None}
    for org_id, _parent, ol_code, _code, _name, _short in extra_units:
        pos_id += 1
        head_pos[org_id] = {"POS_ID": pos_id, "POS_NO": str(pos_id), "PL_CODE": "110101",
                            "PL_NAME": enc("นักบริหาร"), "PM_CODE": ol_code, "ORG_ID": org_id}
        positions.append(head_pos[org_id])
    for who in named:
        identity = {"PN_CODE": who.pn_code, "PER_NAME": enc(who.given), "PER_SURNAME": enc(who.family),
                    "PER_CARDNO": enc(who.citizen_id), "LEVEL_NO": who.level, "PER_TYPE": who.per_type,
                    "PER_STATUS": 1}
        if who.head:
            position = head_pos[who.org_id]
            position["PL_NAME"] = enc(who.pl_name)
            holder = next((p for p in persons if p["POS_ID"] == position["POS_ID"]), None)
            if holder is None:  # a vacant head position (an extra unit): a new person fills it
                per_id += 1
                holder = {"PER_ID": per_id, "ORG_ID": who.org_id, "POS_ID": position["POS_ID"],
                          "PER_STARTDATE": b"2010-10-01", "PER_EMAIL": f"officer{per_id}@example.go.th",
                          "UPDATE_USER": "SEED", "UPDATE_DATE": stamp}
                persons.append(holder)
                heads[who.org_id] = per_id
            holder.update(identity)  # the named head takes over the seeded head's record
        else:
            pos_id += 1
            per_id += 1
            position = {"POS_ID": pos_id, "POS_NO": str(pos_id), "PL_CODE": None, "PL_NAME": enc(who.pl_name),
                        "PM_CODE": None, "ORG_ID": who.org_id}
            positions.append(position)
            holder = {"PER_ID": per_id, "ORG_ID": who.org_id, "POS_ID": pos_id, "PER_STARTDATE": b"2015-06-01",
                      "PER_EMAIL": f"officer{per_id}@example.go.th", "UPDATE_USER": "SEED", "UPDATE_DATE": stamp,
                      **identity}
            persons.append(holder)
        named_ids[who.citizen_id] = holder["PER_ID"]
        duties += [{"POS_ID": position["POS_ID"], "DUTY_SEQ": n, "DUTY_DESC": enc(text)}
                   for n, text in enumerate(who.duties, 1)]
    with engine.begin() as conn:
        conn.execute(insert(per_org), [
            {"ORG_ID": o, "ORG_ID_REF": p, "OL_CODE": ol, "ORG_CODE": code, "ORG_NAME": enc(name),
             "ORG_SHORT": enc(short)} for o, p, ol, code, name, short in [*ORGS, *extra_units]])
        conn.execute(insert(per_mgt), [{"PM_CODE": c, "PM_NAME": enc(n), "PM_RANK": r} for c, n, r in MGT])
        conn.execute(insert(per_absenttype), [{"AB_CODE": c, "AB_NAME": enc(n)} for c, n in ABSENT_TYPES])
        conn.execute(insert(per_position), positions)
        conn.execute(insert(per_personal), persons)
        if duties:
            conn.execute(insert(per_position_duty), duties)
    return SeedSummary(len(ORGS) + len(extra_units), len(positions), len(persons), heads, named_ids)


def record_acting(engine: Engine, *, citizen_id: str, org_id: int, start: dt.date, end: dt.date | None,
                  order: str, buddhist_era: bool = True) -> int:
    """Record an acting head (ผู้รักษาราชการแทน) of ``org_id`` as DPIS screens do: dates as text
    (in BE when ``buddhist_era``, as many installations typed them), the order's number in
    cp874. Returns the row's ACTH_ID."""
    from sqlalchemy import func, select

    def text(day: dt.date | None) -> bytes | None:
        if day is None:
            return None
        year = ce_to_be_year(day.year) if buddhist_era else day.year
        return f"{year}-{day.month:02d}-{day.day:02d}".encode("ascii")

    with engine.begin() as conn:
        per_id = next(r.PER_ID for r in conn.execute(select(per_personal.c.PER_ID, per_personal.c.PER_CARDNO))
                      if r.PER_CARDNO.decode(ENCODING) == citizen_id)
        acth_id = (conn.execute(select(func.max(per_acting.c.ACTH_ID))).scalar() or 0) + 1
        conn.execute(insert(per_acting).values(ACTH_ID=acth_id, PER_ID=per_id, ORG_ID=org_id,
                                               ACTH_STARTDATE=text(start), ACTH_ENDDATE=text(end),
                                               ACTH_DOCNO=enc(order)))
    return acth_id
