"""``insert_rows`` on SQLite (multi-row statements, parameters converted by the columns' own
bind processors) stores exactly what SQLAlchemy's executemany stores, in list order, for any
number of rows."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import JSON, Column, DateTime, Integer, LargeBinary, MetaData, String, Table, insert
from sqlalchemy.exc import IntegrityError

from hub.db import execute_on_driver, insert_rows, make_engine, power_of_two_chunks

meta = MetaData()


def table(name: str) -> Table:
    return Table(name, meta, Column("id", Integer, primary_key=True, autoincrement=True),
                 Column("at", DateTime(timezone=True), nullable=False), Column("kind", String(20)),
                 Column("detail", JSON), Column("body", LargeBinary))


MULTI, MANY = table("multi"), table("many")


@pytest.mark.parametrize("count", [1, 7, 300])
def test_rows_are_stored_as_executemany_stores_them(tmp_path: Path, count: int) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'rows.db'}", sqlite_synchronous="NORMAL")
    meta.create_all(engine)
    start = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)
    rows = [{"at": start + timedelta(microseconds=7 * i), "kind": f"k{i}",
             "detail": None if i % 3 == 0 else {"n": i, "ชื่อ": "ทดสอบ"},
             "body": None if i % 4 == 0 else bytes([i % 256]) * (i + 1)} for i in range(count)]
    with engine.begin() as conn:
        insert_rows(conn, MULTI, rows)
        conn.execute(insert(MANY), rows)
    with engine.connect() as conn:
        multi = conn.exec_driver_sql("SELECT id, at, kind, detail, body FROM multi ORDER BY id").all()
        many = conn.exec_driver_sql("SELECT id, at, kind, detail, body FROM many ORDER BY id").all()
    assert multi == many
    assert [r.kind for r in multi] == [f"k{i}" for i in range(count)]  # ids follow the list's order
    engine.dispose()


def test_no_rows_is_no_statement(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'rows.db'}", sqlite_synchronous="NORMAL")
    with engine.begin() as conn:
        insert_rows(conn, MULTI, [])  # the table does not even exist
    engine.dispose()


def test_a_driver_error_is_raised_as_sqlalchemys_and_rolls_the_transaction_back(tmp_path: Path) -> None:
    """The accept path tells a re-posted id from other failures by SQLAlchemy's IntegrityError:
    a row stored on the driver's connection directly must fail the same way, and leave the
    transaction's earlier rows uncommitted."""
    engine = make_engine(f"sqlite:///{tmp_path / 'rows.db'}", sqlite_synchronous="NORMAL")
    meta.create_all(engine)
    at = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)
    with engine.begin() as conn:
        insert_rows(conn, MULTI, [{"id": 1, "at": at, "kind": "first", "detail": None, "body": None}])
    with pytest.raises(IntegrityError) as raised, engine.begin() as conn:
        insert_rows(conn, MULTI, [{"id": 2, "at": at, "kind": "second", "detail": None, "body": None}])
        execute_on_driver(conn, "INSERT INTO multi (id, at) VALUES (?, ?)", (1, "2026-11-30 04:00:00"))
    assert "UNIQUE constraint failed: multi.id" in str(raised.value.orig)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT id, kind FROM multi ORDER BY id").all() == [(1, "first")]


def test_power_of_two_chunks_cover_every_item_once() -> None:
    for count in (0, 1, 2, 3, 23, 512, 513, 1500):
        chunks = list(power_of_two_chunks(count, 512))
        assert [start for start, _ in chunks] == [sum(n for _, n in chunks[:i]) for i in range(len(chunks))]
        assert sum(n for _, n in chunks) == count
        assert all(n & (n - 1) == 0 and n <= 512 for _, n in chunks)
