"""Runs every scenario on every backend, each next to its baseline, and collects the results."""
from __future__ import annotations

import platform
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import psutil

from hub.bench.backends import BackendEnv, Embedded, Services
from hub.bench.baselines import raw_broker, raw_inserts
from hub.bench.loadgen import SENDER
from hub.bench.procs import Meter, Proc, loadgen
from hub.bench.provision import ECMS_DEPARTMENTS, ECMS_MINISTRY, LARGE_SERVICE, SINK, provision

# The ingest document: a real telework agreement (about 2 KB), so that plain and validated
# ingest differ only by the validation.
INGEST_STANDARD = "th.telework.agreement@1.0.0"
INGEST_DOCUMENT = "th.telework.agreement/1.0.0/examples/valid/regular.json"


@dataclass
class Options:
    duration: float = 10.0
    concurrency: int = 32
    payload_bytes: int = 2048
    large_mib: int = 50
    workers: int = 2
    pg_admin_dsn: str = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672//"
    backends: tuple[str, ...] = ("embedded", "postgres+rabbitmq")
    # Which scenarios to run (SCENARIOS); empty: all but scale-out, which runs when api_processes > 1.
    scenarios: tuple[str, ...] = ()
    api_processes: int = 1
    # The end-to-end loads run at least this long, so delivery reaches its steady state
    # (backlog, batches, connection reuse) rather than measuring the start-up.
    steady_seconds: float = 0.0


DRAIN_MIN_LOAD_SECONDS = 2.0
RAW_ECMS_SCENARIO = "e-CMS letter 1 MiB, raw SOAP client (send+poll+delete)"
SCENARIOS = ("ingest", "end-to-end", "drain", "fan-out", "large", "e-cms", "idle", "record", "auth-flood", "scale-out")


@dataclass
class Results:
    machine: dict[str, Any]
    options: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def add(self, **row: Any) -> None:
        self.rows.append(row)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError as exc:
        cpu = f"unknown ({exc})"
    libs = {name: version(name) for name in ("fastapi", "uvicorn", "pydantic", "SQLAlchemy", "kombu", "orjson")}
    return {"cpu": cpu, "cores": psutil.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform(), "libraries": libs}


