"""Layer 3 shared information: persons with provenance, freshness, consent-based reads (each
audited under a pseudonym), juristic persons, locations, and the person-registry adapter."""
from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import update

from hub.clock import utcnow
from hub.registry.tables import person_facts
from hub.security.wiring import security_of
from hub.thai import check_digit
from tests.support.waiting import wait_for

CITIZEN = "1101700203450"
OTHER = "3100600123450"  # valid, never registered
OCSC_HR, DOPA, TRD = "TH/GOV/OCSC/hr", "TH/GOV/DOPA/ecitizen", "TH/GOV/TRD/assets"
PARTY = "TH/GOV/HUB/shared"
RIGHT = ("hr.person.changed/v1", PARTY)


def report(client, citizen_id=CITIZEN, **fields):
    return client.post("/v1/persons", json={"citizen_id": citizen_id, "fields": fields or {
        "first_name_th": "สมชาย", "last_name_th": "ใจดี", "email": "somchai@ocsc.go.th",
        "address": {"subdistrict_code": "100101", "district_code": "1001", "province_code": "10"}}})


def person_entries(hub):
    return [e for e in security_of(hub).audit.entries() if e["kind"].startswith(("person.", "consent."))]


def test_an_hr_subsystem_reports_fields_with_provenance_and_freshness(embedded_hub, embedded_as_agency):
    hr = embedded_as_agency(OCSC_HR, rights=[RIGHT])
    response = report(hr)
    assert response.status_code == 200, response.text
    assert response.json()["applied"] and "email" in response.json()["fields"]
    record = hr.get(f"/v1/persons/{CITIZEN}").json()
    name = record["fields"]["first_name_th"]
    assert name["value"] == "สมชาย" and name["source"] == OCSC_HR and name["stale"] is False
    assert record["basis"] == "owner" and record["stale"] is False and name["age_seconds"] >= 0
    # the same field observed long ago by the same source does not roll the value back
    old = hr.post("/v1/persons", json={"citizen_id": CITIZEN, "observed_at": "2020-01-01T00:00:00+00:00",
                                       "fields": {"first_name_th": "เก่า"}})
    assert old.status_code == 200
    assert hr.get(f"/v1/persons/{CITIZEN}").json()["fields"]["first_name_th"]["value"] == "สมชาย"
    # an old observation is stale
    with embedded_hub.engine.begin() as conn:
        conn.execute(update(person_facts).where(person_facts.c.field == "email")
                     .values(observed_at=utcnow() - timedelta(days=400)))
    record = hr.get(f"/v1/persons/{CITIZEN}").json()
    assert record["fields"]["email"]["stale"] is True and record["stale"] is True


def test_reporting_needs_the_right_and_acting_for_the_source(embedded_hub, embedded_as_agency):
    nobody = embedded_as_agency(TRD)
    assert report(nobody).status_code == 403
    hr = embedded_as_agency(OCSC_HR, rights=[RIGHT])
    spoof = hr.post("/v1/persons", json={"citizen_id": CITIZEN, "source": TRD, "fields": {"first_name_th": "x"}})
    assert spoof.status_code == 403 and "do not act for" in spoof.json()["message"]
    refused = [e for e in person_entries(embedded_hub) if e["decision"] == "refused"]
    assert len(refused) == 2 and all(CITIZEN not in e["target"] + e["detail"] for e in refused)


def test_update_id_is_applied_once(embedded_hub, embedded_as_agency):
    hr = embedded_as_agency(OCSC_HR, rights=[RIGHT])
    body = {"citizen_id": CITIZEN, "update_id": "u-1", "fields": {"level": "K2"}}
    assert hr.post("/v1/persons", json=body).json()["applied"] is True
    assert hr.post("/v1/persons", json=body).json()["applied"] is False
    assert len([e for e in person_entries(embedded_hub) if e["kind"] == "person.updated"]) == 1


