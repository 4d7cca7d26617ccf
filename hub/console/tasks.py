"""Bulk replay as a background task: runs in a thread of the serving process, reports its
progress, can be stopped, and records each replay in the message's history (with the
reason) and in the audit trail (with the person who started it).

A task and its progress live in the database (``console_tasks``), written after every
message, so any process serving the console shows the same progress and a restart loses
nothing: the running thread keeps a heartbeat, and a task whose heartbeat has gone silent
(its process ended) is shown as ``interrupted``. An admin resumes it from the first message
it had not reached; a message replayed just before the crash but not yet counted is no
longer dead, so resuming names it as skipped instead of replaying it twice.
"""
from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, insert, select, update

from hub.clock import as_utc, utcnow
from hub.console.tables import console_tasks
from hub.errors import HubError

RUNNING, STOPPING, STOPPED, FINISHED, INTERRUPTED = "running", "stopping", "stopped", "finished", "interrupted"
# A running task writes its heartbeat after every message (and at least this often while it
# waits on one replay); silence for longer than this means its process is gone.
SILENT_AFTER = timedelta(seconds=30)


class Tasks:
    def __init__(self, hub: Any) -> None:
        self._hub = hub
        self._engine: Engine = hub.engine
        self._interrupt_silent()

    def _interrupt_silent(self) -> None:
        """Tasks whose process ended (no heartbeat) are marked interrupted, so nobody waits on them."""
        with self._engine.begin() as conn:
            conn.execute(update(console_tasks)
                         .where(console_tasks.c.state.in_((RUNNING, STOPPING)),
                                console_tasks.c.heartbeat_at < utcnow() - SILENT_AFTER)
                         .values(state=INTERRUPTED))

    def start(self, ids: list[str], *, actor: str, reason: str) -> dict[str, Any]:
        task_id, now = str(uuid.uuid4()), utcnow()
        ids = list(dict.fromkeys(ids))
        with self._engine.begin() as conn:
            conn.execute(insert(console_tasks).values(id=task_id, actor=actor, reason=reason, ids=ids, done=0,
                                                      replayed=0, failed={}, state=RUNNING, created_at=now,
                                                      heartbeat_at=now))
        self._hub.security.audit.record("console.bulk_replay_started", actor=actor, target=task_id,
                                        messages=len(ids), reason=reason)
        self._spawn(task_id)
        return self.get(task_id)

    def resume(self, task_id: str, *, actor: str) -> dict[str, Any] | None:
        """Carry on an interrupted or stopped task from the first message it had not reached.
        Claimed with one conditional update, so two clicks (or two processes) run it once."""
        with self._engine.begin() as conn:
            claimed = conn.execute(update(console_tasks)
                                   .where(console_tasks.c.id == task_id,
                                          console_tasks.c.state.in_((INTERRUPTED, STOPPED)))
                                   .values(state=RUNNING, heartbeat_at=utcnow())).rowcount
        if claimed:
            task = self.get(task_id)
            self._hub.security.audit.record("console.bulk_replay_resumed", actor=actor, target=task_id,
                                            done=task["done"])
            self._spawn(task_id)
        return self.get(task_id)

    def get(self, task_id: str) -> dict[str, Any] | None:
        self._interrupt_silent()
        with self._engine.connect() as conn:
            row = conn.execute(select(console_tasks).where(console_tasks.c.id == task_id)).mappings().first()
        return _public(row) if row else None

    def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        self._interrupt_silent()
        with self._engine.connect() as conn:
            rows = conn.execute(select(console_tasks).order_by(console_tasks.c.created_at.desc())
                                .limit(limit)).mappings().all()
        return [_public(r) for r in rows]

    def stop(self, task_id: str, *, actor: str) -> dict[str, Any] | None:
        with self._engine.begin() as conn:
            asked = conn.execute(update(console_tasks)
                                 .where(console_tasks.c.id == task_id, console_tasks.c.state == RUNNING)
                                 .values(state=STOPPING)).rowcount
        task = self.get(task_id)
        if asked:
            self._hub.security.audit.record("console.bulk_replay_stopped", actor=actor, target=task_id,
                                            done=task["done"])
        return task

    def _spawn(self, task_id: str) -> None:
        threading.Thread(target=self._run, args=(task_id,), name=f"replay-{task_id[:8]}", daemon=True).start()

    def _run(self, task_id: str) -> None:
        messages, audit = self._hub.messages, self._hub.security.audit
        with self._engine.connect() as conn:
            row = conn.execute(select(console_tasks).where(console_tasks.c.id == task_id)).mappings().one()
        ids, done, replayed, failed = list(row["ids"]), row["done"], row["replayed"], dict(row["failed"])
        actor, reason = row["actor"], row["reason"]
        for message_id in ids[done:]:
            with self._engine.connect() as conn:
                state = conn.execute(select(console_tasks.c.state).where(console_tasks.c.id == task_id)).scalar_one()
            if state == STOPPING:
                self._finish(task_id, STOPPED)
                return
            if state != RUNNING:  # marked interrupted elsewhere: whoever resumes it carries on
                return
            try:
                meta = messages.get_meta(message_id)
                if meta.status != "dead":
                    failed[message_id] = f"status is {meta.status}, not dead"
                else:
                    messages.replay(message_id, reason=reason)
                    audit.record("message.replayed", actor=actor, target=str(meta.id), reason=reason, task=task_id,
                                 sender=meta.sender)
                    replayed += 1
            except HubError as exc:
                failed[message_id] = exc.message
            done += 1
            with self._engine.begin() as conn:
                conn.execute(update(console_tasks).where(console_tasks.c.id == task_id)
                             .values(done=done, replayed=replayed, failed=failed, heartbeat_at=utcnow()))
        self._finish(task_id, FINISHED)

    def _finish(self, task_id: str, state: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(update(console_tasks).where(console_tasks.c.id == task_id)
                         .values(state=state, heartbeat_at=utcnow()))


def _public(row: Any) -> dict[str, Any]:
    return {"id": row["id"], "actor": row["actor"], "reason": row["reason"], "total": len(row["ids"]),
            "done": row["done"], "replayed": row["replayed"], "failed": len(row["failed"]),
            "failures": dict(row["failed"]), "state": row["state"],
            "created_at": as_utc(row["created_at"]).isoformat()}
