"""The two backends the bench compares: embedded (SQLite + kombu SQLAlchemy broker) and
PostgreSQL + RabbitMQ. Each scenario gets a fresh, empty database and queue."""
from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass
class BackendEnv:
    data_dir: Path
    database_url: str
    broker_url: str
    queue_name: str

    def environ(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        env.update({"HUB_DATA_DIR": str(self.data_dir), "HUB_DATABASE_URL": self.database_url,
                    "HUB_BROKER_URL": self.broker_url, "HUB_QUEUE_NAME": self.queue_name,
                    "HUB_LOG_LEVEL": "WARNING", **extra})
        return env


class Embedded:
    name = "embedded"

    def unavailable(self) -> str | None:
        return None

    @contextmanager
    def fresh(self, root: Path) -> Iterator[BackendEnv]:
        data_dir = Path(tempfile.mkdtemp(prefix="embedded-", dir=root))
        yield BackendEnv(data_dir, f"sqlite:///{data_dir / 'hub.sqlite3'}",
                         f"sqla+sqlite:///{data_dir / 'broker.sqlite3'}", "hub.deliver")


class Services:
    name = "postgres+rabbitmq"

    def __init__(self, pg_admin_dsn: str, amqp_url: str) -> None:
        self.pg_admin_dsn = pg_admin_dsn
        self.amqp_url = amqp_url

    def unavailable(self) -> str | None:
        try:
            import psycopg

            with psycopg.connect(self.pg_admin_dsn, connect_timeout=2):
                pass
        except Exception as exc:  # any failure means: skip this backend, and say why
            return f"PostgreSQL unreachable ({type(exc).__name__})"
        from kombu import Connection

        try:
            with Connection(self.amqp_url, connect_timeout=2) as conn:
                conn.ensure_connection(max_retries=1)
        except Exception as exc:
            return f"RabbitMQ unreachable ({type(exc).__name__})"
        return None

    @contextmanager
    def fresh(self, root: Path) -> Iterator[BackendEnv]:
        import psycopg
        from kombu import Connection

        name = f"hub_bench_{uuid.uuid4().hex[:10]}"
        queue = f"hub.bench.{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.pg_admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        info = psycopg.conninfo.conninfo_to_dict(self.pg_admin_dsn)
        url = (f"postgresql+psycopg://{info.get('user', 'postgres')}@{info.get('host', '127.0.0.1')}:"
               f"{info.get('port', 5432)}/{name}")
        data_dir = Path(tempfile.mkdtemp(prefix="services-", dir=root))
        try:
            yield BackendEnv(data_dir, url, self.amqp_url, queue)
        finally:
            with psycopg.connect(self.pg_admin_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            with Connection(self.amqp_url) as conn:
                channel = conn.channel()
                channel.queue_delete(queue)
                channel.exchange_delete(queue)
                channel.close()
