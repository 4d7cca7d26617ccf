"""The demo: a hub on the embedded default and two simulated agencies.

A department's e-Saraban sends telework notices to a ministry HR system and a finance
office; the finance office is down for the first seconds and recovers, so the summary shows
messages retried and then delivered, none lost and none applied twice.
"""
from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from hub.bootstrap import build_hub
from hub.config import Settings
from hub.demo.receiver import AgencyInbox
from hub.demo.server import BackgroundServer, serve_until_interrupted

MARKER = ".hub-demo"
SENDER = "TH/GOV/CGD/saraban"
HR = "TH/GOV/OCSC/hr"
FINANCE = "TH/GOV/FPO/finance"
BURST = 60
DOWN_SECONDS = 3.0


def prepare_data_dir(path: Path) -> None:
    if path.exists() and any(path.iterdir()):
        if not (path / MARKER).exists():
            raise SystemExit(f"{path} exists and is not a demo directory; choose another --data-dir")
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).write_text("created by `hub demo`; removed and recreated on the next run\n")


def _payload(i: int) -> tuple[str, dict]:
    if i % 2:
        return "hr.attendance/v1", {"citizen_id": "1101700203450", "date": f"2026-11-{1 + i % 28:02d}",
                                    "kind": "telework", "hours": 7.5}
    return "finance.savings/v1", {"fiscal_year_be": 2570, "item": "electricity", "amount": f"{120 + i}.50"}


def run_demo(*, data_dir: Path, port: int, once: bool, console: Console) -> int:
    prepare_data_dir(data_dir)
    settings = Settings(data_dir=data_dir, requeue_after_seconds=10, relay_interval_seconds=0.05)
    hub = build_hub(settings)
    hr, finance = AgencyInbox("OCSC-HR").start(), AgencyInbox("FPO-FIN").start()
    finance.down = True
    credentials = enrol_demo_agencies(hub)
    server = BackgroundServer(hub, port=port).start()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as anonymous:
            admin_token = token(anonymous, credentials["demo-admin"])
            sender_token = token(anonymous, credentials[SENDER])
        with httpx.Client(base_url=server.url, timeout=10, headers={"Authorization": f"Bearer {admin_token}"}) as admin, \
                httpx.Client(base_url=server.url, timeout=10,
                             headers={"Authorization": f"Bearer {sender_token}"}) as client:
            console.print(f"[bold]hub[/bold] listening on {server.url} (data in {data_dir.resolve()})")
            print_how_to_authenticate(console, server.url, credentials)
            for receiver, inbox, service in ((HR, hr, "hr.attendance/v1"), (FINANCE, finance, "finance.savings/v1")):
                admin.post("/v1/routes", json={
                    "receiver": receiver, "service": service, "adapter": "http",
                    "settings": {"url": inbox.url, "timeout_seconds": 5},
                    "max_attempts": 10, "backoff_base_seconds": 0.5, "backoff_max_seconds": 2,
                }).raise_for_status()
            started = time.monotonic()
            sent: dict[str, str] = {}
            for i in range(BURST):
                service, payload = _payload(i)
                receiver = HR if service.startswith("hr.") else FINANCE
                message_id = str(uuid.uuid4())
                client.post("/v1/messages", json={
                    "id": message_id, "sender": SENDER, "receiver": receiver, "service": service,
                    "payload": payload,
                }).raise_for_status()
                sent[message_id] = receiver
            console.print(f"sent {len(sent)} messages; {FINANCE} is down for {DOWN_SECONDS:.0f} s")
            while time.monotonic() - started < DOWN_SECONDS:
                time.sleep(0.1)
            finance.down = False
            console.print(f"{FINANCE} is back up")
            deadline = time.monotonic() + 60
            while hub.messages.counts().get("delivered", 0) < len(sent) and time.monotonic() < deadline:
                time.sleep(0.2)
            console.print(summary(client, sent, {HR: hr, FINANCE: finance}))
        counts = hub.messages.counts()
        ok = counts.get("delivered", 0) == len(sent)
        console.print("[green]every message delivered exactly once[/green]" if ok
                      else f"[red]not all delivered: {counts}[/red]")
        if not once:
            serve_until_interrupted(console, f"serving on {server.url} (API docs at {server.url}/docs)",
                                    hub=hub, url=server.url)
        return 0 if ok else 1
    finally:
        server.stop()
        hub.close()
        hr.stop()
        finance.stop()


def enrol_demo_agencies(hub) -> dict[str, dict[str, str]]:  # noqa: ANN001
    """Onboard the demo's subsystems the way a real agency is onboarded: register, approve (the
    credentials are issued once), grant the rights the demo uses. Nothing is allowed otherwise."""
    from hub.registry.schemas import SubsystemIn
    from hub.schemas.envelope import party_member

    security = hub.security
    issued = {"demo-admin": security.credentials.create("demo-admin", actor="demo", roles=("admin",),
                                                        clearance="004").as_dict()}
    for subsystem in (SENDER, HR, FINANCE):
        security.registry.request_subsystem(party_member(subsystem), SubsystemIn(code=subsystem.rsplit("/", 1)[1]),
                                            actor="demo")
        issued[subsystem] = security.approve_subsystem(subsystem, actor="demo").as_dict()
    security.access.grant(SENDER, "hr.attendance/v1", HR, actor="demo")
    security.access.grant(SENDER, "finance.savings/v1", FINANCE, actor="demo")
    return issued


def token(client: httpx.Client, creds: dict[str, str]) -> str:
    response = client.post("/v1/auth/token", data={"grant_type": "client_credentials"},
                           auth=(creds["client_id"], creds["client_secret"]))
    response.raise_for_status()
    return response.json()["access_token"]


def print_how_to_authenticate(console: Console, url: str, credentials: dict[str, dict[str, str]]) -> None:
    """The demo's credentials are throw-away (the demo directory is recreated each run), so they are
    printed; a real hub shows a secret once, in the approval response."""
    console.print("authentication is on: every call needs a token. Demo clients (this run only):")
    for name, creds in credentials.items():
        console.print(f"  {name}: client_id={creds['client_id']} client_secret={creds['client_secret']}")
    first = credentials[SENDER]
    console.print(f"get a token:  curl -s {url}/v1/auth/token -u '{first['client_id']}:{first['client_secret']}' "
                  "-d grant_type=client_credentials")
    console.print("then:         curl -s -H 'Authorization: Bearer <access_token>' " + url + "/v1/messages")


def summary(client: httpx.Client, sent: dict[str, str], inboxes: dict[str, AgencyInbox]) -> Table:
    table = Table(title="hub demo: what crossed the hub")
    table.add_column("receiver", no_wrap=True)
    for column in ("sent", "delivered", "retried", "attempts", "dead", "applied", "repeats ignored"):
        table.add_column(column, justify="right")
    for receiver, inbox in inboxes.items():
        ids = [m for m, r in sent.items() if r == receiver]
        metas = [client.get(f"/v1/messages/{m}").json() for m in ids]
        applied = [m for m in ids if m in inbox.applied]
        table.add_row(
            receiver, str(len(ids)),
            str(sum(m["status"] == "delivered" for m in metas)),
            str(sum(m["attempts"] > 1 for m in metas)),
            str(sum(m["attempts"] for m in metas)),
            str(sum(m["status"] == "dead" for m in metas)),
            str(len(applied)),
            str(inbox.duplicates),
        )
    return table
