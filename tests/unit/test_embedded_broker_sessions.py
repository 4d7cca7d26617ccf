"""The embedded broker (kombu's SQLAlchemy transport on SQLite) keeps one database session per
channel. Two threads must never use one at once, and a channel that is let go must give its
session's SQLite connection, and the lock its transaction holds, back at once: a CI run lost a
KPI report when two relays of one hub shared a publisher, broke its session mid-commit, and the
session kept the broker file locked for every publish and poll after that.
"""
import sqlite3
import threading
import time
from pathlib import Path

from hub.transport.broker import Publisher, _SqlChannel, connect, delivery_queue


def _url(tmp_path: Path) -> str:
    return f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"


def _locked(path: Path) -> bool:
    """True if another connection holds the broker file's write lock."""
    probe = sqlite3.connect(path, timeout=0)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.rollback()
        return False
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc), exc
        return True
    finally:
        probe.close()


def _drain(url: str, queue_name: str) -> list[str]:
    got: list[str] = []
    with connect(url) as conn:
        with conn.SimpleQueue(delivery_queue(queue_name)) as queue:
            while True:
                try:
                    message = queue.get(block=False)
                except queue.Empty:
                    return got
                got.extend(message.payload["ids"])
                message.ack()


def test_a_publisher_shared_by_two_relays_uses_its_channel_from_one_thread_at_a_time(
        tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    url = _url(tmp_path)
    inside: list[int] = []
    overlaps: list[int] = []
    guard = threading.Lock()
    put = _SqlChannel._put

    def watched_put(self, queue, payload, **kwargs):  # noqa: ANN001, ANN202
        with guard:
            inside.append(1)
            overlaps.append(len(inside))
        time.sleep(0.01)  # widen the window in which a second thread would come in
        try:
            return put(self, queue, payload, **kwargs)
        finally:
            with guard:
                inside.pop()

    monkeypatch.setattr(_SqlChannel, "_put", watched_put)
    publisher = Publisher(url, "shared")
    errors: list[BaseException] = []

    def relay(name: str) -> None:
        for n in range(15):
            try:
                publisher.publish([f"{name}-{n}"])
            except Exception as exc:
                errors.append(exc)

    threads = [threading.Thread(target=relay, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    publisher.close()
    assert errors == []
    assert max(overlaps) == 1  # never two threads in one session
    assert sorted(_drain(url, "shared")) == sorted(f"{name}-{n}" for name in ("a", "b") for n in range(15))
    assert not _locked(tmp_path / "broker.sqlite3")


def test_a_released_connection_gives_the_broker_lock_back_at_once(tmp_path: Path) -> None:
    url = _url(tmp_path)
    conn = connect(url)
    conn.ensure_connection(max_retries=1)
    channel = conn.default_channel
    delivery_queue("q")(channel).declare()
    # A session left inside a write (as a commit broken half way leaves it) holds the file's lock.
    queue = channel.session.query(channel.queue_cls).filter(channel.queue_cls.name == "q").one()
    channel.session.add(channel.message_cls('{"ids": ["x"]}', queue))
    channel.session.flush()
    assert _locked(tmp_path / "broker.sqlite3")
    conn.release()
    # Released, not when the garbage collector reaches the channel (still referenced here).
    assert not _locked(tmp_path / "broker.sqlite3")
    assert _drain(url, "q") == []  # the half-done write was rolled back, not committed

