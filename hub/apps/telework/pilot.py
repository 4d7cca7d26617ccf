"""A believable pilot: a department of the Ministry of Finance orders telework, the ministry's
permanent secretary office keeps HR (DPIS) and finance (GFMIS-style), OPDC oversees.

Used by the demo and the tests; the same people go into the reference DPIS (``seed_dpis``:
what the demo and the end-to-end test read through the DPIS adapter) or, for unit tests of
the domain only, into the in-memory HR directory (``fake_hr``). Each agency's e-Saraban
department on the hub's e-CMS node is in ``ECMS_DEPARTMENTS``.
"""
from __future__ import annotations

from typing import Any

from hub.apps.telework.domain.model import DEPARTMENT, MINISTRY, UNIT, Officer
from hub.apps.telework.fakes import FakeHrDirectory

CGD, MOF, OPDC = "TH/GOV/CGD", "TH/GOV/MOF-OPS", "TH/GOV/OPDC"  # as the catalogue names them
AGENCY_NAMES = {CGD: "กรมบัญชีกลาง", MOF: "สำนักงานปลัดกระทรวงการคลัง", OPDC: "สำนักงาน ก.พ.ร."}
BOOK_PREFIXES = {CGD: "กค 0401", MOF: "กค 0100", OPDC: "นร 1200"}
GFMIS_CODE, GSMS_CODE = "03004", "0300400"  # CGD in GFMIS (ORG_CODE of กรมบัญชีกลาง) and in GSMS

# org id, name, level, parent
UNITS = [
    ("MOF", "กระทรวงการคลัง", MINISTRY, None),
    ("CGD", "กรมบัญชีกลาง", DEPARTMENT, "MOF"),
    ("CGD-GFS", "กองระบบการคลังภาครัฐ", UNIT, "CGD"),
    ("CGD-PEN", "กองบำเหน็จบำนาญ", UNIT, "CGD"),
]

PERM_SEC = Officer("3100100123451", "นายประเสริฐ วงศ์ใหญ่", "ปลัดกระทรวงการคลัง", "กระทรวงการคลัง",
                   management_position="ปลัดกระทรวง")
DIRECTOR_GENERAL = Officer("3100100123469", "นางสาวพรทิพย์ ศรีสุข", "อธิบดีกรมบัญชีกลาง", "กรมบัญชีกลาง",
                           management_position="หัวหน้าส่วนราชการระดับกรม")
DIVISION_HEAD = Officer("3100100123477", "นายวีระ ทองดี", "ผู้อำนวยการกองระบบการคลังภาครัฐ",
                        "กองระบบการคลังภาครัฐ", management_position="ผู้อำนวยการกอง")
PENSION_HEAD = Officer("3100100123485", "นางสุดา แก้วมณี", "ผู้อำนวยการกองบำเหน็จบำนาญ", "กองบำเหน็จบำนาญ",
                       management_position="ผู้อำนวยการกอง")
ANALYST = Officer("3100100123493", "นางสาวสมใจ ใฝ่รู้", "นักวิชาการคลังชำนาญการ", "กองระบบการคลังภาครัฐ",
                  duties=("วิเคราะห์ข้อมูลการเบิกจ่ายงบประมาณ", "จัดทำรายงานการศึกษา"))
DEVELOPER = Officer("3100100123507", "นายสมชาย พัฒนา", "นักวิชาการคอมพิวเตอร์ปฏิบัติการ", "กองระบบการคลังภาครัฐ",
                    duties=("ออกแบบและพัฒนาระบบคอมพิวเตอร์",))
COUNTER = Officer("3100100123515", "นางสมศรี บริการดี", "เจ้าพนักงานการเงินและบัญชีชำนาญงาน", "กองบำเหน็จบำนาญ",
                  duties=("ให้บริการประชาชนรับเรื่องขอรับบำเหน็จบำนาญ ณ จุดบริการ",))
