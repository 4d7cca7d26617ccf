"""The log tells a message's story: one structured line per accept, failed attempt (with the
error), dead letter, replay and refusal, with message id and route; request lines with
durations; never a secret or a citizen ID."""
from __future__ import annotations

import logging
import uuid

import pytest
from fastapi.testclient import TestClient

from hub.bootstrap import Hub
from hub.logging_setup import configure, event_of, redact
from tests.support.auth import register_receiver
from tests.support.waiting import wait_for

SENDER, RECEIVER, SERVICE = "TH/GOV/0401/saraban", "TH/GOV/1501/hr", "telework.order/v1"
CITIZEN = "1101700203450"


def events(caplog: pytest.LogCaptureFixture, name: str) -> list[dict]:
    return [e for r in caplog.records if (e := event_of(r)) and e["event"] == name]


def test_a_dead_lettered_message_tells_its_story(embedded_hub: Hub, embedded_client: TestClient,
                                                 embedded_as_agency, caplog: pytest.LogCaptureFixture) -> None:  # noqa: ANN001
    caplog.set_level(logging.INFO)
    register_receiver(embedded_client, RECEIVER)
    route = embedded_client.post("/v1/routes", json={
        "receiver": RECEIVER, "service": SERVICE, "adapter": "memory", "max_attempts": 2,
        "backoff_base_seconds": 0.01, "backoff_max_seconds": 0.02,
        "settings": {"mailbox": "story", "fail_times": 10**6}}).json()
    agency = embedded_as_agency(SENDER, rights=[(SERVICE, RECEIVER)])
    message_id = str(uuid.uuid4())
    body = {"id": message_id, "sender": SENDER, "receiver": RECEIVER, "service": SERVICE,
            "payload": {"citizen_id": CITIZEN}, "user_id": CITIZEN}
    assert agency.post("/v1/messages", json=body).status_code == 202
    wait_for(lambda: events(caplog, "delivery.dead_lettered"), what="the dead-letter line")

    accepted = events(caplog, "message.accepted")
    assert [(e["message_id"], e["route_id"]) for e in accepted] == [(message_id, route["id"])]
    assert accepted[0]["receiver"] == RECEIVER and accepted[0]["size"] > 0
    failures = events(caplog, "delivery.attempt_failed")
    assert [e["attempt"] for e in failures] == [1, 2]
    assert all(e["message_id"] == message_id and e["route_id"] == route["id"] and e["adapter"] == "memory"
               and "failing on purpose" in e["error"] and e["duration_ms"] >= 0 for e in failures)
    assert failures[0]["retry_at"] and failures[1]["retry_at"] is None
    (dead,) = events(caplog, "delivery.dead_lettered")
    assert dead["message_id"] == message_id and "gave up after 2 attempts" in dead["reason"]
    assert [r.levelname for r in caplog.records if event_of(r) is dead] == ["ERROR"]

    assert embedded_client.post(f"/v1/messages/{message_id}/replay").status_code == 202
    (replayed,) = events(caplog, "message.replayed")
    assert replayed["message_id"] == message_id and replayed["route_id"] == route["id"]
    assert replayed["previous_status"] == "dead"

    # A refusal names the message and why; the API's answer is logged with the route's template.
    refused_id = str(uuid.uuid4())
    other = {**body, "id": refused_id, "service": "hr.salary/v1"}
    assert agency.post("/v1/messages", json=other).status_code == 403
    (access,) = events(caplog, "access.refused")
    assert access["message_id"] == refused_id and "holds no access right" in access["reason"]
    assert any(e["status"] == 403 and e["path"] == "/v1/messages" for e in events(caplog, "request.refused"))

    requests = events(caplog, "http.request")
    submits = [e for e in requests if e["method"] == "POST" and e["path"] == "/v1/messages"]
    assert [e["status"] for e in submits] == [202, 403]
    assert all(isinstance(e["duration_ms"], float) for e in requests)
    embedded_client.get(f"/v1/persons/{CITIZEN}")
    assert events(caplog, "http.request")[-1]["path"] == "/v1/persons/{citizen_id}"

    # Nothing the hub logged carries the citizen's ID or a bearer token (httpx's lines are the
    # test client's, not the hub's).
    for record in (r for r in caplog.records if r.name.startswith("hub")):
        text = str(event_of(record) or record.getMessage())
        assert CITIZEN not in text and "Bearer" not in text


def test_redaction_drops_secrets_and_masks_citizen_ids() -> None:
    event = redact(None, "info", {"event": "x", "client_secret": "s3cr3t", "password": "p", "user_id": CITIZEN,
                                  "error": f"receiver said: no person {CITIZEN}", "detail": {"token": "t", "n": 1},
                                  "phone": "021234567"})
    assert event == {"event": "x", "error": "receiver said: no person [citizen-id]", "detail": {"n": 1},
                     "phone": "021234567"}


def test_configure_renders_story_and_plain_lines_alike(capsys: pytest.CaptureFixture[str]) -> None:
    from hub.logging_setup import story

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure("INFO", json=True, force=True)
        story("hub.test").info("message.accepted", message_id="m-1", route_id=3, note="กรมบัญชีกลาง")
        logging.getLogger("hub.plain").warning("plain line for %s", CITIZEN)
        lines = capsys.readouterr().err.strip().splitlines()
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    import json

    first, second = (json.loads(line) for line in lines[-2:])
    assert first["event"] == "message.accepted" and first["route_id"] == 3 and first["level"] == "info"
    assert first["note"] == "กรมบัญชีกลาง" and first["logger"] == "hub.test" and "timestamp" in first
    assert second["event"] == "plain line for [citizen-id]" and second["level"] == "warning"
