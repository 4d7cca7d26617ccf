"""Bulk replay as a background task: runs in a thread of the serving process, reports its
progress, can be stopped, and records each replay in the message's history (with the
reason) and in the audit trail (with the person who started it).

Tasks live in the process that serves the console (a restart forgets finished tasks; a
stopped or interrupted one leaves every message it did not reach dead, so it is started
again from the dead-letter page).
"""
from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from hub.errors import HubError


@dataclass
class ReplayTask:
    id: str
    actor: str
    reason: str
    ids: list[str]
    done: int = 0
    replayed: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    state: str = "running"  # running, finished, stopped
    stop: threading.Event = field(default_factory=threading.Event)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "total": len(self.ids), "done": self.done, "replayed": self.replayed,
                "failed": len(self.failed), "state": self.state}


class Tasks:
    def __init__(self, hub: Any) -> None:
        self._hub = hub
        self._tasks: dict[str, ReplayTask] = {}
        self._lock = threading.Lock()

    def start(self, ids: list[str], *, actor: str, reason: str) -> ReplayTask:
        task = ReplayTask(str(uuid.uuid4()), actor, reason, list(dict.fromkeys(ids)))
        with self._lock:
            self._tasks[task.id] = task
        self._hub.security.audit.record("console.bulk_replay_started", actor=actor, target=task.id,
                                        messages=len(task.ids), reason=reason)
        threading.Thread(target=self._run, args=(task,), name=f"replay-{task.id[:8]}", daemon=True).start()
        return task

    def get(self, task_id: str) -> ReplayTask | None:
        with self._lock:
            return self._tasks.get(task_id)

    def stop(self, task_id: str, *, actor: str) -> ReplayTask | None:
        task = self.get(task_id)
        if task is not None and task.state == "running":
            task.stop.set()
            self._hub.security.audit.record("console.bulk_replay_stopped", actor=actor, target=task.id,
                                            done=task.done)
        return task

    def _run(self, task: ReplayTask) -> None:
        messages, audit = self._hub.messages, self._hub.security.audit
        for message_id in task.ids:
            if task.stop.is_set():
                task.state = "stopped"
                return
            try:
                meta = messages.get_meta(message_id)
                if meta.status != "dead":
                    task.failed[message_id] = f"status is {meta.status}, not dead"
                else:
                    messages.replay(message_id, reason=task.reason)
                    audit.record("message.replayed", actor=task.actor, target=str(meta.id), reason=task.reason,
                                 task=task.id, sender=meta.sender)
                    task.replayed += 1
            except HubError as exc:
                task.failed[message_id] = exc.message
            task.done += 1
        task.state = "finished"
