"""Real servers for tests: reachability, gating, and throw-away databases and queues.

Tests that need PostgreSQL, RabbitMQ or MariaDB skip when the server is unreachable,
unless ``HUB_TEST_SERVICES=required`` (CI), in which case they fail.
"""
from __future__ import annotations

import atexit
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

PG_HOST, PG_PORT = os.environ.get("HUB_TEST_PG_HOST", "127.0.0.1"), 5432
AMQP_URL = os.environ.get("HUB_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
MARIADB_HOST, MARIADB_PORT = os.environ.get("HUB_TEST_MARIADB_HOST", "127.0.0.1"), 3306
ENDPOINTS = {"postgresql": (PG_HOST, PG_PORT), "rabbitmq": ("127.0.0.1", 5672), "mariadb": (MARIADB_HOST, MARIADB_PORT)}


def required() -> bool:
    return os.environ.get("HUB_TEST_SERVICES", "").lower() == "required"


def reachable(name: str) -> bool:
    host, port = ENDPOINTS[name]
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def need(*names: str) -> None:
    missing = [n for n in names if not reachable(n)]
    if missing:
        reason = f"needs {', '.join(missing)} (unreachable)"
        if required():
            pytest.fail(f"HUB_TEST_SERVICES=required but {reason}")
        pytest.skip(reason)


ADMIN_DSN = f"host={PG_HOST} port={PG_PORT} user=postgres dbname=postgres"
_migrated_template: str | None = None  # this test process's own (xdist workers each make one)


def _url(name: str) -> str:
    return f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{name}"


def _template() -> str:
    """A database migrated to the heads, made once per test process; each test's migrated
    database is a copy (CREATE DATABASE ... TEMPLATE), which costs a fraction of running the
    18 migrations again. Dropped when the process exits."""
    global _migrated_template
    if _migrated_template is None:
        import psycopg

        from hub import migrate
        from hub.db import make_engine

        name = f"hub_test_template_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        atexit.register(_drop, name)
        engine = make_engine(_url(name))
        try:
            migrate.upgrade(engine)
        finally:
            engine.dispose()  # a template must have no connections when it is copied
        _migrated_template = name
    return _migrated_template


def _drop(name: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def postgres_database(*, migrated: bool = False) -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards: empty, or with ``migrated`` the schema
    at the migration heads (as ``hub`` would leave it on first start, before any data)."""
    import psycopg

    name = f"hub_test_{uuid.uuid4().hex[:12]}"
    template = f' TEMPLATE "{_template()}"' if migrated else ""
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{template}')
    try:
        yield _url(name)
    finally:
        _drop(name)


@contextmanager
def rabbitmq_queue() -> Iterator[str]:
    """A queue name of its own on the local RabbitMQ; deleted afterwards."""
    from kombu import Connection

    name = f"hub.test.{uuid.uuid4().hex[:12]}"
    try:
        yield name
    finally:
        with Connection(AMQP_URL) as conn:
            channel = conn.channel()
            channel.queue_delete(name)
            channel.exchange_delete(name)
            channel.close()
