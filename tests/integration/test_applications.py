"""Layer 5 done-when: a one-stop application split to each responsible agency under one tracking
id, each agency's status and answer visible, one part refused without blocking the others."""
from __future__ import annotations

import json
import uuid

from hub.adapters.memory import mailbox
from hub.integration.applications import part_message_id
from tests.support.waiting import wait_for

APPLICANT = "TH/GOV/DGA/eservice"
SERVICE = "oss.change-of-address/v1"
AGENCIES = {"hr-record": "TH/GOV/OCSC/hr", "payroll": "TH/GOV/CGD/payroll", "pension": "TH/GOV/GPF/member"}
DATA = {"citizen_id": "1100400728564", "new_address": "99/1 ถนนพิษณุโลก แขวงดุสิต เขตดุสิต กรุงเทพมหานคร",
        "subdistrict_code": "100201", "effective_from": "2026-12-01", "bank_account": "1234567890"}


def setup_agencies(client, as_agency):  # noqa: ANN001, ANN201
    # The agencies are registered before their routes: a route names a registered subsystem (issue 12).
    agencies = {part: as_agency(agency, clearance="002") for part, agency in AGENCIES.items()}
    for part, agency in AGENCIES.items():
        response = client.post("/v1/routes", json={"receiver": agency, "service": "*", "adapter": "memory",
                                                   "settings": {"mailbox": part}})
        assert response.status_code == 201, response.text
    applicant = as_agency(APPLICANT, clearance="002", rights=[(SERVICE, a) for a in AGENCIES.values()])
    return applicant, agencies


def test_one_part_refused_the_others_completed(hub, client, as_agency) -> None:
    applicant, agencies = setup_agencies(client, as_agency)
    tracking = str(uuid.uuid4())
    response = applicant.post("/v1/applications", json={
        "id": tracking, "application_type": "th.oss.change-of-address", "applicant": APPLICANT, "data": DATA})
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/v1/applications/{tracking}"
    assert {p["part"]: p["agency"] for p in response.json()["parts"]} == AGENCIES

    def parts() -> dict:
        return {p["part"]: p for p in applicant.get(f"/v1/applications/{tracking}").json()["parts"]}

    wait_for(lambda: all(p["status"] == "awaiting_answer" for p in parts().values()), what="every part delivered")
    # Each agency received only its fields, under the one tracking id.
    for part, agency in AGENCIES.items():
        [received] = [json.loads(doc) for doc in mailbox(part).applied.values()]
        assert received["payload"]["tracking_id"] == tracking and received["correlation_id"] == tracking
    hr = json.loads(mailbox("hr-record").applied[part_message_id(tracking, "hr-record")])
    payroll = json.loads(mailbox("payroll").applied[part_message_id(tracking, "payroll")])
    assert "bank_account" not in hr["payload"]["data"] and payroll["payload"]["data"]["bank_account"]

    # Payroll refuses first: reported with its reason, the others still go on.
    refused = agencies["payroll"].post(f"/v1/applications/{tracking}/parts/payroll/answer", json={
        "status": "rejected", "reason": "เลขบัญชีไม่ตรงกับทะเบียนเงินเดือน"})
    assert refused.status_code == 200, refused.text
    state = refused.json()
    assert state["status"] == "in_progress" and not state["complete"]
    by_part = {p["part"]: p for p in state["parts"]}
    assert by_part["payroll"]["status"] == "refused"
    assert by_part["payroll"]["reason"] == "เลขบัญชีไม่ตรงกับทะเบียนเงินเดือน"
    assert by_part["hr-record"]["status"] == by_part["pension"]["status"] == "awaiting_answer"

    for part, reference in (("hr-record", "HR-2569-001"), ("pension", "GPF-77")):
        answered = agencies[part].post(f"/v1/applications/{tracking}/parts/{part}/answer",
                                       json={"status": "completed", "answer": {"reference": reference}})
        assert answered.status_code == 200, answered.text
    final = applicant.get(f"/v1/applications/{tracking}").json()
    assert final["complete"] and final["status"] == "completed_with_refusals"
    by_part = {p["part"]: p for p in final["parts"]}
    assert by_part["hr-record"]["answer"] == {"reference": "HR-2569-001"}
    assert by_part["pension"]["status"] == "completed" and by_part["payroll"]["status"] == "refused"

    # Submitting the same tracking id again creates nothing twice.
    again = applicant.post("/v1/applications", json={
        "id": tracking, "application_type": "th.oss.change-of-address", "applicant": APPLICANT, "data": DATA})
    assert again.status_code == 202 and again.json()["status"] == "completed_with_refusals"
    assert all(len(mailbox(part).applied) == 1 for part in AGENCIES)


