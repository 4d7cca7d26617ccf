"""``hub demo --events``: Tell Us Once and a one-stop application, through the hub's HTTP API.

An officer's HR change is published once by the OCSC's DPIS and reaches two subscribing
agencies: the Comptroller General's payroll by a signed webhook (verified here with the
``standardwebhooks`` library, as the agency would), the Fiscal Policy Office by an AMQP queue on
the hub's broker. Then an officer's change of address is submitted once and split to HR,
payroll and the pension fund under one tracking id; two agencies complete their part, the
third refuses with a reason, and the application shows all three.
"""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson
from kombu import Connection
from rich.console import Console
from rich.table import Table
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from hub.adapters.amqp import amqp_queue
from hub.bootstrap import build_hub
from hub.config import Settings
from hub.demo.run import prepare_data_dir, token
from hub.demo.server import BackgroundServer, serve_until_interrupted
from hub.security.onboarding import onboard

SOURCE = "TH/GOV/OCSC/dpis"
WEBHOOK_AGENCY, AMQP_AGENCY = "TH/GOV/CGD/payroll", "TH/GOV/FPO/hrsync"
ESERVICE = "TH/GOV/DGA/eservice"
PARTS = {"hr-record": "TH/GOV/OCSC/hr", "payroll": "TH/GOV/CGD/payroll", "pension": "TH/GOV/GPF/member"}
EVENT = "hr.person.changed/v1"
APPLICATION_SERVICE = "oss.change-of-address/v1"
QUEUE = "demo.fpo.hr-events"


class VerifyingWebhook:
    """The payroll office's endpoint: checks each signature before taking the event."""

    def __init__(self) -> None:
        self.secret = ""
        self.received: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return None

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                try:
                    event = Webhook(receiver.secret).verify(body, dict(self.headers.items()))
                    receiver.received.append({"id": self.headers["webhook-id"], "event": event})
                    status = 204
                except WebhookVerificationError:
                    status = 401
                self.send_response(status)
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/hr"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _wait(probe: Any, seconds: float = 30.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.1)
    return probe()


def run_events_demo(*, data_dir: Path, port: int, once: bool, console: Console) -> int:
    prepare_data_dir(data_dir)
    settings = Settings(data_dir=data_dir, relay_interval_seconds=0.05, webhook_allow_loopback=True)
    hub = build_hub(settings)
    events_party = settings.events_party
    creds = {SOURCE: onboard(hub.security, SOURCE, actor="demo", clearance="002", rights=[(EVENT, events_party)])}
    for agency in (WEBHOOK_AGENCY, AMQP_AGENCY):
        creds[agency] = onboard(hub.security, agency, actor="demo", clearance="002", rights=[(EVENT, events_party)])
    creds[ESERVICE] = onboard(hub.security, ESERVICE, actor="demo", clearance="002",
                              rights=[(APPLICATION_SERVICE, a) for a in PARTS.values()])
    for agency in PARTS.values():
        creds.setdefault(agency, onboard(hub.security, agency, actor="demo", clearance="002"))
    hook = VerifyingWebhook()
    server = BackgroundServer(hub, port=port).start()
    console.print(f"[bold]hub[/bold] listening on {server.url} (data in {data_dir.resolve()})")
    try:
        with httpx.Client(base_url=server.url, timeout=10) as anonymous:
            clients = {party: httpx.Client(base_url=server.url, timeout=10, headers={
                "Authorization": f"Bearer {token(anonymous, c.as_dict())}"}) for party, c in creds.items() if c}
        console.rule("Tell Us Once: one HR change, two subscribing agencies")
        sub = clients[WEBHOOK_AGENCY].post("/v1/subscriptions", json={
            "subscriber": WEBHOOK_AGENCY, "event_type": EVENT, "channel": {"type": "webhook", "url": hook.url},
            "filter": {"fields": ["per_cardno", "per_name", "per_surname", "pos_id", "level_no", "org_id"]}})
        sub.raise_for_status()
        hook.secret = sub.json()["secret"]
        clients[AMQP_AGENCY].post("/v1/subscriptions", json={
            "subscriber": AMQP_AGENCY, "event_type": EVENT, "channel": {"type": "amqp", "queue": QUEUE}}
        ).raise_for_status()
        officer = orjson.loads((settings.standards_dir / "th.hr.person-changed/1.0.0/examples/valid/"
                                "civil-servant.json").read_bytes())
        officer["level_no"] = "K3"  # promoted
        published = clients[SOURCE].post("/v1/events", json={"source": SOURCE, "event_type": EVENT, "data": officer})
        published.raise_for_status()
        console.print(f"OCSC DPIS published {EVENT} for {officer['per_name']} {officer['per_surname']} "
                      f"(level {officer['level_no']}): event {published.json()['id']}")
        _wait(lambda: hook.received)
        for item in hook.received:
            console.print(f"  {WEBHOOK_AGENCY} webhook: signature verified, webhook-id {item['id']}, "
                          f"fields {sorted(item['event']['data'])}")
        with Connection(settings.effective_broker_url) as conn:
            bound = amqp_queue(QUEUE)(conn.default_channel)
            bound.declare()
            message = _wait(lambda: bound.get(no_ack=True))
        if message is not None:
            doc = orjson.loads(message.body)
            console.print(f"  {AMQP_AGENCY} queue {QUEUE}: message {message.properties['message_id']}, "
                          f"level {doc['payload']['level_no']}")

        console.rule("One-stop application: one form, three agencies, one tracking id")
        address = {"citizen_id": officer["per_cardno"], "new_address": "99/1 ถนนพิษณุโลก แขวงดุสิต เขตดุสิต กรุงเทพมหานคร",
                   "effective_from": "2026-12-01", "bank_account": "1234567890"}
        for part, agency in PARTS.items():
            hub.router.add(_memory_route(agency, part))
        submitted = clients[ESERVICE].post("/v1/applications", json={
            "application_type": "th.oss.change-of-address", "applicant": ESERVICE, "data": address})
        submitted.raise_for_status()
        tracking = submitted.json()["id"]
        view = clients[ESERVICE]
        _wait(lambda: all(p["status"] == "awaiting_answer"
                          for p in view.get(f"/v1/applications/{tracking}").json()["parts"]))
        answers = {"hr-record": {"status": "completed", "answer": {"reference": "ก.พ. 0001/2569"}},
                   "pension": {"status": "completed", "answer": {"member_file": "updated"}},
                   "payroll": {"status": "rejected", "reason": "เลขบัญชีไม่ตรงกับทะเบียนเงินเดือน"}}
        for part, body in answers.items():
            clients[PARTS[part]].post(f"/v1/applications/{tracking}/parts/{part}/answer", json=body).raise_for_status()
        final = view.get(f"/v1/applications/{tracking}").json()
        table = Table("part", "agency", "status", "answer / reason", title=f"application {tracking}: {final['status']}")
        for p in final["parts"]:
            table.add_row(p["part"], p["agency"], p["status"], orjson.dumps(p["answer"]).decode() if p["answer"]
                          else (p["reason"] or ""))
        console.print(table)
        ok = bool(hook.received) and message is not None and final["complete"]
        if not once and ok:
            serve_until_interrupted(console, f"hub serving at {server.url}")
        return 0 if ok else 1
    finally:
        server.stop()
        hook.stop()
        hub.close()


def _memory_route(agency: str, part: str):  # noqa: ANN202
    from hub.schemas.routes import RouteIn

    return RouteIn(receiver=agency, service=APPLICATION_SERVICE, adapter="memory", settings={"mailbox": part})