AUDITOR = Officer("3100100123523", "นายสมปอง ตรวจสอบ", "นักวิชาการตรวจสอบภายในชำนาญการ", "กองระบบการคลังภาครัฐ",
                  duties=("วิเคราะห์ความเสี่ยงและจัดทำรายงานตรวจสอบ",))

PEOPLE: list[tuple[Officer, str, bool]] = [
    (PERM_SEC, "MOF", True), (DIRECTOR_GENERAL, "CGD", True), (DIVISION_HEAD, "CGD-GFS", True),
    (PENSION_HEAD, "CGD-PEN", True), (ANALYST, "CGD-GFS", False), (DEVELOPER, "CGD-GFS", False),
    (COUNTER, "CGD-PEN", False), (AUDITOR, "CGD-GFS", False),
]


# -- the reference DPIS ------------------------------------------------------------------
# The two divisions of the pilot join the reference DPIS's tree under กรมบัญชีกลาง (ORG_ID 20);
# the permanent secretary and the director-general take over the seeded heads of the
# ministry (ORG_ID 2) and the department.
DPIS_UNITS = ((203, 20, "03", "0300403", "กองระบบการคลังภาครัฐ", "กรค."),
              (204, 20, "03", "0300404", "กองบำเหน็จบำนาญ", "กบบ."))
DPIS_ORG = {"MOF": 2, "CGD": 20, "CGD-GFS": 203, "CGD-PEN": 204}
PRENAME_CODES = (("นางสาว", "005"), ("นาง", "004"), ("นาย", "003"))  # longest first
# officer -> (DPIS position line or executive title, LEVEL_NO); the HR directory composes
# the position title from them as DPIS screens do (line + level title).
DPIS_POSITIONS = {
    PERM_SEC.citizen_id: ("ปลัดกระทรวงการคลัง", "M2"),
    DIRECTOR_GENERAL.citizen_id: ("อธิบดีกรมบัญชีกลาง", "M1"),
    DIVISION_HEAD.citizen_id: ("ผู้อำนวยการกองระบบการคลังภาครัฐ", "D1"),
    PENSION_HEAD.citizen_id: ("ผู้อำนวยการกองบำเหน็จบำนาญ", "D1"),
    ANALYST.citizen_id: ("นักวิชาการคลัง", "K2"),
    DEVELOPER.citizen_id: ("นักวิชาการคอมพิวเตอร์", "K1"),
    COUNTER.citizen_id: ("เจ้าพนักงานการเงินและบัญชี", "O2"),
    AUDITOR.citizen_id: ("นักวิชาการตรวจสอบภายใน", "K2"),
}


def split_name(name: str) -> tuple[str, str, str]:
    """(PN_CODE, given name, family name) of a full Thai name with its prename."""
    for prename, code in PRENAME_CODES:
        if name.startswith(prename):
            given, _, family = name[len(prename):].partition(" ")
            return code, given, family
    raise ValueError(f"{name!r} starts with no known prename")


def dpis_people() -> tuple:
    from hub.sim.dpis import NamedPerson

    people = []
    for officer, org, head in PEOPLE:
        pn_code, given, family = split_name(officer.name)
        pl_name, level = DPIS_POSITIONS[officer.citizen_id]
        people.append(NamedPerson(officer.citizen_id, pn_code, given, family, DPIS_ORG[org], pl_name, level,
                                  head=head, duties=officer.duties))
    return tuple(people)


def seed_dpis(url: str, *, people: int = 40) -> None:
    """Create and fill the ministry's reference DPIS (idempotent: an existing one is kept)."""
    from sqlalchemy import inspect

    from hub.db import make_engine
    from hub.sim import dpis as sim

    engine = make_engine(url)
    try:
        if inspect(engine).has_table("PER_PERSONAL"):
            return
        sim.create_schema(engine)
        sim.seed(engine, people=people, extra_units=DPIS_UNITS, named=dpis_people())
    finally:
        engine.dispose()


