"""Two federated hubs for tests: H1 hosts department 0401, H2 hosts 0402 (and 1012).

H1 reaches H2 as a client (push outbound, pull inbound; hub/adapters/ecms/node/federation.py):
on H1, department 0402 is routed with the ``ecms`` adapter to H2's node, logging in there
as department 0401; on H2, 0401 is an ordinary queue department that H1 polls.

Run as a module (``python -m tests.support.federation serve ...``, what ``HubProcess(...,
module=KILL_BEFORE_DELETE)`` does), it is ``hub`` with one fault injected: the process
SIGKILLs itself as soon as an item polled from a peer is committed, before the poll deletes
it on the peer (the crash test in tests/e2e/test_ecms_federation.py).
"""
from __future__ import annotations

import os
import runpy
import signal
from typing import Any

from hub.bootstrap import Hub
from hub.transport.inbound import TransportSink
from tests.support.ecms import grant_letters, register_departments

KILL_BEFORE_DELETE = "tests.support.federation"  # the module HubProcess runs for that fault

# On H1: the ministry, our own department (its e-Saraban logs in with secret-0401) and the
# remote one, reached through H2.
H1_LOCAL = [
    ("0400", "0400", "กระทรวงการคลัง", None, "001", None),
    ("0401", "0400", "สำนักงานปลัดกระทรวงการคลัง", "TH/GOV/0401/saraban", "004", "secret-0401"),
]
REMOTE_0402 = ("0402", "0400", "สำนักงานเศรษฐกิจการคลัง", "TH/GOV/0402/saraban", "002")


def peer_settings(h2_url: str, **overrides: Any) -> dict[str, Any]:
    """``ecms`` route settings of H1 for H2: log in as 0401 with its H2 secret."""
    values: dict[str, Any] = {"url": h2_url, "department": "0401", "username": "0401", "password": "secret-0401",
                              "poll_interval_seconds": 0.2, "timeout_seconds": 10}
    values.update(overrides)
    return values


def setup_h2(hub: Hub) -> None:
    """H2 is a plain node: 0401 is H1's department, a queue H1 polls."""
    register_departments(hub)


def setup_h1(hub: Hub, h2_url: str, **overrides: Any) -> None:
    for code, ministry, name, party, clearance, secret in H1_LOCAL:
        hub.ecms.register_department(code, ministry, name, party=party, clearance=clearance, secret=secret)
    code, ministry, name, party, clearance = REMOTE_0402
    hub.ecms.register_department(code, ministry, name, party=party, clearance=clearance, adapter="ecms",
                                 adapter_settings=peer_settings(h2_url, **overrides))
    grant_letters(hub, [d[3] for d in H1_LOCAL if d[3]] + [party])


def kill_after_inbound_commit() -> None:
    """Make every inbound accept SIGKILL this process once the accept has committed: for an
    e-CMS poll, between the accept here and the delete on the remote node."""
    commit = TransportSink.accept

    def accept_then_die(self: TransportSink, envelope: Any) -> Any:
        commit(self, envelope)
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable: SIGKILL cannot be handled")

    TransportSink.accept = accept_then_die  # type: ignore[method-assign]


if __name__ == "__main__":
    kill_after_inbound_commit()
    runpy.run_module("hub", run_name="__main__", alter_sys=True)
