"""The unified citizen record (issue 15): four live sources (person registry, DPIS, telework,
e-CMS letters) read in parallel, every field with its provenance; a source down leaves a
partial record naming it; every refusal is the same 403, audited in the shape the citizen's
data tracker reads."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, update

from hub.adapters.ecms.node.tables import ecms_departments, ecms_letters
from hub.apps.telework.domain.model import Case, Evidence
from hub.apps.telework.store_sql import SqlStore
from hub.clock import utcnow
from hub.db import make_engine
from hub.registry.tables import consents
from hub.security.wiring import security_of
from hub.sim import dpis as dpis_sim
from tests.support.auth import register_agency
from tests.support.query_provider import ProviderServer

CITIZEN = "1101700203450"
STRANGER = "3100600123450"  # valid, known to no source
HR, PORTAL = "TH/GOV/OCSC/hr", "TH/GOV/DGA/portal"
REGISTRY, DPIS, TELEWORK, ECMS = "TH/GOV/DGA/registry", "TH/GOV/OCSC/dpis", "TH/GOV/OCSC/telework", "TH/GOV/OPS/saraban"
PURPOSE = "ยื่นคำขอสวัสดิการข้าราชการ"
ALL = "person,position,org_unit,telework,letters"


def publish(client, provider, name, adapter, system, settings=None, **extra):
    response = client.post("/v1/query-services", json={"provider": provider, "name": name, "system": system,
                                                        "adapter": adapter, "settings": settings or {}, **extra})
    assert response.status_code == 201, response.text


@dataclass
class World:
    hub: object
    admin: object
    hr: object
    portal: object

    def consent(self, fields, purpose=PURPOSE, consumer=PORTAL, citizen=CITIZEN, days=30):
        response = self.hr.post(f"/v1/persons/{citizen}/consents", json={
            "consumer": consumer, "purpose": purpose, "fields": fields,
            "expires_at": (utcnow() + timedelta(days=days)).isoformat()})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def read(self, client=None, citizen=CITIZEN, fields=ALL, purpose=PURPOSE):
        return (client or self.portal).get(f"/v1/citizens/{citizen}/record", params={"fields": fields,
                                                                                     "purpose": purpose})

    def reads(self):
        return [e for e in security_of(self.hub).audit.entries(kind="citizen.record.read")]


def four_sources(hub, client, as_agency, tmp_path: Path) -> World:
    party = hub.settings.security.shared_data_party
    hr = as_agency(HR, rights=[("hr.person.changed/v1", party)])
    # 1. the person registry: what HR reported a month ago (since then DPIS says "active")
    observed = (utcnow() - timedelta(days=30)).isoformat()
    reported = hr.post("/v1/persons", json={"citizen_id": CITIZEN, "observed_at": observed, "fields": {
        "first_name_th": "สมชาย", "last_name_th": "ใจดี", "sex": "male", "employment_status": "inactive",
        "address": {"subdistrict_code": "100101", "district_code": "1001", "province_code": "10"}}})
    assert reported.status_code == 200, reported.text
    # 2. DPIS, the legacy HR database (cp874 text)
    url = f"sqlite:///{tmp_path / 'dpis.sqlite3'}"
    engine = make_engine(url)
    dpis_sim.create_schema(engine)
    dpis_sim.seed(engine, people=5, named=(dpis_sim.NamedPerson(
        CITIZEN, "003", "สมชาย", "ใจดี", 101, "นักวิชาการคอมพิวเตอร์", "K2"),))
    engine.dispose()
    # 3. telework: one case with an order, two ordered days past (one with evidence)
    today = dt.date.today()
    days = [(today - timedelta(days=n)).isoformat() for n in (3, 2)]
    store = SqlStore(hub.engine)
    store.save_case(Case(case_id="TW-1", agency="TH/GOV/OCSC", citizen_id=CITIZEN, status="ordered",
                         agreement={}, supervisor_citizen_id=STRANGER, scheduled_days=days,
                         order={"book_number": "นร 1001/1", "order_date": days[0], "start_date": days[0],
                                "end_date": days[1]}))
    store.add_evidence(Evidence("EV-1", "TW-1", "time", days[0], {"check_in": "08:30", "check_out": "16:30"},
                                "0" * 64, "audit:1", minutes=480,
                                recorded_at=f"{days[0]}T17:00:00+07:00"))
    # 4. e-CMS: two letters naming the person, one confidential, one about someone else
    now = utcnow()
    with hub.engine.begin() as conn:
        conn.execute(insert(ecms_departments), [
            {"code": "1001", "ministry_code": "1000", "kind": "department", "name_th": "สำนักงาน ก.พ.",
             "clearance": "004", "created_at": now},
            {"code": "2001", "ministry_code": "2000", "kind": "department", "name_th": "กรมบัญชีกลาง",
             "clearance": "004", "created_at": now}])
        base = {"sender_code": "1001", "receiver_code": "2001", "generation": 1, "conversation": "c",
                "created_at": now, "correspondence_date": days[0]}
        conn.execute(insert(ecms_letters), [
            {**base, "message_id": "m-1", "letter_id": "นร 1001/1", "secret_code": "001",
             "subject": "คำสั่งให้ปฏิบัติราชการนอกสถานที่ (นายสมชาย ใจดี)"},
            {**base, "message_id": "m-2", "letter_id": "นร 1001/2", "secret_code": "003",
             "subject": "เรื่องลับ (นายสมชาย ใจดี)"},
            {**base, "message_id": "m-3", "letter_id": "นร 1001/3", "secret_code": "001",
             "subject": "คำสั่ง (นางสาวสมหญิง รักงาน)"}])
    for provider in (REGISTRY, DPIS, TELEWORK, ECMS):
        as_agency(provider)
    publish(client, REGISTRY, "record.person/v1", "person-registry", "person-registry")
    for group in ("person", "position", "org_unit"):
        publish(client, DPIS, f"record.{group}/v1", "dpis", "dpis", {"url": url})
    publish(client, TELEWORK, "record.telework/v1", "telework-cases", "telework")
    publish(client, ECMS, "record.letters/v1", "ecms-letters", "e-cms")
    return World(hub, client, hr, as_agency(PORTAL))


@pytest.fixture
def world(hub, client, as_agency, tmp_path) -> World:
    return four_sources(hub, client, as_agency, tmp_path)


@pytest.fixture
def embedded_world(embedded_hub, embedded_client, embedded_as_agency, tmp_path) -> World:
    return four_sources(embedded_hub, embedded_client, embedded_as_agency, tmp_path)


def test_the_record_from_four_sources_with_per_field_provenance(world: World):
    consent_id = world.consent([f"record:{g}" for g in ALL.split(",")])
    response = world.read()
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["partial"] is False and record["basis"] == {"kind": "agency_consent", "id": str(consent_id)}
    assert {(s["provider"], s["service"], s["outcome"]) for s in record["sources"]} == {
        (REGISTRY, "record.person/v1", "ok"), (DPIS, "record.person/v1", "ok"), (DPIS, "record.position/v1", "ok"),
        (DPIS, "record.org_unit/v1", "ok"), (TELEWORK, "record.telework/v1", "ok"), (ECMS, "record.letters/v1", "ok")}
    fields = record["fields"]
    for field in fields.values():
        assert {"value", "group", "source", "observed_at", "age_seconds", "stale", "classification"} <= set(field)
    # the two sources disagree on the employment status: DPIS is the designated owner
    status = fields["employment_status"]
    assert status["value"] == "active"
    assert status["source"] == {"agency": "TH/GOV/OCSC", "subsystem": DPIS, "system": "dpis"}
    assert status["conflict"]["rule"] == "designated_owner"
    assert {(c["value"], c["source"]["system"]) for c in status["conflict"]["candidates"]} == {
        ("active", "dpis"), ("inactive", "person-registry")}
    # they agree on the name: no conflict; the registry alone holds the address, a month old
    assert fields["first_name_th"]["value"] == "สมชาย" and "conflict" not in fields["first_name_th"]
    address = fields["address"]
    assert address["source"]["system"] == "person-registry" and address["age_seconds"] >= 29 * 86400
    assert address["group"] == "person" and address["classification"] == "001"
    assert fields["position_name"]["value"] == "นักวิชาการคอมพิวเตอร์" and fields["level"]["value"] == "K2"
    assert fields["org_unit_id"]["value"] == 101 and fields["org_unit_id"]["source"]["system"] == "dpis"
    case = fields["telework_cases"]["value"][0]
    assert case["case_id"] == "TW-1" and case["book_number"] == "นร 1001/1"
    assert case["evidence"] == {"complete": 1, "missing": 1}
    letters = fields["letters"]["value"]
    # subject and parties only; the confidential letter is above the reader's clearance; no one else's
    assert [(letter["letter_id"], letter["sender"]["name_th"]) for letter in letters] == [("นร 1001/1", "สำนักงาน ก.พ.")]
    assert set(letters[0]) == {"letter_id", "date", "subject", "sender", "receiver", "classification"}
    # the read is in the signed audit trail, in the data tracker's shape, under a pseudonym
    [entry] = world.reads()
    detail = json.loads(entry["detail"])
    assert entry["decision"] == "granted" and entry["actor"] == f"client:{PORTAL}"
    assert entry["target"] == security_of(world.hub).pseudonym("person", CITIZEN) and CITIZEN not in entry["detail"]
    assert detail["reader"] == PORTAL and detail["reader_kind"] == "agency" and detail["purpose"] == PURPOSE
    assert detail["groups"] == sorted(ALL.split(",")) and detail["basis"] == {"kind": "agency_consent",
                                                                             "id": str(consent_id)}
    assert detail["fields"] == sorted(fields) and detail["sources"][f"{ECMS} record.letters/v1"] == "ok"
    assert detail["reason"] is None
    assert security_of(world.hub).audit.verify().ok


def test_one_source_down_gives_a_partial_record_naming_it_within_its_timeout(embedded_world: World):
    world = embedded_world
    world.consent(["record:person", "record:telework"])
    with ProviderServer("hold") as hanging, ProviderServer("forbidden") as refusing:
        # telework sources that never answer, whose host refuses connections, that say no
        register_agency(world.hub, "TH/GOV/MOI/telework")
        register_agency(world.hub, "TH/GOV/MOE/telework")
        publish(world.admin, "TH/GOV/MOE/telework", "record.telework/v1", "http", "telework",
                {"url": refusing.url}, timeout_seconds=2)
        register_agency(world.hub, "TH/GOV/MOF/telework")
        publish(world.admin, "TH/GOV/MOI/telework", "record.telework/v1", "http", "telework",
                {"url": hanging.url}, timeout_seconds=0.5)
        publish(world.admin, "TH/GOV/MOF/telework", "record.telework/v1", "http", "telework",
                {"url": "http://127.0.0.1:9/closed"}, timeout_seconds=2)
        response = world.read(fields="person,telework")
        # answered while the hanging provider still holds its request: the hub did not wait for it
        assert not hanging.release.is_set()
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["partial"] is True
    by_provider = {s["provider"]: s for s in record["sources"] if s["service"] == "record.telework/v1"}
    assert by_provider[TELEWORK]["outcome"] == "ok"
    assert by_provider["TH/GOV/MOI/telework"]["outcome"] == "timeout"
    assert by_provider["TH/GOV/MOI/telework"]["duration_ms"] >= 500
    assert "0.5" in by_provider["TH/GOV/MOI/telework"]["reason"]
    assert by_provider["TH/GOV/MOF/telework"]["outcome"] == "error"
    assert "ConnectError" in by_provider["TH/GOV/MOF/telework"]["reason"]
    assert by_provider["TH/GOV/MOE/telework"]["outcome"] == "refused"
    assert "HTTP 403" in by_provider["TH/GOV/MOE/telework"]["reason"]
    # what the live sources said is all there
    assert record["fields"]["telework_cases"]["source"]["subsystem"] == TELEWORK
    assert record["fields"]["first_name_th"]["value"] == "สมชาย"
    detail = json.loads(world.reads()[-1]["detail"])
    assert detail["sources"]["TH/GOV/MOI/telework record.telework/v1"] == "timeout"


def test_a_group_nobody_publishes_is_named_in_a_partial_record(embedded_world: World):
    world = embedded_world
    world.admin.delete(f"/v1/query-services/{ECMS}/record.letters/v1").raise_for_status()
    world.consent(["record:letters"])
    record = world.read(fields="letters").json()
    assert record["partial"] is True and record["fields"] == {}
    assert record["sources"] == [{"provider": None, "service": "record.letters/v1", "system": None,
                                  "groups": ["letters"], "outcome": "no_source", "duration_ms": 0,
                                  "reason": "no agency publishes the query service record.letters/v1"}]


def test_every_refusal_is_the_same_403_and_audited(world: World):
    answers = [world.read()]  # no consent at all
    answers.append(world.read(citizen=STRANGER))  # unknown citizen, no consent
    person_only = world.consent(["record:person"])
    answers.append(world.read(fields="person,telework"))  # groups beyond the consent
    answers.append(world.read(fields="person", purpose="อื่น ๆ ที่ไม่ได้ยินยอม"))  # another purpose
    answers.append(world.read(citizen=STRANGER, fields="person"))  # another citizen
    assert world.read(fields="person").status_code == 200  # the consent itself works
    world.hr.delete(f"/v1/persons/{CITIZEN}/consents/{person_only}").raise_for_status()
    answers.append(world.read(fields="person"))  # revoked
    expired = world.consent(["record:person"])
    with world.hub.engine.begin() as conn:
        conn.execute(update(consents).where(consents.c.id == expired).values(expires_at=utcnow() - timedelta(days=1)))
    answers.append(world.read(fields="person"))  # expired
    assert {a.status_code for a in answers} == {403}
    assert len({a.text for a in answers}) == 1 and answers[0].json()["code"] == "record_refused"
    entries = world.reads()
    assert [e["decision"] for e in entries] == ["refused"] * 5 + ["granted"] + ["refused"] * 2
    refused = [json.loads(e["detail"]) for e in entries if e["decision"] == "refused"]
    assert all(d["basis"] is None and d["fields"] == [] and d["reason"] for d in refused)
    assert all(d["reader"] == PORTAL for d in refused)
    assert "beyond the consent" in refused[2]["reason"] and "other purposes" in refused[3]["reason"]
    assert all(CITIZEN not in e["detail"] and STRANGER not in e["detail"] for e in entries)


def test_bad_groups_and_purpose_are_422(embedded_world: World):
    world = embedded_world
    bad = world.read(fields="person,salary")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "/query/fields"
    assert world.read(purpose="x").status_code == 422
    assert world.read(citizen="1101700203451").status_code == 422
    # an admin reads on the admin basis, audited as such
    record = world.read(client=world.admin, fields="position")
    assert record.status_code == 200 and record.json()["basis"] == {"kind": "admin", "id": None}


def test_a_source_whose_adapter_cannot_be_built_is_a_source_error(embedded_world: World):
    from hub.integration.tables import query_services

    world = embedded_world
    with world.hub.engine.begin() as conn:  # its plug-in was uninstalled after it was published
        conn.execute(update(query_services).where(query_services.c.provider == TELEWORK)
                     .values(adapter="uninstalled-plugin"))
    world.hub.integration.queries._forget(TELEWORK, "record.telework/v1")  # noqa: SLF001 - another process did it
    world.consent(["record:telework"])
    record = world.read(fields="telework")
    assert record.status_code == 200
    [source] = record.json()["sources"]
    assert source["outcome"] == "error" and "uninstalled-plugin" in source["reason"]
