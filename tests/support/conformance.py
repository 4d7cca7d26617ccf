"""One conformance suite for every adapter: subclass :class:`AdapterConformance`.

How to add an adapter (e.g. e-CMS) to the suite::

    from tests.support.conformance import AdapterConformance

    class TestEcmsConformance(AdapterConformance):
        adapter_name = "ecms"                       # its name in BUILTIN_ADAPTERS

        def settings(self, tmp_path):               # valid settings of a reachable system
            return {"url": ...}

        def broken_settings(self, tmp_path):        # valid settings of an unreachable system
            return {"url": "http://127.0.0.1:9/ecms"}   # or None if the adapter cannot be down

        def invalid_settings(self):                 # settings the Settings model must refuse
            return [{}, {"url": "not a url"}]

        def message(self, tmp_path):                # one OutboundMessage the system accepts
            return outbound("TH/GOV/X/saraban", "ecms.letter/v1", {...})

        def applied(self, adapter, message):        # how many times the system applied it
            return ...

        def put_inbound(self, adapter, tmp_path, sink):  # only with the "receive" capability:
            ...                                     # make the system hold something for the hub
                                                    # (sink.sent(message) for what it answers)

        def resources(self):                        # the hub services it declares, if any
            return {"ecms": ...}

Use fixtures by defining ``setup_system(self, tmp_path)`` (called before the adapter is
built; start servers, seed databases there and register cleanups with ``self.cleanup``).

What every adapter must show: it is registered and passes the contract check; its
``Settings`` is a pydantic model that forbids unknown keys and has a JSON schema (for
``hub adapters list``); bad settings are refused; capabilities are declared; ``check``
answers healthy for a reachable system and unhealthy (not an exception) for a broken one;
``send`` returns a ``Receipt``; sending the same message twice applies it once;
``poll`` raises ``AdapterError`` without the ``receive`` capability, and with it: what the
system holds reaches the sink once, a second poll takes in nothing new, and a sink that
fails to commit loses nothing (the item is offered again by the next poll); ``close`` is
safe to call twice and the adapter is a context manager.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import BaseModel

from hub.adapters.base import (
    QUERY, RECEIVE, SEND, Adapter, Health, OutboundMessage, PollReport, QueryAnswer, QueryRequest, Receipt,
)
from hub.adapters.registry import BUILTIN_ADAPTERS, AdapterRegistry, check_contract
from hub.errors import AdapterError, ValidationFailed
from hub.schemas.envelope import StoredMessage, sha256_hex
from tests.support.inbound import RecordingSink, SinkFailure

KNOWN_CAPABILITIES = {"send", "receive", "push", "query"}


def outbound(sender: str, service: str, payload: Any, *, receiver: str = "TH/GOV/TEST/system",
             message_id: str | None = None) -> OutboundMessage:
    """An OutboundMessage as the delivery worker builds it."""
    body = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    meta = StoredMessage(
        id=uuid.UUID(message_id) if message_id else uuid.uuid4(), sender=sender, receiver=receiver,
        service=service, classification="001", speed="001", content_type="application/json",
        received_at=dt.datetime.now(dt.UTC), payload_sha256=sha256_hex(body), payload_size=len(body),
        status="delivering", attempts=1,
    )
    return OutboundMessage(meta, body)


class AdapterConformance:
    adapter_name: str = ""

    # -- what a subclass provides -----------------------------------------------------------

    def setup_system(self, tmp_path: Path) -> None:
        """Start or seed the external system (optional)."""

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        raise NotImplementedError

    def broken_settings(self, tmp_path: Path) -> dict[str, Any] | None:
        return None

    def invalid_settings(self) -> list[dict[str, Any]]:
        return [{"no_such_setting": 1}]

    def message(self, tmp_path: Path) -> OutboundMessage:
        raise NotImplementedError

    def applied(self, adapter: Adapter, message: OutboundMessage) -> int:
        raise NotImplementedError

    def put_inbound(self, adapter: Adapter, tmp_path: Path, sink: RecordingSink) -> None:
        raise NotImplementedError

    def resources(self) -> dict[str, Any]:
        """The hub services the adapter declares (``Adapter.resources``), as the bootstrap provides them."""
        return {}

    # -- plumbing -------------------------------------------------------------------------

    @pytest.fixture(autouse=True)
    def _system(self, tmp_path: Path) -> Iterator[None]:
        self._cleanups: list[Callable[[], None]] = []
        self.setup_system(tmp_path)
        yield
        for undo in reversed(self._cleanups):
            undo()

    def cleanup(self, undo: Callable[[], None]) -> None:
        self._cleanups.append(undo)

    def registry(self) -> AdapterRegistry:
        registry = AdapterRegistry()
        for name, service in self.resources().items():
            registry.provide(name, service)
        return registry

    @pytest.fixture
    def adapter(self, tmp_path: Path) -> Iterator[Adapter]:
        instance = self.registry().build(self.adapter_name, self.settings(tmp_path))
        yield instance
        instance.close()

    # -- the suite ------------------------------------------------------------------------

    def test_registered_and_meets_the_contract(self) -> None:
        assert self.adapter_name in BUILTIN_ADAPTERS or self.adapter_name in AdapterRegistry().names()
        cls = AdapterRegistry().get(self.adapter_name)
        assert check_contract(self.adapter_name, cls) is cls
        assert cls.summary, "a one-line summary feeds `hub adapters list`"

    def test_settings_model_is_strict_and_documented(self) -> None:
        cls = AdapterRegistry().get(self.adapter_name)
        assert issubclass(cls.Settings, BaseModel)
        assert cls.Settings.model_config.get("extra") == "forbid", "unknown settings must be refused"
        schema = cls.Settings.model_json_schema()
        assert schema["type"] == "object" and "properties" in schema

    def test_invalid_settings_are_refused_with_field_errors(self) -> None:
        registry = AdapterRegistry()
        cls = registry.get(self.adapter_name)
        for raw in self.invalid_settings():
            with pytest.raises(ValidationFailed) as caught:
                registry.validate_settings(cls, raw)
            assert caught.value.errors and all(e.field.startswith("/settings") for e in caught.value.errors)

    def test_capabilities_are_declared(self) -> None:
        cls = AdapterRegistry().get(self.adapter_name)
        assert cls.capabilities and cls.capabilities <= KNOWN_CAPABILITIES
        assert set(self.resources()) == set(cls.resources), "the suite provides exactly the declared resources"

    def test_check_reports_a_healthy_system(self, adapter: Adapter) -> None:
        health = adapter.check()
        assert isinstance(health, Health)
        assert health.ok, health.detail
        assert health.detail

    def test_check_reports_a_broken_system_without_raising(self, tmp_path: Path) -> None:
        raw = self.broken_settings(tmp_path)
        if raw is None:
            pytest.skip(f"{self.adapter_name} has no external system that can be down")
        with self.registry().build(self.adapter_name, raw) as broken:
            health = broken.check()
        assert isinstance(health, Health) and not health.ok and health.detail

    def test_send_returns_a_receipt(self, adapter: Adapter, tmp_path: Path) -> None:
        if SEND not in adapter.capabilities:
            pytest.skip("adapter does not send")
        message = self.message(tmp_path)
        receipt = adapter.send(message)
        assert isinstance(receipt, Receipt) and receipt.receipt
        assert self.applied(adapter, message) == 1

    def test_same_message_twice_is_applied_once(self, adapter: Adapter, tmp_path: Path) -> None:
        if SEND not in adapter.capabilities:
            pytest.skip("adapter does not send")
        message = self.message(tmp_path)
        adapter.send(message)
        adapter.send(message)
        assert self.applied(adapter, message) == 1

    def test_poll_matches_capabilities(self, adapter: Adapter, tmp_path: Path) -> None:
        if RECEIVE not in adapter.capabilities:
            with pytest.raises(AdapterError):
                adapter.poll(RecordingSink())
            return
        sink = RecordingSink()
        self.put_inbound(adapter, tmp_path, sink)
        report = adapter.poll(sink)
        assert isinstance(report, PollReport) and report.summary and report.error is None, report.summary
        assert sink.items, "what the system held reached the sink"
        assert len(report.accepted) == len(sink.items) and sink.offered == len(sink.items), \
            "each item reached the sink once"
        kept = list(sink.items)
        again = adapter.poll(sink)
        assert not again.accepted and sink.items == kept, "a second poll takes in nothing new"

    def query_request(self, adapter: Adapter, tmp_path: Path) -> QueryRequest | None:
        """A query the system can answer (adapters with the ``query`` capability); None skips the test."""
        return None

    def test_query_matches_capabilities(self, adapter: Adapter, tmp_path: Path) -> None:
        if QUERY not in adapter.capabilities:
            with pytest.raises(AdapterError):
                adapter.query(QueryRequest("conformance.query/v1", "TH/GOV/T/c", {}, 1.0, 1024))
            return
        request = self.query_request(adapter, tmp_path)
        if request is None:
            pytest.skip(f"{self.adapter_name}'s suite gives no query to ask")
        answer = adapter.query(request)
        assert isinstance(answer, QueryAnswer) and isinstance(answer.body, dict)
        assert answer.body.get("fields"), "the system answered what it holds"
        assert adapter.query(request).body.get("fields") == answer.body["fields"], "a query changes nothing"

    def test_poll_loses_nothing_when_the_sink_fails(self, adapter: Adapter, tmp_path: Path) -> None:
        if RECEIVE not in adapter.capabilities:
            pytest.skip("adapter does not receive")
        sink = RecordingSink()
        self.put_inbound(adapter, tmp_path, sink)
        failing = sink.failing()
        try:
            report = adapter.poll(failing)
        except SinkFailure:
            pass  # the failure propagated: the poll stopped where the sink did
        else:
            assert not report.accepted and report.error, "a poll that could not commit says so"
        assert failing.offered and not sink.items
        adapter.poll(sink)
        assert sink.items, "the item the failing sink did not commit is offered again"

    def test_close_twice_and_context_manager(self, tmp_path: Path) -> None:
        with self.registry().build(self.adapter_name, self.settings(tmp_path)) as instance:
            assert isinstance(instance, Adapter)
        instance.close()


class GfmisDropFolderCases(AdapterConformance):
    """The GFMIS adapter's cases, whatever holds its drop folder (a local path, an SFTP server):
    a subclass names where the folder's files are on this machine (``drop_root``)."""

    adapter_name = "gfmis"

    def drop_root(self, adapter: Adapter) -> Path:
        raise NotImplementedError

    def message(self, tmp_path: Path) -> OutboundMessage:
        from hub.config import default_standards_dir

        example = default_standards_dir() / "th.gfmis.batch/1.0.0/examples/valid/k1-disbursement.json"
        return outbound("TH/GOV/OPDC/finance", "gfmis.batch/v1", orjson.loads(example.read_bytes()))

    def applied(self, adapter: Adapter, message: OutboundMessage) -> int:
        names = [path.name for path in (self.drop_root(adapter) / "outbound").iterdir()]
        assert not [n for n in names if n.startswith(".")], "no temporary file is left behind"
        return sum(1 for name in names if message.id in name)

    def put_inbound(self, adapter: Adapter, tmp_path: Path, sink: RecordingSink) -> None:
        from hub.sim.gfmis import GfmisSimulator

        message = self.message(tmp_path)
        adapter.send(message)
        sink.sent(message)  # delivered: GFMIS's answer to it can be recorded
        GfmisSimulator(self.drop_root(adapter)).process_once()
