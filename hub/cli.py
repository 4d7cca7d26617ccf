"""The ``hub`` command: serve, worker, demo, routes, replay, db."""
from __future__ import annotations

import json
import sys
import signal
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from hub.config import Settings
from hub.errors import ConfigError, HubError

app = typer.Typer(help="Back Office interoperability hub for Thai government agencies.", no_args_is_help=True)
routes_app = typer.Typer(help="Manage routes: which adapter delivers (receiver, service).", no_args_is_help=True)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(routes_app, name="routes")
app.add_typer(db_app, name="db")
app.add_typer(__import__("hub.apps.telework.cli", fromlist=["app"]).app, name="telework")
app.add_typer(__import__("hub.adapters.cli", fromlist=["adapters_app"]).adapters_app, name="adapters")
app.add_typer(__import__("hub.sim.cli", fromlist=["sim_app"]).sim_app, name="sim")
app.add_typer(__import__("hub.standards.cli", fromlist=["app"]).app, name="standards")
app.command("bench")(__import__("hub.bench.cli", fromlist=["bench"]).bench)
__import__("hub.security.cli", fromlist=["register"]).register(app)  # layer 3: agencies, ca, audit, users, clients
# Piped into a file or a CI log, rich would squeeze tables into 80 columns.
console = Console() if sys.stdout.isatty() else Console(width=160)


def _settings(data_dir: Path | None = None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir else Settings()


DataDir = Annotated[Optional[Path], typer.Option(help="Data directory (overrides HUB_DATA_DIR).")]


def _fail(exc: HubError) -> None:
    console.print(f"[red]error:[/red] {exc.message}")
    for err in exc.errors:
        console.print(f"  - {err.field}: {err.message} ({err.rule})")
    raise typer.Exit(2)


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Listen address (HUB_HOST).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Listen port (HUB_PORT).")] = None,
    embedded_worker: Annotated[bool, typer.Option(help="Also run the relay and delivery worker.")] = True,
    data_dir: DataDir = None,
) -> None:
    """Run the HTTP API (and, by default, an embedded delivery worker)."""
    import uvicorn

    from hub.api.app import create_app
    from hub.ecms.allowlist import serving_hub
    from hub.logging_setup import configure

    settings = _settings(data_dir)
    configure(settings.log_level)
    host, port = host or settings.host, port if port is not None else settings.port
    with ExitStack() as stack:
        try:  # the e-CMS source-address listener, only if HUB_ECMS_ALLOWLIST_PORT is set (hub.ecms.allowlist)
            hub = stack.enter_context(serving_hub(settings, host=host, main_port=port))
        except ConfigError as exc:
            _fail(exc)
        api = create_app(hub, settings=settings, embedded_worker=embedded_worker)
        # proxy_headers=False: uvicorn would otherwise take the client address from
        # X-Forwarded-For sent by any local process, and the security layer decides from that
        # address whether to trust a proxy's client-certificate header (HUB_TRUSTED_PROXIES).
        uvicorn.run(api, host=host, port=port, log_level=settings.log_level.lower(), access_log=False,
                    proxy_headers=False)