def test_invalid_ids_are_422_naming_field_and_rule(embedded_client):
    bad = embedded_client.get("/v1/persons/1101700203451")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "/path/citizen_id" and bad.json()["errors"][0]["rule"] == "check_digit"
    short = embedded_client.post("/v1/persons", json={"citizen_id": "12345", "fields": {"level": "K1"}})
    assert short.status_code == 422
    assert short.json()["errors"][0] == {"field": "/citizen_id", "rule": "length",
                                         "message": "citizen ID must have 13 digits, got 5"}
    unknown_code = embedded_client.post("/v1/persons", json={"citizen_id": CITIZEN, "fields": {"address": {
        "subdistrict_code": "999999", "district_code": "9999", "province_code": "99"}}})
    assert unknown_code.status_code == 422
    assert {e["rule"] for e in unknown_code.json()["errors"]} == {"unknown_code"}
    juristic = embedded_client.get("/v1/juristic-persons/1101700203450")
    assert juristic.status_code == 422 and juristic.json()["errors"][0]["rule"] == "first_digit"


def test_reads_need_ownership_or_consent_and_are_all_audited_under_a_pseudonym(
        embedded_hub, embedded_client, embedded_as_agency):
    hr = embedded_as_agency(OCSC_HR, rights=[RIGHT])
    report(hr).raise_for_status()
    dopa = embedded_as_agency(DOPA)
    # no consent: the same 403 for a known and an unknown person (existence is not leaked)
    known, unknown = dopa.get(f"/v1/persons/{CITIZEN}"), dopa.get(f"/v1/persons/{OTHER}")
    assert known.status_code == unknown.status_code == 403
    assert known.json() == unknown.json()
    assert dopa.post(f"/v1/persons/{CITIZEN}/consents", json={
        "consumer": DOPA, "purpose": "e-Citizen address check", "expires_at": "2099-01-01T00:00:00Z"}).status_code == 403
    # the owner records a consent limited to two fields
    consent = hr.post(f"/v1/persons/{CITIZEN}/consents", json={
        "consumer": "TH/GOV/DOPA", "purpose": "e-Citizen address check", "fields": ["first_name_th", "address"],
        "expires_at": (utcnow() + timedelta(days=30)).isoformat()})
    assert consent.status_code == 201, consent.text
    record = dopa.get(f"/v1/persons/{CITIZEN}")
    assert record.status_code == 200 and record.json()["basis"] == "consent"
    assert set(record.json()["fields"]) == {"first_name_th", "address"}
    # expired in the past is refused; revoked means refused again
    past = hr.post(f"/v1/persons/{CITIZEN}/consents", json={"consumer": DOPA, "purpose": "late",
                                                             "expires_at": "2020-01-01T00:00:00Z"})
    assert past.status_code == 422 and past.json()["errors"][0]["rule"] == "future"
    revoked = hr.delete(f"/v1/persons/{CITIZEN}/consents/{consent.json()['id']}")
    assert revoked.status_code == 200 and revoked.json()["valid"] is False
    assert dopa.get(f"/v1/persons/{CITIZEN}").status_code == 403
    assert [c["valid"] for c in hr.get(f"/v1/persons/{CITIZEN}/consents").json()] == [False]
    # admins read everything; an unknown person is 404 for them
    assert embedded_client.get(f"/v1/persons/{CITIZEN}").json()["basis"] == "admin"
    assert embedded_client.get(f"/v1/persons/{OTHER}").status_code == 404
    reads = [e for e in person_entries(embedded_hub) if e["kind"] == "person.read"]
    assert [e["decision"] for e in reads] == ["refused", "refused", "granted", "refused", "granted", "refused"]
    ref = security_of(embedded_hub).persons.ref(CITIZEN)
    assert reads[0]["target"] == ref and ref.startswith("person:")
    for entry in security_of(embedded_hub).audit.entries():
        assert CITIZEN not in str(entry) and OTHER not in str(entry)
    assert security_of(embedded_hub).audit.verify().ok


