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


SIGN_IN_USER = "demo-admin"


def demo_sign_in(hub: Hub) -> tuple[str, str]:
    """A person to explore the serving demo with: a hub admin with a fresh random password
    (the demo's data directory is recreated on every run, so it is new each time)."""
    import secrets

    password = secrets.token_urlsafe(12)
    hub.security.users.add(SIGN_IN_USER, password, roles=("admin",), actor="demo", clearance="004")
    return SIGN_IN_USER, password


def serve_until_interrupted(console: Any, message: str, *, hub: Hub | None = None, url: str | None = None) -> None:
    """Keep the demo's hub serving (its threads run on) until Ctrl-C; with ``hub`` and ``url``,
    first print a sign-in to explore it with."""
    if hub is not None and url is not None:
        user, password = demo_sign_in(hub)
        console.print(f"console: {url}/console — sign in as [bold]{user}[/bold], password [bold]{password}[/bold] "
                      f"(API docs: {url}/docs; a session for the API: POST {url}/v1/auth/login)", soft_wrap=True)
    console.print(f"{message}; Ctrl-C stops")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        console.print("stopping")
