"""Database engine and schema metadata shared by every layer's tables.

SQLite gets WAL (readers never block the writer) and a busy timeout so that the API, the
relay and several worker processes can share one file; the hub's engine checkpoints the WAL
from a thread of its own rather than in a writer's COMMIT (``hub.wal_checkpoints``). On PostgreSQL, ``pipelined`` runs a
transaction in psycopg's pipeline mode for the hot paths that must not wait on one round
trip per statement (the accept batch, the audit append).
"""
from __future__ import annotations

import logging
import sqlite3
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, MetaData, Table, create_engine, event, insert
from sqlalchemy.exc import DBAPIError

from hub.wal_checkpoints import WalCheckpointer, WalCheckpoints

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


READ_ONLY = "hub_read_only"
log = logging.getLogger(__name__)


def reading(engine: Engine) -> Engine:
    """``engine`` for transactions that only read (they must not write: on SQLite a write in
    one could fail at once with "database is locked" instead of waiting its turn).

    On SQLite every other transaction begins IMMEDIATE, taking the database's one write lock
    for its whole length, so a read queued behind the group commit's writes and then held
    them up in turn; busy waits back off by up to 100 ms a try, and a cache's re-read on the
    accept path took seconds under load. In WAL mode a deferred reader waits for no one.
    Other databases ignore the option.
    """
    return engine.execution_options(**{READ_ONLY: True})


BUSY_TIMEOUT_SECONDS = 30.0


class _TurnTakingConnection(sqlite3.Connection):
    """A pysqlite connection whose write transactions take turns, within the process, on a
    lock shared by its engine's connections, held from ``BEGIN IMMEDIATE`` to the end of the
    transaction.

    SQLite itself makes a writer that finds the database locked sleep and retry, backing off
    1, 2, 5, 10 ... 100 ms a try: the accept batch's ``BEGIN IMMEDIATE`` behind a transaction
    of the relay or the audit feed that held the lock for a millisecond slept 3 ms or more (the
    accept tail: one batch in twenty waited over 8 ms, one in a hundred over 100 ms, in an
    in-process timing). Waiting on a lock instead wakes the next writer when the lock is
    released. Other processes sharing the file still meet SQLite's busy handling.
    """

    turn: threading.Lock | None = None
    checkpointer: WalCheckpointer | None = None  # copies the WAL back (autocheckpoint is off)
    _holding = False
    _changes_seen = 0

    def take_turn(self) -> None:
        # A thread that already holds the turn on another connection (a write inside a write)
        # would wait for itself: after the busy timeout it goes on, and SQLite answers as before.
        if self.turn is not None and not self._holding:
            self._holding = self.turn.acquire(timeout=BUSY_TIMEOUT_SECONDS)

    def end_turn(self, *, closed: bool = False) -> None:
        # A closed connection is in no transaction (and can no longer be asked).
        if self._holding and (closed or not self.in_transaction):
            self._holding = False
            self.turn.release()  # type: ignore[union-attr]

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.end_turn()  # a failed COMMIT keeps the transaction, and the turn, until its rollback
        if self.checkpointer is not None:
            changes = self.total_changes
            if changes != self._changes_seen:  # reads, and writes that changed nothing, add no frames
                self._changes_seen = changes
                self.checkpointer.wrote()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.end_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.end_turn(closed=True)


