"""Query services (issue 15): a consumer asks a provider across agencies and gets the answer
synchronously, with deny-by-default rights, clearances and audit; timeouts, provider errors
and refusals each answer their own error."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.db import make_engine
from hub.security.wiring import security_of
from hub.sim import dpis as dpis_sim
from tests.support.query_provider import ProviderServer

CITIZEN = "1101700203450"
PROVIDER, CONSUMER, OTHER = "TH/GOV/OCSC/hrapi", "TH/GOV/DGA/portal", "TH/GOV/TRD/assets"
SERVICE = "hr.person.get/v1"


def publish(client, provider, name, adapter, settings=None, **extra):
    response = client.post("/v1/query-services", json={
        "provider": provider, "name": name, "system": extra.pop("system", "http"), "adapter": adapter,
        "settings": settings or {}, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def calls(hub):
    return [e for e in security_of(hub).audit.entries(kind="query.call")]


def test_a_query_across_agencies_with_the_right_and_refusal_without(hub, client, as_agency):
    with ProviderServer({"fields": {"first_name_th": "สมชาย"}, "observed_at": "2026-11-01T00:00:00+00:00"}) as server:
        as_agency(PROVIDER)
        publish(client, PROVIDER, SERVICE, "http", {"url": server.url}, timeout_seconds=5)
        listed = client.get("/v1/query-services").json()
        assert [(s["provider"], s["name"]) for s in listed] == [(PROVIDER, SERVICE)]
        assert "settings" not in listed[0]  # an adapter's settings may hold credentials

        consumer = as_agency(CONSUMER)
        assert consumer.get("/v1/query-services").json() == []  # only what it provides or may call
        refused = consumer.post(f"/v1/query/{PROVIDER}/{SERVICE}", json={"citizen_id": CITIZEN})
        assert refused.status_code == 403 and refused.json()["code"] == "query_refused"
        assert server.requests == []  # a refused call never reaches the provider

        granted = as_agency(CONSUMER, rights=[(SERVICE, PROVIDER)])
        assert [s["name"] for s in granted.get("/v1/query-services").json()] == [SERVICE]
        answer = granted.post(f"/v1/query/{PROVIDER}/{SERVICE}", json={"citizen_id": CITIZEN})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["answer"]["fields"] == {"first_name_th": "สมชาย"} and body["client"] == CONSUMER
        assert body["observed_at"] == "2026-11-01T00:00:00+00:00" and body["cached"] is False
        assert server.requests == [{"citizen_id": CITIZEN}]

        # acting for another subsystem is refused, whatever its rights
        spoof = granted.post(f"/v1/query/{PROVIDER}/{SERVICE}?client={OTHER}", json={"citizen_id": CITIZEN})
        assert spoof.status_code == 403 and "do not act for" in spoof.json()["message"]

    entries = calls(hub)
    assert [(e["decision"], e["target"]) for e in entries] == [
        ("refused", PROVIDER), ("granted", PROVIDER), ("refused", PROVIDER)]

    ok = json.loads(entries[1]["detail"])
    assert ok["outcome"] == "ok" and ok["answer_sha256"] == body["answer_sha256"]
    assert ok["request_sha256"] == body["request_sha256"] and ok["duration_ms"] >= 0 and ok["client"] == CONSUMER
    assert json.loads(entries[0]["detail"])["outcome"] == "refused"


def test_a_classified_service_needs_a_cleared_consumer(hub, client, as_agency):
    with ProviderServer({"fields": {}}) as server:
        as_agency(PROVIDER)
        publish(client, PROVIDER, SERVICE, "http", {"url": server.url}, classification="002")
        low = as_agency(CONSUMER, rights=[(SERVICE, PROVIDER)])
        refused = low.post(f"/v1/query/{PROVIDER}/{SERVICE}", json={})
        assert refused.status_code == 403 and "classified 002" in refused.json()["message"]
        high = as_agency("TH/GOV/DGA/secure", clearance="002", rights=[(SERVICE, PROVIDER)])
        assert high.post(f"/v1/query/{PROVIDER}/{SERVICE}", json={}).status_code == 200


@pytest.mark.parametrize("answer, status, code, words", [
    ("hold", 504, "query_timeout", "timeout"),
    ("garbage", 502, "query_source_error", "not JSON"),
    ("huge", 502, "query_source_error", "at most 1024"),
    ("huge-unannounced", 502, "query_source_error", "cut off"),
    ("error", 502, "query_source_error", "HTTP 500"),
    ("forbidden", 502, "query_source_error", "HTTP 403"),
])
def test_timeouts_provider_errors_and_huge_answers_each_answer_their_own_error(
        embedded_hub, embedded_client, embedded_as_agency, answer, status, code, words):
    with ProviderServer(answer) as server:
        embedded_as_agency(PROVIDER)
        # only the held answer may run out of time: the others answer at once, and a short
        # timeout would turn them into timeouts on a loaded machine
        publish(embedded_client, PROVIDER, SERVICE, "http", {"url": server.url},
                timeout_seconds=0.3 if answer == "hold" else 30, max_answer_bytes=1024)
        consumer = embedded_as_agency(CONSUMER, rights=[(SERVICE, PROVIDER)])
        response = consumer.post(f"/v1/query/{PROVIDER}/{SERVICE}", json={"citizen_id": CITIZEN})
        assert response.status_code == status, response.text
        assert response.json()["code"] == code and words in response.json()["message"]
        assert response.json()["provider"] == PROVIDER and response.json()["service"] == SERVICE
        server.release.set()

    outcome = json.loads(calls(embedded_hub)[-1]["detail"])["outcome"]
    assert outcome == {"hold": "timeout", "forbidden": "provider_refused"}.get(answer, "provider_error")


def test_unknown_service_bad_adapter_and_publishing_for_others(embedded_client, embedded_as_agency):
    consumer = embedded_as_agency(CONSUMER)
    missing = consumer.post(f"/v1/query/{PROVIDER}/{SERVICE}", json={})
    assert missing.status_code == 404
    embedded_as_agency(PROVIDER)
    not_query = embedded_client.post("/v1/query-services", json={
        "provider": PROVIDER, "name": SERVICE, "system": "x", "adapter": "memory", "settings": {}})
    assert not_query.status_code == 422 and not_query.json()["errors"][0]["field"] == "/adapter"
    for_other = consumer.post("/v1/query-services", json={
        "provider": PROVIDER, "name": SERVICE, "system": "x", "adapter": "person-registry"})
    assert for_other.status_code == 403
    short = consumer.post(f"/v1/query/{PROVIDER}", json={})
    assert short.status_code == 422


def test_the_dpis_adapter_answers_person_position_and_unit_live_from_cp874_tables(
        embedded_client, embedded_as_agency, tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'dpis.sqlite3'}"
    engine = make_engine(url)
    dpis_sim.create_schema(engine)
    dpis_sim.seed(engine, people=5, named=(dpis_sim.NamedPerson(
        CITIZEN, "003", "ณัฐพงศ์", "ศรีสวัสดิ์วงศ์", 101, "นักวิชาการคอมพิวเตอร์", "K2"),))
    engine.dispose()
    dpis = "TH/GOV/OCSC/dpis"
    embedded_as_agency(dpis)
    publish(embedded_client, dpis, "hr.lookup/v1", "dpis", {"url": url}, system="dpis")
    consumer = embedded_as_agency(CONSUMER, rights=[("hr.lookup/v1", dpis)])
    answers = {kind: consumer.post(f"/v1/query/{dpis}/hr.lookup/v1", json={"query": kind, "citizen_id": CITIZEN})
               for kind in ("person", "position", "org_unit")}
    assert {k: r.status_code for k, r in answers.items()} == {"person": 200, "position": 200, "org_unit": 200}
    person = answers["person"].json()["answer"]["fields"]
    assert (person["first_name_th"], person["last_name_th"]) == ("ณัฐพงศ์", "ศรีสวัสดิ์วงศ์")  # cp874 decoded
    assert answers["position"].json()["answer"]["fields"]["position_name"] == "นักวิชาการคอมพิวเตอร์"
    assert answers["position"].json()["answer"]["fields"]["level"] == "K2"
    unit = answers["org_unit"].json()["answer"]["fields"]
    assert unit["org_unit_id"] == 101 and unit["org_chain"][-1] == "สำนักนายกรัฐมนตรี"
    unknown = consumer.post(f"/v1/query/{dpis}/hr.lookup/v1", json={"query": "person", "citizen_id": "3100600123450"})
    assert unknown.status_code == 200 and unknown.json()["answer"]["fields"] == {}
    bad = consumer.post(f"/v1/query/{dpis}/hr.lookup/v1", json={"query": "salary", "citizen_id": CITIZEN})
    assert bad.status_code == 502 and bad.json()["code"] == "query_source_error"


def test_requests_and_answers_are_checked_against_the_services_standards(embedded_client, embedded_as_agency):
    with ProviderServer({"per_id": "not a number"}) as server:
        embedded_as_agency(PROVIDER)
        publish(embedded_client, PROVIDER, SERVICE, "http", {"url": server.url},
                request_standard="th.hr.person@1.0.0", answer_standard="th.hr.person")
        consumer = embedded_as_agency(CONSUMER, rights=[(SERVICE, PROVIDER)])
        bad_request = consumer.post(f"/v1/query/{PROVIDER}/{SERVICE}", json={"per_id": 0})
        assert bad_request.status_code == 422 and server.requests == []
        assert {e["field"] for e in bad_request.json()["errors"]} >= {"/per_id"}
        person = json.loads((Path(__file__).parents[2] / "standards/th.hr.person/1.0.0/examples/valid/"
                             "civil-servant.json").read_text(encoding="utf-8"))
        bad_answer = consumer.post(f"/v1/query/{PROVIDER}/{SERVICE}", json=person)
        assert bad_answer.status_code == 502 and bad_answer.json()["code"] == "query_source_error"
        assert "/answer/per_id" in {e["field"] for e in bad_answer.json()["errors"]}
        server.answer = person
        assert consumer.post(f"/v1/query/{PROVIDER}/{SERVICE}", json=person).status_code == 200
    unknown = embedded_client.post("/v1/query-services", json={
        "provider": PROVIDER, "name": SERVICE, "system": "x", "adapter": "person-registry",
        "answer_standard": "th.no.such"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "/answer_standard"


def test_an_answer_is_cached_only_when_the_service_allows(embedded_hub, embedded_client, embedded_as_agency):
    with ProviderServer({"fields": {"level": "K2"}}) as server:
        embedded_as_agency(PROVIDER)
        publish(embedded_client, PROVIDER, SERVICE, "http", {"url": server.url}, cache_seconds=60)
        publish(embedded_client, PROVIDER, "hr.live/v1", "http", {"url": server.url})
        consumer = embedded_as_agency(CONSUMER, rights=[(SERVICE, PROVIDER), ("hr.live/v1", PROVIDER)])
        first, second = (consumer.post(f"/v1/query/{PROVIDER}/{SERVICE}", json={"citizen_id": CITIZEN})
                         for _ in range(2))
        assert (first.json()["cached"], second.json()["cached"]) == (False, True)
        assert first.json()["answer_sha256"] == second.json()["answer_sha256"] and len(server.requests) == 1
        other = consumer.post(f"/v1/query/{PROVIDER}/{SERVICE}", json={"citizen_id": "3100600123450"})
        assert other.json()["cached"] is False and len(server.requests) == 2  # cached per request
        for _ in range(2):
            assert consumer.post(f"/v1/query/{PROVIDER}/hr.live/v1", json={}).json()["cached"] is False
        assert len(server.requests) == 4
        stranger = embedded_as_agency(OTHER)
        assert stranger.post(f"/v1/query/{PROVIDER}/{SERVICE}", json={"citizen_id": CITIZEN}).status_code == 403
    # a cached answer is still a call: audited, and refused without the right (above)
    details = [json.loads(e["detail"]) for e in calls(embedded_hub)]
    assert [d["cached"] for d in details if d["service"] == SERVICE and d["outcome"] == "ok"] == [False, True, False]
    assert details[-1]["outcome"] == "refused"
