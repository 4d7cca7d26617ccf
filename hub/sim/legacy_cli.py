"""``hub sim dpis`` and ``hub sim gfmis``: the reference DPIS database and GFMIS drop-folder processor."""
from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer


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


def register(sim_app: typer.Typer) -> None:
    sim_app.command("dpis")(dpis)
    sim_app.command("gfmis")(gfmis)
