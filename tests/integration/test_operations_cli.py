"""The operations CLI (`hub messages`, `hub deadletters`, `hub access`, `hub agencies`) on a
running hub's data directory, each command's ``--json`` output parsed back."""
from __future__ import annotations

import json
import uuid

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hub.bootstrap import Hub
from hub.cli import app
from tests.support.auth import register_receiver
from tests.support.waiting import wait_for

runner = CliRunner()
SENDER, RECEIVER, SERVICE = "TH/GOV/0401/saraban", "TH/GOV/1501/hr", "telework.order/v1"


def hub_cli(hub: Hub, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, [*args, "--data-dir", str(hub.settings.data_dir)], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def as_json(hub: Hub, *args: str) -> object:
    return json.loads(hub_cli(hub, *args, "--json"))


def dead_receiver(client: TestClient) -> None:
    """A route whose receiver always fails, one attempt: every message sent to it is dead-lettered."""
    register_receiver(client, RECEIVER)
    response = client.post("/v1/routes", json={
        "receiver": RECEIVER, "service": SERVICE, "adapter": "memory",
        "settings": {"mailbox": "ops-cli", "fail_times": 10**6}, "max_attempts": 1})
    assert response.status_code == 201, response.text


def send(agency: TestClient, n: int, correlation: str | None = None) -> list[str]:
    ids = []
    for _ in range(n):
        body = {"id": str(uuid.uuid4()), "sender": SENDER, "receiver": RECEIVER, "service": SERVICE,
                "payload": {"คำสั่ง": "กค 0401/123"}, **({"correlation_id": correlation} if correlation else {})}
        response = agency.post("/v1/messages", json=body)
        assert response.status_code == 202, response.text
        ids.append(body["id"])
    return ids


def test_messages_and_dead_letters_from_the_shell(embedded_hub: Hub, embedded_client: TestClient,
                                                  embedded_as_agency) -> None:  # noqa: ANN001
    dead_receiver(embedded_client)
    agency = embedded_as_agency(SENDER, rights=[(SERVICE, RECEIVER)])
    ids = send(agency, 3, correlation="conv-1")
    others = send(agency, 1)

    def all_dead() -> bool:
        listed = as_json(embedded_hub, "messages", "list", "--status", "dead")
        return {m["id"] for m in listed} == set(ids + others)
    wait_for(all_dead, what="4 dead letters")

    conversation = as_json(embedded_hub, "messages", "list", "--correlation", "conv-1")
    assert [m["id"] for m in conversation] == ids  # oldest first, only that conversation
    assert all("user_id" not in m for m in conversation)
    assert as_json(embedded_hub, "messages", "list", "--sender", "TH/GOV/NOBODY/x") == []
    assert len(as_json(embedded_hub, "messages", "list", "--limit", "2")) == 2

    shown = as_json(embedded_hub, "messages", "show", ids[0])
    assert shown["status"] == "dead" and shown["receiver"] == RECEIVER
    kinds = [e["kind"] for e in shown["history"]]
    assert kinds[0] == "accepted" and kinds[-2:] == ["attempt_failed", "dead_lettered"]
    assert "failing on purpose" in shown["history"][-2]["detail"]["error"]
    assert shown["history"][-2]["detail"]["duration_ms"] >= 0

    payload = runner.invoke(app, ["messages", "payload", ids[0], "--data-dir", str(embedded_hub.settings.data_dir)])
    assert json.loads(payload.stdout_bytes.decode("utf-8")) == {"คำสั่ง": "กค 0401/123"}

    table = hub_cli(embedded_hub, "messages", "list")
    assert all(i in table for i in ids)  # identifiers whole, never cut with an ellipsis

    letters = as_json(embedded_hub, "deadletters", "list")
    assert {m["id"] for m in letters["items"]} == set(ids + others)
    assert [(g["receiver"], g["count"]) for g in letters["groups"]] == [(RECEIVER, 4)]
    assert "failing on purpose" in letters["groups"][0]["cause"]

    # Bulk replay of a selection (one conversation), then of the rest by filter.
    summary = as_json(embedded_hub, "deadletters", "replay", *ids, "--reason", "receiver fixed", "--actor", "somchai")
    assert summary == {"requested": 3, "replayed": ids, "failed": {}}
    history = as_json(embedded_hub, "messages", "show", ids[1])["history"]
    replayed = [e for e in history if e["kind"] == "replayed"]
    assert replayed and replayed[0]["detail"]["reason"] == "receiver fixed"
    entries = embedded_hub.security.audit.export(None)["entries"]
    assert {e["target"] for e in entries if e["kind"] == "message.replayed"} == set(ids)
    assert all(e["actor"] == "somchai" for e in entries if e["kind"] == "message.replayed")

    # A message that is not dead is named in the summary, and the command exits 1.
    wait_for(lambda: as_json(embedded_hub, "messages", "show", others[0])["status"] == "dead", what="dead")
    result = runner.invoke(app, ["deadletters", "replay", others[0], str(uuid.uuid4()), "--json",
                                 "--data-dir", str(embedded_hub.settings.data_dir)])
    assert result.exit_code == 1
    mixed = json.loads(result.stdout)
    assert mixed["replayed"] == [others[0]] and len(mixed["failed"]) == 1

    single = as_json(embedded_hub, "messages", "replay", ids[2], "--reason", "once more")
    assert single == [{"id": ids[2], "status": "accepted"}]
    missing = runner.invoke(app, ["messages", "show", str(uuid.uuid4()), "--data-dir",
                                  str(embedded_hub.settings.data_dir)])
    assert missing.exit_code == 2 and "no message" in missing.output


def test_access_rights_listed_and_revoked_then_submit_refused(embedded_hub: Hub, embedded_client: TestClient,
                                                              embedded_as_agency) -> None:  # noqa: ANN001
    dead_receiver(embedded_client)
    agency = embedded_as_agency(SENDER, rights=[(SERVICE, RECEIVER)])
    send(agency, 1)
    listed = as_json(embedded_hub, "access", "list", "--client", SENDER)
    assert [(r["client"], r["service"], r["provider"]) for r in listed["rights"]] == [(SENDER, SERVICE, RECEIVER)]
    right_id = listed["rights"][0]["id"]
    assert as_json(embedded_hub, "access", "revoke", str(right_id)) == {"revoked": [right_id]}
    assert as_json(embedded_hub, "access", "list", "--client", SENDER)["rights"] == []
    embedded_hub.security.access._forget_rights()  # the API's cache would see it within CACHE_SECONDS
    body = {"id": str(uuid.uuid4()), "sender": SENDER, "receiver": RECEIVER, "service": SERVICE, "payload": {}}
    assert agency.post("/v1/messages", json=body).status_code == 403

    embedded_as_agency(RECEIVER)  # a grant names a registered provider (issue 12)
    granted = as_json(embedded_hub, "agencies", "grant", SENDER, SERVICE, RECEIVER)
    assert granted["client"] == SENDER and isinstance(granted["id"], int)
    plain = hub_cli(embedded_hub, "access", "grant", SENDER, "other.service/v1")
    assert plain.startswith("right ") and "{" not in plain  # a sentence, not a Python dict
    hub_cli(embedded_hub, "access", "revoke", "999999", code=2)


def test_agencies_list_show_suspend_resume(embedded_hub: Hub, embedded_client: TestClient,
                                           embedded_as_agency) -> None:  # noqa: ANN001
    dead_receiver(embedded_client)
    agency = embedded_as_agency(SENDER, rights=[(SERVICE, RECEIVER)])
    members = as_json(embedded_hub, "agencies", "list")
    member = next(m for m in members if m["id"] == "TH/GOV/0401")
    assert member["name_th"] == "หน่วยงานทดสอบ TH/GOV/0401"
    assert [s["id"] for s in member["subsystems"]] == [SENDER]
    assert "หน่วยงานทดสอบ" in hub_cli(embedded_hub, "agencies", "list")
    assert as_json(embedded_hub, "agencies", "show", "TH/GOV/0401")["id"] == "TH/GOV/0401"

    suspended = as_json(embedded_hub, "agencies", "suspend", "TH/GOV/0401", "--reason", "leaked secret")
    assert [(s["id"], s["status"]) for s in suspended] == [(SENDER, "disabled")]
    embedded_hub.security.authenticator.forget()
    body = {"id": str(uuid.uuid4()), "sender": SENDER, "receiver": RECEIVER, "service": SERVICE, "payload": {}}
    assert agency.post("/v1/messages", json=body).status_code in (401, 403)
    entries = embedded_hub.security.audit.export(None)["entries"]
    assert any(e["kind"] == "registry.subsystem_disabled" and e["target"] == SENDER for e in entries)

    resumed = as_json(embedded_hub, "agencies", "resume", SENDER)
    assert [(s["id"], s["status"]) for s in resumed] == [(SENDER, "approved")]
    embedded_hub.security.authenticator.forget()
    embedded_hub.security.registry._forget_clearances()
    assert agency.post("/v1/messages", json=body).status_code == 202


def test_routes_list_shows_thai_as_thai(embedded_hub: Hub, embedded_client: TestClient) -> None:
    register_receiver(embedded_client, RECEIVER)
    response = embedded_client.post("/v1/routes", json={
        "receiver": RECEIVER, "service": SERVICE, "adapter": "memory", "settings": {"mailbox": "กองการเจ้าหน้าที่"}})
    assert response.status_code == 201, response.text
    table = hub_cli(embedded_hub, "routes", "list")
    assert "กองการเจ้าหน้าที่" in table and "\\u0e" not in table
    assert as_json(embedded_hub, "routes", "list")[0]["settings"]["mailbox"] == "กองการเจ้าหน้าที่"
