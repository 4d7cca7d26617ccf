"""``hub bench --quick --json`` with tiny settings: every scenario and baseline is reported.

A smoke test of the harness, not a speed assertion: the figures are only checked to exist
and be positive.
"""
import json
import subprocess
import sys

import pytest

from tests.conftest import BACKENDS
from tests.support import services

SCENARIOS = {"ingest", "ingest at half rate", "validated ingest", "ingest vs raw inserts", "end-to-end",
             "large payload 1 MiB", "e-CMS letter 1 MiB (send+poll+delete)",
             "e-CMS letter 1 MiB, raw SOAP client (send+poll+delete)", "idle hub serve",
             "fan-out 1 event → 10 webhooks", "drain a backlog (1 workers)",
             "unified record, 4 sources", "ingest at 2× the sustainable rate (open loop)",
             "token requests alone", "token requests, 40 wrong-secret callers"}
BASELINES = {"bare FastAPI", "ingest without validation", "raw inserts", "raw kombu publish+consume",
             "raw lxml parse + validate", "plain end-to-end", "slowest source called directly",
             "token requests alone"}


# One bench run per backend, so that parallel test workers run the two at once.
@pytest.mark.slow
@pytest.mark.timeout(900)  # every scenario, the fan-out included, on a shared machine
@pytest.mark.parametrize("backend", BACKENDS)
def test_bench_quick_json_has_every_scenario_and_baseline(tmp_path, backend):
    if backend != "embedded":
        services.need("postgresql", "rabbitmq")
    backends = [backend]
    out = tmp_path / "bench.json"
    cmd = [sys.executable, "-m", "hub", "bench", "--quick", "--duration", "0.5", "--concurrency", "4",
           "--large-mib", "1", "--workers", "1", "--json", str(out)]
    for backend in backends:
        cmd += ["--backend", backend]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=840)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert {"cpu", "cores", "python", "libraries"} <= set(report["machine"])
    assert report["skipped"] == {}
    for backend in backends:
        rows = [r for r in report["results"] if r["backend"] == backend]
        assert {r["scenario"] for r in rows} == SCENARIOS
        assert {r["baseline"] for r in rows if r["baseline"]} == BASELINES
        idle = next(r for r in rows if r["scenario"] == "idle hub serve")
        for row in rows:  # CPU seconds per message of the hub (and worker) processes, where messages were sent
            if row.get("cpu_ms_per_message") is not None:
                assert row["cpu_ms_per_message"] > 0 and row["cpu_seconds"] > 0, row
        assert {r["scenario"] for r in rows if r.get("cpu_ms_per_message")} >= {
            "ingest", "validated ingest", "end-to-end", "drain a backlog (1 workers)"}
        assert idle["idle_seconds"] >= 5 and idle["cpu_percent"] >= 0, idle
        for row in rows:
            if row is idle:
                continue
            assert row["ok"] >= 1, row
            if row["baseline"]:
                assert row["baseline_per_second"] > 0 and row["ratio"] > 0, row
        large = next(r for r in rows if r["scenario"].startswith("large payload"))
        double = next(r for r in rows if r["scenario"].startswith("ingest at 2×"))
        assert double["sent"] >= double["ok"] and double["refused"] >= 0, double
        flooded = next(r for r in rows if r["scenario"].startswith("token requests, "))
        assert flooded["errors"] == {} and flooded["flood_answers"], flooded
        assert large["rss_growth_x_payload"] >= 0 and large["delivered_seconds"] >= large["accept_seconds"]
    assert "ratio" in done.stdout
