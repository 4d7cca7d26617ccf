"""Schema migrations with Alembic, driven from code (``hub db upgrade``, start-up of ``hub serve``)."""
from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

# Any fixed number: the advisory lock that serialises concurrent upgrades on PostgreSQL.
MIGRATION_LOCK = 0x6875625F6D6967  # "hub_mig"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "hub:migrations")
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Each subsystem keeps its tables on its own Alembic branch off ``0001``; ``heads`` applies all."""
    cfg = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Several processes starting at once (``hub serve --workers N``, worker replicas)
            # would each create the same tables; the lock makes the later ones wait and then
            # find the schema current. DDL is transactional there, so the lock holds to commit.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def is_current(engine: Engine) -> bool:
    return current_revisions(engine) == head_revisions()
