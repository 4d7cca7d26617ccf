"""The adapter conformance suite (tests/support/conformance.py) run against each built-in adapter."""
from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from hub.adapters.base import (
    BROKER, ECMS_NODE, EVENTS, PERSON_REGISTRY, SIGNER, SUBSCRIPTIONS, Adapter, OutboundMessage, QueryRequest,
)
from hub.adapters.ecms.codec.letter import Binary, Letter, Party, to_payload
from hub.adapters.ecms.node.node import SERVICE as ECMS_SERVICE
from hub.adapters.ecms.node.tables import ecms_queue
from hub.adapters.memory import mailbox, reset_mailboxes
from hub.adapters.registry import BUILTIN_ADAPTERS
from hub.bootstrap import Hub, build_hub
from hub.config import default_standards_dir
from hub.db import make_engine
from hub.demo.receiver import AgencyInbox
from hub.registry.tables import person_updates
from hub.schemas.envelope import StoredMessage, sha256_hex
from hub.schemas.routes import RouteIn
from hub.sim import dpis as dpis_sim
from tests.conftest import fast_settings
from tests.support.conformance import AdapterConformance, GfmisDropFolderCases, outbound
from tests.support.ecms import register_departments
from tests.support.inbound import RecordingSink

STANDARDS = default_standards_dir()


class TestMemoryConformance(AdapterConformance):
    adapter_name = "memory"

    def setup_system(self, tmp_path: Path) -> None:
        reset_mailboxes()

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return {"mailbox": "conformance"}

    def invalid_settings(self) -> list[dict[str, Any]]:
        return [{}, {"mailbox": ""}, {"mailbox": "x", "fail_times": -1}]

    def message(self, tmp_path: Path) -> OutboundMessage:
        return outbound("TH/GOV/TEST/app", "test.note/v1", {"note": "สวัสดี"})

    def applied(self, adapter: Adapter, message: OutboundMessage) -> int:
        return int(message.id in mailbox("conformance").applied)


class TestHttpConformance(AdapterConformance):
    adapter_name = "http"

    def setup_system(self, tmp_path: Path) -> None:
        self.inbox = AgencyInbox("conformance").start()
        self.cleanup(self.inbox.stop)

    def resources(self) -> dict[str, Any]:
        return {SIGNER: delivery_signer()}

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return {"url": self.inbox.url, "timeout_seconds": 5}

    def broken_settings(self, tmp_path: Path) -> dict[str, Any]:
        return {"url": "http://127.0.0.1:9/inbox", "timeout_seconds": 1}

    def invalid_settings(self) -> list[dict[str, Any]]:
        return [{}, {"url": "not a url"}, {"url": "http://x", "timeout_seconds": 0}]

    def message(self, tmp_path: Path) -> OutboundMessage:
        return outbound("TH/GOV/TEST/app", "test.note/v1", {"note": "สวัสดี"})

    def applied(self, adapter: Adapter, message: OutboundMessage) -> int:
        return int(message.id in self.inbox.applied)


class TestDpisConformance(AdapterConformance):
    adapter_name = "dpis"

    def setup_system(self, tmp_path: Path) -> None:
        self.url = f"sqlite:///{tmp_path / 'dpis.sqlite3'}"
        engine = make_engine(self.url)
        dpis_sim.create_schema(engine)
        self.seed = dpis_sim.seed(engine, people=12)
        engine.dispose()

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return {"url": self.url, "capture": {"sender": "TH/GOV/OCSC/dpis", "receiver": "TH/GOV/OCSC/telework",
                                             "start_at": "beginning"}}

    def broken_settings(self, tmp_path: Path) -> dict[str, Any]:
        return {"url": f"sqlite:///{tmp_path / 'no-such-dir' / 'dpis.sqlite3'}"}

    def invalid_settings(self) -> list[dict[str, Any]]:
        return [{}, {"url": "sqlite://", "encoding": "klingon"}, {"url": "sqlite://", "telework_as": "holiday"},
                {"url": "sqlite://", "ta_code_in": "in"}]

    def message(self, tmp_path: Path) -> OutboundMessage:
        with make_engine(self.url).connect() as conn:
            cardno = conn.execute(select(dpis_sim.per_personal.c.PER_CARDNO).where(
                dpis_sim.per_personal.c.PER_ID == self.seed.heads[101] + 20)).scalar_one()
        from hub.thai import normalize_digits

        citizen_id = normalize_digits(cardno.decode("cp874")).replace("-", "")
        return outbound("TH/GOV/OCSC/telework", "hr.attendance/v1",
                        {"citizen_id": citizen_id, "days": [{"date": "2025-01-07", "check_in": "08:30"}]})

    def query_request(self, adapter: Adapter, tmp_path: Path) -> QueryRequest:
        citizen_id = self.message(tmp_path).document()  # the same seeded person the write goes to
        return QueryRequest("record.position/v1", "TH/GOV/DGA/portal",
                            {"query": "position", "citizen_id": json.loads(citizen_id)["payload"]["citizen_id"]},
                            5.0, 65536)

    def applied(self, adapter: Adapter, message: OutboundMessage) -> int:
        from hub.adapters.dpis.schema import hub_message_log, per_time_attendance

        with adapter.engine.connect() as conn:  # type: ignore[attr-defined]
            markers = conn.execute(select(func.count()).select_from(hub_message_log)
                                   .where(hub_message_log.c.MESSAGE_ID == message.id)).scalar_one()
            rows = conn.execute(select(func.count()).select_from(per_time_attendance)).scalar_one()
        assert rows == 1, "the telework day is one PER_TIME_ATTENDANCE row"
        return markers

    def put_inbound(self, adapter: Adapter, tmp_path: Path, sink: RecordingSink) -> None:
        with adapter.engine.begin() as conn:  # type: ignore[attr-defined]
            conn.execute(update(dpis_sim.per_personal).where(dpis_sim.per_personal.c.PER_ID == 5001)
                         .values(PER_EMAIL="changed@example.go.th", UPDATE_DATE=b"2025-02-01 10:00:00"))


