"""``hub db ...``: the database schema. Works on the database alone (no hub is built), so it
can run before anything else, e.g. as the one-shot migration of docker-compose.yml."""
from __future__ import annotations

from typing import Annotated

import typer

from hub.cli.common import DataDir, cli_settings, console

db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision (default: every branch's head).")] = "heads",
               data_dir: DataDir = None) -> None:
    """Apply database migrations (Alembic)."""
    from hub import migrate
    from hub.bootstrap import build_engine

    engine = build_engine(cli_settings(data_dir))
    migrate.upgrade(engine, revision)
    console.print(f"database at {', '.join(sorted(migrate.current_revisions(engine)))}")
    engine.dispose()
