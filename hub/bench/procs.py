"""Processes the bench starts on loopback, and what it measures of them (CPU, peak RSS)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import orjson
import psutil


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PortTaken(RuntimeError):
    pass


class Proc:
    """A Python module run as a server process, ready once its health URL answers."""

    # A port found free can be taken before the process binds it (an outgoing connection of
    # the load generator, or another program, gets it from the same ephemeral range): the
    # process then exits saying so, and is started again on another port.
    PORT_TRIES = 5

    def __init__(self, module: str, args: list[str], env: dict[str, str], log: Path, health: str | None) -> None:
        """``health=None``: a process without an HTTP port, ready once it has run for a second."""
        self._module, self._args = module, args
        self._env = env
        self._log = log
        self._health = health
        self.popen: subprocess.Popen | None = None
        self._choose_port()

    def _choose_port(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._cmd = [sys.executable, "-m", self._module, *self._args,
                     *(["--port", str(self.port)] if self._health else [])]

    def __enter__(self) -> Proc:
        for _ in range(self.PORT_TRIES - 1):
            try:
                return self._start()
            except PortTaken:
                self._choose_port()
        return self._start()

    def _start(self) -> Proc:
        logged = self._log.stat().st_size if self._log.exists() else 0
        with open(self._log, "ab") as log:
            self.popen = subprocess.Popen(self._cmd, env=self._env, stdout=log, stderr=subprocess.STDOUT)
        try:
            return self._ready()
        except RuntimeError:
            with open(self._log, "rb") as log:
                log.seek(logged)
                if self._health and b"already in use" in log.read():
                    raise PortTaken(self.port) from None
            raise

    def _ready(self) -> Proc:
        if self._health is None:
            time.sleep(1.0)
            if self.popen.poll() is not None:
                raise RuntimeError(f"{' '.join(self._cmd)} exited with {self.popen.returncode}; see {self._log}")
            return self
        deadline = time.monotonic() + 60
        # One client for every poll: each new httpx client builds a TLS context (~20 ms of CPU),
        # which made polling at 10 Hz cost more than the process being waited for.
        with httpx.Client(timeout=1) as http:
            while time.monotonic() < deadline:
                if self.popen.poll() is not None:
                    raise RuntimeError(f"{' '.join(self._cmd)} exited with {self.popen.returncode}; see {self._log}")
                try:
                    if http.get(self.url + self._health).status_code < 500:
                        return self
                except httpx.HTTPError:
                    time.sleep(0.1)
        raise RuntimeError(f"{' '.join(self._cmd)} did not become healthy; see {self._log}")

    def __exit__(self, *exc: object) -> None:
        if self.popen and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid


class Meter:
    """CPU seconds and peak RSS of process trees (the hub and its worker processes) while a
    block runs. CPU seconds per message, unlike throughput, hardly depends on what else the
    machine is doing, so it shows progress on a shared machine."""

    def __init__(self, *pids: int, interval: float = 0.02) -> None:
        self._procs = [psutil.Process(pid) for pid in pids]
        self._interval = interval
        self._stop = threading.Event()
        self.rss_start = self._rss()
        self.rss_peak = self.rss_start
        self.cpu_percent = 0.0
        self.cpu_seconds = 0.0
        self.messages: int | None = None  # set by the scenario: what the CPU seconds were spent on

    # Listing a tree's children reads every process of the machine (about 1.6 ms of CPU with
    # 120 processes); sampled every 20 ms (5 ms for large payloads) that was the meter's own
    # load on the machine. The sampler re-lists the tree this often and reads RSS in between.
    TREE_REFRESH_SECONDS = 0.25

    def _tree(self) -> list[psutil.Process]:
        return [q for p in self._procs for q in (p, *p.children(recursive=True))]

    def _rss(self, tree: list[psutil.Process] | None = None) -> int:
        return sum(p.memory_info().rss for p in (self._tree() if tree is None else tree))

    def _cpu(self) -> float:
        return sum(p.cpu_times().user + p.cpu_times().system for p in self._tree())

    def _sample(self) -> None:
        tree, listed = self._tree(), time.monotonic()
        while not self._stop.wait(self._interval):
            if time.monotonic() - listed > self.TREE_REFRESH_SECONDS:
                tree, listed = self._tree(), time.monotonic()
            try:
                rss = self._rss(tree)
            except psutil.NoSuchProcess:  # a child ended since the tree was listed
                tree, listed = self._tree(), time.monotonic()
                rss = self._rss(tree)
            self.rss_peak = max(self.rss_peak, rss)

    def __enter__(self) -> Meter:
        self._cpu0, self._t0 = self._cpu(), time.perf_counter()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.rss_peak = max(self.rss_peak, self._rss())
        wall = time.perf_counter() - self._t0
        self.cpu_seconds = self._cpu() - self._cpu0
        self.cpu_percent = 100.0 * self.cpu_seconds / wall if wall else 0.0

    def as_dict(self) -> dict:
        per_message = self.cpu_seconds / self.messages if self.messages else None
        return {"cpu_percent": round(self.cpu_percent, 1), "cpu_seconds": round(self.cpu_seconds, 3),
                "cpu_ms_per_message": None if per_message is None else round(per_message * 1000, 3),
                "rss_start_mib": round(self.rss_start / 2**20, 1), "rss_peak_mib": round(self.rss_peak / 2**20, 1)}


def loadgen(url: str, *, concurrency: int, duration: float, payload_bytes: int = 2048, rate: float | None = None,
            standard: str | None = None, token: str | None = None, receiver: str = "TH/GOV/BENCH/sink",
            payload_file: Path | None = None, open_loop: bool = False) -> dict:
    """Run the load generator as its own process and return its JSON report."""
    cmd = [sys.executable, "-m", "hub.bench.loadgen", "--url", url + "/v1/messages",
           "--concurrency", str(concurrency), "--duration", str(duration), "--payload-bytes", str(payload_bytes),
           "--receiver", receiver]
    if rate:
        cmd += ["--rate", str(rate)] + (["--open-loop"] if open_loop else [])
    if standard:
        cmd += ["--standard", standard]
    if payload_file:
        cmd += ["--payload-file", str(payload_file)]
    if token:
        cmd += ["--token", token]
    out = subprocess.run(cmd, capture_output=True, check=True, timeout=duration + 120, env=os.environ.copy())
    return orjson.loads(out.stdout.splitlines()[-1])
