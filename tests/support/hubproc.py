"""A hub running as a real subprocess, so tests can SIGKILL it and start it again."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from hub.config import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def settings_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update({
        "HUB_DATA_DIR": str(settings.data_dir),
        "HUB_DATABASE_URL": settings.effective_database_url,
        "HUB_BROKER_URL": settings.effective_broker_url,
        "HUB_QUEUE_NAME": settings.queue_name,
        "HUB_REQUEUE_AFTER_SECONDS": str(settings.requeue_after_seconds),
        "HUB_RELAY_INTERVAL_SECONDS": str(settings.relay_interval_seconds),
        # The claim lease of a delivery is twice this: after a SIGKILL, the messages the killed
        # process had claimed wait that long (60 s with the default) before another takes them.
        "HUB_DELIVERY_TIMEOUT_SECONDS": str(settings.delivery_timeout_seconds),
        "HUB_SQLITE_SYNCHRONOUS": settings.sqlite_synchronous,
        "HUB_LOG_LEVEL": "WARNING",
    })
    return env


class _Process:
    """A hub process the tests start, SIGKILL and stop."""

    proc: subprocess.Popen | None = None

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


class HubProcess(_Process):
    """``python -m <module> serve`` in a subprocess; ``module`` is ``hub`` unless a test runs the
    hub behind a fault-injecting entry module (e.g. ``tests.support.federation``)."""

    def __init__(self, settings: Settings, log_path: Path, *args: str, env: dict[str, str] | None = None,
                 module: str = "hub") -> None:
        self.module = module
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._env = {**settings_env(settings), **(env or {})}
        self._args = args
        self._log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> HubProcess:
        log = open(self._log_path, "ab")  # noqa: SIM115  (closed with the process)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.module, "serve", "--port", str(self.port), *self._args],
            env=self._env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        # One client for every poll: a new httpx client per call builds a TLS context (~20 ms of
        # CPU), which polling at 10 Hz turned into a fifth of a core while the hub started.
        with httpx.Client(timeout=1) as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"hub exited with {self.proc.returncode}; see {self._log_path}")
                try:
                    if http.get(f"{self.url}/healthz").status_code == 200:
                        return self
                except httpx.HTTPError:
                    time.sleep(0.1)
        raise RuntimeError(f"hub did not become healthy; see {self._log_path}")


class WorkerProcess(_Process):
    """``python -m hub worker``: relay and deliveries in a process of its own, to SIGKILL."""

    def __init__(self, settings: Settings | None, log_path: Path, env: dict[str, str] | None = None) -> None:
        self._env = {**(settings_env(settings) if settings is not None else {}), **(env or {})}
        self._log_path = log_path
        self.proc = None

    def start(self) -> WorkerProcess:
        log = open(self._log_path, "ab")  # noqa: SIM115  (closed with the process)
        self.proc = subprocess.Popen([sys.executable, "-m", "hub", "worker"], env=self._env, stdout=log,
                                     stderr=subprocess.STDOUT)
        time.sleep(0.5)
        if self.proc.poll() is not None:
            raise RuntimeError(f"worker exited with {self.proc.returncode}; see {self._log_path}")
        return self
