"""Scale-out on one PostgreSQL + RabbitMQ: two API processes and two worker processes.

Senders post each conversation's messages alternately to the two API processes, while one
worker process is SIGKILLed mid-burst and started again. Every message is applied once, the
hub records exactly one delivery of each, and within a conversation (receiver +
correlation id) the receiver applies them in the order they were accepted.
"""
import threading
import time
import uuid
from collections import defaultdict
from contextlib import ExitStack

import httpx
import psutil
import pytest
from sqlalchemy import create_engine, func, select

from hub.demo.receiver import AgencyInbox
from hub.schemas.envelope import message_key
from hub.transport.tables import message_events
from tests.conftest import backend_settings
from tests.e2e.test_crash_recovery import admin_headers, post_until_accepted
from tests.support.auth import register_receiver
from tests.support.hubproc import HubProcess, WorkerProcess, settings_env
from tests.support.waiting import wait_for

CONVERSATIONS = 12
PER_CONVERSATION = 25
SENDERS = 4
RECEIVER = "TH/GOV/1501/hr"


@pytest.mark.slow
@pytest.mark.services
@pytest.mark.timeout(600)
def test_two_api_and_two_worker_processes_lose_nothing_apply_once_keep_order(tmp_path):
    with ExitStack() as stack:
        settings = backend_settings("postgres+rabbitmq", tmp_path / "data", stack, requeue_after_seconds=2.0)
        headers = admin_headers(settings)
        inbox = stack.enter_context(AgencyInbox("hr"))
        apis = [HubProcess(settings, tmp_path / f"api{i}.log", "--no-embedded-worker").start() for i in (1, 2)]
        for api in apis:
            stack.callback(api.stop)
        env = {**settings_env(settings), "HUB_WORKER_CONCURRENCY": "8"}
        workers = [WorkerProcess(None, tmp_path / f"worker{i}.log", env).start() for i in (1, 2)]
        for worker in workers:
            stack.callback(worker.stop)
        register_receiver(httpx, RECEIVER, url=apis[0].url, headers=headers)
        httpx.post(f"{apis[0].url}/v1/routes", headers=headers, json={
            "receiver": RECEIVER, "service": "*", "adapter": "http", "settings": {"url": inbox.url},
            "max_attempts": 50, "backoff_base_seconds": 0.1, "backoff_max_seconds": 1,
        }).raise_for_status()

        # Each conversation belongs to one sender thread, which posts its messages in order,
        # alternating between the two API processes.
        sent: dict[str, list[str]] = {f"กค 0401/{n}": [] for n in range(CONVERSATIONS)}
        accepted = 0
        lock = threading.Lock()

        def send(conversations: list[str]) -> None:
            nonlocal accepted
            with httpx.Client(headers=headers) as client:
                for seq in range(PER_CONVERSATION):
                    for k, conversation in enumerate(conversations):
                        message_id = str(uuid.uuid4())
                        api = apis[(seq + k) % 2]
                        post_until_accepted(client, lambda api=api: api.url, {
                            "id": message_id, "sender": "TH/GOV/0401/saraban", "receiver": RECEIVER,
                            "service": "hr.attendance/v1", "correlation_id": conversation,
                            "payload": {"conversation": conversation, "seq": seq},
                        })
                        # The receiver and the message events know the hub's key (ids are the sender's own).
                        sent[conversation].append(message_key("TH/GOV/0401/saraban", message_id))
                        with lock:
                            accepted += 1

        names = list(sent)
        senders = [threading.Thread(target=send, args=(names[i::SENDERS],), daemon=True) for i in range(SENDERS)]
        for thread in senders:
            thread.start()
        total = CONVERSATIONS * PER_CONVERSATION
        wait_for(lambda: accepted >= total // 3, timeout=120, what="a third accepted")
        workers[0].kill()  # its claims in flight come back when their lease runs out
        time.sleep(0.5)
        workers[0].start()
        for thread in senders:
            thread.join(timeout=240)
        assert accepted == total, f"only {accepted} of {total} accepted"

        wait_for(lambda: len(inbox.applied) >= total, timeout=240, interval=0.5, what="every message applied")
        every_id = {m for ids in sent.values() for m in ids}
        assert set(inbox.applied) == every_id and len(inbox.applied) == total  # nothing lost
        engine = create_engine(settings.effective_database_url)
        try:
            with engine.connect() as conn:
                wait_for(lambda: conn.execute(
                    select(func.count()).select_from(message_events).where(message_events.c.kind == "delivered")
                ).scalar_one() >= total, timeout=60, what="every delivery recorded")
                delivered = dict(conn.execute(
                    select(message_events.c.message_id, func.count())
                    .where(message_events.c.kind == "delivered").group_by(message_events.c.message_id)
                ).all())
        finally:
            engine.dispose()
        assert set(delivered) == every_id
        assert {n for n in delivered.values()} == {1}, "a message was recorded as delivered twice"
        # Per conversation, the receiver applied the messages in the order they were accepted.
        applied_order: dict[str, list[str]] = defaultdict(list)
        for message_id in inbox.applied:
            conversation = next(c for c, ids in sent.items() if message_id in ids)
            applied_order[conversation].append(message_id)
        for conversation, ids in sent.items():
            assert applied_order[conversation] == ids, f"conversation {conversation} applied out of order"


@pytest.mark.slow
@pytest.mark.services
@pytest.mark.timeout(120)
def test_serve_with_two_workers_runs_two_api_processes_that_accept(tmp_path):
    with ExitStack() as stack:
        settings = backend_settings("postgres+rabbitmq", tmp_path / "data", stack)
        headers = admin_headers(settings)
        inbox = stack.enter_context(AgencyInbox("hr"))
        hub = HubProcess(settings, tmp_path / "hub.log", "--workers", "2").start()
        stack.callback(hub.stop)
        wait_for(lambda: len(api_processes(hub.proc.pid)) == 2, timeout=30, what="two API processes")
        register_receiver(httpx, RECEIVER, url=hub.url, headers=headers)
        httpx.post(f"{hub.url}/v1/routes", headers=headers, json={
            "receiver": RECEIVER, "service": "*", "adapter": "http", "settings": {"url": inbox.url},
        }).raise_for_status()
        ids = [str(uuid.uuid4()) for _ in range(40)]
        for message_id in ids:  # a fresh connection each: the kernel hands them to either process
            response = httpx.post(f"{hub.url}/v1/messages", headers=headers, json={
                "id": message_id, "sender": "TH/GOV/0401/saraban", "receiver": RECEIVER,
                "service": "hr.attendance/v1", "payload": {"n": 1}})
            assert response.status_code == 202, response.text
        keys = {message_key("TH/GOV/0401/saraban", message_id) for message_id in ids}
        wait_for(lambda: set(inbox.applied) == keys, timeout=60, what="all delivered")
        assert len(api_processes(hub.proc.pid)) == 2


def api_processes(pid: int) -> list[psutil.Process]:
    """uvicorn's worker processes (spawned; its resource tracker is not one)."""
    return [p for p in psutil.Process(pid).children(recursive=True) if "spawn_main" in " ".join(p.cmdline())]


def test_serve_with_several_workers_refuses_the_address_listener(tmp_path, monkeypatch):
    """The e-CMS allow-list listener lives in one process; several API processes cannot share it."""
    from typer.testing import CliRunner

    from hub.cli.main import app
    from tests.support.hubproc import free_port

    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HUB_ECMS_ALLOWLIST_PORT", str(free_port()))
    monkeypatch.setenv("HUB_ECMS_ALLOWLIST", '{"127.0.0.1/32": "0401"}')
    result = CliRunner().invoke(app, ["serve", "--port", str(free_port()), "--workers", "2"])
    assert result.exit_code == 2, result.output
    assert "--workers 1" in result.output
