"""``/v1/standards`` and the edge validation of ``/v1/messages``, through the HTTP API."""
from __future__ import annotations

import copy
import uuid
from datetime import date, timedelta

import orjson
import pytest
from fastapi.testclient import TestClient

from hub.api.deps import current_principal
from hub.config import default_standards_dir
from hub.schemas.principal import ADMIN, OPERATOR, Principal
from tests.support.auth import register_receiver

STANDARDS = default_standards_dir()
ORDER = STANDARDS / "th.telework.order" / "1.0.0"
ECMS = STANDARDS / "th.ecms.letter" / "1.0.0"
OCSC = Principal(subject="ocsc-client", roles=frozenset({OPERATOR}), member="TH/GOV/OCSC")
OPDC = Principal(subject="opdc-client", roles=frozenset({OPERATOR}), member="TH/GOV/OPDC")
SENDER, RECEIVER, SERVICE = "TH/GOV/OPDC/hr", "TH/GOV/OCSC/dpis", "telework.order/v1"


def act_as(client: TestClient, principal: Principal | None) -> None:
    if principal is None:
        client.app.dependency_overrides.pop(current_principal, None)
    else:
        client.app.dependency_overrides[current_principal] = lambda: principal


def load(path):  # noqa: ANN001, ANN201
    return orjson.loads(path.read_bytes())


def order_doc() -> dict:
    return load(ORDER / "examples" / "valid" / "opdc-regular.json")


def publish_body(version: str, mutate=None) -> dict:  # noqa: ANN001
    schema = load(ORDER / "schema.json")
    schema["$id"] = f"urn:th:hub:standard:th.telework.order:{version}"
    if mutate:
        mutate(schema)
    meta = {**load(ORDER / "meta.json"), "version": version}
    examples = [{"name": "opdc-regular", "kind": "valid", "document": order_doc()},
                {"name": "signed-by-delegate", "kind": "invalid",
                 "document": load(ORDER / "examples" / "invalid" / "signed-by-delegate.json"),
                 "expect": {"path": "/signer/role", "rule": "enum"}}]
    return {"id": "th.telework.order", "version": version, "schema": schema, "meta": meta, "examples": examples}


@pytest.fixture
def api(embedded_client: TestClient) -> TestClient:
    embedded_client.app.dependency_overrides.clear()
    yield embedded_client
    embedded_client.app.dependency_overrides.clear()


# ------------------------------------------------------------------ public documents


def test_public_documents_need_no_credentials(api: TestClient) -> None:
    api = TestClient(api.app)  # no credentials at all
    listing = api.get("/v1/standards")
    assert listing.status_code == 200
    ids = {s["id"] for s in listing.json()["items"]}
    assert {"th.hub.envelope", "th.telework.order", "th.ecms.letter"} <= ids

    standard = api.get("/v1/standards/th.telework.order").json()
    assert standard["latest"] == "1.0.0" and standard["backoffice_system"] == "human-resources"
    version = api.get("/v1/standards/th.telework.order/1.0.0").json()
    assert version["meta"]["owner_agency"] == "TH/GOV/OCSC" and version["status"] == "active"

    schema = api.get("/v1/standards/th.telework.order/1.0.0/schema")
    assert schema.headers["content-type"].startswith("application/schema+json")
    assert schema.json() == load(ORDER / "schema.json")
    xsd = api.get("/v1/standards/th.ecms.letter/1.0.0/schema")
    assert xsd.headers["content-type"].startswith("application/xml") and b"GovernmentDocument" in xsd.content
    assert api.get("/v1/standards/th.ecms.letter/1.0.0/schema", params={"file": "ram.xsd"}).status_code == 200
    assert api.get("/v1/standards/th.ecms.letter/1.0.0/schema", params={"file": "../x.xsd"}).status_code == 422

    assert api.get("/v1/standards/th.nothing.here").status_code == 404
    assert api.get("/v1/standards/th.telework.order/9.0.0").status_code == 404