class TestGfmisConformance(GfmisDropFolderCases):
    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return {"path": str(tmp_path / "drop"), "agency_code": "03008"}

    def broken_settings(self, tmp_path: Path) -> dict[str, Any]:
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a file where the drop folder should be")
        return {"path": str(blocker), "create_folders": False}

    def invalid_settings(self) -> list[dict[str, Any]]:
        return [{}, {"path": "/tmp/x", "agency_code": "3008"}]

    def drop_root(self, adapter: Adapter) -> Path:
        return Path(adapter.settings.path)


def delivery_signer() -> Any:
    """The hub's delivery signer with a key of its own (the adapters that sign declare it)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from hub.security.delivery_signing import DeliverySigner
    from hub.security.keys import SigningKey
    return DeliverySigner(SigningKey(Ed25519PrivateKey.generate(), Path("conformance.pem")))


@pytest.fixture(scope="module")
def local_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A hub (not serving) whose e-CMS node and person registry the in-process adapters use."""
    hub = build_hub(fast_settings(tmp_path_factory.mktemp("in-process-adapters") / "data"))
    register_departments(hub)
    yield hub
    hub.close()


class TestEcmsQueueConformance(AdapterConformance):
    adapter_name = "ecms-queue"

    @pytest.fixture(autouse=True)
    def _hub(self, local_hub: Hub) -> None:
        self.hub = local_hub

    def resources(self) -> dict[str, Any]:
        return {ECMS_NODE: self.hub.ecms}

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return {}

    def message(self, tmp_path: Path) -> OutboundMessage:
        """A letter from 0401 to 0402 as the node accepted it (attachments by reference)."""
        ref = self.hub.ecms.blobs.put(b"%PDF-1.4 conformance")
        letter = Letter(f"กค 0401/{uuid.uuid4().hex[:8]}", "2024-10-01", "ทดสอบ", "001", "001", Party("0400", "0401"),
                        Party("0400", "0402"), Binary("MainLetterBinaryObject", "application/pdf", ref.sha256, ref.size))
        payload = to_payload(letter)
        meta = StoredMessage(
            id=uuid.uuid4(), sender="TH/GOV/0401/saraban", receiver="TH/GOV/0402/saraban", service=ECMS_SERVICE,
            classification="001", speed="001", content_type="application/xml", received_at=dt.datetime.now(dt.UTC),
            payload_sha256=sha256_hex(payload), payload_size=len(payload), status="delivering", attempts=1,
        )
        return OutboundMessage(meta, payload)

    def applied(self, adapter: Adapter, message: OutboundMessage) -> int:
        with self.hub.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(ecms_queue)
                                .where(ecms_queue.c.message_id == message.id)).scalar_one()


class TestPersonRegistryConformance(AdapterConformance):
    adapter_name = "person-registry"

    @pytest.fixture(autouse=True)
    def _hub(self, local_hub: Hub) -> None:
        self.hub = local_hub

    def resources(self) -> dict[str, Any]:
        return {PERSON_REGISTRY: self.hub.security.persons}

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return {}

    def message(self, tmp_path: Path) -> OutboundMessage:
        return outbound("TH/GOV/OCSC/dpis", "hr.person.changed/v1",
                        {"citizen_id": "1101700203450", "fields": {"first_name_th": "สมศรี"}})

    def applied(self, adapter: Adapter, message: OutboundMessage) -> int:
        with self.hub.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(person_updates)
                                .where(person_updates.c.update_id == message.id)).scalar_one()


