"""Seed 002 (ระบบสารบรรณไร้กระดาษ): each e-CMS letter can be marked as sent electronically only,
with no paper copy, and a report per department and month shows the letters exchanged
electronically and the paper avoided (API and CLI)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from hub.adapters.ecms.node.tables import ecms_letters
from hub.bootstrap import Hub
from hub.sim.esaraban import Esaraban, File
from tests.support.ecms import register_departments, serving


def sim(home: Path, url: str, code: str) -> Esaraban:
    return Esaraban(home / code, url, department=code, ministry="0400", prefix=f"กค {code}",
                    username=code, password=f"secret-{code}")


@pytest.fixture
def letters(embedded_hub: Hub, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Three letters of 0401 in November 2026 (two to 0402, one from 0402 back), one in December."""
    register_departments(embedded_hub)
    with serving(embedded_hub) as url:
        a, b = sim(tmp_path, url, "0401"), sim(tmp_path, url, "0402")
        try:
            main = File("letter.pdf", "application/pdf", b"%PDF-1.4 letter")
            a.send_letter("0400", "0402", "ขอส่งรายงาน", main, today=dt.date(2026, 11, 3))
            a.send_letter("0400", "0402", "ขอเชิญประชุม", main, today=dt.date(2026, 11, 20))
            b.send_letter("0400", "0401", "ตอบรับการประชุม", main, today=dt.date(2026, 11, 21))
            a.send_letter("0400", "0402", "เดือนถัดไป", main, today=dt.date(2026, 12, 1))
        finally:
            a.close()
            b.close()
    with embedded_hub.engine.connect() as conn:
        rows = conn.execute(select(ecms_letters.c.message_id, ecms_letters.c.subject)).all()
    yield {subject: message_id for message_id, subject in rows}


def test_seed_002_a_letter_marked_electronic_only_counts_as_paper_avoided(
        letters: dict[str, str], embedded_client: TestClient, embedded_as_agency) -> None:  # noqa: ANN001
    sender = embedded_as_agency("TH/GOV/0401/saraban")
    other = embedded_as_agency("TH/GOV/0402/saraban")
    # only the sending department (or an admin) marks its letter; another learns nothing of it
    assert other.post(f"/v1/ecms/paperless/letters/{letters['ขอส่งรายงาน']}", json={"pages": 3}).status_code == 404
    marked = sender.post(f"/v1/ecms/paperless/letters/{letters['ขอส่งรายงาน']}", json={"pages": 3})
    assert marked.status_code == 200, marked.text
    assert marked.json()["electronic_only"] is True and marked.json()["letter_id"] == "กค 0401/1"
    again = sender.post(f"/v1/ecms/paperless/letters/{letters['ขอส่งรายงาน']}", json={"pages": 3})
    assert again.status_code == 200  # marked once: the paper is saved once
    assert sender.post(f"/v1/ecms/paperless/letters/{letters['ขอส่งรายงาน']}",
                       json={"pages": 5}).status_code == 409
    assert other.post(f"/v1/ecms/paperless/letters/{letters['ตอบรับการประชุม']}", json={"pages": 2}).status_code == 200

    report = sender.get("/v1/ecms/paperless/report?department=0401&month=2026-11")
    assert report.status_code == 200, report.text
    assert report.json() == {
        "department": "0401", "month": "2026-11", "month_th": "พฤศจิกายน 2569",
        "exchanged_electronically": {"sent": 2, "received": 1}, "electronic_only": {"sent": 1, "received": 1},
        "paper_avoided": {"letters": 2, "sheets": 5}}
    december = embedded_client.get("/v1/ecms/paperless/report?department=0401&month=2026-12").json()
    assert december["exchanged_electronically"] == {"sent": 1, "received": 0}
    assert december["paper_avoided"] == {"letters": 0, "sheets": 0}
    assert other.get("/v1/ecms/paperless/report?department=0401&month=2026-11").status_code == 404
    bad = embedded_client.get("/v1/ecms/paperless/report?department=0401&month=11-2026")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "/query/month"


def test_seed_002_the_cli_marks_and_reports_in_thai(letters: dict[str, str], embedded_hub: Hub) -> None:
    from hub.cli.main import app as cli

    data = ["--data-dir", str(embedded_hub.settings.data_dir)]
    runner = CliRunner()
    marked = runner.invoke(cli, ["ecms", "paperless", "mark", letters["ขอเชิญประชุม"], "--pages", "4", *data])
    assert marked.exit_code == 0, marked.output
    report = runner.invoke(cli, ["ecms", "paperless", "report", "0401", "--month", "2026-11", *data])
    assert report.exit_code == 0, report.output
    assert "เดือนพฤศจิกายน 2569" in report.output and "ลดการใช้กระดาษ 4 แผ่น" in report.output
    unknown = runner.invoke(cli, ["ecms", "paperless", "mark", "no-such-letter", *data])
    assert unknown.exit_code == 2 and "no e-CMS letter" in unknown.output
