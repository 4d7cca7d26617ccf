"""Strategy and notice channels are durable (issue 14): the KPI reports reach the reference GSMS
and the supervisors' notices the reference e-Office inbox through the hub's transport (routes +
adapters), never an in-process mailbox; what the hub accepted survives a restart of the hub
and is applied once."""
from __future__ import annotations

import json
import time
from pathlib import Path

from hub.apps.telework.hub_ports import HubClient, HubNotifications, HubStrategy
from hub.apps.telework.wiring import add_route
from hub.bootstrap import build_hub
from hub.config import default_standards_dir
from hub.sim import eoffice as eoffice_sim, gsms as gsms_sim
from tests.conftest import fast_settings

SUPERVISOR = "3100100123477"


def wait(read, timeout: float = 30.0):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = read()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("nothing arrived")


def test_gsms_and_e_office_messages_survive_a_restart_of_the_hub(tmp_path: Path) -> None:
    gsms_url, eoffice_url = (f"sqlite:///{tmp_path / name}.sqlite3" for name in ("gsms", "eoffice"))
    report = json.loads((default_standards_dir() / "th.gsms.kpi/1.0.0/examples/valid/accepted.json")
                        .read_text(encoding="utf-8"))
    settings = fast_settings(tmp_path / "data")
    hub = build_hub(settings)
    hub.start_workers()  # as `hub serve` runs them
    try:
        add_route(hub, "TH/GOV/OPDC/gsms", "gsms", {"url": gsms_url})
        add_route(hub, "TH/GOV/CGD/eoffice", "eoffice", {"url": eoffice_url})
        client = HubClient(hub.messages)
        # Both systems are down (their databases not there yet): the hub keeps what it accepted.
        kpi_ref = HubStrategy(client).publish_kpis("TH/GOV/OPDC", report)
        notice_ref = HubNotifications(client).notify("TH/GOV/CGD", SUPERVISOR, "telework day without evidence",
                                                     {"message": "ไม่มีหลักฐานวันเวลาปฏิบัติราชการ 3 พฤศจิกายน 2569"})
        wait(lambda: hub.messages.get_meta(kpi_ref).attempts >= 1 and hub.messages.get_meta(notice_ref).attempts >= 1)
        assert hub.messages.get_meta(kpi_ref).status not in ("delivered", "dead")
    finally:
        hub.close()
    gsms_sim.create_schema(gsms_url)
    eoffice_sim.create_schema(eoffice_url)

    again = build_hub(settings)  # the same data folder: a restart
    again.start_workers()
    try:
        [record] = wait(lambda: gsms_sim.reports(gsms_url))
        assert record["report_ref"] == report["report_ref"] and record["gfmis_verdict"] == "accepted"
        assert record["messages"] == [kpi_ref] and record["document"] == report
        [item] = wait(lambda: eoffice_sim.inbox(eoffice_url, SUPERVISOR))
        assert item["message_id"] == notice_ref and item["sender"] == "TH/GOV/CGD/telework"
        assert item["body"]["message"].endswith("3 พฤศจิกายน 2569")
        wait(lambda: again.messages.get_meta(kpi_ref).status == "delivered")
    finally:
        again.close()

    third = build_hub(settings)  # once more: nothing is delivered twice
    third.start_workers()
    try:
        time.sleep(1.0)
        assert len(gsms_sim.reports(gsms_url)[0]["messages"]) == 1 and len(eoffice_sim.inbox(eoffice_url)) == 1
    finally:
        third.close()


def test_an_order_issued_event_reaches_a_subscriber_through_the_hub(embedded_hub) -> None:  # noqa: ANN001
    """Tell Us Once: telework.order.issued/v1 goes to the events party and is fanned out to the
    subscriber's own route; on a hub where nobody uses events nothing is sent."""
    from hub.adapters.memory import mailbox
    from hub.apps.telework.hub_ports import HubEvents
    from hub.integration.subscriptions import ChannelIn, SubscriptionIn
    from hub.schemas.principal import Principal
    from hub.schemas.routes import RouteIn
    from tests.support.auth import register_agency

    hub = embedded_hub
    events = HubEvents(HubClient(hub.messages), hub.router, hub.settings.events_party)
    event = {"order_id": "TW-0123456789ab", "order_no": "1/2569", "citizen_id": "3100100123493",
             "agency": "TH/GOV/CGD", "effective_from": "2026-11-02", "effective_to": "2026-11-13"}
    assert events.order_issued("TH/GOV/CGD", event) is None  # nobody subscribed: no trace of events
    subscriber = "TH/GOV/OCSC/hr"
    register_agency(hub, subscriber, clearance="002", rights=[("telework.order.issued/v1", hub.settings.events_party)])
    hub.router.add(RouteIn(receiver=subscriber, service="*", adapter="memory", settings={"mailbox": "ocsc-hr"}))
    hub.integration.subscriptions.subscribe(
        Principal(subject="tests", roles=frozenset({"admin"})),
        SubscriptionIn(subscriber=subscriber, event_type="telework.order.issued/v1", channel=ChannelIn(type="route")))
    hub.start_workers()
    ref = events.order_issued("TH/GOV/CGD", event)
    assert ref is not None
    [delivered] = wait(lambda: list(mailbox("ocsc-hr").applied.values()))
    assert json.loads(delivered)["payload"] == event
