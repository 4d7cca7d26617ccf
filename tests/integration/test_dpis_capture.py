"""Change capture: 50 changed people, a restart mid-way, exactly 50 hr.person.changed messages."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update

from hub.adapters.dpis import DpisAdapter, DpisSettings
from hub.adapters.dpis.schema import per_personal
from hub.bootstrap import Hub
from hub.db import make_engine
from hub.schemas.routes import RouteIn
from hub.sim import dpis as dpis_sim
from hub.transport.inbound import DatabaseState
from hub.transport.tables import messages
from tests.support.legacy import DPIS_BACKENDS, dpis_database

SOURCE, RECEIVER, SERVICE = "TH/GOV/OCSC/dpis", "TH/GOV/OCSC/telework", "hr.person.changed/v1"
CAPTURE = {"sender": SOURCE, "receiver": RECEIVER, "overlap_seconds": 120}


class Crash(Exception):
    """Stands in for the capture process dying."""


@pytest.fixture(params=DPIS_BACKENDS)
def dpis_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with dpis_database(request.param, tmp_path) as url:
        engine = make_engine(url)
        dpis_sim.create_schema(engine)
        dpis_sim.seed(engine, people=70)
        engine.dispose()
        yield url


@pytest.fixture
def hub_with_route(embedded_hub: Hub) -> Hub:
    embedded_hub.router.add(RouteIn(receiver=RECEIVER, service=SERVICE, adapter="memory",
                                    settings={"mailbox": "telework-hr"}))
    return embedded_hub


def change(url: str, per_ids: list[int], stamp: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        for per_id in per_ids:
            conn.execute(update(per_personal).where(per_personal.c.PER_ID == per_id).values(
                PER_EMAIL=f"moved.{per_id}@example.go.th", UPDATE_DATE=stamp.encode("ascii")))
    engine.dispose()


def published(hub: Hub) -> list[str]:
    with hub.engine.connect() as conn:
        return list(conn.execute(select(messages.c.correlation_id).where(messages.c.service == SERVICE)).scalars())


def capture(url: str, hub: Hub, publish=None, state=None):  # noqa: ANN001, ANN201
    adapter = DpisAdapter(DpisSettings(url=url, capture=CAPTURE))
    return adapter, adapter.change_capture(state or DatabaseState(hub.engine, SOURCE),
                                           publish or hub.messages.accept)


def test_fifty_changes_across_restarts_give_exactly_fifty_messages(dpis_url: str, hub_with_route: Hub) -> None:
    hub = hub_with_route
    adapter, first = capture(dpis_url, hub)
    assert first.poll().published == []  # first start: baseline, the existing rows are not news
    adapter.close()
    people = list(range(5014, 5064))  # 50 staff rows

    change(dpis_url, people[:25], "2025-01-07 10:00:00")
    calls = 0

    def dies_after_ten(envelope):  # noqa: ANN001, ANN202
        nonlocal calls
        calls += 1
        if calls > 10:
            raise Crash("capture process killed")
        return hub.messages.accept(envelope)

    adapter, doomed = capture(dpis_url, hub, publish=dies_after_ten)
    with pytest.raises(Crash):
        doomed.poll()
    adapter.close()

    # Restarted; meanwhile more changes arrive, some in the very second of the earlier ones.
    change(dpis_url, people[25:40], "2025-01-07 10:00:00")
    adapter, second = capture(dpis_url, hub)
    report = second.poll()
    assert len(report.published) == 30 and report.complete
    change(dpis_url, people[40:], "2025-01-07 09:59:30")  # a late commit stamped before the watermark

    # This restart dies after publishing but before remembering what it published.
    class ForgetfulState(DatabaseState):
        def put(self, key, value, *, ref=None):  # noqa: ANN001, ANN202
            raise Crash("killed between publish and record")

    adapter.close()
    adapter, forgetful = capture(dpis_url, hub, state=ForgetfulState(hub.engine, SOURCE))
    with pytest.raises(Crash):
        forgetful.poll()
    adapter.close()

    adapter, third = capture(dpis_url, hub)
    report = third.poll()
    assert report.republished == 1 and len(report.published) == 9
    assert third.poll().published == []  # nothing new: nothing published
    adapter.close()

    correlation = published(hub)
    assert len(correlation) == 50
    assert sorted(correlation) == sorted(f"dpis-per-{p}" for p in people)


def test_bad_rows_are_logged_once_and_do_not_stop_capture(dpis_url: str, hub_with_route: Hub,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    hub = hub_with_route
    adapter, cap = capture(dpis_url, hub)
    cap.poll()
    with adapter.engine.begin() as conn:
        conn.execute(insert(per_personal).values(
            PER_ID=9201, PER_TYPE=1, PER_NAME=b"\xfc\xfd", PER_SURNAME=b"x", PER_CARDNO=b"1100400728564",
            ORG_ID=101, PER_STATUS=1, UPDATE_DATE=b"2025-01-08 08:00:00"))
        conn.execute(insert(per_personal).values(
            PER_ID=9202, PER_TYPE=1, PER_NAME="ดี".encode("cp874"), PER_SURNAME=b"x",
            PER_CARDNO=b"3500100234569", ORG_ID=101, PER_STATUS=1, UPDATE_DATE="๒๕๖๘-๐๑-๐๘ ๐๘:๓๐:๐๐".encode("cp874")))
    with caplog.at_level(logging.ERROR, logger="hub.adapters.dpis.capture"):
        report = cap.poll()
        again = cap.poll()
    assert [e["key"] for e in report.errors] == [9201] and report.errors[0]["column"] == "PER_NAME"
    assert len(report.published) == 1  # 9202: Thai digits and a BE year in UPDATE_DATE, read fine
    assert again.errors == [] and again.published == []
    assert sum("9201" in r.getMessage() for r in caplog.records) == 1
    assert report.watermark == "2025-01-08 08:30:00"
    with hub.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(messages)
                            .where(messages.c.correlation_id == "dpis-per-9202")).scalar_one() == 1
    adapter.close()