def test_docs_are_served_with_the_fields_table_in_thai_and_english(api: TestClient) -> None:
    api = TestClient(api.app)  # no credentials at all
    page = api.get("/v1/standards/th.telework.order/1.0.0/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<table class="fields">' in page.text
    assert "Description (English)" in page.text and "คำอธิบาย (ภาษาไทย)" in page.text
    assert "<code>/signer/role</code>" in page.text and "ผู้มีอำนาจสั่ง" in page.text
    index = api.get("/standards/")
    assert index.status_code == 200 and 'href="th.telework.order/1.0.0.html"' in index.text
    served = api.get("/standards/th.telework.order/1.0.0.html")
    assert served.status_code == 200 and "คำอธิบาย (ภาษาไทย)" in served.text


# ------------------------------------------------------------------ publishing


def test_publish_needs_a_caller_and_the_lead_agency(api: TestClient) -> None:
    assert TestClient(api.app).post("/v1/standards", json=publish_body("1.0.1")).status_code == 401
    act_as(api, OPDC)
    refused = api.post("/v1/standards", json=publish_body("1.0.1"))
    assert refused.status_code == 403
    assert "lead agency" in refused.json()["message"] and refused.json()["errors"][0]["rule"] == "lead_agency_only"
    act_as(api, OCSC)
    created = api.post("/v1/standards", json=publish_body("1.0.1"))
    assert created.status_code == 201, created.text
    assert created.json()["created"] is True and created.headers["Location"] == "/v1/standards/th.telework.order/1.0.1"
    again = api.post("/v1/standards", json=publish_body("1.0.1"))
    assert again.status_code == 200 and again.json()["created"] is False
    changed = api.post("/v1/standards", json=publish_body("1.0.1", lambda s: s["properties"]["book_number"]
                                                          .update(maxLength=99)))
    assert changed.status_code == 409


def test_breaking_minor_version_is_refused_with_each_change_and_its_path(api: TestClient) -> None:
    act_as(api, OCSC)

    def breaking(schema: dict) -> None:
        del schema["properties"]["issuing_agency"]
        schema["required"].remove("issuing_agency")
        schema["properties"]["signer"]["properties"]["role"]["enum"] = ["head-of-agency"]
        schema["required"].append("remarks")
        schema["properties"]["remarks"] = {"title": "Remarks", "description": "Free text.",
                                           "x-description-th": "หมายเหตุ", "type": "string"}

    refused = api.post("/v1/standards", json=publish_body("1.1.0", breaking))
    assert refused.status_code == 422
    body = refused.json()
    assert body["compatibility"] == "BACKWARD"
    named = {(e["field"], e["rule"]) for e in body["errors"]}
    assert {("/issuing_agency", "property_removed"), ("/signer/role", "enum_narrowed"),
            ("/remarks", "required_added")} <= named
    major = publish_body("2.0.0", breaking)
    example = major["examples"][0]["document"]
    del example["issuing_agency"]
    example["remarks"] = "ทดลอง"
    assert api.post("/v1/standards", json=major).status_code == 201

    diff = api.get("/v1/standards/th.telework.order/diff", params={"from": "1.0.0", "to": "2.0.0"}).json()
    assert diff["compatible"] is False and diff["gate_applies"] is False
    assert {"path": "/remarks", "kind": "required_added"} in [{k: c[k] for k in ("path", "kind")}
                                                              for c in diff["changes"]]


def test_validate_endpoint_answers_every_violation(api: TestClient) -> None:
    act_as(api, OPDC)  # any authenticated agency may test a document
    url = "/v1/standards/th.telework.order/1.0.0/validate"
    ok = api.post(url, json=order_doc())
    assert ok.status_code == 200 and ok.json() == {"standard": "th.telework.order@1.0.0", "valid": True, "errors": []}
    bad = order_doc()
    bad["signer"]["role"] = "division-director"
    del bad["order_date"]
    answer = api.post(url, json=bad).json()
    assert answer["valid"] is False
    assert {(e["path"], e["rule"]) for e in answer["errors"]} == {("/signer/role", "enum"), ("/order_date", "required")}
    xml = (ECMS / "examples" / "invalid" / "secret-code-005.xml").read_bytes()
    answer = api.post("/v1/standards/th.ecms.letter/1.0.0/validate", content=xml,
                      headers={"Content-Type": "application/xml"}).json()
    assert answer["valid"] is False and answer["errors"][0]["path"] == "line 8"
    assert TestClient(api.app).post(url, json=order_doc()).status_code == 401  # not for anonymous callers


# ------------------------------------------------------------------ edge validation of messages


def add_route(client: TestClient, **overrides: object) -> None:
    body = {"receiver": RECEIVER, "service": SERVICE, "adapter": "memory", "settings": {"mailbox": "std"},
            **overrides}
    register_receiver(client, body["receiver"])
    assert client.post("/v1/routes", json=body).status_code == 201


def message(payload: object, standard: str | None = "th.telework.order@1.0.0", **extra: object) -> dict:
    return {"id": str(uuid.uuid4()), "sender": SENDER, "receiver": RECEIVER, "service": SERVICE,
            "standard": standard, "payload": payload, **extra}


def test_message_declaring_a_standard_is_validated_before_it_is_accepted(api: TestClient) -> None:
    add_route(api)
    assert api.post("/v1/messages", json=message(order_doc())).status_code == 202
    bad = copy.deepcopy(order_doc())
    bad["signer"]["role"] = "division-director"
    bad["person"]["citizen_id"] = "123"
    refused = api.post("/v1/messages", json=message(bad))
    assert refused.status_code == 422
    body = refused.json()
    assert body["code"] == "validation_failed" and body["standard"] == "th.telework.order@1.0.0"
    assert {("/payload/signer/role", "enum"), ("/payload/person/citizen_id", "pattern")} <= {
        (e["field"], e["rule"]) for e in body["errors"]}
    listed = api.get("/v1/messages", params={"limit": 100}).json()["items"]
    assert len(listed) == 1  # the refused one was never stored

    unknown = api.post("/v1/messages", json=message(order_doc(), standard="th.telework.order@7.0.0"))
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["rule"] == "unknown_standard"
    assert "th.telework.order@7.0.0" in unknown.json()["message"]


def test_xml_message_is_validated_with_lines(api: TestClient) -> None:
    add_route(api, service="ecms.letter/v1")
    xml = (ECMS / "examples" / "invalid" / "be-correspondence-date.xml").read_text(encoding="utf-8")
    refused = api.post("/v1/messages", json=message(xml, standard="th.ecms.letter@1.0.0", service="ecms.letter/v1",
                                                     content_type="application/xml"))
    assert refused.status_code == 422
    assert (refused.json()["errors"][0]["field"], refused.json()["errors"][0]["line"]) == ("/payload", 6)
    good = (ECMS / "examples" / "valid" / "letter-minimal.xml").read_text(encoding="utf-8")
    accepted = api.post("/v1/messages", json=message(good, standard="th.ecms.letter@1.0.0",
                                                      service="ecms.letter/v1", content_type="application/xml"))
    assert accepted.status_code == 202, accepted.text


def test_deprecated_version_past_its_sunset_is_refused(api: TestClient) -> None:
    add_route(api)
    act_as(api, OCSC)
    assert api.post("/v1/standards", json=publish_body("1.0.1")).status_code == 201
    act_as(api, OPDC)
    forbidden = api.post("/v1/standards/th.telework.order/1.0.0/deprecate", json={"sunset": "2020-01-01"})
    assert forbidden.status_code == 403
    act_as(api, OCSC)
    future = api.post("/v1/standards/th.telework.order/1.0.0/deprecate",
                      json={"sunset": (date.today() + timedelta(days=90)).isoformat(), "replaced_by": "1.0.1"})
    assert future.status_code == 200 and future.json()["status"] == "deprecated"
    act_as(api, None)
    assert api.post("/v1/messages", json=message(order_doc())).status_code == 202
    act_as(api, OCSC)
    past = api.post("/v1/standards/th.telework.order/1.0.0/deprecate",
                    json={"sunset": (date.today() - timedelta(days=1)).isoformat(), "replaced_by": "1.0.1",
                          "note": "ใช้รุ่น 1.0.1"})
    assert past.status_code == 200 and past.json()["past_sunset"] is True
    act_as(api, None)  # back to the client's own (admin) credentials to send messages
    refused = api.post("/v1/messages", json=message(order_doc()))
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{"field": "/standard", "rule": "sunset",
                                         "message": "th.telework.order@1.0.0 is past its sunset; "
                                                    "use th.telework.order@1.0.1"}]
    assert api.post("/v1/messages", json=message(order_doc(), standard="th.telework.order@1.0.1")).status_code == 202
    assert api.get("/v1/standards/th.telework.order").json()["latest"] == "1.0.1"
