"""Bad input: a specific error naming field and rule, and nothing changes."""
import uuid

import httpx

from tests.support.auth import register_receiver

SENDER, RECEIVER, SERVICE = "TH/GOV/0401/saraban", "TH/GOV/1501/hr", "telework.order/v1"


def envelope(**overrides):
    return {"id": str(uuid.uuid4()), "sender": SENDER, "receiver": RECEIVER, "service": SERVICE,
            "payload": {"x": 1}, **overrides}


def route(client):
    register_receiver(client, RECEIVER)
    client.post("/v1/routes", json={"receiver": RECEIVER, "service": "*", "adapter": "memory",
                                    "settings": {"mailbox": "bad-input"}})


def nothing_stored(client):
    return client.get("/v1/messages").json()["items"] == []


def test_malformed_envelope_names_every_bad_field(embedded_client):
    route(embedded_client)
    response = embedded_client.post("/v1/messages", json=envelope(sender="nobody", classification="009",
                                                                  user_id="1234567890123", extra=1))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed"
    fields = {e["field"]: e for e in body["errors"]}
    assert set(fields) == {"/sender", "/classification", "/user_id", "/extra"}
    assert fields["/sender"]["rule"] == "string_pattern_mismatch"
    assert "check digit" in fields["/user_id"]["message"]
    assert "'001'" in fields["/classification"]["message"]
    assert nothing_stored(embedded_client)


def test_malformed_json_and_non_object(embedded_client):
    response = embedded_client.post("/v1/messages", content=b'{"sender": ', headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["errors"][0]["rule"] == "json"
    response = embedded_client.post("/v1/messages", json=[1, 2])
    assert response.status_code == 422 and "JSON object" in response.json()["message"]
    assert nothing_stored(embedded_client)


def test_unknown_route_says_which_receiver_and_service(embedded_client):
    response = embedded_client.post("/v1/messages", json=envelope(receiver="TH/GOV/9999/none"))
    assert response.status_code == 422
    assert response.json()["code"] == "no_route"
    assert "'TH/GOV/9999/none'" in response.json()["message"] and SERVICE in response.json()["message"]
    assert nothing_stored(embedded_client)


def test_payload_over_limit_is_413_by_header_and_by_stream(embedded_hub, embedded_client):
    route(embedded_client)
    limit = embedded_hub.settings.max_payload_bytes
    huge = envelope(payload={"blob": "x" * (limit + 1)})
    response = embedded_client.post("/v1/messages", json=huge)
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"

    def chunks():  # no Content-Length: the hub must count while streaming
        yield b'{"payload": {"blob": "'
        for _ in range(limit // (1 << 20) + 2):
            yield b"x" * (1 << 20)
        yield b'"}}'

    response = embedded_client.post("/v1/messages", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    # A payload just over the limit inside an envelope under the body limit is still refused.
    near = envelope(payload={"b": "y" * (limit - 5)})
    assert embedded_client.post("/v1/messages", json=near).status_code == 413
    assert nothing_stored(embedded_client)


def test_wrong_content_type_is_415(embedded_client):
    route(embedded_client)
    response = embedded_client.post("/v1/messages", content=b"<a/>", headers={"Content-Type": "application/xml"})
    assert response.status_code == 415
    assert "application/json" in response.json()["message"]
    assert nothing_stored(embedded_client)


def test_route_validation(embedded_client):
    register_receiver(embedded_client, RECEIVER)
    response = embedded_client.post("/v1/routes", json={"receiver": RECEIVER, "service": "*", "adapter": "htp"})
    assert response.status_code == 422 and "did you mean 'http'" in response.json()["message"]
    response = embedded_client.post("/v1/routes", json={"receiver": RECEIVER, "service": "*", "adapter": "http",
                                                        "settings": {"url": 5}})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "/settings/url"
    route(embedded_client)
    again = embedded_client.post("/v1/routes", json={"receiver": RECEIVER, "service": "*", "adapter": "memory",
                                                     "settings": {"mailbox": "m"}})
    assert again.status_code == 409
    assert len(embedded_client.get("/v1/routes").json()) == 1


def test_operations_endpoints(embedded_client):
    assert embedded_client.get("/healthz").json() == {"status": "ok"}
    ready = embedded_client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "migrations": "ok", "broker": "ok",
                                                                   "admission": "ok"}
    assert "hub_messages_accepted_total" in embedded_client.get("/metrics").text
    assert embedded_client.get("/openapi.json").json()["paths"]["/v1/messages"]["post"]


def test_readyz_reports_an_unreachable_broker(tmp_path):
    from fastapi.testclient import TestClient

    from hub.api.app import create_app
    from hub.bootstrap import build_hub
    from tests.conftest import fast_settings

    hub = build_hub(fast_settings(tmp_path, broker_url="amqp://guest:guest@127.0.0.1:1//"))
    try:
        with TestClient(create_app(hub, embedded_worker=False)) as client:
            response = client.get("/readyz")
        assert response.status_code == 503 and response.json()["checks"]["broker"].startswith("unreachable")
    finally:
        hub.close()
    assert httpx  # the client library the adapters use is importable