def make_engine(url: str, *, sqlite_synchronous: str = "FULL", pool_size: int = 10,
                checkpoints: WalCheckpoints | None = None) -> Engine:
    """An engine for ``url``. On an SQLite file, ``checkpoints``: the engine's connections do
    not checkpoint the write-ahead log in their COMMITs; a thread of the engine's does
    (``hub.wal_checkpoints``), stopped by ``close_checkpointer``."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False, "isolation_level": None,
                          "factory": _TurnTakingConnection},
            pool_size=pool_size,
            max_overflow=pool_size,
            # The most recently returned connection first: its page cache is the warmest.
            pool_use_lifo=True,
        )
        turn = threading.Lock()
        path = engine.url.database
        checkpointer = None
        if checkpoints is not None and path and path != ":memory:" and engine.url.query.get("mode") != "memory":
            checkpointer = WalCheckpointer(path, turn, checkpoints, busy_timeout=BUSY_TIMEOUT_SECONDS,
                                           synchronous=sqlite_synchronous)
            _checkpointers[engine] = checkpointer

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001
            dbapi_conn.turn = turn
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={sqlite_synchronous}")
            cur.execute("PRAGMA foreign_keys=ON")
            # A connection made after close_checkpointer (an engine used on) checkpoints itself.
            if checkpointer is not None and checkpointer.running:
                dbapi_conn.checkpointer = checkpointer
                cur.execute("PRAGMA wal_autocheckpoint=0")
                cur.execute(f"PRAGMA journal_size_limit={int(checkpoints.size_limit_bytes)}")
            cur.close()

        # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; take
        # control so every SQLAlchemy transaction is a real BEGIN IMMEDIATE..COMMIT, except
        # those of ``reading``: a plain (deferred) BEGIN, which in WAL mode takes no lock.
        @event.listens_for(engine, "begin")
        def _begin(conn):  # noqa: ANN001
            # On the driver directly (``execute_on_driver``): every transaction begins here.
            if conn.get_execution_options().get(READ_ONLY):
                execute_on_driver(conn, "BEGIN")
                return
            dbapi_conn = conn.connection.dbapi_connection
            dbapi_conn.take_turn()
            try:
                execute_on_driver(conn, "BEGIN IMMEDIATE")
            except BaseException:
                dbapi_conn.end_turn()
                raise

        return engine
    # No pre-ping: it costs a round trip on every checkout. Stale connections are recycled
    # instead, and a transaction that fails on a dead connection is retried by its caller
    # (the relay and worker loops, the client's re-post).
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)
    if engine.dialect.driver == "psycopg":

        @event.listens_for(engine, "connect")
        def _binary_bytea(dbapi_conn, _record):  # noqa: ANN001
            # psycopg sends bytes as escaped hex text by default: a payload would travel (and
            # sit in memory) at twice its size. Binary parameters send it as it is.
            from psycopg.types.string import BytesBinaryDumper

            dbapi_conn.adapters.register_dumper(bytes, BytesBinaryDumper)

    return engine


_checkpointers: weakref.WeakKeyDictionary[Engine, WalCheckpointer] = weakref.WeakKeyDictionary()


def checkpointer(engine: Engine) -> WalCheckpointer | None:
    """The thread checkpointing ``engine``'s SQLite file, if it was made with ``checkpoints``."""
    return _checkpointers.get(engine)


def close_checkpointer(engine: Engine) -> None:
    """Stop ``engine``'s checkpointer, if any (before ``engine.dispose()``: the last connection
    to close then checkpoints what is left, as SQLite does on close)."""
    found = _checkpointers.pop(engine, None)
    if found is not None:
        found.close()


# SQLite's historical (and smallest) limit on a statement's parameters.
_SQLITE_MAX_PARAMETERS = 999


