"""SQLite WAL checkpoints on a thread of their own, instead of inside a writer's COMMIT.

SQLite's automatic checkpoint (``wal_autocheckpoint``, 1000 frames by default) runs inside the
COMMIT of whichever connection's transaction takes the write-ahead log past the threshold:
copying the log into the database file and syncing it. On the accept path that COMMIT held the
batch of waiting requests (in process, commit p99 6.5 ms with it, about 3 ms without). The
hub's connections turn it off (``hub.db.make_engine(..., checkpoints=WalCheckpoints())``) and a
:class:`WalCheckpointer` copies the log back on its own connection instead:

* after writes, at most once per ``interval_seconds`` while they go on, a PASSIVE checkpoint:
  it waits for no reader or writer and copies what no reader still needs;
* a writer starts the log over from its beginning only if, when its transaction begins, every
  frame has been copied and no reader is in the log. Under writes that never pause a passive
  checkpoint always ends with a writer in progress, so the log would only grow (SQLite's own
  checkpoint-starvation tests show the same). When the log has grown past ``limit_frames``
  the checkpointer copies what is left while holding the engine's write turn (this process's
  writers wait on it, as for any write): the copy is short, the bulk having been copied just
  before, and the next write starts the log over. Past twice that (readers or another
  process's writers held it back) a RESTART checkpoint, which also waits for them, for at most
  ``restart_wait_seconds``.
  ``journal_size_limit`` on the writers' connections then cuts a log file that had grown past
  ``size_limit_bytes`` back to that size.

Idle, the thread sleeps on an event set only by a commit that changed rows: no wake-ups.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WalCheckpoints:
    """When the checkpointer copies the write-ahead log back (see the module's docstring)."""

    interval_seconds: float = 0.5
    limit_frames: int = 16384  # 64 MiB of 4 KiB pages: past this the next write starts the log over
    size_limit_bytes: int = 128 * 1024 * 1024  # journal_size_limit: a larger log file is cut back to this
    # How long a RESTART checkpoint waits for readers and other processes' writers. It holds
    # the write lock (and the turn) meanwhile: a long reader must not stop every write; the
    # next round tries again.
    restart_wait_seconds: float = 1.0
    # Passive checkpoints run again at once, up to this many, while each leaves fewer frames
    # uncopied than the one before: see ``WalCheckpointer._catch_up``.
    catch_up_rounds: int = 4


class WalCheckpointer:
    """Checkpoints the database file at ``path`` from a thread of its own; ``wrote`` after a
    commit that changed rows, ``close`` to stop it (before the engine is disposed)."""

    def __init__(self, path: str, turn: threading.Lock, policy: WalCheckpoints, *, busy_timeout: float,
                 synchronous: str = "FULL") -> None:
        self.policy = policy
        self._path = path
        self._synchronous = synchronous
        self._turn = turn
        self._busy_timeout = busy_timeout
        self._wrote = threading.Event()
        self._stop = threading.Event()
        self._conn: sqlite3.Connection | None = None
        self._idle = False
        self._idle_changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="hub-wal-checkpoints", daemon=True)
        self._thread.start()

    def wrote(self) -> None:
        """A transaction that changed rows has committed: checkpoint within the interval."""
        if not self._wrote.is_set():  # set() takes a lock and notifies; most commits find it set
            self._wrote.set()

    def close(self) -> None:
        self._stop.set()
        self._wrote.set()
        self._thread.join()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wait_until_idle(self, timeout: float) -> bool:
        """Wait until every commit reported by ``wrote`` so far has been followed by a
        checkpoint round and the thread sleeps; whether it does. For tests and tools that need
        the log copied back before they look at it."""
        with self._idle_changed:
            return self._idle_changed.wait_for(lambda: self._idle and not self._wrote.is_set(), timeout)

    def _round(self) -> tuple[int, int]:
        """One round (see the module's docstring). The log's size and the frames copied back
        by the round's last checkpoint, in frames (``-1, -1``: the file is not in WAL mode)."""
        conn = self._connection()
        frames, copied = self._catch_up(conn, *self._run_checkpoint(conn, "PASSIVE"))
        if frames >= self.policy.limit_frames:
            # RESTART also waits for readers and for other processes' writers; a passive
            # checkpoint between this process's writes is enough unless those hold it back.
            mode = "RESTART" if frames >= 2 * self.policy.limit_frames else "PASSIVE"
            holding = self._turn.acquire(timeout=self._busy_timeout)
            try:
                frames, copied = self._run_checkpoint(conn, mode)
            finally:
                if holding:
                    self._turn.release()
        return frames, copied

    def _catch_up(self, conn: sqlite3.Connection, frames: int, copied: int) -> tuple[int, int]:
        """Copy again what writers added while the last checkpoint ran, while that shrinks.

        The log starts over only when a writer begins after a checkpoint has copied every
        frame. A checkpoint reports the log as it was when it began, so ``frames == copied``
        says nothing of the commits that landed behind it: a round's first checkpoint copies
        an interval's worth of frames, long enough for several. The next copies just those,
        quickly, and unless writes never pause one soon finds nothing new (the log unchanged
        since the one before). Without this, under a steady load that leaves gaps (the
        half-rate ingest) the log still only grew, to the limit where copying the rest holds
        every writer of the process (5-66 ms pauses)."""
        grew = None
        for _ in range(self.policy.catch_up_rounds):
            if frames < 0:
                break
            before = frames
            frames, copied = self._run_checkpoint(conn, "PASSIVE")
            if frames <= before:  # nothing new, or a writer already started the log over
                break
            if grew is not None and frames - before >= grew:  # writes outpace the copying
                break
            grew = frames - before
        return frames, copied

    def _run_checkpoint(self, conn: sqlite3.Connection, mode: str) -> tuple[int, int]:
        busy, frames, copied = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        if busy and mode == "RESTART":
            log.warning("the write-ahead log of %s is at %d frames and a RESTART checkpoint could not finish "
                        "(a reader or another process's writer held it for %.1f s)", self._path, frames,
                        self.policy.restart_wait_seconds)
        return frames, copied

    def _set_idle(self, idle: bool) -> None:
        with self._idle_changed:
            self._idle = idle
            self._idle_changed.notify_all()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            # Autocommit: a checkpoint cannot run inside a transaction, and this connection
            # must hold no read snapshot that would keep frames in the log.
            self._conn = sqlite3.connect(self._path, timeout=self.policy.restart_wait_seconds,
                                         isolation_level=None, check_same_thread=False)
            # A checkpoint syncs the log and the database file as the writers' setting says.
            self._conn.execute(f"PRAGMA synchronous={self._synchronous}")
        return self._conn

    def _run(self) -> None:
        try:
            while True:
                self._set_idle(True)
                self._wrote.wait()
                self._set_idle(False)
                # Writes go on gathering for an interval: one checkpoint copies a page written
                # many times once, and a close does not wait for a checkpoint.
                if self._stop.wait(self.policy.interval_seconds):
                    return
                self._wrote.clear()
                try:
                    self._round()
                except sqlite3.Error:
                    # The next write tries again; the log meanwhile only grows.
                    log.warning("WAL checkpoint of %s failed", self._path, exc_info=True)
        finally:
            if self._conn is not None:
                self._conn.close()
