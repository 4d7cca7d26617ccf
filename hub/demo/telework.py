"""``hub demo``: the telework story on the embedded default, then keeps serving.

Three agencies (CGD issues orders; the Ministry of Finance's permanent secretary office keeps
HR and finance; OPDC oversees) exchange every letter, HR record, batch and KPI report through
the hub, into their reference systems: the e-Saraban of each agency (letters over the hub's
e-CMS node, accepted with receipt numbers), the ministry's DPIS (telework days), the hub's
signed audit log (evidence), the ministry's GFMIS (the savings batch), OPDC's GSMS (the KPI
report with GFMIS's verdict) and CGD's e-Office (notices); a New Normal on-site shift (seed 003)
runs next to the off-site cases. The demo prints the
story, each refusal with its reason, where each artefact landed, and a timeline of every
message that crossed the hub. ``--transport-only`` runs the earlier transport demo instead.
"""
from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from rich.console import Console
from rich.table import Table

from hub.apps.telework.story import StoryResult, run_story, wait_delivered, wait_letters_accepted
from hub.bootstrap import build_hub
from hub.config import Settings
from hub.demo.portal import run_portal_scene
from hub.demo.run import prepare_data_dir
from hub.demo.server import BackgroundServer, serve_until_interrupted


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


def landings(story: StoryResult) -> Table:
    """Where each artefact landed, read back from the system that holds it."""
    from sqlalchemy import create_engine, func, select

    from hub.adapters.dpis.schema import per_time_attendance
    from hub.apps.telework import pilot

    table = Table(title="where the artefacts landed")
    for column in ("artefact", "system", "record"):
        table.add_column(column)
    cases = [story.app.ports.store.get_case(cid) for cid in [*story.cases.values(), *filter(None, [story.onsite])]]
    books = [c.book_number for c in cases] + [c.revocation["book_number"] for c in cases if c.revocation]
    status = wait_letters_accepted(story.systems, books)
    for agency in (pilot.MOF, pilot.OPDC):
        code = pilot.ECMS_DEPARTMENTS[agency][0]
        for row in story.systems.office(agency).incoming_letters():
            accepted = status.get(row["letter_id"], {}).get(code, {}).get("accept_id")
            table.add_row(f"letter {row['letter_id']}", f"e-Saraban {agency}",
                          f"receipt {row['receipt_no']} ({row['status']}; sender sees AcceptID {accepted})")
    engine = create_engine(story.systems.dpis_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(func.count()).select_from(per_time_attendance)).scalar_one()
    finally:
        engine.dispose()
    table.add_row("check-in/out given (evidence only)", f"DPIS {pilot.MOF}", f"{rows} PER_TIME_ATTENDANCE rows")
    if story.batch is not None:
        table.add_row(f"savings batch {story.savings['finance_batch_ref'][:8]}", f"GFMIS {pilot.MOF}",
                      f"{story.batch.status} (message status {story.batch.detail.get('status')})")
    from hub.apps.telework.hub_ports import KPI, NOTICE
    from hub.apps.telework.wiring import EOFFICE_ROUTE, GSMS_ROUTE
    from hub.sim import eoffice as eoffice_sim, gsms as gsms_sim

    for record in gsms_sim.reports(story.systems.reference_url(GSMS_ROUTE, KPI)):
        table.add_row(f"KPI report {record['report_ref']}", f"GSMS {pilot.OPDC}",
                      f"GFMIS verdict {record['gfmis_verdict']}, {len(record['document']['kpis'])} KPIs "
                      f"({len(record['messages'])} messages)")
    inbox = eoffice_sim.inbox(story.systems.reference_url(EOFFICE_ROUTE, NOTICE))
    table.add_row("notices to supervisors and the head", f"e-Office {pilot.CGD}",
                  f"{len(inbox)} inbox items for {len({i['to_citizen_id'] for i in inbox})} officials")
    if story.onsite:
        days = story.app.service.evidence_status(story.onsite)["days"]
        flagged = sum(1 for d in days if d["status"] == "flagged")
        table.add_row("New Normal on-site shift (seed 003)", "telework evidence",
                      f"{len(days)} days, {flagged} flagged against the 07:00-15:00 pattern")
    return table


def run_telework_demo(*, data_dir: Path, port: int, once: bool, console: Console) -> int:
    prepare_data_dir(data_dir)
    settings = Settings(data_dir=data_dir, requeue_after_seconds=10, relay_interval_seconds=0.05)
    hub = build_hub(settings)
    server = BackgroundServer(hub, port=port).start()  # the API with its embedded delivery worker
    stack = ExitStack()
    try:
        console.print(f"[bold]hub[/bold] listening on {server.url} (data in {data_dir.resolve()})")
        story = run_story(hub, f"{server.url}/ecms/service2")
        stack.callback(story.systems.close)
        hub.telework.use(story.app)  # the API serves the story's cases
        for line in story.log:
            console.print(("[yellow]" if line.startswith("REFUSED") else "") + line)
        counts = wait_delivered(hub)
        console.print(landings(story))
        console.print(timeline(hub))
        for who, exc in story.refusals:
            err = exc.errors[0]
            console.print(f"[yellow]refused[/yellow] {who}: {err.field} / {err.rule}: expected {err.message}")
        portal = run_portal_scene(hub, server.url, story, console)  # issue 15: consent, record, data tracker
        hub.security.audit.seal()  # sign the evidence entries now rather than at the next batch of entries
        audit = hub.security.audit.verify()  # what `hub audit verify` checks
        console.print(f"audit log: {audit.entries} entries, {audit.seals} seal(s), "
                      f"{'verifies' if audit.ok else 'BROKEN at ' + str(audit.first_bad_seq) + ': ' + str(audit.problem)}")
        finance_ok = story.batch is not None and story.batch.status == "accepted"
        ok = counts.get("dead", 0) == 0 and audit.ok and finance_ok and portal.ok
        console.print("[green]every message delivered; GFMIS accepted the batch[/green]" if ok
                      else f"[red]not all landed: {counts}; GFMIS {story.batch}[/red]")
        if not once:
            serve_until_interrupted(
                console, f"serving on {server.url} (API docs at {server.url}/docs, telework at /v1/telework)",
                hub=hub, url=server.url)
        return 0 if ok else 1
    finally:
        stack.close()  # the e-Saraban clerks stop before the node they poll
        server.stop()
        hub.close()
