"""First run: a busy port is one line that says what to do; the serving demo prints a sign-in
that works."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.hubproc import free_port


def hub_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "hub", *args]


@pytest.mark.parametrize("command", [["serve"], ["demo", "--once", "--transport-only"]])
def test_a_busy_port_is_one_line_naming_it(tmp_path: Path, command: list[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(hub_cmd(*command, "--port", str(port), "--data-dir", str(tmp_path / "d")),
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "Traceback" not in done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, done.stdout
    assert f"port {port} on 127.0.0.1 is already in use" in lines[0] and "--port" in lines[0]


def test_the_serving_demo_prints_a_sign_in_that_works(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(hub_cmd("demo", "--transport-only", "--port", str(port), "--data-dir",
                                    str(tmp_path / "demo")),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "COLUMNS": "200"})
    try:
        seen = []
        deadline = time.monotonic() + 240
        found = None
        while time.monotonic() < deadline and found is None:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            found = re.search(r"console: (\S+) — sign in as (\S+), password (\S+)", line)
        assert found, "".join(seen)[-3000:]
        console, user, password = found.groups()
        assert console == f"http://127.0.0.1:{port}/console"
        assert httpx.get(f"{console}/signin").status_code == 200
        answer = httpx.post(f"http://127.0.0.1:{port}/v1/auth/login", json={"username": user, "password": password})
        assert answer.status_code == 200, answer.text
        session = answer.json()["session_token"]
        whoami = httpx.get(f"http://127.0.0.1:{port}/v1/auth/whoami", headers={"Authorization": f"Bearer {session}"})
        assert whoami.status_code == 200 and "admin" in whoami.text
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
