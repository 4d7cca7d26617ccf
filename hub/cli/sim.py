"""``hub sim ...``: run the reference legacy systems: an agency's e-Saraban, a DPIS-style HR
database, and the GFMIS drop-folder processor."""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

sim_app = typer.Typer(help="Reference legacy systems for demos and tests.", no_args_is_help=True)
esaraban_app = typer.Typer(help="A reference agency e-Saraban talking e-CMS SOAP to a node.", no_args_is_help=True)
sim_app.add_typer(esaraban_app, name="esaraban")

Home = Annotated[Path, typer.Option(help="The simulator's own folder (SQLite registry, files).")]
Node = Annotated[str, typer.Option(help="e-CMS node URL, e.g. http://127.0.0.1:8000/ecms/service2")]
Dept = Annotated[str, typer.Option(help="This agency's department code, e.g. 0401")]
Ministry = Annotated[str, typer.Option(help="This agency's ministry code, e.g. 0400")]
Prefix = Annotated[str, typer.Option(help="Book-number prefix, e.g. 'กค 0401'")]
Secret = Annotated[str, typer.Option(envvar="ESARABAN_SECRET", help="Department secret (UsernameToken).")]


@contextmanager
def _esaraban(home: Path, node: str, department: str, ministry: str, prefix: str, secret: str):  # noqa: ANN202
    """The simulator, closed afterwards; a refusal or an unreachable node is one line with
    the reason and exit 1, not a traceback."""
    import requests

    from hub.adapters.ecms.client.soapclient import EcmsClientError
    from hub.sim.esaraban import Esaraban

    sim = None
    try:
        sim = Esaraban(home, node, department=department, ministry=ministry, prefix=prefix,
                       username=department, password=secret)
        yield sim
    except EcmsClientError as exc:
        typer.echo(f"error: the e-CMS node at {node} refused: {exc.code} {exc.description}", err=True)
        raise typer.Exit(1) from None
    except (requests.RequestException, OSError) as exc:
        typer.echo(f"error: cannot use the e-CMS node at {node}: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        if sim is not None:
            sim.close()


@esaraban_app.command("send")
def send(home: Home, node: Node, department: Dept, ministry: Ministry, prefix: Prefix, secret: Secret,
         to_ministry: Annotated[str, typer.Option(help="Receiving ministry code.")],
         to_department: Annotated[str, typer.Option(help="Receiving department code.")],
         subject: Annotated[str, typer.Option(help="Subject (เรื่อง).")],
         letter: Annotated[Path, typer.Option(help="The letter as PDF.")],
         attach: Annotated[list[Path], typer.Option(help="Attachments (repeatable).")] = [],  # noqa: B006
         secret_code: Annotated[str, typer.Option(help="001-004")] = "001",
         speed_code: Annotated[str, typer.Option(help="001-004")] = "001") -> None:
    """Number and send a letter with its attachments."""
    from hub.sim.esaraban import File

    with _esaraban(home, node, department, ministry, prefix, secret) as sim:
        files = [File(p.name, "application/pdf", p.read_bytes()) for p in attach]
        book_no = sim.send_letter(to_ministry, to_department, subject, File(letter.name, "application/pdf",
                                  letter.read_bytes()), files, secret=secret_code, speed=speed_code)
        typer.echo(f"sent {book_no}")


@esaraban_app.command("poll")
def poll(home: Home, node: Node, department: Dept, ministry: Ministry, prefix: Prefix, secret: Secret,
         accept: Annotated[bool, typer.Option(help="Acknowledge and accept every letter received.")] = True) -> None:
    """Read the queue until empty; receive letters (with receipt numbers) and notifiers."""
    with _esaraban(home, node, department, ministry, prefix, secret) as sim:
        letters, notices = sim.poll()
        for letter in letters:
            if accept:
                sim.acknowledge(letter)
                sim.accept(letter)
            typer.echo(f"letter {letter.letter_id} from {letter.from_department}: receipt {letter.receipt_no}")
        for notice in notices:
            typer.echo(f"{notice.kind} for {notice.letter_id}" + (f" ({notice.accept_id})" if notice.accept_id else ""))


@sim_app.command("dpis")
def dpis(
    url: Annotated[str, typer.Option(help="SQLAlchemy URL, e.g. sqlite:///dpis.sqlite3 or "
                                          "mysql+pymysql://root@127.0.0.1/dpis")] = "sqlite:///dpis.sqlite3",
    people: Annotated[int, typer.Option(help="Staff to create besides the heads.")] = 60,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 2568,
    reset: Annotated[bool, typer.Option(help="Drop the DPIS tables first.")] = False,
) -> None:
    """Create a DPIS-style HR database with realistic seed data (Thai text stored as cp874)."""
    from hub.db import make_engine
    from hub.sim import dpis as sim

    engine = make_engine(url)
    try:
        sim.create_schema(engine, reset=reset)
        summary = sim.seed(engine, people=people, seed=seed)
    finally:
        engine.dispose()
    typer.echo(f"DPIS ready: {summary.orgs} org units, {summary.positions} positions, {summary.people} people "
               f"(heads: {', '.join(f'{org}->{per}' for org, per in summary.heads.items())})")


@sim_app.command("gfmis")
def gfmis(
    drop: Annotated[Path, typer.Option(help="Drop folder root (outbound/, archive/, results/).")] = Path("gfmis-drop"),
    agency: Annotated[list[str], typer.Option(help="Agency code GFMIS knows (repeatable).")] = [  # noqa: B006
        "03008", "03004", "01009", "01008"],
    interval: Annotated[float, typer.Option(help="Seconds between looks at the drop folder.")] = 1.0,
    once: Annotated[bool, typer.Option("--once", help="Answer what is waiting, then exit.")] = False,
) -> None:
    """Watch the drop folder, validate batch files, write a result file per input."""
    from hub.logging_setup import configure
    from hub.sim.gfmis import GfmisSimulator

    configure("INFO")
    sim = GfmisSimulator(drop, agencies={code: None for code in agency})
    if once:
        for result in sim.process_once():
            typer.echo(f"{result.source_file}: {result.file_status} {len(result.accepted)} accepted, "
                       f"{len(result.rejected)} rejected")
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    typer.echo(f"reference GFMIS watching {drop}/outbound; Ctrl-C stops")
    sim.run(stop, interval)



@sim_app.command("gsms")
def gsms(url: Annotated[str, typer.Option(help="SQLAlchemy URL of the GSMS database")] = "sqlite:///gsms.sqlite3",
         show: Annotated[bool, typer.Option("--show", help="Print the KPI reports it holds.")] = False) -> None:
    """Create the reference GSMS database (KPI reports with their GFMIS verdict); route
    ``{agency}/gsms`` to it with the ``gsms`` adapter and settings {"url": ...}."""
    from hub.sim import gsms as sim

    sim.create_schema(url)
    held = sim.reports(url)
    typer.echo(f"GSMS ready: {len(held)} KPI reports")
    if show:
        for r in held:
            kpis = ", ".join(f"{k['kpi']}={k['value']}" for k in r["document"]["kpis"])
            typer.echo(f"{r['report_ref']} {r['agency']} FY{r['fiscal_year']} GFMIS {r['gfmis_verdict']}: {kpis}")


@sim_app.command("eoffice")
def eoffice(url: Annotated[str, typer.Option(help="SQLAlchemy URL of the e-Office database")] = "sqlite:///eoffice.sqlite3",
            to: Annotated[str | None, typer.Option(help="Show the inbox of this citizen ID.")] = None) -> None:
    """Create the reference e-Office database (officials' inboxes); route ``{agency}/eoffice``
    to it with the ``eoffice`` adapter and settings {"url": ...}."""
    from hub.sim import eoffice as sim

    sim.create_schema(url)
    items = sim.inbox(url, to)
    typer.echo(f"e-Office ready: {len(items)} inbox items" + (f" for {to}" if to else ""))
    if to:
        for item in items:
            typer.echo(f"{item['received_at']} {item['subject']}: {item['body'].get('message', '')}")
