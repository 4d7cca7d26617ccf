"""Finding adapters by name: built-in aliases first, then the ``hub.adapters`` entry-point group.

A plug-in is checked against the contract when it is loaded, not when it is first used.
Building an adapter hands it the hub services it declares in ``resources``, from those
``hub.bootstrap`` provided (``AdapterRegistry.provide``).
"""
from __future__ import annotations

import difflib
import importlib
import inspect
import threading
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel, ValidationError

from hub.adapters.base import KNOWN_RESOURCES, QUERY, RECEIVE, Adapter
from hub.errors import AdapterContractError, FieldError, UnknownAdapter, ValidationFailed
from hub.schemas.validation import field_errors

BUILTIN_ADAPTERS: dict[str, str] = {
    "http": "hub.adapters.http:HttpAdapter",
    "memory": "hub.adapters.memory:MemoryAdapter",
    "dpis": "hub.adapters.dpis:DpisAdapter",
    "gfmis": "hub.adapters.gfmis:GfmisAdapter",
    "ecms-queue": "hub.adapters.ecms.client.queue:EcmsQueueAdapter",
    "ecms": "hub.adapters.ecms.client.adapter:EcmsClientAdapter",
    "person-registry": "hub.adapters.person_registry:PersonRegistryAdapter",
    "webhook": "hub.adapters.webhook:WebhookAdapter",
    "amqp": "hub.adapters.amqp:AmqpAdapter",
    "event-fanout": "hub.adapters.event_fanout:EventFanoutAdapter",
}
ENTRY_POINT_GROUP = "hub.adapters"


def _import(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def check_contract(name: str, cls: Any) -> type[Adapter]:
    problems = []
    if not (inspect.isclass(cls) and issubclass(cls, Adapter)):
        raise AdapterContractError(f"adapter {name!r} ({cls!r}) is not a subclass of hub.adapters.base.Adapter")
    if inspect.isabstract(cls):
        problems.append(f"abstract methods not implemented: {sorted(cls.__abstractmethods__)}")
    if getattr(cls, "scheme", None) != name:
        problems.append(f"scheme is {getattr(cls, 'scheme', None)!r}, expected {name!r}")
    if not (inspect.isclass(cls.Settings) and issubclass(cls.Settings, BaseModel)):
        problems.append("Settings is not a pydantic model")
    if not isinstance(cls.capabilities, frozenset) or not cls.capabilities:
        problems.append("capabilities must be a non-empty frozenset")
    elif RECEIVE in cls.capabilities and cls.poll is Adapter.poll:
        problems.append("declares the receive capability but does not implement poll(sink)")
    elif QUERY in cls.capabilities and cls.query is Adapter.query:
        problems.append("declares the query capability but does not implement query(request)")
    if not isinstance(cls.resources, frozenset) or not cls.resources <= KNOWN_RESOURCES:
        problems.append(f"resources must be a frozenset of {sorted(KNOWN_RESOURCES)}, got {cls.resources!r}")
    if problems:
        raise AdapterContractError(f"adapter {name!r} breaks the contract: " + "; ".join(problems))
    return cls


class AdapterRegistry:
    def __init__(self, extra: dict[str, str] | None = None) -> None:
        self._targets = dict(BUILTIN_ADAPTERS)
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            self._targets.setdefault(ep.name, ep.value)
        self._targets.update(extra or {})
        self._loaded: dict[str, type[Adapter]] = {}
        self._lock = threading.Lock()
        # In-process services adapters may declare (``Adapter.resources``), e.g. the e-CMS
        # node; provided by ``hub.bootstrap``.
        self.resources: dict[str, Any] = {}

    def provide(self, name: str, service: Any) -> None:
        """Make a hub service available to the adapters that declare ``name`` in ``resources``."""
        if name not in KNOWN_RESOURCES:
            raise AdapterContractError(f"unknown adapter resource {name!r} (known: {sorted(KNOWN_RESOURCES)})")
        self.resources[name] = service

    def names(self) -> list[str]:
        return sorted(self._targets)

    def get(self, name: str) -> type[Adapter]:
        with self._lock:
            if name in self._loaded:
                return self._loaded[name]
            target = self._targets.get(name)
            if target is None:
                close = difflib.get_close_matches(name, self._targets, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise UnknownAdapter(
                    f"unknown adapter {name!r}{hint} (known: {', '.join(self.names())})",
                    errors=[FieldError("/adapter", "known_adapter", f"one of {self.names()}")],
                )
            try:
                cls = _import(target)
            except ImportError as exc:
                raise AdapterContractError(
                    f"adapter {name!r} could not be imported from {target!r}: {exc}. "
                    "Is its optional dependency installed? (pip install 'backoffice-hub[...]')"
                ) from exc
            self._loaded[name] = check_contract(name, cls)
            return self._loaded[name]

    @staticmethod
    def validate_settings(cls: type[Adapter], raw: dict[str, Any]) -> BaseModel:
        try:
            return cls.Settings.model_validate(raw)
        except ValidationError as exc:
            raise ValidationFailed(f"settings for adapter {cls.scheme!r} are invalid",
                                   errors=field_errors(exc, at="/settings")) from exc

    def build(self, name: str, raw_settings: dict[str, Any]) -> Adapter:
        cls = self.get(name)
        adapter = cls(self.validate_settings(cls, raw_settings))
        adapter.bind_resources({n: self.resources[n] for n in cls.resources if n in self.resources})
        return adapter