# -- e-Saraban departments on the hub's e-CMS node ------------------------------------------
# agency -> (department code, ministry code, ministry name, department name); the ministry
# rows are registered too, as the node lists ministries (GetMinistryOrganizationList).
ECMS_DEPARTMENTS = {
    CGD: ("0401", "0400", "กระทรวงการคลัง", AGENCY_NAMES[CGD]),
    MOF: ("0100", "0400", "กระทรวงการคลัง", AGENCY_NAMES[MOF]),
    OPDC: ("1200", "1000", "สำนักนายกรัฐมนตรี", AGENCY_NAMES[OPDC]),
}


def fake_hr() -> FakeHrDirectory:
    hr = FakeHrDirectory()
    for org_id, name, level, parent in UNITS:
        hr.add_unit(org_id, name, level, parent)
    for officer, org_id, head in PEOPLE:
        hr.add_person(officer, org_id, head=head)
    return hr


def policy(effective_from: str = "2026-10-01") -> dict[str, Any]:
    """CGD's telework policy (a valid th.telework.policy document)."""
    return {
        "policy_id": "CGD-TW-2570", "agency": CGD,
        "title": "ประกาศกรมบัญชีกลาง เรื่อง หลักเกณฑ์การปฏิบัติราชการนอกสถานที่ ปีงบประมาณ พ.ศ. 2570",
        "effective_from": effective_from, "patterns_allowed": ["regular", "occasional", "new-normal"],
        "eligible_work": ["academic-analysis", "management-digital", "digital-accessible", "measurable-results"],
        "ineligible_work": ["secret-documents", "direct-public-service", "onsite-technical-equipment"],
        "time_evidence_methods": ["check-in-app", "system-log-in", "video-check-in"],
        "max_days_per_week": 3,
        "legal_basis": "ระเบียบสำนักนายกรัฐมนตรีว่าด้วยการลาของข้าราชการ พ.ศ. 2555 ข้อ 11",
        "approved_by": {"name": DIRECTOR_GENERAL.name, "position": DIRECTOR_GENERAL.position, "role": "head-of-agency"},
        "approved_date": "2026-09-15",
        **POLICY_9_1,
    }


# The rest of what seed 001 §9.1 asks a policy to set (selection, monitoring, ending, ethics §10).
POLICY_9_1: dict[str, Any] = {
    "selection": {"methods": ["voluntary", "assigned"],
                  "criteria": "ผู้มีความรับผิดชอบ มีวินัย ริเริ่มงานด้วยตนเอง ต้องการการกำกับดูแลน้อย "
                              "และมีทักษะการปฏิบัติงานผ่านระบบและช่องทางดิจิทัล"},
    "monitoring": {"report_every_days_max": 7, "channels": ["e-office", "video-meeting"]},
    "ending": {"grounds": ["agreement-breach", "ethics-breach", "operational-need", "requested-by-person"],
               "note": "ผู้บังคับบัญชาเสนอหัวหน้าส่วนราชการพิจารณาเพิกถอนการอนุญาต"},
    "ethics": {"guidelines": [
        "ปฏิบัติราชการด้วยความมุ่งมั่นให้บรรลุเป้าหมาย รอบคอบ รวดเร็ว ทันเวลา และมีคุณภาพ",
        "สื่อสารกับผู้บังคับบัญชาและผู้ร่วมงานอย่างสม่ำเสมอ ตรงต่อเวลา",
        "ไม่เปิดเผยข้อมูลข่าวสารที่เป็นความลับของทางราชการต่อบุคคลอื่นหรือในพื้นที่สาธารณะ"]},
}


def targets(start: str, end: str) -> list[dict[str, Any]]:
    return [
        {"description": "รายงานวิเคราะห์ผลการเบิกจ่ายรายไตรมาส", "measure": "รายงานที่ส่ง", "target_value": 2,
         "unit": "ฉบับ", "due": end, "weight": 60},
        {"description": "ตอบข้อหารือส่วนราชการผ่านระบบ e-office ภายใน 3 วันทำการ", "measure": "ร้อยละที่ตอบทันเวลา",
         "target_value": 90, "unit": "ร้อยละ", "due": end, "weight": 40},
    ]
