"""Alembic environment: runs on the connection ``hub.migrate`` hands it, or on HUB_DATABASE_URL."""
from __future__ import annotations

from alembic import context

from hub import models_all  # noqa: F401  (registers every layer's tables on the metadata)
from hub.db import metadata

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from hub.config import Settings
        from hub.db import make_engine

        engine = make_engine(Settings().effective_database_url)
        with engine.connect() as conn:
            _run(conn)
        engine.dispose()
    else:
        _run(connection)


def _run(connection) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