def test_every_part_completed_completes_the_application(embedded_hub, embedded_client, embedded_as_agency) -> None:
    applicant, agencies = setup_agencies(embedded_client, embedded_as_agency)
    tracking = applicant.post("/v1/applications", json={
        "application_type": "th.oss.change-of-address", "applicant": APPLICANT, "data": DATA}).json()["id"]
    wait_for(lambda: applicant.get(f"/v1/applications/{tracking}").json()["parts"][0]["status"] != "pending",
             what="delivery")
    wait_for(lambda: all(p["status"] == "awaiting_answer"
                         for p in applicant.get(f"/v1/applications/{tracking}").json()["parts"]), what="delivery")
    for part, client in agencies.items():
        assert client.post(f"/v1/applications/{tracking}/parts/{part}/answer",
                           json={"status": "completed"}).status_code == 200
    assert applicant.get(f"/v1/applications/{tracking}").json()["status"] == "completed"


def test_application_refusals(embedded_hub, embedded_client, embedded_as_agency) -> None:
    applicant, agencies = setup_agencies(embedded_client, embedded_as_agency)
    # Invalid against the application type's standard: 422 naming the field, nothing sent.
    bad = applicant.post("/v1/applications", json={
        "application_type": "th.oss.change-of-address", "applicant": APPLICANT, "data": {**DATA, "bank_account": "1-2"}})
    assert bad.status_code == 422
    assert ("/data/bank_account", "pattern") in {(e["field"], e["rule"]) for e in bad.json()["errors"]}
    unknown = applicant.post("/v1/applications", json={
        "application_type": "th.oss.no-such", "applicant": APPLICANT, "data": DATA})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "/application_type"
    # Without the right toward every agency: 403, and no part is sent.
    partial = embedded_as_agency("TH/GOV/DGA/other", clearance="002", rights=[(SERVICE, AGENCIES["hr-record"])])
    response = partial.post("/v1/applications", json={
        "application_type": "th.oss.change-of-address", "applicant": "TH/GOV/DGA/other", "data": DATA})
    assert response.status_code == 403
    assert all(not mailbox(part).applied for part in AGENCIES)
    assert embedded_client.get("/v1/messages", params={"service": SERVICE}).json()["items"] == []
    # An agency the hub has no route to: 422 naming it, and no other part is sent either.
    removed = next(r for r in embedded_client.get("/v1/routes").json() if r["receiver"] == AGENCIES["pension"])
    assert embedded_client.delete(f"/v1/routes/{removed['id']}").status_code == 204
    unroutable = applicant.post("/v1/applications", json={
        "application_type": "th.oss.change-of-address", "applicant": APPLICANT, "data": DATA})
    assert unroutable.status_code == 422 and unroutable.json()["errors"][0]["field"] == "/receiver"
    assert embedded_client.get("/v1/messages", params={"service": SERVICE}).json()["items"] == []
    embedded_client.post("/v1/routes", json={"receiver": AGENCIES["pension"], "service": "*", "adapter": "memory",
                                             "settings": {"mailbox": "pension"}}).raise_for_status()
    # Only the responsible agency answers its part; a refusal needs its reason; others see nothing.
    tracking = applicant.post("/v1/applications", json={
        "application_type": "th.oss.change-of-address", "applicant": APPLICANT, "data": DATA}).json()["id"]
    wait_for(lambda: all(p["status"] == "awaiting_answer"
                         for p in applicant.get(f"/v1/applications/{tracking}").json()["parts"]), what="delivery")
    assert agencies["pension"].post(f"/v1/applications/{tracking}/parts/payroll/answer",
                                    json={"status": "completed"}).status_code == 403
    no_reason = agencies["payroll"].post(f"/v1/applications/{tracking}/parts/payroll/answer",
                                         json={"status": "rejected"})
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "/reason"
    stranger = embedded_as_agency("TH/GOV/FPO/finance")
    assert stranger.get(f"/v1/applications/{tracking}").status_code == 404
