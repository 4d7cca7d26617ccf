"""Throw-away DPIS-style databases (SQLite file or a MariaDB database of its own) for tests."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support import services

DPIS_BACKENDS = ["sqlite", pytest.param("mariadb", marks=pytest.mark.services)]


@contextmanager
def dpis_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """A SQLAlchemy URL of an empty database; a MariaDB one is dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'dpis.sqlite3'}"
        return
    services.need("mariadb")
    import pymysql

    name = f"hub_dpis_{uuid.uuid4().hex[:12]}"
    admin = dict(host=services.MARIADB_HOST, port=services.MARIADB_PORT, user="root", autocommit=True)
    # latin1, as many old DPIS installations are: the cp874 bytes live in binary columns anyway.
    with pymysql.connect(**admin) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET latin1")
    try:
        yield f"mysql+pymysql://root@{services.MARIADB_HOST}:{services.MARIADB_PORT}/{name}?charset=utf8mb4"
    finally:
        with pymysql.connect(**admin) as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
