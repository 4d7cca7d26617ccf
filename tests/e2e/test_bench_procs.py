"""The bench's server processes start even when the port chosen for them is taken before
they bind it (the load generator's outgoing connections share the ephemeral range)."""
from __future__ import annotations

import os
import socket

import httpx

from hub.bench import procs


def test_a_server_whose_port_was_taken_is_started_again_on_another(tmp_path, monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports = iter([taken.getsockname()[1]])
        real_free_port = procs.free_port
        monkeypatch.setattr(procs, "free_port", lambda: next(ports, None) or real_free_port())
        log = tmp_path / "sink.log"
        with procs.Proc("hub.bench.sink", [], dict(os.environ), log, "/stats") as sink:
            assert sink.port != taken.getsockname()[1]
            assert httpx.get(sink.url + "/stats").json()["delivered"] == 0
        assert b"already in use" in log.read_bytes()  # the first start did fail on the taken port
