"""Real servers for tests: reachability, gating, and throw-away databases and queues.

Tests that need PostgreSQL, RabbitMQ or MariaDB skip when the server is unreachable,
unless ``HUB_TEST_SERVICES=required`` (CI), in which case they fail.
"""
from __future__ import annotations

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


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database; dropped afterwards."""
    import psycopg

    name = f"hub_test_{uuid.uuid4().hex[:12]}"
    admin = f"host={PG_HOST} port={PG_PORT} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
