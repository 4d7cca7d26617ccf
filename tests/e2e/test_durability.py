"""The durability matrix (issue 12): each scenario sends a bounded burst through a real
``hub serve`` while something fails, then counts what the receiver applied: 0 lost (accepted
but never applied) and 0 applied twice, on both backends where the failure applies.

| scenario                       | embedded | postgres+rabbitmq |
|--------------------------------|----------|-------------------|
| SIGKILL of hub serve (twice)   | yes      | yes               |
| SIGKILL of workers (twice)     | yes      | yes               |
| receiver down for a while      | yes      | yes               |
| RabbitMQ stop_app / start_app  | —        | yes (broker_restart)   |
| PostgreSQL connections dropped | —        | yes               |
| PostgreSQL restart             | —        | yes (postgres_restart) |

The restarts of shared servers run only where HUB_TEST_SERVICES=required and always leave
the server running (deselect them with ``-m "not broker_restart and not postgres_restart"``).
``HUB_DURABILITY_MESSAGES`` sets the burst (default 240: the matrix takes a few minutes).
The longer SIGKILL burst is tests/e2e/test_crash_recovery.py (HUB_CRASH_RECOVERY_MESSAGES=2000 for the soak).
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, backend_settings
from tests.e2e.test_crash_recovery import admin_headers
from tests.support import durability as d
from tests.support.hubproc import WorkerProcess
from tests.support.hubproc import HubProcess
from tests.support.waiting import wait_for

COUNT = int(os.environ.get("HUB_DURABILITY_MESSAGES", "240"))
SERVICES_ONLY = [pytest.param("postgres+rabbitmq", marks=pytest.mark.services)]


class World:
    def __init__(self, stack: ExitStack, backend: str, tmp_path: Path, *, serve_args: tuple[str, ...] = (),
                 inbox_delay: float = 0.0) -> None:
        self.settings = backend_settings(backend, tmp_path / "data", stack, requeue_after_seconds=2.0)
        self.tmp_path = tmp_path
        self.inbox = stack.enter_context(d.RecordingInbox("hr", delay=inbox_delay))
        self.headers = admin_headers(self.settings)
        self.hub = HubProcess(self.settings, tmp_path / "hub.log", *serve_args).start()
        stack.callback(self.hub.stop)
        d.route(self.hub.url, self.headers, self.inbox.url)

    def senders(self, count: int = COUNT) -> d.Senders:
        return d.Senders(lambda: self.hub.url, self.headers, count).start()


@pytest.fixture
def stack() -> Iterator[ExitStack]:
    with ExitStack() as s:
        yield s


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_sigkill_of_hub_serve(backend, tmp_path, stack):
    world = World(stack, backend, tmp_path)
    senders = world.senders()
    for threshold in (COUNT // 3, 2 * COUNT // 3):
        senders.wait_accepted(threshold)
        world.hub.kill()
        world.hub.start()
    senders.join()
    d.assert_exactly_once(world.inbox, senders.accepted, refusals=senders.refusals)


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_sigkill_of_workers(backend, tmp_path, stack):
    """Deliveries run in two ``hub worker`` processes only; each is SIGKILLed while deliveries
    are in flight (the receiver is slow) and replaced: leases expire, the messages go again."""
    world = World(stack, backend, tmp_path, serve_args=("--no-embedded-worker",), inbox_delay=0.02)
    workers = [WorkerProcess(world.settings, tmp_path / f"worker{n}.log").start() for n in range(2)]
    stack.callback(lambda: [w.stop() for w in workers])
    senders = world.senders()
    for n, threshold in enumerate((COUNT // 4, COUNT // 2)):
        wait_for(lambda t=threshold: len(world.inbox.applications) >= t, timeout=120, what=f"{threshold} applied")
        workers[n].kill()
        workers.append(WorkerProcess(world.settings, tmp_path / f"worker{n + 2}.log").start())
    senders.join()
    d.assert_exactly_once(world.inbox, senders.accepted, refusals=senders.refusals)


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_receiver_down_for_a_while(backend, tmp_path, stack):
    world = World(stack, backend, tmp_path)
    world.inbox.down = True
    senders = world.senders()
    senders.wait_accepted(COUNT // 2)
    wait_for(lambda: world.inbox.refused_while_down >= 10, timeout=60, what="deliveries refused while down")
    time.sleep(3.0)  # down a while: retries back off
    world.inbox.down = False
    senders.join()
    d.assert_exactly_once(world.inbox, senders.accepted, refusals=senders.refusals)
    assert world.inbox.refused_while_down >= 10


@pytest.mark.slow
@pytest.mark.broker_restart
@pytest.mark.parametrize("backend", SERVICES_ONLY)
def test_rabbitmq_stop_and_start(backend, tmp_path, stack):
    d.restarts_allowed("rabbitmqctl")
    world = World(stack, backend, tmp_path)
    senders = world.senders()
    senders.wait_accepted(COUNT // 3)
    try:
        d.run(d.RABBITMQ_STOP)
        time.sleep(5.0)  # accepts go on into the database's outbox; nothing can be published
    finally:
        d.run(d.RABBITMQ_START)
        wait_for(d.rabbitmq_answers, timeout=120, interval=0.5, what="RabbitMQ back after start_app")
    senders.join()
    d.assert_exactly_once(world.inbox, senders.accepted, timeout=240, refusals=senders.refusals)
    assert not senders.refusals, f"accepts need no broker (the outbox is in the database): {senders.refusals}"


@pytest.mark.slow
@pytest.mark.parametrize("backend", SERVICES_ONLY)
def test_postgresql_connections_dropped(backend, tmp_path, stack):
    """Every connection to the hub's database terminated three times mid-burst (what a restart
    does to the hub, on this test's own database only, so it runs beside other tests)."""
    world = World(stack, backend, tmp_path)
    senders = world.senders()
    for threshold in (COUNT // 4, COUNT // 2, 3 * COUNT // 4):
        senders.wait_accepted(threshold)
        assert d.drop_connections(world.settings.effective_database_url) > 0
    senders.join()
    d.assert_exactly_once(world.inbox, senders.accepted, refusals=senders.refusals)
    assert set(senders.refusals) <= {"503"}, senders.refusals


@pytest.mark.slow
@pytest.mark.postgres_restart
@pytest.mark.parametrize("backend", SERVICES_ONLY)
def test_postgresql_restart(backend, tmp_path, stack):
    d.restarts_allowed("service")
    world = World(stack, backend, tmp_path)
    senders = world.senders()
    senders.wait_accepted(COUNT // 3)
    try:
        d.run(d.POSTGRES_RESTART)
    finally:
        wait_for(d.postgres_answers, timeout=120, interval=0.5, what="PostgreSQL back after its restart")
    senders.join()
    d.assert_exactly_once(world.inbox, senders.accepted, timeout=240, refusals=senders.refusals)
    # While the database was away, clients were told to come back (503 + Retry-After), not a bare 5xx.
    assert set(senders.refusals) <= {"503"}, senders.refusals
