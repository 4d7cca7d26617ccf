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
from hub.demo.server import BackgroundServer

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
    server = BackgroundServer(hub, port=port).start()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            console.print(f"[bold]hub[/bold] listening on {server.url} (data in {data_dir.resolve()})")
            for receiver, inbox, service in ((HR, hr, "hr.attendance/v1"), (FINANCE, finance, "finance.savings/v1")):
                client.post("/v1/routes", json={
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
            console.print(f"serving on {server.url} (API docs at {server.url}/docs); Ctrl-C stops")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                console.print("stopping")
        return 0 if ok else 1
    finally:
        server.stop()
        hub.close()
        hr.stop()
        finance.stop()


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