def test_every_adapter_in_the_catalogue_has_a_conformance_suite() -> None:
    # Suites that need a live remote system live with its other tests; import them here
    # (not at module level, so pytest does not collect them twice).
    import tests.integration.test_ecms_client_adapter  # noqa: F401

    def suites(cls: type) -> list[type]:
        return [cls, *(s for sub in cls.__subclasses__() for s in suites(sub))]

    covered = {suite.adapter_name for suite in suites(AdapterConformance)}
    assert set(BUILTIN_ADAPTERS) <= covered, sorted(set(BUILTIN_ADAPTERS) - covered)


# ----------------------------------------------------------------------------- layer 5 channels


class _Secrets:
    """The subscription store as the webhook adapter sees it (resource ``subscriptions``)."""

    def __init__(self) -> None:
        self.secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        self.suspended: list[tuple[str, str]] = []

    def signing_secrets(self, subscription_id: str) -> list[str]:
        return [self.secret]

    def suspend(self, subscription_id: str, reason: str) -> None:
        self.suspended.append((subscription_id, reason))


class TestWebhookConformance(AdapterConformance):
    adapter_name = "webhook"

    def setup_system(self, tmp_path: Path) -> None:
        from tests.support.webhooks import WebhookSubscriber

        self.store = _Secrets()
        self.hook = WebhookSubscriber("conformance").start()
        self.hook.secrets = [self.store.secret]
        self.cleanup(self.hook.stop)

    def resources(self) -> dict[str, Any]:
        return {SUBSCRIPTIONS: self.store, SIGNER: delivery_signer()}

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return {"url": self.hook.url, "subscription_id": "conformance", "allow_loopback": True}

    def broken_settings(self, tmp_path: Path) -> dict[str, Any]:
        return {"url": "https://10.0.0.1/hook", "subscription_id": "conformance"}

    def invalid_settings(self) -> list[dict[str, Any]]:
        return [{}, {"url": "not a url", "subscription_id": "x"}, {"url": "https://a.example", "subscription_id": ""}]

    def message(self, tmp_path: Path) -> OutboundMessage:
        return outbound("TH/GOV/OCSC/dpis", "hr.person.changed/v1", {"per_cardno": "1101700203450"})

    def applied(self, adapter: Adapter, message: OutboundMessage) -> int:
        return int(message.id in self.hook.applied)


class TestAmqpConformance(AdapterConformance):
    adapter_name = "amqp"

    def setup_system(self, tmp_path: Path) -> None:
        self.broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
        self.queue = f"conformance.{uuid.uuid4().hex[:8]}"
        self.received: set[str] = set()

    def resources(self) -> dict[str, Any]:
        return {BROKER: self.broker}

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return {"queue": self.queue}

    def broken_settings(self, tmp_path: Path) -> dict[str, Any]:
        return {"queue": self.queue, "url": "amqp://guest:guest@127.0.0.1:1//"}

    def invalid_settings(self) -> list[dict[str, Any]]:
        return [{}, {"queue": ""}, {"queue": "has spaces"}, {"queue": "q", "colour": "red"}]

    def message(self, tmp_path: Path) -> OutboundMessage:
        return outbound("TH/GOV/OCSC/dpis", "hr.person.changed/v1", {"per_cardno": "1101700203450"})

    def applied(self, adapter: Adapter, message: OutboundMessage) -> int:
        """What a consumer applies: each AMQP message_id once."""
        from kombu import Connection

        from hub.adapters.amqp import amqp_queue

        with Connection(self.broker) as conn:
            bound = amqp_queue(self.queue)(conn.default_channel)
            while (got := bound.get(no_ack=True)) is not None:
                self.received.add(got.properties["message_id"])
        return int(message.id in self.received)


