"""The durability matrix's parts: a receiver that records what it applied, well-behaved senders,
worker processes to SIGKILL, and the shared-service restarts.

"Lost" is a message the hub accepted (202) that the receiver never applied; "applied twice" is
a message the receiver applied more than once. The receiver honours ``Idempotency-Key`` as the
hub asks every receiver to (a repeated key is acknowledged, not applied again), and counts
applications per *message id* from the body, so a message re-sent under another key, or two
messages sharing a key, are caught.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from hub.demo.receiver import AgencyInbox
from tests.support import services
from tests.support.auth import register_receiver
from tests.support.waiting import wait_for

RECEIVER = "TH/GOV/1501/hr"
SENDER = "TH/GOV/0401/saraban"
SERVICE = "hr.attendance/v1"


class RecordingInbox(AgencyInbox):
    """An agency inbox that also counts, per message id, how often it applied the message;
    ``delay`` makes each application slow (so deliveries are in flight when a worker dies)."""

    def __init__(self, name: str, delay: float = 0.0) -> None:
        super().__init__(name)
        self.delay = delay
        self.applications: Counter[str] = Counter()

    def handle(self, key: str, body: bytes) -> tuple[int, dict[str, Any]]:
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            fresh = key and not self.down and key not in self.applied
        status, answer = super().handle(key, body)
        if fresh and status == 200:
            with self._lock:
                self.applications[json.loads(body)["id"]] += 1
        return status, answer

    def outcome(self, accepted: set[str]) -> tuple[set[str], dict[str, int]]:
        """(lost: accepted but never applied, twice: id -> times applied, for those over once)."""
        with self._lock:
            lost = accepted - set(self.applications)
            twice = {i: n for i, n in self.applications.items() if n > 1}
        return lost, twice


def route(url: str, headers: dict[str, str], inbox_url: str) -> None:
    register_receiver(httpx, RECEIVER, url=url, headers=headers)
    httpx.post(f"{url}/v1/routes", headers=headers, timeout=30, json={
        "receiver": RECEIVER, "service": "*", "adapter": "http", "settings": {"url": inbox_url},
        "max_attempts": 100, "backoff_base_seconds": 0.1, "backoff_max_seconds": 1,
    }).raise_for_status()


class Senders:
    """``count`` messages from ``threads`` well-behaved clients: on a dropped connection or a
    5xx (503 while a database restarts) each re-posts the same id until it gets its 202."""

    def __init__(self, url_of: Callable[[], str], headers: dict[str, str], count: int, threads: int = 4) -> None:
        self.ids = [str(uuid.uuid4()) for _ in range(count)]
        self.accepted: set[str] = set()
        self.retries = 0
        self.refusals: Counter[str] = Counter()  # non-202 answers: "503", "503 without Retry-After", "ConnectError"...
        self._url_of = url_of
        self._headers = headers
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._send, args=(self.ids[k::threads],), daemon=True)
                         for k in range(threads)]
        self.failure: str | None = None

    def _send(self, ids: list[str]) -> None:
        with httpx.Client(headers=self._headers) as client:
            for seq, message_id in enumerate(ids):
                envelope = {"id": message_id, "sender": SENDER, "receiver": RECEIVER, "service": SERVICE,
                            "payload": {"seq": seq}}
                deadline = time.monotonic() + 300
                while True:
                    try:
                        response = client.post(f"{self._url_of()}/v1/messages", json=envelope, timeout=15)
                    except httpx.HTTPError:
                        response = None  # the hub was killed: counted as "no answer", posted again
                    if response is not None and response.status_code == 202:
                        break
                    if response is not None and response.status_code < 500:
                        self.failure = f"unexpected {response.status_code}: {response.text}"
                        return
                    with self._lock:
                        self.retries += 1
                        self.refusals[_refusal(response)] += 1
                    if time.monotonic() > deadline:
                        self.failure = f"{message_id} not accepted within 300 s"
                        return
                    time.sleep(0.1)
                with self._lock:
                    self.accepted.add(message_id)

    def start(self) -> Senders:
        for thread in self._threads:
            thread.start()
        return self

    def wait_accepted(self, at_least: int, timeout: float = 120) -> None:
        wait_for(lambda: len(self.accepted) >= at_least or self.failure, timeout=timeout,
                 what=f"{at_least} accepted")
        assert self.failure is None, self.failure

    def join(self, timeout: float = 300) -> None:
        for thread in self._threads:
            thread.join(timeout=timeout)
        assert self.failure is None, self.failure
        assert len(self.accepted) == len(self.ids), f"only {len(self.accepted)} of {len(self.ids)} accepted"


def _refusal(response: httpx.Response | None) -> str:
    if response is None:
        return "no answer"
    if response.status_code == 503 and not response.headers.get("Retry-After"):
        return "503 without Retry-After"
    return str(response.status_code)


def assert_exactly_once(inbox: RecordingInbox, accepted: set[str], timeout: float = 180,
                        refusals: Counter[str] | None = None) -> None:
    """Wait until every accepted message was applied, then: 0 lost, 0 applied twice."""
    try:
        wait_for(lambda: not inbox.outcome(accepted)[0], timeout=timeout, interval=0.2,
                 what=f"all {len(accepted)} accepted messages applied")
    finally:
        lost, twice = inbox.outcome(accepted)
        print(f"accepted {len(accepted)}, applied {len(inbox.applications)}, lost {len(lost)}, "
              f"applied twice {len(twice)}, received {sum(inbox.received.values())}, "
              f"refused while down {inbox.refused_while_down}")
        print(f"senders were refused: {dict(refusals or {})}")
    time.sleep(1.0)  # a redelivery in flight would show up as a second application now
    lost, twice = inbox.outcome(accepted)
    assert not lost and not twice, f"lost {len(lost)}, applied twice {len(twice)}: {sorted(twice.items())[:5]}"
    assert set(inbox.applications) == accepted, "the receiver applied messages nobody sent"



# ------------------------------------------------------------------ shared services

RABBITMQ_STOP = "rabbitmqctl stop_app"
RABBITMQ_START = "rabbitmqctl start_app"
POSTGRES_RESTART = "service postgresql restart"


def restarts_allowed(tool: str) -> None:
    """Restarting a shared server breaks other runs on it: only where the servers are the
    suite's own (HUB_TEST_SERVICES=required, as in CI, where scripts/test runs them alone)."""
    if not services.required():
        pytest.skip("restarts a shared server: only with HUB_TEST_SERVICES=required")
    if shutil.which(tool) is None:
        pytest.fail(f"HUB_TEST_SERVICES=required but {tool} is not installed to restart the server")


def run(command: str) -> None:
    subprocess.run(command, shell=True, check=True, timeout=180, env=os.environ.copy(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def postgres_answers() -> bool:
    import psycopg

    try:
        with psycopg.connect(f"host={services.PG_HOST} port={services.PG_PORT} user=postgres dbname=postgres",
                             connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def drop_connections(database_url: str) -> int:
    """Terminate every server connection to this test's own database (what a PostgreSQL restart
    does to the hub, without touching anyone else's); how many were dropped."""
    import psycopg

    name = database_url.rsplit("/", 1)[-1]
    with psycopg.connect(f"host={services.PG_HOST} port={services.PG_PORT} user=postgres dbname=postgres",
                         autocommit=True) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = %s AND pid <> pg_backend_pid()", (name,)).fetchall()
    return len(rows)


def rabbitmq_answers() -> bool:
    from amqp.exceptions import AMQPError
    from kombu import Connection
    from kombu.exceptions import OperationalError

    try:
        with Connection(services.AMQP_URL, connect_timeout=2) as conn:
            conn.connect()
        return True
    except (OSError, OperationalError, AMQPError):
        return False