class Runner:
    def __init__(self, options: Options, progress: Any = None) -> None:
        self.o = options
        self.root = Path(tempfile.mkdtemp(prefix="hub-bench-"))
        self.results = Results(machine(), options.__dict__.copy())
        self._progress = progress or (lambda text: None)

    def run(self) -> Results:
        from hub.config import Settings

        self.standards_dir = Settings().standards_dir  # HUB_STANDARDS_DIR reaches the hubs it starts too
        self.document = self.standards_dir / INGEST_DOCUMENT
        chosen = set(self.o.scenarios) or set(SCENARIOS) - ({"scale-out"} if self.o.api_processes <= 1 else set())
        bare_run = None
        if "ingest" in chosen:
            self._progress("baseline: bare FastAPI")
            with Proc("hub.bench.bare", [], BackendEnv(self.root, "", "", "").environ(), self.root / "bare.log",
                      "/healthz") as bare:
                bare_run = loadgen(bare.url, concurrency=self.o.concurrency, duration=self.o.duration,
                                   payload_file=self.document)
        backends = {"embedded": Embedded(), "postgres+rabbitmq": Services(self.o.pg_admin_dsn, self.o.amqp_url)}
        for name in self.o.backends:
            backend = backends[name]
            reason = backend.unavailable()
            if reason:
                self.results.skipped[name] = reason
                continue
            if "ingest" in chosen:
                self._ingest(backend, bare_run)
            if "end-to-end" in chosen:
                self._end_to_end(backend)
            if "drain" in chosen:
                self._drain(backend)
            if "fan-out" in chosen:
                self._fanout(backend)
            if "large" in chosen:
                self._large(backend)
            if "e-cms" in chosen:
                self._ecms(backend)
            if "idle" in chosen:
                self._idle(backend)
            if "record" in chosen:
                self._record(backend)
            if "auth-flood" in chosen:
                self._auth_flood(backend)
            if "scale-out" in chosen:
                for api in range(1, max(1, self.o.api_processes) + 1):
                    self._end_to_end(backend, api_processes=api)
        return self.results

    def _hub(self, env: BackendEnv, *, worker: bool, api_processes: int = 1, **extra: str) -> Proc:
        args = ["serve"] + ([] if worker else ["--no-embedded-worker"])
        if api_processes > 1:
            args += ["--workers", str(api_processes)]
        return Proc("hub", args, env.environ(**extra), self.root / "hub.log", "/healthz")

    def _ingest(self, backend: Any, bare_run: dict) -> None:
        self._progress(f"{backend.name}: ingest")
        with backend.fresh(self.root) as env:
            token = provision(env, "http://127.0.0.1:9/unused").token
            with self._hub(env, worker=False) as hub:
                load = {"concurrency": self.o.concurrency, "duration": self.o.duration, "token": token,
                        "payload_file": self.document}
                with Meter(hub.pid) as meter:
                    run = loadgen(hub.url, **load)
                meter.messages = run["ok"]
                half = loadgen(hub.url, rate=max(1.0, run["per_second"] / 2), **load)
                self._progress(f"{backend.name}: ingest at twice the sustainable rate")
                double = loadgen(hub.url, rate=2 * max(1.0, run["per_second"]), open_loop=True, **load)
        # On a store of its own, as the plain run had: the runs before leave tens of thousands
        # of messages, and on SQLite each accept costs more and waits longer as the store grows,
        # which the ratio would have counted against the validation.
        self._progress(f"{backend.name}: ingest with validation")
        with backend.fresh(self.root) as env:
            token = provision(env, "http://127.0.0.1:9/unused").token
            with self._hub(env, worker=False) as hub:
                with Meter(hub.pid) as validated_meter:
                    validated = loadgen(hub.url, standard=INGEST_STANDARD, **{**load, "token": token})
                validated_meter.messages = validated["ok"]
        self.results.add(scenario="ingest", backend=backend.name, **_figures(run), **meter.as_dict(),
                         baseline="bare FastAPI", baseline_per_second=bare_run["per_second"],
                         ratio=_ratio(run, bare_run), target="≥ 0.50 of bare FastAPI")
        self.results.add(scenario="ingest at half rate", backend=backend.name, **_figures(half),
                         baseline=None, baseline_per_second=None, ratio=None, target="p99 ≤ 20 ms")
        self.results.add(scenario="ingest at 2× the sustainable rate (open loop)", backend=backend.name,
                         **_figures(double), sent=double["sent"], refused=double["refused_with_retry_after"],
                         refused_latency=double["refused_latency"], baseline=None, baseline_per_second=None,
                         ratio=None, target="excess refused 503 + Retry-After; p99 accept bounded")
        self.results.add(scenario="validated ingest", backend=backend.name, **_figures(validated),
                         **validated_meter.as_dict(),
                         baseline="ingest without validation", baseline_per_second=run["per_second"],
                         ratio=_ratio(validated, run), target="≥ 0.70 of ingest")
        self._progress(f"{backend.name}: raw inserts")
        with backend.fresh(self.root) as env:
            raw = raw_inserts(env.database_url, concurrency=self.o.concurrency, duration=self.o.duration,
                              payload_bytes=self.o.payload_bytes)
        self.results.add(scenario="ingest vs raw inserts", backend=backend.name, **_figures(run),
                         baseline="raw inserts", baseline_per_second=raw["per_second"], ratio=_ratio(run, raw),
                         target=None)

    def _end_to_end(self, backend: Any, *, api_processes: int | None = None) -> None:
        """Accept at full speed, deliver to an HTTP receiver. ``api_processes`` set: the
        scale-out form, ``hub serve --workers N --no-embedded-worker`` plus ``workers`` worker
        processes; otherwise one ``hub serve`` with its embedded worker plus ``workers - 1``."""
        scale_out = api_processes is not None
        label = f"{api_processes} API + {self.o.workers} worker processes" if scale_out else "end-to-end"
        self._progress(f"{backend.name}: {label}")
        duration = max(self.o.duration, self.o.steady_seconds)
        with backend.fresh(self.root) as env, Proc("hub.bench.sink", [], env.environ(), self.root / "sink.log",
                                                     "/stats") as sink:
            token = provision(env, sink.url + "/inbox").token
            extra = {"HUB_WORKER_CONCURRENCY": "32"}
            hub_proc = self._hub(env, worker=not scale_out, api_processes=api_processes or 1, **extra)
            with hub_proc as hub, self._workers(env, extra, self.o.workers if scale_out else self.o.workers - 1) as pids:
                started = time.time()
                with Meter(hub.pid, *pids) as meter:
                    run = loadgen(hub.url, concurrency=self.o.concurrency, duration=duration,
                                  payload_bytes=self.o.payload_bytes, token=token)
                    stats = _wait_delivered(sink.url, run["ok"], timeout=max(60.0, duration * 10))
                meter.messages = stats["delivered"]
            delivered_per_second = stats["delivered"] / max(1e-9, stats["last_at"] - started) if stats["last_at"] else 0
            queue = f"{env.queue_name}.baseline"
            raw = raw_broker(env.broker_url, queue, count=max(200, min(20000, run["ok"])))
        if not scale_out:
            self._plain_e2e = {**getattr(self, "_plain_e2e", {}), backend.name: delivered_per_second}
        self.results.add(scenario=f"end-to-end, {label}" if scale_out else "end-to-end", backend=backend.name, per_second=delivered_per_second,
                         ok=stats["delivered"], errors=run["errors"], latency=stats["latency"],
                         duplicates=stats["duplicates"], **meter.as_dict(), baseline="raw kombu publish+consume",
                         baseline_per_second=raw["per_second"],
                         ratio=delivered_per_second / raw["per_second"] if raw["per_second"] else None,
                         target="≥ 1000 delivered/s (postgres+rabbitmq)")

    def _drain(self, backend: Any) -> None:
        """Delivery alone: a backlog accepted first (no worker running), then ``workers`` worker
        processes deliver it while nothing else runs; their CPU per message is the delivery
        path's own cost, apart from the accept path's."""
        self._progress(f"{backend.name}: drain a backlog")
        # At least DRAIN_MIN_LOAD_SECONDS of accepts: a short load on a busy machine left a
        # backlog of a few dozen, delivered in one claim batch before the meter could start.
        duration = max(self.o.duration, self.o.steady_seconds, DRAIN_MIN_LOAD_SECONDS)
        with backend.fresh(self.root) as env, Proc("hub.bench.sink", [], env.environ(), self.root / "sink.log",
                                                     "/stats") as sink:
            token = provision(env, sink.url + "/inbox").token
            extra = {"HUB_WORKER_CONCURRENCY": "32"}
            with self._hub(env, worker=False) as hub:
                run = loadgen(hub.url, concurrency=self.o.concurrency, duration=duration,
                              payload_bytes=self.o.payload_bytes, token=token)
                with self._workers(env, extra, max(1, self.o.workers)) as pids:
                    # Messages and CPU are both counted from the first delivery on: a worker's
                    # start-up (imports, connections; about a CPU second each) is not delivery.
                    # Polled finely, and counted from that same poll: a small backlog (a loaded
                    # machine's load generator gets few accepted) can drain within one coarse
                    # poll, which left no message to divide the CPU by.
                    first = _wait_delivered(sink.url, 1, timeout=60.0, poll_seconds=0.005)
                    with Meter(*pids) as meter:
                        started, before = time.time(), first["delivered"]
                        stats = _wait_delivered(sink.url, run["ok"], timeout=max(60.0, duration * 10))
                        meter.messages = stats["delivered"] - before
        per_second = meter.messages / max(1e-9, stats["last_at"] - started) if stats["last_at"] else 0
        self.results.add(scenario=f"drain a backlog ({max(1, self.o.workers)} workers)", backend=backend.name,
                         per_second=per_second, ok=stats["delivered"], errors=run["errors"], latency=None,
                         duplicates=stats["duplicates"], **meter.as_dict(), baseline=None, baseline_per_second=None,
                         ratio=None, target="delivery's own CPU ms/msg")

    def _fanout(self, backend: Any) -> None:
        """One event to 10 webhook subscribers, as deliveries per second next to plain end-to-end."""
        from hub.bench.fanout import SUBSCRIBERS, provision_fanout, publish_events

        self._progress(f"{backend.name}: fan-out to {SUBSCRIBERS} webhooks")
        with backend.fresh(self.root) as env, Proc("hub.bench.sink", [], env.environ(), self.root / "sink.log",
                                                     "/stats") as sink:
            token = provision_fanout(env, sink.url)
            extra = {"HUB_WORKER_CONCURRENCY": "32", "HUB_WEBHOOK_ALLOW_LOOPBACK": "true"}
            with self._hub(env, worker=True, **extra) as hub, self._workers(env, extra, self.o.workers - 1) as pids:
                started = time.time()
                with Meter(hub.pid, *pids) as meter:
                    events = publish_events(hub.url, token, self.standards_dir, duration=self.o.duration,
                                            concurrency=min(8, self.o.concurrency))
                    stats = _wait_delivered(sink.url, events * SUBSCRIBERS, timeout=max(60.0, self.o.duration * 20))
                meter.messages = stats["delivered"]
        per_second = stats["delivered"] / max(1e-9, stats["last_at"] - started) if stats["last_at"] else 0
        plain = getattr(self, "_plain_e2e", {}).get(backend.name)
        self.results.add(scenario=f"fan-out 1 event → {SUBSCRIBERS} webhooks", backend=backend.name,
                         per_second=per_second, ok=stats["delivered"], errors={}, latency=stats["latency"],
                         duplicates=stats["duplicates"], events=events, **meter.as_dict(),
                         baseline="plain end-to-end", baseline_per_second=plain,
                         ratio=per_second / plain if plain else None, target="deliveries/s")

    @contextmanager
    def _workers(self, env: BackendEnv, extra: dict[str, str], count: int) -> Iterator[list[int]]:
        """``count`` ``hub worker`` processes; yields their process ids (for the CPU meter)."""
        with ExitStack() as stack:
            procs = [stack.enter_context(Proc("hub", ["worker"], env.environ(**extra), self.root / "worker.log", None))
                     for _ in range(max(0, count))]
            yield [p.pid for p in procs]

    def _large(self, backend: Any) -> None:
        size = self.o.large_mib * 2**20
        self._progress(f"{backend.name}: {self.o.large_mib} MiB payload")
        with backend.fresh(self.root) as env, Proc("hub.bench.sink", [], env.environ(), self.root / "sink.log",
                                                     "/stats") as sink:
            token = provision(env, sink.url + "/inbox").token
            with self._hub(env, worker=True, HUB_MAX_PAYLOAD_BYTES=str(size + 2**20)) as hub:
                with Meter(hub.pid, interval=0.005) as meter:
                    started = time.perf_counter()
                    response = httpx.post(f"{hub.url}/v1/messages", content=_large_body(size), timeout=300,
                                          headers={"Content-Type": "application/json",
                                                   "Authorization": f"Bearer {token}"})
                    accepted = time.perf_counter() - started
                    response.raise_for_status()
                    stats = _wait_delivered(sink.url, 1, timeout=300)
                    delivered = time.perf_counter() - started
                meter.messages = 1
        growth = (meter.rss_peak - meter.rss_start) / size
        self.results.add(scenario=f"large payload {self.o.large_mib} MiB", backend=backend.name,
                         per_second=None, ok=stats["delivered"], accept_seconds=round(accepted, 3),
                         delivered_seconds=round(delivered, 3), **meter.as_dict(),
                         rss_growth_x_payload=round(growth, 2), baseline=None, baseline_per_second=None,
                         ratio=None, target="RSS growth < 2× payload")


    def _ecms(self, backend: Any) -> None:
        """Letters with a 1 MiB PDF: one agency's e-Saraban sends, the other polls and deletes."""
        from hub.bench.ecms_raw import RawLetterClient
        from hub.sim.esaraban import Esaraban, File, baseline_parse_validate, letter_roundtrip
        from hub.bench.stats import percentiles

        self._progress(f"{backend.name}: e-CMS letters")
        pdf = File("bench.pdf", "application/pdf", b"%PDF-1.4\n" + bytes(range(256)) * 4096)
        with backend.fresh(self.root) as env:
            provision(env, "http://127.0.0.1:9/unused")
            with self._hub(env, worker=True) as hub:
                agencies = [Esaraban(env.data_dir / f"esaraban-{code}", f"{hub.url}/ecms/service2", department=code,
                                     ministry=ECMS_MINISTRY, prefix=f"ทส {code}", username=code, password=password)
                            for code, _, password in ECMS_DEPARTMENTS]
                sender, receiver = agencies
                # Not timed, as the baseline's schema compilation is not: the first letter also
                # pays for the clients' WSDL, the hub's schema compilation and first connections.
                letter_roundtrip(sender, receiver, pdf.data)
                totals = []
                with Meter(hub.pid) as meter:
                    deadline = time.perf_counter() + self.o.duration
                    while time.perf_counter() < deadline or not totals:
                        totals.append(letter_roundtrip(sender, receiver, pdf.data)["total_seconds"])
                meter.messages = len(totals)
                wire = sender.wire_document(f"ทส {ECMS_DEPARTMENTS[0][0]}/1", pdf)
                # The same letters, the hub alone in the loop: the simulated sender's own request
                # bytes posted by a raw client (hub.bench.ecms_raw), after the simulators' row.
                raw = RawLetterClient(f"{hub.url}/ecms/service2", sender, receiver, pdf)
                try:
                    raw.roundtrip()  # not timed: the connections' first requests
                    raw_totals = []
                    with Meter(hub.pid) as raw_meter:
                        deadline = time.perf_counter() + self.o.duration
                        while time.perf_counter() < deadline or not raw_totals:
                            raw_totals.append(raw.roundtrip()["total_seconds"])
                    raw_meter.messages = len(raw_totals)
                finally:
                    raw.close()
                for agency in agencies:
                    agency.close()
        baseline = [baseline_parse_validate(wire, self.standards_dir) for _ in range(max(3, len(totals)))]
        per_second = len(totals) / sum(totals)
        baseline_per_second = len(baseline) / sum(baseline)
        self.results.add(scenario="e-CMS letter 1 MiB (send+poll+delete)", backend=backend.name,
                         per_second=per_second, ok=len(totals), errors={},
                         latency=percentiles(totals), **meter.as_dict(),
                         baseline="raw lxml parse + validate", baseline_per_second=baseline_per_second,
                         ratio=per_second / baseline_per_second, target=None)
        raw_per_second = len(raw_totals) / sum(raw_totals)
        self.results.add(scenario=RAW_ECMS_SCENARIO, backend=backend.name,
                         per_second=raw_per_second, ok=len(raw_totals), errors={},
                         latency=percentiles(raw_totals), **raw_meter.as_dict(),
                         baseline="raw lxml parse + validate", baseline_per_second=baseline_per_second,
                         ratio=raw_per_second / baseline_per_second, target=None)


    def _idle(self, backend: Any) -> None:
        """What a hub costs while it waits: one ``hub serve`` (API and embedded worker) with no
        traffic, its CPU over a quiet spell after start-up has settled."""
        self._progress(f"{backend.name}: idle")
        quiet = max(self.o.duration * 2, 5.0)
        with backend.fresh(self.root) as env, self._hub(env, worker=True) as hub:
            time.sleep(2.0)  # start-up work (migrations, standards, first polls) is not idling
            with Meter(hub.pid, interval=0.5) as meter:
                time.sleep(quiet)
        self.results.add(scenario="idle hub serve", backend=backend.name, per_second=None,
                         idle_seconds=round(quiet, 1), **meter.as_dict(), baseline=None, baseline_per_second=None,
                         ratio=None, target="CPU < 1% of a core")

    def _record(self, backend: Any) -> None:
        """A unified record from four live sources on loopback, next to the four source calls made directly."""
        from hub.bench.record import WARMUP_READS, measure, provision_record

        self._progress(f"{backend.name}: unified record from 4 sources")
        with backend.fresh(self.root) as env, Proc("hub.bench.record", [], env.environ(), self.root / "sources.log",
                                                     "/healthz") as sources:
            token = provision_record(env, sources.url)
            with self._hub(env, worker=False) as hub, Meter(hub.pid) as meter:
                # A latency target: a few readers at once, the same for the direct calls.
                found = measure(hub.url, sources.url, token, duration=self.o.duration, concurrency=2)
                # The hub's CPU per read (the direct calls that follow do not touch the hub).
                meter.messages = found["record"]["ok"] + WARMUP_READS
        run, slowest = found["record"], found["slowest"]
        p95, base = run["latency"]["p95"], slowest["latency"]["p95"]
        self.results.add(scenario="unified record, 4 sources", backend=backend.name, **_figures(run), **meter.as_dict(),
                         baseline="slowest source called directly", baseline_per_second=slowest["per_second"],
                         ratio=(p95 / base) if p95 and base else None, target="p95 ≤ 1.5× the slowest source (ratio of p95)",
                         direct={g: d["latency"] for g, d in found["direct"].items()})

    def _auth_flood(self, backend: Any) -> None:
        """Legitimate token requests alone, then under 40 parallel wrong-secret callers (issue 12)."""
        from hub.bench.authflood import FLOODERS, legitimate_latency, provision_client

        self._progress(f"{backend.name}: token requests under a wrong-secret flood")
        with backend.fresh(self.root) as env:
            client = provision_client(env)
            with self._hub(env, worker=False, HUB_TRUSTED_PROXIES='["127.0.0.1"]') as hub, Meter(hub.pid) as meter:
                alone, flooded = legitimate_latency(hub.url, client, duration=self.o.duration)
        self.results.add(scenario="token requests alone", backend=backend.name, **_figures(alone),
                         baseline=None, baseline_per_second=None, ratio=None, target=None)
        self.results.add(scenario=f"token requests, {FLOODERS} wrong-secret callers", backend=backend.name,
                         **_figures(flooded), flood_answers=flooded["flood_answers"], **meter.as_dict(),
                         baseline="token requests alone", baseline_per_second=alone["per_second"],
                         ratio=_ratio(flooded, alone), target="every call answered; RSS < 400 MiB")


def _large_body(size: int):  # noqa: ANN202
    head = ('{"id": "%s", "sender": "%s", "receiver": "%s", "service": "%s", "payload": {"blob": "'
            % (uuid.uuid4(), SENDER, SINK, LARGE_SERVICE)).encode()
    yield head
    chunk = b"x" * 2**20
    for _ in range(size // len(chunk)):
        yield chunk
    yield b'"}}'


def _wait_delivered(sink_url: str, expected: int, *, timeout: float, poll_seconds: float = 0.1) -> dict:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=10) as http:  # one client: a new one per poll costs a TLS context's CPU
        while True:
            stats = http.get(f"{sink_url}/stats").json()
            if stats["delivered"] >= expected or time.monotonic() > deadline:
                return stats
            time.sleep(poll_seconds)


def _figures(run: dict) -> dict:
    return {"per_second": run["per_second"], "ok": run["ok"], "errors": run["errors"], "latency": run["latency"]}


def _ratio(run: dict, baseline: dict) -> float | None:
    return run["per_second"] / baseline["per_second"] if baseline["per_second"] else None
