"""What every ``hub`` command group shares: the console, the ``--data-dir`` option, the
error exit, JSON output, and the hub itself (``open_hub``).

Heavy imports (the hub's layers, FastAPI, SQLAlchemy models) stay inside the commands and
``open_hub`` so ``hub --help`` answers at once.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, Optional

import typer
from rich.console import Console
from rich.table import Table

from hub.config import Settings, load_settings
from hub.errors import HubError

if TYPE_CHECKING:
    from hub.bootstrap import Hub


def wide_console(width: int = 160) -> Console:
    """A console that is ``width`` columns wide when piped into a file or a CI log, where rich
    would otherwise squeeze tables into 80 columns; a terminal keeps its own width."""
    return Console() if sys.stdout.isatty() else Console(width=width)


console = wide_console()


def table(*columns: str, title: str | None = None) -> Table:
    """A table whose cells fold instead of being cut with an ellipsis: an identifier is
    copied from it whole (a message id, a subsystem id), however narrow the terminal."""
    out = Table(title=title)
    for name in columns:
        out.add_column(name, overflow="fold")
    return out

DataDir = Annotated[Optional[Path], typer.Option(help="Data directory (overrides HUB_DATA_DIR).")]


def fail(exc: HubError) -> NoReturn:
    """Print the error and each field's problem, then exit 2 (the usage/configuration code)."""
    console.print(f"[red]error:[/red] {exc.message}")
    for err in exc.errors:
        console.print(f"  - {err.field}: {err.message} ({err.rule})")
    raise typer.Exit(2)


def require_free_port(host: str, port: int) -> None:
    """Exit 2 with one line naming the port and how to choose another if ``port`` is taken,
    instead of a server's traceback (or a demo that half started)."""
    import errno
    import socket

    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As the server will bind: a port in TIME_WAIT after the last run is free to use.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                console.print(f"[red]error:[/red] cannot listen on {host}:{port}: {exc.strerror}")
                raise typer.Exit(2) from exc
            console.print(f"[red]error:[/red] port {port} on {host} is already in use (another hub, or another "
                          f"program); choose another with --port N (or HUB_PORT=N)", soft_wrap=True)
            raise typer.Exit(2) from exc


def print_json(data: Any) -> None:
    """JSON for scripts: indented, Thai text as is, no rich markup or wrapping."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def cli_settings(data_dir: Path | None = None, **values: Any) -> Settings:
    """The settings from the environment, ``--data-dir`` and ``values`` winning; a bad
    environment variable exits 2 naming it, instead of a traceback."""
    if data_dir:
        values["data_dir"] = data_dir
    try:
        return load_settings(**values)
    except HubError as exc:
        fail(exc)


def open_hub(data_dir: Path | None = None, *, settings: Settings | None = None) -> Hub:
    """The hub every command works on (built by ``hub.bootstrap``, schema migrated); close it,
    or use it as a context manager: ``with open_hub(data_dir) as hub: ...``."""
    from hub.bootstrap import build_hub

    return build_hub(settings or cli_settings(data_dir))
