"""Run the hub's API in a background thread of this process (demo, tests, bench)."""
from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn

from hub.api.app import create_app
from hub.bootstrap import Hub


class BackgroundServer:
    def __init__(self, hub: Hub, host: str = "127.0.0.1", port: int = 0, *, embedded_worker: bool = True) -> None:
        config = uvicorn.Config(create_app(hub, embedded_worker=embedded_worker), host=host, port=port,
                                log_level="warning", access_log=False, lifespan="on", proxy_headers=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="hub-api", daemon=True)

    def start(self, timeout: float = 20.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the hub's API did not start (is the port already in use?)")
            time.sleep(0.02)
        return self

    @property
    def url(self) -> str:
        sock = self._server.servers[0].sockets[0]
        host, port = sock.getsockname()[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)


def serve_until_interrupted(console: Any, message: str) -> None:
    """Keep the demo's hub serving (its threads run on) until Ctrl-C."""
    console.print(f"{message}; Ctrl-C stops")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        console.print("stopping")
