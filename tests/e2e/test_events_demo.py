"""``hub demo --events --once``: an HR change reaches a webhook and an AMQP subscriber; a one-stop
application is answered by three agencies, one refusing."""
import subprocess
import sys

from tests.support.hubproc import free_port


def test_events_demo_reaches_both_subscribers_and_completes_the_application(tmp_path):
    cmd = [sys.executable, "-m", "hub", "demo", "--events", "--once", "--data-dir", str(tmp_path / "demo"),
           "--port", str(free_port())]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={
        **__import__("os").environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    out = done.stdout
    for expected in ("TH/GOV/CGD/payroll webhook: signature verified", "TH/GOV/FPO/hrsync queue demo.fpo.hr-events",
                     "completed_with_refusals", "เลขบัญชีไม่ตรงกับทะเบียนเงินเดือน"):
        assert expected in out, f"{expected!r} missing from the demo's output"
