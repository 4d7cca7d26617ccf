"""A message that waits for its predecessor in the conversation is handed out again as soon as
the predecessor finishes, however the predecessor's outcome, the relay and a worker's claim
interleave on a database with concurrent transactions."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from sqlalchemy import event

from hub.adapters.memory import mailbox, reset_mailboxes
from hub.bootstrap import Hub, build_hub
from hub.schemas.envelope import Envelope, message_key
from hub.schemas.routes import RouteIn
from hub.transport.delivery import Deliverer
from tests.conftest import backend_settings

SENDER, RECEIVER, SERVICE = "TH/GOV/0401/saraban", "TH/GOV/1501/hr", "telework.order/v1"


@pytest.fixture
def quiet_pg_hub(tmp_path) -> Iterator[Hub]:  # noqa: ANN001
    """A hub on PostgreSQL + RabbitMQ with no relay or delivery thread: the test moves each step."""
    reset_mailboxes()
    with ExitStack() as stack:
        hub = build_hub(backend_settings("postgres+rabbitmq", tmp_path / "data", stack))
        try:
            yield hub
        finally:
            hub.close()


def accept(hub: Hub, step: str) -> tuple[str, str]:
    """The sender's id (what the receiver applies) and the hub's key (what the transport moves)."""
    accepted = hub.messages.accept(Envelope(sender=SENDER, receiver=RECEIVER, service=SERVICE,
                                            correlation_id="กค 0401/77", payload={"step": step}))
    return accepted.id, message_key(SENDER, accepted.id)


@pytest.mark.services
def test_a_successor_queued_while_its_predecessors_outcome_commits_is_handed_out_again(quiet_pg_hub):
    """The race: the successor is still ``accepted`` when the predecessor's outcome transaction
    looks for waiting successors; before that transaction commits, the relay marks the successor
    ``queued`` and publishes it, and a worker's claim still sees the predecessor ``delivering``
    and leaves it. Nothing may then leave the successor waiting for its lease to run out."""
    hub = quiet_pg_hub
    hub.router.add(RouteIn(receiver=RECEIVER, service=SERVICE, adapter="memory", settings={"mailbox": "ordered"}))
    deliverer = Deliverer(hub.engine, hub.router, hub.adapter_pool, attempt_timeout=5)
    other_worker = Deliverer(hub.engine, hub.router, hub.adapter_pool, attempt_timeout=5)
    try:
        first, first_key = accept(hub, "acknowledge")
        assert hub.relay.run_once() == 1
        [claim] = deliverer.claim([first_key])
        second, second_key = accept(hub, "accept")

        seen: dict[str, object] = {}

        def before_outcome_commits(conn) -> None:  # noqa: ANN001
            if seen:  # only the outcome's own commit, not the ones this makes or any later
                return
            seen["handed_out"] = None
            seen["handed_out"] = hub.relay.run_once()
            seen["claimed"] = other_worker.claim([second_key])

        event.listen(hub.engine, "commit", before_outcome_commits)
        try:
            assert deliverer.record_async(deliverer.attempt(claim)).result() == "delivered"
        finally:
            event.remove(hub.engine, "commit", before_outcome_commits)
        assert seen == {"handed_out": 1, "claimed": []}  # the interleaving happened as described

        assert hub.relay.run_once() == 1, "the successor must be due again at once, not after its lease"
        assert deliverer.deliver(second_key) == "delivered"
        assert list(mailbox("ordered").applied) == [first, second]
    finally:
        deliverer.close()
        other_worker.close()


@pytest.fixture
def quiet_hub(backend, tmp_path) -> Iterator[Hub]:  # noqa: ANN001
    """A hub on either backend with no relay or delivery thread."""
    reset_mailboxes()
    with ExitStack() as stack:
        hub = build_hub(backend_settings(backend, tmp_path / "data", stack))
        try:
            yield hub
        finally:
            hub.close()


def test_a_backlog_in_one_conversation_is_handed_out_one_message_at_a_time(quiet_hub):
    """Each finished message hands out the next of its conversation only: the later ones still
    wait for that one, and handing them all out again on every step made a backlog of n
    messages cost n²/2 hand-outs and skipped claims."""
    hub = quiet_hub
    hub.router.add(RouteIn(receiver=RECEIVER, service=SERVICE, adapter="memory", settings={"mailbox": "ordered"}))
    deliverer = Deliverer(hub.engine, hub.router, hub.adapter_pool, attempt_timeout=5)
    try:
        accepted = [accept(hub, f"step {n}") for n in range(5)]
        ids, keys = [a[0] for a in accepted], [a[1] for a in accepted]
        assert hub.relay.run_once() == 5
        [first] = deliverer.claim(keys)  # the rest wait for it
        assert first.meta.key == keys[0]
        assert deliverer.record_async(deliverer.attempt(first)).result() == "delivered"
        for n in range(1, 5):
            statuses = [hub.messages.get_meta(k).status for k in keys[n:]]
            assert statuses == ["accepted"] + ["queued"] * (4 - n)  # the next one alone is handed out again
            assert hub.relay.run_once() == 1
            assert deliverer.deliver(keys[n]) == "delivered"
        assert list(mailbox("ordered").applied) == ids
    finally:
        deliverer.close()
