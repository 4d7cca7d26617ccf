"""A second, non-pilot agency runs telework end to end on its own systems (issue 14, done-when:
"``hub telework agencies add ...`` onboards a second, non-pilot agency end to end").

กรมควบคุมโรค (TH/GOV/DDC) of the Ministry of Public Health is onboarded through the API (and
the CLI, below) with its own e-Saraban; its staff are read from ITS ministry's DPIS (the route
TH/GOV/MOPH-OPS/dpis, a database the pilot never touches); its order leaves from its own
e-Saraban with its own credentials and book numbers to the ministry's e-Saraban; the
attendance an officer actually gave lands in the ministry's DPIS; its savings batch carries
its own GFMIS code. No pilot is connected on this hub.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from hub.adapters.dpis.schema import per_time_attendance
from hub.apps.telework.agency_systems import enrol_esaraban, esaraban_home, read_config
from hub.apps.telework import pilot
from hub.apps.telework.pilot import split_name
from hub.apps.telework.saraban import AgencyEsaraban
from hub.apps.telework.wiring import add_route, stored_app
from hub.bootstrap import Hub
from hub.schemas.principal import OPERATOR
from hub.sim import dpis as dpis_sim, gsms as gsms_sim
from tests.support.auth import bearer
from tests.support.ecms import serving

DDC, MOPH, OPDC = "TH/GOV/DDC", "TH/GOV/MOPH-OPS", "TH/GOV/OPDC"
BANGKOK = dt.timezone(dt.timedelta(hours=7))
# (ORG_ID, parent, OL_CODE, ORG_CODE, name, short): the Ministry of Public Health's own tree
UNITS = ((3, None, "01", "21000", "กระทรวงสาธารณสุข", "สธ"),
         (30, 3, "02", "21004", "กรมควบคุมโรค", "คร."),
         (301, 30, "03", "2100401", "กองระบาดวิทยา", "กรบ."))
# citizen ID, name, DPIS org, position line, level, head, duties
PEOPLE = (("3100200456711", "นายสุรเชษฐ์ สุขภาพดี", 3, "ปลัดกระทรวงสาธารณสุข", "M2", True, ()),
          ("3100200456729", "นางวันเพ็ญ ป้องกันโรค", 30, "อธิบดีกรมควบคุมโรค", "M1", True, ()),
          ("3100200456737", "นายชาตรี ระบาดวิทยา", 301, "ผู้อำนวยการกองระบาดวิทยา", "D1", True, ()),
          ("3100200456745", "นางสาวกานดา วิเคราะห์ดี", 301, "นักวิชาการสาธารณสุข", "K2", False,
           ("วิเคราะห์ข้อมูลการเฝ้าระวังโรคและจัดทำรายงานสถานการณ์",)))
PERM_SEC, DG, DIVISION_HEAD, ANALYST = (p[0] for p in PEOPLE)


def seed_moph_dpis(url: str) -> None:
    engine = create_engine(url)
    try:
        dpis_sim.create_schema(engine)
        named = []
        for cid, name, org, line, level, head, duties in PEOPLE:
            pn_code, given, family = split_name(name)
            named.append(dpis_sim.NamedPerson(cid, pn_code, given, family, org, line, level, head=head, duties=duties))
        dpis_sim.seed(engine, people=6, seed=2570, extra_units=UNITS, named=tuple(named))
    finally:
        engine.dispose()


def ddc_policy() -> dict:
    return {"policy_id": "DDC-TW-2570", "agency": DDC,
            "title": "ประกาศกรมควบคุมโรค เรื่อง หลักเกณฑ์การปฏิบัติราชการนอกสถานที่ ปีงบประมาณ พ.ศ. 2570",
            "effective_from": "2026-10-01", "patterns_allowed": ["regular", "occasional"],
            "eligible_work": ["academic-analysis", "measurable-results"],
            "ineligible_work": ["secret-documents", "direct-public-service"],
            "time_evidence_methods": ["check-in-app"], "max_days_per_week": 2,
            # seed 001 §3, §9.1: the policy decides on the public-health analyst's work (the
            # keywords alone would call it public-health service)
            "work_list": [{"position": "นักวิชาการสาธารณสุข", "duty": "วิเคราะห์ข้อมูล", "decision": "eligible",
                           "work_category": "academic-analysis"}],
            "legal_basis": "ระเบียบสำนักนายกรัฐมนตรีว่าด้วยการลาของข้าราชการ พ.ศ. 2555 ข้อ 11",
            "approved_by": {"name": "นางวันเพ็ญ ป้องกันโรค", "position": "อธิบดีกรมควบคุมโรค", "role": "head-of-agency"},
            "approved_date": "2026-09-20", **pilot.POLICY_9_1}


def session(hub: Hub, admin: TestClient, citizen_id: str, username: str) -> TestClient:
    password = f"pw-{username}-0123456789"
    hub.security.users.add(username, password, roles=(OPERATOR,), actor="tests", member_id=DDC)
    linked = admin.post(f"/v1/telework/agencies/{DDC}/signers", json={"username": username, "citizen_id": citizen_id})
    assert linked.status_code == 204, linked.text
    login = admin.post("/v1/auth/login", json={"username": username, "password": password})
    return TestClient(admin.app, headers=bearer(login.json()["session_token"]))


@pytest.fixture
def moph(embedded_hub: Hub, tmp_path: Path) -> Iterator[tuple[Hub, str, str]]:
    """The ministry's systems around the hub: its DPIS and GFMIS routes, its e-Saraban enrolled."""
    url = f"sqlite:///{tmp_path / 'dpis-moph.sqlite3'}"
    seed_moph_dpis(url)
    add_route(embedded_hub, f"{MOPH}/dpis", "dpis", {"url": url})
    add_route(embedded_hub, f"{MOPH}/gfmis", "gfmis", {"path": str(tmp_path / "gfmis-moph")})
    gsms_url = f"sqlite:///{tmp_path / 'gsms-opdc.sqlite3'}"
    gsms_sim.create_schema(gsms_url)
    add_route(embedded_hub, f"{OPDC}/gsms", "gsms", {"url": gsms_url})
    with serving(embedded_hub) as node_url:
        enrol_esaraban(embedded_hub, MOPH, name="สำนักงานปลัดกระทรวงสาธารณสุข", department="2101", ministry="2100",
                       ministry_name="กระทรวงสาธารณสุข", prefix="สธ 0201", node_url=node_url)
        yield embedded_hub, url, node_url