def test_juristic_persons(embedded_client, embedded_as_agency):
    body = {"juristic_id": "0105536012346", "name_th": "บริษัท ทดสอบ จำกัด", "juristic_type": "company-limited",
            "status": "active", "province_code": "10", "source": "TH/GOV/DBD/registry"}
    nobody = embedded_as_agency(TRD)
    assert nobody.put("/v1/juristic-persons", json={**body, "source": TRD}).status_code == 403
    stored = embedded_client.put("/v1/juristic-persons", json=body)
    assert stored.status_code == 200, stored.text
    got = nobody.get("/v1/juristic-persons/0105536012346").json()
    assert got["source"] == "TH/GOV/DBD/registry" and got["stale"] is False and got["status"] == "active"
    missing = "010553601235" + str(check_digit("010553601235"))
    assert nobody.get(f"/v1/juristic-persons/{missing}").status_code == 404


def test_locations_are_authenticated_and_come_from_geothai(embedded_client, anonymous_client):
    assert anonymous_client.get("/v1/locations/provinces").status_code == 401
    provinces = embedded_client.get("/v1/locations/provinces").json()
    assert len(provinces["items"]) == 77 and {"code": "10", "name_th": "กรุงเทพมหานคร",
                                              "name_en": "Bangkok"} in provinces["items"]
    assert embedded_client.get("/v1/locations/provinces/10").json()["districts"][0]["code"] == "1001"
    assert embedded_client.get("/v1/locations/subdistricts/100101").json()["postal_codes"] == ["10200"]
    assert embedded_client.get("/v1/locations/provinces/99").status_code == 404
    assert embedded_client.get("/v1/locations/provinces/1").json()["errors"][0]["rule"] == "format"
    assert embedded_client.get("/v1/locations/search", params={"q": "บางรัก"}).json()["items"]


def test_hr_person_changed_messages_update_the_registry_once(embedded_hub, embedded_client, embedded_as_agency):
    embedded_client.post("/v1/routes", json={"receiver": PARTY, "service": "hr.person.changed/v1",
                                             "adapter": "person-registry", "settings": {}}).raise_for_status()
    hr = embedded_as_agency(OCSC_HR, rights=[RIGHT])
    dpis_doc = {"per_id": 7, "per_type": 1, "per_name": "สมหญิง", "per_surname": "รักงาน", "per_cardno": CITIZEN,
                "org_id": 1, "per_status": 1, "level_no": "K3", "per_email": "somying@ocsc.go.th"}
    env = {"id": str(uuid.uuid4()), "sender": OCSC_HR, "receiver": PARTY, "service": "hr.person.changed/v1",
           "payload": dpis_doc}
    assert hr.post("/v1/messages", json=env).status_code == 202
    wait_for(lambda: hr.get(f"/v1/messages/{env['id']}").json()["status"] == "delivered", what="delivery")
    record = hr.get(f"/v1/persons/{CITIZEN}").json()
    assert record["fields"]["first_name_th"]["value"] == "สมหญิง"
    assert record["fields"]["employment_status"]["value"] == "active"
    assert record["fields"]["level"]["source"] == OCSC_HR
    # replay: delivered again, applied once
    assert embedded_client.post(f"/v1/messages/{env['id']}/replay").status_code in (200, 202)
    wait_for(lambda: hr.get(f"/v1/messages/{env['id']}").json()["status"] == "delivered"
             and "already applied" in (hr.get(f"/v1/messages/{env['id']}").json().get("receipt") or ""),
             what="redelivery")
    updates = [e for e in person_entries(embedded_hub) if e["kind"] == "person.updated"]
    assert len(updates) == 1
    # a bad citizen ID is dead-lettered with the rule, not retried
    bad = {**env, "id": str(uuid.uuid4()), "payload": {**dpis_doc, "per_cardno": "1101700203451"}}
    assert hr.post("/v1/messages", json=bad).status_code == 202
    wait_for(lambda: hr.get(f"/v1/messages/{bad['id']}").json()["status"] == "dead", what="dead letter")
    history = hr.get(f"/v1/messages/{bad['id']}").json()["history"]
    assert any("check_digit" in str(h.get("detail")) for h in history)
