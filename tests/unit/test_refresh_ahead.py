"""Cached facts are re-read in the background before they expire, and never served past their bound."""
import threading

import pytest
from sqlalchemy import text

from hub.db import make_engine, reading
from hub.refresh_ahead import REFRESH_TO, RefreshAhead, in_background

TTL = 2.0


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def settled() -> None:
    """Wait until the refresher has run everything handed to it so far (it runs one at a time)."""
    done = in_background(lambda: None)
    assert done is not None
    done.result(timeout=30)


class Source:
    def __init__(self) -> None:
        self.value = "v1"
        self.reads: list[str] = []
        self.fail: Exception | None = None

    def __call__(self, key: str) -> str:
        self.reads.append(key)
        if self.fail is not None:
            raise self.fail
        return self.value


def test_an_entry_in_use_is_reread_in_the_background_once():
    clock, source = Clock(), Source()
    cache = RefreshAhead(source, ttl=TTL, maxsize=10, clock=clock)
    assert cache.get("k") is None
    assert cache.load_now("k") == "v1"
    source.value = "v2"
    assert cache.get("k") == "v1"  # young: no read
    settled()
    assert source.reads == ["k"]
    clock.now += TTL * REFRESH_TO + 0.01  # past any refresh point, inside the bound
    assert [cache.get("k") for _ in range(5)] == ["v1"] * 5  # answered at once, from memory
    settled()
    assert source.reads == ["k", "k"]  # one re-read however many asked meanwhile
    assert cache.get("k") == "v2"


def test_an_entry_is_never_answered_past_its_bound():
    clock, source = Clock(), Source()
    cache = RefreshAhead(source, ttl=TTL, maxsize=10, clock=clock)
    cache.load_now("k")
    clock.now += TTL
    assert cache.get("k") is None  # the caller reads it itself
    settled()
    assert source.reads == ["k"]


def test_a_refresh_that_fails_drops_the_entry():
    clock, source = Clock(), Source()
    cache = RefreshAhead(source, ttl=TTL, maxsize=10, clock=clock)
    cache.load_now("k")
    source.fail = PermissionError("the client was disabled")
    clock.now += TTL * REFRESH_TO + 0.01
    assert cache.get("k") == "v1"
    settled()
    assert cache.get("k") is None
    with pytest.raises(PermissionError):
        cache.load_now("k")
    assert cache.get("k") is None


def test_a_refresh_begun_before_a_clear_stores_nothing():
    clock, source = Clock(), Source()
    cache = RefreshAhead(source, ttl=TTL, maxsize=10, clock=clock)
    cache.load_now("k")
    reading_now, release = threading.Event(), threading.Event()

    def slow(key: str) -> str:
        reading_now.set()
        assert release.wait(30)
        return "before the change"

    cache._load = slow  # the next read is one that began before the change below
    clock.now += TTL * REFRESH_TO + 0.01
    assert cache.get("k") == "v1"
    assert reading_now.wait(30)
    cache.clear()  # a change made by this process
    release.set()
    settled()
    assert cache.get("k") is None


def test_the_least_recently_loaded_go_first():
    cache = RefreshAhead(Source(), ttl=TTL, maxsize=2, clock=Clock())
    for key in ("a", "b", "c"):
        cache.load_now(key)
    assert len(cache) == 2
    assert cache.get("a") is None and cache.get("c") == "v1"


def test_sqlite_reads_wait_for_no_writer(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        with engine.begin() as writer:  # holds the write lock, as the group commit does
            writer.execute(text("INSERT INTO t VALUES (2)"))
            with reading(engine).connect() as reader:  # would wait out the busy timeout behind it
                assert reader.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
    finally:
        engine.dispose()
