"""SIGKILL the hub twice in the middle of a burst: nothing accepted is lost or applied twice.

``HUB_CRASH_RECOVERY_MESSAGES`` sets the burst. The default (500) keeps the suite's run short
while each kill still lands with requests in flight from every sender and a backlog waiting
for delivery; the 2,000-message soak is ``HUB_CRASH_RECOVERY_MESSAGES=2000``.
"""
import os
import threading
import time
import uuid
from contextlib import ExitStack

import httpx
import pytest

from hub.demo.receiver import AgencyInbox
from hub.schemas.envelope import message_key
from tests.conftest import BACKENDS, backend_settings
from tests.support.auth import register_receiver
from tests.support.hubproc import HubProcess
from tests.support.waiting import wait_for

TOTAL = int(os.environ.get("HUB_CRASH_RECOVERY_MESSAGES", "500"))
KILL_AT = (TOTAL // 4, TOTAL * 13 // 20)  # a quarter and about two thirds in


SENDERS = 4
HEADERS: dict[str, str] = {}


def admin_headers(settings) -> dict[str, str]:
    """A hub admin's token, minted with the hub's key in the data directory before the hub starts."""
    from hub.bootstrap import build_hub
    from hub.security.wiring import security_of

    hub = build_hub(settings)
    try:
        security = security_of(hub)
        security.credentials.create("crash-test-admin", actor="tests", roles=("admin",), with_secret=False)
        return {"Authorization": f"Bearer {security.tokens.issue('crash-test-admin', ttl_seconds=3600).token}"}
    finally:
        hub.close()


def post_until_accepted(client, url_of, envelope) -> None:
    """A well-behaved client: on a dropped connection it re-posts the same id (idempotent)."""
    while True:
        try:
            response = client.post(f"{url_of()}/v1/messages", json=envelope, timeout=10)
        except httpx.HTTPError:
            time.sleep(0.05)
            continue
        if response.status_code == 202:
            return
        if response.status_code >= 500:
            time.sleep(0.05)
            continue
        raise AssertionError(f"unexpected {response.status_code}: {response.text}")


def delivered_count(url, client=httpx) -> int:
    """Messages the hub lists as delivered; ``client``: an ``httpx.Client`` to reuse while polling."""
    count, cursor = 0, None
    while True:
        params = {"status": "delivered", "limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"{url}/v1/messages", params=params, timeout=10, headers=HEADERS).json()
        count += len(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return count


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_sigkill_twice_mid_burst_loses_nothing_and_applies_once(backend, tmp_path):
    with ExitStack() as stack:
        settings = backend_settings(backend, tmp_path / "data", stack, requeue_after_seconds=2.0)
        inbox = stack.enter_context(AgencyInbox("hr"))
        HEADERS.update(admin_headers(settings))
        hub = HubProcess(settings, tmp_path / "hub.log").start()
        stack.callback(hub.stop)
        register_receiver(httpx, "TH/GOV/1501/hr", url=hub.url, headers=HEADERS)
        httpx.post(f"{hub.url}/v1/routes", headers=HEADERS, json={
            "receiver": "TH/GOV/1501/hr", "service": "*", "adapter": "http", "settings": {"url": inbox.url},
            "max_attempts": 50, "backoff_base_seconds": 0.1, "backoff_max_seconds": 1,
        }).raise_for_status()

        ids = [str(uuid.uuid4()) for _ in range(TOTAL)]
        accepted = 0
        lock = threading.Lock()

        def send_share(share):
            nonlocal accepted
            with httpx.Client(headers=HEADERS) as client:
                for i in share:
                    post_until_accepted(client, lambda: hub.url, {
                        "id": ids[i], "sender": "TH/GOV/0401/saraban", "receiver": "TH/GOV/1501/hr",
                        "service": "hr.attendance/v1", "payload": {"seq": i},
                    })
                    with lock:
                        accepted += 1

        senders = [threading.Thread(target=send_share, args=(range(k, TOTAL, SENDERS),), daemon=True)
                   for k in range(SENDERS)]
        for thread in senders:
            thread.start()
        for threshold in KILL_AT:
            wait_for(lambda: accepted >= threshold, timeout=120, what=f"{threshold} accepted")
            hub.kill()
            time.sleep(0.3)
            hub.start()
        for thread in senders:
            thread.join(timeout=180)
        assert accepted == TOTAL, f"only {accepted} accepted"

        with httpx.Client() as poller:
            wait_for(lambda: delivered_count(hub.url, poller) == TOTAL, timeout=180, interval=0.5,
                     what="all delivered")
        assert set(inbox.applied) == {message_key("TH/GOV/0401/saraban", i) for i in ids}  # Idempotency-Key
        assert len(inbox.applied) == TOTAL
        assert sum(inbox.received.values()) >= TOTAL
