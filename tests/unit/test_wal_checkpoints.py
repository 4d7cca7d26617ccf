"""The hub's SQLite connections leave the write-ahead log to a checkpointer thread of the
engine's (hub/wal_checkpoints.py) instead of checkpointing inside a COMMIT: the log is still
copied back and started over, stays bounded under writes that never pause, and closing stops
the thread with nothing lost."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from hub.db import checkpointer, close_checkpointer, make_engine
from hub.wal_checkpoints import WalCheckpoints

BLOB = os.urandom(3000)  # most of a 4 KiB page: every insert adds a frame or two to the log


def engine_on(path: Path, policy: WalCheckpoints | None, synchronous: str = "NORMAL") -> Engine:
    engine = make_engine(f"sqlite:///{path}", sqlite_synchronous=synchronous, checkpoints=policy)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body BLOB)")
    return engine


def insert(engine: Engine, first: int, count: int) -> None:
    for i in range(first, first + count):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t (id, body) VALUES (:id, :body)"), {"id": i, "body": BLOB})


def wal_size(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size if wal.exists() else 0


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "hub.db"


def test_only_an_engine_with_a_checkpointer_turns_sqlites_own_checkpoints_off(db: Path, tmp_path: Path) -> None:
    with_thread = engine_on(db, WalCheckpoints())
    plain = engine_on(tmp_path / "other.db", None)
    try:
        with with_thread.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 0
        with plain.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 1000  # SQLite's default
        assert checkpointer(with_thread) is not None and checkpointer(plain) is None
    finally:
        close_checkpointer(with_thread)
        with_thread.dispose()
        plain.dispose()


def test_after_writes_the_log_is_copied_back_and_the_next_write_starts_it_over(db: Path) -> None:
    engine = engine_on(db, WalCheckpoints(interval_seconds=0.2))
    try:
        insert(engine, 0, 200)
        assert checkpointer(engine).wait_until_idle(timeout=30)
        grown = wal_size(db)
        # Copied back, so the next writer starts the log over from its beginning and the file
        # does not get longer (with SQLite's own checkpoints off and no checkpointer, the
        # write would go at its end).
        insert(engine, 200, 1)
        assert wal_size(db) == grown > 0
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 201
    finally:
        close_checkpointer(engine)
        engine.dispose()


def test_under_writes_that_never_pause_the_log_stays_bounded(db: Path) -> None:
    # Two writers, one always in a transaction while the other waits its turn: a passive
    # checkpoint alone always ends with a write in progress, and the log is never started over
    # (8,000-13,000 frames at the end here). Past its limit the checkpointer copies the rest
    # between two writes. synchronous=FULL, the hub's default.
    limit = 64
    engine = engine_on(db, WalCheckpoints(interval_seconds=0.0, limit_frames=limit, size_limit_bytes=limit * 4120),
                       synchronous="FULL")
    largest = [0]

    def writer(first: int) -> None:
        for i in range(first, first + 1000):
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t (id, body) VALUES (:id, :body)"), {"id": i, "body": BLOB})
            largest[0] = max(largest[0], wal_size(db))

    writers = [threading.Thread(target=writer, args=(n * 10_000,)) for n in range(2)]
    try:
        for w in writers:
            w.start()
        for w in writers:
            w.join(120)
        assert largest[0] < 16 * limit * 4120
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 2000
    finally:
        close_checkpointer(engine)
        engine.dispose()


def test_closing_stops_the_thread_and_nothing_written_is_lost(db: Path) -> None:
    engine = engine_on(db, WalCheckpoints(interval_seconds=3600.0))  # the log is still in the WAL at close
    found = checkpointer(engine)
    insert(engine, 0, 50)
    close_checkpointer(engine)
    assert not found.running
    assert checkpointer(engine) is None
    engine.dispose()  # the last connection to close checkpoints what is left, as SQLite does
    assert wal_size(db) == 0
    again = engine_on(db, WalCheckpoints())
    try:
        with again.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 50
        insert(again, 50, 1)
    finally:
        close_checkpointer(again)
        again.dispose()


def test_a_hub_stops_its_checkpointer_when_it_closes(tmp_path: Path) -> None:
    from hub.bootstrap import build_hub
    from tests.conftest import fast_settings

    hub = build_hub(fast_settings(tmp_path / "data"))
    found = checkpointer(hub.engine)
    assert found is not None and found.running
    hub.close()
    assert not found.running


def test_a_reader_holding_the_log_delays_writes_only_briefly_and_the_log_starts_over_once_it_ends(
        db: Path, caplog: pytest.LogCaptureFixture) -> None:
    import sqlite3

    limit = 16
    engine = engine_on(db, WalCheckpoints(interval_seconds=0.0, limit_frames=limit, restart_wait_seconds=0.05))
    reader = sqlite3.connect(db, isolation_level=None)
    try:
        insert(engine, 0, 5)
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM t").fetchone() == (5,)  # its snapshot keeps frames in the log
        insert(engine, 5, 60)  # past twice the limit: RESTART checkpoints, each giving up after 0.05 s
        assert checkpointer(engine).wait_until_idle(timeout=30)
        assert "RESTART checkpoint could not finish" in caplog.text
        assert reader.execute("SELECT count(*) FROM t").fetchone() == (5,)
        reader.execute("COMMIT")
        insert(engine, 65, 1)  # the reader gone, the next round copies everything back
        assert checkpointer(engine).wait_until_idle(timeout=30)
        grown = wal_size(db)
        insert(engine, 66, 1)
        assert wal_size(db) == grown  # and the log is started over
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 67
    finally:
        reader.close()
        close_checkpointer(engine)
        engine.dispose()


def test_an_engine_used_after_its_checkpointer_stopped_checkpoints_in_its_commits_again(db: Path) -> None:
    engine = engine_on(db, WalCheckpoints())
    close_checkpointer(engine)
    engine.dispose()
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 1000
    finally:
        engine.dispose()


def test_under_paced_writes_the_log_starts_over_without_holding_writers(db: Path) -> None:
    """Writes with gaps between them, as at half the sustainable rate: the checkpointer's quick
    passive checkpoints after each round's first catch up between two commits, so the log
    starts over long before the limit at which copying the rest would hold every writer (here
    set out of reach). Without catching up, every round ended with commits behind its
    checkpoint and the log only grew."""
    import time

    engine = engine_on(db, WalCheckpoints(limit_frames=10**9), synchronous="FULL")
    rows, per_transaction = 0, 16
    try:
        while rows < 10_000:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t (id, body) VALUES (:id, :body)"),
                             [{"id": rows + k, "body": BLOB} for k in range(per_transaction)])
            rows += per_transaction
            time.sleep(0.006)
        # Each row takes a 4 KiB page in the log (with the frame headers and index pages, a log
        # never started over is ~16% larger): smaller means it was started over.
        assert wal_size(db) < rows * 4096
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == rows
    finally:
        close_checkpointer(engine)
        engine.dispose()


def test_a_round_copies_again_while_what_commits_added_behind_it_shrinks() -> None:
    """The catching-up rule alone: a checkpoint reports the log as it was when it began, so the
    round copies again until one finds nothing new, and stops as soon as writes outpace it."""
    from hub.wal_checkpoints import WalCheckpointer

    def rounds(reports: list[tuple[int, int]], catch_up_rounds: int = 4) -> list[tuple[int, int]]:
        checkpointer = WalCheckpointer.__new__(WalCheckpointer)
        checkpointer.policy = WalCheckpoints(catch_up_rounds=catch_up_rounds)
        answers = iter(reports[1:])
        made = [reports[0]]

        def run(conn: object, mode: str) -> tuple[int, int]:
            assert mode == "PASSIVE"
            made.append(next(answers))
            return made[-1]

        checkpointer._run_checkpoint = run  # type: ignore[method-assign]
        assert checkpointer._catch_up(None, *reports[0]) == made[-1]  # type: ignore[arg-type]
        return made

    # 1,400 frames copied; 60 landed behind; then 5; then none: caught up, the next writer restarts.
    assert rounds([(1400, 1400), (1460, 1460), (1465, 1465), (1465, 1465), (9, 9)]) == [
        (1400, 1400), (1460, 1460), (1465, 1465), (1465, 1465)]
    # A writer already started the log over: nothing more to do.
    assert rounds([(1400, 1400), (12, 12), (30, 30)]) == [(1400, 1400), (12, 12)]
    # Writes outpace the copying (60, then 80 behind): the limit decides, not more rounds.
    assert rounds([(1400, 1400), (1460, 1460), (1540, 1540), (1545, 1545)]) == [
        (1400, 1400), (1460, 1460), (1540, 1540)]
    # At most catch_up_rounds more; none when it is 0; a file not in WAL mode (-1) never.
    assert len(rounds([(100, 100), (150, 150), (180, 180), (190, 190), (195, 195), (197, 197)],
                      catch_up_rounds=2)) == 3
    assert rounds([(100, 100), (150, 150)], catch_up_rounds=0) == [(100, 100)]
    assert rounds([(-1, -1), (5, 5)]) == [(-1, -1)]