class TestEventFanoutConformance(AdapterConformance):
    adapter_name = "event-fanout"

    @pytest.fixture(autouse=True)
    def _hub(self, local_hub: Hub) -> None:
        from hub.schemas.principal import Principal
        from hub.integration.subscriptions import ChannelIn, SubscriptionIn
        from tests.support.auth import register_agency

        self.hub = local_hub
        subscriber = "TH/GOV/FANOUT/hr"
        register_agency(local_hub, subscriber, clearance="002",
                        rights=[("hr.person.changed/v1", local_hub.settings.events_party)])
        if local_hub.router.find(subscriber, "hr.person.changed/v1") is None:
            local_hub.router.add(RouteIn(receiver=subscriber, service="*", adapter="memory",
                                         settings={"mailbox": "fanout"}))
        subs = local_hub.integration.subscriptions
        existing = [s for s in subs.matching("hr.person.changed/v1") if s.subscriber == subscriber]
        self.subscription = existing[0] if existing else subs.subscribe(
            Principal(subject="tests", roles=frozenset({"admin"})),
            SubscriptionIn(subscriber=subscriber, event_type="hr.person.changed/v1",
                           channel=ChannelIn(type="route")))[0]

    def resources(self) -> dict[str, Any]:
        return {EVENTS: self.hub.integration.events}

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return {}

    def invalid_settings(self) -> list[dict[str, Any]]:
        return [{"fan": "out"}]

    def message(self, tmp_path: Path) -> OutboundMessage:
        payload = json.loads((STANDARDS / "th.hr.person-changed/1.0.0/examples/valid/civil-servant.json")
                             .read_text(encoding="utf-8"))
        return outbound("TH/GOV/OCSC/dpis", "hr.person.changed/v1", payload,
                        receiver=self.hub.settings.events_party)

    def applied(self, adapter: Adapter, message: OutboundMessage) -> int:
        from hub.integration.fanout import child_id
        from hub.transport.tables import messages

        with self.hub.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(messages).where(
                messages.c.message_id == child_id(message.id, self.subscription.id))).scalar_one()


# ----------------------------------------------------------------------------- GSMS and e-Office (issue 14)


class TestGsmsConformance(AdapterConformance):
    """The reference GSMS's database: one record per KPI report with its GFMIS verdict (seed 000)."""

    adapter_name = "gsms"

    def setup_system(self, tmp_path: Path) -> None:
        from hub.sim import gsms as gsms_sim

        self.url = f"sqlite:///{tmp_path / 'gsms.sqlite3'}"
        gsms_sim.create_schema(self.url)

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return {"url": self.url}

    def broken_settings(self, tmp_path: Path) -> dict[str, Any]:
        return {"url": f"sqlite:///{tmp_path / 'no-such-dir' / 'gsms.sqlite3'}"}

    def invalid_settings(self) -> list[dict[str, Any]]:
        return [{}, {"url": ""}, {"url": "sqlite://", "mailbox": "x"}]

    def message(self, tmp_path: Path) -> OutboundMessage:
        payload = json.loads((STANDARDS / "th.gsms.kpi/1.0.0/examples/valid/pending.json").read_text(encoding="utf-8"))
        return outbound("TH/GOV/CGD/telework", "gsms.kpi/v1", payload, receiver="TH/GOV/OPDC/gsms")

    def applied(self, adapter: Adapter, message: OutboundMessage) -> int:
        from hub.sim import gsms as gsms_sim

        return sum(message.id in r["messages"] for r in gsms_sim.reports(self.url))

    def test_a_late_pending_report_never_hides_the_gfmis_verdict(self, adapter: Adapter) -> None:
        from hub.sim import gsms as gsms_sim

        accepted = json.loads((STANDARDS / "th.gsms.kpi/1.0.0/examples/valid/accepted.json").read_text(encoding="utf-8"))
        pending = {**accepted, "gfmis": {"batch_ref": accepted["gfmis"]["batch_ref"], "verdict": "pending"}}
        adapter.send(outbound("TH/GOV/CGD/telework", "gsms.kpi/v1", accepted))
        adapter.send(outbound("TH/GOV/CGD/telework", "gsms.kpi/v1", pending))
        [record] = gsms_sim.reports(self.url)
        assert record["gfmis_verdict"] == "accepted" and len(record["messages"]) == 2


class TestEofficeConformance(AdapterConformance):
    """The reference e-Office's inbox: one item per notice."""

    adapter_name = "eoffice"

    def setup_system(self, tmp_path: Path) -> None:
        from hub.sim import eoffice as eoffice_sim

        self.url = f"sqlite:///{tmp_path / 'eoffice.sqlite3'}"
        eoffice_sim.create_schema(self.url)

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return {"url": self.url}

    def broken_settings(self, tmp_path: Path) -> dict[str, Any]:
        return {"url": f"sqlite:///{tmp_path / 'no-such-dir' / 'eoffice.sqlite3'}"}

    def invalid_settings(self) -> list[dict[str, Any]]:
        return [{}, {"url": ""}]

    def message(self, tmp_path: Path) -> OutboundMessage:
        return outbound("TH/GOV/CGD/telework", "telework.notice/v1",
                        {"to_citizen_id": "3100100123477", "subject": "telework progress report overdue",
                         "body": {"message": "นางสาวสมใจ ใฝ่รู้: ไม่ได้รายงานความก้าวหน้าซึ่งครบกำหนด 8 พฤศจิกายน 2569"}},
                        receiver="TH/GOV/CGD/eoffice")

    def applied(self, adapter: Adapter, message: OutboundMessage) -> int:
        from hub.sim import eoffice as eoffice_sim

        return sum(item["message_id"] == message.id for item in eoffice_sim.inbox(self.url))