def test_a_second_agency_onboarded_through_the_api_runs_on_its_own_dpis_and_e_saraban(
        moph, embedded_client: TestClient, embedded_as_agency) -> None:  # noqa: ANN001
    hub, dpis_url, node_url = moph
    registered = embedded_client.post("/v1/telework/agencies", json={
        "policy": ddc_policy(), "name": "กรมควบคุมโรค", "hr_agency": MOPH, "finance_agency": MOPH,
        "strategy_agency": OPDC, "gfmis_code": "21004", "gsms_code": "2100400",
        "esaraban": {"department": "2104", "ministry": "2100", "prefix": "สธ 0410", "node_url": node_url}})
    assert registered.status_code == 201, registered.text
    assert registered.json()["esaraban"] == {"department": "2104", "ministry": "2100", "prefix": "สธ 0410"}
    # DPIS, GFMIS and GSMS routes are there; notices to DDC's officials have no e-Office route yet
    assert registered.json()["missing_routes"] == [f"{DDC}/eoffice telework.notice/v1 (adapter eoffice)"]
    # its e-Saraban holds credentials of its own, issued to TH/GOV/DDC/saraban (not the ministry's)
    own, ministry = (read_config(esaraban_home(hub.settings.data_dir, d)) for d in ("2104", "2101"))
    assert own["username"] == f"{DDC}/saraban" and ministry["username"] == f"{MOPH}/saraban"
    assert own["secret"] != ministry["secret"]
    assert oct((esaraban_home(hub.settings.data_dir, "2104") / "esaraban.json").stat().st_mode & 0o777) == "0o600"

    # the stored application, on a fixed clock so evidence can be given for a past day
    app = stored_app(hub)
    app.service.clock = lambda: dt.datetime(2026, 12, 3, 17, 0, tzinfo=BANGKOK)
    hub.telework.use(app)
    api = embedded_as_agency(f"{DDC}/telework")
    # the person read from the ministry's DPIS (cp874 in the legacy tables), judged under DDC's policy
    eligible = api.get(f"/v1/telework/eligibility/{ANALYST}")
    assert eligible.status_code == 200, eligible.text
    assert eligible.json()["person"] == {"citizen_id": ANALYST, "name": "นางสาวกานดา วิเคราะห์ดี",
                                         "position": "นักวิชาการสาธารณสุขชำนาญการ", "unit": "กองระบาดวิทยา"}
    assert eligible.json()["eligible"] is True

    case = api.post("/v1/telework/agreements", json={
        "agency": DDC, "person_id": ANALYST, "supervisor_id": DIVISION_HEAD, "work_category": "academic-analysis",
        "pattern": {"kind": "occasional", "working_days": 5}, "period": {"start": "2026-12-01", "end": "2026-12-08"},
        "targets": [{"description": "รายงานสถานการณ์โรครายสัปดาห์", "measure": "รายงานที่ส่ง", "target_value": 1,
                     "unit": "ฉบับ", "due": "2026-12-08", "weight": 100}], "reporting_channels": ["e-office"]})
    assert case.status_code == 201, case.text
    case_id = case.json()["case_id"]
    person, head, dg = (session(hub, embedded_client, cid, name)
                        for cid, name in ((ANALYST, "kanda"), (DIVISION_HEAD, "chatree"), (DG, "dg.ddc")))
    assert person.post(f"/v1/telework/cases/{case_id}/signature").status_code == 200
    assert head.post(f"/v1/telework/cases/{case_id}/signature").json()["status"] == "agreed"
    assert head.post(f"/v1/telework/cases/{case_id}/proposal", json={}).status_code == 200
    assert head.post(f"/v1/telework/cases/{case_id}/order", json={"time_evidence_method": "check-in-app"}
                     ).json()["errors"][0]["rule"] == "head_of_agency"
    order = dg.post(f"/v1/telework/cases/{case_id}/order", json={"time_evidence_method": "check-in-app"})
    assert order.status_code == 200, order.text
    assert order.json()["book_number"] == "สธ 0410/1"  # DDC's own register, not a pilot's
    assert order.json()["order"]["signer"]["name"] == "นางวันเพ็ญ ป้องกันโรค"

    # the ministry's e-Saraban receives the order through the e-CMS node, under its receipt number
    office = AgencyEsaraban(MOPH, esaraban_home(hub.settings.data_dir, "2101"), node_url, department="2101",
                            ministry="2100", prefix="สธ 0201", username=ministry["username"],
                            secret=ministry["secret"], documents=app.service.documents)
    try:
        letters, _ = office.work_queue()
        assert [(x.letter_id, x.from_department) for x in letters] == [("สธ 0410/1", "2104")]
        documents = office.attachment_documents(office.incoming_letters()[0])
        assert documents[0]["book_number"] == "สธ 0410/1" and documents[0]["issuing_agency"] == DDC
    finally:
        office.close()

    # the check-in the officer gave reaches the ministry's DPIS, and only that
    given = api.post(f"/v1/telework/cases/{case_id}/evidence/time", json={
        "work_date": "2026-12-02", "check_in": "2026-12-02T08:29:00+07:00", "check_out": "2026-12-02T16:40:00+07:00"})
    assert given.status_code == 201, given.text
    engine = create_engine(dpis_url)
    try:
        rows = wait_for(lambda: rows_of(engine))
    finally:
        engine.dispose()
    assert {r[1] for r in rows} == {b"2026-12-02 08:29:00", b"2026-12-02 16:40:00"}

    # its savings batch to the ministry's GFMIS carries DDC's own GFMIS code
    saved = api.post(f"/v1/telework/agencies/{DDC}/savings?fiscal_year=2570")
    assert saved.status_code == 200, saved.text
    batch = json.loads(hub.messages.payload(saved.json()["finance_batch_ref"]))
    assert batch["header"]["agency_code"] == "21004"
    # and its KPI report reaches OPDC's GSMS under DDC's own GSMS code
    gsms_url = next(r.settings["url"] for r in hub.router.list() if r.receiver == f"{OPDC}/gsms")
    [record] = wait_for(lambda: gsms_sim.reports(gsms_url, DDC))
    assert record["agency_code"] == "2100400" and record["gfmis_verdict"] == "pending"