@app.command()
def worker(
    concurrency: Annotated[Optional[int], typer.Option(help="Deliveries in flight (HUB_WORKER_CONCURRENCY).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Run a delivery worker process (relay + deliveries) sharing the database and broker."""
    from hub.bootstrap import build_hub
    from hub.logging_setup import configure

    settings = _settings(data_dir)
    if concurrency:
        settings = settings.model_copy(update={"worker_concurrency": concurrency})
    configure(settings.log_level)
    hub = build_hub(settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    hub.start_workers()
    console.print(f"worker running (database {settings.effective_database_url.split('@')[-1]}); Ctrl-C stops")
    stop.wait()
    hub.close()


@app.command()
def demo(
    once: Annotated[bool, typer.Option("--once", help="Exit after the summary instead of serving.")] = False,
    data_dir: Annotated[Path, typer.Option(help="Data directory the demo creates.")] = Path("hub-demo"),
    port: Annotated[int, typer.Option(help="Port of the hub's API.")] = 8000,
    transport_only: Annotated[bool, typer.Option("--transport-only", help="The transport demo (retries, none lost).")] = False,
) -> None:
    """The main job: the telework story across three agencies through the hub, with a timeline."""
    if transport_only:
        from hub.demo.run import run_demo

        raise typer.Exit(run_demo(data_dir=data_dir, port=port, once=once, console=console))
    from hub.demo.telework import run_telework_demo

    raise typer.Exit(run_telework_demo(data_dir=data_dir, port=port, once=once, console=console))


@app.command()
def replay(
    ids: Annotated[list[str], typer.Argument(help="Message ids to deliver again.")],
    data_dir: DataDir = None,
) -> None:
    """Deliver messages again (recorded in their history; originals kept)."""
    from hub.bootstrap import build_hub

    hub = build_hub(_settings(data_dir))
    try:
        for message_id in ids:
            meta = hub.messages.replay(message_id, reason="hub replay")
            console.print(f"{meta.id} -> {meta.status}")
    except HubError as exc:
        _fail(exc)
    finally:
        hub.close()


@routes_app.command("add")
def routes_add(
    receiver: Annotated[str, typer.Argument(help="Receiver party, e.g. TH/GOV/1501/hr")],
    service: Annotated[str, typer.Argument(help="Service, e.g. telework.order/v1, or '*'")],
    adapter: Annotated[str, typer.Argument(help="Adapter name, e.g. http")],
    settings_json: Annotated[str, typer.Option("--settings", help="Adapter settings as JSON.")] = "{}",
    max_attempts: Annotated[int, typer.Option(help="Attempts before dead-lettering.")] = 8,
    max_age_seconds: Annotated[float, typer.Option(help="No attempt after this age.")] = 86400.0,
    backoff_base_seconds: Annotated[float, typer.Option(help="First retry delay.")] = 1.0,
    backoff_max_seconds: Annotated[float, typer.Option(help="Largest retry delay.")] = 300.0,
    require_standard: Annotated[Optional[str], typer.Option(help="Standard messages must declare.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Add a route."""
    from pydantic import ValidationError

    from hub.schemas.validation import validation_failed
    from hub.bootstrap import build_hub
    from hub.schemas.routes import RouteIn

    try:
        settings = json.loads(settings_json)
    except json.JSONDecodeError as exc:
        console.print(f"[red]error:[/red] --settings is not valid JSON: {exc}")
        raise typer.Exit(2) from exc
    hub = build_hub(_settings(data_dir))
    try:
        route = hub.router.add(RouteIn(
            receiver=receiver, service=service, adapter=adapter, settings=settings, max_attempts=max_attempts,
            max_age_seconds=max_age_seconds, backoff_base_seconds=backoff_base_seconds,
            backoff_max_seconds=backoff_max_seconds, require_standard=require_standard,
        ))
        console.print(f"route {route.id} added: {route.receiver} {route.service} -> {route.adapter}")
    except ValidationError as exc:
        _fail(validation_failed(exc, "route"))
    except HubError as exc:
        _fail(exc)
    finally:
        hub.close()


@routes_app.command("list")
def routes_list(data_dir: DataDir = None) -> None:
    """List routes."""
    from hub.bootstrap import build_hub

    hub = build_hub(_settings(data_dir))
    try:
        table = Table("id", "receiver", "service", "adapter", "settings", "max attempts")
        for r in hub.router.list():
            table.add_row(str(r.id), r.receiver, r.service, r.adapter, json.dumps(r.settings), str(r.max_attempts))
        console.print(table)
    finally:
        hub.close()


@routes_app.command("remove")
def routes_remove(route_id: Annotated[int, typer.Argument(help="Route id (see `hub routes list`).")],
                  data_dir: DataDir = None) -> None:
    """Remove a route."""
    from hub.bootstrap import build_hub

    hub = build_hub(_settings(data_dir))
    try:
        hub.router.remove(route_id)
        console.print(f"route {route_id} removed")
    except HubError as exc:
        _fail(exc)
    finally:
        hub.close()


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision (default: every branch's head).")] = "heads",
               data_dir: DataDir = None) -> None:
    """Apply database migrations (Alembic)."""
    from hub import migrate
    from hub.db import make_engine

    settings = _settings(data_dir)
    settings.ensure_data_dir()
    engine = make_engine(settings.effective_database_url)
    migrate.upgrade(engine, revision)
    console.print(f"database at {', '.join(sorted(migrate.current_revisions(engine)))}")
    engine.dispose()


def main() -> None:
    app()