def insert_rows(conn: Any, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:  # noqa: ANN401  (a Connection)
    """Insert ``rows`` (dicts with the same keys, every value given: no column default is
    applied) into ``table`` in ``conn``'s transaction.

    On SQLite in multi-row ``INSERT ... VALUES (...), (...)`` statements, their parameters
    converted once by the columns' own bind processors (the same stored values as SQLAlchemy's
    executemany). pysqlite's executemany releases and takes back the GIL for every row: on the
    accept path each hand-over can wait a whole switch interval for the event loop, several
    times a message. Rows go in chunks of powers of two (23 = 16 + 4 + 2 + 1), so a table has a
    few statement texts, which stay in the connection's statement cache. Elsewhere an
    executemany as usual."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(insert(table), list(rows))
        return
    columns = tuple(rows[0])
    processors = _bind_processors(conn.dialect, table, columns)
    most = 1 << ((_SQLITE_MAX_PARAMETERS // len(columns)).bit_length() - 1)
    for start, n in power_of_two_chunks(len(rows), most):
        chunk = rows[start:start + n]
        params: list[Any] = []
        for row in chunk:
            for column, process in zip(columns, processors, strict=True):
                value = row[column]
                params.append(value if process is None else process(value))
        execute_on_driver(conn, _multirow_insert(table.name, columns, n), tuple(params))


def execute_on_driver(conn: Any, statement: str, params: Sequence[Any] = ()) -> Any:  # noqa: ANN401
    """``conn.exec_driver_sql(statement, params)`` (``conn`` a Connection on SQLite) straight on
    the driver's connection, in ``conn``'s transaction; returns the driver's cursor.

    SQLAlchemy's execution context (events, a result object, parameter handling) cost more
    CPU on the accept transaction's small statements than SQLite's own work: with them, a
    one-message accept transaction took ~2.1 ms of the commit thread on a slow host, most of
    it around nine statements. At half the sustained rate a batch holds one or two messages,
    so that fixed cost is what the next batch queues behind. A driver error is raised as
    SQLAlchemy's (``IntegrityError``, ``OperationalError``...), as ``exec_driver_sql`` raises it."""
    dbapi = conn.dialect.loaded_dbapi
    try:
        return conn.connection.driver_connection.execute(statement, params)
    except dbapi.Error as exc:
        raise DBAPIError.instance(statement, params, exc, dbapi.Error) from exc


def power_of_two_chunks(count: int, most: int) -> Iterator[tuple[int, int]]:
    """(start, size) of consecutive chunks covering ``count`` items, each a power of two of at
    most ``most`` (itself a power of two), largest first: 23 = 16 + 4 + 2 + 1. A statement
    written for n items then has a few texts, which stay in the driver's statement cache."""
    done = 0
    while done < count:
        n = min(most, 1 << ((count - done).bit_length() - 1))
        yield done, n
        done += n


@lru_cache(maxsize=64)
def _bind_processors(dialect: Any, table: Table, columns: tuple[str, ...]) -> tuple[Any, ...]:  # noqa: ANN401
    return tuple(table.c[c].type._cached_bind_processor(dialect) for c in columns)  # noqa: SLF001


@lru_cache(maxsize=256)
def _multirow_insert(table: str, columns: tuple[str, ...], n: int) -> str:
    one = f"({', '.join('?' * len(columns))})"
    names = ", ".join(f'"{c}"' for c in columns)
    return f'INSERT INTO "{table}" ({names}) VALUES {", ".join([one] * n)}'


def pipelines(engine: Engine) -> bool:
    """Whether ``pipelined`` works on ``engine``: PostgreSQL through psycopg 3."""
    return engine.dialect.driver == "psycopg"


@contextmanager
def pipelined(engine: Engine) -> Iterator[Any]:  # noqa: ANN401  (a psycopg Connection)
    """A transaction on PostgreSQL whose statements travel in psycopg's pipeline mode.

    Yields the psycopg connection, with ``BEGIN`` queued; ``COMMIT`` is queued when the block
    ends and sent with the statements still waiting, so a transaction costs one round trip
    plus one for each result the block reads before the end (``cursor.fetch*`` flushes what
    is queued). An error anywhere rolls the transaction back and is raised. psycopg itself
    would send its ``BEGIN`` and wait for the answer (it tracks the transaction's state), so
    the connection is in autocommit mode for the block and the transaction is ours.

    COPY is not allowed in pipeline mode: statements here insert many rows from arrays.
    psycopg's errors are raised as SQLAlchemy's (``IntegrityError``, ``OperationalError``, ...),
    as from any other transaction, so callers and the API's handlers see the same errors.
    """
    import psycopg

    try:
        proxy = engine.raw_connection()
    except psycopg.Error as exc:  # no connection to be had (the server is down or restarting)
        raise _pipelined_error(engine, exc) from exc
    pg = proxy.driver_connection
    try:
        pg.autocommit = True
        with pg.pipeline():
            pg.execute(b"BEGIN")
            yield pg
            pg.execute(b"COMMIT")
    except psycopg.Error as exc:
        raise _pipelined_error(engine, exc, invalidated=_abandon(engine, proxy, pg, exc)) from exc
    except BaseException as exc:
        _abandon(engine, proxy, pg, exc)
        raise
    finally:
        if not pg.closed and not pg.broken:
            pg.autocommit = False
        proxy.close()


def _pipelined_error(engine: Engine, exc: Exception, *, invalidated: bool = False) -> DBAPIError:
    """psycopg's ``exc`` as SQLAlchemy's error of its kind (``OperationalError``, ``IntegrityError``, ...)."""
    import psycopg

    return DBAPIError.instance("(a pipelined transaction)", None, exc, psycopg.Error,
                               connection_invalidated=invalidated, dialect=engine.dialect)


def _abandon(engine: Engine, proxy: Any, pg: Any, exc: BaseException) -> bool:  # noqa: ANN401
    """Roll back a failed ``pipelined`` transaction, or drop its connection when it is lost or
    the rollback fails; whether it was dropped. A lost connection (the server restarted, or
    dropped it) marks every connection the pool made before it for renewal at its next
    checkout, as SQLAlchemy does when one of its own statements finds a connection lost."""
    import psycopg

    if not (pg.closed or pg.broken):
        try:
            pg.rollback()
            return False
        except psycopg.Error:
            log.warning("rollback after a failed pipelined transaction failed: the connection is dropped",
                        exc_info=True)
    engine.pool._invalidate(proxy, exc)  # noqa: SLF001  (SQLAlchemy's own disconnect handling)
    return True
