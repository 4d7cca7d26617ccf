"""/v1/telework through the API: refusals come back with field, rule and the regulation's reason."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hub.apps.telework import pilot
from hub.apps.telework.wiring import connect_pilot
from hub.bootstrap import Hub
from hub.schemas.principal import OPERATOR
from tests.support.auth import bearer
from tests.support.ecms import serving


@pytest.fixture
def api(embedded_hub: Hub, embedded_as_agency) -> Iterator[TestClient]:  # noqa: ANN001
    """A client authenticated (real token) as CGD's telework subsystem; the pilot's DPIS and
    e-Saraban connected (the e-CMS node served on a real port for the e-Saraban's SOAP)."""
    with serving(embedded_hub) as node_url:
        systems = connect_pilot(embedded_hub, node_url=node_url)
        embedded_hub.telework.use(systems.app)
        systems.app.service.register_agency(
            pilot.policy(), name="กรมบัญชีกลาง", hr_agency=pilot.MOF, finance_agency=pilot.MOF,
            strategy_agency=pilot.OPDC, copy_to=[pilot.OPDC])
        try:
            yield embedded_as_agency(f"{pilot.CGD}/telework")
        finally:
            systems.close()


def agreement(person: pilot.Officer) -> dict:
    return {"agency": pilot.CGD, "person_id": person.citizen_id, "supervisor_id": pilot.DIVISION_HEAD.citizen_id,
            "work_category": "academic-analysis", "pattern": {"kind": "occasional", "working_days": 5},
            "period": {"start": "2026-12-01", "end": "2026-12-11"}, "targets": pilot.targets("2026-12-01", "2026-12-11")}


def person_session(hub, admin: TestClient, officer: pilot.Officer, username: str) -> TestClient:  # noqa: ANN001
    """The officer's own login (an operator of CGD) linked to their citizen ID, logged in."""
    password = f"pw-{username}-0123456789"
    hub.security.users.add(username, password, roles=(OPERATOR,), actor="tests", member_id=pilot.CGD)
    linked = admin.post(f"/v1/telework/agencies/{pilot.CGD}/signers",
                        json={"username": username, "citizen_id": officer.citizen_id})
    assert linked.status_code == 204, linked.text
    login = admin.post("/v1/auth/login", json={"username": username, "password": password})
    assert login.status_code == 200, login.text
    return TestClient(admin.app, headers=bearer(login.json()["session_token"]))


def test_order_flow_and_refusals_over_http(api: TestClient, embedded_hub: Hub, embedded_client: TestClient) -> None:
    refused = api.post("/v1/telework/agreements", json=agreement(pilot.COUNTER))
    assert refused.status_code == 422
    body = refused.json()
    assert body["errors"][0]["rule"] == "ineligible_work:direct-public-service" and "บริการประชาชน" in body["reason_th"]

    # seed 001 §6: the agency's system prepares the draft; each party signs it in their own session
    case = api.post("/v1/telework/agreements", json=agreement(pilot.ANALYST))
    assert case.status_code == 201 and case.json()["status"] == "draft", case.text
    case_id = case.json()["case_id"]
    machine_sign = api.post(f"/v1/telework/cases/{case_id}/signature")
    assert machine_sign.status_code == 403 and machine_sign.json()["errors"][0]["rule"] == "person_session"
    analyst = person_session(embedded_hub, embedded_client, pilot.ANALYST, "somjai")
    head = person_session(embedded_hub, embedded_client, pilot.DIVISION_HEAD, "director.gfs")
    dg = person_session(embedded_hub, embedded_client, pilot.DIRECTOR_GENERAL, "dg")
    assert analyst.post(f"/v1/telework/cases/{case_id}/signature").json()["status"] == "draft"
    signed = head.post(f"/v1/telework/cases/{case_id}/signature").json()
    assert signed["status"] == "agreed" and signed["agreement"]["signed_by_person_at"]

    assert api.post(f"/v1/telework/cases/{case_id}/proposal", json={}).status_code == 403  # a machine never signs
    assert head.post(f"/v1/telework/cases/{case_id}/proposal", json={}).status_code == 200
    # seed 001 §5, Leave Regulation cl. 11: the order is the head's own act in the head's own session
    named = api.post(f"/v1/telework/cases/{case_id}/order",
                     json={"signer_id": pilot.DIRECTOR_GENERAL.citizen_id, "time_evidence_method": "check-in-app"})
    assert named.status_code == 422  # naming the head in the body is not signing
    machine = api.post(f"/v1/telework/cases/{case_id}/order", json={"time_evidence_method": "check-in-app"})
    assert machine.status_code == 403 and machine.json()["errors"][0]["rule"] == "person_session"
    not_head = head.post(f"/v1/telework/cases/{case_id}/order", json={"time_evidence_method": "check-in-app"})
    assert not_head.status_code == 403 and not_head.json()["errors"][0]["rule"] == "head_of_agency"
    order = dg.post(f"/v1/telework/cases/{case_id}/order", json={"time_evidence_method": "check-in-app"})
    assert order.status_code == 200 and order.json()["book_number"].startswith("กค 0401/"), order.text
    assert order.json()["order"]["signer"]["name"] == pilot.DIRECTOR_GENERAL.name
    outside = api.post(f"/v1/telework/cases/{case_id}/evidence/time",
                       json={"work_date": "2026-12-14", "check_in": "2026-12-14T08:30:00+07:00"})
    assert outside.status_code == 422 and outside.json()["errors"][0]["rule"] == "day_within_order"
    status = api.get(f"/v1/telework/cases/{case_id}/evidence-status?as_of=2026-12-02")  # seed 001 §7.2
    assert status.status_code == 200, status.text
    assert [d["status"] for d in status.json()["days"][:3]] == ["missing", "pending", "scheduled"]
    people = api.get("/v1/telework/evidence-status?as_of=2026-12-02").json()
    assert people[0]["person"]["citizen_id"] == pilot.ANALYST.citizen_id and people[0]["summary"]["missing"] == 1
    assert api.get(f"/v1/telework/cases?agency={pilot.MOF}").status_code == 403


def test_only_an_admin_links_a_login_to_a_person(api: TestClient, embedded_hub: Hub) -> None:
    embedded_hub.security.users.add("someone", "pw-someone-0123456789", roles=(OPERATOR,), actor="tests",
                                    member_id=pilot.CGD)
    refused = api.post(f"/v1/telework/agencies/{pilot.CGD}/signers",
                       json={"username": "someone", "citizen_id": pilot.DIRECTOR_GENERAL.citizen_id})
    assert refused.status_code == 403


def test_eligibility_only_for_the_persons_agency_or_an_admin(api: TestClient, embedded_as_agency,  # noqa: ANN001
                                                             embedded_client: TestClient) -> None:
    own = api.get(f"/v1/telework/eligibility/{pilot.COUNTER.citizen_id}")
    assert own.status_code == 200 and own.json()["eligible"] is False
    assert own.json()["category"] == "direct-public-service"  # the duty line read from DPIS
    assert api.get(f"/v1/telework/eligibility/{pilot.ANALYST.citizen_id}").json()["eligible"] is True
    other = embedded_as_agency(f"{pilot.OPDC}/telework")
    refused = other.get(f"/v1/telework/eligibility/{pilot.ANALYST.citizen_id}")
    assert refused.status_code == 404, refused.text  # not the analyst's agency: as if unknown
    assert embedded_client.get(f"/v1/telework/eligibility/{pilot.ANALYST.citizen_id}").status_code == 200


def test_seed_001_9_3_3_yearly_evaluation_over_http_is_printable_thai(api: TestClient, embedded_as_agency) -> None:  # noqa: ANN001
    made = api.post(f"/v1/telework/agencies/{pilot.CGD}/annual-evaluation",
                    json={"fiscal_year": 2570, "effectiveness_score": 4.1, "satisfaction_respondents": 9,
                          "satisfaction_score": 4.4, "lessons": ["ประชุมออนไลน์สัปดาห์ละครั้ง"]})
    assert made.status_code == 201, made.text
    printed = api.get(f"/v1/telework/reports/{made.json()['report_id']}/printable")
    assert printed.status_code == 200 and printed.headers["content-type"].startswith("text/plain")
    assert "ระหว่างวันที่ 1 ตุลาคม 2569 ถึงวันที่ 30 กันยายน 2570" in printed.text
    other = embedded_as_agency(f"{pilot.OPDC}/telework")
    assert other.get(f"/v1/telework/reports/{made.json()['report_id']}/printable").status_code == 404
