"""Write transactions on one SQLite engine take turns on a lock within the process (waking
the next writer when the lock is released) instead of SQLite's busy handler, which sleeps
and retries with a growing back-off; the lock is given back however a transaction ends."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from hub.db import make_engine, reading


@pytest.fixture
def engine(tmp_path: Path):  # noqa: ANN201
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.db'}", sqlite_synchronous="NORMAL")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    yield engine
    engine.dispose()


def turn(engine) -> threading.Lock:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.connection.dbapi_connection.turn


def test_a_write_transaction_holds_the_turn_until_it_commits(engine) -> None:  # noqa: ANN001
    lock = turn(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t (id, v) VALUES (1, 'a')"))
        assert lock.locked()
    assert not lock.locked()
    with reading(engine).begin() as conn:  # a reader takes no turn: it waits for no writer
        assert conn.execute(text("SELECT v FROM t")).scalar_one() == "a"
        assert not lock.locked()


def test_the_turn_is_given_back_after_a_rollback_and_a_failed_statement(engine) -> None:  # noqa: ANN001
    lock = turn(engine)
    with engine.connect() as conn:
        tx = conn.begin()
        conn.execute(text("INSERT INTO t (id, v) VALUES (1, 'a')"))
        tx.rollback()
    assert not lock.locked()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t (id, v) VALUES (1, 'a')"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("INSERT INTO t (id, v) VALUES (1, 'again')"))
    assert not lock.locked()
    with engine.begin() as conn:  # and the next writer gets it
        conn.execute(text("INSERT INTO t (id, v) VALUES (2, 'b')"))
    assert not lock.locked()


def test_the_turn_is_given_back_when_the_connection_is_dropped_in_a_transaction(engine) -> None:  # noqa: ANN001
    lock = turn(engine)
    conn = engine.connect()
    conn.begin()
    conn.execute(text("INSERT INTO t (id, v) VALUES (1, 'a')"))
    conn.invalidate()  # closes the DBAPI connection mid-transaction
    conn.close()
    assert not lock.locked()
    with engine.begin() as other:
        other.execute(text("INSERT INTO t (id, v) VALUES (1, 'b')"))


def test_a_second_writer_waits_for_the_first_and_then_commits(engine) -> None:  # noqa: ANN001
    began, done = threading.Event(), []

    def second() -> None:
        with engine.begin() as conn:
            began.set()
            conn.execute(text("INSERT INTO t (id, v) VALUES (2, 'second')"))
        done.append(True)

    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t (id, v) VALUES (1, 'first')"))
        writer = threading.Thread(target=second)
        writer.start()
        assert not began.wait(0.2)  # it has not begun while the first transaction is open
    writer.join(10)
    assert done == [True]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT v FROM t ORDER BY id")).scalars().all() == ["first", "second"]
