"""``hub serve``, ``hub worker``, ``hub demo``: run the hub."""
from __future__ import annotations

import signal
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from hub.cli.common import DataDir, cli_settings, console, fail, open_hub, require_free_port
from hub.errors import ConfigError

if TYPE_CHECKING:
    from hub.config import Settings


def serve(
    host: Annotated[Optional[str], typer.Option(help="Listen address (HUB_HOST).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Listen port (HUB_PORT).")] = None,
    embedded_worker: Annotated[bool, typer.Option(help="Also run the relay and delivery worker.")] = True,
    data_dir: DataDir = None,
    workers: Annotated[int, typer.Option(min=1, help="API processes sharing the port, each with its own hub "
                                                      "(group commit, and embedded worker unless turned off).")] = 1,
) -> None:
    """Run the HTTP API (and, by default, an embedded delivery worker)."""
    from hub.api.app import create_app
    from hub.api.allowlist import serving_hub
    from hub.api.serving import serve_quietly, uvicorn_options
    from hub.logging_setup import configure

    from hub.security.memory import return_large_blocks_to_os

    settings = cli_settings(data_dir)
    configure(settings.log_level, json=settings.log_format == "json")
    return_large_blocks_to_os()  # argon2's blocks leave the process when freed (hub.security.memory)
    host, port = host or settings.host, port if port is not None else settings.port
    require_free_port(host, port)
    if workers > 1:
        _serve_processes(settings, host, port, workers, embedded_worker, data_dir)
        return
    with ExitStack() as stack:
        try:  # the e-CMS source-address listener, only if HUB_ECMS_ALLOWLIST_PORT is set (hub.api.allowlist)
            hub = stack.enter_context(serving_hub(settings, host=host, main_port=port))
        except ConfigError as exc:
            fail(exc)
        # Without that listener the API builds the hub from these settings in its lifespan.
        api = create_app(hub, settings=settings, embedded_worker=embedded_worker, freeze_gc=True)
        # proxy_headers=False: uvicorn would otherwise take the client address from
        # X-Forwarded-For sent by any local process, and the security layer decides from that
        # address whether to trust a proxy's client-certificate header (HUB_TRUSTED_PROXIES).
        # Header and body deadlines, keep-alive and header-size limits: hub.api.serving.
        serve_quietly(api, host=host, port=port, log_level=settings.log_level.lower(), access_log=False,
                      proxy_headers=False, **uvicorn_options(settings))


def _serve_processes(settings: Settings, host: str, port: int, workers: int, embedded_worker: bool,
                     data_dir: Path | None) -> None:
    """uvicorn's own process manager: one listening socket, ``workers`` processes, each building
    its hub from the environment (a worker that dies is replaced). Every process commits its own
    accepts; the outbox, the conditional claims and the audit chain's head lock make them safe
    to run side by side on one database."""
    import os

    import uvicorn

    from hub.api.serving import SettingsHeaderDeadline, uvicorn_options

    if settings.ecms.allowlist_port is not None:
        fail(ConfigError("hub serve --workers N: the e-CMS allow-list listener (HUB_ECMS_ALLOWLIST_PORT) runs "
                         "in one process only; run it with --workers 1"))
    if data_dir:  # the worker processes read their settings from the environment
        os.environ["HUB_DATA_DIR"] = str(data_dir)
    factory = "hub.cli.server:api_with_worker" if embedded_worker else "hub.cli.server:api_only"
    options = uvicorn_options(settings) | {"http": SettingsHeaderDeadline}
    uvicorn.run(factory, factory=True, workers=workers, host=host, port=port, log_level=settings.log_level.lower(),
                access_log=False, proxy_headers=False, **options)


def _api_process(embedded_worker: bool):  # noqa: ANN202  (a FastAPI app)
    from hub.api.app import create_app
    from hub.api.serving import SettingsHeaderDeadline
    from hub.logging_setup import configure
    from hub.security.memory import return_large_blocks_to_os

    settings = cli_settings()
    configure(settings.log_level, json=settings.log_format == "json")
    return_large_blocks_to_os()
    SettingsHeaderDeadline.header_timeout = settings.header_timeout_seconds
    return create_app(None, settings=settings, embedded_worker=embedded_worker, freeze_gc=True)


def api_with_worker():  # noqa: ANN201
    """The app of one ``hub serve --workers N`` process, with its embedded delivery worker."""
    return _api_process(True)


def api_only():  # noqa: ANN201
    """The app of one ``hub serve --workers N --no-embedded-worker`` process."""
    return _api_process(False)


def worker(
    concurrency: Annotated[Optional[int], typer.Option(help="Deliveries in flight (HUB_WORKER_CONCURRENCY).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Run a delivery worker process (relay + deliveries) sharing the database and broker."""
    from hub.logging_setup import configure

    settings = cli_settings(data_dir)
    if concurrency:
        settings = settings.model_copy(update={"worker_concurrency": concurrency})
    configure(settings.log_level, json=settings.log_format == "json")
    hub = open_hub(settings=settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    hub.start_workers()
    console.print(f"worker running (database {settings.effective_database_url.split('@')[-1]}); Ctrl-C stops")
    stop.wait()
    hub.close()


def demo(
    once: Annotated[bool, typer.Option("--once", help="Exit after the summary instead of serving.")] = False,
    data_dir: Annotated[Path, typer.Option(help="Data directory the demo creates.")] = Path("hub-demo"),
    port: Annotated[int, typer.Option(help="Port of the hub's API.")] = 8000,
    transport_only: Annotated[bool, typer.Option("--transport-only", help="The transport demo (retries, none lost).")] = False,
    events: Annotated[bool, typer.Option("--events", help="Tell Us Once (webhook + AMQP) and a one-stop application.")] = False,
) -> None:
    """The main job: the telework story across three agencies through the hub, with a timeline."""
    require_free_port("127.0.0.1", port)
    if events:
        from hub.demo.events import run_events_demo

        raise typer.Exit(run_events_demo(data_dir=data_dir, port=port, once=once, console=console))
    if transport_only:
        from hub.demo.run import run_demo

        raise typer.Exit(run_demo(data_dir=data_dir, port=port, once=once, console=console))
    from hub.demo.telework import run_telework_demo

    raise typer.Exit(run_telework_demo(data_dir=data_dir, port=port, once=once, console=console))
