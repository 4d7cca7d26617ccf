"""``POST /v1/messages`` is matched ahead of the route table (``SubmitShortcut``, issue 18):
the request still runs as the declared route, other methods on the path still reach their
own routes (a 405 names what it did before), and the path with a trailing slash is
redirected as before."""
from __future__ import annotations

import logging
import uuid

import pytest
from fastapi.testclient import TestClient

from hub.api.routes.messages import SubmitShortcut, submit_message
from hub.logging_setup import event_of
from tests.support.auth import register_receiver

SENDER, RECEIVER, SERVICE = "TH/GOV/0401/saraban", "TH/GOV/1501/hr", "telework.order/v1"


def test_the_shortcut_runs_the_declared_route(embedded_client: TestClient, embedded_as_agency,  # noqa: ANN001
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    first = embedded_client.app.router.routes[0]
    assert isinstance(first, SubmitShortcut) and first.declared.endpoint is submit_message
    assert embedded_client.app.openapi()["paths"]["/v1/messages"]["post"]["operationId"]
    register_receiver(embedded_client, RECEIVER)
    embedded_client.post("/v1/routes", json={"receiver": RECEIVER, "service": "*", "adapter": "memory",
                                             "settings": {"mailbox": "shortcut"}}).raise_for_status()
    agency = embedded_as_agency(SENDER, rights=[(SERVICE, RECEIVER)])
    message_id = str(uuid.uuid4())
    sent = agency.post("/v1/messages", json={"id": message_id, "sender": SENDER, "receiver": RECEIVER,
                                             "service": SERVICE, "payload": {"order": "กค 0401/1"}})
    assert sent.status_code == 202 and sent.headers["location"] == f"/v1/messages/{message_id}"
    lines = [e for r in caplog.records if (e := event_of(r)) and e["event"] == "http.request"
             and e["method"] == "POST" and e["status"] == 202]
    assert lines and lines[-1]["path"] == "/v1/messages"  # the declared route's template

    listed = agency.get("/v1/messages")  # GET on the same path: the list route, not the shortcut
    assert listed.status_code == 200 and [m["id"] for m in listed.json()["items"]] == [message_id]
    refused = agency.put("/v1/messages", json={})
    assert refused.status_code == 405 and refused.headers["allow"] == "POST"  # the first partial match, as before
    slash = agency.post("/v1/messages/", json={}, follow_redirects=False)  # redirected, as before
    assert slash.status_code == 307 and slash.headers["location"].endswith("/v1/messages")