def rows_of(engine) -> list:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.execute(select(per_time_attendance.c.PER_ID, per_time_attendance.c.TIME_STAMP)).all()


def wait_for(read, timeout: float = 20.0):  # noqa: ANN001, ANN201
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = read()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("nothing arrived")


def test_the_cli_onboards_an_agency_with_its_own_e_saraban_and_refuses_unknown_recipients(tmp_path: Path) -> None:
    from hub.cli.main import app as cli

    runner = CliRunner()
    data = ["--data-dir", str(tmp_path / "hub")]
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(ddc_policy(), ensure_ascii=False), encoding="utf-8")
    base = ["telework", "agencies", "add", str(policy), "--name", "กรมควบคุมโรค", "--hr-agency", MOPH,
            "--finance-agency", MOPH, "--strategy-agency", OPDC, "--gfmis-code", "21004",
            "--esaraban-department", "2104", "--esaraban-ministry", "2100", "--book-prefix", "สธ 0410",
            "--ministry-name", "กระทรวงสาธารณสุข", "--node-url", "http://127.0.0.1:9/ecms/service2"]
    refused = runner.invoke(cli, [*base, *data])
    assert refused.exit_code == 2 and "/hr_agency: ecms_department" in refused.output, refused.output
    enrolled = runner.invoke(cli, ["telework", "esaraban-add", MOPH, "--name", "สำนักงานปลัดกระทรวงสาธารณสุข",
                                   "--department", "2101", "--ministry", "2100", "--book-prefix", "สธ 0201",
                                   "--ministry-name", "กระทรวงสาธารณสุข", *data])
    assert enrolled.exit_code == 0, enrolled.output
    done = runner.invoke(cli, [*base, *data])
    assert done.exit_code == 0, done.output
    assert "e-CMS department 2104" in done.output
    assert f"no route yet: {MOPH}/dpis hr.attendance/v1 (adapter dpis)" in done.output
    listed = runner.invoke(cli, ["telework", "agencies", "list", *data])
    assert "DDC-TW-2570" in listed.output
    config = read_config(tmp_path / "hub" / "esaraban" / "2104")
    assert config["username"] == f"{DDC}/saraban" and config["prefix"] == "สธ 0410"
