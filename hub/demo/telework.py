"""``hub demo``: the telework story on the embedded default, then keeps serving.

Three agencies (CGD issues orders; the Ministry of Finance's permanent secretary office keeps
HR and finance; OPDC oversees) exchange every letter, HR record, batch and KPI report through
the hub; the demo prints the story, each refusal with its reason, and a timeline of every
message that crossed the hub. ``--transport-only`` runs the earlier transport demo instead.
"""
from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from hub.apps.telework.story import add_routes, run_story, wait_delivered
from hub.apps.telework.wiring import register
from hub.bootstrap import build_hub
from hub.config import Settings
from hub.demo.run import prepare_data_dir
from hub.demo.server import BackgroundServer


def timeline(hub) -> Table:  # noqa: ANN001
    table = Table(title="every message that crossed the hub", show_lines=False)
    for column in ("#", "received (UTC)", "sender", "receiver", "service", "status", "tries", "correlation"):
        table.add_column(column, no_wrap=column != "correlation")
    cursor, n = None, 0
    while True:
        rows, cursor = hub.messages.list(limit=500, cursor=cursor)
        for m in rows:
            n += 1
            table.add_row(str(n), m.received_at.strftime("%H:%M:%S.%f")[:-3], m.sender, m.receiver, m.service,
                          m.status, str(m.attempts), m.correlation_id or "")
        if not cursor:
            return table


def run_telework_demo(*, data_dir: Path, port: int, once: bool, console: Console) -> int:
    prepare_data_dir(data_dir)
    settings = Settings(data_dir=data_dir, requeue_after_seconds=10, relay_interval_seconds=0.05)
    hub = build_hub(settings)
    server = BackgroundServer(hub, port=port).start()  # the API with its embedded delivery worker
    try:
        console.print(f"[bold]hub[/bold] listening on {server.url} (data in {data_dir.resolve()})")
        add_routes(hub)
        story = run_story(hub)
        register(hub, story.app)  # the API serves the story's cases
        for line in story.log:
            console.print(("[yellow]" if line.startswith("REFUSED") else "") + line)
        counts = wait_delivered(hub)
        console.print(timeline(hub))
        for who, exc in story.refusals:
            err = exc.errors[0]
            console.print(f"[yellow]refused[/yellow] {who}: {err.field} / {err.rule}: expected {err.message}")
        audit = story.audit.verify()
        console.print(f"audit chain: {audit.entries} entries, {'verifies' if audit.ok else 'BROKEN at ' + str(audit.first_bad)}")
        ok = set(counts) == {"delivered"} and audit.ok
        console.print("[green]every message delivered[/green]" if ok else f"[red]not all delivered: {counts}[/red]")
        if not once:
            console.print(f"serving on {server.url} (API docs at {server.url}/docs, telework at /v1/telework); "
                          "Ctrl-C stops")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                console.print("stopping")
        return 0 if ok else 1
    finally:
        server.stop()
        hub.close()
