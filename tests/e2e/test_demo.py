"""The main job: ``hub demo --once`` tells the telework story and exits 0."""
import subprocess
import sys

import pytest

from tests.support.hubproc import free_port


def run_demo(tmp_path, *extra):
    cmd = [sys.executable, "-m", "hub", "demo", "--once", "--data-dir", str(tmp_path / "demo"),
           "--port", str(free_port()), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_telework_story_runs_and_exits_zero(tmp_path):
    done = run_demo(tmp_path)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    out = done.stdout
    for expected in ("REFUSED agreement", "ineligible_work", "revocation กค 0401/", "GFMIS: savings batch accepted",
                     "where the artefacts landed", "verifies", "every message delivered",
                     # issue 15: the e-Citizen portal scene (hub/demo/portal.py)
                     "e-Citizen portal", "DPIS change capture:", "the officer grants it", "data tracker of"):
        assert expected in out, f"{expected!r} missing from the demo's output"


def test_transport_demo_delivers_everything_once(tmp_path):
    done = run_demo(tmp_path, "--transport-only")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "every message delivered exactly once" in done.stdout
